"""The annotation editor, driven the way a person would: mouse drags and keys.

The view is zoomed to 2x, so a test passes only if drags are turned into picture
pixels (a drag of 200 screen pixels is 100 picture pixels), not into screen ones.
"""

from __future__ import annotations

import ast
import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QLabel, QToolButton, QWidget
from pytestqt.qtbot import QtBot

from evidence_recorder.core import marks as ann
from evidence_recorder.core.errors import RefusedInput
from evidence_recorder.ui.editor import PALETTE, REDACTION_HINT, TOOLS, AnnotationEditor

WIDTH, HEIGHT = 300, 200
ZOOM = 2.0
Left = Qt.MouseButton.LeftButton
Ctrl = Qt.KeyboardModifier.ControlModifier
Shift = Qt.KeyboardModifier.ShiftModifier
Alt = Qt.KeyboardModifier.AltModifier


def _picture() -> Image.Image:
    image = Image.new("RGB", (WIDTH, HEIGHT))
    image.putdata([(x % 256 or 1, (y * 2) % 256 or 1, 90) for y in range(HEIGHT)
                   for x in range(WIDTH)])
    return image


@pytest.fixture(scope="module")
def original() -> bytes:
    out = io.BytesIO()
    _picture().save(out, "PNG")
    return out.getvalue()


class Hosts:
    """Makes editors inside plain host windows, as the app embeds them, and keeps the
    hosts alive for the test (``qtbot.addWidget`` only holds a weak reference).

    Shown on its own, a widget with a layout makes the offscreen platform warn that
    it "does not support propagateSizeHints()", which fails the run.
    """

    def __init__(self, qtbot: QtBot) -> None:
        self._qtbot = qtbot
        self._hosts: list[QWidget] = []

    def __call__(self, original: bytes, data: dict[str, Any] | None = None,
                 zoom: float | None = ZOOM, size: tuple[int, int] = (1100, 800)
                 ) -> AnnotationEditor:
        """``zoom=None`` leaves the editor as it opens (at "fit")."""
        qtbot = self._qtbot
        host = QWidget()
        self._hosts.append(host)
        qtbot.addWidget(host)
        editor = AnnotationEditor(original, data, parent=host)
        host.resize(*size)
        editor.setGeometry(0, 0, *size)
        host.show()
        qtbot.waitExposed(host)
        host.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is host)
        if zoom is not None:
            editor.set_zoom(zoom)
        editor.view().setFocus()
        return editor


@pytest.fixture
def make_editor(qtbot: QtBot) -> Hosts:
    return Hosts(qtbot)


@pytest.fixture
def editor(make_editor: Hosts, original: bytes) -> AnnotationEditor:
    return make_editor(original)


def at(editor: AnnotationEditor, x: float, y: float) -> QPoint:
    """The viewport point showing picture pixel (x, y)."""
    return editor.view().mapFromScene(QPointF(x, y))


def drag(qtbot: QtBot, editor: AnnotationEditor, start: tuple[float, float],
         end: tuple[float, float]) -> None:
    viewport = editor.view().viewport()
    a, b = at(editor, *start), at(editor, *end)
    qtbot.mousePress(viewport, Left, pos=a)
    qtbot.mouseMove(viewport, (a + b) / 2)
    qtbot.mouseMove(viewport, b)
    qtbot.mouseRelease(viewport, Left, pos=b)


def click(qtbot: QtBot, editor: AnnotationEditor, x: float, y: float) -> None:
    qtbot.mouseClick(editor.view().viewport(), Left, pos=at(editor, x, y))


