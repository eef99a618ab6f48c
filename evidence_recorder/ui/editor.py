"""The annotation editor: highlights, boxes, arrows, labels and redactions over a capture.

This widget owns drawing and nothing else. It takes the original's bytes and a dict
in the format of :mod:`evidence_recorder.core.marks`, and gives a dict back;
it never sees the vault, so it cannot change the original or the audit log.

Decisions worth knowing:

* The picture is decoded by :func:`core.annotations.upright_picture`, not by Qt: Qt
  has no HEIC decoder here and may read EXIF orientation differently, and then the
  boxes drawn here would not land where :func:`core.annotations.render` puts them.
  The scene's coordinates *are* the upright picture's pixels, so no mapping is kept.
* Everything that changes the annotations is an undo command, so undo, redo and
  "is this modified?" cannot disagree.
* Shapes, arrowheads and label boxes come from the same geometry helpers the
  renderer uses, and labels use the renderer's bundled font, so the editor shows
  what the shared copy will look like.
* Redaction is a solid black fill and nothing else: there is deliberately no blur
  or pixelate tool, because both can be reversed.
* The picture never moves unless the user moves it. The notice line above it and
  the hint line below it always keep room for their longest text, so a notice
  appearing (choosing Redact) cannot push the picture down between aiming and
  dragging. "Fit" shrinks a large picture to the window but never enlarges a
  small one beyond 100 %, so the editor opens showing the whole picture as it is.

The shapes and their undo commands are in :mod:`~evidence_recorder.ui.editor_items`,
the view that turns the mouse into operations in :mod:`~evidence_recorder.ui.editor_canvas`,
the toolbar icons in :mod:`~evidence_recorder.ui.editor_icons`.
This module stays over 600 lines because :class:`AnnotationEditor` is one widget whose
toolbar, zoom, selection and undo stack act on the same state.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QLocale, QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QIcon,
    QImage,
    QKeySequence,
    QPalette,
    QPixmap,
    QResizeEvent,
    QShowEvent,
    QUndoStack,
)
from PySide6.QtWidgets import (
    QGraphicsScene,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from evidence_recorder.core import marks as ann
from evidence_recorder.core.i18n import QT_TRANSLATE_NOOP
from evidence_recorder.ui.editor_canvas import ZOOM_STEP, _Canvas, _LabelEntry
from evidence_recorder.ui.editor_icons import (
    _TOOL_ICONS,
    _draw_delete,
    _draw_eye,
    _draw_fit,
    _draw_redo,
    _draw_swatch,
    _draw_undo,
    _draw_zoom,
    _icon,
)
from evidence_recorder.ui.editor_items import (
    _AddCommand,
    _Annotation,
    _ChangeCommand,
    _label_font,
    _make_item,
    _moved,
    _RemoveCommand,
    _resized,
    _TextItem,
    _tr,
)

TOOLS = ("select", "highlight", "outline", "arrow", "text", "redact")
PALETTE: tuple[tuple[str, str], ...] = (
    # No black: a black box or highlight could be mistaken for a redaction.
    ("red", "#e5383b"),
    ("orange", "#f77f00"),
    ("yellow", "#ffd60a"),
    ("green", "#2b9348"),
    ("blue", "#1d70b8"),
    ("purple", "#7b2cbf"),
)

# British English source texts, translated where they are shown (context "AnnotationEditor").
REDACTION_HINT = QT_TRANSLATE_NOOP(
    "AnnotationEditor", "Redaction covers with solid black. The original stays untouched in "
                        "your vault; shared copies use the covered version.")
ORIGINAL_HINT = QT_TRANSLATE_NOOP(
    "AnnotationEditor", "Showing the original picture. Your annotations are hidden, not deleted.")
LIMIT_HINT = QT_TRANSLATE_NOOP(
    "AnnotationEditor", "A picture can have at most {limit} annotations. Delete some to add more.")
# The notice line is always laid out; only its look changes, never its size.
_NOTICE_STYLE = ("#annotationBanner { background: #e8f1fb; color: #0b2e4f; border: 1px solid "
                 "#9cc3eb; border-radius: 4px; padding: 6px 10px; }")
_QUIET_STYLE = ("#annotationBanner { background: transparent; border: 1px solid transparent; "
                "padding: 6px 10px; }")

_TOOL_TEXT: dict[str, tuple[str, str, str]] = {
    # name: (button text, tooltip, shortcut)
    "select": (QT_TRANSLATE_NOOP("AnnotationEditor", "Select"),
               QT_TRANSLATE_NOOP("AnnotationEditor", "Select and move: click an annotation, "
                                                     "then drag it or use the arrow keys"), "V"),
    "highlight": (QT_TRANSLATE_NOOP("AnnotationEditor", "Highlight"),
                  QT_TRANSLATE_NOOP("AnnotationEditor",
                                    "Highlight: mark an area with translucent colour"), "H"),
    "outline": (QT_TRANSLATE_NOOP("AnnotationEditor", "Box"),
                QT_TRANSLATE_NOOP("AnnotationEditor", "Box: draw an outline around something"),
                "O"),
    "arrow": (QT_TRANSLATE_NOOP("AnnotationEditor", "Arrow"),
              QT_TRANSLATE_NOOP("AnnotationEditor", "Arrow: point at something"), "A"),
    "text": (QT_TRANSLATE_NOOP("AnnotationEditor", "Label"),
             QT_TRANSLATE_NOOP("AnnotationEditor", "Label: add a short note on the picture"), "T"),
    "redact": (QT_TRANSLATE_NOOP("AnnotationEditor", "Redact"),
               QT_TRANSLATE_NOOP("AnnotationEditor", "Redact: cover with a solid black box"), "R"),
}
_TOOL_HINTS: dict[str, str] = {
    "select": QT_TRANSLATE_NOOP(
        "AnnotationEditor", "Click an annotation to select it, then drag it or nudge it with the "
                            "arrow keys. Double-click a label to change its words."),
    "highlight": QT_TRANSLATE_NOOP("AnnotationEditor",
                                   "Drag across the part you want to highlight."),
    "outline": QT_TRANSLATE_NOOP("AnnotationEditor", "Drag to draw a box around something."),
    "arrow": QT_TRANSLATE_NOOP("AnnotationEditor",
                               "Drag from where the arrow starts to the thing it points at."),
    "text": QT_TRANSLATE_NOOP("AnnotationEditor",
                              "Click where the label should go, type it, then press Enter."),
    "redact": QT_TRANSLATE_NOOP(
        "AnnotationEditor", "Drag over anything that must not be shared, such as a pupil's name."),
}
# What the undo and redo buttons say a step did: whole phrases, for translators.
_ADD_TEXT = {
    "highlight": QT_TRANSLATE_NOOP("AnnotationEditor", "add highlight"),
    "outline": QT_TRANSLATE_NOOP("AnnotationEditor", "add box"),
    "arrow": QT_TRANSLATE_NOOP("AnnotationEditor", "add arrow"),
    "text": QT_TRANSLATE_NOOP("AnnotationEditor", "add label"),
    "redact": QT_TRANSLATE_NOOP("AnnotationEditor", "add redaction"),
}
_DELETE_TEXT = {
    "highlight": QT_TRANSLATE_NOOP("AnnotationEditor", "delete highlight"),
    "outline": QT_TRANSLATE_NOOP("AnnotationEditor", "delete box"),
    "arrow": QT_TRANSLATE_NOOP("AnnotationEditor", "delete arrow"),
    "text": QT_TRANSLATE_NOOP("AnnotationEditor", "delete label"),
    "redact": QT_TRANSLATE_NOOP("AnnotationEditor", "delete redaction"),
}
_COLOUR_NAMES = {
    "red": QT_TRANSLATE_NOOP("AnnotationEditor", "red"),
    "orange": QT_TRANSLATE_NOOP("AnnotationEditor", "orange"),
    "yellow": QT_TRANSLATE_NOOP("AnnotationEditor", "yellow"),
    "green": QT_TRANSLATE_NOOP("AnnotationEditor", "green"),
    "blue": QT_TRANSLATE_NOOP("AnnotationEditor", "blue"),
    "purple": QT_TRANSLATE_NOOP("AnnotationEditor", "purple"),
}


class AnnotationEditor(QWidget):
    """Draw over a capture without touching it; give back the annotations as a dict.

    ``changed`` is emitted after every edit, undo or redo, and after
    :meth:`mark_saved`; :meth:`is_modified` then says whether the annotations now
    differ from those last loaded or saved.
    """

    changed = Signal()

    def __init__(self, original: bytes, annotations: dict[str, Any] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        loaded = ann.validate(annotations if annotations is not None else ann.empty())
        upright = ann.upright_picture(original)
        image = QImage(upright.rgb, upright.width, upright.height, 3 * upright.width,
                       QImage.Format.Format_RGB888)
        # convertToFormat copies into memory Qt owns, so the Python bytes can go.
        picture = QPixmap.fromImage(image.convertToFormat(QImage.Format.Format_RGB32))
        del image, upright
        self._size = (picture.width(), picture.height())
        self._stroke, self._text_size = ann.default_sizes(*self._size)
        self._items: list[_Annotation] = []
        self._saved = loaded
        self._tool = "select"
        # Each tool remembers its own colour: highlights start yellow, marks red.
        self._colours: dict[str, str] = dict(ann.DEFAULT_COLOURS)
        self._colour = PALETTE[0][1]
        self._redaction_hint_shown = False
        self._shown_once = False
        self._label_target: _TextItem | None = None
        self._label_pos: list[int | float] | None = None
        self._label_shown = ""
        self._press_states: dict[_Annotation, dict[str, Any]] = {}

        self._stack = QUndoStack(self)
        self._scene = QGraphicsScene(self)
        self._scene.setSceneRect(QRectF(0, 0, *self._size))
        self._canvas = _Canvas(self, picture)
        self._canvas.setScene(self._scene)
        self._canvas.setAccessibleName(self.tr("Picture being annotated"))
        self._canvas.setAccessibleDescription(
            self.tr("Choose a tool, then drag on the picture. Press Enter to place a shape in "
                    "the middle, the arrow keys to move the selected one, and Alt with the "
                    "arrow keys to resize it."))
        self._entry = _LabelEntry(self._canvas.viewport())
        self._entry.hide()
        self._entry.setMaxLength(ann.MAX_TEXT)
        self._entry.setPlaceholderText(self.tr("Type the label, then press Enter"))
        self._entry.setAccessibleName(self.tr("Label text"))
        self._entry.setMinimumWidth(240)
        self._entry.committed.connect(self._commit_label)
        self._entry.cancelled.connect(self._cancel_label)

        self._actions: dict[str, QAction] = {}
        self._build_actions()
        self._build_layout()

        for state in loaded["items"]:
            item = _make_item(state)
            self._items.append(item)
            self._scene.addItem(item)
        self._restack()

        self._stack.indexChanged.connect(self._on_stack_changed)
        self._stack.canUndoChanged.connect(self._update_actions)
        self._stack.canRedoChanged.connect(self._update_actions)
        self._stack.undoTextChanged.connect(self._update_actions)
        self._stack.redoTextChanged.connect(self._update_actions)
        self._scene.selectionChanged.connect(self._update_actions)
        self.set_tool("select")
        self._update_actions()
        self._zoom_changed()
        self.setFocusProxy(self._canvas)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._shown_once:
            # The picture, not the first toolbar button, gets the keys at first, so the
            # tool letters and arrow keys work at once and no button looks pressed.
            self._shown_once = True
            self._canvas.setFocus(Qt.FocusReason.OtherFocusReason)

    # ------------------------------------------------------------------ public API

    def annotations(self) -> dict[str, Any]:
        """The current annotations, checked by the same rules a received file meets."""
        return ann.validate({"version": ann.VERSION,
                             "items": [item.state() for item in self._items]})

    def set_tool(self, name: str) -> None:
        if name not in TOOLS:
            raise ValueError(f"unknown annotation tool: {name!r}")
        self._actions[f"tool:{name}"].setChecked(True)
        self._tool_chosen(name)

    def tool(self) -> str:
        return self._tool

    def colour(self) -> str:
        """The colour the current tool draws in (for the select tool: the last chosen)."""
        return self._colours.get(self._tool, self._colour)

    def set_colour(self, colour: str) -> None:
        """Colour for new annotations; selected ones are recoloured (one undo step)."""
        names = {hex_value: name for name, hex_value in PALETTE}
        if colour not in names:
            raise ValueError(f"not a palette colour: {colour!r}")
        self._actions[f"colour:{names[colour]}"].setChecked(True)
        self._colour_chosen(colour)

    def is_modified(self) -> bool:
        return self.annotations() != self._saved

    def mark_saved(self) -> None:
        self._saved = self.annotations()
        self._stack.setClean()
        self.changed.emit()

    def undo_stack(self) -> QUndoStack:
        return self._stack

    def action(self, name: str) -> QAction:
        """An action by name, for a host window's menus and for tests: ``tool:<name>``,
        ``colour:<name>``, ``undo``, ``redo``, ``delete``, ``show-original``,
        ``zoom-in``, ``zoom-out``, ``zoom-fit``."""
        return self._actions[name]

    def view(self) -> QGraphicsView:
        return self._canvas

    def zoom(self) -> float:
        return self._canvas.zoom()

    def set_zoom(self, factor: float) -> None:
        self._canvas.fit_mode = False
        self._canvas.set_zoom(factor)

    def showing_original(self) -> bool:
        return self._actions["show-original"].isChecked()

    def label_entry(self) -> QLineEdit:
        """The inline box a label is typed into (visible only while typing)."""
        return self._entry

    # ------------------------------------------------------------------ building

    def _build_actions(self) -> None:
        ink = self.palette().color(QPalette.ColorRole.WindowText)

        def make(name: str, text: str, tip: str, shortcuts: Sequence[str | QKeySequence],
                 icon: QIcon | None = None, checkable: bool = False) -> QAction:
            action = QAction(text, self)
            if icon is not None:
                action.setIcon(icon)
            keys = [QKeySequence(k) for k in shortcuts]
            action.setShortcuts(keys)
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            if keys:
                tip = self.tr("{tip} ({shortcut})").format(
                    tip=tip, shortcut=keys[0].toString(QKeySequence.SequenceFormat.NativeText))
            action.setToolTip(tip)
            action.setStatusTip(tip)
            action.setCheckable(checkable)
            self.addAction(action)  # shortcuts work wherever focus is inside the editor
            self._actions[name] = action
            return action

        self._tool_group = QActionGroup(self)
        for name in TOOLS:
            text, tip, key = _TOOL_TEXT[name]
            action = make(f"tool:{name}", _tr(text), _tr(tip), [key],
                          _icon(_TOOL_ICONS[name], ink),
                          checkable=True)
            action.triggered.connect(lambda _checked=False, n=name: self._tool_chosen(n))
            self._tool_group.addAction(action)

        self._colour_group = QActionGroup(self)
        for name, value in PALETTE:
            colour = _tr(_COLOUR_NAMES.get(name, name))
            action = make(f"colour:{name}", self.tr("Colour: {colour}").format(colour=colour),
                          self.tr("Colour: {colour}, for new annotations and the selected ones")
                          .format(colour=colour), [],
                          _icon(_draw_swatch(value), ink), checkable=True)
            action.triggered.connect(lambda _checked=False, v=value: self._colour_chosen(v))
            self._colour_group.addAction(action)
        self._actions[f"colour:{PALETTE[0][0]}"].setChecked(True)

        undo = make("undo", self.tr("Undo"), self.tr("Undo the last change"),
                    [QKeySequence(QKeySequence.StandardKey.Undo)], _icon(_draw_undo, ink))
        undo.triggered.connect(self._stack.undo)
        redo = make("redo", self.tr("Redo"), self.tr("Redo the change you undid"),
                    ["Ctrl+Shift+Z", "Ctrl+Y"], _icon(_draw_redo, ink))
        redo.triggered.connect(self._stack.redo)
        delete = make("delete", self.tr("Delete"), self.tr("Delete the selected annotation"),
                      ["Delete", "Backspace"], _icon(_draw_delete, ink))
        delete.triggered.connect(self._delete_selected)
        original = make("show-original", self.tr("Show original"),
                        self.tr("Show original: hide all annotations to see the untouched "
                                "picture"),
                        [], _icon(_draw_eye, ink), checkable=True)
        original.toggled.connect(self._original_toggled)
        zoom_in = make("zoom-in", self.tr("Zoom in"), self.tr("Zoom in"), ["Ctrl+=", "Ctrl++"],
                       _icon(lambda p, c: _draw_zoom(p, c, "+"), ink))
        zoom_in.triggered.connect(lambda: self._step_zoom(ZOOM_STEP))
        zoom_out = make("zoom-out", self.tr("Zoom out"), self.tr("Zoom out"), ["Ctrl+-"],
                        _icon(lambda p, c: _draw_zoom(p, c, "-"), ink))
        zoom_out.triggered.connect(lambda: self._step_zoom(1 / ZOOM_STEP))
        fit = make("zoom-fit", self.tr("Fit"), self.tr("Fit the picture to the window"),
                   ["Ctrl+0"],
                   _icon(_draw_fit, ink))
        fit.triggered.connect(self._canvas.fit)

    def _toolbar(self, name: str) -> QToolBar:
        bar = QToolBar(name, self)
        bar.setAccessibleName(name)
        bar.setIconSize(QSize(20, 20))
        bar.setMovable(False)
        bar.setFloatable(False)
        return bar

    def _add(self, bar: QToolBar, name: str, with_text: bool = False) -> None:
        action = self._actions[name]
        bar.addAction(action)
        button = bar.widgetForAction(action)
        if isinstance(button, QToolButton):
            # Toolbar buttons take no focus by default; keyboard users need to reach them.
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            button.setAccessibleName(action.text())
            button.setAccessibleDescription(action.toolTip())
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon if with_text
                                      else Qt.ToolButtonStyle.ToolButtonIconOnly)
            button.setAutoRaise(True)

    def _build_layout(self) -> None:
        tools = self._toolbar(self.tr("Annotation tools"))
        for name in TOOLS:
            self._add(tools, f"tool:{name}", with_text=True)
        tools.addSeparator()
        for name, _value in PALETTE:
            self._add(tools, f"colour:{name}")
        tools.addSeparator()
        for name in ("undo", "redo", "delete"):
            self._add(tools, name)
        tools.addSeparator()
        self._add(tools, "show-original", with_text=True)

        self._banner = QLabel(self)
        self._banner.setWordWrap(True)
        self._banner.setObjectName("annotationBanner")
        self._banner.setStyleSheet(_QUIET_STYLE)
        self._banner.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self._banner.setAccessibleName(self.tr("Notice"))
        # Measures the longest notice at the current width, styled as a shown notice.
        self._banner_probe = QLabel(self)
        self._banner_probe.setObjectName("annotationBanner")
        self._banner_probe.setStyleSheet(_NOTICE_STYLE)
        self._banner_probe.setWordWrap(True)
        self._banner_probe.hide()

        self._hint = QLabel(self)
        self._hint.setWordWrap(True)
        self._hint.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self._hint.setAccessibleName(self.tr("What to do with this tool"))
        self._zoom_label = QLabel(self)
        self._zoom_label.setMinimumWidth(48)
        self._zoom_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._zoom_label.setAccessibleName(self.tr("Zoom level"))
        zoom = self._toolbar(self.tr("Zoom"))
        self._add(zoom, "zoom-out")
        zoom.addWidget(self._zoom_label)
        self._add(zoom, "zoom-in")
        self._add(zoom, "zoom-fit", with_text=True)

        status = QHBoxLayout()
        status.setContentsMargins(8, 0, 0, 0)
        status.addWidget(self._hint, 1)
        status.addWidget(zoom)
        self._reserve_text_room()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(tools)
        banner_row = QHBoxLayout()
        banner_row.setContentsMargins(8, 0, 8, 0)
        banner_row.addWidget(self._banner)
        layout.addLayout(banner_row)
        layout.addWidget(self._canvas, 1)
        layout.addLayout(status)
        # Tab order: the tools, then the picture, then the zoom controls.
        self.setTabOrder(tools, self._canvas)

    # ------------------------------------------------------------------ state changes

    def _tool_chosen(self, name: str) -> None:
        if self._entry.isVisible():
            self._commit_label()
        self._tool = name
        if name != "select":
            self._show_original(False)
        self._canvas.setDragMode(QGraphicsView.DragMode.RubberBandDrag if name == "select"
                                 else QGraphicsView.DragMode.NoDrag)
        cursor = {"select": Qt.CursorShape.ArrowCursor, "text": Qt.CursorShape.IBeamCursor}
        self._canvas.viewport().setCursor(cursor.get(name, Qt.CursorShape.CrossCursor))
        self._hint.setText(_tr(_TOOL_HINTS[name]))
        self._colour_group.setEnabled(name != "redact")  # redaction is only ever black
        if name in self._colours:
            self._check_swatch(self._colours[name])
        if name == "redact" and not self._redaction_hint_shown:
            self._redaction_hint_shown = True
            self._set_banner(_tr(REDACTION_HINT))
        elif not self.showing_original():
            self._set_banner(None)

    def _colour_chosen(self, colour: str) -> None:
        self._colour = colour
        if self._tool in self._colours:
            self._colours[self._tool] = colour
        targets = [item for item in self._selected() if "color" in item.resting_state()]
        if targets:
            before = [item.resting_state() for item in targets]
            after = [dict(state, color=colour) for state in before]
            if before != after:
                self._stack.push(_ChangeCommand(self, targets, before, after,
                                                self.tr("change colour")))

    def _check_swatch(self, colour: str) -> None:
        for name, value in PALETTE:
            if value == colour:
                self._actions[f"colour:{name}"].setChecked(True)

    def _set_banner(self, text: str | None) -> None:
        """Show or clear the notice above the picture; its room stays, so nothing moves."""
        self._banner.setText(text or "")
        self._banner.setStyleSheet(_NOTICE_STYLE if text else _QUIET_STYLE)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._reserve_text_room()

    def _reserve_text_room(self) -> None:
        """Give the notice and hint lines the height of their longest text at this width.

        Then showing a notice or choosing another tool changes words, not the size of
        the picture's area: the picture stays under the pointer.
        """
        width = max(self.width() - 16, 1)  # the notice row's side margins
        notices = (_tr(REDACTION_HINT), _tr(ORIGINAL_HINT),
                   _tr(LIMIT_HINT).format(limit=QLocale().toString(ann.MAX_ITEMS)))
        probe = self._banner_probe
        probe.ensurePolished()
        heights = []
        for text in notices:
            probe.setText(text)
            heights.append(probe.heightForWidth(width))
        probe.setText("")
        banner_height = max(heights)
        if banner_height > 0 and self._banner.height() != banner_height:
            self._banner.setFixedHeight(banner_height)
        hint_width = max(self._hint.width(), 1)
        metrics = self._hint.fontMetrics()
        hint_height = max(
            metrics.boundingRect(QRect(0, 0, hint_width, 10_000),
                                 int(Qt.TextFlag.TextWordWrap), _tr(text)).height()
            for text in _TOOL_HINTS.values())
        if self._hint.minimumHeight() != hint_height:
            self._hint.setMinimumHeight(hint_height)

    def _original_toggled(self, showing: bool) -> None:
        if showing and self._entry.isVisible():
            self._cancel_label()
        for item in self._items:
            item.setVisible(not showing)
        self._set_banner(_tr(ORIGINAL_HINT) if showing else None)

    def _show_original(self, showing: bool) -> None:
        self._actions["show-original"].setChecked(showing)

    def _on_stack_changed(self) -> None:
        self._show_original(False)  # an edit, undo or redo should be seen
        self._update_actions()
        self.changed.emit()

    def _update_actions(self) -> None:
        undo, redo = self._actions["undo"], self._actions["redo"]
        undo.setEnabled(self._stack.canUndo())
        redo.setEnabled(self._stack.canRedo())
        undo.setToolTip(self.tr("Undo {step} (Ctrl+Z)").format(step=self._stack.undoText())
                        if self._stack.canUndo() else self.tr("Undo the last change (Ctrl+Z)"))
        redo.setToolTip(self.tr("Redo {step} (Ctrl+Shift+Z)").format(step=self._stack.redoText())
                        if self._stack.canRedo()
                        else self.tr("Redo the change you undid (Ctrl+Shift+Z)"))
        self._actions["delete"].setEnabled(bool(self._selected()))

    def _step_zoom(self, factor: float) -> None:
        self.set_zoom(self.zoom() * factor)

    def _zoom_changed(self) -> None:
        self._zoom_label.setText(QLocale().toString(round(self.zoom() * 100))
                                 + QLocale().percent())

    # ------------------------------------------------------------------ items

    def _selected(self) -> list[_Annotation]:
        return [item for item in self._items if item.isSelected()]

    def _restack(self) -> None:
        """Stack as the renderer draws: highlights, then marks, then redactions on top."""
        layer = {"highlight": 0, "redact": 2}
        for index, item in enumerate(self._items):
            item.setZValue(layer.get(item.kind, 1) * _Annotation.Z_BASE + index)

    def _insert(self, placed: list[tuple[int, _Annotation]]) -> None:
        for index, item in placed:
            self._items.insert(index, item)
            if item.scene() is None:
                self._scene.addItem(item)
            item.setVisible(True)
        self._restack()

    def _take(self, items: list[_Annotation]) -> None:
        for item in items:
            item.setSelected(False)
            self._items.remove(item)
            self._scene.removeItem(item)
        self._restack()

    def _new_state(self, start: QPointF, end: QPointF) -> dict[str, Any]:
        """The annotation the current tool makes from a drag, in whole picture pixels."""
        x0, y0, x1, y1 = (round(v) for v in (start.x(), start.y(), end.x(), end.y()))
        kind = self._tool
        if kind == "arrow":
            return {"type": "arrow", "from": [x0, y0], "to": [x1, y1],
                    "color": self._colours[kind], "width": self._stroke}
        rect = [min(x0, x1), min(y0, y1), abs(x1 - x0), abs(y1 - y0)]
        if kind == "redact":
            return {"type": "redact", "rect": rect}
        if kind == "outline":
            return {"type": "outline", "rect": rect, "color": self._colours[kind],
                    "width": self._stroke}
        return {"type": "highlight", "rect": rect, "color": self._colours["highlight"]}

    def _add_state(self, state: dict[str, Any]) -> None:
        if len(self._items) >= ann.MAX_ITEMS:
            self._set_banner(_tr(LIMIT_HINT).format(limit=QLocale().toString(ann.MAX_ITEMS)))
            return
        if "rect" in state and (state["rect"][2] < 1 or state["rect"][3] < 1):
            return
        if state["type"] == "arrow" and state["from"] == state["to"]:
            return
        item = _make_item(ann.validate({"version": 1, "items": [state]})["items"][0])
        self._stack.push(_AddCommand(self, [item], _tr(_ADD_TEXT[item.kind])))
        self._scene.clearSelection()
        item.setSelected(True)

    def _delete_selected(self) -> None:
        if self._entry.isVisible():
            return
        selected = self._selected()
        if selected:
            text = (_tr(_DELETE_TEXT[selected[0].kind]) if len(selected) == 1
                    else self.tr("delete annotations"))
            self._stack.push(_RemoveCommand(self, selected, text))

    def _nudge(self, dx: int, dy: int, resize: bool) -> None:
        items = self._selected()
        before = [item.resting_state() for item in items]
        if resize:
            after = [_resized(state, dx, dy) for state in before]
        else:
            after = [_moved(state, dx, dy) for state in before]
        if after != before:
            verb = self.tr("resize") if resize else self.tr("move")
            merge_id = _ChangeCommand.RESIZE_ID if resize else _ChangeCommand.MOVE_ID
            self._stack.push(_ChangeCommand(self, items, before, after, verb, merge_id))

    def _finish_drag(self) -> None:
        """Fold a mouse move of the selected items into one undoable step."""
        moved = [item for item in self._items if item.pos() != QPointF()]
        if not moved:
            return
        before = [item.resting_state() for item in moved]
        after = [_moved(item.resting_state(), round(item.pos().x()), round(item.pos().y()))
                 for item in moved]
        if before == after:
            for item in moved:
                item.set_state(item.resting_state())
            return
        self._stack.push(_ChangeCommand(self, moved, before, after, "move"))

    def _keyboard_place(self, centre: QPointF) -> None:
        """Enter with a drawing tool puts a shape in the middle of the view, for people
        who cannot drag; the arrow keys then move it and Alt+arrows resize it."""
        if self._tool == "select":
            selected = self._selected()
            if len(selected) == 1 and isinstance(selected[0], _TextItem):
                self._begin_label(selected[0].resting_state()["pos"], selected[0])
            return
        self._show_original(False)
        visible = self._canvas.mapToScene(self._canvas.viewport().rect()).boundingRect()
        visible = visible.intersected(QRectF(0, 0, *self._size))
        if self._tool == "text":
            self._begin_label([round(visible.left() + visible.width() / 4),
                               round(centre.y())], None)
            return
        side = max(4.0, min(visible.width(), visible.height()) / 4)
        start = QPointF(centre.x() - side / 2, centre.y() - side / 2)
        end = QPointF(centre.x() + side / 2, centre.y() + side / 2)
        self._add_state(self._new_state(start, end))

    # ------------------------------------------------------------------ labels

    def _begin_label(self, pos: list[int | float], target: _TextItem | None) -> None:
        if self._entry.isVisible():
            self._commit_label()
        self._label_target = target
        self._label_pos = list(pos)
        # A one-line box: a label with several lines (made elsewhere) is shown joined,
        # and kept as it was unless its words are really changed.
        self._label_shown = (target.resting_state()["text"].replace("\n", " ") if target
                             else "")
        self._entry.setText(self._label_shown)
        # Typed at about the size the label will have, so its length can be judged.
        size = target.resting_state()["size"] if target else self._text_size
        self._entry.setFont(_label_font(min(48.0, max(13.0, size * self.zoom()))))
        where = self._canvas.mapFromScene(QPointF(float(pos[0]), float(pos[1])))
        self._entry.adjustSize()
        viewport = self._canvas.viewport().rect()
        x = min(max(where.x(), 0), max(0, viewport.width() - self._entry.width()))
        y = min(max(where.y(), 0), max(0, viewport.height() - self._entry.height()))
        self._entry.move(x, y)
        self._entry.show()
        self._entry.raise_()
        self._entry.setFocus(Qt.FocusReason.OtherFocusReason)

    def _commit_label(self) -> None:
        if self._label_pos is None:
            return
        text = self._entry.text().strip()
        target, pos = self._label_target, self._label_pos
        self._label_target = self._label_pos = None
        self._close_entry()
        if target is not None:
            before = target.resting_state()
            if not text:
                self._stack.push(_RemoveCommand(self, [target], self.tr("delete label")))
            elif text != self._label_shown.strip():
                self._stack.push(_ChangeCommand(self, [target], [before],
                                                [dict(before, text=text)], self.tr("change label")))
        elif text:
            self._add_state({"type": "text", "pos": pos, "text": text,
                             "color": self._colours["text"], "size": self._text_size})

    def _cancel_label(self) -> None:
        self._label_target = self._label_pos = None
        self._close_entry()

    def _close_entry(self) -> None:
        refocus = self._entry.hasFocus()
        self._entry.hide()
        self._entry.clear()
        if refocus:
            self._canvas.setFocus(Qt.FocusReason.OtherFocusReason)
