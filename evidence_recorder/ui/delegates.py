"""How the capture views draw their rows: fixed-size thumbnails, the covered badge,
the grid's captions and the table's column widths.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QCoreApplication, QObject, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QIcon, QPainter, QPalette, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
)

from evidence_recorder.core.model import CaptureKind
from evidence_recorder.ui.models import (
    _DECORATION,
    CAPTION_ROLE,
    COVERED_BADGE,
    COVERED_BADGE_SHORT,
    COVERED_ROLE,
    AnyIndex,
    Column,
    column_title,
)
from evidence_recorder.ui.wording import category_label, format_short, kind_label

# ---------------------------------------------------------------------- the grid


class CaptureThumbnailDelegate(QStyledItemDelegate):
    """Thumbnails in a box of one fixed size, framed so a white page shows on white.

    The fixed box keeps the text of every row at the same indent whatever the shape
    of the screenshot (Qt would otherwise size the box to each picture).
    """

    def initStyleOption(self, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        super().initStyleOption(option, index)
        view = option.widget
        if isinstance(view, QAbstractItemView) and view.iconSize().isValid():
            option.decorationSize = view.iconSize()
        option.decorationAlignment = Qt.AlignmentFlag.AlignCenter

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        super().paint(painter, option, index)
        icon = index.data(_DECORATION)
        if not isinstance(icon, QIcon) or icon.isNull():
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        widget = opt.widget
        style = widget.style() if widget is not None else None
        if style is None:
            return
        box = style.subElementRect(QStyle.SubElement.SE_ItemViewItemDecoration, opt, widget)
        size = icon.actualSize(opt.decorationSize)
        if size.isEmpty() or box.isEmpty():
            return
        frame = QRect(0, 0, min(size.width(), box.width()), min(size.height(), box.height()))
        frame.moveCenter(box.center())
        painter.save()
        painter.setPen(QPen(opt.palette.color(QPalette.ColorRole.Mid), 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(frame.adjusted(0, 0, -1, -1))
        painter.restore()
        if index.data(COVERED_ROLE):
            paint_covered_badge(painter, frame, opt.font)


def _badge_text(frame: QRect, font: QFont) -> tuple[str, QFont]:
    """The longest wording that fits the picture, at the font's size or a little smaller."""
    small = QFont(font)
    small.setPointSizeF(max(6.5, font.pointSizeF() * 0.8))
    for text in (COVERED_BADGE, COVERED_BADGE_SHORT):
        words = QCoreApplication.translate("CaptureModel", text)
        for face in (font, small):
            if QFontMetrics(face).horizontalAdvance(words) + 8 <= frame.width() - 4:
                return words, face
    return "", small


def covered_badge_rect(frame: QRect, font: QFont) -> QRect:
    """Where the "Covered copy" badge sits: the picture's bottom-left corner."""
    text, face = _badge_text(frame, font)
    metrics = QFontMetrics(face)
    width = metrics.horizontalAdvance(text) + 8 if text else frame.width() - 4
    height = min(frame.height() - 4, metrics.height() + 2)
    return QRect(frame.left() + 2, frame.bottom() - 1 - height, max(width, 0), max(height, 0))


def paint_covered_badge(painter: QPainter, frame: QRect, font: QFont) -> None:
    """Dark label, white words: seen on any picture, whatever the theme."""
    badge = covered_badge_rect(frame, font)
    if badge.width() < 8 or badge.height() < 6:
        return
    text, face = _badge_text(frame, font)
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(32, 33, 36, 225))
    painter.drawRoundedRect(badge, 3, 3)
    if text:
        painter.setPen(QColor("white"))
        painter.setFont(face)
        painter.drawText(badge, int(Qt.AlignmentFlag.AlignCenter), text)
    painter.restore()


