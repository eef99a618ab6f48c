"""The seal number: a seal a person can confirm by phone (issue 10).

Twelve groups of five digits derived from the signing key as Signal derives its safety
numbers, shown wherever the ``SHA256:…`` fingerprint is (report cover, viewer banner,
``verify``, the export result, Vault ▸ My seal), and recomputed by the stdlib script an
officer takes from docs/verify/.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import REPO, run_cli
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from test_bundle import extract
from test_cli import make_png
from test_vault import add, png_bytes

from evidence_recorder.core.bundle import sshsig
from evidence_recorder.core.bundle.check import verify_bundle
from evidence_recorder.core.bundle.seal import (
    export_bundle,
    signing_fingerprint,
    signing_seal_number,
)
from evidence_recorder.core.bundle.sealnumber import seal_number, seal_number_rows
from evidence_recorder.core.vault.store import Vault

# RFC 8032, section 7.1, test 1: a published Ed25519 key pair.
RFC8032_SECRET = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
RFC8032_PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
# Worked out once from the algorithm in docs/guide-police.md (see _by_the_spec).
RFC8032_NUMBER = "60003 11882 29292 71392 87407 55292 21377 48965 78419 39991 35889 51724"
SCRIPT = REPO / "docs" / "verify" / "seal_number.py"


def _by_the_spec(raw_public: bytes) -> str:
    """The seal number as docs/guide-police.md writes it, independently of the app."""
    key = (struct.pack(">I", 11) + b"ssh-ed25519" + struct.pack(">I", 32) + raw_public)
    digest = b"\x00\x00" + key + b"evidence-recorder-seal"
    for _ in range(5200):
        digest = hashlib.sha512(digest + key).digest()
    return " ".join(f"{int.from_bytes(digest[i:i + 5], 'big') % 100000:05d}"
                    for i in range(0, 60, 5))


def test_seal_number_known_answer() -> None:
    private = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(RFC8032_SECRET))
    assert _by_the_spec(bytes.fromhex(RFC8032_PUBLIC)) == RFC8032_NUMBER
    assert seal_number(private) == RFC8032_NUMBER
    assert seal_number(private.public_key()) == RFC8032_NUMBER
    assert seal_number(sshsig.public_key_blob(private)) == RFC8032_NUMBER
    groups = RFC8032_NUMBER.split()
    assert len(groups) == 12 and all(len(g) == 5 and g.isdigit() for g in groups)
    assert seal_number_rows(RFC8032_NUMBER) == [" ".join(groups[0:4]), " ".join(groups[4:8]),
                                                " ".join(groups[8:12])]


def test_different_keys_give_different_numbers() -> None:
    numbers = {seal_number(Ed25519PrivateKey.generate()) for _ in range(5)}
    assert len(numbers) == 5


@pytest.fixture
def sealed(vault: Vault, tmp_path: Path) -> Path:
    add(vault, png_bytes((250, 250, 250)), site="Facebook")
    return export_bundle(vault, tmp_path / "b.zip")


def _text_of_pdf(pdf: bytes) -> str:
    done = subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", "-", "-"], input=pdf,
                          capture_output=True, check=True)
    return done.stdout.decode("utf-8")


def _assert_cover_words_inside_the_box(pdf: Path, rows: list[str]) -> None:
    """Every word of the seal box lies inside the box, and each row of four groups is
    one line (same top), left to right: geometry from poppler, not pixels."""
    done = subprocess.run(["pdftotext", "-bbox", "-f", "1", "-l", "1", str(pdf), "-"],
                          capture_output=True, text=True, check=True)
    page = re.search(r'<page width="([\d.]+)"', done.stdout)
    assert page
    width = float(page.group(1))
    words = [(float(m.group(1)), float(m.group(2)), float(m.group(3)), m.group(4))
             for m in re.finditer(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)"'
                                  r' yMax="[\d.]+">([^<]*)</word>', done.stdout)]
    margin = 16 / 25.4 * 72  # the report's side margins, 16 mm
    for x_min, _, x_max, text in words:
        assert margin - 1 <= x_min and x_max <= width - margin + 1, text
    for row in rows:
        groups = row.split()
        found = [next(w for w in words if w[3] == g) for g in groups]
        assert len({round(w[1]) for w in found}) == 1, row
        assert [w[0] for w in found] == sorted(w[0] for w in found), row


def test_a_real_bundle_carries_its_seal_number_everywhere(vault: Vault, sealed: Path,
                                                          tmp_path: Path) -> None:
    number = signing_seal_number(vault)
    rows = seal_number_rows(number)
    report = verify_bundle(sealed)
    assert report.ok and report.seal_number == number
    assert report.as_dict()["seal_number"] == number
    assert report.fingerprint == signing_fingerprint(vault)

    folder = extract(sealed, tmp_path / "out")
    # The cover: three rows of four groups, each row whole on one line, below the
    # fingerprint (which stays).
    cover = _text_of_pdf((folder / "report.pdf").read_bytes()).split("\f")[0]
    lines = [" ".join(line.split()) for line in cover.splitlines()]
    for row in rows:
        assert row in lines, cover
    assert report.fingerprint in cover
    assert cover.index(report.fingerprint) < cover.index(rows[0])
    assert "Confirm the seal number with the sender by phone" in cover
    _assert_cover_words_inside_the_box(folder / "report.pdf", rows)
    page = (folder / "report.html").read_text()
    for row in rows:
        assert "".join(f"<span>{g}</span> " for g in row.split()).rstrip() in page
    readme = (folder / "README-VERIFY.txt").read_text()
    for row in rows:
        assert f"    {row}\n" in readme

    # An officer's own copy of the script, with nothing but Python, agrees.
    done = subprocess.run([sys.executable, "-I", str(SCRIPT), str(folder / "allowed_signers")],
                          capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == rows


def test_the_police_guide_states_the_algorithm() -> None:
    guide = " ".join((REPO / "docs" / "guide-police.md").read_text().split())
    for part in ("5200", "SHA-512", "evidence-recorder-seal", "00 00", "modulo 100000",
                 "docs/verify/seal_number.py"):
        assert part in guide, part
    script = SCRIPT.read_text()
    assert "import" in script and "evidence_recorder" not in script  # stdlib only


# --------------------------------------------------------------------------- CLI


def test_cli_shows_the_seal_on_export_verify_and_seal(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    make_png(tmp_path / "a.png")
    assert cli("import", str(tmp_path / "a.png")).returncode == 0
    mine = cli("seal", "--json")
    assert mine.returncode == 0, mine.stderr
    seal = json.loads(mine.stdout)
    rows = seal_number_rows(seal["seal_number"])
    plain = cli("seal")
    assert seal["fingerprint"] in plain.stdout and "by phone" in plain.stdout
    for row in rows:
        assert f"    {row}\n" in plain.stdout

    out = tmp_path / "bundle.zip"
    done = cli("export", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert seal["fingerprint"] in done.stdout
    for row in rows:
        assert f"    {row}\n" in done.stdout

    checked = run_cli("verify", str(out))
    assert checked.returncode == 0, checked.stderr
    for row in rows:
        assert f"    {row}\n" in checked.stdout
    as_json = json.loads(run_cli("verify", str(out), "--json").stdout)
    assert as_json["seal_number"] == seal["seal_number"]
    assert as_json["fingerprint"] == seal["fingerprint"]

    with zipfile.ZipFile(out) as zf:
        signers = next(n for n in zf.namelist() if n.endswith("/allowed_signers"))
        (tmp_path / "allowed_signers").write_bytes(zf.read(signers))
    done = subprocess.run([sys.executable, "-I", str(SCRIPT), str(tmp_path / "allowed_signers")],
                          capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == rows


# ---------------------------------------------------------------------------- app


def test_my_seal_dialog_shows_both_forms_and_copies_them(qtbot, controller,  # type: ignore[no-untyped-def]
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtWidgets import QApplication
    from test_app import create_vault

    from evidence_recorder.ui.seal_dialog import MySealDialog

    create_vault(qtbot, controller)
    fingerprint, number = controller.session.my_seal()
    vault = controller.session.vault
    assert (fingerprint, number) == (signing_fingerprint(vault), signing_seal_number(vault))
    main = controller.main
    vault_menu = next(a.menu() for a in main.menuBar().actions() if a.text() == "&Vault")
    assert main.act_my_seal in vault_menu.actions()

    shown: list[MySealDialog] = []
    monkeypatch.setattr(MySealDialog, "exec", lambda self: shown.append(self) or 0)
    main.act_my_seal.trigger()
    assert len(shown) == 1
    dialog = shown[0]
    qtbot.addWidget(dialog)
    assert dialog.number_label.text() == "\n".join(seal_number_rows(number))
    assert dialog.fingerprint_label.text() == fingerprint
    texts = " ".join(label.text() for label in dialog.findChildren(type(dialog.number_label)))
    assert "Read these to the person you send a report to, by phone" in texts
    QApplication.clipboard().clear()
    dialog.copy_button.click()
    assert QApplication.clipboard().text() == (f"Fingerprint: {fingerprint}\n"
                                               f"Seal number: {number}")

    # Laid out so that each row of four groups is whole and nothing overlaps.
    dialog.show()
    qtbot.waitExposed(dialog)
    label = dialog.number_label
    metrics = label.fontMetrics()
    widest = max(metrics.horizontalAdvance(row) for row in seal_number_rows(number))
    assert label.contentsRect().width() >= widest
    assert label.geometry().bottom() < dialog.fingerprint_label.geometry().top()
    dialog.close()


def test_export_result_shows_the_seal_number_with_copy(qtbot, controller,  # type: ignore[no-untyped-def]
                                                       tmp_path: Path) -> None:
    from PySide6.QtWidgets import QApplication, QMessageBox
    from test_app import _capture_one, wait_until

    from evidence_recorder.ui import messages
    from evidence_recorder.ui.export_dialog import ExportDialog

    capture_id = _capture_one(qtbot, controller)
    fingerprint, number = controller.session.my_seal()
    dialog = ExportDialog(controller.session, controller.settings, [capture_id], None,
                          controller.main)
    qtbot.addWidget(dialog)
    dialog.selected_button.setChecked(True)
    messages.set_next_answer(messages.Button.Ok)
    dialog.export_to(tmp_path / "b.zip", dialog.chosen_options())
    wait_until(qtbot, lambda: dialog.written is not None)
    title, text = messages.shown[-1]
    assert title == "Report exported"
    assert fingerprint in text
    assert "\n".join(seal_number_rows(number)) in text

    # The box's Copy button copies both forms and leaves the box open to be read.
    box = messages.make_copy_box(None, title, text, copy_label="Copy seal",
                                 copy_text=f"Fingerprint: {fingerprint}\nSeal number: {number}",
                                 copied_label="Copied")
    qtbot.addWidget(box)
    box.show()
    qtbot.waitExposed(box)
    copy = next(b for b in box.buttons()
                if box.buttonRole(b) == QMessageBox.ButtonRole.ActionRole)
    QApplication.clipboard().clear()
    copy.click()
    assert QApplication.clipboard().text() == (f"Fingerprint: {fingerprint}\n"
                                               f"Seal number: {number}")
    assert box.isVisible() and copy.text() == "Copied"
    box.button(messages.Button.Ok).click()
    assert not box.isVisible()


def test_viewer_banner_shows_the_seal_number_whole_and_copies_both(  # type: ignore[no-untyped-def]
        qtbot, vault: Vault, sealed: Path) -> None:
    from PySide6.QtGui import QFont, QFontMetrics
    from PySide6.QtWidgets import QApplication

    from evidence_recorder.ui.bundle_viewer import open_bundle_window
    from evidence_recorder.ui.tasks import wait_for_tasks

    fingerprint, number = signing_fingerprint(vault), signing_seal_number(vault)
    viewer = open_bundle_window(sealed)
    assert viewer is not None
    try:
        qtbot.waitUntil(viewer.is_loaded, timeout=20_000)
        assert viewer.verdict() == "intact"
        banner = viewer.banner
        assert "<br>".join(seal_number_rows(number)) in banner.fingerprint_label.text()
        QApplication.clipboard().clear()
        banner.copy_button.click()
        assert QApplication.clipboard().text() == (f"Fingerprint: {fingerprint}\n"
                                                   f"Seal number: {number}")

        # Narrow window: the label is tall enough for all its lines, wide enough for a
        # row of four groups, and clear of the Copy button.
        viewer.resize(800, 600)
        viewer.show()
        qtbot.waitExposed(viewer)
        label = banner.fingerprint_label
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        mono.setBold(True)
        widest = max(QFontMetrics(mono).horizontalAdvance(r) for r in seal_number_rows(number))
        assert label.contentsRect().width() >= widest
        assert label.height() >= label.heightForWidth(label.width())
        assert label.geometry().right() < banner.copy_button.geometry().left()
    finally:
        viewer.close()
        wait_for_tasks()
        QApplication.processEvents()
