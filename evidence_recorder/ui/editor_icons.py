"""The annotation editor's toolbar icons, drawn in code so they follow the theme's colours."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap, QPolygonF


def _icon(draw: Callable[[QPainter, QColor], None], colour: QColor) -> QIcon:
    """Small line icons painted in code, in the palette's text colour, so they need no
    resource files and follow light and dark themes."""
    pixmap = QPixmap(40, 40)
    pixmap.setDevicePixelRatio(2.0)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    draw(painter, colour)
    painter.end()
    return QIcon(pixmap)


def _pen(colour: QColor | str, width: float = 1.6) -> QPen:
    pen = QPen(QColor(colour), width)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    return pen


def _draw_select(p: QPainter, c: QColor) -> None:
    p.setPen(_pen(c, 1.2))
    p.setBrush(c)
    p.drawPolygon(QPolygonF([QPointF(x, y) for x, y in (
        (5, 3), (5, 16), (8.5, 12.8), (11, 18), (13, 17), (10.6, 12), (15, 12))]))


def _draw_highlight(p: QPainter, c: QColor) -> None:
    fill = QColor("#ffd60a")
    fill.setAlphaF(0.75)
    p.fillRect(QRectF(2, 6, 16, 8), fill)
    p.setPen(_pen(c, 1.4))
    p.drawLine(QPointF(4, 10), QPointF(16, 10))


def _draw_outline(p: QPainter, c: QColor) -> None:
    p.setPen(_pen("#e5383b", 2))
    p.drawRect(QRectF(3, 4.5, 14, 11))


def _draw_arrow(p: QPainter, c: QColor) -> None:
    p.setPen(_pen(c, 1.8))
    p.drawLine(QPointF(4, 16), QPointF(14, 6))
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(c)
    p.drawPolygon(QPolygonF([QPointF(17, 3), QPointF(9.5, 5.5), QPointF(14.5, 10.5)]))


def _draw_text(p: QPainter, c: QColor) -> None:
    p.setPen(_pen(c, 2.2))
    p.drawLine(QPointF(4, 4.5), QPointF(16, 4.5))
    p.drawLine(QPointF(10, 4.5), QPointF(10, 16))


def _draw_redact(p: QPainter, c: QColor) -> None:
    p.setPen(_pen(c, 1))
    p.setBrush(QColor("#000000"))
    p.drawRect(QRectF(2.5, 5.5, 15, 9))


def _draw_undo(p: QPainter, c: QColor, mirror: bool = False) -> None:
    if mirror:
        p.translate(20, 0)
        p.scale(-1, 1)
    p.setPen(_pen(c, 1.8))
    path = QPainterPath(QPointF(5, 8))
    path.cubicTo(QPointF(9, 4), QPointF(17, 5), QPointF(16, 12))
    path.cubicTo(QPointF(15.5, 15), QPointF(13, 16), QPointF(10, 16))
    p.drawPath(path)
    p.drawLine(QPointF(5, 8), QPointF(5, 3.5))
    p.drawLine(QPointF(5, 8), QPointF(9.5, 8.5))


def _draw_redo(p: QPainter, c: QColor) -> None:
    _draw_undo(p, c, mirror=True)


def _draw_delete(p: QPainter, c: QColor) -> None:
    p.setPen(_pen(c, 1.6))
    p.drawLine(QPointF(4, 5.5), QPointF(16, 5.5))
    p.drawLine(QPointF(8, 5.5), QPointF(8.5, 3.5))
    p.drawLine(QPointF(8.5, 3.5), QPointF(11.5, 3.5))
    p.drawLine(QPointF(11.5, 3.5), QPointF(12, 5.5))
    p.drawPolyline(QPolygonF([QPointF(5.5, 5.5), QPointF(6.5, 17), QPointF(13.5, 17),
                              QPointF(14.5, 5.5)]))
    p.drawLine(QPointF(8.5, 8.5), QPointF(8.7, 14))
    p.drawLine(QPointF(11.5, 8.5), QPointF(11.3, 14))


def _draw_eye(p: QPainter, c: QColor) -> None:
    p.setPen(_pen(c, 1.6))
    path = QPainterPath(QPointF(2, 10))
    path.quadTo(QPointF(10, 1), QPointF(18, 10))
    path.quadTo(QPointF(10, 19), QPointF(2, 10))
    p.drawPath(path)
    p.setBrush(c)
    p.drawEllipse(QPointF(10, 10), 2.4, 2.4)


def _draw_zoom(p: QPainter, c: QColor, sign: str) -> None:
    p.setPen(_pen(c, 1.7))
    p.drawEllipse(QPointF(8.5, 8.5), 5.5, 5.5)
    p.drawLine(QPointF(12.5, 12.5), QPointF(17, 17))
    p.drawLine(QPointF(6, 8.5), QPointF(11, 8.5))
    if sign == "+":
        p.drawLine(QPointF(8.5, 6), QPointF(8.5, 11))


def _draw_fit(p: QPainter, c: QColor) -> None:
    p.setPen(_pen(c, 1.7))
    for x, y, dx, dy in ((3, 3, 1, 1), (17, 3, -1, 1), (3, 17, 1, -1), (17, 17, -1, -1)):
        p.drawLine(QPointF(x, y), QPointF(x + 5 * dx, y))
        p.drawLine(QPointF(x, y), QPointF(x, y + 5 * dy))


def _draw_swatch(colour: str) -> Callable[[QPainter, QColor], None]:
    def draw(p: QPainter, c: QColor) -> None:
        outline = QColor(c)
        outline.setAlphaF(0.45)
        p.setPen(_pen(outline, 1))
        p.setBrush(QColor(colour))
        p.drawEllipse(QPointF(10, 10), 7, 7)

    return draw


_TOOL_ICONS: dict[str, Callable[[QPainter, QColor], None]] = {
    "select": _draw_select, "highlight": _draw_highlight, "outline": _draw_outline,
    "arrow": _draw_arrow, "text": _draw_text, "redact": _draw_redact,
}


# --------------------------------------------------------------------------- editor