class CaptureGridDelegate(CaptureThumbnailDelegate):
    """Paints column 0 as a thumbnail card with a caption for a ``QListView`` in icon mode.

    ``sizeHint`` is fixed and never reads the model: a list view lays out every item,
    and asking each one for its picture would decrypt the whole vault.
    """

    def __init__(self, parent: QObject | None = None,
                 icon_size: QSize | None = None) -> None:
        super().__init__(parent)
        self._icon_size = QSize(icon_size or QSize(160, 120))

    def icon_size(self) -> QSize:
        return QSize(self._icon_size)

    def initStyleOption(self, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        super().initStyleOption(option, index)
        option.text = index.data(CAPTION_ROLE) or ""
        option.decorationPosition = QStyleOptionViewItem.Position.Top
        option.decorationAlignment = Qt.AlignmentFlag.AlignCenter
        option.decorationSize = QSize(self._icon_size)
        option.displayAlignment = (Qt.AlignmentFlag.AlignHCenter
                                   | Qt.AlignmentFlag.AlignTop)
        option.features |= QStyleOptionViewItem.ViewItemFeature.WrapText
        option.textElideMode = Qt.TextElideMode.ElideRight

    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:
        line = option.fontMetrics.lineSpacing()
        margin = 8
        return QSize(self._icon_size.width() + 2 * margin,
                     self._icon_size.height() + 2 * line + 3 * margin)


def configure_grid_view(view: QListView, icon_size: QSize | None = None) -> CaptureGridDelegate:
    """Turn a ``QListView`` into the thumbnail grid; returns the delegate it installed."""
    delegate = CaptureGridDelegate(view, icon_size)
    view.setViewMode(QListView.ViewMode.IconMode)
    view.setMovement(QListView.Movement.Static)
    view.setResizeMode(QListView.ResizeMode.Adjust)
    view.setFlow(QListView.Flow.LeftToRight)
    view.setWrapping(True)
    view.setUniformItemSizes(True)  # one sizeHint for all: no pass over 10,000 items
    view.setLayoutMode(QListView.LayoutMode.Batched)
    view.setBatchSize(500)
    view.setSpacing(6)
    view.setWordWrap(True)
    view.setIconSize(delegate.icon_size())
    view.setModelColumn(Column.CAPTURED)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    view.setItemDelegate(delegate)
    return delegate


def configure_table_view(view: QTableView) -> None:
    """Settings that keep the capture table fast: fixed row heights, no content sizing.

    Column widths come from font metrics of typical values, never from the rows
    (``ResizeToContents`` would read, and decrypt thumbnails for, a thousand rows).
    """
    view.setSortingEnabled(True)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.setIconSize(QSize(48, 36))
    view.setItemDelegateForColumn(Column.CAPTURED, CaptureThumbnailDelegate(view))
    metrics = view.fontMetrics()
    vertical = view.verticalHeader()
    vertical.setVisible(False)
    vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    vertical.setDefaultSectionSize(max(42, metrics.height() + 10))
    horizontal = view.horizontalHeader()
    horizontal.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    horizontal.setStretchLastSection(True)
    horizontal.setSortIndicatorShown(True)
    header_metrics = horizontal.fontMetrics()
    typical = {
        Column.CAPTURED: format_short(datetime(2026, 9, 28, 23, 59)),
        Column.POSTED: "Yesterday at 21:04",
        Column.SITE: "Text message",
        Column.AUTHOR: "Firstname Lastname (@handle)",
        Column.CATEGORY: category_label("harassment"),
        Column.KIND: kind_label(CaptureKind.REGION),
    }
    for column, sample in typical.items():
        width = metrics.horizontalAdvance(sample) + 20
        if column == Column.CAPTURED:
            width += view.iconSize().width() + 8
        title = header_metrics.horizontalAdvance(column_title(column)) + 36  # sort arrow
        horizontal.resizeSection(column, max(width, title))
    view.sortByColumn(Column.CAPTURED, Qt.SortOrder.DescendingOrder)


__all__ = [
    "CaptureGridDelegate",
    "CaptureThumbnailDelegate",
    "configure_grid_view",
    "configure_table_view",
    "covered_badge_rect",
    "paint_covered_badge",
]