def key(qtbot: QtBot, editor: AnnotationEditor, k: Qt.Key,
        modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(editor.view(), k, modifiers)


def items(editor: AnnotationEditor) -> list[dict[str, Any]]:
    return list(editor.annotations()["items"])


# --------------------------------------------------------------------------- drawing


def test_view_is_really_zoomed(editor: AnnotationEditor) -> None:
    assert editor.zoom() == pytest.approx(ZOOM)
    distance = at(editor, 110, 0) - at(editor, 10, 0)
    assert distance.x() == 200


@pytest.mark.parametrize("tool", ["highlight", "outline", "redact"])
def test_drawing_a_box(qtbot: QtBot, editor: AnnotationEditor, tool: str) -> None:
    editor.set_tool(tool)
    drag(qtbot, editor, (20, 30), (120, 80))
    stroke, _size = ann.default_sizes(WIDTH, HEIGHT)
    expected: dict[str, Any] = {"type": tool, "rect": [20, 30, 100, 50]}
    if tool == "highlight":
        expected["color"] = "#ffd60a"
    if tool == "outline":
        expected.update(color="#e5383b", width=stroke)
    assert items(editor) == [expected]


def test_dragging_up_and_left_makes_the_same_box(qtbot: QtBot,
                                                 editor: AnnotationEditor) -> None:
    editor.set_tool("redact")
    drag(qtbot, editor, (120, 80), (20, 30))
    assert items(editor) == [{"type": "redact", "rect": [20, 30, 100, 50]}]


def test_drawing_stays_on_the_picture(qtbot: QtBot, editor: AnnotationEditor) -> None:
    editor.set_tool("redact")
    viewport = editor.view().viewport()
    start, outside = at(editor, 250, 150), at(editor, WIDTH + 40, HEIGHT + 40)
    qtbot.mousePress(viewport, Left, pos=start)
    qtbot.mouseMove(viewport, outside)
    qtbot.mouseRelease(viewport, Left, pos=outside)
    assert items(editor) == [{"type": "redact", "rect": [250, 150, 50, 50]}]


def test_drawing_an_arrow(qtbot: QtBot, editor: AnnotationEditor) -> None:
    editor.set_tool("arrow")
    drag(qtbot, editor, (150, 100), (30, 20))
    stroke, _size = ann.default_sizes(WIDTH, HEIGHT)
    assert items(editor) == [{"type": "arrow", "from": [150, 100], "to": [30, 20],
                              "color": "#e5383b", "width": stroke}]


def test_placing_a_label(qtbot: QtBot, editor: AnnotationEditor) -> None:
    editor.set_tool("text")
    click(qtbot, editor, 40, 50)
    entry = editor.label_entry()
    assert entry.isVisible() and entry.hasFocus()
    qtbot.keyClicks(entry, "this is the threat")
    qtbot.keyClick(entry, Qt.Key.Key_Return)
    assert not entry.isVisible()
    _stroke, size = ann.default_sizes(WIDTH, HEIGHT)
    assert items(editor) == [{"type": "text", "pos": [40, 50], "text": "this is the threat",
                              "color": "#e5383b", "size": size}]


def test_typing_a_label_does_not_trigger_tool_shortcuts(qtbot: QtBot,
                                                        editor: AnnotationEditor) -> None:
    editor.set_tool("text")
    click(qtbot, editor, 40, 50)
    qtbot.keyClicks(editor.label_entry(), "Heart: VOTAR")
    assert editor.tool() == "text"
    qtbot.keyClick(editor.label_entry(), Qt.Key.Key_Enter)
    assert items(editor)[0]["text"] == "Heart: VOTAR"


def test_escape_discards_a_label_and_empty_labels_are_not_added(
        qtbot: QtBot, editor: AnnotationEditor) -> None:
    editor.set_tool("text")
    click(qtbot, editor, 40, 50)
    qtbot.keyClicks(editor.label_entry(), "never mind")
    qtbot.keyClick(editor.label_entry(), Qt.Key.Key_Escape)
    click(qtbot, editor, 60, 60)
    qtbot.keyClick(editor.label_entry(), Qt.Key.Key_Return)
    assert items(editor) == []
    assert not editor.undo_stack().canUndo()


def test_double_click_changes_a_labels_words(qtbot: QtBot, make_editor: Hosts,
                                             original: bytes) -> None:
    editor = make_editor(original, {"version": 1, "items": [
        {"type": "text", "pos": [40, 50], "text": "old", "color": "#e5383b", "size": 20}]})
    qtbot.mouseDClick(editor.view().viewport(), Left, pos=at(editor, 45, 58))
    entry = editor.label_entry()
    assert entry.isVisible() and entry.text() == "old"
    entry.selectAll()
    qtbot.keyClicks(entry, "new words")
    qtbot.keyClick(entry, Qt.Key.Key_Return)
    assert items(editor)[0]["text"] == "new words"
    editor.undo_stack().undo()
    assert items(editor)[0]["text"] == "old"


def test_a_click_is_not_a_shape(qtbot: QtBot, editor: AnnotationEditor) -> None:
    for tool in ("highlight", "outline", "arrow", "redact"):
        editor.set_tool(tool)
        click(qtbot, editor, 50, 50)
    assert items(editor) == []
    assert not editor.undo_stack().canUndo()


def test_colour_choice_applies_per_tool(qtbot: QtBot, editor: AnnotationEditor) -> None:
    editor.set_tool("outline")
    editor.action("colour:blue").trigger()
    drag(qtbot, editor, (10, 10), (60, 60))
    editor.set_tool("highlight")
    assert editor.colour() == "#ffd60a"  # highlights keep their own colour
    drag(qtbot, editor, (70, 10), (120, 60))
    assert [item["color"] for item in items(editor)] == ["#1d70b8", "#ffd60a"]
    editor.set_tool("redact")
    assert not editor.action("colour:red").isEnabled()  # a redaction is only black


def test_choosing_a_colour_recolours_the_selection(qtbot: QtBot,
                                                   editor: AnnotationEditor) -> None:
    editor.set_tool("outline")
    drag(qtbot, editor, (10, 10), (60, 60))  # a new shape is selected
    editor.set_tool("select")
    editor.set_colour("#2b9348")
    assert items(editor)[0]["color"] == "#2b9348"
    editor.undo_stack().undo()
    assert items(editor)[0]["color"] == "#e5383b"


# --------------------------------------------------------------------------- undo, delete, move


def test_undo_and_redo_with_the_keyboard(qtbot: QtBot, editor: AnnotationEditor) -> None:
    editor.set_tool("redact")
    drag(qtbot, editor, (10, 10), (50, 50))
    drag(qtbot, editor, (60, 60), (90, 90))
    assert len(items(editor)) == 2
    key(qtbot, editor, Qt.Key.Key_Z, Ctrl)
    assert items(editor) == [{"type": "redact", "rect": [10, 10, 40, 40]}]
    key(qtbot, editor, Qt.Key.Key_Z, Ctrl)
    assert items(editor) == []
    key(qtbot, editor, Qt.Key.Key_Z, Ctrl | Shift)
    assert len(items(editor)) == 1
    key(qtbot, editor, Qt.Key.Key_Y, Ctrl)
    assert items(editor)[1] == {"type": "redact", "rect": [60, 60, 30, 30]}
    assert not editor.action("redo").isEnabled()


def test_delete_key_removes_the_selected_annotation(qtbot: QtBot,
                                                    editor: AnnotationEditor) -> None:
    editor.set_tool("redact")
    drag(qtbot, editor, (10, 10), (50, 50))
    drag(qtbot, editor, (60, 60), (90, 90))
    drag(qtbot, editor, (100, 100), (140, 140))
    before = items(editor)
    editor.set_tool("select")
    click(qtbot, editor, 70, 70)
    assert editor.action("delete").isEnabled()
    key(qtbot, editor, Qt.Key.Key_Delete)
    assert items(editor) == [before[0], before[2]]
    editor.undo_stack().undo()
    assert items(editor) == before  # back in its place in the order


def test_moving_with_the_mouse_is_in_picture_pixels(qtbot: QtBot,
                                                    editor: AnnotationEditor) -> None:
    editor.set_tool("outline")
    drag(qtbot, editor, (20, 20), (80, 60))
    editor.set_tool("select")
    drag(qtbot, editor, (20, 40), (50, 50))  # grab the left edge, move 30 right, 10 down
    assert items(editor)[0]["rect"] == [50, 30, 60, 40]
    editor.undo_stack().undo()
    assert items(editor)[0]["rect"] == [20, 20, 60, 40]


def test_arrow_keys_nudge_and_resize_in_one_undo_step(qtbot: QtBot,
                                                      editor: AnnotationEditor) -> None:
    editor.set_tool("redact")
    drag(qtbot, editor, (20, 20), (80, 60))
    depth = editor.undo_stack().count()
    key(qtbot, editor, Qt.Key.Key_Right)
    key(qtbot, editor, Qt.Key.Key_Right, Shift)
    key(qtbot, editor, Qt.Key.Key_Up)
    assert items(editor)[0]["rect"] == [31, 19, 60, 40]
    assert editor.undo_stack().count() == depth + 1
    key(qtbot, editor, Qt.Key.Key_Down, Alt)
    key(qtbot, editor, Qt.Key.Key_Right, Alt)
    assert items(editor)[0]["rect"] == [31, 19, 61, 41]
    assert editor.undo_stack().count() == depth + 2  # the moves, then the resizes
    editor.undo_stack().undo()
    assert items(editor)[0]["rect"] == [31, 19, 60, 40]
    editor.undo_stack().undo()
    assert items(editor)[0]["rect"] == [20, 20, 60, 40]


def test_enter_places_a_shape_without_a_mouse(qtbot: QtBot, editor: AnnotationEditor) -> None:
    key(qtbot, editor, Qt.Key.Key_R)
    assert editor.tool() == "redact"
    key(qtbot, editor, Qt.Key.Key_Return)
    assert len(items(editor)) == 1 and items(editor)[0]["type"] == "redact"
    key(qtbot, editor, Qt.Key.Key_T)
    key(qtbot, editor, Qt.Key.Key_Return)
    assert editor.label_entry().isVisible()
    qtbot.keyClicks(editor.label_entry(), "typed")
    qtbot.keyClick(editor.label_entry(), Qt.Key.Key_Return)
    assert items(editor)[-1]["text"] == "typed"


@pytest.mark.parametrize(("letter", "tool"), [
    (Qt.Key.Key_H, "highlight"), (Qt.Key.Key_O, "outline"), (Qt.Key.Key_A, "arrow"),
    (Qt.Key.Key_T, "text"), (Qt.Key.Key_R, "redact"), (Qt.Key.Key_V, "select")])
def test_tool_shortcuts(qtbot: QtBot, editor: AnnotationEditor, letter: Qt.Key,
                        tool: str) -> None:
    if tool == "select":
        editor.set_tool("arrow")
    key(qtbot, editor, letter)
    assert editor.tool() == tool


# --------------------------------------------------------------------------- show original, zoom


def test_show_original_hides_every_annotation(make_editor: Hosts, original: bytes) -> None:
    data = ann.validate({"version": 1, "items": [
        {"type": "highlight", "rect": [0, 0, 50, 50]},
        {"type": "redact", "rect": [10, 10, 20, 20]},
        {"type": "text", "pos": [60, 60], "text": "label"}]})
    editor = make_editor(original, data)
    annotation_items = list(editor.view().scene().items())
    assert len(annotation_items) == 3 and all(i.isVisible() for i in annotation_items)
    editor.action("show-original").trigger()
    assert editor.showing_original()
    assert not any(i.isVisible() for i in annotation_items)
    assert editor.annotations() == data  # hidden, not deleted
    assert not editor.is_modified()
    grabbed = editor.view().viewport().grab().toImage()
    centre = at(editor, 20, 20)
    assert grabbed.pixelColor(centre).black() < 250  # the redacted spot shows the picture
    editor.set_tool("redact")  # starting to edit shows the annotations again
    assert not editor.showing_original()
    assert all(i.isVisible() for i in annotation_items)


def test_undo_while_showing_the_original_reveals_the_annotations(
        qtbot: QtBot, editor: AnnotationEditor) -> None:
    editor.set_tool("redact")
    drag(qtbot, editor, (10, 10), (50, 50))
    drag(qtbot, editor, (60, 60), (90, 90))
    editor.action("show-original").trigger()
    key(qtbot, editor, Qt.Key.Key_Z, Ctrl)
    assert not editor.showing_original()
    assert len(items(editor)) == 1


def test_zoom_shortcuts_and_wheel(qtbot: QtBot, editor: AnnotationEditor) -> None:
    key(qtbot, editor, Qt.Key.Key_Equal, Ctrl)
    assert editor.zoom() == pytest.approx(ZOOM * 1.25)
    key(qtbot, editor, Qt.Key.Key_Minus, Ctrl)
    key(qtbot, editor, Qt.Key.Key_Minus, Ctrl)
    assert editor.zoom() == pytest.approx(ZOOM / 1.25)
    key(qtbot, editor, Qt.Key.Key_0, Ctrl)
    fitted = editor.zoom()
    assert fitted == 1.0  # "Fit" never enlarges a picture smaller than the window
    # Zoomed in far enough to scroll: only then can a point stay under the mouse.
    editor.set_zoom(4.0)
    here = at(editor, 100, 100)
    wheel = QWheelEvent(QPointF(here), QPointF(editor.view().viewport().mapToGlobal(here)),
                        QPoint(), QPoint(0, 120), Qt.MouseButton.NoButton, Ctrl,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(editor.view().viewport(), wheel)
    assert editor.zoom() == pytest.approx(4.0 * 1.25)
    after = editor.view().mapToScene(here)
    assert abs(after.x() - 100) <= 1 and abs(after.y() - 100) <= 1  # zoomed about the mouse


# --------------------------------------------------------------------------- data in and out


def test_round_trip(make_editor: Hosts, original: bytes) -> None:
    data = {"version": 1, "items": [
        {"type": "highlight", "rect": [10.5, 12, 40, 20.25], "color": "#FFD60A"},
        {"type": "outline", "rect": [5, 40, 60, 30], "color": "#e5383b", "width": 4},
        {"type": "arrow", "from": [100, 70], "to": [70, 50], "color": "#1d70b8", "width": 3},
        {"type": "text", "pos": [62, 5], "text": "two\nlines", "color": "#e5383b",
         "size": 14},
        {"type": "redact", "rect": [20, 12, 30, 10]},
        {"type": "highlight", "rect": [0, 0, 5, 5], "color": "#2b9348"},
    ]}
    first = make_editor(original, data)
    assert first.annotations() == ann.validate(data)
    second = make_editor(original, first.annotations(), zoom=0.5)
    assert second.annotations() == first.annotations()
    assert not second.is_modified()


def test_modified_and_changed(qtbot: QtBot, editor: AnnotationEditor) -> None:
    assert not editor.is_modified()
    editor.set_tool("redact")
    with qtbot.waitSignal(editor.changed, timeout=1000):
        drag(qtbot, editor, (10, 10), (50, 50))
    assert editor.is_modified()
    with qtbot.waitSignal(editor.changed, timeout=1000):
        editor.mark_saved()
    assert not editor.is_modified()
    with qtbot.waitSignal(editor.changed, timeout=1000):
        editor.undo_stack().undo()
    assert editor.is_modified()
    editor.undo_stack().redo()
    assert not editor.is_modified()


def test_bad_annotations_are_refused(qtbot: QtBot, original: bytes) -> None:
    with pytest.raises(RefusedInput):
        AnnotationEditor(original, {"version": 1, "items": [{"type": "blur",
                                                             "rect": [0, 0, 5, 5]}]})


def test_sideways_photo_is_annotated_upright(qtbot: QtBot, make_editor: Hosts) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways, shown rotated
    out = io.BytesIO()
    Image.new("RGB", (80, 40), (200, 200, 200)).save(out, "JPEG", exif=exif)
    editor = make_editor(out.getvalue(), zoom=2.0)
    assert editor.view().sceneRect().size().toSize().toTuple() == (40, 80)
    editor.set_tool("redact")
    drag(qtbot, editor, (5, 60), (35, 78))
    rendered = Image.open(io.BytesIO(ann.render(out.getvalue(), editor.annotations())))
    assert rendered.size == (40, 80)
    assert rendered.getpixel((20, 70)) == (0, 0, 0)
    assert rendered.getpixel((20, 20)) != (0, 0, 0)


def test_rendered_redaction_from_the_editor_is_black(qtbot: QtBot, editor: AnnotationEditor,
                                                     original: bytes) -> None:
    editor.set_tool("highlight")
    drag(qtbot, editor, (0, 0), (200, 150))
    editor.set_tool("text")
    click(qtbot, editor, 50, 60)
    qtbot.keyClicks(editor.label_entry(), "WWWWWW")
    qtbot.keyClick(editor.label_entry(), Qt.Key.Key_Return)
    editor.set_tool("redact")
    drag(qtbot, editor, (40, 50), (140, 90))
    image = Image.open(io.BytesIO(ann.render(original, editor.annotations()))).convert("RGB")
    covered = image.crop((40, 50, 140, 90)).tobytes()
    assert covered == b"\x00" * len(covered)
    assert image.getpixel((39, 70)) != (0, 0, 0)
    assert image.getpixel((140, 70)) != (0, 0, 0)


# --------------------------------------------------------------------------- accessibility


def test_there_is_no_blur_or_pixelate_tool(editor: AnnotationEditor) -> None:
    assert TOOLS == ("select", "highlight", "outline", "arrow", "text", "redact")
    texts = " ".join(a.text() + a.toolTip() for a in editor.actions()).lower()
    assert "blur" not in texts and "pixel" not in texts
    with pytest.raises(ValueError, match="unknown"):
        editor.set_tool("blur")


def test_every_action_is_named_explained_and_reachable_by_tab(
        editor: AnnotationEditor) -> None:
    names = [f"tool:{t}" for t in TOOLS] + [f"colour:{n}" for n, _ in PALETTE] + [
        "undo", "redo", "delete", "show-original", "zoom-in", "zoom-out", "zoom-fit"]
    buttons = {b.defaultAction(): b for b in editor.findChildren(QToolButton)
               if b.defaultAction() is not None}
    for name in names:
        action = editor.action(name)
        assert action.toolTip() and action.text(), name
        button = buttons[action]
        assert button.accessibleName(), name
        assert button.focusPolicy() & Qt.FocusPolicy.TabFocus, name
    assert editor.action("tool:redact").toolTip().startswith(
        "Redact: cover with a solid black box")
    assert "colour" in editor.action("colour:red").toolTip().lower()
    assert editor.view().accessibleName()


def test_tab_walks_through_the_toolbar_to_the_picture(qtbot: QtBot,
                                                      editor: AnnotationEditor) -> None:
    editor.set_tool("redact")  # so that undo, redo and delete are enabled (and reachable)
    drag(qtbot, editor, (10, 10), (50, 50))
    drag(qtbot, editor, (60, 60), (90, 90))
    editor.undo_stack().undo()
    editor.set_tool("select")
    click(qtbot, editor, 20, 20)
    first = next(b for b in editor.findChildren(QToolButton)
                 if b.defaultAction() is editor.action("tool:select"))
    first.setFocus(Qt.FocusReason.TabFocusReason)
    seen = []
    for _ in range(40):
        widget = QApplication.focusWidget()
        seen.append(widget)
        if widget is editor.view():
            break
        qtbot.keyClick(widget, Qt.Key.Key_Tab)
    assert editor.view() in seen
    reached = {w.defaultAction().text() for w in seen if isinstance(w, QToolButton)
               and w.defaultAction() is not None}
    assert {"Select", "Highlight", "Box", "Arrow", "Label", "Redact", "Undo", "Redo",
            "Delete", "Show original"} <= reached


def test_redaction_hint_shows_the_first_time_only(qtbot: QtBot,
                                                  editor: AnnotationEditor) -> None:
    def hint_visible() -> bool:
        return any(label.isVisible() and label.text() == REDACTION_HINT
                   for label in editor.findChildren(QLabel))

    assert not hint_visible()
    editor.set_tool("redact")
    assert hint_visible()
    editor.set_tool("select")
    assert not hint_visible()
    editor.set_tool("redact")
    assert not hint_visible()


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 210, 220)).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize("size", [(1280, 720), (560, 480)])
def test_choosing_redact_does_not_move_the_picture(make_editor: Hosts,
                                                   size: tuple[int, int]) -> None:
    """The redaction notice used to push the picture down between aiming and dragging.

    In the narrow window the notice and the hints wrap onto more lines.
    """
    editor = make_editor(_png(1600, 1000), zoom=None, size=size)
    view = editor.view()
    corner, name = QPointF(0, 0), QPointF(800, 500)

    def where() -> tuple[QPoint, QPoint, float]:
        QApplication.processEvents()
        return (view.viewport().mapToGlobal(view.mapFromScene(corner)),
                view.viewport().mapToGlobal(view.mapFromScene(name)), editor.zoom())

    before = where()
    editor.set_tool("redact")
    assert any(label.text() == REDACTION_HINT and label.isVisible()
               for label in editor.findChildren(QLabel))  # the notice is really shown
    assert where() == before
    editor.action("show-original").trigger()  # the other notice
    assert where() == before
    editor.set_tool("select")  # the longest tool hint, and the notice cleared
    assert where() == before
    for tool in TOOLS:
        editor.set_tool(tool)
        assert where() == before, tool


