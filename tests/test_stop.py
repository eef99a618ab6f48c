"""The child-protection stop (policy 4.7.3) stays in sight: at every window width down to
the narrowest, at 200 % scaling, red in the menus, in the main window and the bundle
viewer; and it opens the advice, capturing nothing.

Geometry, not pixels, for the toolbar: the red button's rectangle must lie inside its
toolbar, the toolbar inside the window, and no overflow chevron may hide it. The menus
are checked from a grab, since only the drawn pixels say whether an item is red.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QAccessible, QColor
from PySide6.QtWidgets import QApplication, QMainWindow, QMenu, QPushButton, QToolBar, QToolButton

from evidence_recorder.ui import theme
from evidence_recorder.ui.guide import ChildProtectionDialog, child_protection_title

REPO = Path(__file__).resolve().parent.parent
NARROWEST = 200  # asked for; the window stops at its own smallest width
WIDTHS = (1280, 1100, 960, 880, NARROWEST)
RED, DARKER_RED = QColor("#b3261e"), QColor("#8c1d18")  # the stop, and the stop chosen


def _main_window(folder: Path) -> QMainWindow:
    from conftest import FAST_KDF

    from evidence_recorder.core.settings import Settings
    from evidence_recorder.ui.main_window import MainWindow
    from evidence_recorder.ui.session import VaultSession

    return MainWindow(VaultSession(folder / "vault", FAST_KDF), Settings(folder / "s.json"))


def _viewer(_folder: Path) -> QMainWindow:
    from evidence_recorder.ui.bundle_viewer import BundleViewer

    return BundleViewer()


WINDOWS = {"main": _main_window, "viewer": _viewer}


def _rect(rect: QRect) -> list[int]:
    return [rect.x(), rect.y(), rect.width(), rect.height()]


def measure(window: QMainWindow, width: int) -> dict[str, Any]:
    """Where the red button is, in the window's own (logical) pixels, at ``width``."""
    window.resize(width, 720)
    window.show()
    QApplication.processEvents()
    button = window.findChild(QPushButton, "childProtectionStop")
    assert button is not None, "no red stop in this window"
    bar = button.parentWidget()
    chevrons = bar.findChildren(QToolButton, "qt_toolbar_ext_button")
    return {
        "window": _rect(window.rect()),
        "smallest": window.minimumSizeHint().width(),
        "ratio": window.devicePixelRatioF(),
        "button": _rect(QRect(button.mapTo(window, QPoint(0, 0)), button.size())),
        "needs": button.sizeHint().width(),
        "visible": button.isVisible(),
        "in_toolbar": isinstance(bar, QToolBar),
        "bar": _rect(QRect(bar.mapTo(window, QPoint(0, 0)), bar.size())),
        "bar_visible": bar.isVisible(),
        "chevron_shown": any(chevron.isVisible() for chevron in chevrons),
    }


def check(seen: dict[str, Any], width: int) -> None:
    window, button, bar = (QRect(*seen[key]) for key in ("window", "button", "bar"))
    assert seen["visible"], f"the red stop is hidden at {width} px"
    assert seen["in_toolbar"] and seen["bar_visible"]
    assert not seen["chevron_shown"], "the red stop sits behind an overflow chevron"
    assert bar.contains(button), f"the red stop {button} spills out of its toolbar {bar}"
    assert window.contains(bar), f"the toolbar {bar} spills out of the window {window}"
    assert button.width() >= seen["needs"], "the red stop is squeezed: its words are cut"
    if width == NARROWEST:
        assert window.width() == seen["smallest"]  # the narrowest the window goes


