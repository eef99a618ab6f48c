"""Web items in sealed bundles: the ``web`` block of evidence.json and its typed reader,
the README's words on a web page's files, and the report (PDF and HTML) with the page's
facts, its full-page picture sliced across pages, and "gone by" / "still there"."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import FAST_KDF, PASSPHRASE, REPO
from PIL import Image
from web_items import FINAL_URL, REQUESTED_URL, TITLE, add_web_item, png

from evidence_recorder.core.bundle.check import verify_bundle
from evidence_recorder.core.bundle.evidence import EvidenceDamaged, read_evidence
from evidence_recorder.core.bundle.opened import open_bundle
from evidence_recorder.core.bundle.report_slices import page_slices, slice_rows
from evidence_recorder.core.bundle.seal import ExportOptions, export_bundle
from evidence_recorder.core.model import CaptureDetails, CaptureKind, iso_utc
from evidence_recorder.core.vault.store import Vault

FIRST = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
LATER = datetime(2026, 12, 4, 16, 0, tzinfo=UTC)


def files_of(bundle: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(bundle) as zf:
        return {info.filename.split("/", 1)[1]: zf.read(info) for info in zf.infolist()}


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          check=True, text=True).stdout


def add_screenshot(vault: Vault) -> int:
    data = png(200, 100, "a screenshot")
    import hashlib

    from evidence_recorder.core.gather import images

    return vault.add_capture(
        kind=CaptureKind.REGION, original=data, sha256=hashlib.sha256(data).hexdigest(),
        media_type="image/png", width=200, height=100, captured_at=iso_utc(FIRST),
        tz_name="UTC", utc_offset="+00:00",
        environment={}, thumbnail=images.make_thumbnail(data, 256),
        details=CaptureDetails(site="Chat", description="a screenshot"))


@pytest.fixture(scope="module")
def gone_vault(tmp_path_factory: pytest.TempPathFactory) -> Iterator[
        tuple[Vault, Path, dict[str, int]]]:
    """A page captured, then checked again and found gone (404); a plain-http page
    checked again and still there; and a screenshot: sealed once for the module."""
    folder = tmp_path_factory.mktemp("gone")
    vault, _recovery = Vault.create(folder / "vault", PASSPHRASE, kdf=FAST_KDF)
    first = add_web_item(vault, when=FIRST)
    check = add_web_item(vault, when=LATER, http_status=404, page_state="gone",
                         page_state_reason="the server answered 404 (not found)",
                         recheck_of=first, title="Page not found", height=2000)
    plain = add_web_item(vault, when=FIRST, https=False, height=3000)
    again = add_web_item(vault, when=LATER, https=False, height=2000, recheck_of=plain)
    shot = add_screenshot(vault)
    out = folder / "out"
    out.mkdir()
    bundle = export_bundle(vault, out, options=ExportOptions(audience="police"))
    yield vault, bundle, {"first": first, "check": check, "plain": plain, "again": again,
                          "shot": shot}
    vault.close()


@pytest.fixture
def gone_bundle(gone_vault: tuple[Vault, Path, dict[str, int]]) -> tuple[Path, dict[str, int]]:
    return gone_vault[1], gone_vault[2]


@pytest.fixture
def sealed_vault(gone_vault: tuple[Vault, Path, dict[str, int]]) -> Vault:
    return gone_vault[0]


# ------------------------------------------------------------------ evidence.json


def test_a_web_item_travels_with_its_web_facts_and_the_bundle_verifies(
        sealed_vault: Vault, gone_bundle: tuple[Path, dict[str, int]]) -> None:
    bundle, ids = gone_bundle
    report = verify_bundle(bundle)
    assert report.ok, report.problems
    files = files_of(bundle)
    evidence = json.loads(files["data/evidence.json"])
    assert evidence["schema"] == 2  # additive: the schema number stays
    items = {item["id"]: item for item in evidence["items"]}
    for name in ("first", "check", "plain", "again"):
        stored = sealed_vault.capture(ids[name]).web
        assert stored is not None
        assert items[ids[name]]["web"] == stored.as_dict()
        metadata = json.loads(files[f"data/captures/{ids[name]}/metadata.json"])
        assert metadata["web"] == stored.as_dict()
    assert "web" not in items[ids["shot"]]
    names = {a["name"] for a in items[ids["first"]]["artefacts"]}
    assert names == {"full-page.png", "visible.png", "page.mhtml", "network.warc.gz",
                     "certificate-chain.pem"}


def test_the_reader_gives_each_item_its_web_record(
        sealed_vault: Vault, gone_bundle: tuple[Path, dict[str, int]]) -> None:
    bundle, ids = gone_bundle
    opened = open_bundle(bundle)
    try:
        contents = opened.contents
        assert contents is not None
        items = {item.id: item for item in contents.items}
        first = items[ids["first"]]
        assert first.web == sealed_vault.capture(ids["first"]).web
        assert first.web is not None and first.web.final_url == FINAL_URL
        assert items[ids["check"]].web is not None
        assert items[ids["check"]].web.recheck_of == ids["first"]  # type: ignore[union-attr]
        assert items[ids["shot"]].web is None
        # A web item's picture, hash and size are its primary artefact's (the full page).
        assert first.primary is not None and first.primary.name == "full-page.png"
        assert first.sha256 == sealed_vault.capture(ids["first"]).sha256
        assert first.media_type == "image/png"
        assert [a.name for a in first.artefacts_with("full-page")] == ["full-page.png"]
        assert opened.read(first.primary.path or "") \
            == sealed_vault.artefact_bytes(ids["first"])
    finally:
        opened.close()


def _evidence_with(gone: tuple[Path, dict[str, int]], change: Any) -> bytes:
    bundle, ids = gone
    evidence = json.loads(files_of(bundle)["data/evidence.json"])
    item = next(i for i in evidence["items"] if i["id"] == ids["first"])
    change(item["web"])
    return json.dumps(evidence).encode()


def test_unknown_web_keys_from_a_later_version_are_ignored(
        gone_bundle: tuple[Path, dict[str, int]]) -> None:
    data = _evidence_with(gone_bundle, lambda web: web.update(
        {"screen_recording": {"frames": 12}, "later_list": [1, 2]}))
    read = read_evidence(data)
    first = next(i for i in read.items if i.id == gone_bundle[1]["first"])
    assert first.web is not None and first.web.title == TITLE


@pytest.mark.parametrize(("change", "field", "why"), [
    (lambda web: web.update(http_status="200"), "http_status", "whole number"),
    (lambda web: web.update(http_status=-1), "http_status", "whole number"),
    (lambda web: web.update(http_status=10**6), "http_status", "at most 999"),
    (lambda web: web.update(final_url=None), "final_url", "should be text"),
    (lambda web: web.pop("final_url"), "final_url", "is missing"),
    (lambda web: web.update(title="x" * 200_000), "title", "longer than"),
    (lambda web: web.update(server_ip="1.2.3.4\x00"), "server_ip", "cannot hold"),
    (lambda web: web.update(redirects="https://a.example"), "redirects", "should be a list"),
    (lambda web: web.update(redirects=["https://a.example"] * 101), "redirects",
     "more than 100"),
    (lambda web: web.update(redirects=[7]), "redirects[0]", "should be text"),
    (lambda web: web.update(device_pixel_ratio=float("nan")), "device_pixel_ratio",
     "number from 0"),
    (lambda web: web.update(device_pixel_ratio=True), "device_pixel_ratio", "number from 0"),
    (lambda web: web.update(certificate_sha256="not a hash"), "certificate_sha256",
     "SHA-256"),
    (lambda web: web.update(recheck_of="5"), "recheck_of", "whole number"),
    (lambda web: web.update(scroll_height=[1]), "scroll_height", "whole number"),
])
def test_hostile_web_values_are_refused_plainly(
        gone_bundle: tuple[Path, dict[str, int]], change: Any, field: str,
        why: str) -> None:
    data = _evidence_with(gone_bundle, change)
    with pytest.raises(EvidenceDamaged) as caught:
        read_evidence(data)
    message = str(caught.value)
    assert f".web.{field}" in message and why in message
    assert "x" * 200 not in message  # the file is never quoted


def test_a_web_block_that_is_not_a_group_of_fields_is_refused(
        gone_bundle: tuple[Path, dict[str, int]]) -> None:
    bundle, ids = gone_bundle
    evidence = json.loads(files_of(bundle)["data/evidence.json"])
    for item in evidence["items"]:
        if item["id"] == ids["first"]:
            item["web"] = ["not", "fields"]
    with pytest.raises(EvidenceDamaged, match=r"web should be a group of fields"):
        read_evidence(json.dumps(evidence))


def test_a_tampered_web_block_breaks_the_seal(
        gone_bundle: tuple[Path, dict[str, int]], tmp_path: Path) -> None:
    bundle, ids = gone_bundle
    forged = tmp_path / "forged.zip"
    with zipfile.ZipFile(bundle) as source, zipfile.ZipFile(forged, "w") as out:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.endswith("data/evidence.json"):
                evidence = json.loads(data)
                for item in evidence["items"]:
                    if item["id"] == ids["check"]:
                        item["web"]["page_state"] = "available"
                data = json.dumps(evidence).encode()
            out.writestr(info, data)
    report = verify_bundle(forged)
    assert not report.ok
    assert any("evidence.json" in problem for problem in report.problems)


# ------------------------------------------------------------------ the README


def test_the_readme_says_what_a_web_pages_files_are_and_how_to_check_them(
        gone_bundle: tuple[Path, dict[str, int]], tmp_path: Path) -> None:
    bundle, ids = gone_bundle
    files = files_of(bundle)
    readme = files["README-VERIFY.txt"].decode()
    for words in ("network.warc.gz", "page.mhtml", "certificate-chain.pem",
                  "warcio check network.warc.gz",
                  "openssl x509 -in certificate-chain.pem -noout", "-subject -issuer -dates"):
        assert words in readme
    # The commands it gives work on the files the bundle holds.
    folder = tmp_path / "files"
    folder.mkdir()
    base = f"data/captures/{ids['first']}"
    (folder / "network.warc.gz").write_bytes(files[f"{base}/network.warc.gz"])
    (folder / "certificate-chain.pem").write_bytes(files[f"{base}/certificate-chain.pem"])
    warcio = Path(sys.executable).with_name("warcio")
    checked = subprocess.run([str(warcio), "check", "-v", "network.warc.gz"], cwd=folder,
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    shown = subprocess.run(["openssl", "x509", "-in", "certificate-chain.pem", "-noout",
                            "-subject", "-issuer", "-dates"], cwd=folder, check=True,
                           capture_output=True, text=True).stdout
    assert "social.example" in shown and "Example Test CA" in shown
    assert "notAfter=Jan 30" in shown


def test_a_bundle_without_web_pages_has_the_readme_it_had(vault: Vault,
                                                          tmp_path: Path) -> None:
    add_screenshot(vault)
    bundle = export_bundle(vault, tmp_path)
    readme = files_of(bundle)["README-VERIFY.txt"].decode()
    assert "warcio" not in readme and "Web pages" not in readme
    evidence = json.loads(files_of(bundle)["data/evidence.json"])
    assert all("web" not in item for item in evidence["items"])


# ------------------------------------------------------------------ the report


def test_the_report_shows_what_the_browser_recorded(
        sealed_vault: Vault, gone_bundle: tuple[Path, dict[str, int]], tmp_path: Path) -> None:
    bundle, ids = gone_bundle
    files = files_of(bundle)
    web = sealed_vault.capture(ids["first"]).web
    assert web is not None
    html = files["report.html"].decode()
    text = " ".join(pdf_text(files["report.pdf"], tmp_path).split())
    for shown in (html, text):
        assert FINAL_URL in shown
        assert REQUESTED_URL in shown  # the address asked for, which differs
        assert TITLE in shown
        assert "200 (OK)" in shown and "404 (Not Found)" in shown
        assert "203.0.113.7" in shown
        assert "CN=social.example" in shown and "CN=Example Test CA" in shown
        assert "2026-11-01 00:00:00 UTC" in shown and "2027-01-30 00:00:00 UTC" in shown
        assert "plain http: no certificate" in shown
        assert "network.warc.gz" in shown and "certificate-chain.pem" in shown
    assert web.certificate_sha256 in html
    assert "4 captures are web pages recorded in Evidence Recorder&#x27;s own browser" in html
    # The PDF breaks a 64-digit hash over lines in its column; its halves are there.
    assert web.certificate_sha256[:32] in text.replace(" ", "")


def test_the_report_says_gone_by_and_still_there(
        gone_bundle: tuple[Path, dict[str, int]], tmp_path: Path) -> None:
    bundle, ids = gone_bundle
    files = files_of(bundle)
    html = files["report.html"].decode()
    text = " ".join(pdf_text(files["report.pdf"], tmp_path).split())
    for shown in (html, text):
        assert ("Captured on 2026-12-01 09:30:00 UTC, gone by 2026-12-04 16:00:00 UTC: the "
                "page was no longer there (the server answered 404 (not found))") in shown
        assert f"Still there on 2026-12-04 16:00:00 UTC (checked again: record no. " \
               f"{ids['again']})" in shown
        assert f"A later check of record no. {ids['first']}" in shown


@pytest.mark.parametrize(("state", "words"), [
    ("login-wall", "the site asked to sign in instead of showing it, so it may be hidden "
                   "rather than deleted"),
    ("unreachable", "nothing answered at its address, which may be a passing fault"),
])
def test_gone_by_says_what_the_check_found_and_no_more(vault: Vault, tmp_path: Path,
                                                       state: str, words: str) -> None:
    first = add_web_item(vault, when=FIRST, height=2000)
    add_web_item(vault, when=LATER, height=2000, page_state=state, recheck_of=first,
                 http_status=None if state == "unreachable" else 200)
    bundle = export_bundle(vault, tmp_path)
    html = files_of(bundle)["report.html"].decode()
    assert f"gone by 2026-12-04 16:00:00 UTC: {words}" in html


def test_a_page_found_again_after_it_was_gone_is_still_there(vault: Vault,
                                                             tmp_path: Path) -> None:
    first = add_web_item(vault, when=FIRST, height=2000)
    add_web_item(vault, when=datetime(2026, 12, 2, tzinfo=UTC), height=2000,
                 page_state="unreachable", recheck_of=first, http_status=None)
    add_web_item(vault, when=LATER, height=2000, recheck_of=first)
    html = files_of(export_bundle(vault, tmp_path))["report.html"].decode()
    assert "Still there on 2026-12-04 16:00:00 UTC" in html
    assert "gone by" not in html


def test_a_tall_page_goes_across_as_many_pages_as_it_needs_in_order(
        vault: Vault, tmp_path: Path) -> None:
    """Two parts of 9,000 px: each is sliced page-wide, labelled part N of M, in order."""
    item = add_web_item(vault, height=9000, parts=2)
    bundle = export_bundle(vault, tmp_path)
    files = files_of(bundle)
    per_part = -(-9000 // slice_rows(1280))
    total = 2 * per_part
    text = pdf_text(files["report.pdf"], tmp_path)
    for part in range(1, total + 1):
        assert f"the whole page: part {part} of {total}" in text
    assert f"part {total + 1} of" not in text
    # Page by page, the bands read in order: the picture is the page, top to bottom.
    pages = text.split("\f")
    order = [n for n, page in enumerate(pages) if "the whole page: part" in page]
    assert len(order) == total and order == sorted(order)
    html = files["report.html"].decode()
    assert html.index(f"data/captures/{item}/full-page-1.png") \
        < html.index(f"data/captures/{item}/full-page-2.png")
    assert "The whole page, part 2 of 2" in html


def test_the_report_pdf_renders(gone_bundle: tuple[Path, dict[str, int]],
                                tmp_path: Path) -> None:
    """pdftoppm draws every page; a slice page is mostly the picture, page-wide."""
    bundle, _ids = gone_bundle
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(files_of(bundle)["report.pdf"])
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(pdf), str(tmp_path / "page")],
                   check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    text = pdf_text(pdf.read_bytes(), tmp_path)
    assert len(pages) == text.count("\f")
    slice_page = next(n for n, page in enumerate(text.split("\f"))
                      if "the whole page: part 1 of" in page)
    with Image.open(pages[slice_page]) as shown:
        rgb = shown.convert("RGB")
        # The full page's pale blue first band fills most of the page's width.
        row = [rgb.getpixel((x, rgb.height // 3)) for x in range(rgb.width)]
        blue = sum(1 for r, g, b in row if b > 240 and r < 215)  # type: ignore[misc]
        assert blue > rgb.width * 0.7


# ------------------------------------------------------------------ slices


def test_slices_decode_exactly_what_the_picture_holds() -> None:
    """The streamed slices, joined, are the picture: no row lost, none repeated."""
    for mode in ("RGB", "RGBA", "L", "P"):
        picture = Image.open(io.BytesIO(png(640, 5000, bands=True)))
        picture = picture.quantize(32) if mode == "P" else picture.convert(mode)
        data = io.BytesIO()
        picture.save(data, "PNG")
        slices = [Image.open(io.BytesIO(s)) for s in page_slices(data, 640)]
        assert [s.width for s in slices] == [640] * len(slices)
        assert sum(s.height for s in slices) == 5000
        joined = Image.new("RGB", (640, 5000))
        top = 0
        for part in slices:
            joined.paste(part, (0, top))
            top += part.height
        expected = picture.convert("RGB")
        # JPEG changes pixels a little; a wrong row filter changes them a lot.
        samples = [(x, y) for y in range(0, 5000, 37) for x in range(0, 640, 53)]
        error = sum(abs(a - b) for xy in samples
                    for a, b in zip(joined.getpixel(xy), expected.getpixel(xy),  # type: ignore[arg-type]
                                    strict=True)) / (3 * len(samples))
        assert error < 4, (mode, error)


_MEASURE = """
import io, re, sys
from PIL import Image
from evidence_recorder.core.bundle.report_slices import page_slices
def status(key):
    with open("/proc/self/status") as f:
        return int(re.search(key + r":\\s+(\\d+)", f.read()).group(1))
