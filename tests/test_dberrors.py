"""Database errors told apart by SQLite's error codes: the environment, or a bug.

Every error here is a real one from SQLCipher: a full disk (a real tmpfs, and
``max_page_count``), a damaged file, a read-only file, a held lock, bad SQL sent through
the vault's own write and read paths. What the environment caused gets the plain
sentence; a bug is never "the vault may be damaged, restore a backup".
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlcipher3
from conftest import PASSPHRASE
from PIL import Image

from evidence_recorder import cli
from evidence_recorder.core import paths
from evidence_recorder.core.errors import EvidenceError, VaultDamaged, VaultInUse
from evidence_recorder.core.gather import capture, recorder
from evidence_recorder.core.model import CaptureDetails
from evidence_recorder.core.vault import backup, dberrors
from evidence_recorder.core.vault.dberrors import DatabaseBug, translate_db_error
from evidence_recorder.core.vault.store import DB_NAME, Vault

PAGE = 4096  # SQLCipher's page size


def _add_capture(vault: Vault, size: tuple[int, int] = (300, 200)) -> int:
    image = Image.effect_noise(size, 60).convert("RGB")
    return recorder.save_grab(vault, capture.grab(capture.FakeGrabber(image)),
                              CaptureDetails(description="note"))


def _error_from(action: object) -> sqlcipher3.Error:
    try:
        action()  # type: ignore[operator]
    except sqlcipher3.Error as exc:
        return exc
    raise AssertionError("no database error was raised")


# ------------------------------------------------------------------ environment


def test_a_full_vault_says_the_disk_is_full(vault: Vault) -> None:
    """SQLITE_FULL for real: the database may not grow past the pages it has."""
    _add_capture(vault)
    before = [c.id for c in vault.captures()]
    pages = vault.conn.execute("PRAGMA page_count").fetchone()[0]
    vault.conn.execute(f"PRAGMA max_page_count = {int(pages):d}")
    with pytest.raises(EvidenceError, match="disk is full") as caught:
        _add_capture(vault, (900, 700))
    assert type(caught.value) is EvidenceError
    cause = caught.value.__cause__
    assert cause is not None and getattr(cause, "sqlite_errorname", None) == "SQLITE_FULL"
    assert "full" not in dberrors.DAMAGED_MESSAGE  # the sentence comes from the code
    vault.conn.execute("PRAGMA max_page_count = 1073741823")
    assert [c.id for c in vault.captures()] == before
    assert vault.verify().ok


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs (as test_faults mounts one), or a skip where it cannot be mounted."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("no tmpfs here (not root); max_page_count stands in for a full disk")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs",
                           str(mount_point)], capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip("tmpfs could not be mounted here")
    try:
        yield mount_point
    finally:
        if subprocess.run(["umount", str(mount_point)], check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_a_really_full_disk_is_told_apart_by_its_code(small_disk: Path) -> None:
    db = small_disk / "plain.db"
    conn = sqlcipher3.connect(str(db), isolation_level=None)
    try:
        conn.execute("CREATE TABLE t (b BLOB)")
        exc = _error_from(lambda: [conn.execute("INSERT INTO t VALUES (randomblob(500000))")
                                   for _ in range(20)])
    finally:
        conn.close()
    assert exc.sqlite_errorcode & 0xFF == dberrors.SQLITE_FULL
    translated = translate_db_error(exc)
    assert type(translated) is EvidenceError
    assert "disk is full" in translated.message
    assert dberrors.is_disk_full(exc) and dberrors.is_environment(exc)


def test_a_file_that_is_not_a_database_is_damage(tmp_path: Path) -> None:
    db = tmp_path / "noise.db"
    db.write_bytes(os.urandom(2 * PAGE))
    conn = sqlcipher3.connect(str(db))
    try:
        exc = _error_from(lambda: conn.execute("SELECT * FROM sqlite_master").fetchall())
    finally:
        conn.close()
    assert exc.sqlite_errorname == "SQLITE_NOTADB"
    translated = translate_db_error(exc)
    assert isinstance(translated, VaultDamaged)
    assert "may be damaged" in translated.message


def test_a_damaged_page_inside_the_vault_is_damage_not_a_bug(closed_vault: Path) -> None:
    """SQLCipher finds the flipped bit (its page checksum fails) when the page is read."""
    with Vault.open(closed_vault, PASSPHRASE) as vault:
        for _ in range(3):
            _add_capture(vault)
    db = closed_vault / DB_NAME
    data = bytearray(db.read_bytes())
    middle = len(data) // PAGE // 2 * PAGE  # the originals' pages fill the middle
    data[middle + 1000] ^= 0x10
    db.write_bytes(bytes(data))
    with Vault.open(closed_vault, PASSPHRASE) as vault, \
            pytest.raises(VaultDamaged, match="may be damaged") as caught:
        for kept in vault.captures():
            vault.original(kept.id)
            vault.thumbnail(kept.id)
    cause = caught.value.__cause__
    assert cause is not None
    assert getattr(cause, "sqlite_errorname", None) in {"SQLITE_CORRUPT", "SQLITE_NOTADB",
                                                         "SQLITE_IOERR"}


def test_read_only_busy_and_unopenable_files_get_their_own_sentences(tmp_path: Path) -> None:
    db = tmp_path / "plain.db"
    setup = sqlcipher3.connect(str(db), isolation_level=None)
    setup.execute("CREATE TABLE t (x)")
    setup.close()

    ro = sqlcipher3.connect(f"{db.as_uri()}?mode=ro", uri=True)
    readonly = _error_from(lambda: ro.execute("INSERT INTO t VALUES (1)"))
    ro.close()
    assert readonly.sqlite_errorname == "SQLITE_READONLY"
    assert "cannot be written to" in str(translate_db_error(readonly))

    holder = sqlcipher3.connect(str(db), isolation_level=None, timeout=0)
    other = sqlcipher3.connect(str(db), isolation_level=None, timeout=0)
    holder.execute("BEGIN IMMEDIATE")
    busy = _error_from(lambda: other.execute("BEGIN IMMEDIATE"))
    holder.execute("ROLLBACK")
    holder.close()
    other.close()
    assert busy.sqlite_errorname == "SQLITE_BUSY"
    assert isinstance(translate_db_error(busy), VaultInUse)

    missing = (tmp_path / "no-such-folder" / "x.db").as_uri()
    cantopen = _error_from(lambda: sqlcipher3.connect(f"{missing}?mode=rw", uri=True))
    assert cantopen.sqlite_errorname == "SQLITE_CANTOPEN"
    assert isinstance(translate_db_error(cantopen), VaultDamaged)


# ------------------------------------------------------------------ bugs


def test_bad_sql_through_the_write_path_is_a_bug_not_damage(vault: Vault) -> None:
    kept = _add_capture(vault)
    with pytest.raises(DatabaseBug) as caught, vault._write() as cur:
        cur.execute("UPDATE capture SET no_such_column = 1")
    assert not isinstance(caught.value, EvidenceError)
    assert "SQLITE_ERROR" in str(caught.value)
    assert "no_such_column" not in str(caught.value)  # the SQL stays in the cause
    with pytest.raises(DatabaseBug), vault._write() as cur:
        cur.execute("INSERT INTO capture (id) SELECT id FROM capture")  # a constraint
    with pytest.raises(DatabaseBug):
        vault._read("SELECT no_such_column FROM capture")
    assert [c.id for c in vault.captures()] == [kept]  # rolled back, still usable
    assert vault.verify().ok


def test_errors_the_driver_makes_itself_are_bugs() -> None:
    conn = sqlcipher3.connect(":memory:")
    conn.close()
    closed = _error_from(lambda: conn.execute("SELECT 1"))
    assert not hasattr(closed, "sqlite_errorcode")
    assert isinstance(translate_db_error(closed), DatabaseBug)
    assert not dberrors.is_environment(closed)


def test_without_a_code_only_sqlites_own_words_for_the_environment_count() -> None:
    """A driver too old to carry codes: SQLite's exact wording, else a bug."""
    full = translate_db_error(sqlcipher3.OperationalError("database or disk is full"))
    assert type(full) is EvidenceError and "disk is full" in full.message
    damaged = translate_db_error(sqlcipher3.DatabaseError("file is not a database"))
    assert isinstance(damaged, VaultDamaged)
    for bug in (sqlcipher3.OperationalError("no such column: full"),
                sqlcipher3.IntegrityError("UNIQUE constraint failed: database is locked")):
        assert isinstance(translate_db_error(bug), DatabaseBug), bug


