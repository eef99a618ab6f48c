"""The vault's history anchor: an older evidence.db put back is caught, and nothing else is.

Every test uses real SQLCipher vaults; the "attack" is what anyone who can reach the
vault folder can do without the passphrase: close the vault, keep a copy of its
files, let the owner make more captures, then put the old files back.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from conftest import FAST_KDF, PASSPHRASE, REPO, run_cli
from keyring.backend import KeyringBackend
from PIL import Image

from evidence_recorder.core import fsutil
from evidence_recorder.core.gather import capture, recorder
from evidence_recorder.core.model import CaptureDetails
from evidence_recorder.core.vault import anchor, audit, backup, keychain
from evidence_recorder.core.vault.keychain import KEYRING_SERVICE
from evidence_recorder.core.vault.keyfile import KeyFile
from evidence_recorder.core.vault.store import DB_NAME, Vault

DB_FILES = (DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm")
OLDER = "This vault is older than the last time it was opened on this computer"


def add_captures(vault: Vault, count: int) -> None:
    for i in range(count):
        image = Image.new("RGB", (60 + i, 40), (i * 20 % 255, 90, 140))
        recorder.save_grab(vault, capture.grab(capture.FakeGrabber(image)),
                           CaptureDetails(description=f"capture {i}"))


def copy_db(folder: Path, to: Path) -> None:
    """What someone with the folder (no passphrase) keeps: the database files as they are."""
    to.mkdir(parents=True, exist_ok=True)
    for name in DB_FILES:
        if (folder / name).exists():
            shutil.copy2(folder / name, to / name)


def put_back(saved: Path, folder: Path) -> None:
    for name in DB_FILES:
        (folder / name).unlink(missing_ok=True)
        if (saved / name).exists():
            shutil.copy2(saved / name, folder / name)


def make_older_copy(folder: Path, keep: Path) -> Path:
    """Put an older evidence.db back into ``folder``: 1 capture then, 3 more since."""
    with Vault.open(folder, PASSPHRASE) as vault:
        add_captures(vault, 1)
    copy_db(folder, keep)
    with Vault.open(folder, PASSPHRASE) as vault:
        add_captures(vault, 3)
        assert vault.history_warning is None
    put_back(keep, folder)
    return folder


@pytest.fixture
def older_copy(closed_vault: Path, tmp_path: Path) -> Path:
    return make_older_copy(closed_vault, tmp_path / "old")


def anchor_file(vault_id: str) -> Path:
    return anchor.anchors_dir() / f"{vault_id}.json"


def actions(vault: Vault) -> list[str]:
    return [e.action for e in vault.audit_entries()]


# ---------------------------------------------------------------------- the attack


def test_an_older_copy_put_back_is_caught_by_verify(older_copy: Path) -> None:
    with Vault.open(older_copy, PASSPHRASE) as vault:
        entries = vault.audit_entries()
        # The old copy is a perfectly valid vault: its chain alone cannot tell.
        assert audit.first_broken(entries) is None
        assert vault.capture_count() == 1
        warning = vault.history_warning
        assert warning is not None and warning.kind == "behind"
        assert warning.anchor_captures == 4 and warning.vault_captures == 1
        assert warning.missing_entries and warning.missing_entries >= 4
        report = vault.verify()
        assert not report.ok
        assert any(p.startswith(OLDER) and "may be missing" in p for p in report.problems)
        assert "vault.history_behind" in actions(vault)


def test_cli_audit_verify_fails_with_the_sentence(older_copy: Path) -> None:
    env = {"EVIDENCE_RECORDER_PASSPHRASE": PASSPHRASE,
           "EVIDENCE_RECORDER_VAULT": str(older_copy)}
    result = run_cli("audit", "--verify", env=env)
    assert result.returncode == 1, result.stdout
    assert "The vault is intact" not in result.stdout
    assert OLDER in result.stderr
    assert "captures made after" in result.stderr
    as_json = run_cli("audit", "--verify", "--json", env=env)
    assert as_json.returncode == 1
    verdict = json.loads(as_json.stdout)["verify"]
    assert not verdict["ok"]
    assert any(p.startswith(OLDER) for p in verdict["problems"])
    # Any other command says it too, loudly.
    listed = run_cli("list", env=env)
    assert listed.returncode == 0 and "WARNING: " + OLDER in listed.stderr


def test_the_warning_stays_until_accepted_then_the_next_open_is_quiet(older_copy: Path) -> None:
    with Vault.open(older_copy, PASSPHRASE) as vault:
        first = vault.history_warning
        assert first is not None
    # Opening again, and even capturing more than was lost, does not make it go away.
    with Vault.open(older_copy, PASSPHRASE) as vault:
        add_captures(vault, 6)
    for _ in range(2):
        with Vault.open(older_copy, PASSPHRASE) as vault:
            again = vault.history_warning
            assert again is not None and again.copy_ends_at == first.copy_ends_at
            assert not vault.verify().ok
    with Vault.open(older_copy, PASSPHRASE) as vault:
        vault.accept_history()
        assert vault.history_warning is None
        accepted = [e for e in vault.audit_entries() if e.action == "vault.history_accepted"]
        assert len(accepted) == 1 and accepted[0].details["anchor_captures"] == 4
    with Vault.open(older_copy, PASSPHRASE) as vault:
        assert vault.history_warning is None
        assert vault.verify().ok


def test_cli_accept_older_copy(older_copy: Path) -> None:
    env = {"EVIDENCE_RECORDER_PASSPHRASE": PASSPHRASE,
           "EVIDENCE_RECORDER_VAULT": str(older_copy)}
    accepted = run_cli("audit", "--accept-older-copy", env=env)
    assert accepted.returncode == 0, accepted.stderr
    assert "put back an older copy on purpose" in accepted.stdout
    verified = run_cli("audit", "--verify", env=env)
    assert verified.returncode == 0, verified.stderr
    assert "It is not older than the last time it was opened on this computer" in verified.stdout
    assert "WARNING" not in verified.stderr


def test_a_different_copy_with_more_entries_is_caught(
        closed_vault: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An old copy used on another computer (so it has *more* entries), then put back."""
    copy_db(closed_vault, tmp_path / "old")
    with Vault.open(closed_vault, PASSPHRASE) as vault:
        add_captures(vault, 1)
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(closed_vault, elsewhere)
    put_back(tmp_path / "old", elsewhere)
    with monkeypatch.context() as other_computer:
        other_computer.setenv(anchor.ANCHORS_ENV, str(tmp_path / "other-computer"))
        with Vault.open(elsewhere, PASSPHRASE) as vault:
            add_captures(vault, 4)
    put_back(elsewhere, closed_vault)
    with Vault.open(closed_vault, PASSPHRASE) as vault:
        warning = vault.history_warning
        assert warning is not None and warning.kind == "diverged"
        assert "may be missing" in warning.text
        assert not vault.verify().ok


