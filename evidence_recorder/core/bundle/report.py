"""The readable report inside a sealed bundle: a PDF to print and an HTML page to open.

Offers :func:`write_pdf` and :func:`write_html`. Both are written for the person the
bundle goes to (a headteacher, a police officer), not for this program: the cover says
who made the record, how, and how to check it; a timeline shows the course of conduct;
then every capture gets its own section with the picture and everything recorded of it.

Everything the user typed, and everything a hostile post or file name could have put
there, is treated as hostile text. In the HTML it is escaped and isolated; in both
formats invisible direction overrides and control characters are shown as ``[U+202E]``
markers instead of being obeyed, so text cannot be made to read differently from what
it is. Characters the embedded font cannot draw are shown the same way in the PDF (the
HTML and the bundle's JSON keep the exact text).

Neither function touches the disk except to read the fonts: pictures are reduced in
memory and the PDF goes straight into the caller's stream.

The work is split by job: :mod:`.report_words` (what both formats say, and how hostile
text is made visible), :mod:`.report_pdf` (the printed layout and its fonts) and
:mod:`.report_html` (the page). This module is the one door to them: the export imports
it, in a second thread, only when it writes a report (fpdf2 is slow to import).
"""

from __future__ import annotations

from evidence_recorder.core.bundle.report_data import ReportCapture, ReportData
from evidence_recorder.core.bundle.report_html import write_html
from evidence_recorder.core.bundle.report_pdf import render_pdf, write_pdf
from evidence_recorder.core.bundle.report_words import (
    CONFIRM_FINGERPRINT,
    HONEST_STATEMENT,
    TITLE,
    visible_text,
)

__all__ = [
    "CONFIRM_FINGERPRINT",
    "HONEST_STATEMENT",
    "TITLE",
    "ReportCapture",
    "ReportData",
    "render_pdf",
    "visible_text",
    "write_html",
    "write_pdf",
]