def test_the_limit_notice_does_not_move_the_picture(
        qtbot: QtBot, make_editor: Hosts, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ann, "MAX_ITEMS", 1)
    editor = make_editor(_png(1600, 1000), {"version": 1, "items": [
        {"type": "redact", "rect": [0, 0, 5, 5]}]}, zoom=None, size=(1280, 720))
    editor.set_tool("outline")
    view = editor.view()
    QApplication.processEvents()
    before = view.viewport().mapToGlobal(view.mapFromScene(QPointF(800, 500)))
    drag(qtbot, editor, (100, 100), (300, 300))
    QApplication.processEvents()
    assert any("at most" in label.text() for label in editor.findChildren(QLabel))
    assert view.viewport().mapToGlobal(view.mapFromScene(QPointF(800, 500))) == before


def test_a_large_picture_opens_whole_in_the_window(make_editor: Hosts) -> None:
    editor = make_editor(_png(3000, 2000), zoom=None, size=(1280, 720))
    view = editor.view()
    assert editor.zoom() < 1.0
    shown = view.mapFromScene(QRectF(0, 0, 3000, 2000)).boundingRect()
    assert view.viewport().rect().contains(shown)
    # Fitted, not merely small: one side fills the viewport, give or take the margin.
    viewport = view.viewport().rect()
    assert max(shown.width() / viewport.width(), shown.height() / viewport.height()) > 0.98


