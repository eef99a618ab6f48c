"""The crash dialog: what a bug looks like to the user, and what it leaves in the log.

A bug is not the user's fault and must not look like lost evidence. The report is
made and logged by :mod:`evidence_recorder.core.crashreport`, the same one the CLI
writes: the exception's type and where it happened, never its message, which could
quote evidence (a URL, a note).
"""

from __future__ import annotations

import contextlib
import logging
import sys
from types import TracebackType

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

from evidence_recorder import APP_NAME
from evidence_recorder.core import crashreport

log = logging.getLogger("evidence_recorder")
_dialog_open = False


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
    if exc.__traceback__ is None:
        exc = exc.with_traceback(tb)
    report = crashreport.format_report(exc)
    with contextlib.suppress(OSError):  # a full disk must not also hide the dialog
        crashreport.write_report(report)
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
