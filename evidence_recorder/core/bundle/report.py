"""The readable report inside a sealed bundle: a PDF to print and an HTML page to open.

Owns :func:`write_pdf` and :func:`write_html`. Both are written for the person the
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

Packaging: the PDF embeds the DejaVu fonts from ``resources/fonts/``, found through
:func:`evidence_recorder.core.paths.resource_dir` (the repository root in a checkout, the
unpacked tree in a frozen build; packaging/evidence-recorder.spec ships the folder).
"""

from __future__ import annotations

import html
import importlib.util
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from typing import BinaryIO, Final
from urllib.parse import quote

from fontTools.ttLib import TTFont
from fpdf import FPDF, Align, XPos, YPos
from fpdf.enums import MethodReturnValue, WrapMode
from fpdf.util import Padding
from PIL import Image

from evidence_recorder.core import fields, paths
from evidence_recorder.core.bundle.report_data import ReportCapture, ReportData
from evidence_recorder.core.bundle.sealnumber import seal_number_rows
from evidence_recorder.core.errors import RefusedInput
from evidence_recorder.core.fields import Value
from evidence_recorder.core.gather.images import PILLOW_LOCK, make_thumbnail
from evidence_recorder.core.model import (
    CATEGORY_LABELS,
    Capture,
    CaptureKind,
    Category,
    handle_text,
)

FONT_DIR: Final = paths.resource_dir() / "fonts"
SANS: Final = "DejaVuSans"
MONO: Final = "DejaVuSansMono"
_FONT_FILES: Final = {
    (SANS, ""): "DejaVuSans.ttf",
    (SANS, "B"): "DejaVuSans-Bold.ttf",
    (MONO, ""): "DejaVuSansMono.ttf",
}

TITLE: Final = "Record of online abuse"
HONEST_STATEMENT: Final = (
    "These captures were made by the person affected, using Evidence Recorder on their "
    "own computer. They are a record, not a forensic acquisition: each picture was "
    "fingerprinted (SHA-256) when it was taken and has not changed since; the audit log "
    "records every action."
)
CONFIRM_FINGERPRINT: Final = "Confirm this fingerprint with the sender by phone"
SEAL_NUMBER_LABEL: Final = "Seal number (the same key as digits, easier to read out)"
CONFIRM_SEAL: Final = "Confirm the seal number with the sender by phone"
# Longest side of a picture as embedded in the PDF: sharp on paper, small in the file.
PDF_IMAGE_MAX_SIDE: Final = 1600
PAGE_COUNT_ALIAS: Final = "{nb_total}"
# Never blow a small crop up beyond this many millimetres per pixel (about 50 dpi).
_MAX_MM_PER_PIXEL: Final = 0.5

_AUDIENCES: Final = {"headteacher": "the headteacher", "police": "the police"}
_HOW: Final = {
    CaptureKind.SCREEN: "Captured on screen: every monitor",
    CaptureKind.MONITOR: "Captured on screen: one monitor",
    CaptureKind.REGION: "Captured on screen: a selected area",
    CaptureKind.WINDOW: "Captured on screen: one window",
    CaptureKind.IMPORT: "Imported from a file (for example a phone screenshot)",
}
# Invisible characters that reorder or hide text (Trojan Source, "exe.txt" tricks).
_BIDI_CONTROLS: Final = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})$")


# ---------------------------------------------------------------------------
# Text: what every field goes through before it is shown


def _marker(char: str) -> str:
    return f"[U+{ord(char):04X}]"


def visible_text(
    text: str, *, multiline: bool = True, drawable: frozenset[int] | None = None
) -> str:
    """Text as it may be shown: controls and direction overrides made visible.

    ``drawable``, when given, is the set of code points a font can draw; anything else
    becomes a marker too, so a name in a script the font lacks is not silently lost.
    """
    if text.isascii() and text.isprintable() and (drawable is None or drawable >= _ASCII):
        return text  # the common case, without a look at each character
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    out: list[str] = []
    for char in text:
        if char == "\n":
            out.append("\n" if multiline else " ")
        elif char == "\t":
            out.append("    " if multiline else " ")
        elif _hidden(char) or (drawable is not None and ord(char) not in drawable):
            out.append(_marker(char))
        else:
            out.append(char)
    return "".join(out)


_ASCII: Final = frozenset(range(0x20, 0x7F))


def _hidden(char: str) -> bool:
    """A character that would act on the text around it instead of being seen."""
    return char in _BIDI_CONTROLS or unicodedata.category(char) in {"Cc", "Cs"}


def _needs_shaping(text: str) -> bool:
    """Right-to-left letters, or marks that combine with the letter before them."""
    return not text.isascii() and any(
        unicodedata.bidirectional(char) in {"R", "AL", "AN"} or unicodedata.combining(char)
        for char in text
    )


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _parse_offset(text: str) -> timedelta | None:
    found = _OFFSET.match(text.strip())
    if not found:
        return None
    sign, hours, minutes = found.groups()
    delta = timedelta(hours=int(hours), minutes=int(minutes))
    return -delta if sign == "-" else delta


def _utc_text(moment: datetime, *, millis: bool = False) -> str:
    utc = _utc(moment)
    fraction = f".{utc.microsecond // 1000:03d}" if millis else ""
    return f"{utc:%Y-%m-%d %H:%M:%S}{fraction} UTC"


