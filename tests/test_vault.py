"""The vault on real SQLCipher files: creation, unlocking, damage, tampering, audit."""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import os
import re
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sqlcipher3
from conftest import FAST_KDF, PASSPHRASE, REPO, as_schema_3, raw_connection
from PIL import Image

from evidence_recorder.core.errors import (
    EvidenceError,
    NotFound,
    RefusedInput,
    VaultDamaged,
    VaultInUse,
    VaultNotFound,
    WrongSecret,
)
from evidence_recorder.core.gather import capture, recorder
from evidence_recorder.core.model import CaptureDetails, CaptureKind, iso_utc, utc_now
from evidence_recorder.core.vault import schema
from evidence_recorder.core.vault.keyfile import (
    KDF_FLOOR,
    calibrate_kdf,
    parse_recovery_key,
)
from evidence_recorder.core.vault.store import DB_NAME, Vault

NEW_PASSPHRASE = "seventeen quiet herons"


def png_bytes(colour: tuple[int, int, int] = (200, 30, 30),
              size: tuple[int, int] = (64, 48)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG")
    return buf.getvalue()


def add(vault: Vault, data: bytes | None = None, **details: str) -> int:
    data = data or png_bytes()
    now = utc_now()
    return vault.add_capture(
        original=data, sha256=hashlib.sha256(data).hexdigest(), kind=CaptureKind.SCREEN,
        width=64, height=48, media_type="image/png", captured_at=iso_utc(now),
        tz_name="Europe/London", utc_offset="+00:00", environment={"os_user": "test"},
        thumbnail=b"thumb", details=CaptureDetails(**details),
    )


def snapshot(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.iterdir()) if p.is_file()}


# ------------------------------------------------------------------ creation


def test_create_makes_a_private_folder_and_a_recovery_key(new_vault: tuple[Vault, str],
                                                          vault_dir: Path) -> None:
    vault, recovery = new_vault
    assert stat.S_IMODE(vault_dir.stat().st_mode) == 0o700
    for path in vault_dir.iterdir():
        if path.name in ("vault.key", DB_NAME):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert re.fullmatch(r"([0-9A-HJKMNP-TV-Z]{4}-){7}[0-9A-HJKMNP-TV-Z]{4}", recovery)
    assert vault.default_incident().title == "Unsorted captures"
    assert [e.action for e in vault.audit_entries()] == ["vault.created"]
    # The database is SQLCipher: no SQLite header, nothing readable.
    assert not (vault_dir / DB_NAME).read_bytes().startswith(b"SQLite format 3")


def test_connection_pragmas(vault: Vault) -> None:
    q = lambda sql: vault.conn.execute(sql).fetchone()[0]  # noqa: E731
    assert q("PRAGMA journal_mode") == "wal"
    assert q("PRAGMA synchronous") == 2  # FULL
    assert q("PRAGMA temp_store") == 2  # MEMORY
    assert q("PRAGMA secure_delete") == 1
    assert q("PRAGMA foreign_keys") == 1
    assert q("PRAGMA user_version") == schema.SCHEMA_VERSION


@pytest.mark.parametrize("weak", ["short", "password1234", "123456789012", "aaaaaaaaaaaaaa",
                                  "abcdefghijklmnop", "PASSWORD1234"])
def test_weak_passphrases_are_refused_with_a_reason(vault_dir: Path, weak: str) -> None:
    with pytest.raises(RefusedInput) as caught:
        Vault.create(vault_dir, weak, kdf=FAST_KDF)
    assert "passphrase" in caught.value.message
    assert not vault_dir.exists()


def test_create_refuses_a_folder_with_other_files(tmp_path: Path) -> None:
    (tmp_path / "homework.txt").write_text("keep me")
    with pytest.raises(RefusedInput, match="already holds other files"):
        Vault.create(tmp_path, PASSPHRASE, kdf=FAST_KDF)
    assert [p.name for p in tmp_path.iterdir()] == ["homework.txt"]


