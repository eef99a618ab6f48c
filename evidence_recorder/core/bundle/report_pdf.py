"""The printable report: :func:`write_pdf` and :func:`render_pdf` lay out the cover, the
timeline and one section per capture on A4 pages with fpdf2, in the words of
:mod:`.report_words`.

Characters the embedded font cannot draw are shown as ``[U+XXXX]`` markers; nothing is
written to disk, pictures are reduced in memory and the PDF goes straight into the
caller's stream.

Packaging: the PDF embeds the DejaVu fonts from ``resources/fonts/``, found through
:func:`evidence_recorder.core.paths.resource_dir` (the repository root in a checkout, the
unpacked tree in a frozen build; packaging/evidence-recorder.spec ships the folder).
"""

from __future__ import annotations

import importlib.util
import io
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import BinaryIO, Final

from fontTools.ttLib import TTFont
from fpdf import FPDF, Align, XPos, YPos
from fpdf.enums import MethodReturnValue, WrapMode
from fpdf.util import Padding
from PIL import Image

from evidence_recorder.core import paths
from evidence_recorder.core.bundle.report_data import ReportCapture, ReportData
from evidence_recorder.core.bundle.report_words import (
    _CHECK_STEPS,
    _TIMELINE_FIELD_HEADINGS,
    CONFIRM_FINGERPRINT,
    CONFIRM_SEAL,
    CONVERSATION_INTRO,
    COVERED_KEPT,
    DERIVED_NOTE,
    HONEST_STATEMENT,
    SEAL_NUMBER_LABEL,
    TITLE,
    _about_sentences,
    _audience,
    _author_handle,
    _category,
    _copy_note,
    _exported_local,
    _fields,
    _needs_shaping,
    _one_line,
    _posted,
    _timeline_time,
    _timestamp_sentence,
    _utc,
    _utc_text,
    attachment_rows,
    conversation_runs,
    email_rows,
    flag_words,
    message_heading,
    timeline_description,
    timeline_site,
    visible_text,
)
from evidence_recorder.core.bundle.sealnumber import seal_number_rows
from evidence_recorder.core.errors import RefusedInput
from evidence_recorder.core.gather.images import PILLOW_LOCK, make_thumbnail

FONT_DIR: Final = paths.resource_dir() / "fonts"
SANS: Final = "DejaVuSans"
MONO: Final = "DejaVuSansMono"
_FONT_FILES: Final = {
    (SANS, ""): "DejaVuSans.ttf",
    (SANS, "B"): "DejaVuSans-Bold.ttf",
    (MONO, ""): "DejaVuSansMono.ttf",
}
# Longest side of a picture as embedded in the PDF: sharp on paper, small in the file.
PDF_IMAGE_MAX_SIDE: Final = 1600
PAGE_COUNT_ALIAS: Final = "{nb_total}"
# Never blow a small crop up beyond this many millimetres per pixel (about 50 dpi).
_MAX_MM_PER_PIXEL: Final = 0.5


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
            pdf.t(_one_line(timeline_site(item.capture), 60)),
            pdf.t("\n".join(_one_line(part, 50) for part in
                            _author_handle(item.capture).split("\n") if part)),
            pdf.t(_one_line(_posted(item.capture), 50)),
            pdf.t(_category(item.capture.details.category)),
            pdf.t(_one_line(timeline_description(item.capture), 160)),
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


