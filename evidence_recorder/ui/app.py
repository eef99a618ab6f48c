"""Starting the desktop app: one QApplication, the start window, the main window, locking.

The controller owns the flow: start window (create or unlock) → main window; locking
(on demand, when idle, or when the session locks or the machine sleeps) closes the
vault, empties every view and returns to the unlock page.
"""

from __future__ import annotations

import contextlib
import sys
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QObject, QSize, QTimer
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication, QWidget

from evidence_recorder import APP_NAME, __version__
from evidence_recorder.core import paths
from evidence_recorder.core import settings as options
from evidence_recorder.core.errors import EvidenceError
from evidence_recorder.core.process import disable_core_dumps  # shared with the CLI
from evidence_recorder.core.settings import Settings
from evidence_recorder.ui import crash, filedialogs, messages, theme
from evidence_recorder.ui.i18n import error_text, install_translators
from evidence_recorder.ui.idle import IdleLock, SessionWatcher
from evidence_recorder.ui.session import VaultSession
from evidence_recorder.ui.tasks import wait_for_tasks
from evidence_recorder.ui.unlock import StartWindow

APP_ID = "uk.evidencerecorder.EvidenceRecorder"  # desktop entry, AppStream, macOS bundle
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)

if TYPE_CHECKING:  # imported when first needed, to keep start-up short
    from evidence_recorder.ui.bundle_viewer import BundleViewer
    from evidence_recorder.ui.main_window import MainWindow
    from evidence_recorder.ui.session import KdfParams


class AppController(QObject):
    def __init__(self, session: VaultSession, settings: Settings,
                 show_guide: bool = True) -> None:
        super().__init__()
        self.session = session
        self.settings = settings
        self.show_guide = show_guide
        self.start = StartWindow(session)
        self._main: MainWindow | None = None  # built at the first unlock: faster start
        self.idle = IdleLock(settings.get(options.IDLE_LOCK_MINUTES),
                             settings.get(options.IDLE_LOCK_ENABLED), self)
        self.watcher = SessionWatcher(self)
        # A bundle to keep once the vault is open: its path, what the viewer showed of
        # it, and its passphrase if it has one (the copy kept is checked again).
        self._pending_save: tuple[Path, dict[str, object], str | None] | None = None
        # The viewer that asked, so that the reader comes back to the bundle afterwards.
        self._pending_viewer: weakref.ref[BundleViewer] | None = None
        self.start.opened.connect(self._opened)
        self.start.open_bundle_requested.connect(self.choose_bundle)
        self.idle.idle.connect(lambda: self.lock("idle"))
        self.watcher.lock_requested.connect(lambda: self.lock("session locked"))
        session.locked.connect(self._on_locked)

    @property
    def main(self) -> MainWindow:
        """The main window, made the first time it is needed (after the first unlock)."""
        if self._main is None:
            from evidence_recorder.ui.main_window import MainWindow

            self._main = MainWindow(self.session, self.settings)
            self._main.open_bundle_requested.connect(self.choose_bundle)
            self._main.received_requested.connect(self.show_received)
            self._main.lock_requested.connect(self.lock)
            self._main.settings_changed.connect(self._apply_settings)
        return self._main

    def run(self, bundle: Path | None = None) -> None:
        """Show the start window, or only the viewer when a bundle was named."""
        if bundle is not None and self.open_bundle(bundle) is not None:
            return
        self.start.show()

    # ------------------------------------------------------------------ bundles

    def choose_bundle(self) -> None:
        parent = self._main if self._main is not None and self._main.isVisible() else self.start
        paths = filedialogs.open_files(parent, self.tr("Open a report bundle"),
                                       self.tr("Report bundles (*.zip);;All files (*)"))
        if paths:
            self.open_bundle(paths[0])

    def open_bundle(self, path: Path) -> BundleViewer | None:
        from evidence_recorder.ui.bundle_viewer import open_bundle_window

        viewer = open_bundle_window(path)
        if viewer is not None:
            viewer.save_requested.connect(lambda p, v=viewer: self.save_received(p, v))
        return viewer

    def save_received(self, path: Path, viewer: BundleViewer) -> None:
        """Keep a received bundle in the vault, unlocking (or creating) it first if needed."""
        if not self.session.is_unlocked:
            self._pending_save = (path, viewer.report_summary(), viewer.bundle_passphrase())
            self._pending_viewer = weakref.ref(viewer)
            messages.info(viewer, self.tr("Unlock your vault first"),
                          self.tr("To keep this bundle in your own vault, open (or create) your "
                                  "vault in the window that appears next. The bundle will be saved "
                                  "then."))
            self.start.reset()
            self.start.show()
            self.start.raise_()
            return
        self._store_received(path, viewer.report_summary(), viewer.bundle_passphrase(), viewer)

    def _store_received(self, path: Path, shown: dict[str, object], passphrase: str | None,
                        parent: QWidget | None) -> None:
        """Read the file once into the vault, and keep it only if that copy verifies as
        ``shown``: what is kept is exactly what was checked."""
        def alive(widget: QWidget | None) -> QWidget | None:
            return widget if widget is not None and shiboken6.isValid(widget) else None

        def done(bundle_id: int) -> None:
            messages.info(alive(parent), self.tr("Saved in your vault"),
                          self.tr("The bundle is kept in your vault exactly as it was sent "
                                  "(received bundle {bundle_id}), so its seal can be checked again "
                                  "at any time. Find it under Vault ▸ Received bundles.")
                          .format(bundle_id=bundle_id))

        def failed(exc: EvidenceError) -> None:
            messages.error(alive(parent), self.tr("Not saved"), error_text(exc))

        self.session.keep_received(path, shown, passphrase, done, failed)

    def show_received(self) -> None:
        from evidence_recorder.ui.received import ReceivedBundlesDialog

        ReceivedBundlesDialog(self.session, self.main).exec()

    def _opened(self) -> None:
        viewer = self._pending_viewer() if self._pending_viewer is not None else None
        self._pending_viewer = None
        if viewer is not None and (not shiboken6.isValid(viewer) or not viewer.is_loaded()):
            viewer = None  # closed meanwhile: the vault is where the saying goes
        if self._pending_save is not None:
            path, shown, passphrase = self._pending_save
            self._pending_save = None
            self._store_received(path, shown, passphrase, viewer or self.main)
        self.start.hide()
        self.main.load()
        self.main.show_history()
        self.main.show()
        self.main.raise_()
        self.idle.start()
        if self.session.history_warning() is not None or self.session.has_history_notice():
            # After the window is up, so the warning sits over the vault it is about.
            QTimer.singleShot(0, self.main, self.main.tell_history)
        if viewer is not None:
            # Back to the bundle they were reading, still open, over the new vault.
            viewer.show()
            viewer.raise_()
            viewer.activateWindow()
        if self.show_guide and not self.settings.get(options.GUIDE_SEEN):
            self.settings.set(options.GUIDE_SEEN, True)
            from evidence_recorder.ui.guide import GuideDialog

            QTimer.singleShot(0, self.main, lambda: GuideDialog(self.main).exec())

    def lock(self, how: str = "locked by you") -> None:
        self.session.lock(how=how)

    def _on_locked(self) -> None:
        self.idle.stop()
        for widget in QApplication.topLevelWidgets():
            if widget is not self.start and widget is not self._main and widget.isVisible():
                widget.close()  # dialogs showing evidence go too
        if self._main is not None:
            self._main.forget()
            self._main.hide()
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


