"""Bundles someone sent, kept byte for byte so that their seal can be checked again later.

What the headteacher opens in the app is stored here, in ``received_bundle`` and
``received_chunk`` rows (never changed once written, see :mod:`schema`), with an audit
entry each; :mod:`verify` re-hashes them. :class:`~store.Vault` keeps the methods the app
calls (``add_received_bundle`` and its neighbours), which run these.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from evidence_recorder.core.errors import EvidenceError, NotFound, RefusedInput
from evidence_recorder.core.model import MAX_TEXT, iso_utc, parse_iso_utc, utc_now
from evidence_recorder.core.vault.items import ChunkReader
from evidence_recorder.core.vault.store import Vault, _append, _clean_text

RECEIVED_CHUNK = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ReceivedBundle:
    id: int
    file_name: str
    byte_size: int
    sha256: str
    received_at: datetime
    verdict: dict[str, Any]


def add_received_bundle(vault: Vault, path: Path,
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
        with Path(path).open("rb") as source, vault._write() as cur:
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
                        lambda seq: _received_chunk(vault, bundle_id, seq), size,
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


def received_bundles(vault: Vault) -> list[ReceivedBundle]:
    rows = vault._read("SELECT id, file_name, byte_size, sha256, received_at, verdict "
                       "FROM received_bundle ORDER BY received_at, id")
    return [ReceivedBundle(r[0], r[1], r[2], r[3], parse_iso_utc(r[4]), json.loads(r[5]))
            for r in rows]


def received_bundle_file(vault: Vault, bundle_id: int) -> io.BufferedReader:
    """A read-only, seekable file over a received bundle's bytes (for the zip reader)."""
    rows = vault._read("SELECT byte_size FROM received_bundle WHERE id = ?", (bundle_id,))
    if not rows:
        raise NotFound(f"There is no received bundle {bundle_id} in this vault.")
    return io.BufferedReader(ChunkReader(
        lambda seq: _received_chunk(vault, bundle_id, seq), int(rows[0][0]), RECEIVED_CHUNK))


def _received_chunk(vault: Vault, bundle_id: int, seq: int) -> bytes:
    rows = vault._read("SELECT bytes FROM received_chunk WHERE bundle_id = ? AND seq = ?",
                       (bundle_id, seq))
    return bytes(rows[0][0]) if rows else b""


def delete_received_bundle(vault: Vault, bundle_id: int, reason: str) -> None:
    reason = _clean_text(reason, "reason", MAX_TEXT).strip()
    if not reason:
        raise RefusedInput("Please give a reason; it is kept in the audit log.")
    found = [b for b in received_bundles(vault) if b.id == bundle_id]
    if not found:
        raise NotFound(f"There is no received bundle {bundle_id} in this vault.")
    with vault._write() as cur:
        cur.execute("DELETE FROM received_chunk WHERE bundle_id = ?", (bundle_id,))
        cur.execute("DELETE FROM received_bundle WHERE id = ?", (bundle_id,))
        _append(cur, "bundle.deleted", f"received:{bundle_id}",
                {"received": bundle_id, "sha256": found[0].sha256, "reason": reason})
