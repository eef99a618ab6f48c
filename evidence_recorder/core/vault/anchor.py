"""The vault's history anchor: what this computer last saw of a vault, kept outside it.

Anyone who can reach the vault folder can put back an older copy of ``evidence.db``
without knowing the passphrase; the older copy is a perfectly valid vault whose audit
chain is intact, so nothing inside the vault can tell. The anchor is the memory that
can: after every committed write, this computer notes the audit head (its sequence
number and hash), the number of captures and when the vault was opened, MACed under a
key derived from the vault's data key, in the user's config folder and, where a real
one exists, the OS keychain (:mod:`keychain`). At every unlock the vault's chain must
still hold the anchor's head; if it does not, the vault is *behind* (an older copy) or
*diverged* (another copy), and it stays flagged until the person says they put it back
on purpose, which is written to the audit log and moves the anchor.

What the anchor cannot do is in SECURITY.md ("The vault's history anchor").

Ordering rules that keep it from crying wolf: the anchor is written only after the
database commit it describes (a crash leaves it lagging, which is harmless, never
ahead), always atomically, and never moved while a warning is unresolved.

It stays one module of about 600 lines on purpose: writing, checking, accepting
and restoring are the life of one record and must all keep those ordering rules,
so splitting them would spread one invariant over several files.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import os
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from evidence_recorder.core import fsutil
from evidence_recorder.core.model import iso_utc, parse_iso_utc, utc_now
from evidence_recorder.core.vault.keychain import _keyring_read, _keyring_write

if TYPE_CHECKING:
    from evidence_recorder.core.vault.store import Vault

_log = logging.getLogger(__name__)

ANCHORS_ENV = "EVIDENCE_RECORDER_ANCHORS"  # a folder; tests and portable installs set it
ANCHOR_FORMAT = "evidence-recorder-anchor"
ANCHOR_VERSION = 1
MAC_INFO = b"evidence-recorder/history-anchor/mac/v1"  # only ever used for this MAC
MAX_ANCHOR_BYTES = 4096

# Audit actions written by this module.
ACTION_BEHIND = "vault.history_behind"
ACTION_ACCEPTED = "vault.history_accepted"
ACTION_RESTORED = "vault.restored"


@dataclass(frozen=True, slots=True)
class Anchor:
    """What this computer last saw of one vault."""

    vault_id: str
    seq: int
    hash: str
    captures: int
    opened_at: str  # UTC, ISO: when the vault was last unlocked here
    updated_at: str  # UTC, ISO: when this record was last moved (the last write seen)

    def body(self) -> bytes:
        doc = {"format": ANCHOR_FORMAT, "version": ANCHOR_VERSION, **asdict(self)}
        return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()

    @property
    def opened(self) -> datetime:
        return parse_iso_utc(self.opened_at)

    @property
    def updated(self) -> datetime:
        return parse_iso_utc(self.updated_at)


class Unreadable(Exception):
    """An anchor copy is there but is not one we wrote under this vault's key."""


@dataclass(frozen=True, slots=True)
class HistoryWarning:
    """Why this vault does not look like the one this computer last saw.

    ``kind`` is ``"behind"`` (fewer entries than last seen), ``"diverged"`` (the entry
    last seen is not in this vault's log) or ``"unreadable"`` (the record of what was
    last seen cannot be trusted, so nothing could be compared).
    """

    kind: str
    anchor_seq: int = 0
    anchor_captures: int = 0
    anchor_at: datetime | None = None  # when this computer last saw the later state
    vault_seq: int = 0  # where this copy's own history ends (the fork point when known)
    vault_captures: int = 0
    copy_ends_at: datetime | None = None  # the time of this copy's last entry before the gap
    anchor_hash: str = ""

    @property
    def missing_entries(self) -> int | None:
        if self.kind == "behind":
            return max(0, self.anchor_seq - self.vault_seq)
        return None

    @property
    def text(self) -> str:
        """One plain sentence (or three) for the CLI and the verify report."""
        if self.kind == "unreadable":
            return ("The record this computer keeps of this vault's history could not be read "
                    "(it may have been altered), so it cannot be checked whether this vault is "
                    "an older copy.")
        after = _local(self.copy_ends_at) if self.copy_ends_at else None
        seen = _local(self.anchor_at) if self.anchor_at else "an earlier time"
        if after:
            first = ("This vault is older than the last time it was opened on this computer: "
                     f"captures made after {after} may be missing.")
        else:
            first = ("This vault is not the copy that was last opened on this computer: "
                     f"captures made up to {seen} may be missing.")
        missing = self.missing_entries
        gap = (f" {missing} audit {'entry is' if missing == 1 else 'entries are'} missing."
               if missing else "")
        return (f"{first} On {seen} this computer saw {self.anchor_captures} "
                f"capture{'s' if self.anchor_captures != 1 else ''}; this copy held "
                f"{self.vault_captures} when it was opened.{gap}")


