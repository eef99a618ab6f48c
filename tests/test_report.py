"""The readable report: real PDFs read back with poppler, HTML parsed and checked for escapes.

The report data is built directly from model objects (no vault), with pictures made by
Pillow and text a hostile post could carry: markup, direction overrides, very long
fields, scripts the embedded font does not cover.
"""

from __future__ import annotations

import io
import random
import re
import subprocess
import sys
import tempfile
from dataclasses import replace
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from evidence_recorder.core.bundle import report, report_pdf, report_words
from evidence_recorder.core.bundle.report import (
    CONFIRM_FINGERPRINT,
    HONEST_STATEMENT,
    ReportCapture,
    ReportData,
    visible_text,
    write_html,
    write_pdf,
)
from evidence_recorder.core.model import (
    Capture,
    CaptureDetails,
    CaptureKind,
    ImportSource,
    Incident,
)

FINGERPRINT = "SHA256:Q3kGv0jU7mJ6yV2q1dQ2bZkQmWcS0nUq3p3eY4r1xk8"
EXPORTER = "Ms Sinéad Ní Bhriain-Łukasiewicz"
RLO = "\u202e"
LONG_DESCRIPTION = ("They wrote “I know where you live” again. " * 130)[:5000]
LONG_URL = "https://x.com/status/1?" + "&".join(f"p{i}=v{i}" for i in range(400))[:2000]
SCRIPT = "<script>alert('owned')</script>"


def _picture(width: int, height: int, fmt: str = "PNG", *, noisy: bool = False) -> bytes:
    image = Image.new("RGB", (width, height), (235, 242, 250))
    draw = ImageDraw.Draw(image)
    for line, y in enumerate(range(10, height - 20, 40)):
        draw.text((20, y), f"Post {line}: everyone knows what she did", fill=(20, 20, 20))
    if noisy:
        rng = random.Random(7)
        pixels = image.load()
        assert pixels is not None
        for _ in range(width * height // 20):
            pixels[rng.randrange(width), rng.randrange(height)] = (
                rng.randrange(256), rng.randrange(256), rng.randrange(256))
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def _capture(capture_id: int, incident_id: int, when: datetime, sha: str, details: CaptureDetails,
             *, kind: CaptureKind = CaptureKind.REGION, offset: str = "+00:00",
             tz_name: str = "Europe/London", source: ImportSource | None = None,
             size: tuple[int, int] = (1280, 720), media_type: str = "image/png") -> Capture:
    return Capture(
        id=capture_id, incident_id=incident_id, kind=kind, captured_at=when, tz_name=tz_name,
        utc_offset=offset, sha256=sha, width=size[0], height=size[1], media_type=media_type,
        byte_size=1234, environment={}, source=source, details=details,
    )


SHAS = ("1f" * 32, "a9" * 32, "0c" * 32)


@pytest.fixture(scope="module")
def data() -> ReportData:
    incidents = [
        Incident(1, "Posts on the parents’ Facebook group",
                 "A parent keeps posting about me.\nIt started after parents' evening.",
                 "2026-10-01", datetime(2026, 10, 1, tzinfo=UTC)),
        Incident(2, f"{SCRIPT} Fake account {RLO}gpj.exe", "Someone pretends to be me.", "",
                 datetime(2026, 10, 2, tzinfo=UTC)),
    ]
    first = _capture(
        12, 1, datetime(2026, 11, 20, 21, 5, 3, 123000, tzinfo=UTC), SHAS[0],
        CaptureDetails(
            site="Facebook", url="https://www.facebook.com/groups/123/posts/987?comment_id=42",
            author="Zoë O’Brien", handle="@zoe.ob", profile_url="https://facebook.com/zoe.ob",
            author_id="100004567", posted_at="3 March at 21:04", category="harassment",
            description="Calls me a liar in front of 40 parents.",
            context="Thread about the school trip.", people="Mr Ahmed (witness)",
            platform_ref="FB-REP-1234", police_ref="CR/0042/26",
        ),
    )
    second = _capture(
        13, 2, datetime(2026, 11, 21, 9, 0, tzinfo=UTC), SHAS[1],
        CaptureDetails(
            site="X <b>bold</b>", url=LONG_URL, author="Иван Петров 山田太郎 🧑 محمد",
            handle=f"@{RLO}live", posted_at="2h", category="threat",
            description=LONG_DESCRIPTION, context=SCRIPT,
        ),
        kind=CaptureKind.IMPORT, offset="+01:00", tz_name="Europe/Paris",
        source=ImportSource(f"IMG_0042 {RLO}gnp.jpg", 1000, "2026-11-21T08:00:00.000Z",
                            "2026:11:20 22:13:00"),
        size=(1170, 2532), media_type="image/jpeg",
    )
    third = _capture(14, 2, datetime(2026, 11, 22, 7, 30, tzinfo=UTC), SHAS[2],
                     CaptureDetails(), kind=CaptureKind.WINDOW, offset="", tz_name="",
                     size=(300, 120))
    captures = [
        ReportCapture(first, incidents[0].title, _picture(1280, 720), False,
                      "data/captures/12/original.png", None),
        ReportCapture(second, incidents[1].title, _picture(1170, 2532, "JPEG"), True,
                      "data/captures/13/original.jpeg", "data/captures/13/redacted.png",
                      covered=True),
        ReportCapture(third, incidents[1].title, _picture(300, 120), False,
                      "data/captures/14/original.png", None),
    ]
    return ReportData(
        exported_at=datetime(2026, 11, 25, 12, 0, tzinfo=UTC), exported_by=EXPORTER,
        role="Year 6 teacher", audience="headteacher", incidents=incidents,
        captures=captures, fingerprint=FINGERPRINT, app_version="0.1.0",
        bundle_name="evidence-2026-11-25T120000Z", timestamped=True,
    )


def _pdf(data: ReportData) -> bytes:
    out = io.BytesIO()
    write_pdf(data, out)
    return out.getvalue()


def _pdf_text(pdf: bytes, *, body_only: bool = False) -> str:
    """The text poppler reads; ``body_only`` leaves out the running header and footer."""
    # The header ends at 40 pt (14 mm) and the footer starts at 808 pt; body text may
    # run down to the page-break line at 791 pt (18 mm from the bottom).
    crop = ["-x", "0", "-y", "42", "-W", "842", "-H", "762"] if body_only else []
    done = subprocess.run(["pdftotext", "-enc", "UTF-8", *crop, "-", "-"], input=pdf,
                          capture_output=True, check=True)
    return done.stdout.decode("utf-8")


def _pages(pdf: bytes) -> int:
    done = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True)
    found = re.search(r"^Pages:\s+(\d+)$", done.stdout.decode(), re.MULTILINE)
    assert found
    return int(found.group(1))


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def pdf(data: ReportData) -> bytes:
    return _pdf(data)


