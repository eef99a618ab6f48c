"""Delayed calls (QTimer.singleShot) carry a context object, so a window or controller
deleted before the timer fires is never called: no crash, no warning, nothing shown.

Each test deletes the object between scheduling and firing, then waits for a later
timer as a fence: Qt fires timers in the order they fall due, so once the fence has
fired, the deleted object's timer has had its turn.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import shiboken6
from conftest import FAST_KDF, PASSPHRASE, fake_screen
from PySide6.QtCore import QObject, QTimer
from pytestqt.qtbot import QtBot
from test_app import _capture_one, wait_until

from evidence_recorder.core import settings as options
from evidence_recorder.core.gather import capture
from evidence_recorder.ui import guide
from evidence_recorder.ui import main_window as main_window_module
from evidence_recorder.ui.app import AppController
from evidence_recorder.ui.capture_flow import CaptureController
from evidence_recorder.ui.main_window import MainWindow
from evidence_recorder.ui.session import VaultSession


def _fence(qtbot: QtBot, msec: int) -> None:
    """Wait until a timer of ``msec`` set now has fired (so every earlier-due one has)."""
    holder = QObject()
    fired: list[bool] = []
    QTimer.singleShot(msec, holder, lambda: fired.append(True))
    qtbot.waitUntil(lambda: bool(fired), timeout=10_000)


def test_a_capture_controller_deleted_before_its_grab_is_not_called(
        qtbot: QtBot, monkeypatch: Any) -> None:
    grabs: list[object] = []
    monkeypatch.setattr(CaptureController, "_grab", lambda self: grabs.append(self))
    kept = CaptureController(lambda: capture.FakeGrabber(fake_screen()))
    kept.hide_windows = False
    kept.start("screen")
    qtbot.waitUntil(lambda: grabs == [kept])  # the delayed grab does run for a live one

    gone = CaptureController(lambda: capture.FakeGrabber(fake_screen()))
    gone.hide_windows = False
    gone.start("screen")
    shiboken6.delete(gone)
    _fence(qtbot, 20)
    assert grabs == [kept]


def test_a_main_window_deleted_before_the_rest_of_an_incident_loads_is_not_called(
        qtbot: QtBot, controller: Any, monkeypatch: Any) -> None:
    _capture_one(qtbot, controller)
    controller.main.act_screen.trigger()
    wait_until(qtbot, lambda: controller.main.capture_model.rowCount() == 2)
    monkeypatch.setattr(main_window_module, "FIRST_PAGE", 1)  # two captures: a large incident
    calls: list[object] = []
    monkeypatch.setattr(MainWindow, "_load_rest_when_idle",
                        lambda self, *args: calls.append(self))

    kept = MainWindow(controller.session, controller.settings)
    qtbot.addWidget(kept)
    kept.reload_captures(first_page=True)
    qtbot.waitUntil(lambda: calls == [kept])  # a live window loads the rest

    gone = MainWindow(controller.session, controller.settings)
    gone.reload_captures(first_page=True)
    shiboken6.delete(gone)
    _fence(qtbot, 200)
    assert calls == [kept]


def test_a_main_window_deleted_before_the_first_start_guide_shows_none(
        qtbot: QtBot, tmp_path: Any, app_settings: Any, monkeypatch: Any) -> None:
    shown: list[object] = []

    class Guide:
        """Stands in for the guide dialog: records that it was made, shows nothing."""

        def __init__(self, parent: object) -> None:
            shown.append(parent)

        def exec(self) -> int:
            return 0

    monkeypatch.setattr(guide, "GuideDialog", Guide)

    def opened_app(folder: str) -> tuple[AppController, VaultSession]:
        session = VaultSession(tmp_path / folder, FAST_KDF)
        app = AppController(session, app_settings, show_guide=True)
        qtbot.addWidget(app.start)
        done: list[bool] = []
        session.create(PASSPHRASE, lambda _key: done.append(True), lambda exc: None)
        qtbot.waitUntil(lambda: bool(done))
        app_settings.set(options.GUIDE_SEEN, False)
        app._opened()  # what the start window's "opened" does: main window up, guide queued
        return app, session

    kept, kept_session = opened_app("kept")
    qtbot.addWidget(kept.main)
    qtbot.waitUntil(lambda: shown == [kept.main])  # the guide does come for a live window
    kept_session.lock()

    gone, gone_session = opened_app("gone")
    main = gone.main
    shiboken6.delete(gone)  # the controller, so locking below does not reach for the window
    shiboken6.delete(main)
    _fence(qtbot, 20)
    assert len(shown) == 1
    gone_session.lock()


def test_every_delayed_call_names_its_context() -> None:
    """``QTimer.singleShot(msec, context, call)``, never ``(msec, call)``, anywhere in ui/."""
    ui = Path(__file__).resolve().parent.parent / "evidence_recorder" / "ui"
    bare = []
    for path in sorted(ui.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "singleShot" and len(node.args) < 3):
                bare.append(f"{path.name}:{node.lineno}")
    assert bare == []
