"""Showing one capture: zoom, fit, pan, and an optional veil over upsetting pictures.

This module owns :class:`ImageView`, used by the detail pane and the bundle viewer.
Pictures arrive as bytes straight out of the vault and are decoded in memory; the
view keeps only the decoded pixmap, and :meth:`ImageView.clear` drops that too, so
nothing decrypted lingers once the user moves on or locks the vault.

Zoom is measured in picture pixels per *device* pixel: 100 % shows a screenshot
exactly as it was on screen, also on a HiDPI monitor. "Fit" shrinks a picture to
the window but never enlarges it: a small crop blown up turns blurry and looks
like something it was not.
"""

from __future__ import annotations

import math

from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QEvent,
    QIODevice,
    QPointF,
    QRect,
    QRectF,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QFont,
    QImage,
    QImageReader,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QNativeGestureEvent,
    QPainter,
    QPalette,
    QPen,
    QPixmap,
    QResizeEvent,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsBlurEffect,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QMenu,
    QWidget,
)

from evidence_recorder.core.errors import RefusedInput
from evidence_recorder.core.gather.images import make_thumbnail
from evidence_recorder.core.i18n import QT_TRANSLATE_NOOP

# British English; translated where they are drawn or read out (context "ImageView").
VEIL_MESSAGE = QT_TRANSLATE_NOOP("ImageView", "This image may be upsetting. Click to show it.")
UNREADABLE_MESSAGE = QT_TRANSLATE_NOOP(
    "ImageView", "This picture cannot be shown here. It is still kept, unchanged, in the vault."
)

ZOOM_STEP = 1.25
MIN_ZOOM = 0.02
MAX_ZOOM = 32.0
PAN_STEP = 48  # logical pixels per arrow key press; ten times that with Shift
# Formats the vault accepts that Qt decodes itself. Anything else Qt might sniff
# (SVG, TGA, ICNS...) is never fed to a decoder from here; HEIF, which Qt cannot
# read, goes through core's hardened Pillow path instead.
_QT_FORMATS = frozenset({b"png", b"jpeg", b"gif", b"webp", b"bmp"})
_FALLBACK_SIDE = 8192
_VEIL_BLUR = 64.0


def decode_picture(data: bytes) -> QImage:
    """The picture in ``data``, upright, or a null QImage when it cannot be read.

    EXIF orientation is applied so a phone photo shows the way the phone showed it
    (the thumbnails and the recorded size agree with that). Only the first frame of
    an animation is shown, as everywhere else in the app.
    """
    raw = QByteArray(data)
    buffer = QBuffer(raw)
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QImageReader(buffer)
    reader.setAutoTransform(True)
    image = QImage()
    if bytes(reader.format().data()).lower() in _QT_FORMATS:
        image = reader.read()
    buffer.close()
    if not image.isNull():
        return image
    try:
        # core re-validates the bytes; its rendition is a JPEG on white, good enough
        # to look at and only used for formats Qt cannot read (HEIC from iPhones).
        rendition = make_thumbnail(data, _FALLBACK_SIDE)
    except RefusedInput:
        return QImage()
    return QImage.fromData(rendition)