@dataclass(slots=True)
class History:
    """The anchor's state for one unlocked vault (kept on :attr:`Vault.history`)."""

    following: bool = False  # writes move the anchor (False while a warning is unresolved)
    checked: bool = False  # the vault was compared with an anchor at unlock
    first_here: bool = False  # opened, and this computer had no record of it at all
    warning: HistoryWarning | None = None
    notice: str | None = None  # said once: a backup restored on purpose was older
    last_seen: Anchor | None = None  # the anchor found at unlock, for "last opened"
    record: Anchor | None = None  # the anchor as stored now
    opened_at: str = ""
    key: bytes = b""


# ---------------------------------------------------------------------- where it lives


def anchors_dir() -> Path:
    """``<config>/anchors``, beside settings.json (both follow the same override)."""
    if override := os.environ.get(ANCHORS_ENV):
        return Path(override)
    from evidence_recorder.core.settings import settings_path

    return settings_path().parent / "anchors"


def _anchor_path(vault_id: str) -> Path:
    return anchors_dir() / f"{_safe_id(vault_id)}.json"


def _next_path(vault_id: str) -> Path:
    """The anchor signed under the *next* data key, written just before "Change all keys"
    commits: whichever side of the commit a crash lands on, one copy reads true."""
    return anchors_dir() / f"{_safe_id(vault_id)}.next.json"


def _marker_path(vault_id: str) -> Path:
    return anchors_dir() / f"{_safe_id(vault_id)}.restored.json"


def _safe_id(vault_id: str) -> str:
    if not vault_id or not all(c.isalnum() or c in "-_" for c in vault_id):
        return hashlib.sha256(vault_id.encode()).hexdigest()
    return vault_id


def _ensure_dir() -> Path:
    folder = anchors_dir()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        folder.chmod(0o700)
    return folder


# ---------------------------------------------------------------------- encoding


