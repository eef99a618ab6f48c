"""The vault's key file: two slots that each wrap the database's random data key.

The SQLCipher database is keyed with a random 256-bit *data key*. That key never
touches the disk in the clear: ``vault.key`` holds it wrapped twice with AES-256-GCM,

* once under a key derived from the passphrase with Argon2id (parameters stored in
  the slot, calibrated at creation to about half a second to a second), and
* once under a key derived from the *recovery key*, 160 random bits shown once at
  creation as eight groups of four characters.

Changing the passphrase rewrites only this file, atomically, so the database (and
every capture in it) is never re-encrypted and a crash leaves exactly one working
passphrase. A checksum over the file tells damage apart from a wrong passphrase.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from argon2.exceptions import Argon2Error
from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from evidence_recorder.core import fsutil
from evidence_recorder.core.errors import VaultDamaged, VaultNotFound, WrongSecret
from evidence_recorder.core.i18n import QT_TRANSLATE_NOOP
from evidence_recorder.core.paths import KEYFILE_NAME

FORMAT = "evidence-recorder-keyfile"
VERSION = 1
DATA_KEY_BYTES = 32
MAX_KEYFILE_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class KdfParams:
    """Argon2id cost. ``memory_cost`` is in KiB, as argon2 counts it."""

    time_cost: int
    memory_cost: int
    parallelism: int

    def as_dict(self) -> dict[str, int]:
        return {"time_cost": self.time_cost, "memory_cost": self.memory_cost,
                "parallelism": self.parallelism}


# The floor the product never goes below when it creates a slot: 64 MiB and two
# passes (OWASP's 2023 Argon2id guidance starts at 19 MiB and two passes).
KDF_FLOOR = KdfParams(time_cost=2, memory_cost=64 * 1024, parallelism=2)
KDF_MAX_MEMORY = 256 * 1024  # stays kind to a laptop with little memory
CALIBRATION_TARGET_SECONDS = 0.6  # lands between half a second and a second

# What a key file we made can hold. Costs outside these bounds mean damage (or a planted
# file), and are refused before Argon2 runs: 2 GiB or a billion passes would otherwise
# hang the app or exhaust memory instead of saying the file is damaged.
READ_MAX_TIME_COST = 10
READ_MIN_MEMORY = KDF_FLOOR.memory_cost  # 64 MiB
READ_MAX_MEMORY = 1024 * 1024  # 1 GiB
READ_MAX_PARALLELISM = 16
SALT_BYTES, NONCE_BYTES = 16, 12
WRAPPED_BYTES = DATA_KEY_BYTES + 16  # the data key and its GCM tag

# The tests' tiny Argon2id costs (tests/conftest.py, 8 KiB) are below READ_MIN_MEMORY.
# tests/conftest.py sets this variable for the test process and every process it
# starts, and nothing else does. It only lets a key file with costs the product never
# writes be read (a planted one gains nothing: the costs are part of the key that wraps
# the data key), and the upper bounds hold regardless.
TEST_TINY_KDF_ENV = "ER_TESTS_USE_TINY_KDF"


def _read_min_memory() -> int:
    return 1 if os.environ.get(TEST_TINY_KDF_ENV) == "1" else READ_MIN_MEMORY


def _check_kdf_bounds(params: KdfParams) -> None:
    """Raise ValueError for costs no key file of ours holds (see READ_MAX_TIME_COST)."""
    for name, value in params.as_dict().items():
        if type(value) is not int:
            raise ValueError(name)
    if not 1 <= params.time_cost <= READ_MAX_TIME_COST:
        raise ValueError("time_cost")
    if not _read_min_memory() <= params.memory_cost <= READ_MAX_MEMORY:
        raise ValueError("memory_cost")
    if not 1 <= params.parallelism <= READ_MAX_PARALLELISM:
        raise ValueError("parallelism")


def derive_passphrase_key(passphrase: str, salt: bytes, params: KdfParams) -> bytes:
    return hash_secret_raw(
        passphrase.encode("utf-8"), salt, time_cost=params.time_cost,
        memory_cost=params.memory_cost, parallelism=params.parallelism,
        hash_len=32, type=Type.ID,
    )


def calibrate_kdf(target: float = CALIBRATION_TARGET_SECONDS) -> KdfParams:
    """Find Argon2id costs that take about ``target`` seconds here, never below the floor.

    Memory is raised first (it is what makes guessing on graphics cards expensive),
    then passes, so that unlocking takes between half a second and a second.
    """
    params = KDF_FLOOR
    salt = secrets.token_bytes(16)
    while True:
        start = time.perf_counter()
        derive_passphrase_key("calibration", salt, params)
        elapsed = time.perf_counter() - start
        if elapsed >= target:
            return params
        factor = min(4.0, max(1.25, target / max(elapsed, 1e-3)))
        if params.memory_cost < KDF_MAX_MEMORY:
            memory = min(KDF_MAX_MEMORY, int(params.memory_cost * factor))
            params = dataclasses.replace(params, memory_cost=memory)
        elif params.time_cost >= READ_MAX_TIME_COST:
            return params  # a very fast machine: more passes would be read as damage
        else:
            passes = params.time_cost + max(1, int(params.time_cost * (factor - 1)))
            params = dataclasses.replace(params, time_cost=min(READ_MAX_TIME_COST, passes))


# ---------------------------------------------------------------- recovery keys

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CROCKFORD_ALIASES = {"O": "0", "I": "1", "L": "1"}
RECOVERY_BYTES = 20  # 160 bits: 32 characters, eight groups of four


def new_recovery_key() -> str:
    """A fresh recovery key in easy-to-copy groups, e.g. ``7K2M-9QXD-...``."""
    value = int.from_bytes(secrets.token_bytes(RECOVERY_BYTES), "big")
    chars = "".join(_CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(32)))
    return "-".join(chars[i : i + 4] for i in range(0, 32, 4))


def parse_recovery_key(text: str) -> bytes:
    """Read a recovery key as a person typed it: any case, spaces or dashes, O for 0."""
    cleaned = "".join(ch for ch in text.upper() if ch not in " -\t\r\n")
    cleaned = "".join(_CROCKFORD_ALIASES.get(ch, ch) for ch in cleaned)
    if len(cleaned) != 32 or any(ch not in _CROCKFORD for ch in cleaned):
        raise WrongSecret(
            QT_TRANSLATE_NOOP("EvidenceError", "That is not a recovery key: it should be eight "
                                               "groups of four letters and digits.")
        )
    value = 0
    for ch in cleaned:
        value = (value << 5) | _CROCKFORD.index(ch)
    return value.to_bytes(RECOVERY_BYTES, "big")


def _recovery_wrapping_key(recovery: bytes, salt: bytes) -> bytes:
    # 160 random bits need no slow KDF; HKDF binds the key to this slot's salt.
    return HKDF(hashes.SHA256(), 32, salt, b"evidence-recorder recovery slot").derive(recovery)


# ---------------------------------------------------------------- the key file


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: object) -> bytes:
    if not isinstance(text, str):
        raise ValueError("not base64 text")
    return base64.b64decode(text.encode("ascii"), validate=True)


def _checksum(body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(canonical).hexdigest()


_DAMAGED = QT_TRANSLATE_NOOP("EvidenceError", "The vault's key file (vault.key) is damaged, "
                                              "so the vault cannot be opened. Restore "
                                              "vault.key from a backup copy of the vault "
                                              "folder.")


@dataclass(frozen=True, slots=True)
class KeyFile:
    vault_id: str
    passphrase_slot: dict[str, Any]
    recovery_slot: dict[str, Any]

    # -- creation and re-wrapping

    @classmethod
    def create(cls, data_key: bytes, passphrase: str, params: KdfParams) -> tuple[KeyFile, str]:
        vault_id = secrets.token_hex(16)
        recovery = new_recovery_key()
        recovery_slot = _wrap_recovery(vault_id, data_key, parse_recovery_key(recovery))
        keyfile = cls(vault_id, _wrap_passphrase(vault_id, data_key, passphrase, params),
                      recovery_slot)
        return keyfile, recovery

    def with_passphrase(self, data_key: bytes, passphrase: str, params: KdfParams) -> KeyFile:
        """The same file with a new passphrase slot; the recovery slot is kept."""
        return KeyFile(self.vault_id, _wrap_passphrase(self.vault_id, data_key, passphrase,
                                                       params), self.recovery_slot)

    def with_new_keys(self, data_key: bytes, passphrase: str,
                      params: KdfParams) -> tuple[KeyFile, str]:
        """The same vault with everything new: the data key, the passphrase and a new
        recovery key (returned, to show once). Nothing in it opens with the old ones."""
        recovery = new_recovery_key()
        recovery_slot = _wrap_recovery(self.vault_id, data_key, parse_recovery_key(recovery))
        return KeyFile(self.vault_id, _wrap_passphrase(self.vault_id, data_key, passphrase,
                                                       params), recovery_slot), recovery

    # -- unlocking

    def unlock_with_passphrase(self, passphrase: str) -> bytes:
        slot = self.passphrase_slot
        params = KdfParams(slot["time_cost"], slot["memory_cost"], slot["parallelism"])
        try:
            _check_kdf_bounds(params)  # checked on reading too; a KeyFile can be built by hand
            kek = derive_passphrase_key(passphrase, _unb64(slot["salt"]), params)
        except (ValueError, Argon2Error) as exc:
            raise VaultDamaged(_DAMAGED) from exc
        return _unwrap(self.vault_id, "passphrase", slot, kek,
                       "That passphrase does not open this vault.")

    def unlock_with_recovery(self, recovery_key: str) -> bytes:
        slot = self.recovery_slot
        kek = _recovery_wrapping_key(parse_recovery_key(recovery_key), _unb64(slot["salt"]))
        return _unwrap(self.vault_id, "recovery", slot, kek,
                       "That recovery key does not open this vault.")

    # -- reading and writing

    def to_bytes(self) -> bytes:
        body = {"format": FORMAT, "version": VERSION, "vault_id": self.vault_id,
                "slots": {"passphrase": self.passphrase_slot, "recovery": self.recovery_slot}}
        return (json.dumps({**body, "checksum": _checksum(body)}, indent=2) + "\n").encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> KeyFile:
        try:
            doc = json.loads(raw.decode("utf-8"))
            if not isinstance(doc, dict) or doc.get("format") != FORMAT:
                raise ValueError("not a key file")
            checksum = doc.pop("checksum", None)
            if checksum != _checksum(doc):
                raise ValueError("checksum")
            if doc.get("version") != VERSION:
                raise ValueError("version")
            slots = doc["slots"]
            keyfile = cls(str(doc["vault_id"]), dict(slots["passphrase"]),
                          dict(slots["recovery"]))
            for slot in (keyfile.passphrase_slot, keyfile.recovery_slot):
                if (len(_unb64(slot["salt"])) != SALT_BYTES
                        or len(_unb64(slot["nonce"])) != NONCE_BYTES
                        or len(_unb64(slot["wrapped"])) != WRAPPED_BYTES):
                    raise ValueError("slot sizes")
            slot = keyfile.passphrase_slot
            _check_kdf_bounds(KdfParams(slot["time_cost"], slot["memory_cost"],
                                        slot["parallelism"]))
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            raise VaultDamaged(_DAMAGED) from exc
        return keyfile

    @classmethod
    def load(cls, folder: Path) -> KeyFile:
        path = folder / KEYFILE_NAME
        try:
            with path.open("rb") as fh:
                raw = fh.read(MAX_KEYFILE_BYTES + 1)
        except FileNotFoundError as exc:
            raise VaultNotFound(
                f"There is no vault in {folder}: the key file vault.key is missing."
            ) from exc
        except OSError as exc:
            raise VaultDamaged(f"The vault's key file could not be read ({exc.strerror}).") from exc
        if len(raw) > MAX_KEYFILE_BYTES:
            raise VaultDamaged(QT_TRANSLATE_NOOP("EvidenceError",
                    "The vault's key file (vault.key) is not a key file we made."))
        return cls.from_bytes(raw)

    def save(self, folder: Path) -> None:
        """Replace the key file atomically: temp file, fsync, rename, fsync the folder."""
        fsutil.atomic_write_bytes(folder / KEYFILE_NAME, self.to_bytes())


def _aad(vault_id: str, slot_type: str) -> bytes:
    return f"{FORMAT}|{VERSION}|{vault_id}|{slot_type}".encode()


def _wrap(vault_id: str, slot_type: str, kek: bytes, data_key: bytes) -> dict[str, str]:
    nonce = os.urandom(12)
    wrapped = AESGCM(kek).encrypt(nonce, data_key, _aad(vault_id, slot_type))
    return {"cipher": "aes-256-gcm", "nonce": _b64(nonce), "wrapped": _b64(wrapped)}


def _wrap_passphrase(vault_id: str, data_key: bytes, passphrase: str,
                     params: KdfParams) -> dict[str, Any]:
    salt = secrets.token_bytes(16)
    kek = derive_passphrase_key(passphrase, salt, params)
    return {"kdf": "argon2id", "salt": _b64(salt), **params.as_dict(),
            **_wrap(vault_id, "passphrase", kek, data_key)}


def _wrap_recovery(vault_id: str, data_key: bytes, recovery: bytes) -> dict[str, Any]:
    salt = secrets.token_bytes(16)
    kek = _recovery_wrapping_key(recovery, salt)
    return {"kdf": "hkdf-sha256", "salt": _b64(salt), **_wrap(vault_id, "recovery", kek, data_key)}


def _unwrap(vault_id: str, slot_type: str, slot: dict[str, Any], kek: bytes,
            wrong: str) -> bytes:
    try:
        data_key = AESGCM(kek).decrypt(_unb64(slot["nonce"]), _unb64(slot["wrapped"]),
                                       _aad(vault_id, slot_type))
    except InvalidTag as exc:
        raise WrongSecret(wrong) from exc
    if len(data_key) != DATA_KEY_BYTES:
        raise VaultDamaged(QT_TRANSLATE_NOOP("EvidenceError", "The vault's key file holds a key of "
                                                              "the wrong size."))
    return data_key
