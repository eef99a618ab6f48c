"""The annotation editor's shapes on the canvas, and the undo commands that change them.

Each shape draws from the same geometry helpers the renderer in
:mod:`evidence_recorder.core.marks` uses, so the editor shows what the shared copy looks like.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from PySide6.QtCore import QCoreApplication, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPen,
    QPolygonF,
    QUndoCommand,
)
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from evidence_recorder.core import marks as ann

if TYPE_CHECKING:
    from evidence_recorder.ui.editor import AnnotationEditor


def _tr(text: str) -> str:
    return QCoreApplication.translate("AnnotationEditor", text)


def _num(value: float) -> int | float:
    """Whole numbers stay ints, so the stored JSON reads ``12`` rather than ``12.0``."""
    return int(value) if float(value).is_integer() else value


def _moved(state: dict[str, Any], dx: float, dy: float) -> dict[str, Any]:
    out = dict(state)
    if "rect" in out:
        x, y, w, h = out["rect"]
        out["rect"] = [_num(x + dx), _num(y + dy), w, h]
    for key in ("from", "to", "pos"):
        if key in out:
            x, y = out[key]
            out[key] = [_num(x + dx), _num(y + dy)]
    return out


def _resized(state: dict[str, Any], dx: int, dy: int) -> dict[str, Any]:
    """Grow or shrink from the bottom-right (boxes), the tip (arrows) or the size (labels)."""
    out = dict(state)
    if "rect" in out:
        x, y, w, h = out["rect"]
        out["rect"] = [x, y, _num(max(1, w + dx)), _num(max(1, h + dy))]
    elif "to" in out:
        x, y = out["to"]
        out["to"] = [_num(x + dx), _num(y + dy)]
    elif "size" in out:
        step = dx - dy
        out["size"] = _num(min(ann.MAX_SIZE, max(ann.MIN_SIZE, out["size"] + step)))
    return out


# --------------------------------------------------------------------------- fonts

_label_family: str | None = None
_label_family_loaded = False


def _label_font(size: float) -> QFont:
    """The renderer's own font (Pillow's bundled Aileron), loaded once from memory."""
    global _label_family, _label_family_loaded
    if not _label_family_loaded:
        _label_family_loaded = True
        data = ann.label_font_data()
        if data is not None:
            font_id = QFontDatabase.addApplicationFontFromData(data)
            families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
            _label_family = families[0] if families else None
    font = QFont(_label_family) if _label_family else QFont()
    font.setPixelSize(max(1, round(size)))
    font.setHintingPreference(QFont.HintingPreference.PreferNoHinting)
    return font


# --------------------------------------------------------------------------- items


class _Annotation(QGraphicsItem):
    """One annotation on the scene; its state is a dict in the stored format.

    At rest an item sits at position (0, 0) and its geometry is in scene (= picture)
    coordinates; while it is dragged Qt moves its position, and the move is folded
    back into the state when the drag ends.
    """

    Z_BASE: ClassVar[int] = 10_000

    def __init__(self, state: dict[str, Any]) -> None:
        super().__init__()
        self._state: dict[str, Any] = {}
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
                      | QGraphicsItem.GraphicsItemFlag.ItemIsMovable)
        self.set_state(state)

    @property
    def kind(self) -> str:
        return str(self._state["type"])

    def state(self) -> dict[str, Any]:
        """The stored form, including any move in progress."""
        offset = self.pos()
        return _moved(self._state, offset.x(), offset.y()) if offset != QPointF() else dict(
            self._state)

    def resting_state(self) -> dict[str, Any]:
        return dict(self._state)

    def set_state(self, state: dict[str, Any]) -> None:
        self.prepareGeometryChange()
        self._state = dict(state)
        self.setPos(0, 0)
        self._geometry_changed()
        self.update()

    def _geometry_changed(self) -> None:
        """Recompute cached shapes after the state changed."""

    def _paint_selection(self, painter: QPainter, rect: QRectF) -> None:
        """A two-tone dashed frame that shows on white pages, dark pages and redactions."""
        if not self.isSelected():
            return
        painter.setBrush(Qt.BrushStyle.NoBrush)
        under = QPen(QColor("#ffffff"), 3)
        under.setCosmetic(True)
        painter.setPen(under)
        painter.drawRect(rect)
        over = QPen(QColor("#1d70b8"), 1.5, Qt.PenStyle.DashLine)
        over.setCosmetic(True)
        painter.setPen(over)
        painter.drawRect(rect)


class _BoxItem(_Annotation):
    """Highlight, outline or redaction: a rectangle in whole picture pixels."""

    def _pixel_rect(self) -> QRectF:
        left, top, right, bottom = ann.pixel_box(self._state["rect"])
        return QRectF(left, top, right - left, bottom - top)

    def boundingRect(self) -> QRectF:
        return self._pixel_rect().adjusted(-4, -4, 4, 4)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        rect = self._pixel_rect()
        if self.kind == "outline":  # only the frame is clickable, so boxes inside stay reachable
            stroker = QPainterPathStroker()
            stroker.setWidth(max(8.0, float(self._state["width"]) * 2))
            outline = QPainterPath()
            outline.addRect(rect)
            return stroker.createStroke(outline)
        path.addRect(rect)
        return path

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        rect = self._pixel_rect()
        kind = self.kind
        if kind == "redact":
            painter.fillRect(rect, QColor(*ann.REDACTION_COLOUR))
        elif kind == "highlight":
            colour = QColor(self._state["color"])
            colour.setAlphaF(ann.HIGHLIGHT_OPACITY)
            painter.fillRect(rect, colour)
        else:
            width = max(1, round(self._state["width"]))
            pen = QPen(QColor(self._state["color"]), width)
            pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            half = width / 2  # the renderer strokes inside the box; so do we
            painter.drawRect(rect.adjusted(half, half, -half, -half))
        self._paint_selection(painter, rect)


class _ArrowItem(_Annotation):
    _shaft: QPolygonF
    _head: QPolygonF

    def _geometry_changed(self) -> None:
        shaft, head = ann.arrow_shape(self._state["from"], self._state["to"],
                                      self._state["width"])
        self._shaft = QPolygonF([QPointF(x, y) for x, y in shaft])
        self._head = QPolygonF([QPointF(x, y) for x, y in head])

    def _outline(self) -> QPainterPath:
        path = QPainterPath()
        path.addPolygon(self._shaft)
        path.addPolygon(self._head)
        return path

    def boundingRect(self) -> QRectF:
        return self._outline().boundingRect().adjusted(-6, -6, 6, 6)

    def shape(self) -> QPainterPath:
        stroker = QPainterPathStroker()
        stroker.setWidth(10)
        return stroker.createStroke(self._outline()).united(self._outline())

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(self._state["color"]))
        painter.drawPolygon(self._shaft)
        painter.drawPolygon(self._head)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        self._paint_selection(painter, self._outline().boundingRect())


class _TextItem(_Annotation):
    _layout: ann.LabelLayout

    def _geometry_changed(self) -> None:
        self._layout = ann.label_layout(self._state["text"], self._state["size"])

    def _box(self) -> QRectF:
        x, y = self._state["pos"]
        return QRectF(x, y, self._layout.width, self._layout.height)

    def boundingRect(self) -> QRectF:
        return self._box().adjusted(-4, -4, 4, 4)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRect(self._box())
        return path

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        layout = self._layout
        box = self._box()
        background, border = ann.label_colours(self._state["color"])
        painter.fillRect(box, QColor(background))
        pen = QPen(QColor(border), layout.border)
        pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
        painter.setPen(pen)
        half = layout.border / 2
        painter.drawRect(box.adjusted(half, half, -half, -half))
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        painter.setFont(_label_font(self._state["size"]))
        painter.setPen(QColor(self._state["color"]))
        for index, line in enumerate(layout.lines):
            baseline = box.top() + layout.padding + index * layout.line_height + layout.ascent
            painter.drawText(QPointF(box.left() + layout.padding, baseline), line)
        self._paint_selection(painter, box)


_ITEM_CLASSES: dict[str, type[_Annotation]] = {
    "highlight": _BoxItem, "outline": _BoxItem, "redact": _BoxItem,
    "arrow": _ArrowItem, "text": _TextItem,
}


def _make_item(state: dict[str, Any]) -> _Annotation:
    return _ITEM_CLASSES[state["type"]](state)


# --------------------------------------------------------------------------- commands


class _AddCommand(QUndoCommand):
    def __init__(self, editor: AnnotationEditor, items: list[_Annotation], text: str) -> None:
        super().__init__(text)
        self._editor = editor
        self._placed = [(len(editor._items) + n, item) for n, item in enumerate(items)]

    def redo(self) -> None:
        self._editor._insert(self._placed)

    def undo(self) -> None:
        self._editor._take([item for _, item in self._placed])


class _RemoveCommand(QUndoCommand):
    def __init__(self, editor: AnnotationEditor, items: list[_Annotation], text: str) -> None:
        super().__init__(text)
        self._editor = editor
        self._placed = sorted(((editor._items.index(item), item) for item in items),
                              key=lambda pair: pair[0])

    def redo(self) -> None:
        self._editor._take([item for _, item in self._placed])

    def undo(self) -> None:
        self._editor._insert(self._placed)


class _ChangeCommand(QUndoCommand):
    """Moves, resizes, recolouring and new wording: one state swap per item.

    Consecutive keyboard nudges of the same items merge into one step, so undo does
    not have to be pressed once per arrow-key press.
    """

    MOVE_ID: ClassVar[int] = 0x4D4F
    RESIZE_ID: ClassVar[int] = 0x5253

    def __init__(self, editor: AnnotationEditor, items: list[_Annotation],
                 before: list[dict[str, Any]], after: list[dict[str, Any]], text: str,
                 merge_id: int = -1) -> None:
        super().__init__(text)
        self._editor = editor
        self._items = items
        self._before = before
        self._after = after
        self._merge_id = merge_id

    def id(self) -> int:
        return self._merge_id

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, _ChangeCommand) or other._items != self._items:
            return False
        self._after = other._after
        return True

    def redo(self) -> None:
        self._apply(self._after)

    def undo(self) -> None:
        self._apply(self._before)

    def _apply(self, states: list[dict[str, Any]]) -> None:
        for item, state in zip(self._items, states, strict=True):
            item.set_state(state)
        self._editor._restack()
