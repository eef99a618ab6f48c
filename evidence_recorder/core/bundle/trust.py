"""The root certificates a timestamp must chain to before it is called "trusted".

Three sources, read each time a bundle is checked:

* bundled: Mozilla's root program as shipped by the ``certifi`` package, so the
  verdict is the same on every computer that runs this version of the program;
* system: the operating system's bundle where a readable one exists (Debian,
  Ubuntu, Fedora, macOS/BSD paths below); on Windows only the bundled roots;
* imported: PEM files the user added with ``evidence-recorder trust add``, kept
  in the ``timestamp-roots`` folder beside the settings file (so the
  ``EVIDENCE_RECORDER_CONFIG`` override moves them too).

Only certificate-authority certificates are accepted for import, one file each,
named by their SHA-256 fingerprint. Nothing here is evidence; no file is
decrypted or captured content.
"""

from __future__ import annotations

import contextlib
import re
import warnings
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding

from evidence_recorder.core import fsutil
from evidence_recorder.core.errors import NotFound, RefusedInput
from evidence_recorder.core.i18n import QT_TRANSLATE_NOOP
from evidence_recorder.core.settings import settings_path

ROOTS_FOLDER = "timestamp-roots"
MAX_ROOT_FILE_BYTES = 64 * 1024  # a certificate is 1-3 KiB
MAX_IMPORTED_ROOTS = 100
MAX_BUNDLE_BYTES = 4 * 1024 * 1024  # the OS bundle is ~200 KiB
SYSTEM_BUNDLES = (
    Path("/etc/ssl/certs/ca-certificates.crt"),  # Debian, Ubuntu, Arch, Alpine
    Path("/etc/pki/tls/certs/ca-bundle.crt"),  # Fedora, RHEL
    Path("/etc/ssl/cert.pem"),  # macOS, BSDs
)
_PEM = re.compile(rb"-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----")


@dataclass(frozen=True)
class ImportedRoot:
    """A root the user added, as ``trust list`` shows it."""

    fingerprint: str  # SHA-256, hex, upper case, no separators
    subject: str
    not_after: datetime
    certificate: x509.Certificate


def roots_folder() -> Path:
    return settings_path().parent / ROOTS_FOLDER


def fingerprint(certificate: x509.Certificate) -> str:
    return certificate.fingerprint(hashes.SHA256()).hex().upper()


def trusted_roots() -> list[x509.Certificate]:
    """Every root a timestamp may chain to: bundled, system and imported, without repeats."""
    unique: dict[bytes, x509.Certificate] = {}
    for certificate in (*bundled_roots(), *system_roots(),
                        *(root.certificate for root in imported_roots())):
        unique.setdefault(certificate.fingerprint(hashes.SHA256()), certificate)
    return list(unique.values())


@lru_cache(maxsize=1)
def bundled_roots() -> tuple[x509.Certificate, ...]:
    """Mozilla's roots via certifi; empty (not an error) if certifi is missing its file."""
    try:
        import certifi

        return tuple(_read_pem_bundle(Path(certifi.where())))
    except (ImportError, OSError):
        return ()


@lru_cache(maxsize=1)
def system_roots() -> tuple[x509.Certificate, ...]:
    """The first readable system bundle's roots (none on systems without one)."""
    for path in SYSTEM_BUNDLES:
        with contextlib.suppress(OSError):
            if path.is_file():
                return tuple(_read_pem_bundle(path))
    return ()


def imported_roots() -> list[ImportedRoot]:
    """The roots the user added; unreadable or oversized files are skipped, not fatal."""
    folder = roots_folder()
    found: list[ImportedRoot] = []
    with contextlib.suppress(OSError):
        for path in sorted(folder.glob("*.pem"))[:MAX_IMPORTED_ROOTS]:
            with contextlib.suppress(OSError, ValueError):
                if path.stat().st_size > MAX_ROOT_FILE_BYTES:
                    continue
                certificates = _certificates_in(path.read_bytes())
                if len(certificates) == 1 and _is_authority(certificates[0]):
                    found.append(_describe(certificates[0]))
    return found


