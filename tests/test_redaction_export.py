"""Redaction that holds on the way out (policy 4.3.4): what a teacher covered stays
covered in a headteacher's bundle, in its files and in its report's pictures and words,
unless they deliberately include the originals; the police always get them.

Checked on real bundles: the ZIP's file list, every picture in it, the pictures inside
report.pdf (pdfimages) and its text (pdftotext), and the real verify tools.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import PASSPHRASE, unlocked_session
from PIL import Image, ImageDraw
from test_bundle_export import check_with_standard_tools

from evidence_recorder.core.bundle import seal as bundle
from evidence_recorder.core.bundle.check import verify_bundle
from evidence_recorder.core.bundle.seal import ExportOptions, export_bundle
from evidence_recorder.core.model import CaptureDetails, CaptureKind, iso_utc, utc_now
from evidence_recorder.core.vault.store import Vault

SECRET_COLOUR = (255, 0, 255)  # appears only inside the box the teacher covers
SECRET_BOX = [40, 30, 120, 40]  # x, y, w, h: where the magenta "name" is drawn
SIZE = (320, 200)
COVER = {"version": 1, "items": [{"type": "redact", "rect": [36, 26, 128, 48]}]}
HIGHLIGHT_ONLY = {"version": 1, "items": [
    {"type": "highlight", "rect": [10, 120, 200, 30], "color": "#ffd60a"}]}


def secret_png() -> bytes:
    """A 'screenshot' whose only magenta pixels are the name the teacher will cover."""
    image = Image.new("RGB", SIZE, (236, 238, 241))
    draw = ImageDraw.Draw(image)
    x, y, w, h = SECRET_BOX
    draw.rectangle((x, y, x + w - 1, y + h - 1), fill=SECRET_COLOUR)
    draw.rectangle((10, 120, 300, 180), fill=(255, 255, 255), outline=(90, 90, 90))
    draw.text((16, 130), "You are not welcome here", fill=(20, 20, 20))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def add_secret(vault: Vault, site: str = "Facebook") -> int:
    data = secret_png()
    return vault.add_capture(
        original=data, sha256=hashlib.sha256(data).hexdigest(), kind=CaptureKind.SCREEN,
        width=SIZE[0], height=SIZE[1], media_type="image/png", captured_at=iso_utc(utc_now()),
        tz_name="Europe/London", utc_offset="+00:00", environment={"os_user": "test"},
        thumbnail=b"thumb", details=CaptureDetails(site=site))


def files_of(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {info.filename.split("/", 1)[1]: zf.read(info) for info in zf.infolist()}


def shows_secret(picture: bytes | Image.Image) -> bool:
    """Any pixel near the secret magenta (a JPEG keeps it close, never exact)."""
    image = picture if isinstance(picture, Image.Image) else Image.open(io.BytesIO(picture))
    rgb = image.convert("RGB")
    r, g, b = (band.point(lambda v, lo=lo, hi=hi: 255 if lo <= v <= hi else 0)
               for band, (lo, hi) in zip(rgb.split(), ((150, 255), (0, 110), (150, 255)),
                                         strict=True))
    from PIL import ImageChops

    return ImageChops.multiply(ImageChops.multiply(r, g), b).getbbox() is not None


def pdf_pictures(pdf: bytes, folder: Path) -> list[Image.Image]:
    folder.mkdir()
    (folder / "report.pdf").write_bytes(pdf)
    subprocess.run(["pdfimages", "-png", "report.pdf", "img"], cwd=folder, check=True,
                   timeout=60)
    found = [Image.open(p) for p in sorted(folder.glob("img-*.png"))]
    assert found, "the report shows the capture's picture"
    return found


def pdf_text(pdf: bytes) -> str:
    done = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf,
                          capture_output=True, check=True, timeout=60)
    return " ".join(done.stdout.decode().split())


def bundle_pictures(files: dict[str, bytes]) -> dict[str, bytes]:
    return {name: data for name, data in files.items()
            if re.search(r"\.(png|jpe?g|gif|webp|bmp|heic|heif)$", name)}


@pytest.fixture
def covered(vault: Vault) -> tuple[Vault, int, int]:
    """One capture with a name covered, one with nothing covered."""
    secret = add_secret(vault)
    vault.set_annotations(secret, COVER)
    plain = add_secret(vault, site="Instagram")
    return vault, secret, plain


def test_a_headteacher_bundle_holds_no_covered_original_anywhere(
        covered: tuple[Vault, int, int], tmp_path: Path) -> None:
    vault, secret, _ = covered
    path = export_bundle(vault, tmp_path / "h.zip", [secret])
    files = files_of(path)
    assert f"data/captures/{secret}/original.png" not in files
    assert f"data/captures/{secret}/redacted.png" in files
    pictures = bundle_pictures(files)
    assert set(pictures) == {f"data/captures/{secret}/redacted.png"}
    for name, data in pictures.items():
        assert not shows_secret(data), name
    for index, picture in enumerate(pdf_pictures(files["report.pdf"], tmp_path / "pdf")):
        assert not shows_secret(picture), f"report.pdf picture {index}"
    text = pdf_text(files["report.pdf"])
    assert "Covered copy; the sender kept the original." in text
    assert "the sender kept the original: it is not in this bundle" in text
    assert "Not in this bundle: the sender kept the original." in text
    html = files["report.html"].decode()
    assert "Covered copy; the sender kept the original." in html
    assert "original.png" not in html
    assert f'src="data/captures/{secret}/redacted.png"' in html

    evidence = json.loads(files["data/evidence.json"])
    (entry,) = evidence["items"]
    original = next(a for a in entry["artefacts"] if a["role"] == "original")
    assert original["path"] is None and entry["covered"] is True
    assert original["sha256"] == hashlib.sha256(secret_png()).hexdigest()  # named, not sent
    assert entry["original_included"] is False
    assert evidence["originals_kept_back"] == [secret]
    assert evidence["covered_originals_included"] is False
    export = json.loads(files["data/export.json"])
    assert export["originals_included"] is False
    assert export["covered_originals_included"] is False

    logged = vault.audit_entries()[-1]
    assert logged.action == "export" and logged.details["originals_kept_back"] == [secret]
    assert verify_bundle(path).ok
    check_with_standard_tools(path, tmp_path / "x")


def test_captures_with_nothing_covered_still_go_with_their_originals(
        covered: tuple[Vault, int, int], tmp_path: Path) -> None:
    vault, secret, plain = covered
    files = files_of(export_bundle(vault, tmp_path / "h.zip"))
    assert files[f"data/captures/{plain}/original.png"] == vault.original(plain)
    assert f"data/captures/{secret}/original.png" not in files
    evidence = json.loads(files["data/evidence.json"])
    assert evidence["originals_kept_back"] == [secret]
    text = pdf_text(files["report.pdf"])
    assert f"data/captures/{plain}/original.png" in text


def test_ticking_also_include_what_i_covered_sends_the_original_and_says_so(
        covered: tuple[Vault, int, int], tmp_path: Path) -> None:
    vault, secret, _ = covered
    path = export_bundle(vault, tmp_path / "h.zip", [secret],
                         options=ExportOptions(include_covered_originals=True))
    files = files_of(path)
    original = files[f"data/captures/{secret}/original.png"]
    assert original == vault.original(secret)
    assert shows_secret(original)  # the check above would see the name if it were there
    assert not shows_secret(files[f"data/captures/{secret}/redacted.png"])
    for picture in pdf_pictures(files["report.pdf"], tmp_path / "pdf"):
        assert not shows_secret(picture)  # the report still shows the covered copy
    text = pdf_text(files["report.pdf"])
    assert (f"Covered copy: the original is in the bundle at data/captures/{secret}/"
            "original.png") in text
    assert "the unaltered original is in the bundle" in text
    evidence = json.loads(files["data/evidence.json"])
    assert evidence["covered_originals_included"] is True
    assert evidence["originals_kept_back"] == []
    assert json.loads(files["data/export.json"])["originals_included"] is True
    assert vault.audit_entries()[-1].details["originals_kept_back"] == []
    assert verify_bundle(path).ok


def test_the_police_always_get_the_originals(covered: tuple[Vault, int, int],
                                             tmp_path: Path) -> None:
    vault, secret, _ = covered
    path = export_bundle(vault, tmp_path / "p.zip", [secret], options=ExportOptions(
        audience="police", include_covered_originals=False))
    files = files_of(path)
    assert files[f"data/captures/{secret}/original.png"] == vault.original(secret)
    assert f"data/captures/{secret}/redacted.png" in files  # the covered copy as well
    assert any(shows_secret(p) for p in pdf_pictures(files["report.pdf"], tmp_path / "pdf"))
    assert "Original capture, reduced in size" in pdf_text(files["report.pdf"])
    assert json.loads(files["data/export.json"])["originals_included"] is True
    assert bundle.uncovered_captures(vault, ExportOptions(audience="police")) == []
    assert verify_bundle(path).ok


def test_a_highlight_alone_covers_nothing(vault: Vault, tmp_path: Path) -> None:
    marked = add_secret(vault)
    vault.set_annotations(marked, HIGHLIGHT_ONLY)
    assert [c.id for c in bundle.uncovered_captures(vault, ExportOptions())] == [marked]
    files = files_of(export_bundle(vault, tmp_path / "h.zip"))
    assert files[f"data/captures/{marked}/original.png"] == vault.original(marked)
    assert json.loads(files[f"data/captures/{marked}/metadata.json"])["covered"] is False
    text = pdf_text(files["report.pdf"])
    assert "Marked copy (nothing covered): the original is in the bundle at" in text
    assert "covered copy" not in text.lower().replace("nothing covered", "")


def test_uncovered_captures_follow_what_is_chosen(covered: tuple[Vault, int, int]) -> None:
    vault, secret, plain = covered
    assert [c.id for c in bundle.uncovered_captures(vault, ExportOptions())] == [plain]
    assert bundle.uncovered_captures(vault, ExportOptions(capture_ids=[secret])) == []
    vault.set_annotations(plain, COVER)
    assert bundle.uncovered_captures(vault, ExportOptions()) == []
    vault.set_annotations(secret, None)
    assert [c.id for c in bundle.uncovered_captures(vault, ExportOptions())] == [secret]


# ---------------------------------------------------------------------- the export window


@pytest.fixture
def session(qtbot: Any, closed_vault: Path) -> Iterator[Any]:
    with Vault.open(closed_vault, PASSPHRASE) as vault:
        secret = add_secret(vault, site="Facebook")
        vault.set_annotations(secret, COVER)
        add_secret(vault, site="Instagram")
        add_secret(vault, site="")
    yield from unlocked_session(qtbot, closed_vault)


def make_dialog(qtbot: Any, session: Any, app_settings: Any, selected: list[int]) -> Any:
    from evidence_recorder.ui.export_dialog import ExportDialog

    dialog = ExportDialog(session, app_settings, selected, None)
    qtbot.addWidget(dialog)
    return dialog


def test_the_export_window_keeps_covered_originals_back_unless_ticked(
        qtbot: Any, session: Any, app_settings: Any) -> None:
    dialog = make_dialog(qtbot, session, app_settings, [])
    assert dialog.headteacher_button.isChecked()
    assert dialog.originals.isEnabled() and not dialog.originals.isChecked()
    assert "covered" in dialog.originals.text()
    assert dialog.chosen_options().include_covered_originals is False
    dialog.police_button.setChecked(True)
    assert dialog.originals.isChecked() and not dialog.originals.isEnabled()
    assert "police always get the untouched originals" in dialog.originals_note.text()
    assert dialog.chosen_options().audience == "police"
    dialog.headteacher_button.setChecked(True)
    assert not dialog.originals.isChecked()  # a choice made again, for this export
    dialog.originals.setChecked(True)
    assert dialog.chosen_options().include_covered_originals is True


def test_the_export_window_lists_captures_with_nothing_covered(
        qtbot: Any, session: Any, app_settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from evidence_recorder.ui import main_window

    ids = sorted(c.id for c in session.captures())
    secret, instagram, unnamed = ids
    dialog = make_dialog(qtbot, session, app_settings, [secret])
    dialog.show()
    assert dialog.uncovered_box.isVisible()
    assert dialog.uncovered_ids() == [instagram, unnamed]
    texts = [dialog.uncovered_list.item(i).text() for i in range(dialog.uncovered_list.count())]
    assert texts[0].startswith("Instagram, ") and texts[1].startswith("(no site recorded), ")
    assert "2 captures going out have nothing covered" in dialog.uncovered_text.text()
    assert "Cover names first" in dialog.uncovered_text.text()
    # Laid out where it can be read: inside the window, above the buttons, not squeezed.
    box = dialog.uncovered_box.geometry()
    assert dialog.rect().contains(box)
    assert box.bottom() < dialog.buttons.geometry().top()
    assert dialog.uncovered_list.height() >= 3 * dialog.uncovered_list.fontMetrics().height()
    assert dialog.uncovered_list.geometry().right() < dialog.cover_button.geometry().left()
    text = dialog.uncovered_text.geometry()
    assert text.bottom() <= dialog.uncovered_list.geometry().top()
    assert text.height() < 4 * dialog.uncovered_text.fontMetrics().height()  # no gap above

    dialog.selected_button.setChecked(True)  # only the covered one
    assert dialog.uncovered_ids() == [] and not dialog.uncovered_box.isVisible()
    dialog.all_button.setChecked(True)
    dialog.police_button.setChecked(True)  # originals go anyway: nothing to list
    assert not dialog.uncovered_box.isVisible()
    dialog.headteacher_button.setChecked(True)
    assert dialog.uncovered_ids() == [instagram, unnamed]

    opened: list[int] = []

    def cover(editor: Any) -> int:  # the person covers a name in the editor and saves
        opened.append(editor.capture_id)
        session.set_annotations(editor.capture_id, COVER)
        return 1

    monkeypatch.setattr(main_window.EditorDialog, "exec", cover)
    dialog.uncovered_list.setCurrentRow(1)
    dialog.cover_button.click()
    assert opened == [unnamed]
    assert dialog.uncovered_ids() == [instagram]
    assert "1 capture going out has nothing covered" in dialog.uncovered_text.text()
    assert session.audit_entries()[-1].action == "annotation.changed"


# ---------------------------------------------------------------------- the command line


def imported(cli: Any, tmp_path: Path) -> None:
    picture = tmp_path / "shot.png"
    picture.write_bytes(secret_png())
    done = cli("import", str(picture), "--site", "Facebook")
    assert done.returncode == 0, done.stderr


def annotations_of(closed_vault: Path) -> tuple[dict[str, Any] | None, list[Any]]:
    """The stored annotations, and the log's entries about them."""
    with Vault.open(closed_vault, PASSPHRASE) as vault:
        return vault.annotations(1), [e for e in vault.audit_entries()
                                      if e.action == "annotation.changed"]


