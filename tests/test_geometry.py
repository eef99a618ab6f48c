"""Window layouts are remembered by one helper (ui/geometry.py), under the keys users have.

The main window and the bundle viewer kept ``main/...`` and ``bundleViewer/...`` before the
helper existed; they still do, so nobody's layout is lost. The editor and the audit log
now remember their size too. A dialog closed by its buttons is hidden without a close
event, and is remembered all the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QByteArray, QSettings, QSize
from PySide6.QtWidgets import QDialog, QLabel, QMainWindow, QSplitter
from pytestqt.qtbot import QtBot
from test_app import _capture_one

from evidence_recorder.ui import main_window as main_window_module
from evidence_recorder.ui.audit_view import AuditDialog
from evidence_recorder.ui.geometry import remember_geometry
from evidence_recorder.ui.main_window import MainWindow

KEY = "testGeometry"


@pytest.fixture
def forget() -> Iterator[None]:
    """Each test starts from no saved layout, and leaves none for the next."""
    groups = (KEY, "main", "audit", "editor")
    for group in groups:
        QSettings().remove(group)
    yield
    for group in groups:
        QSettings().remove(group)


def _window(qtbot: QtBot, splitters: int = 1) -> tuple[QMainWindow, list[QSplitter]]:
    window = QMainWindow()
    qtbot.addWidget(window)
    outer = QSplitter()
    made = [outer]
    for _ in range(splitters - 1):
        inner = QSplitter()
        outer.addWidget(inner)
        made.append(inner)
    for splitter in made:
        splitter.addWidget(QLabel("left"))
        splitter.addWidget(QLabel("right"))
    window.setCentralWidget(outer)
    remember_geometry(window, KEY, QSize(640, 480), made)
    return window, made


def _show(qtbot: QtBot, widget: Any) -> None:
    widget.show()
    qtbot.waitExposed(widget)


@pytest.mark.usefixtures("forget")
def test_a_window_never_seen_opens_at_its_default_size(qtbot: QtBot) -> None:
    window, _ = _window(qtbot)
    assert window.size() == QSize(640, 480)
    assert QSettings().value(f"{KEY}/geometry") is None  # nothing saved merely by opening


@pytest.mark.usefixtures("forget")
def test_a_closed_window_opens_again_as_it_was_left(qtbot: QtBot) -> None:
    window, (splitter,) = _window(qtbot)
    _show(qtbot, window)
    window.resize(700, 500)
    splitter.setSizes([150, 550])
    sizes = splitter.sizes()
    window.close()
    assert isinstance(QSettings().value(f"{KEY}/geometry"), QByteArray)
    assert QSettings().value(f"{KEY}/splitter") == splitter.saveState()

    again, (splitter_again,) = _window(qtbot)
    _show(qtbot, again)
    assert again.size() == QSize(700, 500)
    assert splitter_again.sizes() == sizes
    again.close()


@pytest.mark.usefixtures("forget")
def test_each_splitter_keeps_its_own_state(qtbot: QtBot) -> None:
    window, (outer, inner) = _window(qtbot, splitters=2)
    _show(qtbot, window)
    outer.setSizes([200, 440])
    inner.setSizes([60, 160])
    window.close()
    assert QSettings().value(f"{KEY}/splitter") == outer.saveState()
    assert QSettings().value(f"{KEY}/splitter2") == inner.saveState()


@pytest.mark.usefixtures("forget")
def test_a_dialog_closed_by_its_buttons_is_remembered(qtbot: QtBot) -> None:
    dialog = QDialog()
    qtbot.addWidget(dialog)
    remember_geometry(dialog, KEY, QSize(400, 300))
    _show(qtbot, dialog)
    dialog.resize(520, 340)
    dialog.accept()  # hides the dialog; no close event
    again = QDialog()
    qtbot.addWidget(again)
    remember_geometry(again, KEY, QSize(400, 300))
    assert again.size() == QSize(520, 340)


@pytest.mark.usefixtures("forget")
def test_the_main_window_keeps_its_layout_under_the_keys_it_always_used(
        qtbot: QtBot, controller: Any) -> None:
    main = controller.main
    _show(qtbot, main)
    main.resize(1100, 650)
    main.splitter.setSizes([200, 500, 400])
    sizes = main.splitter.sizes()
    main.close()
    assert QSettings().value("main/geometry") == main.saveGeometry()
    assert QSettings().value("main/splitter") == main.splitter.saveState()

    again = MainWindow(controller.session, controller.settings)
    qtbot.addWidget(again)
    _show(qtbot, again)
    # The offscreen screen is 800 pixels wide, narrower than the window can be, so Qt
    # fits the width back on screen; the height, which fits, is the one left.
    assert again.height() == 650
    assert again.splitter.sizes()[:2] == sizes[:2]  # the narrower width comes off the last
    again.close()


@pytest.mark.usefixtures("forget")
def test_the_audit_log_and_the_editor_remember_their_size(
        qtbot: QtBot, controller: Any) -> None:
    capture_id = _capture_one(qtbot, controller)  # makes the vault, then one capture
    audit = AuditDialog(controller.session.audit_entries(), controller.main)
    qtbot.addWidget(audit)
    assert audit.size() == QSize(1000, 560)  # the size it always opened at
    _show(qtbot, audit)
    audit.resize(700, 500)  # the offscreen screen is 800 x 800
    audit.reject()
    audit_again = AuditDialog(controller.session.audit_entries(), controller.main)
    qtbot.addWidget(audit_again)
    assert audit_again.size() == QSize(700, 500)

    editor = main_window_module.EditorDialog(controller.session, capture_id, controller.main)
    qtbot.addWidget(editor)
    assert editor.size() == QSize(1180, 760)
    _show(qtbot, editor)
    editor.resize(760, 640)
    editor.reject()  # nothing changed, so it closes without asking
    editor_again = main_window_module.EditorDialog(controller.session, capture_id,
                                                   controller.main)
    qtbot.addWidget(editor_again)
    assert editor_again.size() == QSize(760, 640)
