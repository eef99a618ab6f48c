"""The audit log's hash chain: how an entry is encoded, hashed and checked.

Each entry's hash is SHA-256 over a canonical JSON encoding of its sequence number,
time, action, subject, details and the previous entry's hash, so that changing,
removing or reordering any entry breaks every hash after it. The vault appends
entries in the same transaction as the change they describe.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from evidence_recorder.core.model import AuditEntry

GENESIS_HASH = "0" * 64


def canonical(seq: int, at: str, action: str, subject: str, details: dict[str, Any],
              prev_hash: str) -> bytes:
    """Sorted keys, no spaces, UTF-8: the same bytes on every platform and version."""
    doc = {"seq": seq, "at": at, "action": action, "subject": subject, "details": details,
           "prev_hash": prev_hash}
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(seq: int, at: str, action: str, subject: str, details: dict[str, Any],
               prev_hash: str) -> str:
    return hashlib.sha256(canonical(seq, at, action, subject, details, prev_hash)).hexdigest()


def first_broken(entries: Iterable[AuditEntry], start_prev: str = GENESIS_HASH,
                 start_seq: int = 1) -> tuple[int, str] | None:
    """The first entry that does not follow from the ones before it, and why; else None."""
    prev, expected_seq = start_prev, start_seq
    for entry in entries:
        if entry.seq != expected_seq:
            return entry.seq, f"entry {expected_seq} is missing (the next one is {entry.seq})"
        if entry.prev_hash != prev:
            return entry.seq, f"entry {entry.seq} does not link to the entry before it"
        actual = entry_hash(entry.seq, entry.at, entry.action, entry.subject, entry.details,
                            entry.prev_hash)
        if actual != entry.hash:
            return entry.seq, f"entry {entry.seq} was changed after it was written"
        prev, expected_seq = entry.hash, entry.seq + 1
    return None