class ImageView(QGraphicsView):
    """A zoomable, pannable picture; see the module docstring for what zoom means.

    ``zoom_changed`` carries the zoom as a factor (1.0 is 100 %) whenever it
    changes, including when fitting to a new window size. ``revealed`` follows the
    user choosing to see a veiled picture, so a caller can record that if it wants.
    """

    zoom_changed = Signal(float)
    revealed = Signal()

    def __init__(self, parent: QWidget | None = None, *,
                 accessible_name: str = "") -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self._item: QGraphicsPixmapItem | None = None
        self._zoom = 1.0
        self._fit = True
        self._veil_new = False
        self._veiled = False
        self._message = ""
        self._placeholder = ""
        self._pressed_on_veil = False

        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.FullViewportUpdate)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        self.setBackgroundBrush(self._backdrop())
        self.setAccessibleName(accessible_name or self.tr("Captured picture"))
        self._update_description()

    # -- the public API -------------------------------------------------------------

    def set_image(self, data: bytes | None) -> bool:
        """Show a picture from the vault, or nothing for None; True if one is shown.

        A picture that cannot be decoded leaves the view empty with a plain message:
        the original is still safe in the vault, so this is no reason to fail.
        """
        self.clear()
        if data is None:
            return False
        image = decode_picture(data)
        if image.isNull():
            self._message = self.tr(UNREADABLE_MESSAGE)
            self._update_description()
            self.viewport().update()
            return False
        item = QGraphicsPixmapItem(QPixmap.fromImage(image))
        del image
        item.setShapeMode(QGraphicsPixmapItem.ShapeMode.BoundingRectShape)
        scene = self.scene()
        scene.addItem(item)
        scene.setSceneRect(item.boundingRect())
        self._item = item
        if self._veil_new:
            self._set_veil(True)
        else:
            self._update_interaction()
        self.fit_to_window()
        return True

    def clear(self) -> None:
        """Forget the picture, its pixmap and any message; the view shows nothing."""
        self._veiled = False
        self._pressed_on_veil = False
        self._message = ""
        if self._item is not None:
            self._item.setGraphicsEffect(None)  # type: ignore[arg-type]
            self.scene().removeItem(self._item)
            self._item.setPixmap(QPixmap())
            self._item = None
        self.scene().clear()
        self.scene().setSceneRect(QRectF())
        self.resetTransform()
        self._fit = True
        self._update_interaction()
        self._update_description()
        self.viewport().update()

    def has_image(self) -> bool:
        return self._item is not None

    def image_size(self) -> tuple[int, int] | None:
        if self._item is None:
            return None
        size = self._item.pixmap().size()
        return (size.width(), size.height())

    def set_placeholder_text(self, text: str) -> None:
        """What an empty view says, e.g. "Select a capture to see it here"."""
        self._placeholder = text
        self._update_description()
        self.viewport().update()

    def zoom(self) -> float:
        return self._zoom

    def is_fit_mode(self) -> bool:
        return self._fit

    def zoom_in(self) -> None:
        self._zoom_by(ZOOM_STEP, None)

    def zoom_out(self) -> None:
        self._zoom_by(1 / ZOOM_STEP, None)

    def fit_to_window(self) -> None:
        """Show the whole picture (shrunk if need be) and keep it whole on resize."""
        self._fit = True
        if self._item is not None:
            self._apply_zoom(self._fit_zoom(), None)
            self.centerOn(self._item)

    def actual_size(self) -> None:
        """One picture pixel per screen pixel: the screenshot as it was on screen."""
        self._fit = False
        self._apply_zoom(1.0, None)

    def actual_size_from_top(self) -> None:
        """At its own size, scrolled to its top left: a tall page to scroll through."""
        self.actual_size()
        for bar in (self.verticalScrollBar(), self.horizontalScrollBar()):
            bar.setValue(bar.minimum())

    # -- the veil -------------------------------------------------------------------

    def set_veiled(self, veiled: bool) -> None:
        """Hide pictures behind a blur until the user asks to see them.

        This is a policy for the view: while it is on, every new picture arrives
        veiled, and a reveal lasts only for the picture on show. Only the display
        is blurred; the picture and the vault are untouched.
        """
        self._veil_new = veiled
        self._set_veil(veiled)

    def is_veiled(self) -> bool:
        return self._veiled

    def reveal(self) -> None:
        """Show the veiled picture on display."""
        if self._veiled:
            self._set_veil(False)
            self.revealed.emit()

    def _set_veil(self, veiled: bool) -> None:
        veiled = veiled and self._item is not None
        self._veiled = veiled
        if self._item is not None:
            if veiled:
                blur = QGraphicsBlurEffect()
                blur.setBlurRadius(_VEIL_BLUR)
                blur.setBlurHints(QGraphicsBlurEffect.BlurHint.PerformanceHint)
                self._item.setGraphicsEffect(blur)  # the item owns and deletes it
            else:
                self._item.setGraphicsEffect(None)  # type: ignore[arg-type]
        self._update_interaction()
        self._update_description()
        self.viewport().update()

    # -- zooming --------------------------------------------------------------------

    def _ratio(self) -> float:
        return self.devicePixelRatioF() or 1.0

    def _fit_zoom(self) -> float:
        if self._item is None:
            return 1.0
        size = self._item.pixmap().size()
        viewport = self.viewport().size()
        if size.isEmpty() or viewport.isEmpty():
            return 1.0
        # A hair under the exact fit, so rounding never brings up the scroll bars.
        logical = min((viewport.width() - 0.5) / size.width(),
                      (viewport.height() - 0.5) / size.height())
        return max(MIN_ZOOM, min(1.0, logical * self._ratio()))

    def _zoom_by(self, factor: float, anchor: QPointF | None) -> None:
        if self._item is None:
            return
        self._fit = False
        self._apply_zoom(self._zoom * factor, anchor)

    def _apply_zoom(self, zoom: float, anchor: QPointF | None) -> None:
        """Zoom so that the scene point under ``anchor`` (default: the centre) stays put."""
        zoom = min(MAX_ZOOM, max(min(MIN_ZOOM, self._fit_zoom()), zoom))
        if self._item is None:
            return
        viewport = self.viewport().rect()
        at = anchor if anchor is not None else QPointF(viewport.center())
        fixed = self.mapToScene(at.toPoint())
        scale = zoom / self._ratio()
        self.setTransform(QTransform.fromScale(scale, scale))
        # Screenshots are text and edges: above 100 % show crisp pixels, not a smear.
        self._item.setTransformationMode(
            Qt.TransformationMode.SmoothTransformation if zoom < 1.0
            else Qt.TransformationMode.FastTransformation)
        moved = self.mapFromScene(fixed) - at.toPoint()
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + moved.x())
        self.verticalScrollBar().setValue(self.verticalScrollBar().value() + moved.y())
        changed = not math.isclose(zoom, self._zoom, rel_tol=1e-9)
        self._zoom = zoom
        self._update_description()
        if changed:
            self.zoom_changed.emit(zoom)

    # -- events -----------------------------------------------------------------------

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._fit and self._item is not None:
            self.fit_to_window()

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.DevicePixelRatioChange and self._item is not None:
            # Moved to a monitor with another scale: keep the zoom meaning the same.
            if self._fit:
                self.fit_to_window()
            else:
                self._apply_zoom(self._zoom, None)
        return super().event(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier and self._item is not None:
            steps = event.angleDelta().y() / 120
            if steps:
                self._zoom_by(ZOOM_STEP ** steps, event.position())
            event.accept()
            return
        super().wheelEvent(event)

    def viewportEvent(self, event: QEvent) -> bool:
        if (isinstance(event, QNativeGestureEvent)
                and event.gestureType() == Qt.NativeGestureType.ZoomNativeGesture):
            self._zoom_by(1.0 + event.value(), event.position())
            return True
        return super().viewportEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        mods = event.modifiers() & ~(Qt.KeyboardModifier.KeypadModifier
                                     | Qt.KeyboardModifier.ShiftModifier)
        if self._veiled and key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.reveal()
            event.accept()
            return
        if mods == Qt.KeyboardModifier.ControlModifier:
            action = {Qt.Key.Key_Equal: self.zoom_in, Qt.Key.Key_Plus: self.zoom_in,
                      Qt.Key.Key_Minus: self.zoom_out, Qt.Key.Key_Underscore: self.zoom_out,
                      Qt.Key.Key_0: self.fit_to_window,
                      Qt.Key.Key_1: self.actual_size}.get(Qt.Key(key))
            if action is not None:
                action()
                event.accept()
                return
        pans = {Qt.Key.Key_Left: (-1, 0), Qt.Key.Key_Right: (1, 0),
                Qt.Key.Key_Up: (0, -1), Qt.Key.Key_Down: (0, 1)}
        if not mods and key in pans:
            step = PAN_STEP * (10 if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else 1)
            dx, dy = pans[Qt.Key(key)]
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + dx * step)
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() + dy * step)
            event.accept()
            return
        super().keyPressEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self._veiled and event.button() == Qt.MouseButton.LeftButton:
            self._pressed_on_veil = True
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._veiled and event.button() == Qt.MouseButton.LeftButton:
            if self._pressed_on_veil:
                self._pressed_on_veil = False
                self.reveal()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        if self._item is None:
            return
        menu = QMenu(self)
        for text, keys, slot in (
            (self.tr("Zoom &in"), "Ctrl+=", self.zoom_in),
            (self.tr("Zoom &out"), "Ctrl+-", self.zoom_out),
            (self.tr("&Fit to window"), "Ctrl+0", self.fit_to_window),
            (self.tr("&Actual size"), "Ctrl+1", self.actual_size),
        ):
            action = menu.addAction(text)
            action.setShortcut(QKeySequence(keys))
            action.triggered.connect(slot)
        if self._veiled:
            menu.addSeparator()
            menu.addAction(self.tr("&Show the picture")).triggered.connect(self.reveal)
        menu.exec(event.globalPos())
        menu.deleteLater()

    def _update_interaction(self) -> None:
        """Drag pans a picture, but a veiled picture only takes a click."""
        if self._item is not None and not self._veiled:
            self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
            self.viewport().unsetCursor()
        else:
            self.setDragMode(QGraphicsView.DragMode.NoDrag)
            if self._veiled:
                self.viewport().setCursor(Qt.CursorShape.PointingHandCursor)
            else:
                self.viewport().unsetCursor()

    def _update_description(self) -> None:
        if self._item is None:
            text = self._message or self._placeholder or self.tr("No picture is shown.")
        elif self._veiled:
            text = self.tr("The picture is hidden because it may be upsetting. "
                           "Press Enter or Space, or click, to show it.")
        else:
            width, height = self.image_size() or (0, 0)
            text = self.tr("Picture of {width} by {height} pixels, shown at {percent} percent. "
                           "Ctrl and plus or minus zoom, Ctrl+0 fits it to the window, Ctrl+1 "
                           "shows its actual size, arrow keys move around it.").format(
                width=width, height=height, percent=round(self._zoom * 100))
        self.setAccessibleDescription(text)

    # -- painting -------------------------------------------------------------------

    def _backdrop(self) -> QColor:
        window = self.palette().color(QPalette.ColorRole.Window)
        return window.darker(112) if window.lightness() > 128 else window.darker(130)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self.setBackgroundBrush(self._backdrop())
        super().changeEvent(event)

    def drawBackground(self, painter: QPainter, rect: QRectF | QRect) -> None:
        super().drawBackground(painter, rect)
        if self._item is None:
            return
        # A hairline round the picture, so a white screenshot does not melt into
        # a light backdrop.
        painter.save()
        pen = QPen(self.palette().color(QPalette.ColorRole.Mid), 1)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        box = self._item.sceneBoundingRect()
        pixel = 1 / max(self.transform().m11(), 1e-6)
        painter.drawRect(box.adjusted(-pixel, -pixel, 0, 0))
        painter.restore()

    def drawForeground(self, painter: QPainter, rect: QRectF | QRect) -> None:
        text = ""
        if self._item is None:
            text = self._message or self._placeholder
        elif self._veiled:
            text = self.tr(VEIL_MESSAGE)
        if not text:
            return
        painter.save()
        painter.resetTransform()  # draw in viewport pixels, whatever the zoom
        area = QRectF(self.viewport().rect())
        if self._veiled and self._item is not None:
            shown = self.mapFromScene(self._item.sceneBoundingRect()).boundingRect()
            cover = QColor(self.palette().color(QPalette.ColorRole.Window))
            cover.setAlpha(170)
            painter.fillRect(QRectF(shown).intersected(area), cover)
        self._draw_message(painter, area, text, card=self._veiled)
        painter.restore()

    def _draw_message(self, painter: QPainter, area: QRectF, text: str, *, card: bool) -> None:
        """Centred text; on a veil, a card whose first sentence is the headline."""
        palette = self.palette()
        flags = int(Qt.AlignmentFlag.AlignHCenter | Qt.TextFlag.TextWordWrap)
        width = max(min(area.width() - 48, 380.0), 40.0)
        head, _sep, rest = text.partition(". ") if card else ("", "", text)
        lines: list[tuple[str, QFont]] = []
        if head:
            bold = QFont(self.font())
            bold.setPointSizeF(max(bold.pointSizeF(), 9.0) * 1.15)
            bold.setBold(True)
            lines.append((head + ".", bold))
        if rest:
            lines.append((rest, QFont(self.font())))
        blocks: list[tuple[str, QFont, QRectF]] = []
        height = 0.0
        for line, font in lines:
            painter.setFont(font)
            bounds = painter.boundingRect(QRectF(0, 0, width, 1e4), flags, line)
            blocks.append((line, font, bounds))
            height += bounds.height()
        gap = 6.0 if len(blocks) > 1 else 0.0
        inner = QRectF(0, 0, max(b.width() for _l, _f, b in blocks), height + gap)
        box = inner.adjusted(-24, -16, 24, 16) if card else inner
        box.moveCenter(area.center())
        if card:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            back = QColor(palette.color(QPalette.ColorRole.Base))
            back.setAlpha(240)
            painter.setPen(QPen(palette.color(QPalette.ColorRole.Mid), 1))
            painter.setBrush(back)
            painter.drawRoundedRect(box, 10, 10)
            ink = palette.color(QPalette.ColorRole.Text)
        else:
            # Quieter than body text, but still readable on the backdrop.
            ink = QColor(palette.color(QPalette.ColorRole.WindowText))
            ink.setAlpha(180)
        painter.setPen(ink)
        top = box.center().y() - inner.height() / 2
        for line, font, bounds in blocks:
            painter.setFont(font)
            target = QRectF(box.left(), top, box.width(), bounds.height())
            painter.drawText(target, flags, line)
            top += bounds.height() + gap