def test_create_refuses_an_existing_vault(closed_vault: Path) -> None:
    before = snapshot(closed_vault)
    with pytest.raises(RefusedInput, match="already a vault"):
        Vault.create(closed_vault, PASSPHRASE, kdf=FAST_KDF)
    assert snapshot(closed_vault) == before


def test_kdf_calibration_never_goes_below_the_floor() -> None:
    params = calibrate_kdf(target=0.01)
    assert params.memory_cost >= KDF_FLOOR.memory_cost
    assert params.time_cost >= KDF_FLOOR.time_cost


# ------------------------------------------------------------------ unlocking


def test_open_with_the_right_passphrase(closed_vault: Path) -> None:
    with Vault.open(closed_vault, PASSPHRASE) as vault:
        assert vault.audit_entries()[-1].action == "vault.unlocked"


def test_wrong_passphrase_changes_nothing(closed_vault: Path) -> None:
    before = snapshot(closed_vault)
    with pytest.raises(WrongSecret, match="does not open this vault"):
        Vault.open(closed_vault, "not the passphrase at all")
    assert snapshot(closed_vault) == before


def test_recovery_key_opens_and_sets_a_new_passphrase(new_vault: tuple[Vault, str],
                                                      vault_dir: Path) -> None:
    vault, recovery = new_vault
    vault.close()
    typed = recovery.lower().replace("-", " ").replace("0", "o")  # as a person might type it
    with Vault.recover(vault_dir, typed, NEW_PASSPHRASE, kdf=FAST_KDF) as reopened:
        assert reopened.audit_entries()[-1].action == "passphrase.recovered"
    with pytest.raises(WrongSecret):
        Vault.open(vault_dir, PASSPHRASE)
    Vault.open(vault_dir, NEW_PASSPHRASE).close()
    Vault.recover(vault_dir, recovery, PASSPHRASE, kdf=FAST_KDF).close()  # still works


def test_wrong_or_malformed_recovery_key(closed_vault: Path) -> None:
    with pytest.raises(WrongSecret, match="not a recovery key"):
        parse_recovery_key("hello")
    other = "ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-2345-6789"
    before = snapshot(closed_vault)
    with pytest.raises(WrongSecret, match="recovery key does not open"):
        Vault.recover(closed_vault, other, NEW_PASSPHRASE, kdf=FAST_KDF)
    assert snapshot(closed_vault) == before


def test_change_passphrase(vault: Vault, vault_dir: Path) -> None:
    with pytest.raises(RefusedInput):
        vault.change_passphrase("short")
    vault.change_passphrase(NEW_PASSPHRASE, kdf=FAST_KDF)
    assert vault.audit_entries()[-1].action == "passphrase.changed"
    vault.close()
    with pytest.raises(WrongSecret):
        Vault.open(vault_dir, PASSPHRASE)
    Vault.open(vault_dir, NEW_PASSPHRASE).close()


def test_a_second_instance_is_told_the_vault_is_open(vault: Vault, vault_dir: Path) -> None:
    with pytest.raises(VaultInUse, match="already open"):
        Vault.open(vault_dir, PASSPHRASE)
    child = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(f"""
            from evidence_recorder.core.vault.store import Vault
            from evidence_recorder.core.errors import VaultInUse
            try:
                Vault.open({str(vault_dir)!r}, {PASSPHRASE!r})
            except VaultInUse:
                raise SystemExit(7)
        """)], cwd=REPO, check=False, timeout=60)
    assert child.returncode == 7
    add(vault)  # the first instance is unharmed
    assert vault.verify().ok


# ------------------------------------------------------------------ damage


def test_not_a_vault(tmp_path: Path) -> None:
    with pytest.raises(VaultNotFound):
        Vault.open(tmp_path / "nowhere", PASSPHRASE)
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(VaultNotFound, match="not an Evidence Recorder vault"):
        Vault.open(tmp_path, PASSPHRASE)