data = open(sys.argv[1], "rb").read()
before = status("VmRSS")
if sys.argv[2] == "whole":
    Image.open(io.BytesIO(data)).load()
else:
    for _ in page_slices(io.BytesIO(data), 1000):
        pass
print(status("VmHWM") - before)
"""


def test_a_30000_pixel_page_is_sliced_in_bounded_memory(tmp_path: Path) -> None:
    picture = Image.new("RGB", (1280, 30_000), (240, 240, 255))
    path = tmp_path / "tall.png"
    picture.save(path, "PNG")
    del picture

    def grown(how: str) -> int:
        out = subprocess.run([sys.executable, "-c", _MEASURE, str(path), how], check=True,
                             capture_output=True, text=True, cwd=REPO,
                             env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
        return int(out.stdout)  # KiB

    whole, sliced = grown("whole"), grown("slices")
    assert whole > 100_000, (whole, sliced)  # 1280 × 30,000 × 3 bytes decoded at once
    assert sliced < 45_000, (whole, sliced)  # a few slices' worth, however tall


def test_a_covered_web_item_shows_its_covered_copy_for_the_headteacher(
        vault: Vault, tmp_path: Path) -> None:
    item = add_web_item(vault, height=3000)
    vault.set_annotations(item, {"version": 1, "items": [
        {"type": "redact", "rect": [0, 0, 1280, 600]}]})
    bundle = export_bundle(vault, tmp_path)
    files = files_of(bundle)
    html = files["report.html"].decode()
    assert f"data/captures/{item}/redacted.png" in html
    assert f'src="data/captures/{item}/full-page.png"' not in html
    evidence = read_evidence(files["data/evidence.json"])
    listed = evidence.items[0]
    assert listed.primary is not None and listed.primary.path is None  # kept back
    assert listed.covered_copy is not None
    text = " ".join(pdf_text(files["report.pdf"], tmp_path).split())
    assert "redacted.png (the first part as a covered copy)" in text
    # What was covered stays covered: the page's archive, its network record and what
    # was on screen show it too, so they stay with the original.
    base = f"data/captures/{item}/"
    assert sorted(name.removeprefix(base) for name in files if name.startswith(base)) \
        == ["annotations.json", "metadata.json", "redacted.png"]
    assert all(a.path is None for a in listed.artefacts
               if a.role not in ("covered-copy", "annotations"))
    assert "the sender kept them with the original" in text
    assert "page.mhtml" in text and "network.warc.gz" in text
    # The police get every file.
    police = files_of(export_bundle(vault, tmp_path / "police.zip",
                                    options=ExportOptions(audience="police")))
    assert {f"{base}page.mhtml", f"{base}network.warc.gz", f"{base}visible.png",
            f"{base}full-page.png"} <= set(police)


def test_schema_1_style_items_still_read_without_web() -> None:
    """An item with no web block reads as before, whatever its kind."""
    fixture = REPO / "tests" / "fixtures" / "bundles" / "schema1-police.zip"
    opened = open_bundle(fixture)
    try:
        assert opened.report.ok
        assert opened.contents is not None
        assert all(item.web is None for item in opened.contents.items)
        assert all(item.primary is item.original for item in opened.contents.items)
    finally:
        opened.close()
