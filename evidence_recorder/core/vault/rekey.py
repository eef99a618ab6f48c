"""Change all keys: the whole database copied under a new random data key, crash-safely.

:func:`change_all_keys` is what :meth:`Vault.change_all_keys
<store.Vault.change_all_keys>` runs (the method stays, so callers need not know this
module), and :func:`_settle_key_change` is what every unlock runs first, to finish or
undo a change that was cut off. The order of the steps, and which file's appearance is
the commit point, is in :func:`change_all_keys`.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path

import sqlcipher3

from evidence_recorder.core import fsutil
from evidence_recorder.core.errors import EvidenceError, RefusedInput, VaultDamaged
from evidence_recorder.core.i18n import QT_TRANSLATE_NOOP
from evidence_recorder.core.passphrase import passphrase_problem
from evidence_recorder.core.paths import KEYFILE_NAME
from evidence_recorder.core.vault import anchor
from evidence_recorder.core.vault.dberrors import translate_db_error as _translate_db_error
from evidence_recorder.core.vault.keyfile import DATA_KEY_BYTES, KdfParams, calibrate_kdf
from evidence_recorder.core.vault.store import DB_NAME, Vault, _append, _connect, _FolderLock

# "Change all keys" builds these beside the live files; see change_all_keys.
NEW_DB_NAME = f"{DB_NAME}.new"
NEW_KEYFILE_NAME = f"{KEYFILE_NAME}.new"
REKEY_CHUNK_ROWS = 32  # rows copied between two progress reports (originals are large)


def change_all_keys(vault: Vault, new_passphrase: str,
                    progress: Callable[[int, int], None] | None = None,
                    kdf: KdfParams | None = None) -> str:
    """Re-encrypt the whole database under a new random data key; returns the new
    recovery key (show it once).

    A passphrase change only rewraps the data key, so an old copy of ``vault.key``
    (or a backup) still opens the database with the old passphrase. This replaces
    the data key itself: afterwards no old key file opens this vault's database.
    Backups made before are separate copies under the old key and still open with
    the old passphrase; nothing can change that from here.

    Crash safety (a kill at any moment leaves exactly one working key pairing):

    1. copy every table into ``evidence.db.new``, keyed with the new data key, add
       the "keys.changed" audit entry there, close and fsync it;
    2. write ``vault.key.new`` (temp file, fsync, rename). Its appearance is the
       commit point: before it, the old passphrase and recovery key open the vault
       and the next open deletes ``evidence.db.new``; after it, only the new ones do
       and the next open finishes the swap;
    3. close the database, rename ``evidence.db.new`` over ``evidence.db`` (after
       removing the old database's -wal and -shm, all of whose contents the copy
       holds), then ``vault.key.new`` over ``vault.key``;
    4. reopen under the new key.

    If the process dies after step 2, the new recovery key was never shown; the new
    passphrase works, and changing all keys again gives a recovery key to keep.
    """
    if problem := passphrase_problem(new_passphrase):
        raise RefusedInput(problem)
    params = kdf or calibrate_kdf()
    report = progress or (lambda _done, _total: None)
    new_key = secrets.token_bytes(DATA_KEY_BYTES)
    new_keyfile, recovery_key = vault._keyfile.with_new_keys(new_key, new_passphrase, params)
    folder = vault.folder
    with vault._mutex:
        conn = vault.conn
        _check_room_for_rekey(vault)
        fsutil._step("rekey.started")
        _remove_rekey_leftovers(folder)
        try:
            head = _export_under(vault, new_key, report)
            fsutil._step("rekey.exported")
            anchor.prepare_key_change(vault, new_key, head)
            fsutil._step("rekey.anchor_ready")
            fsutil.atomic_write_bytes(folder / NEW_KEYFILE_NAME, new_keyfile.to_bytes())
        except BaseException as exc:
            if (folder / NEW_KEYFILE_NAME).exists():
                raise  # past the commit point: the next open finishes the change
            _remove_rekey_leftovers(folder)
            if isinstance(exc, OSError):
                raise EvidenceError(_rekey_disk_message(exc)) from exc
            raise
        # Committed: from here on only the new keys open the vault.
        with contextlib.suppress(sqlcipher3.Error):
            conn.close()  # the last connection: checkpoints and removes the -wal
        vault._conn = None
        vault._keyfile, vault._data_key = new_keyfile, new_key
        fsutil._step("rekey.closed")
        try:
            _finish_key_change(folder)
            vault._conn = _connect(folder / DB_NAME, new_key, create=False)
        except (OSError, EvidenceError) as exc:
            raise EvidenceError(QT_TRANSLATE_NOOP(
                "EvidenceError",
                "All keys were changed, but the vault could not be reopened. Close "
                "Evidence Recorder and unlock the vault again with the new passphrase.",
            )) from exc
        fsutil._step("rekey.reopened")
        anchor.finish_key_change(vault)
    return recovery_key


def _check_room_for_rekey(vault: Vault) -> None:
    """The copy needs about the database's size free beside it: refuse before starting."""
    used = sum(p.stat().st_size for p in (vault.folder / DB_NAME,
                                           vault.folder / f"{DB_NAME}-wal") if p.exists())
    need = used + used // 10 + 1024 * 1024
    free = shutil.disk_usage(vault.folder).free
    if free < need:
        raise EvidenceError(QT_TRANSLATE_NOOP(
            "EvidenceError",
            "There is not enough free disk space to change all keys: the vault is "
            "copied while its keys change, which needs about %1 MB free beside it, "
            "and only %2 MB is free. Nothing was changed. Free some space and try again.",
        ).replace("%1", f"{-(-need // 1_000_000):,}").replace("%2", f"{free // 1_000_000:,}"))


