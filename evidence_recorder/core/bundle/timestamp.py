"""Trusted RFC 3161 timestamps over a sealed bundle's signature file.

This module owns asking a time-stamping authority (TSA) to vouch for when the
signature ``tagmanifest-sha256.txt.sig`` existed, and reading such a vouching
back. The TSA's answer is kept byte for byte as it arrived, because that file is
what a police officer hands to ``openssl ts -verify -in …tsr``; we never
re-encode it.

Parsing is done by ``rfc3161-client`` (a Rust ASN.1 parser, hostile input safe).
It insists on strict DER, while OpenSSL-based TSAs send the certificate SET in
chain order rather than sorted; that order is not covered by the TSA's
signature, so we sort it in a private copy before parsing.

Checking a token is three separate facts (:func:`check_timestamp`), because a
verdict must be exactly as strong as what was checked:

* integrity: the CMS signature verifies with the signer certificate the
  SignerInfo names (issuer and serial, or key identifier; never a guess from the
  certificate bag), and the signed messageDigest is the hash of the TSTInfo;
* binding: the TSTInfo's message imprint is the hash of this bundle's seal;
* trust: the signer's certificate, with the token's other certificates as
  untrusted intermediates, chains to a root the user relies on, valid at the
  token's own time, and is meant for timestamps (critical timeStamping EKU).

Integrity or binding failing is an error; trust failing only changes the words.
The CMS reading behind integrity (SignerInfo, signed attributes, the signature
itself, and the DER walk) lives in :mod:`cms`; this module keeps asking, binding,
trust and the verdict.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ssl
import time
import unicodedata
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    PolicyBuilder,
    Store,
)
from cryptography.x509.verification import VerificationError as ChainError
from rfc3161_client import (
    HashAlgorithm,
    PKIStatus,
    TimestampRequestBuilder,
    decode_timestamp_response,
)

from evidence_recorder.core.bundle.cms import (
    _DAMAGED,
    _SHA256,
    _check_integrity,
    _sorted_certificates,
)
from evidence_recorder.core.bundle.cms import (
    TimestampForged as TimestampForged,  # re-exported: callers catch it from here
)
from evidence_recorder.core.errors import EvidenceError, RefusedInput
from evidence_recorder.core.i18n import QT_TRANSLATE_NOOP
from evidence_recorder.core.model import iso_utc

MAX_RESPONSE_BYTES = 1024 * 1024  # a real answer is a few KiB; anything near this is hostile
CONTENT_TYPE_QUERY = "application/timestamp-query"
CONTENT_TYPE_REPLY = "application/timestamp-reply"
_CHUNK = 64 * 1024
_HASHES = {  # OID: (name for people, name for hashlib)
    "2.16.840.1.101.3.4.2.1": ("SHA-256", "sha256"),
    "2.16.840.1.101.3.4.2.2": ("SHA-384", "sha384"),
    "2.16.840.1.101.3.4.2.3": ("SHA-512", "sha512"),
}
_ACCEPTED = (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS)  # what openssl ts -verify accepts
_UNNAMED_TSA = "an unnamed time-stamping service"


class TimestampMismatch(EvidenceError):
    """A timestamp that vouches for other data than the signature beside it."""


class TimestampUntrusted(EvidenceError):
    """A timestamp whose signer does not chain to the certificates the user trusts."""


class StampState(StrEnum):
    """How far a timestamp whose signature and binding both checked can be relied on."""

    TRUSTED = "trusted"  # chains to a root the user relies on, valid at the stamp's time
    UNKNOWN_AUTHORITY = "unknown-authority"  # signed by an authority no trusted root vouches for
    NOT_TRUSTED = "not-trusted"  # a trusted root is involved, but something else fails


@dataclass(frozen=True)
class TimestampInfo:
    """What a timestamp token says, in the words a report shows."""

    time: datetime  # aware, UTC: when the TSA saw the signature
    tsa: str  # the TSA certificate's subject, e.g. "CN=Example TSA,O=Example"
    serial: int  # the TSA's serial number for this token
    hash_algorithm: str  # e.g. "SHA-256"


@dataclass(frozen=True)
class TimestampCheck:
    """A token whose signature and binding held, and how far its authority is trusted.

    Only ``state is StampState.TRUSTED`` allows the word "trusted"; otherwise
    ``reason`` says in plain words why not.
    """

    state: StampState
    info: TimestampInfo
    reason: str = ""

    @property
    def trusted(self) -> bool:
        return self.state is StampState.TRUSTED

    @property
    def time(self) -> datetime:
        return self.info.time

    @property
    def tsa(self) -> str:
        return self.info.tsa

    def sentence(self) -> str:
        """One plain sentence, as strong as what was checked and no stronger."""
        when = _iso(self.info.time)
        if self.state is StampState.TRUSTED:
            return (f"Trusted timestamp: {self.info.tsa} vouches that the bundle's seal "
                    f"existed, exactly as it is, at {when}. Its certificate chains to a root "
                    "certificate this computer trusts.")
        if self.state is StampState.UNKNOWN_AUTHORITY:
            return (f"The bundle contains a timestamp from an authority this computer does not "
                    f"know, claiming {when} from {self.info.tsa}. It belongs to this seal, but "
                    "the time is only the authority's claim until you check its root "
                    "certificate.")
        return (f"The bundle contains a timestamp claiming {when} from {self.info.tsa}, but it "
                f"cannot be trusted: {self.reason}")

    def as_dict(self) -> dict[str, object]:
        return {"state": self.state.value, "trusted": self.trusted,
                "time": _iso(self.info.time), "tsa": self.info.tsa,
                "serial": self.info.serial, "hash_algorithm": self.info.hash_algorithm,
                "reason": self.reason}


def request_timestamp(data: bytes, url: str, *, timeout: float = 20.0) -> bytes:
    """Have the TSA at ``url`` timestamp ``data``; return its DER answer exactly as received.

    The answer is checked before it is returned (granted, our hash, our nonce), so a
    stale, replayed or mixed-up answer never ends up in a bundle.
    """
    host = _service_host(url)
    not_timestamped = "so the bundle was not timestamped"
    if not data:
        raise RefusedInput(QT_TRANSLATE_NOOP("EvidenceError", "There is nothing to timestamp: the "
                                                              "signature file is empty."))
    query = (TimestampRequestBuilder()
             .data(data)
             .hash_algorithm(HashAlgorithm.SHA256)
             .nonce(nonce=True)
             .cert_request(cert_request=True)
             .build())
    body = _post(url, host, query.as_bytes(), timeout)
    garbled = (f"The time-stamping service at {host} sent an answer that is not a timestamp, "
               f"{not_timestamped}.")
    with _hostile_input(garbled):
        response = decode_timestamp_response(_sorted_certificates(body))
        status = response.status
        if status not in _ACCEPTED:
            raise EvidenceError(
                f"The time-stamping service at {host} refused the request "
                f"({_status_words(status)}), {not_timestamped}.")
        token = response.tst_info
        imprint = token.message_imprint
        ours = (imprint.hash_algorithm.dotted_string == _SHA256
                and imprint.message == query.message_imprint.message)
        nonce = token.nonce
    if not ours or nonce != query.nonce:
        raise EvidenceError(
            f"The time-stamping service at {host} answered for different data, "
            f"{not_timestamped}.")
    try:  # a token whose own signature fails would only be caught by the recipient
        check_timestamp(body, data)
    except EvidenceError:
        raise EvidenceError(
            f"The time-stamping service at {host} sent a timestamp whose signature cannot be "
            f"checked, {not_timestamped}.") from None
    return body


def check_timestamp(tsr: bytes, data: bytes, *, roots: Sequence[x509.Certificate] = (),
                    certificates: Sequence[x509.Certificate] = (),
                    prehashed: bool = False) -> TimestampCheck:
    """Check a stored TSA answer against ``data`` (the seal) and the trusted ``roots``.

    Raises :class:`TimestampForged` when its signature does not check (or cannot be
    checked), :class:`TimestampMismatch` when it vouches for other data, and
    :class:`RefusedInput` when it is not a timestamp at all. Otherwise the result
    says whether its authority chains to ``roots`` at the time it claims.
    ``certificates`` are extra untrusted ones (a signer certificate the token left
    out, intermediates); ``prehashed`` means ``data`` is already the digest.
    """
    if len(tsr) > MAX_RESPONSE_BYTES:
        raise RefusedInput(QT_TRANSLATE_NOOP("EvidenceError", "The timestamp file is too large to "
                                                              "be a timestamp."))
    tsr = _sorted_certificates(tsr)
    with _hostile_input("The timestamp file is damaged or is not a timestamp."):
        response = decode_timestamp_response(tsr)
        status = response.status
        if status not in _ACCEPTED:
            raise RefusedInput(
                QT_TRANSLATE_NOOP("EvidenceError", "The timestamp file holds the time-stamping "
                                                   "service's refusal, not a timestamp."))
        token = response.tst_info
        algorithm = token.message_imprint.hash_algorithm.dotted_string
        imprint = token.message_imprint.message
        when = token.gen_time
        serial = token.serial_number
        bag = [x509.load_der_x509_certificate(der) for der in response.signed_data.certificates]
        signers = list(response.signed_data.signer_infos)
    with _hostile_input(_DAMAGED):  # rfc3161-client reads some fields lazily
        signer = _check_integrity(tsr, signers, [*bag, *certificates])
    if algorithm not in _HASHES:  # SHA-1 and older are too weak to vouch for anything
        raise TimestampMismatch("The timestamp does not belong to this signature.")
    hash_name, hashlib_name = _HASHES[algorithm]
    expected = data if prehashed else hashlib.new(hashlib_name, data).digest()
    if not hmac.compare_digest(imprint, expected):
        raise TimestampMismatch("The timestamp does not belong to this signature.")
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    tsa = _printable(signer.subject.rfc4514_string()) or _UNNAMED_TSA
    info = TimestampInfo(time=when, tsa=tsa, serial=serial, hash_algorithm=hash_name)
    others = [c for c in [*bag, *certificates] if c != signer]
    try:
        state, reason = _judge_trust(signer, others, list(roots), when)
    except Exception:  # a damaged certificate in the bag; never a reason to trust
        state, reason = StampState.UNKNOWN_AUTHORITY, _UNKNOWN
    return TimestampCheck(state=state, info=info, reason=reason)


def inspect_timestamp(tsr: bytes, data: bytes, *, ca_pem: bytes | None = None) -> TimestampInfo:
    """Read a stored TSA answer, check its signature and that it vouches for ``data``.

    With ``ca_pem`` (PEM certificates of the TSA's root, and any intermediates) the
    TSA's certificate chain is checked too, at the time of the timestamp, and
    :class:`TimestampUntrusted` raised if it does not chain to them; without it
    the answer is only known to be an unaltered token for ``data``.
    """
    roots: list[x509.Certificate] = []
    if ca_pem is not None:
        try:
            roots = x509.load_pem_x509_certificates(ca_pem)
        except ValueError:
            raise RefusedInput(
                QT_TRANSLATE_NOOP("EvidenceError", "The file of trusted time-stamping "
                                                   "certificates cannot be read.")) from None
    check = check_timestamp(tsr, data, roots=roots)
    if ca_pem is not None and not check.trusted:
        raise TimestampUntrusted("The timestamp was not signed by a time-stamping service "
                                 "you trust.")
    return check.info


# --- HTTP -------------------------------------------------------------------------


def _service_host(url: str) -> str:
    """The TSA's host name for messages; refuse anything but an http(s) URL."""
    refused = RefusedInput(
        QT_TRANSLATE_NOOP("EvidenceError", "The time-stamping service address must be a web "
                                           "address starting with http:// or https://."))
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise refused from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise refused
    return _printable(parts.hostname)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirected POST turns into a GET without our query; report it rather than follow."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _post(url: str, host: str, query: bytes, timeout: float) -> bytes:
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked to be http(s)
        url, data=query, method="POST",
        headers={"Content-Type": CONTENT_TYPE_QUERY, "Accept": CONTENT_TYPE_REPLY,
                 "User-Agent": "Evidence Recorder"})
    opener = urllib.request.build_opener(_NoRedirect)
    ending = "so the bundle was not timestamped."
    deadline = time.monotonic() + timeout
    try:
        with opener.open(request, timeout=timeout) as response:
            return _read_bounded(response, host, deadline)
    except urllib.error.HTTPError as exc:
        exc.close()
        if 300 <= exc.code < 400:
            raise EvidenceError(
                f"The time-stamping service at {host} sent the request elsewhere "
                f"(HTTP {exc.code}); check its address, {ending}") from None
        raise EvidenceError(
            f"The time-stamping service at {host} answered with an error (HTTP {exc.code}), "
            f"{ending}") from None
    except EvidenceError:
        raise
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        if isinstance(reason, ssl.SSLCertVerificationError):
            raise EvidenceError(
                f"The time-stamping service at {host} could not prove its identity "
                f"(its HTTPS certificate is not trusted), {ending}") from None
        if isinstance(reason, TimeoutError):
            raise EvidenceError(
                f"The time-stamping service at {host} did not answer in time, {ending}"
            ) from None
        raise EvidenceError(
            f"The time-stamping service at {host} did not answer, {ending}") from None


