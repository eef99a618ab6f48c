"""The app's languages: loading translations, and translating the words ``core`` marks.

British English is the source language: every user-visible string in ``ui`` goes
through ``self.tr`` or ``QCoreApplication.translate``, and ``scripts/update-translations``
extracts them (and the texts ``core`` marks with
:func:`evidence_recorder.core.i18n.QT_TRANSLATE_NOOP`) into ``translations/*.ts``.
Compiled ``.qm`` files live in ``resources/translations`` beside the fonts, so packaging
ships them the same way. The CLI and the PDF/HTML report stay in British English.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from evidence_recorder.core import paths
from evidence_recorder.core.errors import EvidenceError
from evidence_recorder.core.i18n import CATEGORY_CONTEXT, ERROR_CONTEXT, FIELD_CONTEXT

#: Where the compiled ``evidence_recorder_<locale>.qm`` files are looked for.
TRANSLATIONS_DIR = paths.resource_dir() / "translations"
CATALOGUE = "evidence_recorder"

_installed: list[QTranslator] = []  # kept alive: Qt does not own installed translators


def install_translators(app: QCoreApplication, locale: QLocale | None = None,
                        folder: Path = TRANSLATIONS_DIR) -> list[QTranslator]:
    """Install Qt's own strings (dialog buttons) and ours for ``locale`` (the system's).

    A missing catalogue is not an error: the app then speaks British English. Returns
    the translators installed, so a caller (or a test) can remove them again.
    """
    locale = locale or QLocale.system()
    found: list[QTranslator] = []
    qt_folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    for name, where in (("qtbase", qt_folder), (CATALOGUE, str(folder))):
        translator = QTranslator(app)
        if translator.load(locale, name, "_", where) and app.installTranslator(translator):
            found.append(translator)
    _installed.extend(found)
    return found


def remove_translators(app: QCoreApplication, translators: list[QTranslator]) -> None:
    for translator in translators:
        app.removeTranslator(translator)
        if translator in _installed:
            _installed.remove(translator)


def error_text(exc: EvidenceError) -> str:
    """The error's message in the user's language, where ``core`` marked it for translation.

    Messages built with run-time values (a file name, a count) are not in the catalogue
    and stay in British English.
    """
    return QCoreApplication.translate(ERROR_CONTEXT, exc.message)


def category_text(label: str) -> str:
    """A label from :data:`evidence_recorder.core.model.CATEGORY_LABELS`, translated."""
    return QCoreApplication.translate(CATEGORY_CONTEXT, label)


def field_text(text: str) -> str:
    """A word of :mod:`evidence_recorder.core.fields` (a label, title, hint, heading),
    translated; "" stays ""."""
    return QCoreApplication.translate(FIELD_CONTEXT, text) if text else text


__all__ = ["TRANSLATIONS_DIR", "category_text", "error_text", "field_text",
           "install_translators", "remove_translators"]
