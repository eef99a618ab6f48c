"""The region picker: mouse and keyboard selection, and logical-to-physical mapping."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import REPO
from PySide6.QtCore import QBuffer, QByteArray, QEvent, QIODevice, QPoint, Qt, QTimer
from PySide6.QtGui import QColor, QGuiApplication, QImage
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from evidence_recorder.ui.region import HINT_TEXT, RegionOverlay, select_region
from evidence_recorder.ui.region_geometry import ScreenArea, map_screens, physical_rect, size_text

LEFT = Qt.MouseButton.LeftButton
NONE = Qt.KeyboardModifier.NoModifier


def png_of(width: int, height: int, colour: str = "#8fb3d9") -> bytes:
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor(colour))
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    assert image.save(buffer, "PNG")
    return bytes(data.data())


def screen_rect() -> tuple[int, int, int, int]:
    screen = QGuiApplication.primaryScreen()
    assert screen is not None
    geo = screen.geometry()
    return (geo.x(), geo.y(), geo.width(), geo.height())


@pytest.fixture
def make_overlay(qtbot: QtBot) -> Callable[..., RegionOverlay]:
    """An overlay over the test screen, started, its monitors given as ``scale`` x the screen."""

    def make(scale: int = 1, offset: tuple[int, int] = (0, 0)) -> RegionOverlay:
        _x, _y, width, height = screen_rect()
        monitor = (offset[0], offset[1], width * scale, height * scale)
        overlay = RegionOverlay(png_of(width * scale, height * scale), [monitor])
        qtbot.addWidget(overlay)
        overlay.start()
        qtbot.waitExposed(overlay)
        return overlay

    return make


def drag(qtbot: QtBot, widget: RegionOverlay, start: QPoint, *moves: QPoint) -> None:
    qtbot.mousePress(widget, LEFT, NONE, start)
    for point in moves:
        qtbot.mouseMove(widget, point)
    qtbot.mouseRelease(widget, LEFT, NONE, moves[-1] if moves else start)


def double_click(qtbot: QtBot, widget: RegionOverlay, point: QPoint) -> None:
    """What a widget receives from a real double-click: press, release, double-click, release.

    ``QTest.mouseDClick`` alone sends only the double-click event.
    """
    qtbot.mouseClick(widget, LEFT, NONE, point)
    qtbot.mouseDClick(widget, LEFT, NONE, point)
    if widget.isVisible():
        qtbot.mouseRelease(widget, LEFT, NONE, point)


def drag_and_take(qtbot: QtBot, widget: RegionOverlay, start: QPoint, *moves: QPoint) -> None:
    """Draw a selection, then press Enter: releasing the mouse alone captures nothing."""
    drag(qtbot, widget, start, *moves)
    qtbot.keyClick(widget, Qt.Key.Key_Return)


# --- mouse ---------------------------------------------------------------------------


def test_drag_emits_the_physical_rectangle(qtbot: QtBot, make_overlay: Callable[..., RegionOverlay]
                                           ) -> None:
    overlay = make_overlay()
    with qtbot.waitSignal(overlay.selected, timeout=1000) as blocker:
        drag_and_take(qtbot, overlay, QPoint(100, 100), QPoint(200, 180), QPoint(300, 250))
    assert blocker.args == [(100, 100, 200, 150)]
    assert not overlay.isVisible()


def test_drag_in_any_direction_gives_the_same_rectangle(
        qtbot: QtBot, make_overlay: Callable[..., RegionOverlay]) -> None:
    overlay = make_overlay()
    with qtbot.waitSignal(overlay.selected, timeout=1000) as blocker:
        drag_and_take(qtbot, overlay, QPoint(300, 250), QPoint(100, 100))
    assert blocker.args == [(100, 100, 200, 150)]


def test_monitor_left_of_the_origin_gives_negative_coordinates(
        qtbot: QtBot, make_overlay: Callable[..., RegionOverlay]) -> None:
    """The result is in mss's coordinates, which start left of zero here."""
    width = screen_rect()[2]
    overlay = make_overlay(offset=(-width, 0))
    with qtbot.waitSignal(overlay.selected, timeout=1000) as blocker:
        drag_and_take(qtbot, overlay, QPoint(100, 100), QPoint(300, 250))
    assert blocker.args == [(100 - width, 100, 200, 150)]