# ---------------------------------------------------------------------- no false alarms


def test_ordinary_use_never_warns(vault_dir: Path) -> None:
    made, recovery_key = Vault.create(vault_dir, PASSPHRASE, kdf=FAST_KDF)
    made.close()
    for round_no in range(3):
        with Vault.open(vault_dir, PASSPHRASE) as vault:
            assert vault.history_warning is None
            seen = vault.history.last_seen
            assert seen is not None and seen.captures == round_no * 2
            add_captures(vault, 2)
            vault.new_incident(f"Incident {round_no}")
            report = vault.verify()
            assert report.ok, report.problems
    new_passphrase = "a new long passphrase 9"
    with Vault.recover(vault_dir, recovery_key, new_passphrase, kdf=FAST_KDF) as recovered:
        assert recovered.history_warning is None
    with Vault.open(vault_dir, new_passphrase) as vault:
        vault.change_passphrase(PASSPHRASE, kdf=FAST_KDF)
    with Vault.open(vault_dir, PASSPHRASE) as vault:
        assert vault.history_warning is None
        assert vault.history.last_seen is not None and vault.history.last_seen.captures == 6


def test_the_anchor_follows_every_committed_write(vault: Vault) -> None:
    before = json.loads(anchor_file(vault.vault_id).read_bytes())["seq"]
    add_captures(vault, 1)
    after = json.loads(anchor_file(vault.vault_id).read_bytes())
    assert after["seq"] == vault.audit_entries()[-1].seq > before
    assert after["captures"] == 1
    assert anchor_file(vault.vault_id).stat().st_mode & 0o777 == 0o600
    assert anchor.anchors_dir().stat().st_mode & 0o777 == 0o700