def add_root(path: Path) -> list[ImportedRoot]:
    """Import the authority certificate(s) in ``path`` (PEM or DER); return what was added.

    Raises :class:`RefusedInput` with a plain sentence for anything that is not a
    certificate authority's certificate.
    """
    try:
        size = path.stat().st_size
        if size > MAX_ROOT_FILE_BYTES:
            raise RefusedInput(
                QT_TRANSLATE_NOOP("EvidenceError", "That file is too large to be a root "
                                                   "certificate."))
        data = path.read_bytes()
    except OSError:
        raise RefusedInput(f"{path.name} could not be read.") from None
    certificates = _certificates_in(data)
    if not certificates:
        raise RefusedInput(f"{path.name} does not hold a certificate (PEM or DER).")
    if not all(_is_authority(c) for c in certificates):
        raise RefusedInput(f"{path.name} holds a certificate that is not a certificate "
                           "authority's, so it cannot be trusted as a root. Ask the "
                           "time-stamping service for its root certificate.")
    existing = {root.fingerprint for root in imported_roots()}
    if len(existing | {fingerprint(c) for c in certificates}) > MAX_IMPORTED_ROOTS:
        raise RefusedInput(f"No more than {MAX_IMPORTED_ROOTS} root certificates can be "
                           "trusted this way. Remove some first.")
    folder = roots_folder()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    added = []
    for certificate in certificates:
        described = _describe(certificate)
        target = folder / f"{described.fingerprint}.pem"
        if not target.exists():
            fsutil.atomic_write_bytes(target, certificate.public_bytes(Encoding.PEM))
        added.append(described)
    return added


def remove_root(wanted: str) -> ImportedRoot:
    """Stop trusting the imported root whose fingerprint is, or starts with, ``wanted``."""
    cleaned = re.sub(r"[\s:]", "", wanted).upper()
    if cleaned.startswith("SHA256"):
        cleaned = cleaned[len("SHA256"):]
    matches = [root for root in imported_roots()
               if len(cleaned) >= 8 and root.fingerprint.startswith(cleaned)]
    if not matches:
        raise NotFound("No imported root certificate has that fingerprint. "
                       "`evidence-recorder trust list` shows them.")
    if len(matches) > 1:
        raise RefusedInput("More than one imported root certificate starts with that "
                           "fingerprint: give more of it.")
    (roots_folder() / f"{matches[0].fingerprint}.pem").unlink()
    return matches[0]


def _describe(certificate: x509.Certificate) -> ImportedRoot:
    subject = certificate.subject.rfc4514_string()
    printable = "".join(ch if ch.isprintable() else "?" for ch in subject)[:200]
    return ImportedRoot(fingerprint=fingerprint(certificate), subject=printable,
                        not_after=certificate.not_valid_after_utc, certificate=certificate)


def _is_authority(certificate: x509.Certificate) -> bool:
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    except (x509.ExtensionNotFound, ValueError):
        return False
    return constraints.value.ca


def _certificates_in(data: bytes) -> list[x509.Certificate]:
    """The certificates in a PEM file, or the one in a DER file; unreadable ones left out."""
    blocks = _PEM.findall(data)
    found = []
    with warnings.catch_warnings():  # old roots with odd encodings make cryptography warn
        warnings.simplefilter("ignore")
        if not blocks:
            with contextlib.suppress(ValueError):
                found.append(x509.load_der_x509_certificate(data))
        for block in blocks:
            with contextlib.suppress(ValueError):
                found.append(x509.load_pem_x509_certificate(block))
    return found


def _read_pem_bundle(path: Path) -> list[x509.Certificate]:
    if path.stat().st_size > MAX_BUNDLE_BYTES:
        return []
    return _certificates_in(path.read_bytes())