# --- PDF -------------------------------------------------------------------


def test_pdf_is_a_pdf(pdf: bytes) -> None:
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")


def test_pdf_says_what_a_recipient_needs(pdf: bytes) -> None:
    text = _pdf_text(pdf)
    flat = _flat(text)
    assert "Record of online abuse" in flat
    assert FINGERPRINT in text
    assert CONFIRM_FINGERPRINT in flat
    assert HONEST_STATEMENT in flat
    assert EXPORTER in flat
    assert "Year 6 teacher" in flat
    assert "How to check this bundle has not been altered" in flat
    assert "README-VERIFY.txt" in flat
    assert "trusted timestamp" in flat.lower()
    for sha in SHAS:
        assert sha in text
    assert "Covered copy: the original is in the bundle at data/captures/13/original.jpeg" in flat
    assert "Date written in the file (not verified)" in flat
    assert "2026:11:20 22:13:00" in flat
    assert "Harassment or bullying" in flat  # the category's label, not its code
    assert "CR/0042/26" in flat


def test_pdf_shows_capture_times_in_utc_and_local(pdf: bytes) -> None:
    flat = _flat(_pdf_text(pdf))
    assert "2026-11-20 21:05:03.123 UTC" in flat
    assert "2026-11-21 09:00:00.000 UTC" in flat
    assert "2026-11-21 10:00:00 (UTC+01:00, Europe/Paris)" in flat
    assert "Exported 2026-11-25 12:00:00 UTC" in flat


