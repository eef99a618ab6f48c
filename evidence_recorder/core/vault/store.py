"""The vault: an encrypted folder that keeps captures, incidents and the audit log.

A capture is an evidence item holding one or more artefacts (files kept byte for
byte, in chunks); :mod:`items` has the artefact plumbing. This module is well over
600 lines because the ``Vault`` object is the one door to the database (every write
and its audit entry in one transaction, under one lock); its verification and its
artefacts are the parts already moved out or next to move.

A vault is a folder (mode 0700) holding ``vault.key`` (the key slots, see
:mod:`keyfile`), ``evidence.db`` (SQLCipher, keyed with the random data key) and a
lock file. Images go from memory straight into the database; nothing the user
captured is ever written anywhere in the clear. Every change and its audit entry are
one transaction, committed with ``synchronous=FULL`` before the caller hears "saved".
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import secrets
import shutil
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, BinaryIO

import sqlcipher3
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from evidence_recorder.core import fields, fsutil
from evidence_recorder.core.bundle import sshsig
from evidence_recorder.core.errors import (
    EvidenceError,
    NotFound,
    RefusedInput,
    VaultDamaged,
    VaultInUse,
    VaultNotFound,
)
from evidence_recorder.core.i18n import QT_TRANSLATE_NOOP
from evidence_recorder.core.model import (
    MAX_TEXT,  # the model's limit on one detail field, which the store enforces
    Artefact,
    ArtefactRole,
    AuditEntry,
    Capture,
    CaptureDetails,
    CaptureKind,
    Category,
    ImportSource,
    Incident,
    handle_text,
    iso_utc,
    original_name,
    parse_iso_utc,
    utc_now,
)
from evidence_recorder.core.passphrase import passphrase_problem
from evidence_recorder.core.paths import KEYFILE_NAME, vault_exists
from evidence_recorder.core.vault import anchor, audit, dberrors, items, schema
from evidence_recorder.core.vault.dberrors import translate_db_error as _translate_db_error
from evidence_recorder.core.vault.items import ChunkReader, NewArtefact
from evidence_recorder.core.vault.keyfile import (
    DATA_KEY_BYTES,
    KdfParams,
    KeyFile,
    calibrate_kdf,
)

DB_NAME = "evidence.db"
LOCK_NAME = "vault.lock"
# "Change all keys" builds these beside the live files; see Vault.change_all_keys.
NEW_DB_NAME = f"{DB_NAME}.new"
NEW_KEYFILE_NAME = f"{KEYFILE_NAME}.new"
REKEY_CHUNK_ROWS = 32  # rows copied between two progress reports (originals are large)
DEFAULT_INCIDENT_TITLE = "Unsorted captures"
DEFAULT_INCIDENT_DESCRIPTION = "Captures not yet sorted into an incident."
MAX_TITLE = 300

_DETAIL_FIELDS = CaptureDetails.field_names()
_CAPTURE_COLUMNS = (
    "id, incident_id, kind, captured_at, tz_name, utc_offset, sha256, width, height, "  # noqa: S608 - column names are constants
    "media_type, byte_size, environment, source, "
    + ", ".join(_DETAIL_FIELDS)
    + ", EXISTS(SELECT 1 FROM annotation a WHERE a.capture_id = capture.id), title"
)


@dataclass(slots=True)
class VerifyReport:
    """The outcome of :meth:`Vault.verify`: ``ok`` only when nothing was found wrong."""

    entries_checked: int = 0
    captures_checked: int = 0
    incidents_checked: int = 0
    problems: list[str] = field(default_factory=list)
    # What this check could not vouch for (so "intact" must not cover it), in plain words.
    # These are not problems: an older version simply did not record what is needed.
    not_checked: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "entries_checked": self.entries_checked,
                "captures_checked": self.captures_checked,
                "incidents_checked": self.incidents_checked, "problems": self.problems,
                "not_checked": self.not_checked}


@dataclass(slots=True)
class RecordedHashes:
    """What the audit log recorded about things that are not originals, replayed.

    ``pictures`` maps a live capture to the SHA-256s of its thumbnail and its two
    report previews (``None`` for a size that was not made), or to ``None`` when an
    older version added it without recording them. ``annotations`` maps a capture to
    the SHA-256 of its stored annotation JSON as last saved (``None``: removed).
    """

    pictures: dict[int, dict[str, str | None] | None] = field(default_factory=dict)
    first_recorded_late: dict[int, str] = field(default_factory=dict)  # capture -> when
    annotations: dict[int, str | None] = field(default_factory=dict)
    key_fingerprints: list[tuple[int, str | None]] = field(default_factory=list)  # (seq, fp)
    exports: list[tuple[int, str, str | None]] = field(default_factory=list)  # seq, bundle, fp
    key_first_recorded_late: str | None = None  # when an upgrade first recorded the key
    unreadable: list[int] = field(default_factory=list)

    @property
    def key_fingerprint(self) -> str | None:
        """The signing key's fingerprint as the log first recorded it, if it did."""
        return next((fp for _, fp in self.key_fingerprints if fp), None)


RECEIVED_CHUNK = 4 * 1024 * 1024
ARTEFACT_CHUNK = schema.ARTEFACT_CHUNK


@dataclass(frozen=True, slots=True)
class ReceivedBundle:
    id: int
    file_name: str
    byte_size: int
    sha256: str
    received_at: datetime
    verdict: dict[str, Any]


class _FolderLock:
    """An OS lock on ``vault.lock``, released by the kernel if the process dies."""

    def __init__(self, folder: Path) -> None:
        self._fh: IO[bytes] | None = None
        path = folder / LOCK_NAME
        try:
            fh = path.open("a+b")
        except OSError as exc:
            raise VaultDamaged(f"The vault folder could not be opened ({exc.strerror}).") from exc
        try:
            if sys.platform == "win32":
                import msvcrt

                msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            fh.close()
            raise VaultInUse(
                "This vault is already open in another Evidence Recorder window or command. "
                "Close it there, then try again."
            ) from exc
        self._fh = fh

    def release(self) -> None:
        if self._fh is not None:
            self._fh.close()  # closing the file drops the lock on every platform
            self._fh = None


