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
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
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
_SHA256 = "2.16.840.1.101.3.4.2.1"
_ACCEPTED = (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS)  # what openssl ts -verify accepts
_UNNAMED_TSA = "an unnamed time-stamping service"


class TimestampMismatch(EvidenceError):
    """A timestamp that vouches for other data than the signature beside it."""


class TimestampForged(EvidenceError):
    """A timestamp whose own signature does not check: it was altered, or cannot be checked."""


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


# --- Checking the token: integrity (CMS signature) and trust (certificate chain) ---------

_OID_TST_INFO = "1.2.840.113549.1.9.16.1.4"
_OID_CONTENT_TYPE = "1.2.840.113549.1.9.3"
_OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
_OID_SIGNING_CERTIFICATE = "1.2.840.113549.1.9.16.2.12"  # ESS, SHA-1 certificate hash
_OID_SIGNING_CERTIFICATE_V2 = "1.2.840.113549.1.9.16.2.47"  # ESS, any hash (default SHA-256)
_OID_RSA = "1.2.840.113549.1.1.1"
_OID_RSA_PSS = "1.2.840.113549.1.1.10"
_OID_MGF1 = "1.2.840.113549.1.1.8"
_OID_EC = "1.2.840.10045.2.1"
_OID_ED25519 = "1.3.101.112"
_OID_SHA1 = "1.3.14.3.2.26"
_DIGESTS: dict[str, type[hashes.HashAlgorithm]] = {
    _OID_SHA1: hashes.SHA1,
    "2.16.840.1.101.3.4.2.1": hashes.SHA256,
    "2.16.840.1.101.3.4.2.2": hashes.SHA384,
    "2.16.840.1.101.3.4.2.3": hashes.SHA512,
}
_RSA_SIGNATURES = {"1.2.840.113549.1.1.5": _OID_SHA1, "1.2.840.113549.1.1.11": _SHA256,
                   "1.2.840.113549.1.1.12": "2.16.840.1.101.3.4.2.2",
                   "1.2.840.113549.1.1.13": "2.16.840.1.101.3.4.2.3"}
_ECDSA_SIGNATURES = {"1.2.840.10045.4.1": _OID_SHA1, "1.2.840.10045.4.3.2": _SHA256,
                     "1.2.840.10045.4.3.3": "2.16.840.1.101.3.4.2.2",
                     "1.2.840.10045.4.3.4": "2.16.840.1.101.3.4.2.3"}
_DAMAGED = "The timestamp file is damaged or is not a timestamp."
_ALTERED = ("The timestamp's own signature does not check: it was changed after the "
            "time-stamping service signed it.")


@dataclass(frozen=True)
class _SignerInfo:
    """The one SignerInfo of a token, as the raw pieces the signature covers."""

    serial: int | None  # from issuerAndSerialNumber (the issuer comes from rfc3161-client)
    key_id: bytes | None  # from subjectKeyIdentifier
    digest: str  # OID of the hash over the TSTInfo
    signed_attributes: bytes  # DER, re-tagged as the SET OF that was signed
    attributes: dict[str, list[bytes]]  # attribute OID: its values, each a DER element
    algorithm: str  # OID of the signature algorithm
    parameters: bytes  # DER of the algorithm's parameters (or b"")
    signature: bytes


