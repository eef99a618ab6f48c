"""Change all keys: a new data key, passphrase and recovery key, crash-safe, on real files.

A passphrase change leaves every old copy of ``vault.key`` opening the vault with the
old passphrase; these tests show that after "Change all keys" none does, that a kill at
any step leaves exactly one working passphrase, and what stays true of old backups.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import sqlcipher3
from conftest import FAST_KDF, PASSPHRASE, REPO, run_cli
from test_faults import add_capture, fill, small_disk  # noqa: F401 - small_disk is a fixture

from evidence_recorder.core import fsutil
from evidence_recorder.core.errors import EvidenceError, RefusedInput, VaultDamaged, WrongSecret
from evidence_recorder.core.paths import KEYFILE_NAME
from evidence_recorder.core.vault import backup, rekey
from evidence_recorder.core.vault.keyfile import KeyFile
from evidence_recorder.core.vault.rekey import NEW_DB_NAME, NEW_KEYFILE_NAME
from evidence_recorder.core.vault.store import DB_NAME, Vault

NEW = "seventeen quiet herons"
REDACT = {"version": 1, "items": [{"type": "redact", "rect": [0, 0, 5, 5]}]}


def contents(vault: Vault) -> dict[str, object]:
    """Everything the vault holds that a key change must carry over unchanged."""
    return {
        "captures": {c.id: (c.sha256, c.details.description, vault.original(c.id),
                            vault.thumbnail(c.id), vault.annotations(c.id))
                     for c in vault.captures()},
        "incidents": [(i.id, i.title) for i in vault.incidents()],
        "received": [(b.id, b.sha256, b.byte_size) for b in vault.received_bundles()],
        "schema": vault.conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master "
                                     "ORDER BY type, name").fetchall(),
        "user_version": vault.conn.execute("PRAGMA user_version").fetchone()[0],
        "meta": vault.conn.execute("SELECT key, value FROM meta ORDER BY key").fetchall(),
    }


def key_opens_db(folder: Path, key: bytes) -> bool:
    """Does this raw data key decrypt evidence.db? (as someone holding an old key would try)"""
    conn = sqlcipher3.connect(str(folder / DB_NAME), isolation_level=None)
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlcipher3.DatabaseError:
        return False
    finally:
        conn.close()
    return True


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()
                  if p.name.endswith((".new", ".tmp", "-journal")) or ".new" in p.name)


@pytest.fixture
def full_vault(tmp_path: Path) -> tuple[Path, str]:
    """A closed vault with captures, an annotation, an edit, a second incident and a
    received bundle (a table with a two-column key), made with tiny KDF costs."""
    folder = tmp_path / "vault"
    vault, recovery = Vault.create(folder, PASSPHRASE, kdf=FAST_KDF)
    with vault:
        ids = [add_capture(vault, (160, 120), note=f"seed {n}") for n in range(5)]
        vault.set_annotations(ids[0], REDACT)
        vault.edit_capture(ids[1], {"description": "edited before the key change"})
        vault.new_incident("Messages on the class chat")
        sent = tmp_path / "sent.zip"
        sent.write_bytes(os.urandom(5000))
        vault.add_received_bundle(sent, {"ok": True})
    return folder, recovery


def test_change_all_keys_revokes_old_key_files_and_keeps_everything(
        full_vault: tuple[Path, str], tmp_path: Path) -> None:
    folder, old_recovery = full_vault
    old_keyfile = (folder / KEYFILE_NAME).read_bytes()
    with Vault.open(folder, PASSPHRASE) as vault:
        before = contents(vault)
        old_key = KeyFile.load(folder).unlock_with_passphrase(PASSPHRASE)
        old_backup = backup.make_backup(vault, tmp_path / "before.erbackup")
        entries_before = vault.audit_entries()
        seen: list[tuple[int, int]] = []
        recovery = vault.change_all_keys(NEW, progress=lambda d, t: seen.append((d, t)),
                                         kdf=FAST_KDF)
        # The same vault, still open and usable, now under the new key.
        assert contents(vault) == before
        assert vault.verify().ok
        entries = vault.audit_entries()
        assert entries[:len(entries_before)] == entries_before
        assert [(e.action, e.details) for e in entries[len(entries_before):]] == \
            [("keys.changed", {})]
        add_capture(vault, note="after the key change")
        # The append-only rules came across with the schema.
        with pytest.raises(sqlcipher3.IntegrityError, match="append-only"):
            vault.conn.execute("UPDATE audit SET action = 'x'")
    assert recovery != old_recovery
    assert seen[-1][0] == seen[-1][1] and len(seen) > 3
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert leftovers(folder) == []
    text = (folder / KEYFILE_NAME).read_text()
    assert NEW not in text and recovery not in text

    # The old data key no longer decrypts the database; the new passphrase and the new
    # recovery key open it; the old passphrase and the old recovery key do not.
    assert not key_opens_db(folder, old_key)
    with pytest.raises(WrongSecret):
        Vault.open(folder, PASSPHRASE)
    with pytest.raises(WrongSecret):
        Vault.recover(folder, old_recovery, "another good passphrase 9", kdf=FAST_KDF)
    with Vault.open(folder, NEW) as vault:
        assert vault.verify().ok
        assert {k: v for k, v in contents(vault).items() if k != "captures"} == \
            {k: v for k, v in before.items() if k != "captures"}
    Vault.recover(folder, recovery, "another good passphrase 9", kdf=FAST_KDF).close()

    # An old copy of vault.key put back: its passphrase still unwraps the old data key,
    # but that key no longer opens this database. A plain message, nothing changed.
    (folder / KEYFILE_NAME).write_bytes(old_keyfile)
    files = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    for attempt in (lambda: Vault.open(folder, PASSPHRASE),
                    lambda: Vault.recover(folder, old_recovery, "another good passphrase 9",
                                          kdf=FAST_KDF)):
        with pytest.raises(VaultDamaged, match="does not belong") as caught:
            attempt()
        assert "before all keys were changed" in caught.value.message
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} == files
    result = run_cli("list", env={"EVIDENCE_RECORDER_VAULT": str(folder),
                                  "EVIDENCE_RECORDER_PASSPHRASE": PASSPHRASE})
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "does not belong" in result.stderr

    # A backup made before is a separate copy under the old key: it still opens with the
    # old passphrase (inherent, and what the dialog says), and not with the new one.
    restored = tmp_path / "restored"
    backup.restore_backup(old_backup, restored)
    with pytest.raises(WrongSecret):
        Vault.open(restored, NEW)
    with Vault.open(restored, PASSPHRASE) as copy:
        assert copy.verify().ok


def test_change_all_keys_refuses_a_weak_passphrase(full_vault: tuple[Path, str]) -> None:
    folder, _ = full_vault
    with Vault.open(folder, PASSPHRASE) as vault:
        files = {p.name: p.read_bytes() for p in folder.iterdir() if p.name != "vault.lock"}
        with pytest.raises(RefusedInput, match="passphrase"):
            vault.change_all_keys("short", kdf=FAST_KDF)
        assert (folder / KEYFILE_NAME).read_bytes() == files[KEYFILE_NAME]
    assert leftovers(folder) == []
    Vault.open(folder, PASSPHRASE).close()


def test_a_failure_before_the_commit_point_changes_nothing(
        full_vault: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> None:
    folder, recovery = full_vault

    def fail(name: str) -> None:
        if name == "rekey.copying":
            raise OSError(5, "Input/output error")

    with Vault.open(folder, PASSPHRASE) as vault:
        before = contents(vault)
        keyfile = (folder / KEYFILE_NAME).read_bytes()
        monkeypatch.setattr(fsutil, "_fault_hook", fail)
        with pytest.raises(EvidenceError, match="Nothing was changed"):
            vault.change_all_keys(NEW, kdf=FAST_KDF)
        monkeypatch.setattr(fsutil, "_fault_hook", None)
        assert leftovers(folder) == []
        assert (folder / KEYFILE_NAME).read_bytes() == keyfile
        assert contents(vault) == before  # the open vault still works, under the old key
        add_capture(vault, note="still saving")
        assert vault.verify().ok
    with pytest.raises(WrongSecret):
        Vault.open(folder, NEW)
    Vault.recover(folder, recovery, "another good passphrase 9", kdf=FAST_KDF).close()


def test_not_enough_free_space_is_refused_before_anything_is_written(
        small_disk: Path | None) -> None:  # noqa: F811 - the fixture imported above
    if small_disk is None:
        pytest.skip("no tmpfs here (not root): cannot make a real small disk")
    folder = small_disk / "vault"
    vault, _ = Vault.create(folder, PASSPHRASE, kdf=FAST_KDF)
    with vault:
        for n in range(3):
            add_capture(vault, (500, 400), note=f"big {n}")
        vault.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = (folder / DB_NAME).stat().st_size
        filler = fill(small_disk, leave=size // 2)
        files = {p.name: p.read_bytes() for p in folder.iterdir() if p.name != "vault.lock"}
        with pytest.raises(EvidenceError, match="not enough free disk space") as caught:
            vault.change_all_keys(NEW, kdf=FAST_KDF)
        assert "Nothing was changed" in caught.value.message
        assert {p.name: p.read_bytes() for p in folder.iterdir()
                if p.name != "vault.lock"} == files
        assert vault.verify().ok
        filler.unlink()
    Vault.open(folder, PASSPHRASE).close()


def test_a_disk_that_fills_during_the_copy_changes_nothing(
        small_disk: Path | None, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """The free-space check is an estimate; if the disk still fills, nothing is lost."""
    if small_disk is None:
        pytest.skip("no tmpfs here (not root): cannot make a real small disk")
    folder = small_disk / "vault"
    vault, _ = Vault.create(folder, PASSPHRASE, kdf=FAST_KDF)
    with vault:
        for n in range(3):
            add_capture(vault, (500, 400), note=f"big {n}")
        before = contents(vault)
        vault.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = (folder / DB_NAME).stat().st_size
        filler = fill(small_disk, leave=size // 2)
        monkeypatch.setattr(rekey, "_check_room_for_rekey", lambda _vault: None)
        with pytest.raises(EvidenceError, match="disk is full"):
            vault.change_all_keys(NEW, kdf=FAST_KDF)
        assert leftovers(folder) == []
        filler.unlink()
        assert contents(vault) == before
        assert vault.verify().ok
    with pytest.raises(WrongSecret):
        Vault.open(folder, NEW)
    Vault.open(folder, PASSPHRASE).close()


# ---------------------------------------------------------------------- killed at each step

_REKEY_AND_DIE = """
import os, signal, sys
from evidence_recorder.core.vault import anchor
from evidence_recorder.core import fsutil
from evidence_recorder.core.vault.keyfile import KdfParams
from evidence_recorder.core.vault.store import Vault
step = sys.argv[2]
armed = True
def hook(name):
    if armed and name == step:
        os.kill(os.getpid(), signal.SIGKILL)