def app_icon() -> QIcon:
    """The window and task-bar icon: the PNGs packaging/make-icons renders, read lazily."""
    icon = QIcon()
    for size in ICON_SIZES:
        png = paths.resource_dir() / "icons" / f"evidence-recorder-{size}.png"
        if png.is_file():
            icon.addFile(str(png), QSize(size, size))
    return icon


def _prepare_browser() -> None:
    """The capture browser's switches, which QtWebEngine reads only before the
    QApplication exists. Where it cannot run (as root, say), the app still starts and
    the browser says why when it is opened."""
    from evidence_recorder import web

    with contextlib.suppress(web.WebUnavailable):
        web.prepare()


def main(vault_dir: Path, argv: Sequence[str] | None = None,
         kdf: KdfParams | None = None, bundle: Path | None = None) -> int:
    disable_core_dumps()
    _prepare_browser()
    app = QApplication.instance() or QApplication(list(argv or sys.argv[:1]))
    app.setApplicationName(APP_NAME)
    app.setOrganizationName("EvidenceRecorder")
    app.setApplicationVersion(__version__)
    QGuiApplication.setDesktopFileName(APP_ID)  # packaging/linux/APP_ID.desktop
    QApplication.setWindowIcon(app_icon())
    install_translators(app)  # the system's language, if we have it; else British English
    theme.use_readable_palette(app)  # WCAG AA contrast whatever the desktop theme
    crash.install()
    session = VaultSession(vault_dir, kdf)
    controller = AppController(session, Settings())
    controller.run(bundle)
    code = app.exec()
    session.lock(now=True, how="closing")
    wait_for_tasks()
    return int(code)
