"""Starting the desktop app: one QApplication, the start window, the main window, locking.

The controller owns the flow: start window (create or unlock) → main window; locking
(on demand, when idle, or when the session locks or the machine sleeps) closes the
vault, empties every view and returns to the unlock page.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from evidence_recorder import APP_NAME, __version__
from evidence_recorder.core import settings as options
from evidence_recorder.core.keyfile import KdfParams
from evidence_recorder.core.settings import Settings
from evidence_recorder.ui import crash
from evidence_recorder.ui.guide import GuideDialog
from evidence_recorder.ui.idle import IdleLock, SessionWatcher
from evidence_recorder.ui.main_window import MainWindow
from evidence_recorder.ui.session import VaultSession
from evidence_recorder.ui.tasks import wait_for_tasks
from evidence_recorder.ui.unlock import StartWindow


def disable_core_dumps() -> None:
    """A core dump of an unlocked app would hold decrypted evidence: forbid them."""
    with contextlib.suppress(ImportError, OSError, ValueError):
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


class AppController(QObject):
    def __init__(self, session: VaultSession, settings: Settings,
                 show_guide: bool = True) -> None:
        super().__init__()
        self.session = session
        self.settings = settings
        self.show_guide = show_guide
        self.start = StartWindow(session)
        self.main = MainWindow(session, settings)
        self.idle = IdleLock(settings.get(options.IDLE_LOCK_MINUTES),
                             settings.get(options.IDLE_LOCK_ENABLED), self)
        self.watcher = SessionWatcher(self)
        self.start.opened.connect(self._opened)
        self.main.lock_requested.connect(self.lock)
        self.main.settings_changed.connect(self._apply_settings)
        self.idle.idle.connect(self.lock)
        self.watcher.lock_requested.connect(self.lock)
        session.locked.connect(self._on_locked)

    def run(self) -> None:
        self.start.show()

    def _opened(self) -> None:
        self.start.hide()
        self.main.load()
        self.main.show()
        self.main.raise_()
        self.idle.start()
        if self.show_guide and not self.settings.get(options.GUIDE_SEEN):
            self.settings.set(options.GUIDE_SEEN, True)
            QTimer.singleShot(0, lambda: GuideDialog(self.main).exec())

    def lock(self) -> None:
        self.session.lock()

    def _on_locked(self) -> None:
        self.idle.stop()
        for widget in QApplication.topLevelWidgets():
            if widget is not self.start and widget is not self.main and widget.isVisible():
                widget.close()  # dialogs showing evidence go too
        self.main.forget()
        self.main.hide()
        self._clear_our_clipboard()
        self.start.reset()
        self.start.show()
        self.start.raise_()

    def _clear_our_clipboard(self) -> None:
        clipboard = QGuiApplication.clipboard()
        if clipboard.ownsClipboard():
            clipboard.clear()

    def _apply_settings(self) -> None:
        self.idle.set_enabled(self.settings.get(options.IDLE_LOCK_ENABLED))
        self.idle.set_minutes(self.settings.get(options.IDLE_LOCK_MINUTES))
        if self.session.is_unlocked:
            self.idle.start()


def main(vault_dir: Path, argv: Sequence[str] | None = None,
         kdf: KdfParams | None = None) -> int:
    disable_core_dumps()
    app = QApplication.instance() or QApplication(list(argv or sys.argv[:1]))
    app.setApplicationName(APP_NAME)
    app.setOrganizationName("EvidenceRecorder")
    app.setApplicationVersion(__version__)
    QGuiApplication.setDesktopFileName("evidence-recorder")
    crash.install()
    session = VaultSession(vault_dir, kdf)
    controller = AppController(session, Settings())
    controller.run()
    code = app.exec()
    session.lock()
    wait_for_tasks()
    return int(code)