def test_picture_twice_the_screen_scales_the_rectangle(
        qtbot: QtBot, make_overlay: Callable[..., RegionOverlay]) -> None:
    """Monitors twice the logical size: one logical pixel is two physical ones."""
    overlay = make_overlay(scale=2)
    with qtbot.waitSignal(overlay.selected, timeout=1000) as blocker:
        drag_and_take(qtbot, overlay, QPoint(100, 100), QPoint(300, 250))
    assert blocker.args == [(200, 200, 400, 300)]


def test_click_without_drag_emits_nothing(qtbot: QtBot,
                                          make_overlay: Callable[..., RegionOverlay]) -> None:
    overlay = make_overlay()
    with qtbot.assertNotEmitted(overlay.selected), qtbot.assertNotEmitted(overlay.cancelled):
        qtbot.mouseClick(overlay, LEFT, NONE, QPoint(120, 120))
        drag(qtbot, overlay, QPoint(200, 200), QPoint(202, 230))  # 2 px wide: a shaky click
    assert overlay.isVisible()
    assert overlay.selection is None


def test_small_drag_keeps_an_earlier_keyboard_selection(
        qtbot: QtBot, make_overlay: Callable[..., RegionOverlay]) -> None:
    overlay = make_overlay()
    qtbot.keyClick(overlay, Qt.Key.Key_Right)
    before = overlay.selection
    assert before is not None
    with qtbot.assertNotEmitted(overlay.selected):
        qtbot.mouseClick(overlay, LEFT, NONE, QPoint(50, 50))
    assert overlay.selection == before


# --- adjusting before taking ---------------------------------------------------------


def test_release_leaves_the_selection_to_adjust(
        qtbot: QtBot, make_overlay: Callable[..., RegionOverlay]) -> None:
    """Releasing the mouse captures nothing: the rectangle stays, with its handles."""
    overlay = make_overlay()
    with qtbot.assertNotEmitted(overlay.selected), qtbot.assertNotEmitted(overlay.cancelled):
        drag(qtbot, overlay, QPoint(100, 100), QPoint(200, 180), QPoint(300, 250))
        qtbot.wait(20)
    assert overlay.isVisible()
    assert overlay.selection == ScreenArea(100, 100, 200, 150)
    assert overlay.adjustable
    picture = overlay.grab().toImage()
    # A white handle square sits on each corner and on the middle of each side.
    for x, y in ((99, 99), (200, 99), (300, 99), (300, 175), (300, 250), (200, 250),
                 (99, 250), (99, 175)):
        assert picture.pixelColor(x, y).rgb() == QColor(255, 255, 255).rgb(), (x, y)
    qtbot.keyClick(overlay, Qt.Key.Key_Escape)


def test_enter_takes_the_adjusted_rectangle(
        qtbot: QtBot, make_overlay: Callable[..., RegionOverlay]) -> None:
    overlay = make_overlay()
    drag(qtbot, overlay, QPoint(100, 100), QPoint(300, 250))
    # The bottom-right handle: the top-left corner stays where it was.
    drag(qtbot, overlay, QPoint(300, 250), QPoint(330, 270), QPoint(350, 300))
    assert overlay.selection == ScreenArea(100, 100, 250, 200)
    # The left edge, grabbed at its middle handle.
    drag(qtbot, overlay, QPoint(100, 200), QPoint(60, 210))
    assert overlay.selection == ScreenArea(60, 100, 290, 200)
    # The top edge, grabbed away from its handle.
    drag(qtbot, overlay, QPoint(80, 101), QPoint(80, 121))
    assert overlay.selection == ScreenArea(60, 120, 290, 180)
    with qtbot.waitSignal(overlay.selected, timeout=1000) as blocker:
        qtbot.keyClick(overlay, Qt.Key.Key_Enter)
    assert blocker.args == [(60, 120, 290, 180)]
    assert not overlay.isVisible()