# Armed after the open (opening writes the history anchor atomically too), and quiet
# while the spare anchor is written, so that "written", "synced" and "renamed" name the
# new key file's own steps.
vault = Vault.open(sys.argv[1], {old!r})
fsutil._fault_hook = hook
real_prepare = anchor.prepare_key_change
def prepare(*args):
    global armed
    armed = False
    try:
        real_prepare(*args)
    finally:
        armed = True
anchor.prepare_key_change = prepare
print(vault.change_all_keys({new!r}, kdf=KdfParams(1, 8, 1)), flush=True)
vault.close()
"""

# Every step change_all_keys passes, in order, and which passphrase a kill there leaves:
# the appearance of vault.key.new (its atomic write's "renamed") is the commit point.
STEPS = {
    "rekey.started": PASSPHRASE,
    "rekey.copying": PASSPHRASE,  # half way through copying the tables
    "rekey.exported": PASSPHRASE,  # the copy is whole, but no new key file yet
    "rekey.anchor_ready": PASSPHRASE,  # the history anchor for the new key waits beside
    "written": PASSPHRASE,  # vault.key.new's temp file, not yet fsynced
    "synced": PASSPHRASE,
    "renamed": NEW,  # vault.key.new exists: committed
    "rekey.closed": NEW,
    "rekey.db_swapped": NEW,
    "rekey.key_swapped": NEW,
    "rekey.reopened": NEW,
    "never": NEW,
}


@pytest.mark.parametrize("step", list(STEPS))
def test_change_all_keys_killed_at_each_step_leaves_one_working_passphrase(
        full_vault: tuple[Path, str], step: str) -> None:
    folder, old_recovery = full_vault
    with Vault.open(folder, PASSPHRASE) as vault:
        before = contents(vault)
        entries_before = len(vault.audit_entries()) + 1  # this open's "vault.unlocked"
    old_keyfile = (folder / KEYFILE_NAME).read_bytes()
    script = _REKEY_AND_DIE.format(old=PASSPHRASE, new=NEW)
    child = subprocess.run([sys.executable, "-c", script, str(folder), step], cwd=REPO,
                           capture_output=True, text=True, check=False, timeout=120)
    assert "Traceback" not in child.stderr, child.stderr
    assert (child.returncode == -signal.SIGKILL) == (step != "never"), child
    if step not in ("rekey.started", "rekey.key_swapped", "rekey.reopened", "never"):
        assert leftovers(folder), "a kill at this step should leave work for the next open"

    working = []
    for candidate in (PASSPHRASE, NEW):
        try:
            Vault.open(folder, candidate).close()
        except WrongSecret:
            continue
        working.append(candidate)
    assert working == [STEPS[step]]
    assert leftovers(folder) == [], "the next open finishes or undoes the change"
    changed = STEPS[step] == NEW
    keyfile = KeyFile.load(folder)
    if changed:
        with pytest.raises(WrongSecret):
            keyfile.unlock_with_recovery(old_recovery)
        assert (folder / KEYFILE_NAME).read_bytes() != old_keyfile
        if step == "never":
            assert keyfile.unlock_with_recovery(child.stdout.strip()) == \
                keyfile.unlock_with_passphrase(NEW)
    else:
        assert (folder / KEYFILE_NAME).read_bytes() == old_keyfile
        assert keyfile.unlock_with_recovery(old_recovery) == \
            keyfile.unlock_with_passphrase(PASSPHRASE)
    with Vault.open(folder, STEPS[step]) as vault:
        # The history anchor reads true under whichever key won: no false alarm.
        assert vault.history_warning is None
        assert vault.verify().ok
        assert vault.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert contents(vault) == before
        actions = [e.action for e in vault.audit_entries()[entries_before:]]
        assert ("keys.changed" in actions) == changed
        add_capture(vault, note="after the kill")
    # An old vault.key copy opens nothing once the change went through.
    if changed:
        shutil.copy(folder / KEYFILE_NAME, folder.parent / "current.key")
        (folder / KEYFILE_NAME).write_bytes(old_keyfile)
        with pytest.raises(VaultDamaged, match="does not belong"):
            Vault.open(folder, PASSPHRASE)
        shutil.copy(folder.parent / "current.key", folder / KEYFILE_NAME)
    with Vault.open(folder, STEPS[step]) as vault:
        assert vault.verify().ok


def test_an_open_vault_blocks_finishing_a_change_elsewhere(full_vault: tuple[Path, str]) -> None:
    """Leftovers are settled only under the folder lock, never under another's feet."""
    folder, _ = full_vault
    script = _REKEY_AND_DIE.format(old=PASSPHRASE, new=NEW)
    subprocess.run([sys.executable, "-c", script, str(folder), "renamed"], cwd=REPO,
                   capture_output=True, check=False, timeout=120)
    assert (folder / NEW_KEYFILE_NAME).exists() and (folder / NEW_DB_NAME).exists()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys\nfrom evidence_recorder.core.vault.store import "
         "_FolderLock\nfrom pathlib import Path\nlock = _FolderLock(Path(sys.argv[1]))\n"
         "print('held', flush=True)\nsys.stdin.read()\n", str(folder)],
        cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        before = sorted(p.name for p in folder.iterdir())
        with pytest.raises(EvidenceError, match="already open"):
            Vault.open(folder, NEW)
        assert sorted(p.name for p in folder.iterdir()) == before
    finally:
        holder.communicate("", timeout=60)
    with Vault.open(folder, NEW) as vault:
        assert vault.verify().ok