def test_cli_annotate_covers_highlights_and_is_audited(cli: Any, closed_vault: Path,
                                                       tmp_path: Path) -> None:
    imported(cli, tmp_path)
    done = cli("annotate", "1", "--redact", "36,26,128,48", "--highlight", "10,120,200,30",
               "--redact", "0,0,5,5")
    assert done.returncode == 0, done.stderr
    assert "covered 2 boxes" in done.stdout and "highlighted 1 box" in done.stdout
    assert "It now has 3 annotations, with something covered" in done.stdout
    marks, log = annotations_of(closed_vault)
    assert marks is not None
    assert [(i["type"], i["rect"]) for i in marks["items"]] == [
        ("highlight", [10, 120, 200, 30]), ("redact", [36, 26, 128, 48]),
        ("redact", [0, 0, 5, 5])]
    entry = log[-1]
    assert entry.action == "annotation.changed" and entry.subject == "capture:1"
    stored = json.dumps(marks, sort_keys=True)
    assert entry.details["sha256"] == hashlib.sha256(stored.encode()).hexdigest()

    done = cli("annotate", "1", "--highlight", "1,1,10,10")  # adds to what is there
    assert done.returncode == 0, done.stderr
    assert len(annotations_of(closed_vault)[0]["items"]) == 4  # type: ignore[index]

    done = cli("annotate", "1", "--clear", "--redact", "40,30,120,40")
    assert done.returncode == 0, done.stderr
    assert "removed 4 annotations" in done.stdout
    marks, _ = annotations_of(closed_vault)
    assert marks == {"version": 1, "items": [{"type": "redact", "rect": [40, 30, 120, 40]}]}

    out = tmp_path / "h.zip"
    assert cli("export", "--out", str(out)).returncode == 0
    files = files_of(out)
    assert "data/captures/1/original.png" not in files
    assert not shows_secret(files["data/captures/1/redacted.png"])
    assert cli("verify", str(out)).returncode == 0

    done = cli("annotate", "1", "--clear")
    assert done.returncode == 0, done.stderr
    assert "removed 1 annotation." in done.stdout and "It now has 0 annotations" in done.stdout
    marks, log = annotations_of(closed_vault)
    assert marks is None
    assert log[-1].action == "annotation.changed" and log[-1].details["sha256"] is None