def _read_bounded(response: http.client.HTTPResponse, host: str, deadline: float) -> bytes:
    """Read at most MAX_RESPONSE_BYTES, and give up at the deadline even if data trickles."""
    too_large = EvidenceError(
        f"The time-stamping service at {host} sent an answer far too large to be a "
        "timestamp, so the bundle was not timestamped.")
    declared = response.getheader("Content-Length")
    if declared is not None and declared.strip().isdigit() and int(declared) > MAX_RESPONSE_BYTES:
        raise too_large
    chunks: list[bytes] = []
    received = 0
    while True:
        if time.monotonic() > deadline:
            raise TimeoutError
        chunk = response.read1(_CHUNK)
        if not chunk:
            return b"".join(chunks)
        received += len(chunk)
        if received > MAX_RESPONSE_BYTES:
            raise too_large
        chunks.append(chunk)


# --- Reading the token --------------------------------------------------------------


@contextmanager
def _hostile_input(message: str,
                   kind: type[EvidenceError] = RefusedInput) -> Iterator[None]:
    """Turn any failure to read untrusted bytes into one plain sentence."""
    try:
        yield
    except EvidenceError:
        raise
    except Exception:
        raise kind(message) from None
    except BaseException as exc:
        # A Rust panic surfaces as pyo3's PanicException, a BaseException; it means the
        # bytes were bad, not that the user wants to stop.
        if type(exc).__name__ != "PanicException":
            raise
        raise kind(message) from None


