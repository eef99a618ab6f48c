"""Marks for text in ``core`` that the app shows, so that translators see it.

``core`` never imports Qt, yet some of its words reach the screen: category names,
and the plain-English messages of :mod:`evidence_recorder.core.errors`. Wrapping such a
literal in :func:`QT_TRANSLATE_NOOP` changes nothing at run time (the CLI and the report
stay in British English), but ``pyside6-lupdate`` finds the call by its name and puts the
text in the ``.ts`` files under the given context. The app then translates it where it
shows it, with ``QCoreApplication.translate(context, text)``.
"""

from __future__ import annotations

#: Context of the category names in :data:`evidence_recorder.core.model.CATEGORY_LABELS`.
CATEGORY_CONTEXT = "Category"
#: Context of the capture-detail fields' words in :mod:`evidence_recorder.core.fields`
#: (the describe panel's, where most of them were first written).
FIELD_CONTEXT = "DescribePanel"
#: Context of the messages of :class:`evidence_recorder.core.errors.EvidenceError`.
ERROR_CONTEXT = "EvidenceError"


def QT_TRANSLATE_NOOP(context: str, text: str) -> str:
    """Return ``text`` unchanged; lupdate reads the call to extract it under ``context``."""
    return text


__all__ = ["CATEGORY_CONTEXT", "ERROR_CONTEXT", "FIELD_CONTEXT", "QT_TRANSLATE_NOOP"]