def test_a_bug_in_the_backup_copy_is_not_called_damage(
        vault: Vault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(vault: Vault, target: Path) -> None:
        vault.conn.execute("SELECT no_such_column FROM capture")

    monkeypatch.setattr(backup, "_copy_database", broken)
    with pytest.raises(DatabaseBug):
        backup.make_backup(vault, tmp_path / "copy.erbackup")


def test_the_cli_reports_a_database_bug_as_a_bug(
        closed_vault: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    bad_sql = "SELECT " + "no_such_column FROM capture"  # not on a line the report quotes

    def broken_captures(self: Vault, *args: object, **kwargs: object) -> list[object]:
        self._read(bad_sql)
        return []

    monkeypatch.setattr(Vault, "captures", broken_captures)
    monkeypatch.setattr(paths, "crash_log", lambda: tmp_path / "crash.log")
    monkeypatch.setenv("EVIDENCE_RECORDER_VAULT", str(closed_vault))
    monkeypatch.setenv("EVIDENCE_RECORDER_PASSPHRASE", PASSPHRASE)
    assert cli.main(["list"]) == cli.EXIT_FAILED
    err = capsys.readouterr().err
    assert "this is a bug" in err
    assert "damaged" not in err and "backup" not in err
    report = (tmp_path / "crash.log").read_text(encoding="utf-8")
    assert "(SQLITE_ERROR)" in report and "DatabaseBug" in report
    assert "no_such_column" not in report  # the message (SQL, maybe evidence) stays out