def test_the_red_stop_is_in_sight_at_every_width(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    for build in WINDOWS.values():
        window = build(tmp_path)
        qtbot.addWidget(window)
        for width in WIDTHS:
            seen = measure(window, width)
            assert seen["ratio"] == 1
            check(seen, width)
        window.close()


def test_the_red_stop_is_in_sight_at_200_percent(tmp_path: Path) -> None:
    env = dict(os.environ, QT_SCALE_FACTOR="2", QT_QPA_PLATFORM="offscreen",
               PYTHONPATH=os.pathsep.join([str(REPO), str(REPO / "tests")]))
    child = subprocess.run([sys.executable, str(Path(__file__)), str(tmp_path)], env=env,
                           capture_output=True, text=True, timeout=120, check=False)
    assert child.returncode == 0, child.stderr
    results = json.loads(child.stdout.splitlines()[-1])
    assert {(name, width) for name, width, _seen in results} == {
        (name, width) for name in WINDOWS for width in WIDTHS}
    for _name, width, seen in results:
        assert seen["ratio"] == 2  # really drawn at 200 %: 1280 x 720 is 2560 x 1440 pixels
        check(seen, width)


def _red_share(menu: QMenu, rect: QRect) -> tuple[float, bool]:
    """How much of ``rect`` in ``menu`` is the stop red, and whether white text is on it."""
    image = menu.grab().toImage()
    ratio = image.devicePixelRatio()
    red = RED.rgb()
    reds = whites = total = 0
    for x in range(rect.left() + 1, rect.right(), 2):
        for y in range(rect.top() + 1, rect.bottom()):
            pixel = image.pixel(round(x * ratio), round(y * ratio))
            total += 1
            reds += pixel == red
            whites += QColor(pixel).lightness() > 240
    return reds / total, whites > 0


def test_the_stop_is_red_in_the_menus(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    for build in WINDOWS.values():
        window = build(tmp_path)
        qtbot.addWidget(window)
        window.show()
        stop = window.act_stop  # type: ignore[attr-defined]
        menus = [action.menu() for action in window.menuBar().actions()
                 if isinstance(action.menu(), QMenu) and stop in action.menu().actions()]
        assert menus, "the stop is in no menu"
        for menu in menus:
            menu.popup(window.mapToGlobal(QPoint(10, 10)))
            try:
                qtbot.waitUntil(menu.isVisible)
                share, white_text = _red_share(menu, menu.actionGeometry(stop))
                assert share > 0.6 and white_text, f"the stop is not red in {menu.title()}"
                other = next(action for action in menu.actions()
                             if action is not stop and not action.isSeparator())
                assert _red_share(menu, menu.actionGeometry(other))[0] == 0  # only the stop
                menu.setActiveAction(stop)  # hovered or chosen with the keyboard: still red
                image = menu.grab().toImage()
                corner = menu.actionGeometry(stop).topLeft() + QPoint(2, 2)
                assert image.pixel(corner * image.devicePixelRatio()) == DARKER_RED.rgb()
            finally:
                menu.close()
        window.close()


def test_the_red_stop_reads_and_is_named(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert theme.stop_colours() == (RED, QColor("white"))
    assert theme.stop_colours(pressed=True) == (DARKER_RED, QColor("white"))
    for back in (RED, DARKER_RED):
        assert theme.contrast(QColor("white"), back) >= theme.AA_TEXT
    window = _main_window(tmp_path)
    qtbot.addWidget(window)
    button = window.findChild(QPushButton, "childProtectionStop")
    assert QAccessible.queryAccessibleInterface(button).text(
        QAccessible.Text.Name) == child_protection_title()
    assert button.focusPolicy() & Qt.FocusPolicy.TabFocus  # reachable from the keyboard
    bar = button.parentWidget()
    assert isinstance(bar, QToolBar)
    assert not bar.isMovable() and not bar.isFloatable()
    hideable = [action for action in window.createPopupMenu().actions() if action.isVisible()]
    assert bar.toggleViewAction() not in hideable  # the right-click menu cannot hide it


def test_clicking_the_red_stop_opens_the_advice(qtbot, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    shown: list[str] = []
    monkeypatch.setattr(ChildProtectionDialog, "exec",
                        lambda self: shown.append(self.windowTitle()) or 0)
    for build in WINDOWS.values():
        window = build(tmp_path)
        qtbot.addWidget(window)
        window.resize(1280, 720)
        window.show()
        button = window.findChild(QPushButton, "childProtectionStop")
        assert button is not None, "no red stop in this window"
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        assert shown[-1:] == [child_protection_title()]
        stop = window.act_stop  # type: ignore[attr-defined]
        menu = next(action.menu() for action in window.menuBar().actions()
                    if isinstance(action.menu(), QMenu) and stop in action.menu().actions())
        menu.popup(window.mapToGlobal(QPoint(10, 10)))
        qtbot.waitUntil(menu.isVisible)
        menu.setActiveAction(stop)  # the red item, chosen with the keyboard
        qtbot.keyClick(menu, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda shown_menu=menu: not shown_menu.isVisible())
        assert shown[-1:] == [child_protection_title()]
        window.close()
    assert len(shown) == 4


if __name__ == "__main__":  # the 200 % child: build each window, report what it measured
    app = QApplication(sys.argv[:1])
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp())
    out = []
    for name, build in WINDOWS.items():
        window = build(folder)
        out.extend([name, width, measure(window, width)] for width in WIDTHS)
        window.close()
        window.deleteLater()
    print(json.dumps(out))


def test_lock_is_in_sight_at_every_width(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """On a shared computer Lock must be one click away: it never folds into the chevron."""
    window = _main_window(tmp_path)
    qtbot.addWidget(window)
    for width in WIDTHS:
        window.resize(width, 720)
        window.show()
        QApplication.processEvents()
        lock = window.lock_bar.widgetForAction(window.act_lock)
        assert lock is not None and lock.isVisible(), f"Lock is hidden at {width} px"
        where = QRect(lock.mapTo(window, QPoint(0, 0)), lock.size())
        assert window.rect().contains(where), f"Lock {where} spills out at {width} px"
    window.close()


def test_at_1280_nothing_on_the_main_toolbar_folds_away(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    window = _main_window(tmp_path)
    qtbot.addWidget(window)
    window.resize(1280, 720)
    window.show()
    QApplication.processEvents()
    bar = window.findChild(QToolBar, "mainToolbar")
    chevrons = bar.findChildren(QToolButton, "qt_toolbar_ext_button")
    assert not any(c.isVisible() for c in chevrons), "a capture or export button is hidden"
    assert bar.widgetForAction(window.act_export).isVisible()
    window.close()