def test_a_small_picture_opens_at_exactly_100_percent(make_editor: Hosts,
                                                      original: bytes) -> None:
    editor = make_editor(original, zoom=None, size=(1280, 720))
    assert editor.zoom() == 1.0
    editor.action("zoom-in").trigger()
    editor.action("zoom-fit").trigger()
    assert editor.zoom() == 1.0
    editor.window().resize(1400, 900)  # a bigger window does not enlarge it either
    QApplication.processEvents()
    assert editor.zoom() == 1.0


def test_a_multi_line_label_is_kept_unless_its_words_change(
        qtbot: QtBot, make_editor: Hosts, original: bytes) -> None:
    editor = make_editor(original, {"version": 1, "items": [
        {"type": "text", "pos": [40, 50], "text": "two\nlines", "color": "#e5383b",
         "size": 20}]})
    qtbot.mouseDClick(editor.view().viewport(), Left, pos=at(editor, 45, 58))
    assert editor.label_entry().text() == "two lines"
    qtbot.keyClick(editor.label_entry(), Qt.Key.Key_Return)
    assert items(editor)[0]["text"] == "two\nlines"
    assert not editor.is_modified()


def test_the_item_limit_is_kept(qtbot: QtBot, make_editor: Hosts, original: bytes,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    # A small limit: 2,000 real items would cost seconds of painting for nothing.
    monkeypatch.setattr(ann, "MAX_ITEMS", 5)
    full = {"version": 1, "items": [{"type": "redact", "rect": [i * 10, 0, 5, 5]}
                                    for i in range(5)]}
    editor = make_editor(original, full)
    editor.set_tool("redact")
    drag(qtbot, editor, (10, 10), (50, 50))
    assert len(items(editor)) == 5
    assert not editor.undo_stack().canUndo()
    assert any("at most" in label.text() and label.isVisible()
               for label in editor.findChildren(QLabel))


def test_the_editor_cannot_reach_the_vault() -> None:
    """It takes bytes and a dict and gives a dict: no vault, no SQL, no files."""
    import evidence_recorder.ui.editor as module

    # The editor is split over editor.py and its editor_*.py parts; all of them are checked.
    parts = sorted(Path(module.__file__).parent.glob("editor*.py"))
    assert len(parts) == 4
    imported: set[str | None] = set()
    for part in parts:
        tree = ast.parse(part.read_text(encoding="utf-8"))
        imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                     for alias in node.names}
    ours = {name for name in imported if name and name.startswith("evidence_recorder")}
    # core itself (annotations), the no-op marker that lets lupdate find its texts, and the
    # editor's own parts.
    assert ours == {"evidence_recorder.core", "evidence_recorder.core.i18n",
                    "evidence_recorder.ui.editor", "evidence_recorder.ui.editor_canvas",
                    "evidence_recorder.ui.editor_icons", "evidence_recorder.ui.editor_items"}
    assert not imported & {"sqlite3", "sqlcipher3", "tempfile", "pathlib", "os", "shutil"}