def test_a_failed_anchor_write_never_fails_a_save(vault: Vault, vault_dir: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(step: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fsutil, "_fault_hook", fail)
    add_captures(vault, 2)  # saved: the anchor merely lags
    monkeypatch.setattr(fsutil, "_fault_hook", None)
    vault.close()
    with Vault.open(vault_dir, PASSPHRASE) as again:
        assert again.capture_count() == 2
        assert again.history_warning is None


def test_the_anchor_moves_only_after_the_commit(vault: Vault, vault_dir: Path) -> None:
    """A write whose COMMIT fails (a deferred foreign key) must not move the anchor ahead."""
    from evidence_recorder.core.vault import store as vault_module
    from evidence_recorder.core.vault.dberrors import DatabaseBug

    before = anchor_file(vault.vault_id).read_bytes()
    # A broken constraint is a bug in the program, not the environment (see dberrors).
    with pytest.raises(DatabaseBug), vault._write() as cur:
        vault_module._append(cur, "test.never_committed", "vault", {})
        cur.execute("INSERT INTO received_chunk (bundle_id, seq, bytes) VALUES (77, 0, x'00')")
    assert anchor_file(vault.vault_id).read_bytes() == before
    vault.close()
    with Vault.open(vault_dir, PASSPHRASE) as again:
        assert again.history_warning is None


_CHILD = """
import random, sys
from PIL import Image
from evidence_recorder.core.gather import capture
from evidence_recorder.core.gather import recorder
from evidence_recorder.core.vault.store import Vault
vault = Vault.open(sys.argv[1], sys.argv[2])
print("open", flush=True)
rng = random.Random(int(sys.argv[3]))
while True:
    image = Image.effect_noise((rng.randint(100, 400), rng.randint(80, 300)), 60).convert("RGB")
    capture_id = recorder.save_grab(vault, capture.grab(capture.FakeGrabber(image)))
    print("saved %d" % capture_id, flush=True)
"""


@pytest.mark.slow
def test_kill_9_while_capturing_never_cries_wolf(closed_vault: Path) -> None:
    rng = random.Random(20261207)
    vault_id = ""
    seqs: list[int] = []
    for round_no in range(int(os.environ.get("ER_ANCHOR_KILLS", "8"))):
        child = subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(closed_vault), PASSPHRASE, str(round_no)],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "open"
        time.sleep(rng.uniform(0.05, 0.8))
        child.send_signal(signal.SIGKILL)
        _out, err = child.communicate(timeout=30)
        assert "Traceback" not in err, err
        with Vault.open(closed_vault, PASSPHRASE) as vault:
            assert vault.history_warning is None, vault.history_warning
            vault_id = vault.vault_id
        seqs.append(json.loads(anchor_file(vault_id).read_bytes())["seq"])
    assert seqs == sorted(seqs) and seqs[-1] > seqs[0]


# ---------------------------------------------------------------------- the anchor itself


def test_a_tampered_anchor_is_reported_plainly(closed_vault: Path) -> None:
    with Vault.open(closed_vault, PASSPHRASE) as vault:
        vault_id = vault.vault_id
        add_captures(vault, 2)
    path = anchor_file(vault_id)
    doc = json.loads(path.read_bytes())
    doc["seq"] = 1  # pull the anchor back, as someone hiding a put-back copy would
    path.write_text(json.dumps(doc))
    with Vault.open(closed_vault, PASSPHRASE) as vault:
        warning = vault.history_warning
        assert warning is not None and warning.kind == "unreadable"
        assert "could not be read" in warning.text
        assert not vault.verify().ok
    path.write_bytes(b"\x00garbage{")
    with Vault.open(closed_vault, PASSPHRASE) as vault:
        assert vault.history_warning is not None
        assert vault.history_warning.kind == "unreadable"
        vault.accept_history()
    with Vault.open(closed_vault, PASSPHRASE) as vault:
        assert vault.history_warning is None
        assert vault.verify().ok