def _export_under(vault: Vault, new_key: bytes,
                  report: Callable[[int, int], None]) -> tuple[int, str]:
    """Copy every table, index and trigger into ``evidence.db.new`` under ``new_key``;
    return the (seq, hash) of the audit entry the copy ends with.

    Done by hand rather than with ``sqlcipher_export()`` so that progress can be
    reported page by page. The copy needs no journal: if anything stops it, the
    half-made file is thrown away.
    """
    conn = vault.conn
    target = vault.folder / NEW_DB_NAME
    total = max(1, int(conn.execute("PRAGMA main.page_count").fetchone()[0]))
    conn.execute("ATTACH DATABASE ? AS rekey_new KEY ?",
                 (str(target.resolve()), f"x'{new_key.hex()}'"))
    conn.execute("PRAGMA foreign_keys = OFF")  # an exact copy, parents or not
    try:
        for pragma in ("journal_mode = OFF", "synchronous = OFF"):
            conn.execute(f"PRAGMA rekey_new.{pragma}")
        objects = conn.execute(
            "SELECT type, name, sql FROM main.sqlite_master WHERE sql IS NOT NULL "
            "AND name NOT LIKE 'sqlite_%' ORDER BY type <> 'table', rowid").fetchall()
        report(0, total)
        for kind, name, sql in objects:
            if kind != "table":
                continue
            conn.execute(_in_new_db(sql))
            quoted = '"' + name.replace('"', '""') + '"'
            last = -(2 ** 63)
            while True:
                rows = conn.execute(
                    f"SELECT rowid FROM main.{quoted} WHERE rowid > ? "  # noqa: S608
                    "ORDER BY rowid LIMIT ?", (last, REKEY_CHUNK_ROWS)).fetchall()
                if not rows:
                    break
                conn.execute(
                    f"INSERT INTO rekey_new.{quoted} SELECT * FROM main.{quoted} "  # noqa: S608
                    "WHERE rowid BETWEEN ? AND ? ORDER BY rowid", (rows[0][0], rows[-1][0]))
                last = rows[-1][0]
                done = int(conn.execute("PRAGMA rekey_new.page_count").fetchone()[0])
                report(min(done, total - 1), total)
                fsutil._step("rekey.copying")
        if conn.execute("SELECT 1 FROM main.sqlite_master "
                        "WHERE name = 'sqlite_sequence'").fetchone():
            conn.execute("DELETE FROM rekey_new.sqlite_sequence")
            conn.execute("INSERT INTO rekey_new.sqlite_sequence "
                         "SELECT * FROM main.sqlite_sequence")
        for kind, _name, sql in objects:
            if kind != "table":
                conn.execute(_in_new_db(sql))
        for pragma in ("user_version", "application_id"):
            value = int(conn.execute(f"PRAGMA main.{pragma}").fetchone()[0])
            conn.execute(f"PRAGMA rekey_new.{pragma} = {value:d}")
        for kind, name, _sql in objects:  # a cheap check that nothing was left out
            if kind == "table":
                quoted = '"' + name.replace('"', '""') + '"'
                count = "SELECT count(*) FROM {}." + quoted  # noqa: S608 - names from the schema
                if conn.execute(count.format("main")).fetchone() != \
                        conn.execute(count.format("rekey_new")).fetchone():
                    raise VaultDamaged(QT_TRANSLATE_NOOP(
                        "EvidenceError", "The vault could not be copied whole, so its "
                        "keys were not changed. Nothing was changed."))
    except sqlcipher3.Error as exc:
        raise _translate_db_error(exc) from exc
    finally:
        with contextlib.suppress(sqlcipher3.Error):
            conn.execute("DETACH DATABASE rekey_new")
        with contextlib.suppress(sqlcipher3.Error):
            conn.execute("PRAGMA foreign_keys = ON")
    # Through the product's own door: the copy opens with the new key, says it is
    # this vault, and takes the audit entry (which only exists if the swap happens).
    copy = _connect(target, new_key, create=False)
    try:
        if copy.execute("SELECT value FROM meta WHERE key = 'vault_id'").fetchone() != \
                (vault._keyfile.vault_id,):
            raise VaultDamaged(QT_TRANSLATE_NOOP(
                "EvidenceError", "The vault could not be copied whole, so its keys were "
                "not changed. Nothing was changed."))
        cur = copy.cursor()
        cur.execute("BEGIN IMMEDIATE")
        _append(cur, "keys.changed", "vault", {})
        cur.execute("COMMIT")
        head = copy.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        copy.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        copy.execute("PRAGMA journal_mode = DELETE")
    except sqlcipher3.Error as exc:
        raise _translate_db_error(exc) from exc
    finally:
        copy.close()
    for leftover in (f"{NEW_DB_NAME}-wal", f"{NEW_DB_NAME}-journal"):
        if (vault.folder / leftover).exists():
            raise VaultDamaged(QT_TRANSLATE_NOOP(
                "EvidenceError", "The vault could not be copied whole, so its keys were "
                "not changed. Nothing was changed."))
    fd = os.open(target, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    fsutil.fsync_dir(vault.folder)
    report(total, total)
    return int(head[0]), str(head[1])


_SCHEMA_PREFIX = re.compile(r"CREATE (UNIQUE )?(TABLE|INDEX|TRIGGER|VIEW) ")


def _in_new_db(sql: str) -> str:
    """The same CREATE statement aimed at the attached copy (SQLite stores it normalised:
    upper-case keywords, one space, no schema name)."""
    match = _SCHEMA_PREFIX.match(sql)
    if match is None or sql[match.end():].upper().startswith("IF NOT EXISTS"):
        raise ValueError(f"cannot copy a schema entry that starts {sql[:40]!r}")
    return f"{sql[:match.end()]}rekey_new.{sql[match.end():]}"


def _rekey_disk_message(exc: OSError) -> str:
    if "No space" in (exc.strerror or "") or getattr(exc, "errno", None) == 28:
        return QT_TRANSLATE_NOOP("EvidenceError", "The disk is full, so the keys were not "
                                                  "changed. Nothing was changed; free some space "
                                                  "and try again.")
    return f"The keys could not be changed ({exc.strerror}). Nothing was changed."


def _remove_rekey_leftovers(folder: Path) -> None:
    """Undo a "Change all keys" that never reached its commit point."""
    for name in (NEW_DB_NAME, f"{NEW_DB_NAME}-journal", f"{NEW_DB_NAME}-wal",
                 f"{NEW_DB_NAME}-shm"):
        with contextlib.suppress(FileNotFoundError):
            (folder / name).unlink()
    fsutil.remove_stale_temps(folder, NEW_KEYFILE_NAME)


def _finish_key_change(folder: Path) -> None:
    """Complete a "Change all keys" past its commit point (``vault.key.new`` exists).

    ``evidence.db.new`` was closed and fsynced before ``vault.key.new`` appeared, so it
    holds everything; the old database's -wal and -shm go first so that SQLite never
    replays old-key pages onto the new file.
    """
    if (folder / NEW_DB_NAME).exists():
        for name in (f"{DB_NAME}-wal", f"{DB_NAME}-shm", f"{DB_NAME}-journal"):
            with contextlib.suppress(FileNotFoundError):
                (folder / name).unlink()
        os.replace(folder / NEW_DB_NAME, folder / DB_NAME)
        fsutil.fsync_dir(folder)
        fsutil._step("rekey.db_swapped")
    os.replace(folder / NEW_KEYFILE_NAME, folder / KEYFILE_NAME)
    fsutil.fsync_dir(folder)
    fsutil._step("rekey.key_swapped")


def _settle_key_change(folder: Path) -> None:
    """Before a vault is unlocked: finish or undo a "Change all keys" that was cut off.

    Deterministic, and needs no secret: ``vault.key.new`` present means the change was
    committed (finish it); otherwise any ``evidence.db.new`` is an unfinished copy
    (delete it). Done under the folder lock, so never while another process has the
    vault open.
    """
    leftovers = [folder / NEW_KEYFILE_NAME, folder / NEW_DB_NAME,
                 folder / f"{NEW_DB_NAME}-journal", folder / f"{NEW_DB_NAME}-wal"]
    if not any(p.exists() for p in leftovers) and not any(
            folder.glob(f".{NEW_KEYFILE_NAME}.*.tmp")):
        return
    lock = _FolderLock(folder)
    try:
        if (folder / NEW_KEYFILE_NAME).exists():
            try:
                _finish_key_change(folder)
            except OSError as exc:
                raise VaultDamaged(
                    f"A change of all keys could not be finished ({exc.strerror}). Nothing "
                    "was lost: check that the vault folder can be written to, then try again."
                ) from exc
        _remove_rekey_leftovers(folder)
        fsutil.fsync_dir(folder)
    finally:
        lock.release()

