"""Backups: made while the vault is open, encrypted, checkable, and restorable after damage.

Everything runs against real SQLCipher files: the backup is made with SQLCipher's
online backup, packed into one file, checked by SHA-256, unpacked into a new folder and
opened there with the passphrase and with the recovery key.
"""

from __future__ import annotations

import hashlib
import secrets
import zipfile
from pathlib import Path

import pytest
from conftest import FAST_KDF, PASSPHRASE, run_cli
from PIL import Image

from evidence_recorder.core.errors import RefusedInput, VaultDamaged
from evidence_recorder.core.gather import capture, recorder
from evidence_recorder.core.model import CaptureDetails
from evidence_recorder.core.vault import backup
from evidence_recorder.core.vault.store import DB_NAME, Vault

# Long enough that none can turn up in encrypted bytes by chance (as in test_plaintext).
IMAGE_SIGNATURES = {
    "PNG": b"\x89PNG\r\n\x1a\n", "PNG header": b"IHDR", "JPEG (JFIF)": b"JFIF\x00",
    "JPEG (Exif)": b"Exif\x00\x00", "GIF": b"GIF89a", "WebP": b"WEBPVP8",
}
REDACT = {"version": 1, "items": [{"type": "redact", "rect": [0, 0, 5, 5]}]}


def add_captures(vault: Vault, count: int, note: str = "a note") -> list[int]:
    ids = []
    for n in range(count):
        image = Image.effect_noise((240 + 10 * n, 160), 60).convert("RGB")
        grab = capture.grab(capture.FakeGrabber(image))
        ids.append(recorder.save_grab(vault, grab, CaptureDetails(description=f"{note} {n}",
                                                                 url=f"https://x.com/{note}")))
    return ids


def snapshot(vault: Vault) -> dict[int, tuple[str, bytes, bytes, object, dict[str, str]]]:
    """Everything a capture holds, to compare a restored vault with the original."""
    return {c.id: (c.sha256, vault.original(c.id), vault.thumbnail(c.id),
                   vault.annotations(c.id), c.details.as_dict())
            for c in vault.captures()}


def env_for(folder: Path) -> dict[str, str]:
    return {"EVIDENCE_RECORDER_VAULT": str(folder), "EVIDENCE_RECORDER_PASSPHRASE": PASSPHRASE}