def test_an_anchor_from_another_vault_key_does_not_count(closed_vault: Path,
                                                         tmp_path: Path) -> None:
    with Vault.open(closed_vault, PASSPHRASE) as vault:
        vault_id = vault.vault_id
    forged = anchor.Anchor(vault_id, 999, "f" * 64, 50, "2026-01-01T00:00:00Z",
                           "2026-01-01T00:00:00Z")
    anchor_file(vault_id).write_bytes(anchor.encode(forged, anchor.mac_key(b"\x01" * 32)))
    with Vault.open(closed_vault, PASSPHRASE) as vault:
        assert vault.history_warning is not None
        assert vault.history_warning.kind == "unreadable"


class MemoryKeyring(KeyringBackend):
    priority = 5  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


class BrokenKeyring(MemoryKeyring):
    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.PasswordSetError("no")


class StuckKeyring(MemoryKeyring):
    release = threading.Event()

    def get_password(self, service: str, username: str) -> str | None:
        self.release.wait(30)
        return None


@pytest.fixture
def use_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    previous = keyring.get_keyring()
    monkeypatch.setattr(keychain, "_keyring_off", False)

    def install(backend: KeyringBackend) -> KeyringBackend:
        keyring.set_keyring(backend)
        return backend

    yield install
    keyring.set_keyring(previous)


def test_the_keychain_copy_catches_a_put_back_when_the_file_is_gone(
        closed_vault: Path, use_keyring: Any, tmp_path: Path) -> None:
    store = use_keyring(MemoryKeyring())
    make_older_copy(closed_vault, tmp_path / "old")
    vault_id = KeyFile.load(closed_vault).vault_id
    assert json.loads(store.store[(KEYRING_SERVICE, vault_id)])["captures"] == 4
    anchor_file(vault_id).unlink()  # someone deleted the file copy too
    with Vault.open(closed_vault, PASSPHRASE) as vault:
        assert vault.history_warning is not None
        assert vault.history_warning.kind == "behind"