def test_pdf_text_stays_above_the_footer(pdf: bytes) -> None:
    """Long values break onto the next page instead of running over the footer."""
    done = subprocess.run(["pdftotext", "-bbox", "-", "-"], input=pdf, capture_output=True,
                          check=True)
    words = re.findall(r'<page width="([\d.]+)" height="([\d.]+)">|'
                       r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)</word>',
                       done.stdout.decode())
    height = 0.0
    for _page_w, page_h, top, bottom, word in words:
        if page_h:
            height = float(page_h)
            continue
        footer = float(top) >= height - 34.5  # "Exported … Page N of M", 12 mm up
        assert footer or float(bottom) <= height - 18 / 25.4 * 72 + 2, (word, top, height)


def test_pdf_keeps_long_text_whole(pdf: bytes) -> None:
    text = _pdf_text(pdf, body_only=True)  # the description runs over a page break
    squeezed = "".join(text.split())
    assert "".join(LONG_URL.split()) in squeezed
    assert "".join(LONG_DESCRIPTION.split()) in squeezed


def test_pdf_page_count_is_sensible(data: ReportData, pdf: bytes) -> None:
    pages = _pages(pdf)
    # a cover, a timeline, a page or more per capture; the long fields add a few
    assert 2 + len(data.captures) <= pages <= 14
    assert f"Page {pages} of {pages}" in _pdf_text(pdf)


def test_pdf_shows_hidden_characters_instead_of_obeying_them(pdf: bytes) -> None:
    text = _pdf_text(pdf)
    assert RLO not in text
    assert "[U+202E]gnp.jpg" in text
    assert "Иван Петров" in text
    assert "محمد" in text  # shaped and in reading order, not "دمحم"
    # DejaVu has no CJK or emoji: shown as code points, not dropped and not a crash
    assert "[U+5C71][U+7530]" in text
    assert "[U+1F9D1]" in text


def test_pdf_pictures_are_reduced(data: ReportData) -> None:
    big = data.captures[0]
    huge = replace(big, image=_picture(4000, 3000, noisy=True),
                   capture=replace(big.capture, width=4000, height=3000))
    pdf = _pdf(replace(data, captures=[huge]))
    listing = subprocess.run(["pdfimages", "-list", "-"], input=pdf, capture_output=True,
                             check=True).stdout.decode()
    rows = [line.split() for line in listing.splitlines()[2:] if line.strip()]
    assert rows
    assert all(int(row[3]) <= report_pdf.PDF_IMAGE_MAX_SIDE for row in rows)
    assert all(int(row[4]) <= report_pdf.PDF_IMAGE_MAX_SIDE for row in rows)
    assert all(row[8] == "jpeg" for row in rows)
    assert len(pdf) < 3_000_000


def test_pdf_survives_a_picture_it_cannot_read(data: ReportData) -> None:
    broken = replace(data.captures[0], image=b"not a picture at all")
    flat = _flat(_pdf_text(_pdf(replace(data, captures=[broken]))))
    assert "could not be shown" in flat
    assert SHAS[0] in flat


def test_pdf_without_captures_or_exporter(data: ReportData) -> None:
    empty = replace(data, captures=[], incidents=[], exported_by="", role="", timestamped=False)
    flat = _flat(_pdf_text(_pdf(empty)))
    assert "Exported by not given" in flat
    assert "This bundle holds no captures." in flat
    assert "Not included" in flat