class Vault:
    """An unlocked vault. Use :meth:`create` or :meth:`open`; call :meth:`close` when done."""

    def __init__(self, folder: Path, conn: sqlcipher3.Connection, keyfile: KeyFile,
                 data_key: bytes, lock: _FolderLock) -> None:
        self.folder = folder
        self._conn: sqlcipher3.Connection | None = conn
        self._keyfile = keyfile
        self._data_key = data_key
        self._lock = lock
        self._mutex = threading.RLock()
        # What this computer last saw of this vault, and whether this copy is behind it.
        self.history = anchor.History()

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    def create(cls, folder: Path, passphrase: str,
               kdf: KdfParams | None = None) -> tuple[Vault, str]:
        """Make a new vault; returns it unlocked, with the recovery key to show once."""
        if problem := passphrase_problem(passphrase):
            raise RefusedInput(problem)
        folder = Path(folder)
        if (folder / KEYFILE_NAME).exists():
            raise RefusedInput(f"There is already a vault in {folder}.")
        if folder.exists() and not folder.is_dir():
            raise RefusedInput(f"{folder} is a file, not a folder.")
        if folder.exists() and any(folder.iterdir()):
            raise RefusedInput(
                f"{folder} already holds other files. Choose an empty or new folder for the vault."
            )
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            folder.chmod(0o700)
        except OSError as exc:
            raise EvidenceError(f"The folder {folder} could not be created ({exc.strerror}).") \
                from exc
        data_key = secrets.token_bytes(DATA_KEY_BYTES)
        keyfile, recovery_key = KeyFile.create(data_key, passphrase, kdf or calibrate_kdf())
        lock = _FolderLock(folder)
        created: list[Path] = [folder / LOCK_NAME]
        try:
            conn = _connect(folder / DB_NAME, data_key, create=True)
            created += [folder / DB_NAME, folder / f"{DB_NAME}-wal", folder / f"{DB_NAME}-shm"]
            vault = cls(folder, conn, keyfile, data_key, lock)
            vault._migrate()
            with vault._write() as cur:
                signing_key = Ed25519PrivateKey.generate()
                raw = signing_key.private_bytes(serialization.Encoding.Raw,
                                                serialization.PrivateFormat.Raw,
                                                serialization.NoEncryption())
                now = iso_utc(utc_now())
                for key, value in (("vault_id", keyfile.vault_id), ("created_at", now),
                                   ("signing_key", raw.hex())):
                    cur.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (key, value))
                cur.execute(
                    "INSERT INTO incident (title, description, created_at, is_default) "
                    "VALUES (?, ?, ?, 1)",
                    (DEFAULT_INCIDENT_TITLE, DEFAULT_INCIDENT_DESCRIPTION, now),
                )
                default_id = int(cur.lastrowid or 0)
                # The key's fingerprint and the default incident go in the first entry,
                # so that a replaced key or an edited incident can be named later.
                _append(cur, "vault.created", "vault", {
                    "vault_id": keyfile.vault_id,
                    "key_fingerprint": sshsig.fingerprint(signing_key),
                    "default_incident": {"incident": default_id,
                                         "title": DEFAULT_INCIDENT_TITLE,
                                         "description": DEFAULT_INCIDENT_DESCRIPTION,
                                         "started_at": "", "created_at": now},
                })
            # The key file goes last: until it exists, this folder is not a vault.
            keyfile.save(folder)
            anchor.started(vault)
        except BaseException:
            with contextlib.suppress(Exception):
                conn.close()
            for path in created:
                with contextlib.suppress(OSError):
                    path.unlink()
            lock.release()
            raise
        for path in folder.iterdir():
            with contextlib.suppress(OSError):
                path.chmod(0o600)
        return vault, recovery_key

    @classmethod
    def open(cls, folder: Path, passphrase: str) -> Vault:
        """Unlock with the passphrase. Nothing on disk changes unless it is right."""
        folder, keyfile = cls._load_keyfile(folder)
        data_key = keyfile.unlock_with_passphrase(passphrase)
        return cls._open_with_key(folder, keyfile, data_key, "passphrase")

    @classmethod
    def recover(cls, folder: Path, recovery_key: str, new_passphrase: str,
                kdf: KdfParams | None = None) -> Vault:
        """Unlock with the recovery key and set a new passphrase in the same step."""
        if problem := passphrase_problem(new_passphrase):
            raise RefusedInput(problem)
        folder, keyfile = cls._load_keyfile(folder)
        data_key = keyfile.unlock_with_recovery(recovery_key)
        vault = cls._open_with_key(folder, keyfile, data_key, "recovery key")
        try:
            vault._set_passphrase(new_passphrase, kdf, "passphrase.recovered")
        except BaseException:
            vault.close()
            raise
        return vault

    @staticmethod
    def _load_keyfile(folder: Path) -> tuple[Path, KeyFile]:
        folder = Path(folder)
        if not folder.is_dir():
            raise VaultNotFound(f"There is no vault in {folder}.")
        if not (folder / KEYFILE_NAME).exists() and not (folder / DB_NAME).exists():
            raise VaultNotFound(f"{folder} is not an Evidence Recorder vault.")
        _settle_key_change(folder)
        return folder, KeyFile.load(folder)

    @classmethod
    def _open_with_key(cls, folder: Path, keyfile: KeyFile, data_key: bytes,
                       how: str) -> Vault:
        if not (folder / DB_NAME).is_file():
            raise VaultDamaged(
                f"The vault's database ({DB_NAME}) is missing from {folder}. "
                "Restore the vault folder from a backup copy."
            )
        lock = _FolderLock(folder)
        try:
            # Before the database is opened (opening writes to it): was this very file
            # just restored from a backup on purpose?
            restored = anchor.take_restore_marker(folder, keyfile.vault_id, folder / DB_NAME)
            conn = _connect(folder / DB_NAME, data_key, create=False)
            vault = cls(folder, conn, keyfile, data_key, lock)
            stored_id = vault._meta("vault_id")
            if stored_id != keyfile.vault_id:
                raise VaultDamaged(
                    "The key file vault.key belongs to a different vault than evidence.db. "
                    "Put back the vault.key that was made with this vault."
                )
            vault._migrate()
            vault._record_what_older_versions_did_not()
            fsutil.remove_stale_temps(folder, KEYFILE_NAME)
            # Compare with what this computer last saw before this unlock adds an entry.
            anchor.check(vault, restored)
            with vault._write() as cur:
                _append(cur, "vault.unlocked", "vault", {"with": how})
            anchor.opened(vault)
        except BaseException:
            with contextlib.suppress(Exception):
                conn.close()
            lock.release()
            raise
        return vault

    def close(self, *, how: str | None = None) -> None:
        """Lock the vault: close the database and forget the key.

        ``how`` (the app says "locked by you", "idle", "session locked" or "closing")
        first writes a "vault.locked" entry, while the key is still known. It is best
        effort: a vault that cannot be written to (disk full, read-only) still closes.
        Plain ``close()`` (the CLI, tests, internal reopenings) writes nothing.
        """
        with self._mutex:
            if self._conn is not None:
                if how is not None:
                    with contextlib.suppress(EvidenceError), self._write() as cur:
                        _append(cur, "vault.locked", "vault", {"how": how})
                anchor.closing(self)
                with contextlib.suppress(sqlcipher3.Error):
                    self._conn.close()
                self._conn = None
            self._data_key = b""
            self._lock.release()

    @property
    def is_open(self) -> bool:
        return self._conn is not None

    def __enter__(self) -> Vault:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def vault_id(self) -> str:
        return self._keyfile.vault_id

    @property
    def history_warning(self) -> anchor.HistoryWarning | None:
        """Set when this vault is older than (or not) the copy this computer last saw."""
        return self.history.warning

    def accept_history(self) -> None:
        """The person put this older copy back on purpose: logged, and the anchor moves."""
        with self._mutex:
            anchor.accept(self)

    # ------------------------------------------------------------------ plumbing

    @property
    def conn(self) -> sqlcipher3.Connection:
        if self._conn is None:
            raise EvidenceError("The vault is locked. Unlock it first.")
        return self._conn

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlcipher3.Cursor]:
        """One write transaction; the change and its audit entry commit together."""
        with self._mutex:
            cur = self.conn.cursor()
            try:
                cur.execute("BEGIN IMMEDIATE")
                yield cur
                cur.execute("COMMIT")
                # Only now, after the commit: an anchor ahead of the vault would cry wolf.
                anchor.after_commit(self)
            except BaseException as exc:
                with contextlib.suppress(sqlcipher3.Error):
                    cur.execute("ROLLBACK")
                if isinstance(exc, sqlcipher3.Error):
                    raise _translate_db_error(exc) from exc
                raise
            finally:
                cur.close()

    def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._mutex:
            try:
                return list(self.conn.execute(sql, params).fetchall())
            except sqlcipher3.Error as exc:
                raise _translate_db_error(exc) from exc

    def _meta(self, key: str) -> str | None:
        rows = self._read("SELECT value FROM meta WHERE key = ?", (key,))
        return str(rows[0][0]) if rows else None

    def _migrate(self) -> None:
        version = int(self._read("PRAGMA user_version")[0][0])
        if version > schema.SCHEMA_VERSION:
            raise EvidenceError(
                "This vault was made by a newer version of Evidence Recorder. "
                "Install the newer version to open it."
            )
        while version < schema.SCHEMA_VERSION:
            # A step that rebuilds a table runs with foreign keys off (they cannot be
            # switched inside a transaction); it checks the links it made itself.
            rebuilds = version in schema.REBUILDS_TABLES
            if rebuilds:
                self._read("PRAGMA foreign_keys = OFF")
            try:
                with self._write() as cur:
                    schema.MIGRATIONS[version](self.conn)
                    version += 1
                    cur.execute(f"PRAGMA user_version = {version:d}")
                    fsutil._step("migrate.committing")
            finally:
                if rebuilds:
                    self._read("PRAGMA foreign_keys = ON")
            fsutil._step("migrate.committed")

    def _record_what_older_versions_did_not(self) -> None:
        """Once, on the first open by a version that checks them: record the signing key's
        fingerprint and the SHA-256 of every capture's thumbnail and report pictures.

        Older versions did not record these, so nothing can vouch for them before this
        moment; the entries say so, and :meth:`verify` says so for those captures. New
        vaults record the key in their first entry, so this costs one read for them.
        """
        first = self._read("SELECT details FROM audit WHERE seq = 1")
        with contextlib.suppress(ValueError, TypeError, AttributeError):
            if first and json.loads(first[0][0]).get("key_fingerprint"):
                return
        if self._read("SELECT 1 FROM audit WHERE action = 'signing_key.recorded' LIMIT 1"):
            return
        with self._write() as cur:
            ids = [int(r[0]) for r in cur.execute("SELECT id FROM capture ORDER BY id")]
            for capture_id in ids:
                _append(cur, "pictures.recorded", f"capture:{capture_id}", {
                    "capture": capture_id, "pictures": _picture_hashes(cur, capture_id),
                    "first_recorded": True,
                })
            _append(cur, "signing_key.recorded", "vault", {
                "key_fingerprint": self._signing_fingerprint(), "first_recorded": True,
            })

    def _signing_fingerprint(self) -> str | None:
        """The SSH fingerprint of the vault's signing key, or None if it is missing or
        damaged (:mod:`bundle` refuses to seal with it then)."""
        stored = self._meta("signing_key")
        try:
            return sshsig.fingerprint(Ed25519PrivateKey.from_private_bytes(
                bytes.fromhex(stored or "")))
        except ValueError:
            return None

    # ------------------------------------------------------------------ passphrase

    def change_passphrase(self, new_passphrase: str, kdf: KdfParams | None = None) -> None:
        """Rewrap the data key under a new passphrase. Only ``vault.key`` is rewritten."""
        if problem := passphrase_problem(new_passphrase):
            raise RefusedInput(problem)
        self._set_passphrase(new_passphrase, kdf, "passphrase.changed")

    def _set_passphrase(self, new_passphrase: str, kdf: KdfParams | None, action: str) -> None:
        new_keyfile = self._keyfile.with_passphrase(self._data_key, new_passphrase,
                                                    kdf or calibrate_kdf())
        with self._mutex:
            try:
                new_keyfile.save(self.folder)
            except OSError as exc:
                raise EvidenceError(
                    f"The new passphrase could not be saved ({exc.strerror}); "
                    "the old one still works."
                ) from exc
            self._keyfile = new_keyfile
            with self._write() as cur:
                _append(cur, action, "vault", {})

    # ------------------------------------------------------------------ all keys

    def check_passphrase(self, passphrase: str) -> None:
        """Raise :class:`WrongSecret` unless ``passphrase`` is the one that opens this vault
        now (asked again before the keys change, in case someone else is at the computer)."""
        if self._keyfile.unlock_with_passphrase(passphrase) != self._data_key:
            raise VaultDamaged(QT_TRANSLATE_NOOP(
                "EvidenceError", "The vault's key file does not belong to this vault."))

    def change_all_keys(self, new_passphrase: str,
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
        new_keyfile, recovery_key = self._keyfile.with_new_keys(new_key, new_passphrase, params)
        folder = self.folder
        with self._mutex:
            conn = self.conn
            self._check_room_for_rekey()
            fsutil._step("rekey.started")
            _remove_rekey_leftovers(folder)
            try:
                head = self._export_under(new_key, report)
                fsutil._step("rekey.exported")
                anchor.prepare_key_change(self, new_key, head)
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
            self._conn = None
            self._keyfile, self._data_key = new_keyfile, new_key
            fsutil._step("rekey.closed")
            try:
                _finish_key_change(folder)
                self._conn = _connect(folder / DB_NAME, new_key, create=False)
            except (OSError, EvidenceError) as exc:
                raise EvidenceError(QT_TRANSLATE_NOOP(
                    "EvidenceError",
                    "All keys were changed, but the vault could not be reopened. Close "
                    "Evidence Recorder and unlock the vault again with the new passphrase.",
                )) from exc
            fsutil._step("rekey.reopened")
            anchor.finish_key_change(self)
        return recovery_key

    def _check_room_for_rekey(self) -> None:
        """The copy needs about the database's size free beside it: refuse before starting."""
        used = sum(p.stat().st_size for p in (self.folder / DB_NAME,
                                              self.folder / f"{DB_NAME}-wal") if p.exists())
        need = used + used // 10 + 1024 * 1024
        free = shutil.disk_usage(self.folder).free
        if free < need:
            raise EvidenceError(QT_TRANSLATE_NOOP(
                "EvidenceError",
                "There is not enough free disk space to change all keys: the vault is "
                "copied while its keys change, which needs about %1 MB free beside it, "
                "and only %2 MB is free. Nothing was changed. Free some space and try again.",
            ).replace("%1", f"{-(-need // 1_000_000):,}").replace("%2", f"{free // 1_000_000:,}"))

    def _export_under(self, new_key: bytes,
                      report: Callable[[int, int], None]) -> tuple[int, str]:
        """Copy every table, index and trigger into ``evidence.db.new`` under ``new_key``;
        return the (seq, hash) of the audit entry the copy ends with.

        Done by hand rather than with ``sqlcipher_export()`` so that progress can be
        reported page by page. The copy needs no journal: if anything stops it, the
        half-made file is thrown away.
        """
        conn = self.conn
        target = self.folder / NEW_DB_NAME
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
                    (self._keyfile.vault_id,):
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
            if (self.folder / leftover).exists():
                raise VaultDamaged(QT_TRANSLATE_NOOP(
                    "EvidenceError", "The vault could not be copied whole, so its keys were "
                    "not changed. Nothing was changed."))
        fd = os.open(target, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        fsutil.fsync_dir(self.folder)
        report(total, total)
        return int(head[0]), str(head[1])

    # ------------------------------------------------------------------ incidents

    def incidents(self) -> list[Incident]:
        rows = self._read(
            "SELECT i.id, i.title, i.description, i.started_at, i.created_at, i.is_default, "
            "(SELECT count(*) FROM capture c WHERE c.incident_id = i.id) "
            "FROM incident i ORDER BY i.is_default DESC, i.created_at, i.id"
        )
        return [Incident(r[0], r[1], r[2], r[3], parse_iso_utc(r[4]), bool(r[5]), r[6])
                for r in rows]

    def incident(self, incident_id: int) -> Incident:
        for found in self.incidents():
            if found.id == incident_id:
                return found
        raise NotFound(f"There is no incident {incident_id} in this vault.")

    def default_incident(self) -> Incident:
        return next(i for i in self.incidents() if i.is_default)

    def new_incident(self, title: str, description: str = "", started_at: str = "") -> Incident:
        title = _clean_text(title, "title", MAX_TITLE).strip()
        if not title:
            raise RefusedInput("An incident needs a title, such as “Comments on the school page”.")
        description = _clean_text(description, "description", MAX_TEXT)
        started_at = _clean_text(started_at, "started", MAX_TITLE)
        created_at = iso_utc(utc_now())
        with self._write() as cur:
            cur.execute(
                "INSERT INTO incident (title, description, started_at, created_at) "
                "VALUES (?, ?, ?, ?)",
                (title, description, started_at, created_at),
            )
            new_id = int(cur.lastrowid or 0)
            _append(cur, "incident.created", f"incident:{new_id}",
                    {"incident": new_id, "title": title, "description": description,
                     "started_at": started_at, "created_at": created_at})
        return self.incident(new_id)

    def edit_incident(self, incident_id: int, *, title: str | None = None,
                      description: str | None = None, started_at: str | None = None) -> None:
        current = self.incident(incident_id)
        wanted = {"title": title, "description": description, "started_at": started_at}
        changes: dict[str, dict[str, str]] = {}
        for name, value in wanted.items():
            if value is None:
                continue
            value = _clean_text(value, name, MAX_TITLE if name != "description" else MAX_TEXT)
            if name == "title" and not value.strip():
                raise RefusedInput("An incident needs a title.")
            old = getattr(current, name)
            if value != old:
                changes[name] = {"old": old, "new": value}
        if not changes:
            return
        with self._write() as cur:
            for name, change in changes.items():
                cur.execute(f"UPDATE incident SET {name} = ? WHERE id = ?",  # noqa: S608
                            (change["new"], incident_id))
            _append(cur, "incident.edited", f"incident:{incident_id}",
                    {"incident": incident_id, "changes": changes})

    # ------------------------------------------------------------------ captures

    def add_capture(self, *, original: bytes, sha256: str, kind: CaptureKind, width: int,
                    height: int, media_type: str, captured_at: str, tz_name: str,
                    utc_offset: str, environment: dict[str, Any], thumbnail: bytes,
                    previews: tuple[bytes, bytes] | None = None,
                    source: ImportSource | None = None,
                    details: CaptureDetails | None = None,
                    incident_id: int | None = None) -> int:
        """Store a new picture (one artefact, ``original.<ext>``) and its audit entry in
        one durable transaction: :meth:`add_item` for a screenshot or imported picture.

        ``sha256`` is the hash the caller computed the moment the bytes came into
        being; it is checked here too, so that a mismatch can never be stored.
        """
        if hashlib.sha256(original).hexdigest() != sha256:
            raise EvidenceError(items.CHANGED_IN_MEMORY)
        return self.add_item(
            kind, [NewArtefact(original_name(media_type), ArtefactRole.ORIGINAL, media_type,
                               original, primary=True, sha256=sha256)],
            width=width, height=height, captured_at=captured_at, tz_name=tz_name,
            utc_offset=utc_offset, environment=environment, thumbnail=thumbnail,
            previews=previews, source=source, details=details, incident_id=incident_id)

    def add_item(self, kind: CaptureKind, artefacts: Sequence[NewArtefact], *,
                 captured_at: str, tz_name: str, utc_offset: str,
                 environment: dict[str, Any], thumbnail: bytes,
                 previews: tuple[bytes, bytes] | None = None, width: int = 0,
                 height: int = 0, title: str = "", source: ImportSource | None = None,
                 details: CaptureDetails | None = None,
                 incident_id: int | None = None) -> int:
        """Store a new evidence item, its artefacts and its audit entry in one durable
        transaction; returns the item's id.

        Each artefact is streamed into chunks while it is hashed, so a stream of any
        size never sits in memory whole. The audit entry records every artefact (name,
        role, media type, size, SHA-256, whether primary, what it was made from) beside
        everything a capture's entry recorded before. The thumbnail and previews are
        those of the primary artefact; ``width`` and ``height`` its pixels (0 if none).
        """
        wanted = items.check_new(artefacts)
        if str(kind) not in _KINDS:
            raise RefusedInput(f"“{kind}” is not a kind of evidence this vault keeps.")
        kind = _KINDS[str(kind)]
        title = _clean_text(title, "title", MAX_TITLE)
        details = CaptureDetails(**_check_details((details or CaptureDetails()).as_dict()))
        if incident_id is None:
            incident_id = self.default_incident().id
        else:
            self.incident(incident_id)
        source_json = json.dumps(source.as_dict(), sort_keys=True) if source else None
        env_json = json.dumps(environment, sort_keys=True)
        detail_values = details.as_dict()
        with self._write() as cur:
            # The chunks go in first, under the ids the rows will take (the write lock is
            # held; the chunks' link to their row is checked at commit).
            first_id = int(cur.execute("SELECT coalesce(max(id), 0) + 1 FROM artefact")
                           .fetchone()[0])
            stored: list[Artefact] = []
            for offset, new in enumerate(wanted):
                try:
                    size, digest = items.write_chunks(cur, first_id + offset, new.data)
                except OSError as exc:  # a stream from a file that went away, say
                    raise EvidenceError(f"{new.name} could not be read ({exc.strerror}); "
                                        "nothing was saved.") from exc
                if new.sha256 is not None and new.sha256 != digest:
                    raise EvidenceError(items.CHANGED_IN_MEMORY)
                stored.append(Artefact(first_id + offset, 0, new.name, ArtefactRole(new.role),
                                       new.media_type, size, digest, new.derived_from,
                                       new.primary))
            main = next(a for a in stored if a.primary)
            cur.execute(
                "INSERT INTO capture (incident_id, kind, captured_at, tz_name, utc_offset, "  # noqa: S608
                "sha256, width, height, media_type, byte_size, environment, source, title, "
                + ", ".join(_DETAIL_FIELDS) + ") VALUES ("
                + ", ".join("?" * (13 + len(_DETAIL_FIELDS))) + ")",
                (incident_id, kind.value, captured_at, tz_name, utc_offset, main.sha256, width,
                 height, main.media_type, main.size, env_json, source_json, title,
                 *detail_values.values()),
            )
            capture_id = int(cur.lastrowid or 0)
            for a in stored:
                cur.execute(f"INSERT INTO artefact ({items.ARTEFACT_COLUMNS}) "  # noqa: S608
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            (a.id, capture_id, a.name, a.role.value, a.media_type, a.size,
                             a.sha256, a.derived_from, int(a.primary)))
            cur.execute("INSERT INTO thumbnail (capture_id, jpeg) VALUES (?, ?)",
                        (capture_id, thumbnail))
            if previews is not None:
                cur.execute("INSERT INTO preview (capture_id, jpeg, small) VALUES (?, ?, ?)",
                            (capture_id, *previews))
            _append(cur, "capture.added", f"capture:{capture_id}", {
                "capture": capture_id, "incident": incident_id, "kind": kind.value,
                "sha256": main.sha256, "captured_at": captured_at, "tz_name": tz_name,
                "utc_offset": utc_offset, "width": width, "height": height,
                "media_type": main.media_type, "byte_size": main.size,
                "source": json.loads(source_json) if source_json else None,
                "details": {k: v for k, v in detail_values.items() if v},
                "title": title,
                "artefacts": [items.audit_record(a) for a in stored],
                # Not evidence, but shown in the app and in reports: recorded so that
                # a picture swapped later is named by verify and refused by export.
                "pictures": _picture_hashes(cur, capture_id),
            })
        return capture_id

    def captures(self, incident_id: int | None = None, *,
                 newest: int | None = None, artefacts: bool = False) -> list[Capture]:
        """Every capture (or one incident's), oldest first; only the ``newest`` N if given.

        Each one's ``artefacts`` are filled in only when asked (one more query): the app
        lists thousands of captures at every unlock and needs none of them there.
        """
        where, params = "", ()  # type: tuple[str, tuple[Any, ...]]
        if incident_id is not None:
            self.incident(incident_id)
            where, params = "WHERE incident_id = ?", (incident_id,)
        if newest is None:
            rows = self._read(f"SELECT {_CAPTURE_COLUMNS} FROM capture {where} "  # noqa: S608
                              "ORDER BY captured_at, id", params)
        else:
            rows = self._read(f"SELECT {_CAPTURE_COLUMNS} FROM capture {where} "  # noqa: S608
                              "ORDER BY captured_at DESC, id DESC LIMIT ?",
                              (*params, max(0, newest)))
            rows.reverse()
        found = [_row_to_capture(r) for r in rows]
        if artefacts:
            self._attach_artefacts(found)
        return found

    def _attach_artefacts(self, found: list[Capture]) -> None:
        """Fill in each item's artefacts (one query, primary first)."""
        if not found:
            return
        by_item: dict[int, list[Artefact]] = {}
        if len(found) == 1:
            rows = self._read(f"SELECT {items.ARTEFACT_COLUMNS} FROM artefact "  # noqa: S608
                              "WHERE item_id = ? ORDER BY is_primary DESC, id", (found[0].id,))
        else:
            rows = self._read(f"SELECT {items.ARTEFACT_COLUMNS} FROM artefact "  # noqa: S608
                              "ORDER BY item_id, is_primary DESC, id")
        for row in rows:
            by_item.setdefault(int(row[1]), []).append(items.row_to_artefact(row))
        for item in found:
            item.artefacts = by_item.get(item.id, [])

    def capture_count(self, incident_id: int | None = None) -> int:
        if incident_id is None:
            return int(self._read("SELECT COUNT(*) FROM capture")[0][0])
        return int(self._read("SELECT COUNT(*) FROM capture WHERE incident_id = ?",
                              (incident_id,))[0][0])

    def capture(self, capture_id: int) -> Capture:
        rows = self._read(f"SELECT {_CAPTURE_COLUMNS} FROM capture WHERE id = ?",  # noqa: S608
                          (capture_id,))
        if not rows:
            raise NotFound(f"There is no capture {capture_id} in this vault.")
        found = [_row_to_capture(rows[0])]
        self._attach_artefacts(found)
        return found[0]

    def original(self, capture_id: int) -> bytes:
        """The original bytes exactly as grabbed or imported: the primary artefact."""
        return self.artefact_bytes(capture_id)

    def artefacts(self, item_id: int) -> list[Artefact]:
        """The files an item holds, its primary one first."""
        return self.capture(item_id).artefacts

    def artefact(self, item_id: int, name: str | None = None) -> Artefact:
        """One artefact of an item by name (None: the primary one); NotFound if there is
        none, with the names it does hold."""
        held = self.artefacts(item_id)
        for artefact in held:
            if (artefact.primary if name is None else artefact.name == name):
                return artefact
        if name is None:
            raise NotFound(f"There is no capture {item_id} in this vault.")
        raise NotFound(items.unknown_name(item_id, name, [a.name for a in held]).message)

    def open_artefact(self, item_id: int, name: str | None = None) -> io.BufferedReader:
        """A read-only, seekable file over one artefact's bytes (default: the primary),
        read from the vault a chunk at a time."""
        artefact = self.artefact(item_id, name)
        return io.BufferedReader(ChunkReader(
            lambda seq: self._artefact_chunk(artefact.id, seq), artefact.size, ARTEFACT_CHUNK))

    def artefact_bytes(self, item_id: int, name: str | None = None) -> bytes:
        """One artefact's bytes, whole (default: the primary). For a large artefact,
        :meth:`open_artefact` reads it without holding it all."""
        if name is None:
            rows = self._read("SELECT c.bytes FROM artefact a JOIN artefact_chunk c "
                              "ON c.artefact_id = a.id WHERE a.item_id = ? AND a.is_primary "
                              "ORDER BY c.seq", (item_id,))
            if rows:
                return b"".join(bytes(r[0]) for r in rows)
        artefact = self.artefact(item_id, name)
        rows = self._read("SELECT bytes FROM artefact_chunk WHERE artefact_id = ? ORDER BY seq",
                          (artefact.id,))
        return b"".join(bytes(r[0]) for r in rows)

    def _artefact_chunk(self, artefact_id: int, seq: int) -> bytes:
        rows = self._read("SELECT bytes FROM artefact_chunk WHERE artefact_id = ? AND seq = ?",
                          (artefact_id, seq))
        return bytes(rows[0][0]) if rows else b""

    def thumbnail(self, capture_id: int) -> bytes:
        rows = self._read("SELECT jpeg FROM thumbnail WHERE capture_id = ?", (capture_id,))
        if not rows:
            raise NotFound(f"There is no capture {capture_id} in this vault.")
        return bytes(rows[0][0])

    def previews(self, capture_id: int) -> tuple[bytes, bytes] | None:
        """The report-size JPEGs made at capture (1280 and 640 pixels across), or None
        for captures from before they were kept."""
        rows = self._read("SELECT jpeg, small FROM preview WHERE capture_id = ?",
                          (capture_id,))
        return (bytes(rows[0][0]), bytes(rows[0][1])) if rows else None

    def edit_capture(self, capture_id: int, changes: dict[str, str],
                     incident_id: int | None = None) -> dict[str, dict[str, Any]]:
        """Change what the user said of a capture; the audit entry keeps old and new values."""
        current = self.capture(capture_id)
        changes = _check_details(changes)
        old_values = current.details.as_dict()
        diff: dict[str, dict[str, Any]] = {
            name: {"old": old_values[name], "new": value}
            for name, value in changes.items() if old_values[name] != value
        }
        if incident_id is not None and incident_id != current.incident_id:
            self.incident(incident_id)
            diff["incident"] = {"old": current.incident_id, "new": incident_id}
        if not diff:
            return diff
        with self._write() as cur:
            for name, change in diff.items():
                column = "incident_id" if name == "incident" else name
                cur.execute(f"UPDATE capture SET {column} = ? WHERE id = ?",  # noqa: S608
                            (change["new"], capture_id))
            _append(cur, "capture.edited", f"capture:{capture_id}",
                    {"capture": capture_id, "changes": diff})
        return diff

    def move_captures(self, capture_ids: Sequence[int], incident_id: int) -> list[int]:
        """Put captures in another incident, all or none; returns those that moved.

        Each move is a "capture.edited" entry with the incident's old and new number,
        the same entry a single edit writes, so verification replays it unchanged.
        """
        self.incident(incident_id)
        wanted = list(dict.fromkeys(int(i) for i in capture_ids))
        moving = [(c.id, c.incident_id) for c in map(self.capture, wanted)
                  if c.incident_id != incident_id]
        if not moving:
            return []
        with self._write() as cur:
            for capture_id, old in moving:
                cur.execute("UPDATE capture SET incident_id = ? WHERE id = ?",
                            (incident_id, capture_id))
                _append(cur, "capture.edited", f"capture:{capture_id}",
                        {"capture": capture_id,
                         "changes": {"incident": {"old": old, "new": incident_id}}})
        return [capture_id for capture_id, _old in moving]

    def earliest_capture_time(self) -> datetime | None:
        """When the oldest capture in the vault was taken (None for an empty vault)."""
        rows = self._read("SELECT MIN(captured_at) FROM capture")
        return parse_iso_utc(str(rows[0][0])) if rows and rows[0][0] else None

    def annotations(self, capture_id: int) -> dict[str, Any] | None:
        rows = self._read("SELECT data FROM annotation WHERE capture_id = ?", (capture_id,))
        return json.loads(rows[0][0]) if rows else None

    def set_annotations(self, capture_id: int, data: dict[str, Any] | None) -> None:
        """Store vector annotations beside the original (which is never touched)."""
        self.capture(capture_id)
        if data:
            from evidence_recorder.core import marks

            data = marks.validate(data)
        encoded = json.dumps(data, sort_keys=True) if data else None
        with self._write() as cur:
            cur.execute("DELETE FROM annotation WHERE capture_id = ?", (capture_id,))
            if encoded is not None:
                cur.execute("INSERT INTO annotation (capture_id, data, updated_at) "
                            "VALUES (?, ?, ?)", (capture_id, encoded, iso_utc(utc_now())))
            _append(cur, "annotation.changed", f"capture:{capture_id}", {
                "capture": capture_id,
                "sha256": hashlib.sha256(encoded.encode()).hexdigest() if encoded else None,
            })

    def delete_capture(self, capture_id: int, reason: str) -> None:
        """Remove a capture's bytes; a tombstone (id, SHA-256, reason, time) stays in the log."""
        reason = _clean_text(reason, "reason", MAX_TEXT).strip()
        if not reason:
            raise RefusedInput("Please give a reason for deleting this capture; "
                               "it is kept in the audit log.")
        current = self.capture(capture_id)
        with self._write() as cur:
            for table in ("annotation", "thumbnail", "preview"):
                cur.execute(f"DELETE FROM {table} WHERE capture_id = ?",  # noqa: S608
                            (capture_id,))
            cur.execute("DELETE FROM artefact_chunk WHERE artefact_id IN "
                        "(SELECT id FROM artefact WHERE item_id = ?)", (capture_id,))
            cur.execute("DELETE FROM artefact WHERE item_id = ?", (capture_id,))
            cur.execute("DELETE FROM capture WHERE id = ?", (capture_id,))
            _append(cur, "capture.deleted", f"capture:{capture_id}",
                    {"capture": capture_id, "sha256": current.sha256, "reason": reason})

    # ------------------------------------------------------------------ received bundles

    def add_received_bundle(self, path: Path,
                            verdict: dict[str, Any] | Callable[[BinaryIO], dict[str, Any]],
                            ) -> int:
        """Keep a bundle someone sent, byte for byte, so its seal can be checked again later.

        It is streamed in chunks inside one transaction: memory stays bounded however
        large the bundle, and a crash leaves either all of it or none. ``verdict`` may
        be a function: it is given the copy just written (not the file, which may have
        changed since it was read) and returns the verdict to keep; if it raises, nothing
        is kept. So what is kept is exactly what was checked.
        """
        digest = hashlib.sha256()
        size = 0
        name = Path(path).name[:255]
        try:
            with Path(path).open("rb") as source, self._write() as cur:
                # The chunks go in first, under the id the row will take (the write lock
                # is held; the foreign key is checked at commit). Ids are never reused,
                # so the audit log's "received 3" always means one bundle.
                row = cur.execute("SELECT value FROM meta WHERE key = 'next_received_id'")
                found = row.fetchone()
                bundle_id = int(found[0]) if found else 1
                cur.execute("INSERT OR REPLACE INTO meta (key, value) "
                            "VALUES ('next_received_id', ?)", (str(bundle_id + 1),))
                seq = 0
                while chunk := source.read(RECEIVED_CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    cur.execute("INSERT INTO received_chunk (bundle_id, seq, bytes) "
                                "VALUES (?, ?, ?)", (bundle_id, seq, chunk))
                    seq += 1
                if callable(verdict):
                    with io.BufferedReader(ChunkReader(
                            lambda seq: self._received_chunk(bundle_id, seq), size,
                            RECEIVED_CHUNK)) as copy:
                        verdict = verdict(copy)
                cur.execute(
                    "INSERT INTO received_bundle (id, file_name, byte_size, sha256, received_at, "
                    "verdict) VALUES (?, ?, ?, ?, ?, ?)",
                    (bundle_id, name, size, digest.hexdigest(), iso_utc(utc_now()),
                     json.dumps(verdict, sort_keys=True)))
                _append(cur, "bundle.received", f"received:{bundle_id}", {
                    "received": bundle_id, "file_name": name, "byte_size": size,
                    "sha256": digest.hexdigest(), "intact": bool(verdict.get("ok")),
                    "fingerprint": verdict.get("fingerprint"),
                })
        except OSError as exc:
            raise EvidenceError(f"{name} could not be read ({exc.strerror}).") from exc
        return bundle_id

    def received_bundles(self) -> list[ReceivedBundle]:
        rows = self._read("SELECT id, file_name, byte_size, sha256, received_at, verdict "
                          "FROM received_bundle ORDER BY received_at, id")
        return [ReceivedBundle(r[0], r[1], r[2], r[3], parse_iso_utc(r[4]), json.loads(r[5]))
                for r in rows]

    def received_bundle_file(self, bundle_id: int) -> io.BufferedReader:
        """A read-only, seekable file over a received bundle's bytes (for the zip reader)."""
        rows = self._read("SELECT byte_size FROM received_bundle WHERE id = ?", (bundle_id,))
        if not rows:
            raise NotFound(f"There is no received bundle {bundle_id} in this vault.")
        return io.BufferedReader(ChunkReader(
            lambda seq: self._received_chunk(bundle_id, seq), int(rows[0][0]), RECEIVED_CHUNK))

    def _received_chunk(self, bundle_id: int, seq: int) -> bytes:
        rows = self._read("SELECT bytes FROM received_chunk WHERE bundle_id = ? AND seq = ?",
                          (bundle_id, seq))
        return bytes(rows[0][0]) if rows else b""

    def delete_received_bundle(self, bundle_id: int, reason: str) -> None:
        reason = _clean_text(reason, "reason", MAX_TEXT).strip()
        if not reason:
            raise RefusedInput("Please give a reason; it is kept in the audit log.")
        found = [b for b in self.received_bundles() if b.id == bundle_id]
        if not found:
            raise NotFound(f"There is no received bundle {bundle_id} in this vault.")
        with self._write() as cur:
            cur.execute("DELETE FROM received_chunk WHERE bundle_id = ?", (bundle_id,))
            cur.execute("DELETE FROM received_bundle WHERE id = ?", (bundle_id,))
            _append(cur, "bundle.deleted", f"received:{bundle_id}",
                    {"received": bundle_id, "sha256": found[0].sha256, "reason": reason})

    def record(self, action: str, subject: str, details: dict[str, Any]) -> None:
        """Log an action that changes nothing stored, such as an export."""
        with self._write() as cur:
            _append(cur, action, subject, details)

    # ------------------------------------------------------------------ audit

    def audit_entries(self) -> list[AuditEntry]:
        rows = self._read("SELECT seq, at, action, subject, details, prev_hash, hash "
                          "FROM audit ORDER BY seq")
        return [AuditEntry(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5], r[6]) for r in rows]

    def recorded_hashes(self) -> RecordedHashes:
        """What the log recorded of pictures, annotations and the signing key, so that an
        export can refuse to seal something that differs (see :func:`bundle.export_bundle`)."""
        return _recorded(self.audit_entries())

    def checked_previews(self, capture_id: int,
                         recorded: RecordedHashes) -> tuple[bytes, bytes] | None:
        """The report previews kept at capture, if they still hash to what the log recorded.

        None when none were kept, or when an older version kept them without recording
        their SHA-256 (the caller then makes them again from the original, which is
        checked). A kept picture that differs from its record is refused.
        """
        kept = self.previews(capture_id)
        want = recorded.pictures.get(capture_id)
        if kept is None or want is None:
            return None
        have = [hashlib.sha256(picture).hexdigest() for picture in kept]
        if have != [want.get("preview"), want.get("small")]:
            raise VaultDamaged(_picture_changed(capture_id) + " No bundle was sealed. "
                               "Run a vault check.")
        return kept

    def checked_annotations(self, capture_id: int,
                            recorded: RecordedHashes) -> dict[str, Any] | None:
        """The capture's annotations, refused if they are not exactly as last saved."""
        rows = self._read("SELECT data FROM annotation WHERE capture_id = ?", (capture_id,))
        if not rows:
            return None
        if _text_sha256(rows[0][0]) != recorded.annotations.get(capture_id):
            raise VaultDamaged(_annotations_changed(capture_id) + " No bundle was sealed. "
                               "Run a vault check.")
        return json.loads(rows[0][0])  # type: ignore[no-any-return]

    def verify(self, progress: Callable[[int, int], None] | None = None) -> VerifyReport:
        """Check the vault against its audit log; ``ok`` only if nothing differs.

        Detected: a broken hash chain (an entry changed, removed or reordered); an
        original, or any other artefact, that no longer matches the SHA-256 and size
        the log recorded at intake (re-hashed chunk by chunk), or that is missing,
        added, or whose recorded name, role, type or size changed; a capture's recorded facts and
        details, or which incident it is in, changed, added or removed behind the app's
        back (the log is replayed); a thumbnail, report picture or annotation that no
        longer matches the SHA-256 recorded when it was made or saved; an incident's
        title, description, start or creation time changed, or an incident added or
        removed (replayed from the log); a signing key that is not the one the log
        recorded, and an export the log says was sealed with another key; a received
        bundle changed; damaged database pages.

        Not detected: anything by someone who holds the key and rewrites the log and
        re-chains it (the log vouches only for itself; bundles already sent, ideally
        time-stamped, fix the past); pictures and a key recorded for the first time
        when this version upgraded the vault, for any change before that moment (said
        in ``not_checked``); an older copy of the whole database put back.
        """
        report = VerifyReport()
        try:
            entries = self.audit_entries()
        except (ValueError, TypeError):
            report.problems.append("The audit log holds an entry that cannot be read.")
            return report
        report.entries_checked = len(entries)
        if broken := audit.first_broken(entries):
            report.problems.append(f"Audit log: {broken[1]}.")
        expected = _replay(entries, report.problems)
        recorded_artefacts = items.replay(entries)
        rows = self._read(f"SELECT {_CAPTURE_COLUMNS} FROM capture ORDER BY id")  # noqa: S608
        total = len(rows)
        for index, row in enumerate(rows, 1):
            found = _row_to_capture(row)
            report.captures_checked += 1
            want = expected.pop(found.id, None)
            if want is None:
                report.problems.append(
                    f"Capture {found.id} is not in the audit log: it was added outside the app.")
            else:
                for name, value in _capture_state(found).items():
                    if want.get(name) != value:
                        report.problems.append(
                            f"Capture {found.id}: its {name.replace('_', ' ')} was changed "
                            "outside Evidence Recorder.")
            held = [items.row_to_artefact(r) for r in self._read(
                f"SELECT {items.ARTEFACT_COLUMNS} FROM artefact WHERE item_id = ? "  # noqa: S608
                "ORDER BY id", (found.id,))]
            recorded_files = recorded_artefacts.get(found.id) if want is not None else None
            with self._mutex:
                try:
                    items.check_item(self.conn, found.id, held, recorded_files,
                                     report.problems)
                except sqlcipher3.Error as exc:
                    raise _translate_db_error(exc) from exc
            primary = next((a for a in held if a.primary), None)
            if primary is None:
                if not any(r.get("primary") for r in (recorded_files or {}).values()):
                    report.problems.append(f"Capture {found.id}: its original image is missing.")
            elif primary.sha256 != found.sha256:
                report.problems.append(items.changed(found.id, primary.name, primary.role))
            if progress is not None:
                progress(index, total)
        for missing in sorted(expected):
            report.problems.append(
                f"Capture {missing} is missing, but the audit log has no record of its deletion.")
        for (item_id,) in self._read("SELECT DISTINCT item_id FROM artefact WHERE item_id "
                                     "NOT IN (SELECT id FROM capture) ORDER BY item_id"):
            report.problems.append(f"Files are stored for capture {item_id}, which is not in "
                                   "the vault.")
        if self._read("SELECT 1 FROM artefact_chunk WHERE artefact_id NOT IN "
                      "(SELECT id FROM artefact) LIMIT 1"):
            report.problems.append("The vault holds stored bytes that belong to no capture.")
        self._verify_received(entries, report)
        recorded = _recorded(entries)
        report.problems += [f"Audit log: entry {seq} cannot be understood."
                            for seq in recorded.unreadable]
        self._verify_pictures(recorded, report)
        self._verify_annotations(recorded, report)
        self._verify_incidents(entries, report)
        self._verify_signing_key(recorded, report)
        try:
            integrity = self._read("PRAGMA cipher_integrity_check")
        except EvidenceError:
            integrity = [("unreadable",)]
        if integrity:
            report.problems.append("The database file has damaged pages.")
        if self.history.warning is not None:
            report.problems.append(self.history.warning.text)
        report.problems = list(dict.fromkeys(report.problems))  # one unreadable entry, once
        return report

    def _verify_received(self, entries: list[AuditEntry], report: VerifyReport) -> None:
        """Received bundles: each still hashes to what the log recorded when it came in."""
        logged: dict[int, str] = {}
        for entry in entries:
            with contextlib.suppress(KeyError, TypeError, ValueError):
                if entry.action == "bundle.received":
                    logged[int(entry.details["received"])] = str(entry.details["sha256"])
                elif entry.action == "bundle.deleted":
                    logged.pop(int(entry.details["received"]), None)
        for bundle in self.received_bundles():
            want = logged.pop(bundle.id, None)
            digest = hashlib.sha256()
            with self.received_bundle_file(bundle.id) as fh:
                while block := fh.read(RECEIVED_CHUNK):
                    digest.update(block)
            if want is None:
                report.problems.append(f"Received bundle {bundle.id} is not in the audit log.")
            elif digest.hexdigest() != want or bundle.sha256 != want:
                report.problems.append(f"Received bundle {bundle.id} ({bundle.file_name}) no "
                                       "longer matches the SHA-256 recorded when it came in.")
        for missing in sorted(logged):
            report.problems.append(f"Received bundle {missing} is missing, but the audit log "
                                   "has no record of its deletion.")

    def _verify_pictures(self, recorded: RecordedHashes, report: VerifyReport) -> None:
        """Thumbnails and report previews: each still hashes to what the log recorded."""
        never: list[int] = []
        for capture_id in [int(r[0]) for r in self._read("SELECT id FROM capture ORDER BY id")]:
            if capture_id not in recorded.pictures:
                continue  # named already: the capture itself is not in the log
            want = recorded.pictures[capture_id]
            if want is None:
                never.append(capture_id)
                continue
            with self._mutex:
                try:
                    have = _picture_hashes(self.conn.cursor(), capture_id)
                except sqlcipher3.Error as exc:
                    raise _translate_db_error(exc) from exc
            if have["thumbnail"] != want["thumbnail"]:
                report.problems.append(
                    f"The thumbnail of capture {capture_id} is missing." if have["thumbnail"]
                    is None else f"The thumbnail shown for capture {capture_id} in the app was "
                    "changed after it was made.")
            kept = (have["preview"], have["small"])
            wanted = (want["preview"], want["small"])
            if kept == wanted:
                continue
            if wanted == (None, None):
                report.problems.append(f"Capture {capture_id} has a picture for reports that "
                                       "Evidence Recorder did not make.")
            elif kept == (None, None):
                report.problems.append(f"The picture used for capture {capture_id} in reports "
                                       "is missing.")
            else:
                report.problems.append(_picture_changed(capture_id))
        if never:
            report.not_checked.append(
                f"The thumbnails and report pictures of {_some_captures(never)} were made by "
                "an older version of Evidence Recorder that did not record their SHA-256, so "
                "they could not be checked.")
        late = {capture_id: at for capture_id, at in recorded.first_recorded_late.items()
                if capture_id in recorded.pictures}
        if late:
            report.not_checked.append(
                f"The thumbnails and report pictures of {_some_captures(sorted(late))} were "
                f"first recorded on {_when(min(late.values()))}, when this version first "
                "opened the vault: a change made before then cannot be detected.")

    def _verify_annotations(self, recorded: RecordedHashes, report: VerifyReport) -> None:
        """Annotations: each is exactly what was last saved through the app."""
        live = {int(r[0]) for r in self._read("SELECT id FROM capture")}
        stored: set[int] = set()
        for capture_id, data in self._read("SELECT capture_id, data FROM annotation "
                                           "ORDER BY capture_id"):
            stored.add(int(capture_id))
            want = recorded.annotations.get(int(capture_id))
            if capture_id not in live:
                report.problems.append(f"Highlights and redactions are stored for capture "
                                       f"{capture_id}, which is not in the vault.")
            elif want is None:
                report.problems.append(f"The highlights and redactions on capture {capture_id} "
                                       "are not in the audit log: they were added outside "
                                       "Evidence Recorder.")
            elif _text_sha256(data) != want:
                report.problems.append(_annotations_changed(int(capture_id)))
        for capture_id, want in sorted(recorded.annotations.items()):
            if want is not None and capture_id not in stored and capture_id in live:
                report.problems.append(f"The highlights and redactions on capture {capture_id} "
                                       "are missing, but the audit log has no record of their "
                                       "removal.")

    def _verify_incidents(self, entries: list[AuditEntry], report: VerifyReport) -> None:
        """Incidents: replayed from the log (created, edited) and compared with the table."""
        expected, default_id = _replay_incidents(entries, report.problems)
        rows = self._read("SELECT id, title, description, started_at, created_at, is_default "
                          "FROM incident ORDER BY id")
        for row in rows:
            report.incidents_checked += 1
            incident_id = int(row[0])
            want = expected.pop(incident_id, None)
            if want is None:
                report.problems.append(f"Incident {incident_id} is not in the audit log: it "
                                       "was added outside Evidence Recorder.")
                continue
            found = dict(zip(_INCIDENT_FIELDS, row[1:5], strict=True))
            name = f"Incident {incident_id} (“{want.get('title', '')}”)"
            for field_name, label in _INCIDENT_FIELDS.items():
                if field_name in want and want[field_name] != found[field_name]:
                    report.problems.append(f"{name}: its {label} was changed outside "
                                           "Evidence Recorder.")
            if bool(row[5]) != (incident_id == default_id):
                report.problems.append(f"{name}: whether it is where unsorted captures go "
                                       "was changed outside Evidence Recorder.")
        for incident_id, want in sorted(expected.items()):
            report.problems.append(f"Incident {incident_id} (“{want.get('title', '')}”) is "
                                   "missing, but Evidence Recorder never deletes incidents.")

    def _verify_signing_key(self, recorded: RecordedHashes, report: VerifyReport) -> None:
        """The signing key is the one the log recorded, and every export was sealed with it."""
        current = self._signing_fingerprint()
        first = recorded.key_fingerprint
        if current is None:
            report.problems.append("The vault's signing key is missing or damaged, so no "
                                   "bundle can be sealed with it.")
        if first is None:
            report.not_checked.append("The signing key's fingerprint was never recorded in "
                                      "the audit log, so it could not be checked.")
        else:
            for seq, fingerprint in recorded.key_fingerprints:
                if fingerprint is not None and fingerprint != first:
                    report.problems.append(
                        f"Audit log entry {seq} records a different signing key ({fingerprint}) "
                        f"from the one recorded before it ({first}).")
            if current is not None and current != first:
                report.problems.append(
                    f"The vault's signing key was replaced: it is not the key recorded in the "
                    f"audit log ({first}), so a bundle sealed now would show another "
                    f"fingerprint ({current}).")
            if recorded.key_first_recorded_late is not None:
                report.not_checked.append(
                    f"The signing key's fingerprint was first recorded on "
                    f"{_when(recorded.key_first_recorded_late)}, when this version first "
                    "opened the vault: a key replaced before then shows up only through the "
                    "exports made before then.")
        reference = first or current
        for seq, bundle_name, fingerprint in recorded.exports:
            if fingerprint is None:
                report.problems.append(f"Audit log entry {seq}: the export of {bundle_name} "
                                       "does not say which key sealed it.")
            elif reference is not None and fingerprint != reference:
                report.problems.append(
                    f"Audit log entry {seq}: {bundle_name} was sealed with a key ({fingerprint}) "
                    f"that is not this vault's signing key ({reference}).")


# ---------------------------------------------------------------------- helpers


def _connect(path: Path, data_key: bytes, *, create: bool) -> sqlcipher3.Connection:
    if not create and path.stat().st_size == 0:
        raise VaultDamaged("The vault's database is empty; restore it from a backup copy.")
    uri = f"{path.resolve().as_uri()}?mode={'rwc' if create else 'rw'}"
    try:
        conn = sqlcipher3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    except sqlcipher3.Error as exc:
        if not dberrors.is_environment(exc):
            raise dberrors.translate_db_error(exc) from exc  # a bug, not a damaged file
        raise VaultDamaged(f"The vault's database could not be opened ({exc}).") from exc
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute(f"PRAGMA key = \"x'{data_key.hex()}'\"")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        for pragma in ("journal_mode = WAL", "synchronous = FULL", "temp_store = MEMORY",
                       "secure_delete = ON", "foreign_keys = ON"):
            conn.execute(f"PRAGMA {pragma}")
    except sqlcipher3.Error as exc:
        conn.close()
        if not dberrors.is_environment(exc):
            raise dberrors.translate_db_error(exc) from exc  # a bug, not a damaged file
        raise VaultDamaged(
            "The vault's database is damaged, or this key file (vault.key) does not belong "
            "to it (a copy made before all keys were changed no longer opens it), so it "
            "cannot be opened. Nothing was changed. Put back the current vault.key, or "
            "restore the vault folder from a backup copy."
        ) from exc
    return conn


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


def _append(cur: sqlcipher3.Cursor, action: str, subject: str, details: dict[str, Any]) -> None:
    row = cur.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev = (row[0] + 1, row[1]) if row else (1, audit.GENESIS_HASH)
    at = iso_utc(utc_now())
    digest = audit.entry_hash(seq, at, action, subject, details, prev)
    cur.execute(
        "INSERT INTO audit (seq, at, action, subject, details, prev_hash, hash) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (seq, at, action, subject, json.dumps(details, sort_keys=True, ensure_ascii=False),
         prev, digest),
    )


PICTURES = ("thumbnail", "preview", "small")  # as keyed in the log's "pictures"


def _picture_hashes(cur: sqlcipher3.Cursor, capture_id: int) -> dict[str, str | None]:
    """SHA-256 of the stored thumbnail and report previews; None for one not kept."""
    row = cur.execute(
        "SELECT t.jpeg, p.jpeg, p.small FROM capture c "
        "LEFT JOIN thumbnail t ON t.capture_id = c.id "
        "LEFT JOIN preview p ON p.capture_id = c.id WHERE c.id = ?", (capture_id,)).fetchone()
    values = row if row is not None else (None, None, None)
    return {name: hashlib.sha256(value).hexdigest() if value is not None else None
            for name, value in zip(PICTURES, values, strict=True)}


def _clean_text(value: str, name: str, limit: int) -> str:
    if not isinstance(value, str):
        raise RefusedInput(f"The {name} must be text.")
    if len(value) > limit:
        raise RefusedInput(f"The {name} is too long ({len(value):,} characters; "
                           f"the limit is {limit:,}).")
    if "\x00" in value:
        raise RefusedInput(f"The {name} contains a character that cannot be stored.")
    return value


def _check_details(values: dict[str, str]) -> dict[str, str]:
    """The details as they are stored: checked, and the handle as ``@name``.

    A handle with a space inside is refused rather than joined up: "sam j" might be
    two accounts' worth of guessing, and which one was meant only the user knows.
    """
    for name, value in values.items():
        declared = fields.BY_NAME.get(name)
        if declared is None:
            raise RefusedInput(f"There is no detail called “{name}”.")
        _clean_text(value, name.replace("_", " "), declared.max_length)
    values = dict(values)
    if "handle" in values:
        handle = handle_text(values["handle"])
        if any(character.isspace() for character in handle):
            raise RefusedInput(QT_TRANSLATE_NOOP(
                "EvidenceError", "A @handle has no spaces in it. Put the name shown on the "
                                 "post in “Author's name”, and only the @name here."))
        values["handle"] = handle
    category = values.get("category", "")
    if category and category not in {c.value for c in Category}:
        choices = ", ".join(c.value for c in Category)
        raise RefusedInput(f"“{category}” is not a category. Choose one of: {choices}.")
    return values


_KINDS: dict[str, CaptureKind] = {kind.value: kind for kind in CaptureKind}
_DETAILS_END = 13 + len(_DETAIL_FIELDS)


def _row_to_capture(r: tuple[Any, ...]) -> Capture:
    # Called for every capture when a vault opens, so it avoids needless work: a dict
    # for the enum, a fast path for our own "...Z" times, shared copies of the strings
    # that repeat from row to row (zone, offset, media type).
    source = ImportSource(**json.loads(r[12])) if r[12] else None
    when = r[3]
    captured_at = (datetime.fromisoformat(when) if when.endswith("Z")
                   else parse_iso_utc(when))
    return Capture(
        id=r[0], incident_id=r[1], kind=_KINDS[r[2]], captured_at=captured_at,
        tz_name=sys.intern(r[4]), utc_offset=sys.intern(r[5]), sha256=r[6], width=r[7],
        height=r[8], media_type=sys.intern(r[9]), byte_size=r[10],
        environment=json.loads(r[11]), source=source,
        details=CaptureDetails(*r[13:_DETAILS_END]), has_annotations=bool(r[_DETAILS_END]),
        title=r[_DETAILS_END + 1],
    )


def _capture_state(c: Capture) -> dict[str, Any]:
    """What the audit log can vouch for about a capture, keyed as the log writes it."""
    state: dict[str, Any] = {
        "incident": c.incident_id, "kind": c.kind.value, "sha256": c.sha256,
        "captured_at": iso_utc(c.captured_at), "tz_name": c.tz_name, "utc_offset": c.utc_offset,
        "width": c.width, "height": c.height, "media_type": c.media_type,
        "byte_size": c.byte_size, "source": c.source.as_dict() if c.source else None,
        "title": c.title,
    }
    state.update(c.details.as_dict())
    return state


_INCIDENT_FIELDS = {"title": "title", "description": "description",
                    "started_at": "start date", "created_at": "creation time"}


def _replay_incidents(entries: list[AuditEntry],
                      problems: list[str]) -> tuple[dict[int, dict[str, Any]], int | None]:
    """Rebuild every incident from the log alone, and which one is the default.

    Vaults made before the default incident was written into ``vault.created`` made it
    first, in an empty table, with the fixed title and description, so it is number 1.
    """
    state: dict[int, dict[str, Any]] = {}
    default_id: int | None = None
    for entry in entries:
        d = entry.details
        try:
            if entry.action == "vault.created":
                seed = d.get("default_incident") or {
                    "incident": 1, "title": DEFAULT_INCIDENT_TITLE,
                    "description": DEFAULT_INCIDENT_DESCRIPTION, "started_at": ""}
                default_id = int(seed["incident"])
                state[default_id] = {k: str(v) for k, v in seed.items() if k in _INCIDENT_FIELDS}
            elif entry.action == "incident.created":
                state[int(d["incident"])] = {k: str(v) for k, v in d.items()
                                             if k in _INCIDENT_FIELDS}
            elif entry.action == "incident.edited":
                target = state.get(int(d["incident"]))
                if target is not None:
                    for name, change in d["changes"].items():
                        if name in _INCIDENT_FIELDS:
                            target[name] = change["new"]
        except (KeyError, TypeError, ValueError, AttributeError):
            problems.append(f"Audit log: entry {entry.seq} cannot be understood.")
    return state, default_id


def _recorded(entries: list[AuditEntry]) -> RecordedHashes:
    """Replay what the log recorded of pictures, annotations, the key and exports."""
    rec = RecordedHashes()
    for entry in entries:
        d = entry.details
        try:
            if entry.action == "vault.created" and "key_fingerprint" in d:
                rec.key_fingerprints.append((entry.seq, _optional_text(d["key_fingerprint"])))
            elif entry.action == "signing_key.recorded":
                rec.key_fingerprints.append((entry.seq, _optional_text(d["key_fingerprint"])))
                if d.get("first_recorded") and rec.key_first_recorded_late is None:
                    rec.key_first_recorded_late = entry.at
            elif entry.action == "capture.added":
                pictures = d.get("pictures")
                rec.pictures[int(d["capture"])] = (_picture_record(pictures)
                                                   if pictures is not None else None)
            elif entry.action == "pictures.recorded":
                capture_id = int(d["capture"])
                rec.pictures[capture_id] = _picture_record(d["pictures"])
                if d.get("first_recorded"):
                    rec.first_recorded_late[capture_id] = entry.at
            elif entry.action == "capture.deleted":
                capture_id = int(d["capture"])
                rec.pictures.pop(capture_id, None)
                rec.first_recorded_late.pop(capture_id, None)
                rec.annotations.pop(capture_id, None)
            elif entry.action == "annotation.changed":
                rec.annotations[int(d["capture"])] = _optional_text(d["sha256"])
            elif entry.action == "export":
                rec.exports.append((entry.seq, str(d.get("bundle") or entry.subject),
                                    _optional_text(d.get("key_fingerprint"))))
        except (KeyError, TypeError, ValueError, AttributeError):
            if not entry.action.startswith("capture."):  # those _replay names already
                rec.unreadable.append(entry.seq)
    return rec


def _picture_record(value: Any) -> dict[str, str | None]:
    if not isinstance(value, dict):
        raise TypeError("pictures must be an object")
    return {name: _optional_text(value.get(name)) for name in PICTURES}


def _optional_text(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise TypeError("expected text")
    return value


def _text_sha256(value: str | bytes) -> str:
    return hashlib.sha256(value.encode() if isinstance(value, str) else bytes(value)).hexdigest()


def _picture_changed(capture_id: int) -> str:
    return f"The picture used for capture {capture_id} in reports was changed after it was made."


def _annotations_changed(capture_id: int) -> str:
    return (f"The highlights and redactions on capture {capture_id} were changed after they "
            "were saved.")


def _some_captures(ids: list[int]) -> str:
    """"capture 3", "captures 1, 2 and 5", "12 captures (1, 2, 3, 4, 5 and 7 more)"."""
    if len(ids) == 1:
        return f"capture {ids[0]}"
    if len(ids) <= 6:
        return f"captures {', '.join(map(str, ids[:-1]))} and {ids[-1]}"
    return f"{len(ids)} captures ({', '.join(map(str, ids[:5]))} and {len(ids) - 5} more)"


def _when(at: str) -> str:
    """An audit entry's time, as "2026-12-07 at 15:40 UTC"."""
    return f"{at[:10]} at {at[11:16]} UTC" if len(at) >= 16 else at


def _replay(entries: list[AuditEntry], problems: list[str]) -> dict[int, dict[str, Any]]:
    """Rebuild each live capture's state from the log alone."""
    state: dict[int, dict[str, Any]] = {}
    blank = CaptureDetails().as_dict()
    for entry in entries:
        d = entry.details
        try:
            if entry.action == "capture.added":
                values = {"title": ""}  # entries before items had titles: none
                values.update({k: v for k, v in d.items()
                               if k not in ("capture", "details", "pictures", "artefacts")})
                values.update(blank)
                values.update(d.get("details") or {})
                state[int(d["capture"])] = values
            elif entry.action == "capture.edited":
                target = state.get(int(d["capture"]))
                if target is not None:
                    for name, change in d["changes"].items():
                        target[name] = change["new"]
            elif entry.action == "capture.deleted":
                state.pop(int(d["capture"]), None)
        except (KeyError, TypeError, ValueError, AttributeError):
            problems.append(f"Audit log: entry {entry.seq} cannot be understood.")
    return state


__all__ = ["DB_NAME", "LOCK_NAME", "RecordedHashes", "Vault", "VerifyReport", "vault_exists"]
