"""Backups: one encrypted, self-checking file that can rebuild a vault after damage.

A backup is a ZIP holding ``evidence.db`` (a consistent copy made with SQLCipher's
online backup while the vault is open, never by copying the live files, which may be
mid-write), ``vault.key`` (so the copy opens with the same passphrase or recovery
key) and ``backup.json`` (the vault id, the time, and each file's SHA-256). The copy is
keyed with the vault's own data key, so nothing in the backup is readable without the
passphrase or the recovery key. The file appears under its final name only when
complete (temp file, fsync, rename).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlcipher3

from evidence_recorder.core import fsutil
from evidence_recorder.core.errors import EvidenceError, RefusedInput, VaultDamaged
from evidence_recorder.core.i18n import QT_TRANSLATE_NOOP
from evidence_recorder.core.model import iso_utc, utc_now
from evidence_recorder.core.paths import KEYFILE_NAME
from evidence_recorder.core.vault import anchor, dberrors
from evidence_recorder.core.vault.keyfile import KeyFile
from evidence_recorder.core.vault.store import DB_NAME, Vault

MANIFEST_NAME = "backup.json"
BACKUP_FORMAT = "evidence-recorder-backup"
BACKUP_VERSION = 1
CHUNK = 1024 * 1024
MAX_MANIFEST = 64 * 1024


@dataclass(slots=True)
class BackupReport:
    """The outcome of :func:`verify_backup`: ``ok`` only when every file matches."""

    vault_id: str = ""
    created_at: str = ""
    files_checked: int = 0
    problems: list[str] = field(default_factory=list)
    history_note: str = ""  # a restore: is the backup older than what this computer saw?

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {"ok": self.ok, "vault_id": self.vault_id,
                                 "created_at": self.created_at,
                                 "files_checked": self.files_checked, "problems": self.problems}
        if self.history_note:
            found["history_note"] = self.history_note
        return found


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _disk_message(exc: OSError, what: str) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return (f"The disk is full, so {what} was not written. Nothing was left behind; "
                "free some space, or choose another place, and try again.")
    return f"{what[0].upper()}{what[1:]} could not be written ({exc.strerror})."


def _copy_database(vault: Vault, target: Path) -> None:
    """SQLCipher's online backup of the open vault into a new file under the same key."""
    uri = f"{target.resolve().as_uri()}?mode=rwc"
    dest = sqlcipher3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    try:
        dest.execute("PRAGMA cipher_log_level = NONE")
        dest.execute(f"PRAGMA key = \"x'{vault._data_key.hex()}'\"")
        # One step, holding the vault's lock: no write can slip in half way, and no
        # pause between steps (the sqlite3 default sleeps between partial steps).
        with vault._mutex:
            vault.conn.backup(dest)
        # The copy is left a single self-contained file: no -wal beside it to lose.
        dest.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        dest.execute("PRAGMA journal_mode = DELETE")
    finally:
        dest.close()


def _remove(*paths: Path) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink()


