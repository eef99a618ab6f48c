"""The seal number: a seal's key as twelve groups of five digits, to read out by phone.

The ``SHA256:…`` fingerprint is 43 case-sensitive base64 characters (l, I, 1, 0 and O
among them), which nobody can read reliably over the phone. The seal number is derived
from the same key the way Signal derives its "safety numbers" (libsignal's
``NumericFingerprintGenerator``), so that a person reads digits instead:

1. ``key`` is the public key as SSH encodes it (``string "ssh-ed25519" || string raw``;
   the base64 in ``allowed_signers`` decoded), the same bytes the fingerprint hashes.
2. ``h = version || key || identifier``, with ``version`` = ``00 00`` (a 16-bit
   big-endian 0) and ``identifier`` = ``b"evidence-recorder-seal"``.
3. 5200 times: ``h = SHA-512(h || key)``.
4. The first 60 bytes of ``h`` in twelve 5-byte chunks; each chunk as a big-endian
   integer, modulo 100000, written as five digits (leading zeros kept).

docs/guide-police.md states the same; docs/verify/seal_number.py recomputes it with
the Python standard library alone, and the tests hold the three together.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:  # cryptography is loaded only when a key is turned into a number, so
    # the start window, which shows seal numbers' layout only, starts without it
    from evidence_recorder.core.bundle import sshsig

VERSION: Final = 0
IDENTIFIER: Final = b"evidence-recorder-seal"
ITERATIONS: Final = 5200  # Signal's count: more than 112 bits of security
GROUPS: Final = 12
GROUP_DIGITS: Final = 5
ROW_GROUPS: Final = 4  # shown as 3 rows of 4 groups


def seal_number_groups(key_blob: bytes) -> list[str]:
    """The twelve five-digit groups for the SSH public key blob ``key_blob``."""
    digest = VERSION.to_bytes(2, "big") + key_blob + IDENTIFIER
    for _ in range(ITERATIONS):
        digest = hashlib.sha512(digest + key_blob).digest()
    return [f"{int.from_bytes(digest[i * 5:i * 5 + 5], 'big') % 100000:05d}"
            for i in range(GROUPS)]


def seal_number(key: sshsig.Key | bytes) -> str:
    """``"12345 67890 …"``: twelve groups of five digits, separated by single spaces.

    ``key`` is an Ed25519 key (private or public) or the SSH public key blob.
    """
    if isinstance(key, bytes):
        blob = key
    else:
        from evidence_recorder.core.bundle import sshsig

        blob = sshsig.public_key_blob(key)
    return " ".join(seal_number_groups(blob))


def seal_number_rows(number: str) -> list[str]:
    """The number as three rows of four groups, for layouts that must not split a group."""
    groups = number.split()
    return [" ".join(groups[i:i + ROW_GROUPS]) for i in range(0, len(groups), ROW_GROUPS)]