def test_adjusting_on_a_hidpi_screen_works_in_physical_pixels(
        qtbot: QtBot, make_overlay: Callable[..., RegionOverlay]) -> None:
    """Handles are found where they are drawn (logical), and move the edge in physical pixels."""
    overlay = make_overlay(scale=2)
    drag(qtbot, overlay, QPoint(100, 100), QPoint(300, 250))
    assert overlay.selection == ScreenArea(200, 200, 400, 300)
    drag(qtbot, overlay, QPoint(300, 250), QPoint(350, 300))
    drag(qtbot, overlay, QPoint(150, 150), QPoint(160, 150))
    with qtbot.waitSignal(overlay.selected, timeout=1000) as blocker:
        qtbot.keyClick(overlay, Qt.Key.Key_Return)
    assert blocker.args == [(220, 200, 500, 400)]


def test_dragging_inside_moves_the_selection(
        qtbot: QtBot, make_overlay: Callable[..., RegionOverlay]) -> None:
    overlay = make_overlay()
    drag(qtbot, overlay, QPoint(100, 100), QPoint(300, 250))
    drag(qtbot, overlay, QPoint(150, 150), QPoint(160, 170), QPoint(190, 130))
    assert overlay.selection == ScreenArea(140, 80, 200, 150)
    # It cannot be pushed off the desktop.
    drag(qtbot, overlay, QPoint(200, 150), QPoint(-500, -500))
    assert overlay.selection == ScreenArea(0, 0, 200, 150)
    with qtbot.waitSignal(overlay.selected, timeout=1000) as blocker:
        qtbot.keyClick(overlay, Qt.Key.Key_Return)
    assert blocker.args == [(0, 0, 200, 150)]


def test_a_handle_dragged_past_the_opposite_edge_flips(
        qtbot: QtBot, make_overlay: Callable[..., RegionOverlay]) -> None:
    overlay = make_overlay()
    drag(qtbot, overlay, QPoint(100, 100), QPoint(300, 250))
    drag(qtbot, overlay, QPoint(300, 250), QPoint(50, 60))
    assert overlay.selection == ScreenArea(50, 60, 50, 40)
    qtbot.keyClick(overlay, Qt.Key.Key_Escape)


def test_double_click_inside_takes_the_selection(
        qtbot: QtBot, make_overlay: Callable[..., RegionOverlay]) -> None:
    overlay = make_overlay()
    drag(qtbot, overlay, QPoint(100, 100), QPoint(300, 250))
    with qtbot.waitSignal(overlay.selected, timeout=1000) as blocker:
        double_click(qtbot, overlay, QPoint(200, 170))
    assert blocker.args == [(100, 100, 200, 150)]
    assert not overlay.isVisible()


def test_double_click_outside_takes_nothing(
        qtbot: QtBot, make_overlay: Callable[..., RegionOverlay]) -> None:
    overlay = make_overlay()
    drag(qtbot, overlay, QPoint(100, 100), QPoint(300, 250))
    with qtbot.assertNotEmitted(overlay.selected):
        double_click(qtbot, overlay, QPoint(500, 500))
        qtbot.wait(20)
    assert overlay.isVisible()
    assert overlay.selection == ScreenArea(100, 100, 200, 150)
    qtbot.keyClick(overlay, Qt.Key.Key_Escape)


def test_escape_after_release_cancels(
        qtbot: QtBot, make_overlay: Callable[..., RegionOverlay]) -> None:
    overlay = make_overlay()
    drag(qtbot, overlay, QPoint(100, 100), QPoint(300, 250))
    with qtbot.waitSignal(overlay.cancelled, timeout=1000), \
            qtbot.assertNotEmitted(overlay.selected):
        qtbot.keyClick(overlay, Qt.Key.Key_Escape)
    assert not overlay.isVisible()