def make_backup(vault: Vault, out: Path) -> Path:
    """Write a backup of the open vault to ``out`` (a file, or a folder to put it in)."""
    out = Path(out)
    now = utc_now()
    target = out / f"evidence-vault-backup-{now:%Y%m%d-%H%M%S}.erbackup" if out.is_dir() \
        else out
    if not target.parent.is_dir():
        raise RefusedInput(f"The folder {target.parent} does not exist.")
    if target.resolve().is_relative_to(vault.folder.resolve()):
        raise RefusedInput(QT_TRANSLATE_NOOP("EvidenceError", "Put the backup outside the vault "
                                                              "folder, ideally on another disk."))
    fsutil.remove_stale_temps(target.parent, target.name)
    # Named so that remove_stale_temps(target) also sweeps it up after a crash.
    db_copy = fsutil.temp_path_for(target).with_suffix(".db.tmp")  # unguessable, see fsutil
    _remove(db_copy, db_copy.with_name(db_copy.name + "-journal"))
    try:
        try:
            _copy_database(vault, db_copy)
        except sqlcipher3.Error as exc:
            if not dberrors.is_environment(exc):  # a bug, not damage: see dberrors
                raise dberrors.translate_db_error(exc) from exc
            if dberrors.is_disk_full(exc):
                raise EvidenceError(
                    QT_TRANSLATE_NOOP("EvidenceError", "The disk is full, so the backup was not "
                                                       "written. Nothing was left behind; free "
                                                       "some space, or choose another place, and "
                                                       "try again.")) from exc
            raise VaultDamaged(
                QT_TRANSLATE_NOOP("EvidenceError", "The vault could not be read to back it up; it "
                                                   "may be damaged. Nothing was changed. Keep the "
                                                   "vault folder as it is.")) from exc
        key_bytes = (vault.folder / KEYFILE_NAME).read_bytes()
        if KeyFile.from_bytes(key_bytes).vault_id != vault.vault_id:
            raise VaultDamaged(QT_TRANSLATE_NOOP("EvidenceError",
                    "The vault's key file does not belong to this vault."))
        db_sha256 = _sha256_file(db_copy)
        manifest: dict[str, Any] = {
            "format": BACKUP_FORMAT, "version": BACKUP_VERSION, "vault_id": vault.vault_id,
            "created_at": iso_utc(now),
            "files": {
                DB_NAME: {"sha256": db_sha256, "size": db_copy.stat().st_size},
                KEYFILE_NAME: {"sha256": hashlib.sha256(key_bytes).hexdigest(),
                               "size": len(key_bytes)},
            },
        }
        with fsutil.atomic_writer(target) as fh, \
                zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
            zf.writestr(MANIFEST_NAME, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
            zf.writestr(KEYFILE_NAME, key_bytes)
            zf.write(db_copy, DB_NAME)  # encrypted pages: nothing to gain from compression
    except OSError as exc:
        raise EvidenceError(_disk_message(exc, "the backup")) from exc
    finally:
        _remove(db_copy, db_copy.with_name(db_copy.name + "-journal"))
    vault.record("vault.backup", "vault", {
        "file_name": target.name, "sha256": _sha256_file(target),
        "database_sha256": db_sha256,
    })
    return target


@contextlib.contextmanager
def _open_backup(path: Path) -> Iterator[zipfile.ZipFile]:
    path = Path(path)
    if not path.is_file():
        raise EvidenceError(f"{path} does not exist.")
    try:
        with zipfile.ZipFile(path) as zf:
            yield zf
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise VaultDamaged(f"{path.name} is damaged or is not an Evidence Recorder "
                           "backup.") from exc
    except OSError as exc:
        raise EvidenceError(f"{path.name} could not be read ({exc.strerror}).") from exc


def _read_manifest(zf: zipfile.ZipFile, report: BackupReport) -> dict[str, Any] | None:
    try:
        info = zf.getinfo(MANIFEST_NAME)
    except KeyError:
        report.problems.append("It has no backup.json, so it is not an Evidence Recorder "
                               "backup.")
        return None
    try:
        if info.file_size > MAX_MANIFEST:
            raise ValueError("too large")
        manifest = json.loads(zf.read(info))
        if manifest.get("format") != BACKUP_FORMAT:
            raise ValueError("wrong format")
        if int(manifest.get("version", 0)) > BACKUP_VERSION:
            report.problems.append("It was made by a newer version of Evidence Recorder.")
            return None
        files = manifest["files"]
        for name in (DB_NAME, KEYFILE_NAME):
            str(files[name]["sha256"])
        report.vault_id = str(manifest.get("vault_id", ""))
        report.created_at = str(manifest.get("created_at", ""))
    except (ValueError, KeyError, TypeError, AttributeError, zipfile.BadZipFile):
        report.problems.append("Its backup.json is damaged.")
        return None
    return dict(manifest)


def _check_member(zf: zipfile.ZipFile, name: str, want: dict[str, Any],
                  report: BackupReport) -> None:
    try:
        info = zf.getinfo(name)
    except KeyError:
        report.problems.append(f"{name} is missing from the backup.")
        return
    digest = hashlib.sha256()
    size = 0
    try:
        with zf.open(info) as fh:
            while block := fh.read(CHUNK):
                digest.update(block)
                size += len(block)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        report.problems.append(f"{name} in the backup is damaged.")
        return
    if digest.hexdigest() != want.get("sha256") or size != want.get("size"):
        report.problems.append(f"{name} no longer matches the SHA-256 recorded when the "
                               "backup was made.")
        return
    report.files_checked += 1


def _verify(zf: zipfile.ZipFile, report: BackupReport) -> None:
    manifest = _read_manifest(zf, report)
    if manifest is None:
        return
    for name in (DB_NAME, KEYFILE_NAME):
        _check_member(zf, name, manifest["files"][name], report)
    if report.ok:
        try:
            keyfile = KeyFile.from_bytes(zf.read(KEYFILE_NAME))
        except EvidenceError:
            report.problems.append("The key file in the backup cannot be read.")
            return
        if keyfile.vault_id != report.vault_id:
            report.problems.append("The key file in the backup belongs to another vault.")
    extra = sorted(set(zf.namelist()) - {MANIFEST_NAME, DB_NAME, KEYFILE_NAME})
    if extra:
        report.problems.append(f"The backup holds files it should not: {', '.join(extra)}.")


def verify_backup(path: Path) -> BackupReport:
    """Check every file in a backup against its recorded SHA-256 (no passphrase needed)."""
    report = BackupReport()
    try:
        with _open_backup(path) as zf:
            _verify(zf, report)
    except VaultDamaged as exc:
        report.problems.append(exc.message)
    return report


def restore_backup(path: Path, folder: Path) -> BackupReport:
    """Unpack a checked backup into an empty or new ``folder``, ready to open as a vault.

    Restoring is deliberate, so it must not look like someone putting back an older
    copy behind the person's back: a marker in the config folder tells the first open of
    exactly this database file to accept it (logged in the audit log) and move this
    computer's history anchor. ``history_note`` says, once, if the backup is older than
    what this computer last saw.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise RefusedInput(f"{folder} is a file, not a folder.")
    if folder.exists() and any(folder.iterdir()):
        raise RefusedInput(f"{folder} is not empty. Restore into an empty or new folder, so "
                           "that nothing there is overwritten.")
    with _open_backup(path) as zf:
        report = BackupReport()
        _verify(zf, report)
        if not report.ok:
            raise VaultDamaged("The backup is damaged, so it was not restored: "
                               + " ".join(report.problems))
        created = not folder.exists()
        written: list[Path] = []
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            folder.chmod(0o700)
            # The database first, the key file last: until it exists this is not a vault.
            for name in (DB_NAME, KEYFILE_NAME):
                with fsutil.atomic_writer(folder / name) as out, zf.open(name) as source:
                    while block := source.read(CHUNK):
                        out.write(block)
                written.append(folder / name)
        except OSError as exc:
            _remove(*written)
            if created:
                with contextlib.suppress(OSError):
                    folder.rmdir()
            raise EvidenceError(_disk_message(exc, "the restored vault")) from exc
        database_sha256 = str(json.loads(zf.read(MANIFEST_NAME))["files"][DB_NAME]["sha256"])
    anchor.mark_restored(folder, report.vault_id, database_sha256, report.created_at)
    report.history_note = anchor.restore_hint(report.vault_id, report.created_at) or ""
    return report


__all__ = ["BackupReport", "make_backup", "restore_backup", "verify_backup"]