def test_backup_while_open_restores_everything(new_vault: tuple[Vault, str],
                                               tmp_path: Path) -> None:
    vault, recovery = new_vault
    ids = add_captures(vault, 3)
    vault.set_annotations(ids[0], REDACT)
    vault.edit_capture(ids[1], {"site": "Facebook"})
    vault.delete_capture(ids[2], "a duplicate")
    before = snapshot(vault)

    path = backup.make_backup(vault, tmp_path / "vault.erbackup")  # the vault stays open
    assert path == tmp_path / "vault.erbackup"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    assert vault.is_open
    logged = [e for e in vault.audit_entries() if e.action == "vault.backup"]
    assert len(logged) == 1
    assert logged[0].details["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    add_captures(vault, 1, "after")  # the vault still works; the backup does not have this

    report = backup.verify_backup(path)
    assert report.ok, report.problems
    assert report.vault_id == vault.vault_id
    assert report.files_checked == 2

    restored = tmp_path / "restored"
    backup.restore_backup(path, restored)
    assert sorted(p.name for p in restored.iterdir()) == [DB_NAME, "vault.key"]
    with Vault.open(restored, PASSPHRASE) as copy:
        assert copy.vault_id == vault.vault_id
        assert copy.verify().ok
        assert snapshot(copy) == before
    with Vault.recover(restored, recovery, "a new passphrase for the copy",
                       kdf=FAST_KDF) as copy:
        assert copy.verify().ok
        assert snapshot(copy) == before


def test_backup_command_round_trip(closed_vault: Path, tmp_path: Path) -> None:
    with Vault.open(closed_vault, PASSPHRASE) as vault:
        add_captures(vault, 2)
        before = snapshot(vault)
    out = tmp_path / "copy.erbackup"
    made = run_cli("backup", "--out", str(out), env=env_for(closed_vault))
    assert made.returncode == 0, made.stderr
    assert out.is_file() and str(out) in made.stdout
    again = run_cli("backup", "--out", str(out), env=env_for(closed_vault))
    assert again.returncode == 4 and "already exists" in again.stderr

    checked = run_cli("backup", "--check", str(out))
    assert checked.returncode == 0, checked.stderr
    assert "intact" in checked.stdout

    target = tmp_path / "new-vault"
    done = run_cli("backup", "--restore", str(out), "--to", str(target))
    assert done.returncode == 0, done.stderr
    verified = run_cli("audit", "--verify", env=env_for(target))
    assert verified.returncode == 0, verified.stderr
    with Vault.open(target, PASSPHRASE) as copy:
        assert snapshot(copy) == before

    usage = run_cli("backup", "--restore", str(out))
    assert usage.returncode == 2
    helped = run_cli("backup", "--help")
    assert "--restore" in helped.stdout and "damage" in helped.stdout


def test_a_tampered_backup_is_detected(new_vault: tuple[Vault, str], tmp_path: Path) -> None:
    vault, _ = new_vault
    add_captures(vault, 2)
    good = backup.make_backup(vault, tmp_path / "good.erbackup")
    data = bytearray(good.read_bytes())
    with zipfile.ZipFile(good) as zf:
        info = zf.getinfo(DB_NAME)
    # A byte inside the stored database (ZIP_STORED: its bytes sit right after the header).
    header = 30 + len(info.filename.encode()) + len(info.extra)
    where = info.header_offset + header + info.file_size // 2
    data[where] ^= 0x01
    bad = tmp_path / "bad.erbackup"
    bad.write_bytes(bytes(data))

    report = backup.verify_backup(bad)
    assert not report.ok
    checked = run_cli("backup", "--check", str(bad))
    assert checked.returncode == 1
    assert "altered or is damaged" in checked.stderr
    assert "Traceback" not in checked.stderr

    with pytest.raises(VaultDamaged):
        backup.restore_backup(bad, tmp_path / "nowhere")
    assert not (tmp_path / "nowhere").exists()
    restored = run_cli("backup", "--restore", str(bad), "--to", str(tmp_path / "nowhere"))
    assert restored.returncode == 1 and "not restored" in restored.stderr

    # Not a backup at all, or cut short: a plain message, never a traceback.
    cut = tmp_path / "cut.erbackup"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    for broken in (cut, tmp_path / "missing.erbackup"):
        result = run_cli("backup", "--check", str(broken))
        assert result.returncode == 1
        assert result.stderr.strip() and "Traceback" not in result.stderr


def test_restore_refuses_a_folder_that_is_not_empty(new_vault: tuple[Vault, str],
                                                    tmp_path: Path) -> None:
    vault, _ = new_vault
    path = backup.make_backup(vault, tmp_path / "b.erbackup")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("mine")
    with pytest.raises(RefusedInput, match="not empty"):
        backup.restore_backup(path, busy)
    result = run_cli("backup", "--restore", str(path), "--to", str(busy))
    assert result.returncode == 4
    assert len(result.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in busy.iterdir()) == ["keep.txt"]
    assert (busy / "keep.txt").read_text() == "mine"
    # Not over the live vault either.
    with pytest.raises(RefusedInput):
        backup.restore_backup(path, vault.folder)


def test_backup_holds_no_plaintext(new_vault: tuple[Vault, str], tmp_path: Path) -> None:
    vault, _ = new_vault
    marker = f"MARKER{secrets.token_hex(8)}"
    add_captures(vault, 3, marker)
    path = backup.make_backup(vault, tmp_path / "b.erbackup")
    data = path.read_bytes()
    needles = dict(IMAGE_SIGNATURES)
    needles |= {"note": marker.encode(), "note (UTF-16)": marker.encode("utf-16-le"),
                "SQLite header": b"SQLite format 3"}
    assert [name for name, needle in needles.items() if needle in data] == []
    assert [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_backup_is_refused_inside_the_vault_folder(new_vault: tuple[Vault, str]) -> None:
    vault, _ = new_vault
    with pytest.raises(RefusedInput, match="outside the vault"):
        backup.make_backup(vault, vault.folder / "b.erbackup")
