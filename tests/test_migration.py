"""Schema 4: a vault made by the last schema-3 code opens with today's, its originals
moved into artefacts byte for byte, and a migration cut off at any point leaves a vault
that opens either as before (and migrates next time) or as after.

The schema-3 vault is ``tests/fixtures/vaults/vault-v3.tar.gz`` (40 captures made by the last
schema-3 code; ``tests/fixtures/vaults/make_v3_vault.py`` says how). The kill test runs in the
ER_FULL crash run (``-k crash``) at every step of the migration, and at a handful of
steps in the normal suite.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import sqlcipher3
from conftest import PASSPHRASE, REPO, raw_connection, schema_3_vault

from evidence_recorder.core import fsutil
from evidence_recorder.core.errors import EvidenceError
from evidence_recorder.core.model import ArtefactRole
from evidence_recorder.core.vault import schema
from evidence_recorder.core.vault.store import Vault

FULL = os.environ.get("ER_FULL") == "1"
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}


def schema_3_originals(folder: Path) -> dict[int, tuple[bytes, str, str]]:
    """Each capture's original bytes, recorded SHA-256 and media type, read from v3."""
    conn = raw_connection(folder)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 3
        return {int(r[0]): (bytes(r[1]), r[2], r[3]) for r in conn.execute(
            "SELECT c.id, o.bytes, c.sha256, c.media_type FROM capture c "
            "JOIN original o ON o.capture_id = c.id")}
    finally:
        conn.close()


def assert_migrated(vault: Vault, before: dict[int, tuple[bytes, str, str]]) -> None:
    assert vault.conn.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
    assert {c.id for c in vault.captures()} == set(before)
    for capture_id, (data, sha256, media_type) in before.items():
        assert vault.original(capture_id) == data
        assert hashlib.sha256(data).hexdigest() == sha256
        (only,) = vault.artefacts(capture_id)
        assert (only.name, only.role, only.media_type, only.size, only.sha256,
                only.primary, only.derived_from) == (
            f"original.{EXTENSIONS[media_type]}", ArtefactRole.ORIGINAL, media_type,
            len(data), sha256, True, None)
        with vault.open_artefact(capture_id) as fh:
            assert fh.read() == data
    report = vault.verify()
    assert report.ok, report.problems
    assert vault.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert vault.conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert vault.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_a_schema_3_vault_made_by_older_code_migrates_byte_for_byte(tmp_path: Path) -> None:
    folder = schema_3_vault(tmp_path)
    before = schema_3_originals(folder)
    assert len(before) == 39  # 40 made, one deleted
    assert {media for _d, _s, media in before.values()} == set(EXTENSIONS)
    entries_before = len(raw_connection(folder).execute("SELECT seq FROM audit").fetchall())
    with Vault.open(folder, PASSPHRASE) as vault:
        assert_migrated(vault, before)
        names = {row[0] for row in vault.conn.execute("SELECT name FROM sqlite_master")}
        assert "original" not in names
        assert {"capture_incident", "capture_time", "capture_facts_never_change",
                "artefact", "artefact_chunk", "artefact_primary", "artefact_never_changes",
                "artefact_chunk_never_changes", "thumbnail", "preview", "annotation",
                "received_bundle", "audit_never_changes", "audit_never_shrinks"} <= names
        # The migration writes no audit entry (the log replays as it was): only the
        # unlock is new.
        assert len(vault.audit_entries()) == entries_before + 1
        first = vault.captures()[0]
        assert first.title == "" and first.details.author == "J. Smith"
        assert vault.annotations(vault.captures()[1].id) is not None
        # Steps 9 and 10 need no rebuild: their kinds are accepted, nonsense is not.
        conn = vault.conn
        with pytest.raises(sqlcipher3.IntegrityError, match="never changes"):
            conn.execute("UPDATE capture SET title = 'x' WHERE id = ?", (first.id,))
        row = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'capture'").fetchone()
        for kind in ("screen", "monitor", "region", "window", "import", "web", "email", "chat"):
            assert f"'{kind}'" in row[0]
        with pytest.raises(sqlcipher3.IntegrityError, match="originals never change"):
            conn.execute("UPDATE artefact_chunk SET bytes = x'00'")
        # Each thumbnail and preview now names the artefact it was made from.
        for table in ("thumbnail", "preview"):
            made = dict(conn.execute(f"SELECT capture_id, made_from FROM {table}"))
            assert made, table
            for capture_id, name in made.items():
                assert name == vault.artefact(capture_id).name
                assert name.startswith("original.")
    with Vault.open(folder, PASSPHRASE) as vault:  # and it stays migrated
        assert_migrated(vault, before)