def _page_slices(pdf: _ReportPDF, number: int, item: ReportCapture,
                 slices: Sequence[bytes]) -> None:
    """A web page's full-page picture, page-wide, one slice a page, labelled in order."""
    names = list(item.page_parts)
    if item.shows_redacted_copy and item.redacted_path and names:
        names[0] = f"{item.redacted_path.rsplit('/', 1)[-1]} (the first part as a covered copy)"
    where = f"full resolution in the bundle: {', '.join(names)}"
    for index, jpeg in enumerate(slices, 1):
        pdf.add_page(orientation="P")
        pdf.font(9, bold=True)
        pdf.set_fill_color(*_SHADE)
        label = f"Capture {number}, the whole page: part {index} of {len(slices)}"
        pdf.multi_cell(0, 5, pdf.t(label, multiline=False), align=Align.L, fill=True,
                       padding=Padding(1.5, 2.5, 0.5, 2.5), new_x=XPos.LMARGIN,
                       new_y=YPos.NEXT)
        pdf.font(8, color=_MUTED)
        pdf.multi_cell(0, 4, pdf.t(f"Reduced in size for this report; {where}.",
                                   multiline=False),
                       align=Align.L, fill=True, padding=Padding(0, 2.5, 1.5, 2.5),
                       new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(2)
        try:
            with PILLOW_LOCK, Image.open(io.BytesIO(jpeg), formats=["JPEG"]) as shown:
                width_px, height_px = shown.size
        except (OSError, ValueError):
            pdf.paragraph("This part could not be shown in this report; the file in the "
                          "bundle is the record.", 10, color=_MUTED)
            continue
        room = pdf.h - pdf.b_margin - pdf.get_y() - 2
        scale = min(pdf.epw / width_px, room / height_px)
        width, height = width_px * scale, height_px * scale
        top = pdf.get_y()
        pdf.image(io.BytesIO(jpeg), x=pdf.l_margin, y=top, w=width, h=height,
                  alt_text=f"Capture {number}, part {index} of {len(slices)}")
        pdf.set_draw_color(*_RULE)
        pdf.set_line_width(0.2)
        pdf.rect(pdf.l_margin, top, width, height)
        pdf.set_y(top + height + 2)


def _note_box(pdf: _ReportPDF, text: str, fill: tuple[int, int, int] = _SHADE) -> None:
    pdf.set_fill_color(*fill)
    pdf.font(9)
    shown = pdf.t(text)
    pdf.shape_for(shown)
    pdf.multi_cell(0, 4.6, shown, align=Align.L, fill=True,
                   padding=Padding(1.5, 2.5, 1.5, 2.5), new_x=XPos.LMARGIN,
                   new_y=YPos.NEXT)
    pdf.ln(2)


def _emails(pdf: _ReportPDF, number: int, item: ReportCapture) -> None:
    """A page per e-mail: its headers, its text (flowing across pages), its files."""
    flagged = {flag.index: flag for flag in item.flags}
    total = len(item.messages) + item.left_out
    for shown, message in enumerate(item.messages, 1):
        pdf.add_page(orientation="P")
        title = f"Capture {number}: the e-mail" if total == 1 else \
            f"Capture {number}: e-mail {message.index + 1} of {total:,}"
        pdf.heading(title, 12)
        if message.index in flagged:
            _note_box(pdf, flag_words(flagged[message.index]), (255, 243, 205))
        for label, value, style in email_rows(message):
            pdf.row(label, value, style=style)
        pdf.heading("Text of the e-mail", 11)
        text = message.text
        if len(text) > _MAX_REPORT_BODY:
            text = text[:_MAX_REPORT_BODY] + (
                f"\n[… cut here for this report: the whole text ({len(message.text):,} "
                "characters) is in the original and in messages.json]")
        if text.strip():
            pdf.paragraph(text, 9.5)  # flows across as many pages as it needs
        else:
            pdf.paragraph("The e-mail has no text part.", color=_MUTED)
        if message.extra.get("body_html_kept"):
            pdf.ln(1)
            pdf.paragraph("The e-mail also has an HTML part: it is in the original file; "
                          "only its text is shown here.", 8.5, color=_MUTED)
        pdf.heading("Attachments", 11)
        lines = attachment_rows(message, item.files)
        if not lines:
            pdf.paragraph("None.", color=_MUTED)
        for line in lines:
            pdf.paragraph(f"• {line}", 8.5)
        del shown
    if item.left_out:
        pdf.ln(3)
        _note_box(pdf, f"{item.left_out:,} more e-mails of this mailbox are not printed in "
                       "this report; every one is in the original file and in "
                       f"{item.messages_path}.")


def _conversation(pdf: _ReportPDF, number: int, item: ReportCapture) -> None:
    """The flagged messages, each with its context, every message with its sender and
    its time as written and in UTC; the flagged one marked."""
    pdf.add_page(orientation="P")
    pdf.heading(f"Capture {number}: the flagged messages", 12)
    pdf.paragraph(CONVERSATION_INTRO, 9, color=_MUTED)
    pdf.ln(2)
    if not item.flags:
        pdf.paragraph("The sender flagged no message of this conversation; the whole "
                      f"conversation is in the bundle ({item.messages_path}).", 10)
        return
    flagged = {flag.index: flag for flag in item.flags}
    for run in conversation_runs(item):
        pdf.rule(1.5)
        for message in run:
            flag = flagged.get(message.index)
            if pdf.will_page_break(14):
                pdf.add_page(orientation="P")
            top = pdf.get_y()
            page = pdf.page
            if flag is not None:
                _note_box(pdf, flag_words(flag), (255, 243, 205))
            heading = message_heading(message)
            pdf.font(8.5, bold=True, color=_ACCENT if flag is not None else _MUTED)
            shown = pdf.t(heading, multiline=False)
            pdf.shape_for(shown)
            pdf.multi_cell(0, 4.2, shown, align=Align.L, new_x=XPos.LMARGIN,
                           new_y=YPos.NEXT)
            text = message.text or ("(no text)" if not message.attachments else "")
            if text:
                pdf.paragraph(text, 10 if flag is not None else 9.5,
                              bold=flag is not None)
            for line in attachment_rows(message, item.files):
                pdf.paragraph(f"Attached: {line}", 8, color=_MUTED)
            if flag is not None and pdf.page == page:  # a bar beside the flagged message
                pdf.set_fill_color(200, 120, 0)
                pdf.rect(pdf.l_margin - 3, top, 1.2, pdf.get_y() - top, style="F")
            pdf.ln(2)
    if item.left_out:
        _note_box(pdf, f"{item.left_out:,} more flagged messages are not printed in this "
                       f"report; metadata.json lists every flag and {item.messages_path} "
                       "holds the whole conversation.")


_MAX_REPORT_BODY: Final = 30_000


def _capture_section(pdf: _ReportPDF, number: int, item: ReportCapture,
                     image: bytes | tuple[bytes, ...]) -> None:
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
    if capture.messages is not None:  # an e-mail or a chat export: no picture
        _note_box(pdf, DERIVED_NOTE)
        for label, value, style in _fields(item, pdf.data.captures):
            pdf.row(label, value, style=style)
        if capture.kind.value == "email":
            _emails(pdf, number, item)
        else:
            _conversation(pdf, number, item)
        return
    slices = image if isinstance(image, tuple) else item.slices
    if not slices:
        _picture(pdf, item, image if isinstance(image, bytes) else b"")
        if not pdf.will_page_break(12):
            pdf.rule(0.5)
    for label, value, style in _fields(item, pdf.data.captures):
        pdf.row(label, value, style=style)
    if slices:  # a web page: the whole page after what was recorded of it
        _page_slices(pdf, number, item, slices)


def write_pdf(data: ReportData, out: BinaryIO) -> None:
    """Write the printable report into ``out``; nothing else is written anywhere."""
    out.write(render_pdf(data))


def render_pdf(data: ReportData,
               pictures: Iterator[bytes | tuple[bytes, ...]] | None = None) -> bytearray:
    """The printable report, made in memory.

    ``pictures``, when given, yields each capture's picture in turn in place of
    :attr:`ReportCapture.image` (for a web page, the slices of its full-page picture
    in place of :attr:`ReportCapture.slices`): an export makes the report in a second
    thread while it seals the files, and hands over each picture as it gets to that
    capture.
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