@pytest.mark.parametrize("damage", ["missing", "empty", "garbage", "bitflip", "truncated"])
def test_damaged_key_file(closed_vault: Path, damage: str) -> None:
    keyfile = closed_vault / "vault.key"
    raw = keyfile.read_bytes()
    if damage == "missing":
        keyfile.unlink()
    elif damage == "empty":
        keyfile.write_bytes(b"")
    elif damage == "garbage":
        keyfile.write_bytes(os.urandom(500))
    elif damage == "bitflip":
        pos = raw.index(b'"wrapped": "') + 15
        keyfile.write_bytes(raw[:pos] + bytes([raw[pos] ^ 0x01]) + raw[pos + 1:])
    else:
        keyfile.write_bytes(raw[: len(raw) // 2])
    before = snapshot(closed_vault)
    with pytest.raises((VaultDamaged, VaultNotFound)) as caught:
        Vault.open(closed_vault, PASSPHRASE)
    assert "\n" not in caught.value.message
    assert "vault.key" in caught.value.message
    assert snapshot(closed_vault) == before


@pytest.mark.parametrize("damage", ["missing", "empty", "truncated", "header", "middle",
                                    "other-vault"])
def test_damaged_database(closed_vault: Path, tmp_path: Path, damage: str) -> None:
    db = closed_vault / DB_NAME
    with Vault.open(closed_vault, PASSPHRASE) as vault:
        for i in range(5):
            add(vault, png_bytes((i * 40, 0, 0), (200, 200)), description="x" * 3000)
    raw = db.read_bytes()
    if damage == "missing":
        db.unlink()
    elif damage == "empty":
        db.write_bytes(b"")
    elif damage == "truncated":
        db.write_bytes(raw[:4096 + 100])
    elif damage == "header":
        db.write_bytes(bytes([raw[0] ^ 0xFF]) + raw[1:])
    elif damage == "middle":
        pos = len(raw) // 2
        db.write_bytes(raw[:pos] + bytes([raw[pos] ^ 0x10]) + raw[pos + 1:])
    else:
        other = tmp_path / "other"
        Vault.create(other, PASSPHRASE, kdf=FAST_KDF)[0].close()
        db.write_bytes((other / DB_NAME).read_bytes())
    before = snapshot(closed_vault)
    with pytest.raises(VaultDamaged) as caught, Vault.open(closed_vault, PASSPHRASE) as vault:
        # Damage deep inside the file shows when the pages are read, or in the check of
        # every page's authentication code that verify() runs.
        report = vault.verify()
        for c in vault.captures():
            vault.original(c.id)
        if "The database file has damaged pages." in report.problems:
            raise VaultDamaged(report.problems[-1])
    assert "\n" not in caught.value.message
    if damage != "middle":  # opening a readable file writes its unlock entry to the log
        assert snapshot(closed_vault) == before


def test_a_newer_vault_is_refused_plainly(closed_vault: Path) -> None:
    conn = raw_connection(closed_vault)
    conn.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(EvidenceError, match="newer version"):
        Vault.open(closed_vault, PASSPHRASE)


def test_migrations_run_from_version_zero(tmp_path: Path) -> None:
    """Every vault is migrated up from an empty database; each step is one transaction."""
    assert sorted(schema.MIGRATIONS) == list(range(schema.SCHEMA_VERSION))
    conn = sqlcipher3.connect(str(tmp_path / "plain.db"), isolation_level=None)
    conn.execute("BEGIN")
    for version in range(schema.SCHEMA_VERSION):
        schema.MIGRATIONS[version](conn)
    conn.execute("COMMIT")
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    # Schema 4 moved the originals into artefacts (chunked): one place for evidence bytes.
    assert {"meta", "incident", "capture", "artefact", "artefact_chunk", "thumbnail",
            "annotation", "audit"} <= tables
    assert "original" not in tables


# ------------------------------------------------------------------ evidence


def test_capture_round_trip_and_list(vault: Vault) -> None:
    data = png_bytes()
    capture_id = add(vault, data, site="Facebook", url="https://facebook.com/p/1",
                     category="threat")
    capture = vault.capture(capture_id)
    assert vault.original(capture_id) == data
    assert capture.sha256 == hashlib.sha256(data).hexdigest()
    assert capture.details.site == "Facebook"
    assert capture.incident_id == vault.default_incident().id
    summary = capture.summary()
    assert summary["captured_at"].endswith("Z")
    assert {"id", "incident", "kind", "captured_at", "sha256", "width", "height", "site",
            "url", "note"} <= summary.keys()
    assert [c.id for c in vault.captures()] == [capture_id]
    with pytest.raises(NotFound):
        vault.capture(999)


def test_hash_must_match_the_bytes(vault: Vault) -> None:
    with pytest.raises(EvidenceError):
        vault.add_capture(original=b"abc", sha256="0" * 64, kind=CaptureKind.SCREEN, width=1,
                          height=1, media_type="image/png", captured_at=iso_utc(utc_now()),
                          tz_name="UTC", utc_offset="+00:00", environment={}, thumbnail=b"")
    assert vault.captures() == []


def test_edits_are_audited_with_old_and_new_values(vault: Vault) -> None:
    capture_id = add(vault, site="Facebook")
    incident = vault.new_incident("Comments on the school page")
    diff = vault.edit_capture(capture_id, {"site": "Instagram", "author": "J. Smith"},
                              incident.id)
    assert diff["site"] == {"old": "Facebook", "new": "Instagram"}
    entry = vault.audit_entries()[-1]
    assert entry.action == "capture.edited"
    assert entry.details["changes"]["incident"]["new"] == incident.id
    assert vault.capture(capture_id).incident_id == incident.id
    assert vault.edit_capture(capture_id, {"site": "Instagram"}) == {}
    with pytest.raises(RefusedInput, match="not a category"):
        vault.edit_capture(capture_id, {"category": "rude"})
    with pytest.raises(RefusedInput):
        vault.edit_capture(capture_id, {"sha256": "0" * 64})
    assert vault.verify().ok


def test_originals_can_never_be_rewritten(vault: Vault) -> None:
    capture_id = add(vault)
    with pytest.raises(sqlcipher3.IntegrityError, match="originals never change"):
        vault.conn.execute("UPDATE artefact_chunk SET bytes = x'00' WHERE artefact_id IN "
                           "(SELECT id FROM artefact WHERE item_id = ?)", (capture_id,))
    with pytest.raises(sqlcipher3.IntegrityError, match="originals never change"):
        vault.conn.execute("UPDATE artefact SET sha256 = ? WHERE item_id = ?",
                           ("0" * 64, capture_id))
    with pytest.raises(sqlcipher3.IntegrityError, match="never changes"):
        vault.conn.execute("UPDATE capture SET sha256 = ? WHERE id = ?", ("0" * 64, capture_id))
    with pytest.raises(sqlcipher3.IntegrityError, match="append-only"):
        vault.conn.execute("DELETE FROM audit")


def test_delete_needs_a_reason_and_leaves_a_tombstone(vault: Vault) -> None:
    capture_id = add(vault)
    sha = vault.capture(capture_id).sha256
    with pytest.raises(RefusedInput, match="reason"):
        vault.delete_capture(capture_id, "  ")
    vault.delete_capture(capture_id, "Duplicate of capture 2")
    with pytest.raises(NotFound):
        vault.original(capture_id)
    tomb = vault.audit_entries()[-1]
    assert tomb.action == "capture.deleted"
    assert tomb.details == {"capture": capture_id, "sha256": sha,
                            "reason": "Duplicate of capture 2"}
    assert tomb.at.endswith("Z")
    assert vault.verify().ok


def test_incidents(vault: Vault) -> None:
    with pytest.raises(RefusedInput):
        vault.new_incident("   ")
    incident = vault.new_incident("WhatsApp group", "Parents' group chat", "March 2026")
    vault.edit_incident(incident.id, title="WhatsApp parents' group")
    assert vault.incident(incident.id).title == "WhatsApp parents' group"
    assert vault.audit_entries()[-1].details["changes"]["title"]["old"] == "WhatsApp group"
    add(vault)
    counts = {i.title: i.capture_count for i in vault.incidents()}
    assert counts == {"Unsorted captures": 1, "WhatsApp parents' group": 0}


# ------------------------------------------------------------------ tamper evidence


def test_every_action_is_chained_and_verifies(vault: Vault) -> None:
    ids = [add(vault, png_bytes((i, i, i))) for i in range(3)]
    vault.edit_capture(ids[0], {"description": "threat to wait outside school"})
    vault.set_annotations(ids[1], {"version": 1,
                                   "items": [{"type": "redact", "rect": [0, 0, 5, 5]}]})
    vault.delete_capture(ids[2], "blurred duplicate")
    entries = vault.audit_entries()
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    for before, after in itertools.pairwise(entries):
        assert after.prev_hash == before.hash
    report = vault.verify()
    assert report.ok, report.problems
    assert report.captures_checked == 2


def _tamper(vault: Vault, folder: Path, *sql: str) -> list[str]:
    vault.close()
    conn = raw_connection(folder)
    for statement in sql:
        conn.execute(statement)
    conn.close()
    with Vault.open(folder, PASSPHRASE) as reopened:
        return reopened.verify().problems


def test_a_metadata_row_edited_behind_the_apps_back_is_named(vault: Vault,
                                                             vault_dir: Path) -> None:
    capture_id = add(vault, url="https://example.com/post/1")
    problems = _tamper(vault, vault_dir,
                       "UPDATE capture SET url = 'https://example.com/other' "
                       f"WHERE id = {capture_id}")
    assert problems == [f"Capture {capture_id}: its url was changed outside Evidence Recorder."]


def test_an_original_swapped_behind_the_apps_back_is_named(vault: Vault, vault_dir: Path) -> None:
    capture_id = add(vault)
    problems = _tamper(vault, vault_dir, "DROP TRIGGER artefact_chunk_never_changes",
                       "UPDATE artefact_chunk SET bytes = x'89504e47' WHERE artefact_id IN "
                       f"(SELECT id FROM artefact WHERE item_id = {capture_id})")
    assert any(f"Capture {capture_id}: its original image no longer matches" in p
               for p in problems)


def test_an_audit_entry_edited_or_removed_is_named(vault: Vault, vault_dir: Path) -> None:
    add(vault, site="Facebook")
    add(vault)
    problems = _tamper(vault, vault_dir, "DROP TRIGGER audit_never_changes",
                       "UPDATE audit SET details = replace(details, 'Facebook', 'TikTok') "
                       "WHERE action = 'capture.added'")
    assert problems[0] == "Audit log: entry 2 was changed after it was written."
    vault2 = Vault.open(vault_dir, PASSPHRASE)
    problems = _tamper(vault2, vault_dir, "DROP TRIGGER audit_never_shrinks",
                       "DELETE FROM audit WHERE seq = 2")
    assert problems[0] == "Audit log: entry 2 is missing (the next one is 3)."


def test_a_capture_removed_behind_the_apps_back_is_named(vault: Vault, vault_dir: Path) -> None:
    capture_id = add(vault)
    problems = _tamper(vault, vault_dir,
                       f"DELETE FROM thumbnail WHERE capture_id = {capture_id}",
                       "DELETE FROM artefact_chunk WHERE artefact_id IN "
                       f"(SELECT id FROM artefact WHERE item_id = {capture_id})",
                       f"DELETE FROM artefact WHERE item_id = {capture_id}",
                       f"DELETE FROM capture WHERE id = {capture_id}")
    assert problems == [f"Capture {capture_id} is missing, but the audit log has no record "
                        "of its deletion."]


# ------------------------------------------------------------------ passphrase change crashes

_CHANGE_AND_DIE = """
import os, signal, sys
from evidence_recorder.core import fsutil
from evidence_recorder.core.vault.keyfile import KdfParams
from evidence_recorder.core.vault.store import Vault
step = sys.argv[2]
def hook(name):
    if name == step:
        os.kill(os.getpid(), signal.SIGKILL)
vault = Vault.open(sys.argv[1], {old!r})
fsutil._fault_hook = hook  # armed after the open, whose history anchor write would trip it
vault.change_passphrase({new!r}, kdf=KdfParams(1, 8, 1))
"""


@pytest.mark.parametrize("step", ["written", "synced", "renamed", "never"])
def test_passphrase_change_killed_at_each_step_leaves_one_working_passphrase(
        closed_vault: Path, step: str) -> None:
    script = _CHANGE_AND_DIE.format(old=PASSPHRASE, new=NEW_PASSPHRASE)
    child = subprocess.run([sys.executable, "-c", script, str(closed_vault), step], cwd=REPO,
                           check=False, timeout=60)
    killed = child.returncode == -signal.SIGKILL
    assert killed == (step != "never")
    working = []
    for candidate in (PASSPHRASE, NEW_PASSPHRASE):
        try:
            Vault.open(closed_vault, candidate).close()
        except WrongSecret:
            continue
        working.append(candidate)
    expected = PASSPHRASE if step in ("written", "synced") else NEW_PASSPHRASE
    assert working == [expected]
    # The next open cleans up the temp file a killed writer left behind.
    assert [p.name for p in closed_vault.iterdir() if p.name.endswith(".tmp")] == []
    with Vault.open(closed_vault, expected) as vault:
        assert vault.verify().ok


def test_keyfile_on_disk_holds_no_secret(new_vault: tuple[Vault, str], vault_dir: Path) -> None:
    _, recovery = new_vault
    text = (vault_dir / "vault.key").read_text()
    doc = json.loads(text)
    assert PASSPHRASE not in text and recovery not in text
    assert doc["slots"]["passphrase"]["kdf"] == "argon2id"


# ------------------------------------------------------------------ received bundles


def test_a_received_bundle_is_kept_byte_for_byte(vault: Vault, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from evidence_recorder.core.vault import received

    monkeypatch.setattr(received, "RECEIVED_CHUNK", 1000)  # several chunks, small test
    data = os.urandom(4321)
    sent = tmp_path / "evidence-bundle.zip"
    sent.write_bytes(data)
    bundle_id = vault.add_received_bundle(sent, {"ok": True, "fingerprint": "SHA256:abc"})
    (received,) = vault.received_bundles()
    assert (received.id, received.byte_size) == (bundle_id, len(data))
    assert received.sha256 == hashlib.sha256(data).hexdigest()
    with vault.received_bundle_file(bundle_id) as fh:
        assert fh.read() == data
        fh.seek(2500)
        assert fh.read(10) == data[2500:2510]
        fh.seek(-5, os.SEEK_END)
        assert fh.read() == data[-5:]
    assert vault.audit_entries()[-1].action == "bundle.received"
    assert vault.verify().ok
    vault.delete_received_bundle(bundle_id, "sent to the police")
    assert vault.received_bundles() == []
    second = vault.add_received_bundle(sent, {"ok": False})
    assert second != bundle_id  # ids are never reused
    assert vault.verify().ok


def test_a_received_bundle_changed_behind_the_apps_back_is_named(vault: Vault,
                                                                 vault_dir: Path,
                                                                 tmp_path: Path) -> None:
    sent = tmp_path / "b.zip"
    sent.write_bytes(b"PK" + os.urandom(100))
    bundle_id = vault.add_received_bundle(sent, {"ok": True})
    problems = _tamper(vault, vault_dir, "DROP TRIGGER received_chunk_never_changes",
                       f"UPDATE received_chunk SET bytes = x'00' WHERE bundle_id = {bundle_id}")
    assert problems == [f"Received bundle {bundle_id} (b.zip) no longer matches the SHA-256 "
                        "recorded when it came in."]


def test_a_version_1_vault_is_migrated_on_open(tmp_path: Path) -> None:
    """Build a vault exactly as version 1 left it, then open it with today's code."""
    folder = tmp_path / "old"
    with Vault.create(folder, PASSPHRASE, kdf=FAST_KDF)[0] as vault:
        add(vault, site="Facebook")
    conn = raw_connection(folder)
    conn.execute("BEGIN")
    as_schema_3(conn)  # the originals back in their version-1 table
    for statement in ("DROP TABLE received_chunk", "DROP TABLE received_bundle",
                      "DROP TABLE preview"):
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.execute("COMMIT")
    conn.close()
    with Vault.open(folder, PASSPHRASE) as vault:
        assert vault.conn.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
        assert vault.received_bundles() == []
        assert vault.captures()[0].details.site == "Facebook"
        assert vault.verify().ok


def test_a_version_2_vault_gains_previews_for_new_captures(tmp_path: Path) -> None:
    """Captures from before version 3 have no preview; exports make one as they go."""
    from evidence_recorder.core.bundle import check as bundle_check
    from evidence_recorder.core.bundle import seal as bundle

    folder = tmp_path / "old"
    with Vault.create(folder, PASSPHRASE, kdf=FAST_KDF)[0] as vault:
        old = add(vault, site="Facebook")
    conn = raw_connection(folder)
    conn.execute("BEGIN")
    as_schema_3(conn)  # the originals back in their version-1 table
    conn.execute("DROP TABLE preview")
    conn.execute("PRAGMA user_version = 2")
    conn.execute("COMMIT")
    conn.close()
    with Vault.open(folder, PASSPHRASE) as vault:
        assert vault.conn.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
        assert vault.previews(old) is None
        grab = capture.grab(capture.FakeGrabber(Image.new("RGB", (2000, 900), "navy")))
        new = recorder.save_grab(vault, grab)
        previews = vault.previews(new)
        assert previews is not None
        for jpeg, size in zip(previews, [(1280, 576), (640, 288)], strict=True):
            with Image.open(io.BytesIO(jpeg)) as shown:
                assert (shown.format, shown.size) == ("JPEG", size)
        out = bundle.export_bundle(vault, tmp_path)
        assert bundle_check.verify_bundle(out).ok
        vault.delete_capture(new, "test")
        assert vault.previews(new) is None
        assert vault.verify().ok


@pytest.mark.parametrize(("typed", "stored"), [
    ("samj", "@samj"), (" @samj ", "@samj"), ("@@SamJ", "@SamJ"), ("@", ""), ("  ", ""),
])
def test_handles_are_stored_one_way(vault: Vault, typed: str, stored: str) -> None:
    capture_id = add(vault, handle=typed)
    assert vault.capture(capture_id).details.handle == stored
    added = vault.audit_entries()[-1].details["details"]
    assert added.get("handle", "") == stored  # the audit log says what the row holds
    other = add(vault)
    vault.edit_capture(other, {"handle": typed})
    assert vault.capture(other).details.handle == stored
    assert vault.verify().ok


def test_a_handle_with_a_space_inside_is_refused_plainly(vault: Vault) -> None:
    with pytest.raises(RefusedInput, match="no spaces"):
        add(vault, handle="sam jones")
    capture_id = add(vault)
    with pytest.raises(RefusedInput, match="Author's name"):
        vault.edit_capture(capture_id, {"handle": "@sam jones"})
    assert vault.capture(capture_id).details.handle == ""


def test_an_old_handle_without_at_is_kept_until_its_next_edit(
        vault: Vault, monkeypatch: pytest.MonkeyPatch) -> None:
    from evidence_recorder.core.model import handle_text
    from evidence_recorder.core.vault import store as vault_module

    with monkeypatch.context() as old_version:  # as versions before @name was the rule did
        old_version.setattr(vault_module, "handle_text", lambda handle: handle)
        capture_id = add(vault, handle="samj")
    assert vault.capture(capture_id).details.handle == "samj"
    assert handle_text(vault.capture(capture_id).details.handle) == "@samj"  # shown so
    vault.edit_capture(capture_id, {"author": "Sam"})
    assert vault.capture(capture_id).details.handle == "samj"  # history is not rewritten
    assert vault.verify().ok
    diff = vault.edit_capture(capture_id, {"handle": "samj"})
    assert diff["handle"] == {"old": "samj", "new": "@samj"}
    assert vault.verify().ok