def _check_integrity(tsr: bytes, parsed: Sequence[object],
                     candidates: list[x509.Certificate]) -> x509.Certificate:
    """The certificate whose key made the token's signature over this TSTInfo.

    The signer is the one the SignerInfo names (issuer+serial or key identifier),
    which the signature covers; a certificate merely present in the bag is never
    taken for the signer. Raises :class:`TimestampForged` if anything fails.
    """
    try:
        content_type, content, infos = _parse_signed_data(tsr)
    except (ValueError, IndexError):
        raise RefusedInput(_DAMAGED) from None
    if content_type != _OID_TST_INFO or len(infos) != 1 or len(parsed) != 1:
        raise TimestampForged("The timestamp's signature cannot be checked: it is not signed "
                              "by exactly one time-stamping service.")
    info = infos[0]
    named = parsed[0]
    if info.serial is not None:
        issuer = getattr(named, "issuer", None)
        if getattr(named, "serial_number", None) != info.serial:
            raise RefusedInput(_DAMAGED)
        matching = [c for c in candidates
                    if c.issuer == issuer and c.serial_number == info.serial]
    else:
        matching = [c for c in candidates if _key_id(c) == info.key_id]
    unique = list({c.fingerprint(hashes.SHA256()): c for c in matching}.values())
    if not unique:
        raise TimestampForged("The timestamp's signature cannot be checked: it does not include "
                              "the certificate of the service that signed it.")
    digest = _hash_class(info.digest)
    if digest is None or digest is hashes.SHA1:
        raise TimestampForged("The timestamp's signature cannot be checked: it uses a method "
                              "this program does not accept.")
    content_types = info.attributes.get(_OID_CONTENT_TYPE, [])
    digests = info.attributes.get(_OID_MESSAGE_DIGEST, [])
    if (len(content_types) != 1 or _read_oid(content_types[0]) != _OID_TST_INFO
            or len(digests) != 1):
        raise TimestampForged(_ALTERED)
    hasher = hashes.Hash(digest())
    hasher.update(content)
    if not hmac.compare_digest(_octets(digests[0]), hasher.finalize()):
        raise TimestampForged(_ALTERED)
    signers = [c for c in unique if _signature_holds(c, info)]
    if len(signers) != 1:
        raise TimestampForged(_ALTERED)
    signer = signers[0]
    _check_signing_certificate(signer, info.attributes)
    return signer


def _hash_class(oid: str) -> type[hashes.HashAlgorithm] | None:
    return _DIGESTS.get(oid)


def _key_id(certificate: x509.Certificate) -> bytes | None:
    try:
        return certificate.extensions.get_extension_for_class(
            x509.SubjectKeyIdentifier).value.digest
    except (x509.ExtensionNotFound, ValueError):
        return None


def _signature_holds(certificate: x509.Certificate, info: _SignerInfo) -> bool:
    """Whether ``certificate``'s key made ``info``'s signature over its signed attributes."""
    unsupported = TimestampForged("The timestamp's signature cannot be checked: it uses a "
                                  "method this program does not accept.")
    message, signature = info.signed_attributes, info.signature
    try:
        key = certificate.public_key()
        if isinstance(key, rsa.RSAPublicKey):
            if info.algorithm == _OID_RSA_PSS:
                chosen, salt = _pss_parameters(info.parameters)
                key.verify(signature, message,
                           padding.PSS(mgf=padding.MGF1(chosen()), salt_length=salt), chosen())
                return True
            oid = info.digest if info.algorithm == _OID_RSA else _RSA_SIGNATURES.get(
                info.algorithm, "")
            algorithm = _hash_class(oid)
            if algorithm is None or algorithm is hashes.SHA1:
                raise unsupported
            key.verify(signature, message, padding.PKCS1v15(), algorithm())
            return True
        if isinstance(key, ec.EllipticCurvePublicKey):
            oid = info.digest if info.algorithm == _OID_EC else _ECDSA_SIGNATURES.get(
                info.algorithm, "")
            algorithm = _hash_class(oid)
            if algorithm is None or algorithm is hashes.SHA1:
                raise unsupported
            key.verify(signature, message, ec.ECDSA(algorithm()))
            return True
        if isinstance(key, ed25519.Ed25519PublicKey) and info.algorithm == _OID_ED25519:
            key.verify(signature, message)
            return True
    except (InvalidSignature, UnsupportedAlgorithm, ValueError):
        return False  # ValueError: a key that cannot be read cannot have made the signature
    raise unsupported