# ---------------------------------------------------------------------- command line


def test_rekey_command(full_vault: tuple[Path, str]) -> None:
    folder, old_recovery = full_vault
    env = {"EVIDENCE_RECORDER_VAULT": str(folder), "EVIDENCE_RECORDER_PASSPHRASE": PASSPHRASE}
    weak = run_cli("rekey", env={**env, "EVIDENCE_RECORDER_NEW_PASSPHRASE": "abc"})
    assert weak.returncode == 4 and "Traceback" not in weak.stderr
    wrong = run_cli("rekey", env={**env, "EVIDENCE_RECORDER_PASSPHRASE": "not it at all",
                                  "EVIDENCE_RECORDER_NEW_PASSPHRASE": NEW})
    assert wrong.returncode == 3
    done = run_cli("rekey", env={**env, "EVIDENCE_RECORDER_NEW_PASSPHRASE": NEW})
    assert done.returncode == 0, done.stderr
    assert "shown only this once" in done.stdout
    said = " ".join(done.stdout.split())
    assert "Backups made before now" in said and "still open with the old passphrase" in said
    recovery = next(line.strip() for line in done.stdout.splitlines()
                    if line.startswith("    "))
    assert recovery != old_recovery
    keyfile = KeyFile.load(folder)
    assert keyfile.unlock_with_recovery(recovery) == keyfile.unlock_with_passphrase(NEW)
    assert run_cli("list", env=env).returncode == 3
    assert run_cli("list", env={**env, "EVIDENCE_RECORDER_PASSPHRASE": NEW}).returncode == 0
    helped = run_cli("rekey", "--help")
    assert "old passphrase" in " ".join(helped.stdout.split())
    assert "rekey" in run_cli("passwd", "--help").stdout