def _status_words(status: int) -> str:
    try:
        return PKIStatus(status).name.lower().replace("_", " ")
    except ValueError:
        return f"status {status}"


def _printable(text: str, limit: int = 200) -> str:
    """Untrusted text made safe for a one-line message: no control characters, bounded."""
    clean = "".join("?" if unicodedata.category(ch).startswith("C") else ch for ch in text)
    return clean[:limit]


# --- Checking the token: trust (certificate chain) ---------------------------------


def _is_ca(policy: object, certificate: x509.Certificate,
           extension: x509.BasicConstraints | None) -> None:
    if extension is None or not extension.ca:
        raise ValueError("not a certificate authority")


def _may_sign_certificates(policy: object, certificate: x509.Certificate,
                           extension: x509.KeyUsage | None) -> None:
    if extension is not None and not extension.key_cert_sign:
        raise ValueError("not allowed to sign certificates")


def _is_for_timestamps(policy: object, certificate: x509.Certificate,
                       extension: x509.ExtendedKeyUsage | None) -> None:
    if extension is None or ExtendedKeyUsageOID.TIME_STAMPING not in extension:
        raise ValueError("not a time-stamping certificate")


# Authorities: must be CAs allowed to sign certificates. The Web PKI's CA defaults are
# not used: they demand a TLS key purpose of intermediates, which TSA chains do not have.
_CA_POLICY = (ExtensionPolicy.permit_all()
              .require_present(x509.BasicConstraints, Criticality.AGNOSTIC, _is_ca)
              .may_be_present(x509.KeyUsage, Criticality.AGNOSTIC, _may_sign_certificates))
