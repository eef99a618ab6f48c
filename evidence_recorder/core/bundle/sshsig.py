"""OpenSSH ``SSHSIG`` signatures with Ed25519, byte for byte as ``ssh-keygen -Y sign`` makes them.

A sealed bundle is signed in this format so that anyone can check it with the stock
``ssh-keygen -Y verify`` and nothing from us (see OpenSSH's ``PROTOCOL.sshsig``).
Ed25519 signatures are deterministic, so for the same key, namespace and data our
armored text is identical to ``ssh-keygen``'s; the tests hold us to that.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

MAGIC = b"SSHSIG"
VERSION = 1
KEY_TYPE = "ssh-ed25519"
BEGIN = "-----BEGIN SSH SIGNATURE-----"
END = "-----END SSH SIGNATURE-----"
LINE_LENGTH = 70  # ssh-keygen wraps the base64 at 70 columns (SSHSIG_LINE_LEN)
HASH_ALGORITHM = "sha512"  # what ssh-keygen -Y sign uses unless told otherwise
_HASHES = {"sha512": hashlib.sha512, "sha256": hashlib.sha256}
_MAX_ARMORED = 64 * 1024  # an Ed25519 signature is ~300 characters; refuse anything huge

Key = Ed25519PrivateKey | Ed25519PublicKey


def _string(value: bytes | str) -> bytes:
    """An SSH wire ``string``: a 32-bit big-endian length, then the bytes."""
    raw = value.encode() if isinstance(value, str) else value
    return struct.pack(">I", len(raw)) + raw


class _Reader:
    """Reads SSH wire fields; any overrun raises ValueError (a malformed signature)."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def take(self, count: int) -> bytes:
        if count < 0 or self._pos + count > len(self._data):
            raise ValueError("truncated")
        chunk = self._data[self._pos:self._pos + count]
        self._pos += count
        return chunk

    def uint32(self) -> int:
        value: int = struct.unpack(">I", self.take(4))[0]
        return value

    def string(self) -> bytes:
        return self.take(self.uint32())

    def done(self) -> bool:
        return self._pos == len(self._data)


def _public(key: Key) -> Ed25519PublicKey:
    return key.public_key() if isinstance(key, Ed25519PrivateKey) else key


def public_key_blob(key: Key) -> bytes:
    """The key as SSH encodes it on the wire: ``string "ssh-ed25519" || string raw``."""
    raw = _public(key).public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return _string(KEY_TYPE) + _string(raw)


def public_key_line(key: Key, comment: str = "") -> str:
    """``ssh-ed25519 AAAA... comment``, as in an ``.pub`` file or ``allowed_signers``."""
    line = f"{KEY_TYPE} {base64.b64encode(public_key_blob(key)).decode('ascii')}"
    return f"{line} {comment}" if comment else line


def parse_public_key(text: str) -> Ed25519PublicKey:
    """The key in ``ssh-ed25519 AAAA...`` (a comment may follow); ValueError if it is not one."""
    parts = text.split()
    if len(parts) < 2 or parts[0] != KEY_TYPE:
        raise ValueError("not an ssh-ed25519 public key")
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except binascii.Error as exc:
        raise ValueError("the public key is not valid base64") from exc
    return _key_from_blob(blob)


def _key_from_blob(blob: bytes) -> Ed25519PublicKey:
    reader = _Reader(blob)
    if reader.string() != KEY_TYPE.encode():
        raise ValueError("not an ssh-ed25519 public key")
    raw = reader.string()
    if len(raw) != 32 or not reader.done():
        raise ValueError("malformed ssh-ed25519 public key")
    return Ed25519PublicKey.from_public_bytes(raw)


def fingerprint(key: Key) -> str:
    """``SHA256:...`` exactly as ``ssh-keygen -l`` prints it (base64, no padding)."""
    digest = hashlib.sha256(public_key_blob(key)).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


def _signed_data(namespace: str, hash_algorithm: str, message_hash: bytes) -> bytes:
    return (MAGIC + _string(namespace) + _string(b"") + _string(hash_algorithm)
            + _string(message_hash))


def sign(private_key: Ed25519PrivateKey, data: bytes, namespace: str) -> str:
    """The armored signature of ``data`` that ``ssh-keygen -Y verify -n namespace`` accepts."""
    if not namespace:
        raise ValueError("an SSHSIG namespace must not be empty")
    message_hash = _HASHES[HASH_ALGORITHM](data).digest()
    raw_sig = private_key.sign(_signed_data(namespace, HASH_ALGORITHM, message_hash))
    blob = (MAGIC + struct.pack(">I", VERSION) + _string(public_key_blob(private_key))
            + _string(namespace) + _string(b"") + _string(HASH_ALGORITHM)
            + _string(_string(KEY_TYPE) + _string(raw_sig)))
    encoded = base64.b64encode(blob).decode("ascii")
    lines = [encoded[i:i + LINE_LENGTH] for i in range(0, len(encoded), LINE_LENGTH)]
    return "\n".join([BEGIN, *lines, END]) + "\n"


def signature_key(armored: str) -> Ed25519PublicKey:
    """The public key a signature names (not yet trusted); ValueError if malformed."""
    return _parse(armored)[0]


def _parse(armored: str) -> tuple[Ed25519PublicKey, str, str, bytes]:
    """(key, namespace, hash algorithm, raw signature) from armored text, or ValueError."""
    if len(armored) > _MAX_ARMORED:
        raise ValueError("signature too long")
    text = armored.strip()
    if not text.startswith(BEGIN) or not text.endswith(END):
        raise ValueError("not an SSH signature")
    body = "".join(text[len(BEGIN):-len(END)].split())
    try:
        blob = base64.b64decode(body, validate=True)
    except binascii.Error as exc:
        raise ValueError("the signature is not valid base64") from exc
    reader = _Reader(blob)
    if reader.take(len(MAGIC)) != MAGIC or reader.uint32() != VERSION:
        raise ValueError("not an SSHSIG version 1 signature")
    key = _key_from_blob(reader.string())
    namespace = reader.string().decode("utf-8", errors="replace")
    reader.string()  # reserved; ignored, as ssh-keygen does
    hash_algorithm = reader.string().decode("ascii", errors="replace")
    sig_reader = _Reader(reader.string())
    if not reader.done():
        raise ValueError("trailing data after the signature")
    if sig_reader.string() != KEY_TYPE.encode():
        raise ValueError("not an Ed25519 signature")
    raw_sig = sig_reader.string()
    if len(raw_sig) != 64 or not sig_reader.done():
        raise ValueError("malformed Ed25519 signature")
    return key, namespace, hash_algorithm, raw_sig


def verify(armored: str, data: bytes, namespace: str, public_key: Key) -> bool:
    """True only if ``armored`` is ``public_key``'s signature of ``data`` in ``namespace``.

    Malformed input is simply not a valid signature: this never raises for it.
    """
    try:
        key, sig_namespace, hash_algorithm, raw_sig = _parse(armored)
    except (ValueError, UnicodeError):
        return False
    if not hmac.compare_digest(public_key_blob(key), public_key_blob(public_key)):
        return False
    if sig_namespace != namespace or hash_algorithm not in _HASHES:
        return False
    message_hash = _HASHES[hash_algorithm](data).digest()
    try:
        key.verify(raw_sig, _signed_data(namespace, hash_algorithm, message_hash))
    except InvalidSignature:
        return False
    return True