def test_a_drag_outside_the_selection_starts_a_new_one(
        qtbot: QtBot, make_overlay: Callable[..., RegionOverlay]) -> None:
    overlay = make_overlay()
    drag(qtbot, overlay, QPoint(100, 100), QPoint(300, 250))
    drag(qtbot, overlay, QPoint(400, 300), QPoint(500, 420))
    assert overlay.selection == ScreenArea(400, 300, 100, 120)
    # A plain click outside keeps what was there.
    qtbot.mouseClick(overlay, LEFT, NONE, QPoint(20, 500))
    assert overlay.selection == ScreenArea(400, 300, 100, 120)
    qtbot.keyClick(overlay, Qt.Key.Key_Escape)


def test_cursor_shows_what_a_drag_would_do(
        qtbot: QtBot, make_overlay: Callable[..., RegionOverlay]) -> None:
    overlay = make_overlay()
    drag(qtbot, overlay, QPoint(100, 100), QPoint(300, 250))
    shapes = Qt.CursorShape
    for point, shape in ((QPoint(100, 100), shapes.SizeFDiagCursor),
                         (QPoint(300, 250), shapes.SizeFDiagCursor),
                         (QPoint(300, 100), shapes.SizeBDiagCursor),
                         (QPoint(100, 250), shapes.SizeBDiagCursor),
                         (QPoint(100, 180), shapes.SizeHorCursor),
                         (QPoint(301, 130), shapes.SizeHorCursor),
                         (QPoint(150, 99), shapes.SizeVerCursor),
                         (QPoint(250, 251), shapes.SizeVerCursor),
                         (QPoint(200, 170), shapes.SizeAllCursor),
                         (QPoint(500, 500), shapes.CrossCursor)):
        qtbot.mouseMove(overlay, point)
        assert overlay.cursor().shape() == shape, (point, shape)
    qtbot.keyClick(overlay, Qt.Key.Key_Escape)


def test_hint_says_how_to_adjust_and_take() -> None:
    assert "Enter or double-click to capture" in HINT_TEXT
    assert "adjust" in HINT_TEXT and "Esc to cancel" in HINT_TEXT


# --- keyboard ------------------------------------------------------------------------


def test_escape_cancels(qtbot: QtBot, make_overlay: Callable[..., RegionOverlay]) -> None:
    overlay = make_overlay()
    with qtbot.waitSignal(overlay.cancelled, timeout=1000), \
            qtbot.assertNotEmitted(overlay.selected):
        qtbot.keyClick(overlay, Qt.Key.Key_Escape)
    assert not overlay.isVisible()


def test_escape_during_a_drag_cancels(qtbot: QtBot,
                                      make_overlay: Callable[..., RegionOverlay]) -> None:
    overlay = make_overlay()
    qtbot.mousePress(overlay, LEFT, NONE, QPoint(10, 10))
    qtbot.mouseMove(overlay, QPoint(200, 200))
    with qtbot.waitSignal(overlay.cancelled, timeout=1000), \
            qtbot.assertNotEmitted(overlay.selected):
        qtbot.keyClick(overlay, Qt.Key.Key_Escape)
        qtbot.mouseRelease(overlay, LEFT, NONE, QPoint(200, 200))


def test_enter_accepts_the_current_selection(
        qtbot: QtBot, make_overlay: Callable[..., RegionOverlay]) -> None:
    overlay = make_overlay()
    qtbot.mousePress(overlay, LEFT, NONE, QPoint(40, 60))
    qtbot.mouseMove(overlay, QPoint(140, 110))
    with qtbot.waitSignal(overlay.selected, timeout=1000) as blocker:
        qtbot.keyClick(overlay, Qt.Key.Key_Return)
    assert blocker.args == [(40, 60, 100, 50)]