# The TSA's own certificate: RFC 3161 2.3, a critical extendedKeyUsage with timeStamping.
_TSA_POLICY = (ExtensionPolicy.permit_all()
               .require_present(x509.ExtendedKeyUsage, Criticality.CRITICAL, _is_for_timestamps))
_NOT_FOR_TIMESTAMPS = "its certificate is not one for making timestamps."
_NOT_VALID_THEN = "its certificate was not valid at the time the timestamp claims."
_BAD_CHAIN = "its certificates do not lead correctly to a root certificate this computer trusts."
_UNKNOWN = "its certificate does not lead to a root certificate this computer trusts."


def _judge_trust(signer: x509.Certificate, others: list[x509.Certificate],
                 roots: list[x509.Certificate], when: datetime) -> tuple[StampState, str]:
    """Trusted only if ``signer`` chains to ``roots`` with everything valid at ``when``."""
    if roots:
        builder = (PolicyBuilder().store(Store(roots)).time(when).max_chain_depth(8)
                   .extension_policies(ca_policy=_CA_POLICY, ee_policy=_TSA_POLICY))
        try:
            builder.build_client_verifier().verify(signer, others)
        except (ChainError, ValueError):
            pass
        else:
            return StampState.TRUSTED, ""
    if not _names_a_root(signer, others, roots):
        return StampState.UNKNOWN_AUTHORITY, _UNKNOWN
    if not signer.not_valid_before_utc <= when <= signer.not_valid_after_utc:
        return StampState.NOT_TRUSTED, _NOT_VALID_THEN
    try:
        usage = signer.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
        for_timestamps = usage.critical and ExtendedKeyUsageOID.TIME_STAMPING in usage.value
    except (x509.ExtensionNotFound, ValueError):
        for_timestamps = False
    if not for_timestamps:
        return StampState.NOT_TRUSTED, _NOT_FOR_TIMESTAMPS
    return StampState.NOT_TRUSTED, _BAD_CHAIN


def _names_a_root(signer: x509.Certificate, others: list[x509.Certificate],
                  roots: list[x509.Certificate]) -> bool:
    """Whether the issuer names from ``signer`` upwards (through ``others``) reach a root's.

    Only to choose the words for a chain that failed: "unknown authority" when no
    trusted root is even named, "not trusted" when one is but the chain fails.
    """
    root_names = {root.subject for root in roots}
    if signer in roots:
        return True
    seen: set[x509.Name] = set()
    names = [signer.issuer]
    while names and len(seen) < 16:
        name = names.pop()
        if name in root_names:
            return True
        if name in seen:
            continue
        seen.add(name)
        names.extend(c.issuer for c in others if c.subject == name)
    return False


def _iso(moment: datetime) -> str:
    return iso_utc(moment)