def mac_key(data_key: bytes) -> bytes:
    """A key for the anchor's MAC alone, so the data key itself never signs anything."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=MAC_INFO).derive(data_key)


def encode(anchor: Anchor, key: bytes) -> bytes:
    body = anchor.body()
    doc = json.loads(body)
    doc["mac"] = hmac.new(key, body, hashlib.sha256).hexdigest()
    return json.dumps(doc, sort_keys=True, indent=1).encode()


def _fields(raw: bytes | str) -> tuple[Anchor, str]:
    """The record and its MAC, checked for shape only (no key needed)."""
    if len(raw) > MAX_ANCHOR_BYTES:
        raise Unreadable("too large")
    try:
        doc = json.loads(raw)
        if not isinstance(doc, dict) or doc.get("format") != ANCHOR_FORMAT \
                or doc.get("version") != ANCHOR_VERSION:
            raise Unreadable("not an anchor")
        anchor = Anchor(vault_id=str(doc["vault_id"]), seq=doc["seq"], hash=str(doc["hash"]),
                        captures=doc["captures"], opened_at=str(doc["opened_at"]),
                        updated_at=str(doc["updated_at"]))
        if type(anchor.seq) is not int or type(anchor.captures) is not int \
                or anchor.seq < 1 or anchor.captures < 0:
            raise Unreadable("bad numbers")
        anchor.opened  # noqa: B018 - both times must parse
        anchor.updated  # noqa: B018
        mac = doc["mac"]
        if not isinstance(mac, str):
            raise Unreadable("bad mac")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise Unreadable("damaged") from exc
    return anchor, mac


def decode(raw: bytes | str, key: bytes, vault_id: str) -> Anchor:
    """The anchor, if it is one this vault's key made for this vault; else :class:`Unreadable`."""
    anchor, mac = _fields(raw)
    want = hmac.new(key, anchor.body(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want, mac) or anchor.vault_id != vault_id:
        raise Unreadable("the MAC does not match")
    return anchor


# ---------------------------------------------------------------------- reading copies


def _copies(vault_id: str) -> list[bytes | str]:
    """Every stored copy of this vault's anchor (the file, the keychain), unchecked."""
    found: list[bytes | str] = []
    path = _anchor_path(vault_id)
    with contextlib.suppress(FileNotFoundError), path.open("rb") as fh:
        found.append(fh.read(MAX_ANCHOR_BYTES + 1))
    if (text := _keyring_read(vault_id)) is not None:
        found.append(text)
    return found


def last_seen_unchecked(vault_id: str) -> Anchor | None:
    """The furthest-ahead anchor, by its shape alone (for messages needing no key)."""
    best: Anchor | None = None
    with contextlib.suppress(OSError):
        for raw in _copies(vault_id):
            with contextlib.suppress(Unreadable):
                anchor = _fields(raw)[0]
                if anchor.vault_id == vault_id and (best is None or anchor.seq > best.seq):
                    best = anchor
    return best


# ---------------------------------------------------------------------- the vault's side


def _head(vault: Vault) -> tuple[int, str, str]:
    rows = vault._read("SELECT seq, hash, at FROM audit ORDER BY seq DESC LIMIT 1")
    return (int(rows[0][0]), str(rows[0][1]), str(rows[0][2])) if rows else (0, "", "")


def _captures(vault: Vault) -> int:
    return int(vault._read("SELECT count(*) FROM capture")[0][0])


def _hash_at(vault: Vault, seq: int) -> str | None:
    rows = vault._read("SELECT hash FROM audit WHERE seq = ?", (seq,))
    return str(rows[0][0]) if rows else None


def _store(vault: Vault, *, keychain: bool) -> None:
    """Move the anchor to the vault's committed head. Never raises: a lagging anchor is
    weaker, not wrong, and a write the vault already committed must not look failed."""
    history = vault.history
    try:
        seq, digest, _at = _head(vault)
        if not seq or not history.key:
            return
        record = Anchor(vault.vault_id, seq, digest, _captures(vault),
                        history.opened_at or iso_utc(utc_now()), iso_utc(utc_now()))
        data = encode(record, history.key)
        _ensure_dir()
        fsutil.atomic_write_bytes(_anchor_path(vault.vault_id), data)
        history.record = record
    except Exception as exc:
        _log.warning("The history anchor could not be saved (%s).", type(exc).__name__)
        return
    if keychain:
        _keyring_write(vault.vault_id, data.decode())


def after_commit(vault: Vault) -> None:
    """Called by the vault after every committed write: the file copy follows at once."""
    if vault.history.following:
        _store(vault, keychain=False)


def started(vault: Vault) -> None:
    """A vault was just created here: its first anchor."""
    history = vault.history
    history.key = mac_key(vault._data_key)
    history.opened_at = iso_utc(utc_now())
    history.following = True
    history.checked = True  # made in this session: there is no older state to be behind
    _store(vault, keychain=True)


def check(vault: Vault, restored: dict[str, Any] | None = None) -> None:
    """At unlock, before anything is written: compare the vault with what this computer saw.

    ``restored`` is the marker :func:`mark_restored` left if this very database file was
    just restored from a backup on purpose.
    """
    history = vault.history
    history.key = mac_key(vault._data_key)
    history.opened_at = iso_utc(utc_now())
    with contextlib.suppress(OSError):
        for name in (f"{_safe_id(vault.vault_id)}.json", _next_path(vault.vault_id).name):
            fsutil.remove_stale_temps(anchors_dir(), name)
    valid: list[Anchor] = []
    unreadable = False
    try:
        copies = _copies(vault.vault_id)
    except OSError:
        copies, unreadable = [], True
    for raw in copies:
        try:
            valid.append(decode(raw, history.key, vault.vault_id))
        except Unreadable:
            unreadable = True
    # A "Change all keys" cut off near its commit point leaves one anchor under each key:
    # the one that reads under the key the vault has now is the true one, and the other
    # copies were simply signed under the key it replaced.
    pending = _take_next(vault.vault_id)
    if pending is not None:
        try:
            valid.append(decode(pending, history.key, vault.vault_id))
            unreadable = False
        except Unreadable:
            pass  # the change did not commit: this copy was for keys never used
    # A copy this vault's own log says was knowingly left behind (an older copy accepted,
    # a backup restored) is not a reason to warn, even if the keychain could not be
    # updated at the time. An even older copy put back would not hold that entry.
    left_behind = _accepted(vault)
    valid = [a for a in valid if (a.seq, a.hash) not in left_behind]
    best = max(valid, key=lambda a: a.seq, default=None)
    history.last_seen = best
    history.checked = best is not None
    history.first_here = best is None and not unreadable
    seq, _digest, at = _head(vault)
    captures = _captures(vault)
    behind = best is not None and _hash_at(vault, best.seq) != best.hash
    if restored is not None:
        _restored(vault, best, behind, restored, seq, captures)
        return
    if behind and best is not None:
        history.warning = _behind_warning(vault, best, seq, at, captures)
    elif unreadable:
        history.warning = HistoryWarning("unreadable", vault_seq=seq, vault_captures=captures)
        vault.record(ACTION_BEHIND, "vault", {"unreadable": True, "vault_seq": seq})
    history.following = history.warning is None


def _accepted(vault: Vault) -> set[tuple[int, str]]:
    rows = vault._read("SELECT details FROM audit WHERE action IN (?, ?)",
                       (ACTION_ACCEPTED, ACTION_RESTORED))
    found: set[tuple[int, str]] = set()
    for (details,) in rows:
        with contextlib.suppress(ValueError, TypeError, KeyError, AttributeError):
            doc = json.loads(details)
            if doc.get("anchor_hash") and doc.get("anchor_seq"):
                found.add((int(doc["anchor_seq"]), str(doc["anchor_hash"])))
    return found


def _behind_warning(vault: Vault, best: Anchor, seq: int, at: str,
                    captures: int) -> HistoryWarning:
    """The warning, from the first time this gap was found (kept in the log) if it was."""
    rows = vault._read("SELECT details FROM audit WHERE action = ? ORDER BY seq DESC",
                       (ACTION_BEHIND,))
    for (details,) in rows:
        with contextlib.suppress(ValueError, TypeError, KeyError):
            first = json.loads(details)
            if first.get("anchor_hash") == best.hash and first.get("anchor_seq") == best.seq:
                return HistoryWarning(
                    str(first["kind"]), best.seq, best.captures, best.updated,
                    int(first["vault_seq"]), int(first["vault_captures"]),
                    parse_iso_utc(first["copy_ends_at"]) if first.get("copy_ends_at") else None,
                    best.hash)
    kind = "behind" if seq < best.seq else "diverged"
    warning = HistoryWarning(kind, best.seq, best.captures, best.updated, seq, captures,
                             parse_iso_utc(at) if kind == "behind" and at else None, best.hash)
    vault.record(ACTION_BEHIND, "vault", {
        "kind": kind, "anchor_seq": best.seq, "anchor_hash": best.hash,
        "anchor_captures": best.captures, "anchor_at": best.updated_at,
        "vault_seq": seq, "vault_captures": captures,
        "copy_ends_at": at if kind == "behind" else None})
    return warning


def _restored(vault: Vault, best: Anchor | None, behind: bool, marker: dict[str, Any],
              seq: int, captures: int) -> None:
    """A backup restored on purpose: say once if it is older, log it, move the anchor."""
    made = str(marker.get("backup_created_at", ""))
    if behind and best is not None:
        with contextlib.suppress(ValueError):
            made = _local(parse_iso_utc(made))
        vault.history.notice = (
            f"You restored a backup made on {made or 'an earlier date'}. It is older than the "
            f"last time this vault was used on this computer ({_local(best.updated)}): captures "
            f"made after the backup was made are not in it. This computer last saw "
            f"{best.captures} captures; the restored vault holds {captures}. This is recorded "
            "in the audit log.")
    vault.record(ACTION_RESTORED, "vault", {
        "backup_created_at": marker.get("backup_created_at"),
        "database_sha256": marker.get("database_sha256"), "older": bool(behind),
        "anchor_seq": best.seq if best else None, "anchor_hash": best.hash if best else None,
        "anchor_captures": best.captures if best else None,
        "anchor_at": best.updated_at if best else None, "vault_seq": seq,
        "vault_captures": captures})
    vault.history.following = True


def opened(vault: Vault) -> None:
    """After the unlock was committed: the anchor moves to it, keychain copy included."""
    if vault.history.following:
        _store(vault, keychain=True)


def accept(vault: Vault, reason: str = "restored an older copy on purpose") -> None:
    """The person says this older copy is the one to keep: log it and move the anchor."""
    history = vault.history
    warning = history.warning
    if warning is None:
        return
    details: dict[str, Any] = {"reason": reason, "kind": warning.kind,
                               "anchor_seq": warning.anchor_seq,
                               "anchor_hash": warning.anchor_hash or None,
                               "anchor_captures": warning.anchor_captures,
                               "anchor_at": iso_utc(warning.anchor_at)
                               if warning.anchor_at else None}
    history.following = True
    vault.record(ACTION_ACCEPTED, "vault", details)  # its commit moves the file copy
    history.warning = None
    _store(vault, keychain=True)


def advance(vault: Vault) -> None:
    """Re-sign the anchor under the vault's *current* data key; call after a rekey.

    The MAC key comes from the data key, so after "Change all keys" every stored copy
    would read as unreadable. Where the vault is in step, the anchor moves to its head;
    where a warning is unresolved, the same (older-than-seen) record is re-signed
    unchanged, so the warning survives the rekey.
    """
    history = vault.history
    history.key = mac_key(vault._data_key)
    if history.following:
        _store(vault, keychain=True)
        return
    if history.last_seen is None:
        return
    try:
        data = encode(history.last_seen, history.key)
        _ensure_dir()
        fsutil.atomic_write_bytes(_anchor_path(vault.vault_id), data)
    except Exception as exc:
        _log.warning("The history anchor could not be saved (%s).", type(exc).__name__)
        return
    _keyring_write(vault.vault_id, data.decode())


rewrite = advance  # the name the rekey path may look for


def prepare_key_change(vault: Vault, new_data_key: bytes, head: tuple[int, str]) -> None:
    """Before "Change all keys" commits: the anchor as it will be, signed under the new key.

    ``head`` is the (seq, hash) the new copy of the database ends with. Kept beside the
    current anchor until :func:`advance` has re-signed that one, so a crash on either
    side of the commit never reads as a tampered anchor at the next unlock.
    """
    history = vault.history
    if history.following:
        record: Anchor | None = Anchor(vault.vault_id, head[0], head[1], _captures(vault),
                                       history.opened_at or iso_utc(utc_now()),
                                       iso_utc(utc_now()))
    else:
        record = history.last_seen  # an unresolved warning survives the change
    if record is None:
        return
    try:
        _ensure_dir()
        fsutil.atomic_write_bytes(_next_path(vault.vault_id),
                                  encode(record, mac_key(new_data_key)))
    except Exception as exc:
        _log.warning("The history anchor could not be saved (%s).", type(exc).__name__)


def finish_key_change(vault: Vault) -> None:
    """After "Change all keys" reopened the vault: every copy re-signed, the spare dropped."""
    advance(vault)
    with contextlib.suppress(OSError):
        _next_path(vault.vault_id).unlink()


def _take_next(vault_id: str) -> bytes | None:
    """Read and remove the spare anchor a key change left (see :func:`prepare_key_change`)."""
    path = _next_path(vault_id)
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_ANCHOR_BYTES + 1)
    except OSError:
        return None
    with contextlib.suppress(OSError):
        path.unlink()
    return raw


