"""The vault: an encrypted folder that keeps captures, incidents and the audit log.

A capture is an evidence item holding one or more artefacts (files kept byte for
byte, in chunks); :mod:`items` has the artefact plumbing. The jobs that stand apart
live beside this module, each run by a ``Vault`` method of the same name so that
callers see one object: the vault check in :mod:`verify`, "Change all keys" in
:mod:`rekey`, bundles someone sent in :mod:`received`. This module stays over 600
lines because what is left is one job, the ``Vault`` as the one door to the database:
every write and its audit entry are one transaction under one lock, and the writes
(opening, incidents, captures, annotations) share that plumbing and the row helpers
below.

A vault is a folder (mode 0700) holding ``vault.key`` (the key slots, see
:mod:`keyfile`), ``evidence.db`` (SQLCipher, keyed with the random data key) and a
lock file. Images go from memory straight into the database; nothing the user
captured is ever written anywhere in the clear. Every change and its audit entry are
one transaction, committed with ``synchronous=FULL`` before the caller hears "saved".
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import secrets
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, BinaryIO

import sqlcipher3
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from evidence_recorder.core import fields, fsutil
from evidence_recorder.core.bundle import sshsig
from evidence_recorder.core.conversation import Message, MessageExport, MessageFlag
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
    MessageSource,
    WebSource,
    handle_text,
    iso_utc,
    original_name,
    parse_iso_utc,
    utc_now,
)
from evidence_recorder.core.passphrase import passphrase_problem
from evidence_recorder.core.paths import KEYFILE_NAME, vault_exists
from evidence_recorder.core.vault import anchor, audit, dberrors, items, schema
from evidence_recorder.core.vault import messages as message_rows
from evidence_recorder.core.vault.dberrors import translate_db_error as _translate_db_error
from evidence_recorder.core.vault.items import ChunkReader, NewArtefact
from evidence_recorder.core.vault.keyfile import (
    DATA_KEY_BYTES,
    KdfParams,
    KeyFile,
    calibrate_kdf,
)

if TYPE_CHECKING:  # run lazily by the methods of the same names, which import them
    from evidence_recorder.core.vault.received import ReceivedBundle
    from evidence_recorder.core.vault.verify import RecordedHashes, VerifyReport

DB_NAME = "evidence.db"
LOCK_NAME = "vault.lock"
DEFAULT_INCIDENT_TITLE = "Unsorted captures"
DEFAULT_INCIDENT_DESCRIPTION = "Captures not yet sorted into an incident."
MAX_TITLE = 300
# The "meta" key under which "Stay signed in" keeps the capture browser's cookies.
_BROWSER_COOKIES = "browser_cookies"

_DETAIL_FIELDS = CaptureDetails.field_names()
_MESSAGE_KINDS = frozenset({CaptureKind.EMAIL.value, CaptureKind.CHAT.value})
_CAPTURE_COLUMNS = (
    "id, incident_id, kind, captured_at, tz_name, utc_offset, sha256, width, height, "  # noqa: S608 - column names are constants
    "media_type, byte_size, environment, source, "
    + ", ".join(_DETAIL_FIELDS)
    + ", EXISTS(SELECT 1 FROM annotation a WHERE a.capture_id = capture.id), title"
)
ARTEFACT_CHUNK = schema.ARTEFACT_CHUNK


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
        from evidence_recorder.core.vault.rekey import _settle_key_change

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
        recovery key (show it once). How, and why a kill at any moment is safe:
        :func:`rekey.change_all_keys`."""
        from evidence_recorder.core.vault.rekey import change_all_keys

        return change_all_keys(self, new_passphrase, progress, kdf)

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
                 web: WebSource | None = None, details: CaptureDetails | None = None,
                 incident_id: int | None = None,
                 messages: MessageExport | None = None) -> int:
        """Store a new evidence item, its artefacts and its audit entry in one durable
        transaction; returns the item's id.

        Each artefact is streamed into chunks while it is hashed, so a stream of any
        size never sits in memory whole. The audit entry records every artefact (name,
        role, media type, size, SHA-256, whether primary, what it was made from) beside
        everything a capture's entry recorded before. The thumbnail and previews are
        those of the primary artefact; ``width`` and ``height`` its pixels (0 if none).
        ``source`` is an imported file's, ``web`` a web page's (kind ``web`` only); both
        are kept in the capture's ``source`` column, read back by kind. ``messages`` is
        an e-mail's or chat export's parse (kinds ``email`` and ``chat`` only): its
        source goes in that column too, and its messages in the ``message`` table, in
        the same transaction; the audit entry records their count and hash.
        """
        if web is not None and (str(kind) != CaptureKind.WEB.value or source is not None):
            raise RefusedInput("A web page's record goes with a web page, and only there.")
        if messages is not None and (str(kind) not in _MESSAGE_KINDS or source is not None
                                     or web is not None):
            raise RefusedInput("Parsed messages go with an e-mail or a chat export only.")
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
        origin: WebSource | ImportSource | MessageSource | None = (
            web if web is not None else messages.source if messages is not None else source)
        source_json = json.dumps(origin.as_dict(), sort_keys=True) if origin else None
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
            if messages is not None:
                message_rows.insert(cur, capture_id, messages.messages)
            cur.execute("INSERT INTO thumbnail (capture_id, jpeg, made_from) VALUES (?, ?, ?)",
                        (capture_id, thumbnail, main.name))
            if previews is not None:
                cur.execute("INSERT INTO preview (capture_id, jpeg, small, made_from) "
                            "VALUES (?, ?, ?, ?)", (capture_id, *previews, main.name))
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
            cur.execute("DELETE FROM message_flag WHERE item_id = ?", (capture_id,))
            cur.execute("DELETE FROM message WHERE item_id = ?", (capture_id,))
            cur.execute("DELETE FROM capture WHERE id = ?", (capture_id,))
            _append(cur, "capture.deleted", f"capture:{capture_id}",
                    {"capture": capture_id, "sha256": current.sha256, "reason": reason})

    # ------------------------------------------------------------------ messages

    def messages(self, item_id: int, *, start: int = 0, limit: int | None = None,
                 since: str = "", until: str = "", search: str = "", sender: str = "",
                 indexes: Sequence[int] | None = None) -> list[Message]:
        """An e-mail's or chat export's parsed messages in export order, filtered (see
        :func:`core.vault.messages.select`); a page at a time with ``start``/``limit``."""
        return message_rows.select(self.conn, item_id, start=start, limit=limit, since=since,
                                   until=until, search=search, sender=sender,
                                   indexes=indexes)

    def message_count(self, item_id: int) -> int:
        """How many rows an e-mail's or chat export's messages are (unreadable lines
        included): the counts recorded at import (``verify`` checks the rows against
        their hash), so a 100,000-message chat opens without counting them."""
        rows = self._read("SELECT kind, source FROM capture WHERE id = ?", (item_id,))
        if not rows or rows[0][0] not in _MESSAGE_KINDS or not rows[0][1]:
            return 0
        source = MessageSource.from_dict(json.loads(rows[0][1]))
        return source.message_count + source.unreadable_count

    def first_message_at(self, item_id: int, when: datetime) -> int | None:
        """The index of the first message sent at or after ``when`` (jump to a date)."""
        return message_rows.first_on_or_after(self.conn, item_id, iso_utc(when))

    def message_senders(self, item_id: int | None = None) -> list[tuple[str, str, int]]:
        """Who sent messages: (sender as shown, sender id, count), of one item or all."""
        return message_rows.senders(self.conn, item_id)

    def message_flags(self, item_id: int | None = None) -> list[MessageFlag]:
        """The flagged messages of one item, or of every item, in order."""
        return message_rows.flags(self.conn, item_id)

    def flag_messages(self, item_id: int, indexes: Sequence[int], *, category: str = "",
                      note: str = "") -> list[int]:
        """Flag messages of an item as mattering, with a category and a note (both
        audited, as an edit of a capture's details is); flagging again replaces them.
        Returns the indexes flagged."""
        item = self.capture(item_id)
        if item.kind.value not in _MESSAGE_KINDS:
            raise RefusedInput(f"Item {item_id} is not an e-mail or a chat export, "
                               "so it has no messages to flag.")
        if category and category not in {c.value for c in Category}:
            raise RefusedInput(f"“{category[:40]}” is not a category; choose one of "
                               + ", ".join(c.value for c in Category) + ".")
        note = _clean_text(note, "note", MAX_TEXT)
        wanted = sorted({int(i) for i in indexes})
        if not wanted:
            raise RefusedInput("Say which messages to flag (their numbers).")
        found = {m.index for m in self.messages(item_id, indexes=wanted)}
        missing = [i for i in wanted if i not in found]
        if missing:
            raise RefusedInput(f"Item {item_id} has no message numbered "
                               + ", ".join(str(i) for i in missing[:10]) + ".")
        at = iso_utc(utc_now())
        with self._write() as cur:
            cur.executemany(
                "INSERT OR REPLACE INTO message_flag (item_id, idx, category, note, flagged_at) "
                "VALUES (?, ?, ?, ?, ?)", [(item_id, i, category, note, at) for i in wanted])
            _append(cur, "message.flagged", f"capture:{item_id}",
                    {"capture": item_id, "messages": wanted, "category": category,
                     "note": note})
        return wanted

    def unflag_messages(self, item_id: int, indexes: Sequence[int]) -> list[int]:
        """Take flags off; returns the indexes that were flagged."""
        wanted = sorted({int(i) for i in indexes})
        flagged = {f.index for f in self.message_flags(item_id)} & set(wanted)
        if not flagged:
            return []
        done = sorted(flagged)
        with self._write() as cur:
            cur.executemany("DELETE FROM message_flag WHERE item_id = ? AND idx = ?",
                            [(item_id, i) for i in done])
            _append(cur, "message.unflagged", f"capture:{item_id}",
                    {"capture": item_id, "messages": done})
        return done

    # ------------------------------------------------------------------ received bundles

    def add_received_bundle(self, path: Path,
                            verdict: dict[str, Any] | Callable[[BinaryIO], dict[str, Any]],
                            ) -> int:
        """Keep a bundle someone sent, byte for byte, with the verdict on the copy kept:
        see :func:`received.add_received_bundle`."""
        from evidence_recorder.core.vault import received

        return received.add_received_bundle(self, path, verdict)

    def received_bundles(self) -> list[ReceivedBundle]:
        from evidence_recorder.core.vault import received

        return received.received_bundles(self)

    def received_bundle_file(self, bundle_id: int) -> io.BufferedReader:
        """A read-only, seekable file over a received bundle's bytes (for the zip reader)."""
        from evidence_recorder.core.vault import received

        return received.received_bundle_file(self, bundle_id)

    def delete_received_bundle(self, bundle_id: int, reason: str) -> None:
        from evidence_recorder.core.vault import received

        received.delete_received_bundle(self, bundle_id, reason)

    def record(self, action: str, subject: str, details: dict[str, Any]) -> None:
        """Log an action that changes nothing stored, such as an export."""
        with self._write() as cur:
            _append(cur, action, subject, details)

    # ------------------------------------------------------------------ browser sign-in

    def browser_cookies(self) -> list[bytes] | None:
        """The capture browser's cookies kept by "Stay signed in", or None when the
        person has not asked to stay signed in.

        They live only here, in the encrypted ``meta`` table: the browser itself keeps
        nothing on disk, so a sign-in survives closing the browser only this way.
        """
        stored = self._meta(_BROWSER_COOKIES)
        if stored is None:
            return None
        try:
            return [base64.b64decode(item, validate=True) for item in json.loads(stored)]
        except (ValueError, TypeError):
            return []  # unreadable: the person signs in again, nothing worse

    def keep_browser_cookies(self, cookies: Sequence[bytes] | None) -> None:
        """Keep the browser's cookies (raw ``Set-Cookie`` forms) in the vault, replacing
        any kept before; None forgets them.

        Audited without their content: "browser.signin_kept" when the person starts
        staying signed in, "browser.signin_forgotten" when the cookies are forgotten.
        Putting a newer jar in place of one already kept (each time the browser closes)
        is the same choice carried on, and is not logged again.
        """
        with self._write() as cur:
            had = cur.execute("SELECT 1 FROM meta WHERE key = ?",
                              (_BROWSER_COOKIES,)).fetchone() is not None
            cur.execute("DELETE FROM meta WHERE key = ?", (_BROWSER_COOKIES,))
            if cookies is None:
                if had:
                    _append(cur, "browser.signin_forgotten", "vault", {})
                return
            encoded = json.dumps([base64.b64encode(bytes(c)).decode("ascii") for c in cookies])
            cur.execute("INSERT INTO meta (key, value) VALUES (?, ?)",
                        (_BROWSER_COOKIES, encoded))
            if not had:
                _append(cur, "browser.signin_kept", "vault", {"cookies": len(cookies)})

    # ------------------------------------------------------------------ audit

    def audit_entries(self) -> list[AuditEntry]:
        rows = self._read("SELECT seq, at, action, subject, details, prev_hash, hash "
                          "FROM audit ORDER BY seq")
        return [AuditEntry(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5], r[6]) for r in rows]

    def recorded_hashes(self) -> RecordedHashes:
        """What the log recorded of pictures, annotations and the signing key, so that an
        export can refuse to seal something that differs (see :func:`bundle.export_bundle`)."""
        from evidence_recorder.core.vault import verify

        return verify.recorded_hashes(self)

    def checked_previews(self, capture_id: int,
                         recorded: RecordedHashes) -> tuple[bytes, bytes] | None:
        """The report previews kept at capture, if they still hash to what the log recorded
        (None: make them again from the original); see :func:`verify.checked_previews`."""
        from evidence_recorder.core.vault import verify

        return verify.checked_previews(self, capture_id, recorded)

    def checked_annotations(self, capture_id: int,
                            recorded: RecordedHashes) -> dict[str, Any] | None:
        """The capture's annotations, refused if they are not exactly as last saved."""
        from evidence_recorder.core.vault import verify

        return verify.checked_annotations(self, capture_id, recorded)

    def verify(self, progress: Callable[[int, int], None] | None = None) -> VerifyReport:
        """Check the vault against its audit log; ``ok`` only if nothing differs. What is
        detected, and what is not: :func:`verify.verify`."""
        from evidence_recorder.core.vault import verify

        return verify.verify(self, progress)

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
    kind = _KINDS[r[2]]
    source: ImportSource | None = None
    web: WebSource | None = None
    messages: MessageSource | None = None
    if r[12] and kind is CaptureKind.WEB:
        web = WebSource.from_dict(json.loads(r[12]))
    elif r[12] and kind.value in _MESSAGE_KINDS:
        messages = MessageSource.from_dict(json.loads(r[12]))
    elif r[12]:
        source = ImportSource(**json.loads(r[12]))
    when = r[3]
    captured_at = (datetime.fromisoformat(when) if when.endswith("Z")
                   else parse_iso_utc(when))
    return Capture(
        id=r[0], incident_id=r[1], kind=kind, captured_at=captured_at,
        tz_name=sys.intern(r[4]), utc_offset=sys.intern(r[5]), sha256=r[6], width=r[7],
        height=r[8], media_type=sys.intern(r[9]), byte_size=r[10],
        environment=json.loads(r[11]), source=source,
        details=CaptureDetails(*r[13:_DETAILS_END]), has_annotations=bool(r[_DETAILS_END]),
        title=r[_DETAILS_END + 1], web=web, messages=messages,
    )


__all__ = ["DB_NAME", "LOCK_NAME", "Vault", "vault_exists"]