def _pss_parameters(parameters: bytes) -> tuple[type[hashes.HashAlgorithm], int]:
    """RSASSA-PSS-params: the hash (also for MGF1) and salt length; SHA-1 is refused."""
    refused = TimestampForged("The timestamp's signature cannot be checked: it uses a method "
                              "this program does not accept.")
    try:
        _, start, end = _tlv(parameters, 0, len(parameters))
        chosen, mask, salt = _OID_SHA1, _OID_SHA1, 20
        for tag, _, content, after in _children(parameters, start, end):
            if tag == 0xA0:
                chosen = _algorithm_oid(parameters, content, after)
            elif tag == 0xA1:
                _, mgf_start, mgf_end = _tlv(parameters, content, after)
                mgf = list(_children(parameters, mgf_start, mgf_end))
                if len(mgf) != 2 or _read_oid(parameters[mgf[0][1]:mgf[0][3]]) != _OID_MGF1:
                    raise refused
                mask = _algorithm_oid(parameters, mgf[1][1], mgf[1][3])
            elif tag == 0xA2:
                _, number, number_end = _tlv(parameters, content, after)
                salt = int.from_bytes(parameters[number:number_end], "big")
    except (ValueError, IndexError):
        raise refused from None
    algorithm = _hash_class(chosen)
    if algorithm is None or algorithm is hashes.SHA1 or mask != chosen or salt > 1024:
        raise refused
    return algorithm, salt


def _algorithm_oid(buffer: bytes, start: int, end: int) -> str:
    """The OID of the AlgorithmIdentifier SEQUENCE at ``start``."""
    tag, content, after = _tlv(buffer, start, end)
    if tag != 0x30:
        raise ValueError
    first = next(_children(buffer, content, after))
    return _read_oid(buffer[first[1]:first[3]])


def _check_signing_certificate(signer: x509.Certificate,
                               attributes: dict[str, list[bytes]]) -> None:
    """The ESS signing-certificate attribute must name the signer's certificate.

    RFC 3161 requires it (and ``openssl ts -verify`` insists on it): it binds the
    whole certificate, name included, into what the authority signed, so a
    certificate re-made around the same key cannot lend the token another name.
    """
    from cryptography.hazmat.primitives.serialization import Encoding

    der = signer.public_bytes(Encoding.DER)
    wrong = TimestampForged("The timestamp's signature does not check: it names a different "
                            "certificate from the one that signed it.")
    if not (attributes.get(_OID_SIGNING_CERTIFICATE_V2) or attributes.get(
            _OID_SIGNING_CERTIFICATE)):
        raise TimestampForged("The timestamp's signature cannot be checked: it does not say "
                              "which certificate signed it.")
    try:
        for oid, default in ((_OID_SIGNING_CERTIFICATE_V2, _SHA256),
                             (_OID_SIGNING_CERTIFICATE, _OID_SHA1)):
            values = attributes.get(oid, [])
            if not values:
                continue
            if len(values) != 1:
                raise wrong
            value = values[0]
            _, start, end = _tlv(value, 0, len(value))
            _, certs_start, certs_end = _tlv(value, start, end)  # SEQUENCE OF ESSCertID(v2)
            _, first_start, first_end = _tlv(value, certs_start, certs_end)
            parts = list(_children(value, first_start, first_end))
            chosen = default
            if parts and parts[0][0] == 0x30 and oid == _OID_SIGNING_CERTIFICATE_V2:
                chosen = _algorithm_oid(value, parts[0][1], parts[0][3])
                parts = parts[1:]
            if not parts or parts[0][0] != 0x04:
                raise wrong
            algorithm = _hash_class(chosen)
            if algorithm is None:
                raise wrong
            hasher = hashes.Hash(algorithm())
            hasher.update(der)
            if not hmac.compare_digest(value[parts[0][2]:parts[0][3]], hasher.finalize()):
                raise wrong
    except (ValueError, IndexError, StopIteration):
        raise wrong from None


