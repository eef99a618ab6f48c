"""The files an evidence item holds (artefacts): taking them in, reading them back,
and checking them against the audit log.

Split out of :mod:`store` (which keeps the public :class:`~store.Vault` methods) so
that neither module grows far past 600 lines. Functions here work on a cursor or a
connection inside the caller's transaction or lock; they never open one themselves.

An artefact's bytes live in ``artefact_chunk`` rows of :data:`schema.ARTEFACT_CHUNK`
bytes each (the last one shorter), so any size streams in and out with bounded memory.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import sqlcipher3

from evidence_recorder.core.errors import EvidenceError, RefusedInput
from evidence_recorder.core.model import (
    Artefact,
    ArtefactRole,
    AuditEntry,
    original_name,
)
from evidence_recorder.core.vault.schema import ARTEFACT_CHUNK

MAX_NAME = 255
_ROLES: dict[str, ArtefactRole] = {role.value: role for role in ArtefactRole}
ARTEFACT_COLUMNS = ("id, item_id, name, role, media_type, byte_size, sha256, derived_from, "
                    "is_primary")


@dataclass(frozen=True, slots=True)
class NewArtefact:
    """One file to keep with a new item: ``data`` is the bytes or a readable binary
    stream (read once, in chunks, while it is hashed; never held whole).

    ``sha256``, when given, is the hash the caller took the moment the bytes came into
    being; the vault refuses the item if what it read differs.
    """

    name: str
    role: ArtefactRole | str
    media_type: str
    data: bytes | BinaryIO
    primary: bool = False
    derived_from: str | None = None
    sha256: str | None = None


CHANGED_IN_MEMORY = ("The capture changed in memory before it was saved; "
                     "please capture again.")


def check_new(artefacts: Iterable[NewArtefact]) -> list[NewArtefact]:
    """The artefacts as they will be stored, or :class:`RefusedInput` saying why not."""
    found = list(artefacts)
    if not found:
        raise RefusedInput("An item needs at least one file to keep.")
    names: set[str] = set()
    for artefact in found:
        name = artefact.name
        if (not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME
                or name in (".", "..") or any(c in name for c in "/\\\x00")):
            raise RefusedInput(f"“{str(name)[:80]}” cannot be the name of a kept file.")
        if name in names:
            raise RefusedInput(f"Two files of one item are both called “{name}”.")
        names.add(name)
        if str(artefact.role) not in _ROLES:
            raise RefusedInput(f"“{artefact.role}” is not a kind of kept file.")
        if not isinstance(artefact.media_type, str) or not artefact.media_type \
                or len(artefact.media_type) > MAX_NAME:
            raise RefusedInput(f"The file “{name}” needs a media type.")
    if sum(1 for a in found if a.primary) != 1:
        raise RefusedInput("Exactly one of an item's files must be its main one.")
    for artefact in found:
        if artefact.derived_from is not None and (artefact.derived_from not in names
                                                  or artefact.derived_from == artefact.name):
            raise RefusedInput(f"The file “{artefact.name}” says it was made from a file the "
                               "item does not hold.")
    return found


def _full_chunks(data: bytes | BinaryIO) -> Iterator[bytes]:
    """``data`` in chunks of exactly ARTEFACT_CHUNK bytes (the last may be shorter)."""
    if isinstance(data, bytes | bytearray | memoryview):
        view = memoryview(data)
        for start in range(0, len(view), ARTEFACT_CHUNK):
            yield bytes(view[start:start + ARTEFACT_CHUNK])
        return
    while True:
        parts: list[bytes] = []
        got = 0
        while got < ARTEFACT_CHUNK:
            block = data.read(ARTEFACT_CHUNK - got)
            if not block:
                break
            parts.append(block)
            got += len(block)
        if not parts:
            return
        yield b"".join(parts)
        del parts
        if got < ARTEFACT_CHUNK:
            return


def write_chunks(cur: sqlcipher3.Cursor, artefact_id: int,
                 data: bytes | BinaryIO) -> tuple[int, str]:
    """Store ``data`` as the chunks of ``artefact_id``; return its size and SHA-256."""
    digest = hashlib.sha256()
    size = 0
    for seq, chunk in enumerate(_full_chunks(data)):
        digest.update(chunk)
        size += len(chunk)
        cur.execute("INSERT INTO artefact_chunk (artefact_id, seq, bytes) VALUES (?, ?, ?)",
                    (artefact_id, seq, chunk))
    return size, digest.hexdigest()


def row_to_artefact(r: tuple[Any, ...]) -> Artefact:
    return Artefact(id=int(r[0]), item_id=int(r[1]), name=r[2], role=_ROLES[r[3]],
                    media_type=r[4], size=int(r[5]), sha256=r[6], derived_from=r[7],
                    primary=bool(r[8]))


def audit_record(artefact: Artefact | dict[str, Any]) -> dict[str, Any]:
    """How the log records one artefact at intake (and how verify compares it)."""
    if isinstance(artefact, dict):
        return artefact
    return {"name": artefact.name, "role": artefact.role.value,
            "media_type": artefact.media_type, "size": artefact.size,
            "sha256": artefact.sha256, "primary": artefact.primary,
            "derived_from": artefact.derived_from}


class ChunkReader(io.RawIOBase):
    """Reads chunked bytes back out of the vault (an artefact or a received bundle), a
    chunk at a time, without copying the whole. ``fetch(seq)`` returns chunk ``seq``."""

    def __init__(self, fetch: Callable[[int], bytes], size: int,
                 chunk_size: int = ARTEFACT_CHUNK) -> None:
        super().__init__()
        self._fetch, self._size, self._chunk, self._pos = fetch, size, chunk_size, 0
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
            seq, offset = divmod(self._pos, self._chunk)
            if self._cached[0] != seq:
                self._cached = (seq, self._fetch(seq))
            chunk = self._cached[1][offset:]
            if not chunk:
                break
            n = min(len(chunk), len(view) - done)
            view[done:done + n] = chunk[:n]
            done += n
            self._pos += n
        return done


def stored_hash(conn: sqlcipher3.Connection, artefact_id: int) -> tuple[int, str, bool]:
    """Size and SHA-256 of what is stored now, chunk by chunk; and whether the chunks
    run 0, 1, 2… with none missing."""
    digest = hashlib.sha256()
    size, expected_seq, whole = 0, 0, True
    last = -1
    while True:
        row = conn.execute("SELECT seq, bytes FROM artefact_chunk WHERE artefact_id = ? "
                           "AND seq > ? ORDER BY seq LIMIT 1", (artefact_id, last)).fetchone()
        if row is None:
            break
        last = int(row[0])
        whole = whole and last == expected_seq
        expected_seq += 1
        digest.update(row[1])
        size += len(row[1])
    return size, digest.hexdigest(), whole


def replay(entries: list[AuditEntry]) -> dict[int, dict[str, dict[str, Any]]]:
    """Each live item's artefacts as the log recorded them at intake, by name.

    Entries written before items held artefacts (schema 3 and older) recorded one
    original: it is the artefact the schema-4 migration named ``original.<ext>``.
    Entries that cannot be read are left to :func:`verify._replay`, which names them.
    """
    state: dict[int, dict[str, dict[str, Any]]] = {}
    for entry in entries:
        d = entry.details
        try:
            if entry.action == "capture.added":
                listed = d.get("artefacts")
                if listed is None:
                    listed = [{"name": original_name(str(d["media_type"])), "role": "original",
                               "media_type": d["media_type"], "size": d["byte_size"],
                               "sha256": d["sha256"], "primary": True, "derived_from": None}]
                state[int(d["capture"])] = {str(a["name"]): dict(a) for a in listed}
            elif entry.action == "capture.deleted":
                state.pop(int(d["capture"]), None)
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
    return state


def check_item(conn: sqlcipher3.Connection, item_id: int, have: list[Artefact],
               want: dict[str, dict[str, Any]] | None, problems: list[str]) -> None:
    """Re-hash every artefact of one item (streaming) and compare it with its row and
    with the log. ``want`` is None when the item itself is not in the log (named
    elsewhere): then each artefact is still checked against its own row."""
    by_name = {a.name: a for a in have}
    for artefact in have:
        size, digest, whole = stored_hash(conn, artefact.id)
        recorded = (want or {}).get(artefact.name)
        if want is not None and recorded is None:
            problems.append(f"Capture {item_id}: it holds a file “{artefact.name}” that the "
                            "audit log does not record: it was added outside Evidence "
                            "Recorder.")
        elif recorded is not None and audit_record(artefact) != recorded:
            problems.append(f"Capture {item_id}: the record of its file “{artefact.name}” "
                            "was changed outside Evidence Recorder.")
        wanted_sha = recorded["sha256"] if recorded is not None else artefact.sha256
        if not whole or digest != artefact.sha256 or digest != wanted_sha \
                or size != artefact.size:
            problems.append(changed(item_id, artefact.name, artefact.role))
    for name, recorded in sorted((want or {}).items()):
        if name not in by_name:
            problems.append(missing(item_id, name, str(recorded.get("role"))))


def changed(item_id: int, name: str, role: str) -> str:
    if role == ArtefactRole.ORIGINAL:
        return (f"Capture {item_id}: its original image no longer matches the SHA-256 "
                "recorded when it was captured.")
    return (f"Capture {item_id}: its file “{name}” no longer matches the SHA-256 recorded "
            "when it was saved.")


def missing(item_id: int, name: str, role: str) -> str:
    if role == ArtefactRole.ORIGINAL:
        return f"Capture {item_id}: its original image is missing."
    return f"Capture {item_id}: its file “{name}” is missing."


def unknown_name(item_id: int, name: str, names: list[str]) -> EvidenceError:
    listed = ", ".join(names) if names else "none"
    return EvidenceError(f"Capture {item_id} holds no file called “{name}”. "
                         f"Its files are: {listed}.")