def test_enter_without_a_selection_does_nothing(
        qtbot: QtBot, make_overlay: Callable[..., RegionOverlay]) -> None:
    overlay = make_overlay()
    with qtbot.assertNotEmitted(overlay.selected):
        qtbot.keyClick(overlay, Qt.Key.Key_Enter)
    assert overlay.isVisible()


def test_arrow_keys_nudge_by_one_or_ten_pixels(
        qtbot: QtBot, make_overlay: Callable[..., RegionOverlay]) -> None:
    overlay = make_overlay()
    _x, _y, width, height = screen_rect()
    qtbot.keyClick(overlay, Qt.Key.Key_Down)  # no selection yet: the middle of the screen
    start = overlay.selection
    assert start == ScreenArea(round(width / 4), round(height / 4),
                               round(width / 2), round(height / 2))
    qtbot.keyClick(overlay, Qt.Key.Key_Right)
    qtbot.keyClick(overlay, Qt.Key.Key_Down)
    qtbot.keyClick(overlay, Qt.Key.Key_Left, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(overlay, Qt.Key.Key_Up, Qt.KeyboardModifier.ShiftModifier)
    assert overlay.selection == ScreenArea(start.left + 1 - 10, start.top + 1 - 10,
                                           start.width, start.height)
    qtbot.keyClick(overlay, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(overlay, Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)
    moved = ScreenArea(start.left - 9, start.top - 9, start.width + 1, start.height - 10)
    assert overlay.selection == moved
    with qtbot.waitSignal(overlay.selected, timeout=1000) as blocker:
        qtbot.keyClick(overlay, Qt.Key.Key_Enter)
    assert blocker.args == [moved.as_tuple()]


def test_nudging_stops_at_the_edge_of_the_desktop(
        qtbot: QtBot, make_overlay: Callable[..., RegionOverlay]) -> None:
    overlay = make_overlay()
    qtbot.keyClick(overlay, Qt.Key.Key_Left)
    size = overlay.selection
    assert size is not None
    for _ in range(100):
        qtbot.keyClick(overlay, Qt.Key.Key_Left, Qt.KeyboardModifier.ShiftModifier)
        qtbot.keyClick(overlay, Qt.Key.Key_Up, Qt.KeyboardModifier.ShiftModifier)
    assert overlay.selection == ScreenArea(0, 0, size.width, size.height)


# --- what is shown ---------------------------------------------------------------------


def test_selection_is_shown_undimmed_with_its_size(
        qtbot: QtBot, make_overlay: Callable[..., RegionOverlay]) -> None:
    overlay = make_overlay()
    qtbot.mousePress(overlay, LEFT, NONE, QPoint(100, 100))
    qtbot.mouseMove(overlay, QPoint(400, 300))
    picture = overlay.grab().toImage()
    original = QColor("#8fb3d9")
    inside = picture.pixelColor(250, 200)
    outside = picture.pixelColor(600, 600)
    assert inside.rgb() == original.rgb()
    assert outside.value() < original.value() * 0.6
    assert size_text(overlay.selection or ScreenArea(0, 0, 0, 0)) == "300 \u00d7 200"
    assert overlay.cursor().shape() == Qt.CursorShape.CrossCursor
    assert HINT_TEXT in overlay.accessibleDescription()
    qtbot.keyClick(overlay, Qt.Key.Key_Escape)


def test_frozen_picture_must_be_a_picture(qtbot: QtBot) -> None:
    with pytest.raises(ValueError, match="not a picture"):
        RegionOverlay(b"not a png", [(0, 0, 10, 10)])
    with pytest.raises(ValueError, match="monitor"):
        RegionOverlay(png_of(4, 4), [])


# --- select_region ---------------------------------------------------------------------


def _visible_overlay() -> RegionOverlay:
    return next(w for w in QApplication.topLevelWidgets()
                if isinstance(w, RegionOverlay) and w.isVisible())


def _overlays() -> set[int]:
    return {id(w) for w in QApplication.topLevelWidgets() if isinstance(w, RegionOverlay)}


@pytest.fixture
def no_overlay_left() -> Iterator[None]:
    """select_region cleans up after itself: no window is left over the screen."""
    before = _overlays()
    yield
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert _overlays() <= before


@pytest.mark.usefixtures("no_overlay_left")
def test_select_region_returns_the_rectangle(qtbot: QtBot) -> None:
    _x, _y, width, height = screen_rect()

    def user() -> None:
        overlay = _visible_overlay()
        drag_and_take(qtbot, overlay, QPoint(10, 20), QPoint(60, 70))

    QTimer.singleShot(0, user)
    assert select_region(png_of(width, height), [(0, 0, width, height)]) == (10, 20, 50, 50)


@pytest.mark.usefixtures("no_overlay_left")
def test_select_region_returns_none_when_cancelled(qtbot: QtBot) -> None:
    _x, _y, width, height = screen_rect()
    QTimer.singleShot(0, lambda: qtbot.keyClick(_visible_overlay(), Qt.Key.Key_Escape))
    assert select_region(png_of(width, height), [(0, 0, width, height)]) is None


# --- the mapping, without screens --------------------------------------------------------


def test_mapping_at_device_pixel_ratio_two() -> None:
    layout = map_screens([(ScreenArea(0, 0, 960, 540), 2.0)], [ScreenArea(0, 0, 1920, 1080)])
    assert layout.paired
    assert layout.to_physical(100, 50) == (200, 100)
    assert layout.to_physical(960, 540) == (1920, 1080)
    assert layout.maps[0].to_logical(200, 100) == (100, 50)
    assert physical_rect(layout.to_physical(10.5, 20), layout.to_physical(110.5, 70)) == \
        ScreenArea(21, 40, 200, 100)


def test_mapping_two_monitors_at_different_scales() -> None:
    """A 1080p monitor at 100 % and a 1440p one at 200 % on its right, mss listing it first."""
    screens = [(ScreenArea(0, 0, 1920, 1080), 1.0), (ScreenArea(1920, 0, 1280, 720), 2.0)]
    monitors = [ScreenArea(1920, 0, 2560, 1440), ScreenArea(0, 0, 1920, 1080)]
    layout = map_screens(screens, monitors)
    assert layout.paired
    assert layout.desktop == ScreenArea(0, 0, 4480, 1440)
    assert layout.to_physical(100, 100) == (100, 100)
    assert layout.to_physical(2000, 100) == (2080, 200)
    assert layout.to_physical(3200, 720) == (4480, 1440)
    # A drag from one monitor to the other.
    assert physical_rect(layout.to_physical(1800, 50), layout.to_physical(2000, 150)) == \
        ScreenArea(1800, 50, 280, 250)
    # Points off every screen (Windows leaves gaps) go to the nearest one, then the desktop.
    assert layout.to_physical(5000, -30) == (4480, 0)


def test_mapping_fractional_scale_and_a_monitor_above() -> None:
    screens = [(ScreenArea(0, 0, 1707, 960), 1.5), (ScreenArea(0, -1080, 1920, 1080), 1.0)]
    monitors = [ScreenArea(0, -1080, 1920, 1080), ScreenArea(0, 0, 2560, 1440)]
    layout = map_screens(screens, monitors)
    assert layout.paired
    x, y = layout.to_physical(1707, 960)
    assert (x, y) == (2560, 1440)
    assert layout.to_physical(10, -1000) == (10, -1000)


def test_mapping_in_points_as_on_macos() -> None:
    """mss measures in points on macOS, like Qt, so the scale is 1 whatever the ratio."""
    layout = map_screens([(ScreenArea(0, 0, 1440, 900), 2.0)], [ScreenArea(0, 0, 1440, 900)])
    assert layout.paired
    assert layout.to_physical(100, 50) == (100, 50)


def test_mapping_falls_back_to_one_scale_when_counts_differ() -> None:
    # Mirrored displays: Qt sees one screen, mss two monitors in the same place.
    layout = map_screens([(ScreenArea(0, 0, 960, 540), 2.0)],
                         [ScreenArea(0, 0, 1920, 1080), ScreenArea(0, 0, 1920, 1080)])
    assert not layout.paired
    assert layout.to_physical(100, 50) == (200, 100)
    # Shapes that do not agree: the primary screen's ratio is the best guess.
    layout = map_screens([(ScreenArea(0, 0, 1000, 1000), 1.25)],
                         [ScreenArea(0, 0, 1920, 1080), ScreenArea(1920, 0, 1920, 1080)])
    assert not layout.paired
    assert layout.to_physical(100, 100) == (125, 125)


def test_mapping_refuses_an_implausible_pairing() -> None:
    """Same count but sizes that fit neither the ratio nor points: pairing is wrong."""
    layout = map_screens([(ScreenArea(0, 0, 800, 600), 1.0), (ScreenArea(800, 0, 800, 600), 1.0)],
                         [ScreenArea(0, 0, 1280, 1024), ScreenArea(1280, 0, 1920, 1080)])
    assert not layout.paired
    assert len(layout.maps) == 2


def test_mapping_needs_screens_and_monitors() -> None:
    with pytest.raises(ValueError, match="at least one"):
        map_screens([], [ScreenArea(0, 0, 1, 1)])


# --- real windows on two screens at different scales ------------------------------------

_TWO_SCREENS = textwrap.dedent("""
    import json, sys
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QImage
    from evidence_recorder.ui.region import RegionOverlay
    image = QImage(3200, 1080, QImage.Format.Format_RGB32)
    image.fill(0x8FB3D9)
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    monitors = [(1280, 0, 1920, 1080), (0, 0, 1280, 800)]
    overlay = RegionOverlay(bytes(data.data()), monitors)
    chosen = []
    overlay.selected.connect(chosen.append)
    overlay.start()
    panes = overlay._panes
    report = {"screens": [[s.geometry().getRect(), s.devicePixelRatio()] for s in app.screens()],
              "panes": [list(p.geometry().getRect()) for p in panes],
              "paired": overlay.layout_map.paired}
    # Press on the 100 % screen, release on the 200 % one: the mouse stays grabbed by
    # the first window, so the release arrives there at a position past its edge.
    L, N = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    QTest.mousePress(panes[0], L, N, QPoint(1000, 300))
    QTest.mouseMove(panes[0], QPoint(1480, 100))
    sel = overlay.selection
    report["during"] = [sel.left, sel.top, sel.width, sel.height]
    QTest.mouseRelease(panes[0], L, N, QPoint(1480, 100))
    report["after_release"] = [list(c) for c in chosen]
    QTest.keyClick(panes[0], Qt.Key.Key_Return)
    report["chosen"] = [list(c) for c in chosen]
    report["hidden"] = [not p.isVisible() for p in panes]
    print(json.dumps(report))
""")


def test_two_screens_at_different_scales(tmp_path: Path) -> None:
    config = tmp_path / "screens.json"
    config.write_text(json.dumps({"screens": [
        {"name": "left", "x": 0, "y": 0, "width": 1280, "height": 800,
         "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1},
        {"name": "right", "x": 1280, "y": 0, "width": 960, "height": 540,
         "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 2},
    ]}))
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={config}")
    done = subprocess.run([sys.executable, "-c", _TWO_SCREENS], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["screens"] == [[[0, 0, 1280, 800], 1.0], [[1280, 0, 960, 540], 2.0]]
    assert report["paired"] is True
    assert report["panes"] == [[0, 0, 1280, 800], [1280, 0, 960, 540]]
    # 1000..1280 on the left screen, then 200 logical = 400 physical pixels on the right.
    assert report["during"] == [1000, 200, 680, 100]
    assert report["after_release"] == []  # releasing leaves it to adjust
    assert report["chosen"] == [[1000, 200, 680, 100]]
    assert report["hidden"] == [True, True]
    assert "Warning" not in done.stderr and "QWidget" not in done.stderr, done.stderr
