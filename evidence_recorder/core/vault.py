"""The vault: an encrypted folder that keeps captures, incidents and the audit log.

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
import secrets
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import sqlcipher3
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from evidence_recorder.core import anchor, audit, fsutil, schema
from evidence_recorder.core.errors import (
    EvidenceError,
    NotFound,
    RefusedInput,
    VaultDamaged,
    VaultInUse,
    VaultNotFound,
)
from evidence_recorder.core.keyfile import (
    DATA_KEY_BYTES,
    KdfParams,
    KeyFile,
    calibrate_kdf,
)
from evidence_recorder.core.model import (
    AuditEntry,
    Capture,
    CaptureDetails,
    CaptureKind,
    Category,
    ImportSource,
    Incident,
    iso_utc,
    parse_iso_utc,
    utc_now,
)
from evidence_recorder.core.passphrase import passphrase_problem
from evidence_recorder.core.paths import KEYFILE_NAME, vault_exists

DB_NAME = "evidence.db"
LOCK_NAME = "vault.lock"
DEFAULT_INCIDENT_TITLE = "Unsorted captures"
MAX_TEXT = 20_000  # characters in one detail field: pages of text, not a pasted file
MAX_TITLE = 300

_DETAIL_FIELDS = CaptureDetails.field_names()
_CAPTURE_COLUMNS = (
    "id, incident_id, kind, captured_at, tz_name, utc_offset, sha256, width, height, "  # noqa: S608 - column names are constants
    "media_type, byte_size, environment, source, "
    + ", ".join(_DETAIL_FIELDS)
    + ", EXISTS(SELECT 1 FROM annotation a WHERE a.capture_id = capture.id)"
)


@dataclass(slots=True)
class VerifyReport:
    """The outcome of :meth:`Vault.verify`: ``ok`` only when nothing was found wrong."""

    entries_checked: int = 0
    captures_checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "entries_checked": self.entries_checked,
                "captures_checked": self.captures_checked, "problems": self.problems}


RECEIVED_CHUNK = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ReceivedBundle:
    id: int
    file_name: str
    byte_size: int
    sha256: str
    received_at: datetime
    verdict: dict[str, Any]


class ChunkReader(io.RawIOBase):
    """Reads a received bundle back out of the vault, a chunk at a time, without copying it."""

    def __init__(self, vault: Vault, bundle_id: int, size: int) -> None:
        super().__init__()
        self._vault, self._id, self._size, self._pos = vault, bundle_id, size, 0
        self._cached: tuple[int, bytes] = (-1, b"")

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        done = 0
        while done < len(view) and self._pos < self._size:
            seq, offset = divmod(self._pos, RECEIVED_CHUNK)
            if self._cached[0] != seq:
                self._cached = (seq, self._vault._received_chunk(self._id, seq))
            chunk = self._cached[1][offset:]
            if not chunk:
                break
            n = min(len(chunk), len(view) - done)
            view[done:done + n] = chunk[:n]
            done += n
            self._pos += n
        return done


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


def _translate_db_error(exc: Exception) -> EvidenceError:
    text = str(exc).lower()
    if "full" in text:
        return EvidenceError(
            "The disk is full, so nothing was saved. Free some space and try again; "
            "everything saved before is safe."
        )
    if "readonly" in text or "read-only" in text:
        return EvidenceError("The vault folder cannot be written to, so nothing was saved.")
    if "locked" in text or "busy" in text:
        return VaultInUse("The vault is busy in another Evidence Recorder window. Try again.")
    return VaultDamaged(
        "Part of the vault could not be read; it may be damaged. Nothing was changed. "
        "Keep the vault folder as it is and restore from a backup copy."
    )


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
                    (DEFAULT_INCIDENT_TITLE, "Captures not yet sorted into an incident.", now),
                )
                _append(cur, "vault.created", "vault", {"vault_id": keyfile.vault_id})
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

    def close(self) -> None:
        """Lock the vault: close the database and forget the key."""
        with self._mutex:
            if self._conn is not None:
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
            with self._write() as cur:
                schema.MIGRATIONS[version](self.conn)
                version += 1
                cur.execute(f"PRAGMA user_version = {version:d}")

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
        with self._write() as cur:
            cur.execute(
                "INSERT INTO incident (title, description, started_at, created_at) "
                "VALUES (?, ?, ?, ?)",
                (title, description, started_at, iso_utc(utc_now())),
            )
            new_id = int(cur.lastrowid or 0)
            _append(cur, "incident.created", f"incident:{new_id}",
                    {"incident": new_id, "title": title, "description": description,
                     "started_at": started_at})
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
        """Store a new capture and its audit entry in one durable transaction.

        ``sha256`` is the hash the caller computed the moment the bytes came into
        being; it is checked here too, so that a mismatch can never be stored.
        """
        if hashlib.sha256(original).hexdigest() != sha256:
            raise EvidenceError("The capture changed in memory before it was saved; "
                                "please capture again.")
        details = details or CaptureDetails()
        _check_details(details.as_dict())
        if incident_id is None:
            incident_id = self.default_incident().id
        else:
            self.incident(incident_id)
        source_json = json.dumps(source.as_dict(), sort_keys=True) if source else None
        env_json = json.dumps(environment, sort_keys=True)
        detail_values = details.as_dict()
        with self._write() as cur:
            cur.execute(
                "INSERT INTO capture (incident_id, kind, captured_at, tz_name, utc_offset, "  # noqa: S608
                "sha256, width, height, media_type, byte_size, environment, source, "
                + ", ".join(_DETAIL_FIELDS) + ") VALUES ("
                + ", ".join("?" * (12 + len(_DETAIL_FIELDS))) + ")",
                (incident_id, kind.value, captured_at, tz_name, utc_offset, sha256, width,
                 height, media_type, len(original), env_json, source_json,
                 *detail_values.values()),
            )
            capture_id = int(cur.lastrowid or 0)
            cur.execute("INSERT INTO original (capture_id, bytes) VALUES (?, ?)",
                        (capture_id, original))
            cur.execute("INSERT INTO thumbnail (capture_id, jpeg) VALUES (?, ?)",
                        (capture_id, thumbnail))
            if previews is not None:
                cur.execute("INSERT INTO preview (capture_id, jpeg, small) VALUES (?, ?, ?)",
                            (capture_id, *previews))
            _append(cur, "capture.added", f"capture:{capture_id}", {
                "capture": capture_id, "incident": incident_id, "kind": kind.value,
                "sha256": sha256, "captured_at": captured_at, "tz_name": tz_name,
                "utc_offset": utc_offset, "width": width, "height": height,
                "media_type": media_type, "byte_size": len(original),
                "source": json.loads(source_json) if source_json else None,
                "details": {k: v for k, v in detail_values.items() if v},
            })
        return capture_id

    def captures(self, incident_id: int | None = None, *,
                 newest: int | None = None) -> list[Capture]:
        """Every capture (or one incident's), oldest first; only the ``newest`` N if given."""
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
        return [_row_to_capture(r) for r in rows]

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
        return _row_to_capture(rows[0])

    def original(self, capture_id: int) -> bytes:
        """The original bytes exactly as grabbed or imported."""
        rows = self._read("SELECT bytes FROM original WHERE capture_id = ?", (capture_id,))
        if not rows:
            raise NotFound(f"There is no capture {capture_id} in this vault.")
        return bytes(rows[0][0])

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
        _check_details(changes)
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

    def annotations(self, capture_id: int) -> dict[str, Any] | None:
        rows = self._read("SELECT data FROM annotation WHERE capture_id = ?", (capture_id,))
        return json.loads(rows[0][0]) if rows else None

    def set_annotations(self, capture_id: int, data: dict[str, Any] | None) -> None:
        """Store vector annotations beside the original (which is never touched)."""
        self.capture(capture_id)
        if data:
            from evidence_recorder.core import annotations

            data = annotations.validate(data)
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
            for table in ("annotation", "thumbnail", "preview", "original"):
                cur.execute(f"DELETE FROM {table} WHERE capture_id = ?",  # noqa: S608
                            (capture_id,))
            cur.execute("DELETE FROM capture WHERE id = ?", (capture_id,))
            _append(cur, "capture.deleted", f"capture:{capture_id}",
                    {"capture": capture_id, "sha256": current.sha256, "reason": reason})

    # ------------------------------------------------------------------ received bundles

    def add_received_bundle(self, path: Path, verdict: dict[str, Any]) -> int:
        """Keep a bundle someone sent, byte for byte, so its seal can be checked again later.

        It is streamed in chunks inside one transaction: memory stays bounded however
        large the bundle, and a crash leaves either all of it or none.
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
        return io.BufferedReader(ChunkReader(self, bundle_id, int(rows[0][0])))

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

    def verify(self, progress: Callable[[int, int], None] | None = None) -> VerifyReport:
        """Recompute the audit chain and re-hash every original against its capture record.

        It also replays the log to rebuild what every capture should say now, so that
        a row changed behind the app's back (even by someone holding the key) shows up.
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
            data = self._read("SELECT bytes FROM original WHERE capture_id = ?", (found.id,))
            if not data:
                report.problems.append(f"Capture {found.id}: its original image is missing.")
            elif hashlib.sha256(data[0][0]).hexdigest() != found.sha256:
                report.problems.append(
                    f"Capture {found.id}: its original image no longer matches the SHA-256 "
                    "recorded when it was captured.")
            if progress is not None:
                progress(index, total)
        for missing in sorted(expected):
            report.problems.append(
                f"Capture {missing} is missing, but the audit log has no record of its deletion.")
        self._verify_received(entries, report)
        try:
            integrity = self._read("PRAGMA cipher_integrity_check")
        except EvidenceError:
            integrity = [("unreadable",)]
        if integrity:
            report.problems.append("The database file has damaged pages.")
        if self.history.warning is not None:
            report.problems.append(self.history.warning.text)
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


# ---------------------------------------------------------------------- helpers


def _connect(path: Path, data_key: bytes, *, create: bool) -> sqlcipher3.Connection:
    if not create and path.stat().st_size == 0:
        raise VaultDamaged("The vault's database is empty; restore it from a backup copy.")
    uri = f"{path.resolve().as_uri()}?mode={'rwc' if create else 'rw'}"
    try:
        conn = sqlcipher3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    except sqlcipher3.Error as exc:
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
        raise VaultDamaged(
            "The vault's database is damaged or is not the one this key file belongs to, "
            "so it cannot be opened. Nothing was changed. Restore the vault folder from a "
            "backup copy."
        ) from exc
    return conn


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


def _clean_text(value: str, name: str, limit: int) -> str:
    if not isinstance(value, str):
        raise RefusedInput(f"The {name} must be text.")
    if len(value) > limit:
        raise RefusedInput(f"The {name} is too long ({len(value):,} characters; "
                           f"the limit is {limit:,}).")
    if "\x00" in value:
        raise RefusedInput(f"The {name} contains a character that cannot be stored.")
    return value


def _check_details(values: dict[str, str]) -> None:
    for name, value in values.items():
        if name not in _DETAIL_FIELDS:
            raise RefusedInput(f"There is no detail called “{name}”.")
        _clean_text(value, name.replace("_", " "), MAX_TEXT)
    category = values.get("category", "")
    if category and category not in {c.value for c in Category}:
        choices = ", ".join(c.value for c in Category)
        raise RefusedInput(f"“{category}” is not a category. Choose one of: {choices}.")


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
    )


def _capture_state(c: Capture) -> dict[str, Any]:
    """What the audit log can vouch for about a capture, keyed as the log writes it."""
    state: dict[str, Any] = {
        "incident": c.incident_id, "kind": c.kind.value, "sha256": c.sha256,
        "captured_at": iso_utc(c.captured_at), "tz_name": c.tz_name, "utc_offset": c.utc_offset,
        "width": c.width, "height": c.height, "media_type": c.media_type,
        "byte_size": c.byte_size, "source": c.source.as_dict() if c.source else None,
    }
    state.update(c.details.as_dict())
    return state


def _replay(entries: list[AuditEntry], problems: list[str]) -> dict[int, dict[str, Any]]:
    """Rebuild each live capture's state from the log alone."""
    state: dict[int, dict[str, Any]] = {}
    blank = CaptureDetails().as_dict()
    for entry in entries:
        d = entry.details
        try:
            if entry.action == "capture.added":
                values = {k: v for k, v in d.items() if k not in ("capture", "details")}
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


__all__ = ["DB_NAME", "LOCK_NAME", "Vault", "VerifyReport", "vault_exists"]