def _parse_signed_data(tsr: bytes) -> tuple[str, bytes, list[_SignerInfo]]:
    """(eContentType, eContent, SignerInfos) of the token in a TimeStampResp."""
    _, start, end = _tlv(tsr, 0, len(tsr))
    top = _children(tsr, start, end)
    _expect(top, 0x30)  # PKIStatusInfo
    content_start, content_end = _expect(top, 0x30)  # ContentInfo
    content_info = _children(tsr, content_start, content_end)
    _expect(content_info, 0x06)  # id-signedData (rfc3161-client has checked it)
    explicit_start, explicit_end = _expect(content_info, 0xA0)
    signed_start, signed_end = _expect(_children(tsr, explicit_start, explicit_end), 0x30)
    elements = list(_children(tsr, signed_start, signed_end))
    if len(elements) < 4 or [e[0] for e in elements[:3]] != [0x02, 0x31, 0x30]:
        raise ValueError
    encapsulated = _children(tsr, elements[2][2], elements[2][3])
    oid_start, oid_end = _expect(encapsulated, 0x06)
    wrapper_start, wrapper_end = _expect(encapsulated, 0xA0)
    octets_start, octets_end = _expect(_children(tsr, wrapper_start, wrapper_end), 0x04)
    signer_set = elements[-1]
    if signer_set[0] != 0x31:
        raise ValueError
    infos = [_parse_signer_info(tsr, content, after)
             for tag, _, content, after in _children(tsr, signer_set[2], signer_set[3])
             if tag == 0x30]
    return _oid_text(tsr[oid_start:oid_end]), tsr[octets_start:octets_end], infos


def _parse_signer_info(tsr: bytes, start: int, end: int) -> _SignerInfo:
    parts = list(_children(tsr, start, end))
    if len(parts) < 5 or parts[0][0] != 0x02:
        raise ValueError
    serial: int | None = None
    key_id: bytes | None = None
    sid = parts[1]
    if sid[0] == 0x30:  # issuerAndSerialNumber
        inner = list(_children(tsr, sid[2], sid[3]))
        if len(inner) != 2 or inner[1][0] != 0x02:
            raise ValueError
        serial = int.from_bytes(tsr[inner[1][2]:inner[1][3]], "big", signed=True)
    elif sid[0] == 0x80:  # [0] subjectKeyIdentifier
        key_id = tsr[sid[2]:sid[3]]
    else:
        raise ValueError
    digest = _algorithm_oid(tsr, parts[2][1], parts[2][3])
    attributes_element = parts[3]
    if attributes_element[0] != 0xA0:
        raise ValueError  # a token's SignerInfo must carry signed attributes
    signed = b"\x31" + tsr[attributes_element[1] + 1:attributes_element[3]]
    attributes: dict[str, list[bytes]] = {}
    for tag, _, content, after in _children(tsr, attributes_element[2], attributes_element[3]):
        if tag != 0x30:
            raise ValueError
        attribute = _children(tsr, content, after)
        oid_start, oid_end = _expect(attribute, 0x06)
        values_start, values_end = _expect(attribute, 0x31)
        oid = _oid_text(tsr[oid_start:oid_end])
        if oid in attributes or next(attribute, None) is not None:
            raise ValueError  # each attribute once (RFC 5652, 5.3)
        attributes[oid] = [tsr[element:after_value] for _, element, _, after_value
                           in _children(tsr, values_start, values_end)]
    algorithm_element = parts[4]
    if algorithm_element[0] != 0x30:
        raise ValueError
    algorithm_parts = list(_children(tsr, algorithm_element[2], algorithm_element[3]))
    if not algorithm_parts or algorithm_parts[0][0] != 0x06:
        raise ValueError
    algorithm = _oid_text(tsr[algorithm_parts[0][2]:algorithm_parts[0][3]])
    parameters = (tsr[algorithm_parts[1][1]:algorithm_parts[1][3]]
                  if len(algorithm_parts) > 1 else b"")
    if len(parts) < 6 or parts[5][0] != 0x04:
        raise ValueError
    return _SignerInfo(serial=serial, key_id=key_id, digest=digest, signed_attributes=signed,
                       attributes=attributes, algorithm=algorithm, parameters=parameters,
                       signature=tsr[parts[5][2]:parts[5][3]])