def closing(vault: Vault) -> None:
    """Before the vault forgets its key: bring the keychain copy up to date."""
    if vault.history.following:
        _store(vault, keychain=True)
    vault.history.key = b""


# ---------------------------------------------------------------------- restoring backups


def mark_restored(folder: Path, vault_id: str, database_sha256: str, created_at: str) -> None:
    """Left by a restore: the next open of exactly this database accepts it on purpose."""
    doc = {"folder": str(Path(folder).resolve()), "database_sha256": database_sha256,
           "backup_created_at": created_at, "restored_at": iso_utc(utc_now())}
    try:
        _ensure_dir()
        fsutil.atomic_write_bytes(_marker_path(vault_id), json.dumps(doc).encode())
    except OSError as exc:
        _log.warning("The restore marker could not be saved (%s).", type(exc).__name__)


def take_restore_marker(folder: Path, vault_id: str, db_path: Path) -> dict[str, Any] | None:
    """The restore marker, if ``db_path`` is still the very file restored; always removed.

    Read before the database is opened (opening writes to it). Hashing the file costs a
    read of the whole database, but only on the first open after a restore.
    """
    path = _marker_path(vault_id)
    try:
        raw = path.read_bytes()[:MAX_ANCHOR_BYTES]
    except OSError:
        return None
    with contextlib.suppress(OSError):
        path.unlink()
    try:
        marker = json.loads(raw)
        if not isinstance(marker, dict):
            return None
        if marker.get("folder") != str(Path(folder).resolve()):
            return None
        if Path(f"{db_path}-wal").exists() and Path(f"{db_path}-wal").stat().st_size:
            return None
        digest = hashlib.sha256()
        with db_path.open("rb") as fh:
            while block := fh.read(1024 * 1024):
                digest.update(block)
    except (OSError, ValueError):
        return None
    return marker if hmac.compare_digest(digest.hexdigest(),
                                         str(marker.get("database_sha256"))) else None


def restore_hint(vault_id: str, backup_created_at: str) -> str | None:
    """Said once by a restore, before any key is known: is this backup older than what
    this computer last saw? (From the anchor's times alone; the first open checks it.)"""
    seen = last_seen_unchecked(vault_id)
    if seen is None:
        return None
    try:
        made = parse_iso_utc(backup_created_at)
    except ValueError:
        return None
    if made >= seen.updated:
        return None
    return (f"This backup (made {_local(made)}) is older than the last time this vault was "
            f"used on this computer ({_local(seen.updated)}, holding {seen.captures} "
            "captures): captures made after the backup are not in it. Opening the restored "
            "vault records in its audit log that you restored it on purpose.")


def _local(moment: datetime) -> str:
    """A time in this computer's zone, as a person reads it."""
    return moment.astimezone().strftime("%d %B %Y at %H:%M %Z").lstrip("0")


__all__ = ["Anchor", "History", "HistoryWarning", "accept", "advance", "anchors_dir", "check",
           "closing", "mark_restored", "opened", "restore_hint", "rewrite", "started",
           "take_restore_marker"]
