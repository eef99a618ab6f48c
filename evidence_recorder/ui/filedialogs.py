"""File dialogs that leave no trace of what the user opened or saved.

Native dialogs on Linux record every file in the desktop's "recent files" list, and
Qt's own dialog keeps a history in its settings. On a shared family computer either
would show which screenshots were imported or where a report went, so we use Qt's
dialog and wipe its history afterwards.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QWidget

_OPTIONS = QFileDialog.Option.DontUseNativeDialog


def _forget_history() -> None:
    for settings in (QSettings(QSettings.Scope.UserScope, "QtProject"), QSettings()):
        settings.remove("FileDialog")
        settings.remove("Qt/filedialog")
        settings.sync()


def open_files(parent: QWidget | None, title: str, name_filter: str) -> list[Path]:
    try:
        names, _ = QFileDialog.getOpenFileNames(parent, title, str(Path.home()), name_filter,
                                                options=_OPTIONS)
    finally:
        _forget_history()
    return [Path(n) for n in names]


def save_file(parent: QWidget | None, title: str, suggested: str, name_filter: str) -> Path | None:
    try:
        name, _ = QFileDialog.getSaveFileName(parent, title, str(Path.home() / suggested),
                                              name_filter, options=_OPTIONS)
    finally:
        _forget_history()
    return Path(name) if name else None