def test_accepting_sticks_even_if_the_keychain_could_not_be_updated(
        closed_vault: Path, use_keyring: Any, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    store = use_keyring(MemoryKeyring())
    make_older_copy(closed_vault, tmp_path / "old")
    with monkeypatch.context() as locked, Vault.open(closed_vault, PASSPHRASE) as vault:
        assert vault.history_warning is not None
        locked.setattr(MemoryKeyring, "set_password", BrokenKeyring.set_password)
        vault.accept_history()
        vault_id = vault.vault_id
    keychain = json.loads(store.store[(KEYRING_SERVICE, vault_id)])
    assert keychain["captures"] == 4  # still the later state: it could not be moved
    with Vault.open(closed_vault, PASSPHRASE) as vault:
        assert vault.history_warning is None  # the log says that state was left on purpose
        assert vault.verify().ok


def test_a_failing_keychain_falls_back_to_the_file(older_copy: Path, use_keyring: Any) -> None:
    use_keyring(BrokenKeyring())
    with Vault.open(older_copy, PASSPHRASE) as vault:
        assert vault.history_warning is not None  # the file copy alone still catches it
        vault.accept_history()
    with Vault.open(older_copy, PASSPHRASE) as vault:
        assert vault.history_warning is None


def test_a_keychain_that_never_answers_does_not_hang_the_unlock(
        closed_vault: Path, use_keyring: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keychain, "KEYRING_TIMEOUT", 0.2)
    use_keyring(StuckKeyring())
    try:
        with Vault.open(closed_vault, PASSPHRASE) as vault:
            assert vault.history_warning is None
        assert keychain._keyring_off  # given up on for the rest of the run
    finally:
        StuckKeyring.release.set()


def test_fail_null_and_plaintext_keychains_are_never_used(use_keyring: Any) -> None:
    from keyring.backends import fail, null

    for backend in (fail.Keyring(), null.Keyring()):
        use_keyring(backend)
        assert keychain._backend() is None
    plaintext = type("PlaintextKeyring", (MemoryKeyring,), {"__module__": "keyrings.alt.file"})
    use_keyring(plaintext())
    assert keychain._backend() is None
    real = use_keyring(MemoryKeyring())
    assert keychain._backend() is real


def test_advance_re_signs_under_a_new_data_key(vault: Vault) -> None:
    """What "Change all keys" calls after the rekey; the old MAC key no longer verifies."""
    old_key = anchor.mac_key(vault._data_key)
    vault._data_key = bytes(32)  # stands in for the rekeyed data key
    anchor.advance(vault)
    raw = anchor_file(vault.vault_id).read_bytes()
    assert anchor.decode(raw, anchor.mac_key(bytes(32)), vault.vault_id).seq >= 1
    with pytest.raises(anchor.Unreadable):
        anchor.decode(raw, old_key, vault.vault_id)


# ---------------------------------------------------------------------- backups


def test_restoring_an_older_backup_on_purpose_says_so_once_and_moves_the_anchor(
        closed_vault: Path, tmp_path: Path) -> None:
    with Vault.open(closed_vault, PASSPHRASE) as vault:
        add_captures(vault, 1)
        made = backup.make_backup(vault, tmp_path)
        add_captures(vault, 2)
    restored_dir = tmp_path / "restored"
    report = backup.restore_backup(made, restored_dir)
    assert "older than the last time this vault was used on this computer" in \
        report.history_note
    with Vault.open(restored_dir, PASSPHRASE) as vault:
        assert vault.history_warning is None
        assert vault.history.notice is not None and "older" in vault.history.notice
        assert "3 captures" in vault.history.notice
        logged = [e for e in vault.audit_entries() if e.action == "vault.restored"]
        assert len(logged) == 1 and logged[0].details["older"] is True
        assert vault.verify().ok
    with Vault.open(restored_dir, PASSPHRASE) as vault:
        assert vault.history.notice is None  # once
        assert vault.history_warning is None


def test_the_restore_marker_only_covers_the_file_restored(closed_vault: Path,
                                                           tmp_path: Path) -> None:
    copy_db(closed_vault, tmp_path / "oldest")
    with Vault.open(closed_vault, PASSPHRASE) as vault:
        add_captures(vault, 1)
        made = backup.make_backup(vault, tmp_path)
        add_captures(vault, 2)
    restored_dir = tmp_path / "restored"
    backup.restore_backup(made, restored_dir)
    put_back(tmp_path / "oldest", restored_dir)  # swapped for another, older file after
    with Vault.open(restored_dir, PASSPHRASE) as vault:
        assert vault.history_warning is not None
        assert "vault.restored" not in actions(vault)


def test_cli_restore_says_the_backup_is_older(closed_vault: Path, tmp_path: Path) -> None:
    with Vault.open(closed_vault, PASSPHRASE) as vault:
        made = backup.make_backup(vault, tmp_path)
        add_captures(vault, 1)
    env = {"EVIDENCE_RECORDER_PASSPHRASE": PASSPHRASE}
    result = run_cli("backup", "--restore", str(made), "--to", str(tmp_path / "r"), env=env)
    assert result.returncode == 0, result.stderr
    assert "is older than the last time this vault was used on this computer" in result.stdout
    opened = run_cli("--vault", str(tmp_path / "r"), "audit", "--verify", env=env)
    assert opened.returncode == 0, opened.stderr
    assert "You restored a backup" in opened.stderr
    again = run_cli("--vault", str(tmp_path / "r"), "audit", "--verify", env=env)
    assert again.returncode == 0 and "You restored a backup" not in again.stderr