def _read_oid(element: bytes) -> str:
    """The OID in a whole DER element."""
    tag, start, end = _tlv(element, 0, len(element))
    if tag != 0x06 or end != len(element):
        raise ValueError
    return _oid_text(element[start:end])


def _octets(element: bytes) -> bytes:
    tag, start, end = _tlv(element, 0, len(element))
    if tag != 0x04 or end != len(element):
        raise ValueError
    return element[start:end]


def _oid_text(content: bytes) -> str:
    if not content or content[-1] & 0x80 or len(content) > 64:
        raise ValueError
    numbers: list[int] = []
    value = 0
    for byte in content:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            numbers.append(value)
            value = 0
    head = min(numbers[0] // 40, 2)
    return ".".join(str(n) for n in (head, numbers[0] - 40 * head, *numbers[1:]))


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


# --- A minimal DER walk to put the certificate SET in DER order ----------------------


def _tlv(buffer: bytes, position: int, end: int) -> tuple[int, int, int]:
    """One DER element at ``position``: (tag, content start, content end). Bounded by ``end``."""
    if position + 2 > end:
        raise ValueError
    tag = buffer[position]
    first = buffer[position + 1]
    position += 2
    if tag & 0x1F == 0x1F:
        raise ValueError  # multi-byte tags do not occur on this path
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or position + count > end:
            raise ValueError  # indefinite (BER) or absurd lengths
        length = int.from_bytes(buffer[position:position + count], "big")
        position += count
    if position + length > end:
        raise ValueError
    return tag, position, position + length


def _children(buffer: bytes, start: int, end: int) -> Iterator[tuple[int, int, int, int]]:
    """(tag, element start, content start, content end) for each element in start..end."""
    position = start
    while position < end:
        tag, content, after = _tlv(buffer, position, end)
        yield tag, position, content, after
        position = after


def _expect(elements: Iterator[tuple[int, int, int, int]], tag: int) -> tuple[int, int]:
    found = next(elements, None)
    if found is None or found[0] != tag:
        raise ValueError
    return found[2], found[3]


def _sorted_certificates(response: bytes) -> bytes:
    """A copy of ``response`` whose SignedData certificate SET is in DER (sorted) order.

    OpenSSL's ``ts -reply`` lists the signer first and the chain after, which strict
    DER parsers reject. The order is outside what the TSA signed, and sorting keeps
    every length, so only those bytes move. Anything unexpected is left for the real
    parser to refuse.
    """
    try:
        return _sort_certificate_set(response)
    except (ValueError, IndexError):
        return response


def _sort_certificate_set(response: bytes) -> bytes:
    _, start, end = _tlv(response, 0, len(response))
    top = _children(response, start, end)
    _expect(top, 0x30)  # PKIStatusInfo
    content_start, content_end = _expect(top, 0x30)  # ContentInfo
    content_info = _children(response, content_start, content_end)
    _expect(content_info, 0x06)  # id-signedData
    explicit_start, explicit_end = _expect(content_info, 0xA0)
    signed_start, signed_end = _expect(_children(response, explicit_start, explicit_end), 0x30)
    signed = _children(response, signed_start, signed_end)
    _expect(signed, 0x02)  # version
    _expect(signed, 0x31)  # digestAlgorithms
    _expect(signed, 0x30)  # encapContentInfo
    certificates = next(signed, None)
    if certificates is None or certificates[0] != 0xA0:
        return response
    set_start, set_end = certificates[2], certificates[3]
    elements = [response[element:after]
                for _, element, _, after in _children(response, set_start, set_end)]
    ordered = sorted(elements)
    if ordered == elements:
        return response
    return response[:set_start] + b"".join(ordered) + response[set_end:]

