"""The annotation editor's view: mouse drags, the wheel and keys become editor operations."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFocusEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPixmap,
    QResizeEvent,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import QGraphicsView, QLineEdit

from evidence_recorder.ui.editor_items import _Annotation, _make_item, _TextItem

if TYPE_CHECKING:
    from evidence_recorder.ui.editor import AnnotationEditor

MIN_ZOOM = 0.02
MAX_ZOOM = 16.0
ZOOM_STEP = 1.25
_DRAG_THRESHOLD = 4  # view pixels: a shorter drag is a click, not a shape


# --------------------------------------------------------------------------- label entry


class _LabelEntry(QLineEdit):
    """The inline box for typing a label: Enter or leaving it keeps, Escape discards."""

    committed = Signal()
    cancelled = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.committed.emit()
        elif event.key() == Qt.Key.Key_Escape:
            self.cancelled.emit()
        else:
            super().keyPressEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        if self.isVisible():
            self.committed.emit()


# --------------------------------------------------------------------------- canvas


class _Canvas(QGraphicsView):
    """The view: turns mouse drags, the wheel and keys into editor operations.

    The picture is drawn as the cached background, so redrawing a dragged box
    does not rescale a 4K picture on every mouse move.
    """

    def __init__(self, editor: AnnotationEditor, picture: QPixmap) -> None:
        super().__init__(editor)
        self._editor = editor
        self._picture = picture
        self._drag_start: QPointF | None = None
        self._drag_view_start = QPointF()
        self._preview: _Annotation | None = None
        self.fit_mode = True
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheBackground)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.FullViewportUpdate)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)

    # -- drawing the picture

    def drawBackground(self, painter: QPainter, rect: QRectF | QRect) -> None:
        rect = QRectF(rect)
        painter.fillRect(rect, QColor("#4a4d52"))
        source = rect.intersected(QRectF(self._picture.rect()))
        if not source.isEmpty():
            painter.drawPixmap(source, self._picture, source)

    # -- geometry

    def zoom(self) -> float:
        return self.transform().m11()

    def set_zoom(self, factor: float, anchor: QPointF | None = None) -> None:
        """Zoom to ``factor``, keeping the picture point under ``anchor`` (view
        coordinates) where it is; the view centre when no anchor is given."""
        factor = min(MAX_ZOOM, max(MIN_ZOOM, factor))
        if anchor is None:
            self.setTransform(QTransform.fromScale(factor, factor))
        else:
            before = self.mapToScene(anchor.toPoint())
            self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
            self.setTransform(QTransform.fromScale(factor, factor))
            after = self.mapFromScene(before)
            delta = after - anchor.toPoint()
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + delta.x())
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() + delta.y())
            self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self._editor._zoom_changed()

    def fit(self) -> None:
        self.fit_mode = True
        viewport = self.viewport().rect()
        width, height = self._picture.width(), self._picture.height()
        if viewport.width() < 2 or viewport.height() < 2 or width < 1 or height < 1:
            return
        factor = min((viewport.width() - 2) / width, (viewport.height() - 2) / height)
        # Never enlarged: a small crop blown up looks blurry and like something it was not.
        self.set_zoom(min(1.0, factor))

    def picture_point(self, view_point: QPointF) -> QPointF:
        """The picture pixel under ``view_point``, kept on the picture."""
        scene = self.mapToScene(view_point.toPoint())
        return QPointF(min(max(scene.x(), 0.0), float(self._picture.width())),
                       min(max(scene.y(), 0.0), float(self._picture.height())))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.fit_mode:
            self.fit()

    # -- mouse

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            steps = event.angleDelta().y() / 120
            if steps:
                self.fit_mode = False
                self.set_zoom(self.zoom() * ZOOM_STEP ** steps, event.position())
            event.accept()
            return
        super().wheelEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        editor = self._editor
        if event.button() != Qt.MouseButton.LeftButton or editor.tool() == "select":
            super().mousePressEvent(event)
            return
        editor._show_original(False)
        point = self.picture_point(event.position())
        if editor.tool() == "text":
            hit = self._item_at(event.position())
            if isinstance(hit, _TextItem):
                editor._begin_label(hit.resting_state()["pos"], hit)
            else:
                editor._begin_label([round(point.x()), round(point.y())], None)
            event.accept()
            return
        self._drag_start = point
        self._drag_view_start = event.position()
        self._preview = _make_item(editor._new_state(point, point))
        self._preview.setZValue(3 * _Annotation.Z_BASE)
        self.scene().addItem(self._preview)
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag_start is None or self._preview is None:
            super().mouseMoveEvent(event)
            return
        point = self.picture_point(event.position())
        self._preview.set_state(self._editor._new_state(self._drag_start, point))
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._drag_start is None or self._preview is None:
            super().mouseReleaseEvent(event)
            if event.button() == Qt.MouseButton.LeftButton:
                self._editor._finish_drag()
            return
        preview, start = self._preview, self._drag_start
        self._preview = self._drag_start = None
        self.scene().removeItem(preview)
        travelled = (event.position() - self._drag_view_start).manhattanLength()
        if travelled >= _DRAG_THRESHOLD:
            end = self.picture_point(event.position())
            self._editor._add_state(self._editor._new_state(start, end))
        event.accept()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        hit = self._item_at(event.position())
        if self._editor.tool() == "select" and isinstance(hit, _TextItem):
            self._editor._begin_label(hit.resting_state()["pos"], hit)
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def _item_at(self, view_point: QPointF) -> _Annotation | None:
        for item in self.items(view_point.toPoint()):
            if isinstance(item, _Annotation) and item.isVisible():
                return item
        return None

    # -- keyboard

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = Qt.Key(event.key())
        arrows = {Qt.Key.Key_Left: (-1, 0), Qt.Key.Key_Right: (1, 0),
                  Qt.Key.Key_Up: (0, -1), Qt.Key.Key_Down: (0, 1)}
        modifiers = event.modifiers()
        if key in arrows and self._editor._selected():
            step = 10 if modifiers & Qt.KeyboardModifier.ShiftModifier else 1
            dx, dy = arrows[key]
            if modifiers & Qt.KeyboardModifier.AltModifier:
                self._editor._nudge(dx * step, dy * step, resize=True)
            else:
                self._editor._nudge(dx * step, dy * step, resize=False)
            event.accept()
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._editor._keyboard_place(self.mapToScene(self.viewport().rect().center()))
            event.accept()
            return
        if key == Qt.Key.Key_Escape and self._preview is not None:
            self.scene().removeItem(self._preview)
            self._preview = self._drag_start = None
            event.accept()
            return
        if key == Qt.Key.Key_Escape and self.scene().selectedItems():
            self.scene().clearSelection()
            event.accept()
            return
        super().keyPressEvent(event)


# --------------------------------------------------------------------------- icons