def test_the_new_kinds_fit_the_migrated_table(tmp_path: Path) -> None:
    folder = schema_3_vault(tmp_path)
    Vault.open(folder, PASSPHRASE).close()
    conn = raw_connection(folder)
    try:
        columns = ("incident_id, kind, captured_at, tz_name, utc_offset, sha256, width, "
                   "height, media_type, byte_size, environment")
        values = (1, "web", "2026-12-07T10:00:00.000Z", "UTC", "+00:00", "0" * 64, 0, 0,
                  "image/png", 0, "{}")
        conn.execute(f"INSERT INTO capture ({columns}) VALUES (?,?,?,?,?,?,?,?,?,?,?)", values)
        with pytest.raises(sqlcipher3.IntegrityError):
            conn.execute(f"INSERT INTO capture ({columns}) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                         (1, "fax", *values[2:]))
    finally:
        conn.close()


def test_a_migration_that_fails_part_way_changes_nothing(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    folder = schema_3_vault(tmp_path)
    before = schema_3_originals(folder)
    seen: list[str] = []

    def fail_on_the_tenth(name: str) -> None:
        seen.append(name)
        if seen.count("migrate.v4.moved") == 10:
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(fsutil, "_fault_hook", fail_on_the_tenth)
    with pytest.raises((OSError, EvidenceError)):
        Vault.open(folder, PASSPHRASE)
    monkeypatch.setattr(fsutil, "_fault_hook", None)
    assert schema_3_originals(folder) == before  # still schema 3, every original there
    with Vault.open(folder, PASSPHRASE) as vault:
        assert_migrated(vault, before)


_MIGRATE_AND_DIE = """
import os, signal, sys
from evidence_recorder.core import fsutil
from evidence_recorder.core.vault.store import Vault
count = 0
def hook(name):
    global count
    if name.startswith("migrate."):
        if count == int(sys.argv[2]):
            os.kill(os.getpid(), signal.SIGKILL)
        count += 1
fsutil._fault_hook = hook
Vault.open(sys.argv[1], sys.argv[3]).close()
print("opened", count)
"""

# Steps a schema-3 -> 4 migration of the 39-capture vault passes: the tables made, each
# original moved, all moved, about to commit, committed; then 4 -> 5 (the message
# tables): about to commit, committed.
STEPS_TO_V4 = 1 + 39 + 1 + 1 + 1
STEPS = STEPS_TO_V4 + 1 + 1


@pytest.mark.slow
@pytest.mark.parametrize("points", [
    pytest.param(list(range(STEPS)) if FULL else [0, 1, 2, 20, 39, 40, 41, 42, 43, 44],
                 id="crash-every-step" if FULL else "crash-some-steps"),
])
def test_crash_sigkill_during_the_migration(points: list[int], tmp_path: Path) -> None:
    _kill_at(points, tmp_path)


def test_crash_sigkill_during_the_migration_quick(tmp_path: Path) -> None:
    """The normal suite's share: killed while moving originals, and just after commit."""
    _kill_at([5, STEPS - 1], tmp_path)


def _kill_at(points: list[int], tmp_path: Path) -> None:
    pristine = schema_3_vault(tmp_path / "pristine")
    before = schema_3_originals(pristine)
    counted = subprocess.run([sys.executable, "-c", _MIGRATE_AND_DIE,
                              str(schema_3_vault(tmp_path / "count")), "-1", PASSPHRASE],
                             cwd=REPO, capture_output=True, text=True, timeout=120, check=True)
    assert counted.stdout.split() == ["opened", str(STEPS)]  # every step is a kill point
    for point in points:
        folder = schema_3_vault(tmp_path / f"kill-{point}")
        child = subprocess.run([sys.executable, "-c", _MIGRATE_AND_DIE, str(folder),
                                str(point), PASSPHRASE],
                               cwd=REPO, capture_output=True, text=True, timeout=120)
        assert child.returncode == -signal.SIGKILL, (point, child.stderr[-2000:])
        conn = raw_connection(folder)
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        conn.close()
        # Before the commit point: exactly as before; from it on: exactly as after.
        assert version == (schema.SCHEMA_VERSION if point == STEPS - 1
                           else 4 if point >= STEPS_TO_V4 - 1 else 3), point
        if version == 3:
            assert schema_3_originals(folder) == before
        with Vault.open(folder, PASSPHRASE) as vault:
            assert_migrated(vault, before)


def test_originals_larger_than_a_chunk_are_split_and_read_back_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from evidence_recorder.core.vault import items
    from evidence_recorder.core.vault import store as store_module

    for module in (schema, items, store_module):
        monkeypatch.setattr(module, "ARTEFACT_CHUNK", 64)
    folder = schema_3_vault(tmp_path)
    before = schema_3_originals(folder)
    with Vault.open(folder, PASSPHRASE) as vault:
        chunks = vault.conn.execute("SELECT max(seq) FROM artefact_chunk").fetchone()[0]
        assert chunks > 5  # every original went in many pieces
        assert_migrated(vault, before)