def test_pdf_writes_nothing_to_disk(data: ReportData, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    work, temp = tmp_path / "cwd", tmp_path / "tmp"
    work.mkdir()
    temp.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    out = io.BytesIO()
    write_pdf(data, out)
    write_html(data)
    assert out.getvalue().startswith(b"%PDF")
    assert list(work.iterdir()) == []
    assert list(temp.iterdir()) == []


def test_report_does_not_pull_in_qt() -> None:
    code = ("import sys, evidence_recorder.core.bundle.report; "
            "sys.exit(any(name.startswith('PySide6') for name in sys.modules))")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_fonts_and_their_license_ship_with_the_code() -> None:
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansMono.ttf", "LICENSE"):
        assert (report_pdf.FONT_DIR / name).is_file(), name
    assert "Bitstream" in (report_pdf.FONT_DIR / "LICENSE").read_text(encoding="utf-8")


# --- HTML ------------------------------------------------------------------


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attrs: list[tuple[str, str, str]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attrs += [(tag, name, value or "") for name, value in attrs]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.fixture(scope="module")
def page(data: ReportData) -> str:
    raw = write_html(data)
    return raw.decode("utf-8")


def _parsed(page: str) -> _Tags:
    parser = _Tags()
    parser.feed(page)
    parser.close()
    return parser


def test_html_escapes_hostile_text(page: str) -> None:
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(&#x27;owned&#x27;)&lt;/script&gt;" in page
    assert "<b>bold</b>" not in page
    assert RLO not in page
    assert "[U+202E]gnp.jpg" in page
    parsed = _parsed(page)
    assert parsed.tags <= {
        "html", "head", "meta", "title", "style", "body", "header", "p", "dl", "dt", "dd",
        "bdi", "h1", "h2", "h3", "div", "strong", "br", "span", "ol", "li", "table",
        "thead", "tbody", "tr", "th", "td", "a", "section", "figure", "img", "footer",
    }
    for tag, name, value in parsed.attrs:
        assert not name.startswith("on"), (tag, name)
        if name in {"src", "href"}:
            assert value.startswith(("data/", "#")), (tag, name, value)


def test_html_has_no_script_or_external_resources(page: str) -> None:
    assert "http-equiv=\"Content-Security-Policy\"" in page
    assert "default-src 'none'" in page
    lowered = page.lower()
    for needle in ("<link", "<iframe", "<object", "<embed", "url(", "@import", "javascript:"):
        assert needle not in lowered


def test_html_references_pictures_and_hashes(data: ReportData, page: str) -> None:
    assert 'src="data/captures/12/original.png"' in page
    assert 'src="data/captures/13/redacted.png"' in page  # the redacted copy is shown
    assert 'href="data/captures/13/original.jpeg"' in page  # and the original is named
    assert "Covered copy: the original is in the bundle at" in page
    for sha in SHAS:
        assert sha in page
    assert FINGERPRINT in page
    assert HONEST_STATEMENT.replace("'", "&#x27;") in page
    assert data.exported_by in page


def test_html_keeps_the_full_text(page: str) -> None:
    text = "".join(_parsed(page).text)
    assert LONG_DESCRIPTION in text
    assert LONG_URL in text
    assert "Иван Петров 山田太郎 🧑 محمد" in text  # the HTML keeps what the PDF font lacks


def test_html_without_exporter(data: ReportData) -> None:
    page = write_html(replace(data, exported_by="", captures=[])).decode("utf-8")
    assert "not given" in page
    assert "This bundle holds no captures." in page


# --- text ------------------------------------------------------------------


def test_visible_text_marks_controls_and_missing_glyphs() -> None:
    assert visible_text(f"a{RLO}b\u2066c\x07d") == "a[U+202E]b[U+2066]c[U+0007]d"
    assert visible_text("one\r\ntwo\tthree", multiline=False) == "one two three"
    assert visible_text("one\r\ntwo") == "one\ntwo"
    assert visible_text("é山", drawable=frozenset(map(ord, "é"))) == "é[U+5C71]"
    assert visible_text("\ud800") == "[U+D800]"


def test_a_handle_stored_without_at_reads_at_name(data: ReportData) -> None:
    """Vaults from before handles were stored as @name still hold some without the @."""
    old = replace(data.captures[2], capture=replace(
        data.captures[2].capture, details=CaptureDetails(author="Sam", handle="samj")))
    old_data = replace(data, captures=[old])
    assert ("Handle", "@samj", "") in report_words._fields(old)
    html = report.write_html(old_data).decode()
    assert "@samj" in html and ">samj<" not in html


def test_a_files_modified_time_reads_like_every_other_time(data: ReportData) -> None:
    imported = next(item for item in data.captures
                    if item.capture.source is not None and item.capture.source.file_mtime)
    rows = {label: value for label, value, _style in report_words._fields(imported)}
    assert rows["File's modified time (not verified)"] == "2026-11-21 08:00:00 UTC"