def _stored_time_text(text: str) -> str:
    """A time stored as ISO UTC, written as the report writes every other time (as stored
    when it does not parse, since it came from outside)."""
    try:
        return _utc_text(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        return text


def _local_text(moment: datetime, utc_offset: str, tz_name: str = "") -> str:
    """Local time from the offset recorded at that instant (not today's rules)."""
    offset = _parse_offset(utc_offset)
    if offset is None:
        return "not recorded"
    local = _utc(moment).astimezone(timezone(offset))
    zone = f"UTC{utc_offset.strip()}" + (f", {tz_name}" if tz_name else "")
    return f"{local:%Y-%m-%d %H:%M:%S} ({zone})"


def _exported_local(moment: datetime) -> str:
    """The exporting computer's local time (the report is written there, at export)."""
    local = _utc(moment).astimezone()
    offset = local.strftime("%z")
    offset = f"{offset[:3]}:{offset[3:]}" if offset else "+00:00"
    name = local.tzname() or ""
    zone = f"UTC{offset}" + (f", {name}" if name and not name.startswith(("UTC", "+", "-")) else "")
    return f"{local:%Y-%m-%d %H:%M:%S} ({zone})"


def _category(value: str) -> str:
    if not value:
        return ""
    try:
        return CATEGORY_LABELS[Category(value)]
    except ValueError:
        return value


def _audience(value: str) -> str:
    return _AUDIENCES.get(value, value or "not given")


def _posted(capture: Capture) -> str:
    return capture.details.posted_at


def _author_handle(capture: Capture) -> str:
    details = capture.details
    return "\n".join(part for part in (details.author, handle_text(details.handle)) if part)


# Addresses and account numbers may break anywhere: they have no spaces to break at.
_STYLES: Final[dict[Value, str]] = {Value.URL: "url", Value.NUMBER: "url"}


def _fields(item: ReportCapture) -> list[tuple[str, str, str]]:
    """(label, value, style) rows for one capture, in the order an officer reads them.

    Style is "" for ordinary text, "mono" for hashes and paths, "url" for text that
    may break anywhere. Empty core fields stay, marked "not recorded", because their
    absence is itself information; empty optional ones are left out.
    """
    capture = item.capture
    details = capture.details
    rows: list[tuple[str, str, str]] = [
        ("Incident", item.incident_title, ""),
        ("Captured (UTC)", _utc_text(capture.captured_at, millis=True), ""),
        ("Captured (local time)", _local_text(capture.captured_at, capture.utc_offset,
                                              capture.tz_name), ""),
        ("How", _HOW.get(capture.kind, str(capture.kind)), ""),
    ]
    if capture.source is not None:
        rows.append(("File name", capture.source.file_name, "url"))
        rows.append(("Date written in the file (not verified)",
                     capture.source.claimed_time or "none", ""))
        if capture.source.file_mtime:
            rows.append(("File's modified time (not verified)",
                         _stored_time_text(capture.source.file_mtime), ""))
    for f in fields.in_reading_order():
        value = getattr(details, f.name)
        if f.value is Value.HANDLE:
            value = handle_text(value)
        elif f.value is Value.CATEGORY:
            value = _category(value)
        if value or f.reported_when_empty:
            rows.append((f.title, value, _STYLES.get(f.value, "")))
    rows += [
        ("Picture", f"{capture.width} × {capture.height} pixels, {capture.media_type}", ""),
        ("SHA-256 of the original", capture.sha256, "mono"),
        ("Original in the bundle", item.original_path, "mono") if item.original_path
        else ("Original", KEPT_ORIGINAL, ""),
    ]
    if item.redacted_path:
        rows.append(("Covered copy in the bundle" if item.covered
                     else "Marked copy in the bundle", item.redacted_path, "mono"))
    return rows


KEPT_ORIGINAL: Final = "Not in this bundle: the sender kept the original."
COVERED_KEPT: Final = "Covered copy; the sender kept the original."


def _copy_note(item: ReportCapture) -> str:
    """What the picture shown is, when it is the annotated copy (one line of words)."""
    if not item.covered:
        return "Marked copy (nothing covered): the original is in"
    if not item.original_path:
        return COVERED_KEPT
    return "Covered copy: the original is in"


# ---------------------------------------------------------------------------
# PDF


@lru_cache(maxsize=4)
def _drawable(*files: str) -> frozenset[int]:
    """Code points every one of the given font files can draw."""
    sets = []
    for name in files:
        with TTFont(str(FONT_DIR / name), lazy=True) as font:
            sets.append(frozenset(font.getBestCmap()))
    return frozenset.intersection(*sets)


_INK: Final = (25, 25, 25)
_MUTED: Final = (95, 95, 95)
_RULE: Final = (190, 190, 190)
_ACCENT: Final = (24, 52, 86)
_SHADE: Final = (242, 242, 242)


class _ReportPDF(FPDF):
    """A4 pages with a running header (bundle name) and footer (page N of M)."""

    def __init__(self, data: ReportData) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        # Reserve room for a five-digit page count (fpdf2 warns when "{nb}" is too narrow).
        self.alias_nb_pages(PAGE_COUNT_ALIAS)
        self.data = data
        for (family, style), name in _FONT_FILES.items():
            self.add_font(family, style, str(FONT_DIR / name))
        self.sans_chars = _drawable(_FONT_FILES[(SANS, "")], _FONT_FILES[(SANS, "B")])
        self.mono_chars = _drawable(_FONT_FILES[(MONO, "")])
        self.set_margins(16, 20, 16)
        self.set_auto_page_break(True, margin=18)
        self.set_creation_date(_utc(data.exported_at))
        self.set_title(TITLE)
        self.set_creator(f"Evidence Recorder {data.app_version}")
        self.set_lang("en-GB")
        # Without shaping, Arabic comes out unjoined and in reverse order and combining
        # accents misplaced; with it, text takes twice as long to lay out. So it is
        # switched on only for the text that needs it (see :meth:`shape_for`).
        self.can_shape = importlib.util.find_spec("uharfbuzz") is not None

    # text helpers -----------------------------------------------------------

    def t(self, text: str, *, multiline: bool = True) -> str:
        return visible_text(text, multiline=multiline, drawable=self.sans_chars)

    def m(self, text: str) -> str:
        return visible_text(text, multiline=False, drawable=self.mono_chars)

    def shape_for(self, *texts: str) -> None:
        """Shape the next text drawn only if it holds a script that needs shaping."""
        wanted = self.can_shape and any(_needs_shaping(text) for text in texts)
        if wanted != bool(self.text_shaping):
            self.set_text_shaping(wanted)

    def font(self, size: float, *, bold: bool = False, mono: bool = False,
             color: tuple[int, int, int] = _INK) -> None:
        self.set_font(MONO if mono else SANS, "B" if bold and not mono else "", size)
        self.set_text_color(*color)

    def rule(self, gap: float = 2.5) -> None:
        self.ln(gap)
        self.set_draw_color(*_RULE)
        self.set_line_width(0.2)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(gap)

    def heading(self, text: str, size: float = 13) -> None:
        if self.will_page_break(size * 0.9 + 12):
            self.add_page()
        self.ln(3)
        self.font(size, bold=True, color=_ACCENT)
        self.shape_for(text)
        self.multi_cell(0, size * 0.5, self.t(text, multiline=False), align=Align.L,
                        new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1.5)

    def paragraph(self, text: str, size: float = 9.5, *, bold: bool = False,
                  color: tuple[int, int, int] = _INK) -> None:
        self.font(size, bold=bold, color=color)
        self.shape_for(text)
        self.multi_cell(0, size * 0.48, self.t(text), align=Align.L,
                        new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def line_at(self, x: float, top: float, h: float, text: str) -> None:
        """One unshaped line where ``cell(w, h, text)`` at ``(x - c_margin, top)`` puts it.

        ``text()`` writes the text operators and nothing else; ``cell()`` costs ten
        times as much, which shows when a report has thousands of rows.
        """
        self.text(x, top + 0.5 * h + 0.3 * self.font_size, text)

    def text_block(self, w: float, h: float, text: str, wrap: WrapMode = WrapMode.WORD) -> None:
        """``multi_cell`` at the current x, then to the left margin on the next line.

        A line that fits goes out as a plain ``cell``: fpdf2's line breaking measures
        character by character, and a report of a thousand captures has tens of
        thousands of short values.
        """
        if not self.text_shaping and "\n" not in text and not self.will_page_break(h) and \
                self.get_string_width(text) <= w - 2 * self.c_margin - 0.01:
            self.line_at(self.x + self.c_margin, self.y, h, text)
            self.set_xy(self.l_margin, self.y + h)
        else:
            self.multi_cell(w, h, text, align=Align.L, wrapmode=wrap,
                            new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def row(self, label: str, value: str, *, style: str = "", label_w: float = 50,
            size: float = 9) -> None:
        """One label/value line; the value wraps and may run onto following pages."""
        line_h = size * 0.47
        if self.will_page_break(line_h * 2.2):
            self.add_page()
        top, page = self.get_y(), self.page
        self.font(size - 0.5, bold=True, color=_MUTED)
        self.shape_for(label)
        self.text_block(label_w - 3, line_h, self.t(label, multiline=False))
        label_bottom = self.get_y()
        self.set_xy(self.l_margin + label_w, top)
        value_w = self.epw - label_w
        if not value:
            self.font(size, color=_MUTED)
            shown, wrap = "not recorded", WrapMode.WORD
        elif style == "mono":
            self.font(size - 0.5, mono=True)
            shown, wrap = self.m(value), WrapMode.CHAR
        else:
            self.font(size)
            shown = self.t(value)
            wrap = WrapMode.CHAR if style == "url" else WrapMode.WORD
        self.shape_for(shown)
        self.text_block(value_w, line_h, shown, wrap)
        if self.page == page:
            self.set_y(max(self.get_y(), label_bottom))
        self.ln(1.3)

    # running header and footer ---------------------------------------------

    def header(self) -> None:
        self.font(7.5, color=_MUTED)
        self.set_xy(self.l_margin, 9)
        half = self.epw / 2
        # No shape_for() here: a page break inside a long value must not change the
        # shaping of the rest of it. The bundle name is the app's own, plain ASCII.
        name = self.t(_one_line(self.data.bundle_name, 80), multiline=False)
        self.cell(half, 4, name, align=Align.L)
        self.cell(half, 4, f"{TITLE} · confidential", align=Align.R)
        self.set_draw_color(*_RULE)
        self.set_line_width(0.2)
        self.line(self.l_margin, 14, self.w - self.r_margin, 14)
        self.set_y(self.t_margin)

    def footer(self) -> None:
        self.set_y(-12)
        self.font(7.5, color=_MUTED)
        half = self.epw / 2
        self.cell(half, 4, f"Exported {_utc_text(self.data.exported_at)}", align=Align.L)
        self.cell(half, 4, f"Page {self.page_no()} of {PAGE_COUNT_ALIAS}", align=Align.R)


def _cover(pdf: _ReportPDF) -> None:
    data = pdf.data
    pdf.add_page()
    pdf.ln(4)
    pdf.font(24, bold=True, color=_ACCENT)
    pdf.cell(0, 11, TITLE, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.font(11, color=_MUTED)
    pdf.shape_for(data.audience)
    pdf.cell(0, 6, f"Prepared for {pdf.t(_audience(data.audience), multiline=False)}",
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.rule(3)

    pdf.row("Exported by", data.exported_by or "not given", size=10)
    if data.role:
        pdf.row("Role", data.role, size=10)
    pdf.row("Exported (UTC)", _utc_text(data.exported_at), size=10)
    pdf.row("Exported (local time)", _exported_local(data.exported_at), size=10)
    pdf.row("Prepared for", _audience(data.audience), size=10)
    pdf.row("Incidents", str(len(data.incidents)), size=10)
    pdf.row("Captures", str(len(data.captures)), size=10)
    pdf.row("Trusted timestamp", _timestamp_sentence(data.timestamped), size=10)
    pdf.row("Bundle", data.bundle_name, style="url", size=10)
    pdf.row("Made with", f"Evidence Recorder {data.app_version}", size=10)

    pdf.heading("About these captures", 12)
    pdf.paragraph(HONEST_STATEMENT, 10)
    for sentence in _about_sentences(data):
        pdf.ln(1.5)
        pdf.paragraph(sentence, 10)

    _fingerprint_box(pdf)

    pdf.heading("How to check this bundle has not been altered", 12)
    for number, step in enumerate(_CHECK_STEPS, 1):
        pdf.font(10)
        pdf.cell(6, 4.8, f"{number}.")
        pdf.multi_cell(0, 4.8, step, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1)

    pdf.heading("Incidents", 12)
    if not data.incidents:
        pdf.paragraph("No incidents are recorded.", color=_MUTED)
    for incident in data.incidents:
        if pdf.will_page_break(14):
            pdf.add_page()
        pdf.paragraph(incident.title or "Untitled incident", 10.5, bold=True)
        if incident.started_at:
            pdf.paragraph(f"Started: {incident.started_at}", 9, color=_MUTED)
        if incident.description:
            pdf.ln(0.5)
            pdf.paragraph(incident.description, 9.5)
        pdf.ln(3)


# The manual commands come first: they need only standard tools, and they are what
# proves something. The scripts in the bundle come last, with the reason not to trust
# a copy that arrived with the evidence (README-VERIFY.txt says the same).
_CHECK_STEPS: Final = (
    "Unzip the bundle and, in its folder, check every file with a standard tool: "
    "sha256sum -c manifest-sha256.txt and sha256sum -c tagmanifest-sha256.txt (on "
    "Windows, certutil -hashfile FILE SHA256 for each file, compared with its line in "
    "the manifest). Every file in the folder must be listed in one of the two "
    "manifests, apart from the seal's own files; anything else was added later.",
    "Check the seal: ssh-keygen -Y verify -f allowed_signers -I IDENTITY -n "
    "evidence-recorder-bundle -s tagmanifest-sha256.txt.sig < tagmanifest-sha256.txt, "
    "where IDENTITY is the first word of allowed_signers. It must print Good "
    "\"evidence-recorder-bundle\" signature. README-VERIFY.txt in the folder gives each "
    "command in full.",
    "If a trusted timestamp is included: openssl ts -verify -in "
    "tagmanifest-sha256.txt.sig.tsr -data tagmanifest-sha256.txt.sig -CAfile with the "
    "authority's root certificate, taken from the authority itself.",
    "Compare the seal's number or fingerprint with the one the sender gives you by phone.",
    "Evidence Recorder runs the same checks when you open the .zip file in it (Verify a "
    "bundle). The scripts in the bundle, verify.sh and verify.cmd, run them too, but a "
    "script inside a bundle proves nothing by itself: whoever altered the bundle could "
    "have altered the script. Use the copies published with Evidence Recorder "
    "(docs/verify/ in its source code) or type the commands.",
)


def _timestamp_sentence(timestamped: bool) -> str:
    if timestamped:
        return ("Included: a time-stamping authority (RFC 3161) countersigned the bundle's "
                "seal (tagmanifest-sha256.txt.sig.tsr). Checked against that authority's root "
                "certificate, it shows the bundle existed, as it is, no later than the time it "
                "records.")
    return "Not included: the times are those of the sender's computer clock."


def _about_sentences(data: ReportData) -> list[str]:
    """What the recipient should know beyond the statement: imports and redactions."""
    sentences = []
    imported = sum(1 for item in data.captures if item.capture.kind is CaptureKind.IMPORT)
    if imported:
        pictures = "picture was" if imported == 1 else "pictures were"
        sentences.append(
            f"{imported} {pictures} not captured on screen but imported from a file (for "
            "example a screenshot taken on a phone): the fingerprint dates from the import, "
            "and any date written in the file cannot be verified.")
    covered = [item for item in data.captures if item.shows_redacted_copy and item.covered]
    if covered:
        kept = sum(1 for item in covered if not item.original_path)
        sentences.append(_redaction_sentence(len(covered), kept))
    return sentences


def _redaction_sentence(count: int, kept: int = 0) -> str:
    pictures = "picture is a covered copy" if count == 1 else "pictures are covered copies"
    if kept == 0:
        where = "and the unaltered original is in the bundle."
    elif kept == count:
        where = ("and the sender kept the original: it is not in this bundle." if count == 1
                 else "and the sender kept the originals: they are not in this bundle.")
    else:
        where = (f"and the sender kept {kept} of the originals: those are not in this "
                 "bundle.")
    return (f"{count} {pictures}: some content was covered with solid blocks to protect "
            f"other people. Each is marked, {where}")


def _seal_number_html(number: str) -> list[str]:
    """The seal number in rows of four groups; no group breaks across lines."""
    if not number:
        return []
    rows = "<br>".join(" ".join(f"<span>{_h(group, multiline=False)}</span>"
                                for group in row.split())
                       for row in seal_number_rows(number))
    return [f'<div class="muted"><strong>{_h(SEAL_NUMBER_LABEL)}</strong></div>',
            f'<div class="sealno">{rows}</div>']


def _fingerprint_box(pdf: _ReportPDF) -> None:
    rows = seal_number_rows(pdf.data.seal_number) if pdf.data.seal_number else []
    height = 31 + (7 + 8 * len(rows) if rows else 0)
    if pdf.will_page_break(height + 8):
        pdf.add_page()
    pdf.ln(5)
    top = pdf.get_y()
    pdf.set_fill_color(*_SHADE)
    pdf.set_draw_color(*_RULE)
    pdf.rect(pdf.l_margin, top, pdf.epw, height, style="DF")
    pdf.set_xy(pdf.l_margin + 5, top + 4)
    pdf.font(9, bold=True, color=_MUTED)
    pdf.cell(0, 4, "Signing key fingerprint", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_x(pdf.l_margin + 5)
    pdf.font(14, mono=True)
    pdf.multi_cell(pdf.epw - 10, 7, pdf.m(pdf.data.fingerprint or "not available"),
                   align=Align.L, wrapmode=WrapMode.CHAR, new_x=XPos.LMARGIN,
                   new_y=YPos.NEXT)
    if rows:
        # Digits are what a person can read out by phone; each row is one cell, so a
        # group of five is never split between lines.
        pdf.ln(1.5)
        pdf.set_x(pdf.l_margin + 5)
        pdf.font(9, bold=True, color=_MUTED)
        pdf.cell(0, 4, SEAL_NUMBER_LABEL, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.font(16, mono=True)
        for row in rows:
            pdf.set_x(pdf.l_margin + 5)
            pdf.cell(0, 8, row, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1)
    pdf.set_x(pdf.l_margin + 5)
    pdf.font(10, bold=True)
    pdf.cell(0, 5, (CONFIRM_SEAL if rows else CONFIRM_FINGERPRINT) + ", not by e-mail or message.",
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_x(pdf.l_margin + 5)
    pdf.font(8.5, color=_MUTED)
    pdf.multi_cell(pdf.epw - 10, 4, "If it differs, this bundle was not sealed with their "
                   "key and should not be relied on.", align=Align.L,
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_y(max(pdf.get_y(), top + height) + 2)


# The timeline's columns after the number and the capture time, named as the fields are;
# the author's column holds their handle too.
_TIMELINE_FIELD_HEADINGS: Final = (
    fields.SITE.title, f"{fields.AUTHOR.title} / {fields.HANDLE.title.lower()}",
    fields.POSTED_AT.title, fields.CATEGORY.title, fields.DESCRIPTION.title)


def _timeline(pdf: _ReportPDF) -> None:
    pdf.add_page(orientation="L")
    pdf.font(16, bold=True, color=_ACCENT)
    pdf.cell(0, 8, "Timeline", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.paragraph("Every capture in the order it was taken. Capture times come from the "
                  "sender's computer clock; “Posted” is the time as the post showed it, "
                  "which may be relative (for example “2h”).", 9, color=_MUTED)
    pdf.ln(3)
    if not pdf.data.captures:
        pdf.paragraph("This bundle holds no captures.", 10)
        return
    headings = ("#", "Captured (UTC and local)", *_TIMELINE_FIELD_HEADINGS)
    rows = [
        (
            str(number),
            _timeline_time(item.capture),
            pdf.t(_one_line(item.capture.details.site, 60)),
            pdf.t("\n".join(_one_line(part, 50) for part in
                            _author_handle(item.capture).split("\n") if part)),
            pdf.t(_one_line(_posted(item.capture), 50)),
            pdf.t(_category(item.capture.details.category)),
            pdf.t(_one_line(item.capture.details.description, 160)),
        )
        for number, item in enumerate(pdf.data.captures, 1)
    ]
    pdf.font(8)
    pdf.shape_for(*(text for cells in rows for text in cells))
    _TimelineTable(pdf, headings).draw(rows)


class _TimelineTable:
    """The timeline's rows, drawn cell by cell.

    fpdf2's ``table()`` lays out every cell with its full line breaker, which made the
    timeline of a large export take longer than sealing the files; here a cell that
    fits on one line is measured once, and only longer text goes through the breaker.
    """

    WIDTHS: Final = (7, 44, 30, 44, 30, 36, 74)
    LINE_H: Final = 3.8
    PAD_V: Final = 1.4
    PAD_H: Final = 1.2

    def __init__(self, pdf: _ReportPDF, headings: tuple[str, ...]) -> None:
        self.pdf = pdf
        self.headings = headings
        scale = pdf.epw / sum(self.WIDTHS)
        self.widths = [w * scale for w in self.WIDTHS]

    def draw(self, rows: Sequence[tuple[str, ...]]) -> None:
        pdf = self.pdf
        margin, auto_break, self.bottom = pdf.c_margin, pdf.auto_page_break, pdf.b_margin
        pdf.c_margin = 0
        try:
            self._row(self.headings, heading=True)
            for number, cells in enumerate(rows):
                self._row(tuple(text or "–" for text in cells), shaded=number % 2 == 1)
        finally:
            pdf.c_margin = margin
            pdf.set_auto_page_break(auto_break, self.bottom)

    def _lines(self, text: str, width: float) -> list[str]:
        pdf = self.pdf
        lines: list[str] = []
        for part in text.split("\n"):
            if not pdf.text_shaping and pdf.get_string_width(part) <= width - 0.01:
                lines.append(part)
            else:
                broken = pdf.multi_cell(width, self.LINE_H, part, dry_run=True,
                                        output=MethodReturnValue.LINES)
                assert isinstance(broken, list)
                lines += broken
        return lines

    def _row(self, cells: tuple[str, ...], *, heading: bool = False,
             shaded: bool = False) -> None:
        pdf = self.pdf
        if heading:
            pdf.font(8, bold=True, color=_ACCENT)
        else:
            pdf.font(8)
        inner = [w - 2 * self.PAD_H for w in self.widths]
        lines = [self._lines(text, w) for text, w in zip(cells, inner, strict=True)]
        height = max(len(cell) for cell in lines) * self.LINE_H + 2 * self.PAD_V
        pdf.set_auto_page_break(True, self.bottom)  # (set_auto_page_break resets the margin)
        if not heading and pdf.will_page_break(height):
            pdf.add_page(orientation="L")
            self._row(self.headings, heading=True)
            pdf.font(8)
        pdf.set_auto_page_break(False, self.bottom)
        top, x = pdf.get_y(), pdf.l_margin
        if heading or shaded:
            pdf.set_fill_color(*(_SHADE if heading else (250, 250, 250)))
            pdf.rect(pdf.l_margin, top, pdf.epw, height, style="F")
        for width, cell_lines in zip(self.widths, lines, strict=True):
            for index, line in enumerate(cell_lines):
                line_top = top + self.PAD_V + index * self.LINE_H
                if pdf.text_shaping:
                    pdf.set_xy(x + self.PAD_H, line_top)
                    pdf.cell(width - 2 * self.PAD_H, self.LINE_H, line)
                else:
                    pdf.line_at(x + self.PAD_H, line_top, self.LINE_H, line)
            x += width
        pdf.set_draw_color(*_RULE)
        pdf.set_line_width(0.2)
        pdf.line(pdf.l_margin, top + height, pdf.l_margin + pdf.epw, top + height)
        pdf.set_xy(pdf.l_margin, top + height)


def _timeline_time(capture: Capture) -> str:
    """Capture time in two short lines: UTC, then local with its offset."""
    utc = _utc_text(capture.captured_at)
    offset = _parse_offset(capture.utc_offset)
    if offset is None:
        return f"{utc}\nlocal time not recorded"
    local = _utc(capture.captured_at).astimezone(timezone(offset))
    return f"{utc}\n{local:%Y-%m-%d %H:%M:%S} {capture.utc_offset.strip()}"


def _report_jpeg(data: bytes, name: str) -> bytes:
    """``data`` itself when it is a baseline JPEG that fits the page (the export's
    previews are), so it goes into the PDF without being decoded; otherwise a reduced
    copy. Header-only checks: nothing is decoded to decide."""
    try:
        with PILLOW_LOCK, Image.open(io.BytesIO(data), formats=["JPEG"]) as image:
            fits = max(image.size) <= PDF_IMAGE_MAX_SIDE and image.mode in {"RGB", "L"}
    except (OSError, ValueError, Image.DecompressionBombError):
        fits = False
    return data if fits else make_thumbnail(data, PDF_IMAGE_MAX_SIDE, name=name)


def _picture(pdf: _ReportPDF, item: ReportCapture, image: bytes) -> None:
    """The picture, as large as fits, with what it is written above it."""
    where = (f"the bundle at {item.original_path}" if item.original_path
             else "the sender's vault (it is not in this bundle)")
    if item.shows_redacted_copy:
        note = _copy_note(item)
        lines = [note] if note == COVERED_KEPT else [note, where]
        pdf.set_fill_color(255, 243, 205)
        pdf.font(9, bold=True)
    else:
        lines = ["Original capture, reduced in size for this report.",
                 f"Full resolution in {where}"]
        pdf.set_fill_color(*_SHADE)
        pdf.font(9)
    if item.shows_redacted_copy and pdf.get_string_width(" ".join(lines)) < pdf.epw - 6:
        lines = [" ".join(lines)]
    lines = [pdf.t(line, multiline=False) for line in lines]
    pdf.shape_for(*lines)
    box = 3.0 + 5 * len(lines)
    if pdf.text_shaping or pdf.will_page_break(box) or \
            max(pdf.get_string_width(line) for line in lines) > pdf.epw - 6:
        pdf.multi_cell(0, 5, " ".join(lines), align=Align.L, fill=True,
                       padding=Padding(1.5, 2.5, 1.5, 2.5), new_x=XPos.LMARGIN,
                       new_y=YPos.NEXT)
    else:
        top = pdf.get_y()
        pdf.rect(pdf.l_margin, top, pdf.epw, box, style="F")
        for index, line in enumerate(lines):
            pdf.line_at(pdf.l_margin + 2.5, top + 1.5 + 5 * index, 5, line)
        pdf.set_xy(pdf.l_margin, top + box)
    pdf.ln(2.5)
    if not image:  # an export of so many captures that not every picture fits
        pdf.paragraph("This report holds too many captures to show every picture; the "
                      "file in the bundle is the record.", 10, color=_MUTED)
        pdf.ln(4)
        return
    try:
        jpeg = _report_jpeg(image, item.original_path or item.redacted_path or "")
        with PILLOW_LOCK, Image.open(io.BytesIO(jpeg)) as shown:
            width_px, height_px = shown.size
    except RefusedInput:
        pdf.paragraph("The picture could not be shown in this report; the file in the bundle "
                      "is the record.", 10, color=_MUTED)
        pdf.ln(4)
        return
    room = pdf.h - pdf.b_margin - pdf.get_y() - 4
    scale = min(pdf.epw / width_px, room / height_px, _MAX_MM_PER_PIXEL)
    width, height = width_px * scale, height_px * scale
    left = pdf.l_margin + (pdf.epw - width) / 2
    top = pdf.get_y()
    pdf.image(io.BytesIO(jpeg), x=left, y=top, w=width, h=height,
              alt_text=f"Capture {item.capture.id}")
    pdf.set_draw_color(*_RULE)
    pdf.set_line_width(0.2)
    pdf.rect(left, top, width, height)
    pdf.set_y(top + height + 5)


def _capture_section(pdf: _ReportPDF, number: int, item: ReportCapture, image: bytes) -> None:
    pdf.add_page(orientation="P")
    capture = item.capture
    pdf.font(15, bold=True, color=_ACCENT)
    pdf.cell(pdf.epw * 0.7, 7, f"Capture {number} of {len(pdf.data.captures)}")
    pdf.font(9, color=_MUTED)
    pdf.cell(0, 7, f"Record no. {capture.id}", align=Align.R,
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.font(10, color=_MUTED)
    pdf.shape_for(item.incident_title)
    pdf.text_block(pdf.epw, 5, pdf.t(_one_line(item.incident_title, 200), multiline=False))
    pdf.ln(2)
    _picture(pdf, item, image)
    if not pdf.will_page_break(12):
        pdf.rule(0.5)
    for label, value, style in _fields(item):
        pdf.row(label, value, style=style)


def write_pdf(data: ReportData, out: BinaryIO) -> None:
    """Write the printable report into ``out``; nothing else is written anywhere."""
    out.write(render_pdf(data))


def render_pdf(data: ReportData, pictures: Iterator[bytes] | None = None) -> bytearray:
    """The printable report, made in memory.

    ``pictures``, when given, yields each capture's picture in turn in place of
    :attr:`ReportCapture.image`: an export makes the report in a second thread while
    it seals the files, and hands over each picture as it gets to that capture.
    """
    pdf = _ReportPDF(data)
    try:
        _cover(pdf)
        _timeline(pdf)
        for number, item in enumerate(data.captures, 1):
            image = item.image if pictures is None else next(pictures)
            _capture_section(pdf, number, item, image)
        return pdf.output()  # closes the font files it opened
    except BaseException:
        for font in pdf.fonts.values():
            if hasattr(font, "close"):
                font.close()
        raise


# ---------------------------------------------------------------------------
# HTML


def _h(text: str, *, multiline: bool = True) -> str:
    """Escape for HTML text and attributes alike, after making controls visible."""
    return html.escape(visible_text(text, multiline=multiline), quote=True)


def _src(path: str) -> str:
    return html.escape(quote(path, safe="/"), quote=True)


_CSS: Final = """
:root { color-scheme: light; }
body { font: 15px/1.5 "DejaVu Sans", "Segoe UI", Arial, sans-serif; color: #191919;
       max-width: 60em; margin: 2em auto; padding: 0 1.5em; }
h1 { color: #183456; font-size: 2em; margin: 0 0 .1em; }
h2 { color: #183456; font-size: 1.3em; margin: 1.8em 0 .6em;
     border-bottom: 1px solid #bbb; padding-bottom: .2em; }
.sub, .muted { color: #5f5f5f; }
dl.facts { display: grid; grid-template-columns: 16em 1fr; gap: .35em 1em; margin: 0; }
dl.facts dt { color: #5f5f5f; font-weight: bold; }
dl.facts dd { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.mono, .fp { font-family: "DejaVu Sans Mono", Consolas, monospace; }
.fpbox { background: #f2f2f2; border: 1px solid #bbb; padding: 1em 1.3em; margin: 1.5em 0; }
.fp { font-size: 1.5em; overflow-wrap: anywhere; }
.sealno { font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: 1.5em;
          margin: 0.2em 0; }
.sealno span { white-space: nowrap; }
.incident { margin-bottom: 1em; }
.incident p { white-space: pre-wrap; overflow-wrap: anywhere; margin: .2em 0; }
table { border-collapse: collapse; width: 100%; font-size: .85em; }
th, td { text-align: left; vertical-align: top; padding: .35em .5em;
         border-bottom: 1px solid #ccc; overflow-wrap: anywhere; }
th { background: #f2f2f2; color: #183456; }
section.capture { border-top: 2px solid #183456; margin-top: 2.5em; padding-top: .5em; }
.note { background: #f2f2f2; padding: .4em .7em; }
.note.redacted { background: #fff3cd; font-weight: bold; }
figure { margin: 1em 0; text-align: center; }
figure img { max-width: 100%; height: auto; border: 1px solid #bbb; }
.empty { color: #5f5f5f; font-style: italic; }
footer { margin-top: 3em; font-size: .85em; color: #5f5f5f; }
@media print { section.capture { break-before: page; } body { max-width: none; } }
"""

_CSP: Final = (
    "default-src 'none'; img-src 'self' file:; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'"
)


def _facts(rows: Iterable[tuple[str, str, str]]) -> str:
    parts = ['<dl class="facts">']
    for label, value, style in rows:
        parts.append(f"<dt>{_h(label)}</dt>")
        if not value:
            parts.append('<dd class="empty">not recorded</dd>')
        else:
            css = ' class="mono"' if style == "mono" else ""
            parts.append(f"<dd{css}><bdi>{_h(value)}</bdi></dd>")
    parts.append("</dl>")
    return "\n".join(parts)


def write_html(data: ReportData) -> bytes:
    """The same report as one HTML page that sits at the bag root beside ``data/``.

    No script, no external resources (a Content-Security-Policy says so too); pictures
    are referenced by their bundle-relative paths. URLs of evidence are shown as text,
    not links, so a hostile ``javascript:`` or tracking link cannot be followed by a click.
    """
    out: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en-GB">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="referrer" content="no-referrer">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{TITLE}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>{TITLE}</h1>",
        f'<p class="sub">Prepared for {_h(_audience(data.audience))} · confidential</p>',
        "</header>",
        _facts([
            ("Exported by", data.exported_by or "not given", ""),
            ("Role", data.role or "not given", ""),
            ("Exported (UTC)", _utc_text(data.exported_at), ""),
            ("Exported (local time)", _exported_local(data.exported_at), ""),
            ("Prepared for", _audience(data.audience), ""),
            ("Incidents", str(len(data.incidents)), ""),
            ("Captures", str(len(data.captures)), ""),
            ("Trusted timestamp", _timestamp_sentence(data.timestamped), ""),
            ("Bundle", data.bundle_name, ""),
            ("Made with", f"Evidence Recorder {data.app_version}", ""),
        ]),
        "<h2>About these captures</h2>",
        f"<p>{_h(HONEST_STATEMENT)}</p>",
    ]
    out += [f"<p>{_h(sentence)}</p>" for sentence in _about_sentences(data)]
    out += [
        '<div class="fpbox">',
        '<div class="muted"><strong>Signing key fingerprint</strong></div>',
        f'<div class="fp">{_h(data.fingerprint or "not available", multiline=False)}</div>',
        *_seal_number_html(data.seal_number),
        f"<p><strong>{CONFIRM_SEAL if data.seal_number else CONFIRM_FINGERPRINT}, not by "
        "e-mail or message.</strong><br>",
        '<span class="muted">If it differs, this bundle was not sealed with their key '
        "and should not be relied on.</span></p>",
        "</div>",
        "<h2>How to check this bundle has not been altered</h2>",
        "<ol>",
        *(f"<li>{_h(step)}</li>" for step in _CHECK_STEPS),
        "</ol>",
        "<h2>Incidents</h2>",
    ]
    if not data.incidents:
        out.append('<p class="empty">No incidents are recorded.</p>')
    for incident in data.incidents:
        out.append('<div class="incident">')
        out.append(f"<h3><bdi>{_h(incident.title or 'Untitled incident', multiline=False)}"
                   "</bdi></h3>")
        if incident.started_at:
            out.append(f'<p class="muted">Started: <bdi>{_h(incident.started_at)}</bdi></p>')
        if incident.description:
            out.append(f"<p><bdi>{_h(incident.description)}</bdi></p>")
        out.append("</div>")

    out += [
        "<h2>Timeline</h2>",
        '<p class="muted">Every capture in the order it was taken. Capture times come from '
        "the sender's computer clock; “Posted” is the time as the post showed it, which may "
        "be relative (for example “2h”).</p>",
    ]
    if data.captures:
        out.append("<table><thead><tr><th>#</th><th>Captured (UTC and local)</th>"
                   + "".join(f"<th>{_h(text)}</th>" for text in _TIMELINE_FIELD_HEADINGS)
                   + "</tr></thead><tbody>")
        for number, item in enumerate(data.captures, 1):
            capture = item.capture
            who = "<br>".join(f"<bdi>{_h(part, multiline=False)}</bdi>"
                              for part in _author_handle(capture).split("\n") if part)
            out.append(
                f'<tr><td><a href="#capture-{number}">{number}</a></td>'
                f"<td>{_h(_timeline_time(capture)).replace(chr(10), '<br>')}</td>"
                f"<td><bdi>{_h(capture.details.site, multiline=False)}</bdi></td>"
                f"<td>{who}</td>"
                f"<td><bdi>{_h(capture.details.posted_at, multiline=False)}</bdi></td>"
                f"<td>{_h(_category(capture.details.category))}</td>"
                f"<td><bdi>{_h(_one_line(capture.details.description, 200))}</bdi></td></tr>"
            )
        out.append("</tbody></table>")
    else:
        out.append('<p class="empty">This bundle holds no captures.</p>')

    total = len(data.captures)
    for number, item in enumerate(data.captures, 1):
        shown = item.redacted_path if item.shows_redacted_copy and item.redacted_path \
            else item.original_path
        if item.shows_redacted_copy:
            text = _copy_note(item)
            link = (f' the bundle at <a href="{_src(item.original_path)}">'
                    f'{_h(item.original_path)}</a>' if item.original_path else "")
            note = f'<p class="note redacted">{_h(text)}{link}</p>'
            alt = (f"Capture {number}, covered copy" if item.covered
                   else f"Capture {number}, marked copy")
        else:
            note = ('<p class="note">Original capture: '
                    f'<a href="{_src(item.original_path)}">{_h(item.original_path)}</a></p>')
            alt = f"Capture {number}"
        out += [
            f'<section class="capture" id="capture-{number}">',
            f"<h2>Capture {number} of {total} "
            f'<span class="muted">(record no. {item.capture.id})</span></h2>',
            note,
            f'<figure><img src="{_src(shown)}" alt="{_h(alt)}" loading="lazy"></figure>',
            _facts(_fields(item)),
            "</section>",
        ]
    out += [
        f"<footer>{_h(data.bundle_name)} · exported {_h(_utc_text(data.exported_at))} · "
        f"Evidence Recorder {_h(data.app_version)}</footer>",
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(out).encode("utf-8")
