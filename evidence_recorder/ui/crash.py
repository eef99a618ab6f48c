"""The crash dialog: what a bug looks like to the user, and what it leaves in the log.

A bug is not the user's fault and must not look like lost evidence. The report holds
the exception's type and where it happened, but not its message, which could quote
evidence (a URL, a note); the same report goes to the log file.
"""

from __future__ import annotations

import logging
import platform
import sys
import traceback
from pathlib import Path
from types import TracebackType

import platformdirs
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from evidence_recorder import APP_NAME, __version__

log = logging.getLogger("evidence_recorder")
_dialog_open = False


def crash_report(exc_type: type[BaseException], tb: TracebackType | None) -> str:
    frames = "".join(traceback.format_tb(tb))
    return (f"{APP_NAME} {__version__} on {platform.platform()}, Python "
            f"{platform.python_version()}\n{exc_type.__module__}.{exc_type.__qualname__}\n"
            f"{frames}")


def log_path() -> Path:
    folder = Path(platformdirs.user_log_dir("EvidenceRecorder", appauthor=False))
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder / "crash.log"


class CrashDialog(QDialog):
    def __init__(self, report: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("{app}: something went wrong").format(app=APP_NAME))
        layout = QVBoxLayout(self)
        message = QLabel(
            self.tr("Something went wrong inside Evidence Recorder. This is a fault in the "
                    "program, not something you did. Everything already saved in your vault is "
                    "safe.\n\nIf it keeps happening, please send the report below to the "
                    "developers. It says where the fault happened and contains none of your "
                    "evidence."))
        message.setWordWrap(True)
        layout.addWidget(message)
        self.report = QPlainTextEdit(report)
        self.report.setReadOnly(True)
        self.report.setAccessibleName(self.tr("Fault report"))
        layout.addWidget(self.report)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = buttons.addButton(self.tr("&Copy report"), QDialogButtonBox.ButtonRole.ActionRole)
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(report))
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(640, 420)


def handle_exception(exc_type: type[BaseException], exc: BaseException,
                     tb: TracebackType | None) -> None:
    """``sys.excepthook`` for the app: log the report, then show it (once at a time)."""
    global _dialog_open
    if issubclass(exc_type, KeyboardInterrupt):
        QApplication.quit()
        return
    report = crash_report(exc_type, tb)
    try:
        with log_path().open("a", encoding="utf-8") as fh:
            fh.write(f"--- crash\n{report}\n")
    except OSError:
        pass
    log.error("Unexpected fault: %s", report)
    if _dialog_open or QApplication.instance() is None:
        return
    _dialog_open = True
    try:
        CrashDialog(report).exec()
    finally:
        _dialog_open = False


def install() -> None:
    sys.excepthook = handle_exception