def test_passwd_says_what_it_does_not_revoke(full_vault: tuple[Path, str]) -> None:
    folder, _ = full_vault
    done = run_cli("passwd", env={"EVIDENCE_RECORDER_VAULT": str(folder),
                                  "EVIDENCE_RECORDER_PASSPHRASE": PASSPHRASE,
                                  "EVIDENCE_RECORDER_NEW_PASSPHRASE": NEW})
    assert done.returncode == 0, done.stderr
    said = " ".join(done.stdout.split())
    assert "still open with the old passphrase" in said
    assert "evidence-recorder rekey" in said


def test_passphrase_change_alone_leaves_old_key_files_working(
        full_vault: tuple[Path, str]) -> None:
    """Why "Change all keys" exists: the attack, on a plain passphrase change."""
    folder, _ = full_vault
    old_keyfile = (folder / KEYFILE_NAME).read_bytes()
    with Vault.open(folder, PASSPHRASE) as vault:
        vault.change_passphrase(NEW, kdf=FAST_KDF)
    (folder / KEYFILE_NAME).write_bytes(old_keyfile)
    Vault.open(folder, PASSPHRASE).close()  # the old copy still opens everything


def test_sha_of_new_database_differs_everywhere(full_vault: tuple[Path, str]) -> None:
    """Re-encrypted, not relabelled: no 4 KiB page of the old file survives in the new."""
    folder, _ = full_vault
    with Vault.open(folder, PASSPHRASE) as vault:
        vault.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        old = (folder / DB_NAME).read_bytes()
        vault.change_all_keys(NEW, kdf=FAST_KDF)
    new = (folder / DB_NAME).read_bytes()
    pages = {hashlib.sha256(old[i:i + 4096]).digest() for i in range(0, len(old), 4096)}
    assert not pages & {hashlib.sha256(new[i:i + 4096]).digest()
                        for i in range(0, len(new), 4096)}