@pytest.mark.parametrize(("args", "message"), [
    (["--redact", "300,150,40,40"], "goes outside the picture, which is 320 × 200 pixels"),
    (["--redact=-1,0,10,10"], "goes outside the picture"),
    (["--highlight", "10,10,0,5"], "is empty"),
    (["--redact", "10,10,5"], "is not a box"),
    (["--redact", "a,b,c,d"], "is not a box"),
    ([], "Say what to do"),
])
def test_cli_annotate_refuses_a_box_off_the_picture(cli: Any, closed_vault: Path,
                                                    tmp_path: Path, args: list[str],
                                                    message: str) -> None:
    imported(cli, tmp_path)
    before = annotations_of(closed_vault)
    done = cli("annotate", "1", *args)
    assert done.returncode == 2, done.stdout
    assert message in done.stderr and "Traceback" not in done.stderr
    assert annotations_of(closed_vault) == before  # nothing saved, nothing logged


def test_cli_export_options_for_covered_originals(cli: Any, closed_vault: Path,
                                                  tmp_path: Path) -> None:
    imported(cli, tmp_path)
    assert cli("annotate", "1", "--redact", "36,26,128,48").returncode == 0
    runs = {"default": [], "alias": ["--no-originals"],
            "ticked": ["--include-covered-originals"],
            "police": ["--audience", "police"]}
    for name, extra in runs.items():
        out = tmp_path / f"{name}.zip"
        done = cli("export", "--out", str(out), *extra)
        assert done.returncode == 0, done.stderr
        has_original = "data/captures/1/original.png" in files_of(out)
        assert has_original is (name in ("ticked", "police")), name
    both = cli("export", "--out", str(tmp_path / "x.zip"), "--no-originals",
               "--include-covered-originals")
    assert both.returncode == 2


def test_the_export_window_fits_the_screen_and_scrolls(
        qtbot: Any, session: Any, app_settings: Any) -> None:
    """With everything it now explains, the window is taller than a 1280 × 720 screen
    would hold: its choices scroll, and Export stays in sight."""
    ids = sorted(c.id for c in session.captures())
    dialog = make_dialog(qtbot, session, app_settings, [ids[0]])
    dialog.show()
    screen = dialog.screen().availableGeometry()
    assert dialog.height() <= screen.height()
    assert dialog.minimumHeight() <= screen.height()
    assert dialog.export_button.isVisible()
    from PySide6.QtCore import QPoint, QRect

    button = QRect(dialog.export_button.mapTo(dialog, QPoint(0, 0)),
                   dialog.export_button.size())
    assert dialog.rect().contains(button)
    bar = dialog.scroller.verticalScrollBar()
    assert bar.maximum() > 0, "the choices should scroll on this screen"
