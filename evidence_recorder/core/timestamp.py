"""Trusted RFC 3161 timestamps over a sealed bundle's signature file.

This module owns asking a time-stamping authority (TSA) to vouch for when the
signature ``tagmanifest-sha256.txt.sig`` existed, and reading such a vouching
back. The TSA's answer is kept byte for byte as it arrived, because that file is
what a police officer hands to ``openssl ts -verify -in …tsr``; we never
re-encode it.

Parsing and signature checking are done by ``rfc3161-client`` (a Rust ASN.1
parser, hostile input safe). It insists on strict DER, while OpenSSL-based TSAs
send the certificate SET in chain order rather than sorted; that order is not
covered by the TSA's signature, so we sort it in a private copy before parsing.
"""

from __future__ import annotations

import hashlib
import http.client
import ssl
import time
import unicodedata
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from cryptography import x509
from rfc3161_client import (
    HashAlgorithm,
    PKIStatus,
    TimestampRequestBuilder,
    TimeStampResponse,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)

from evidence_recorder.core.errors import EvidenceError, RefusedInput
from evidence_recorder.core.i18n import QT_TRANSLATE_NOOP

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


class TimestampUntrusted(EvidenceError):
    """A timestamp whose signer does not chain to the certificates the user trusts."""


@dataclass(frozen=True)
class TimestampInfo:
    """What a timestamp token says, in the words a report shows."""

    time: datetime  # aware, UTC: when the TSA saw the signature
    tsa: str  # the TSA certificate's subject, e.g. "CN=Example TSA,O=Example"
    serial: int  # the TSA's serial number for this token
    hash_algorithm: str  # e.g. "SHA-256"


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
    return body


def inspect_timestamp(tsr: bytes, data: bytes, *, ca_pem: bytes | None = None) -> TimestampInfo:
    """Read a stored TSA answer, check it vouches for ``data``, and say what it vouches.

    With ``ca_pem`` (PEM certificates of the TSA's root, and any intermediates) the
    TSA's signature and certificate chain are checked too, at the time of the
    timestamp; without it the caller is trusting whoever produced the file.
    """
    if len(tsr) > MAX_RESPONSE_BYTES:
        raise RefusedInput(QT_TRANSLATE_NOOP("EvidenceError", "The timestamp file is too large to "
                                                              "be a timestamp."))
    with _hostile_input("The timestamp file is damaged or is not a timestamp."):
        response = decode_timestamp_response(_sorted_certificates(tsr))
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
        tsa = _tsa_name(response)
    if algorithm not in _HASHES:  # SHA-1 and older are too weak to vouch for anything
        raise TimestampMismatch("The timestamp does not belong to this signature.")
    hash_name, hashlib_name = _HASHES[algorithm]
    if imprint != hashlib.new(hashlib_name, data).digest():
        raise TimestampMismatch("The timestamp does not belong to this signature.")
    if ca_pem is not None:
        _check_trusted(response, data, ca_pem)
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return TimestampInfo(time=when, tsa=tsa, serial=serial, hash_algorithm=hash_name)


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


def _signer_certificate(response: TimeStampResponse) -> x509.Certificate | None:
    """The certificate named by the SignerInfo (covered by the signature), if it was sent."""
    signers = list(response.signed_data.signer_infos)
    if len(signers) != 1:
        return None
    signer = signers[0]
    for der in response.signed_data.certificates:
        certificate = x509.load_der_x509_certificate(der)
        if (certificate.issuer == signer.issuer
                and certificate.serial_number == signer.serial_number):
            return certificate
    return None


def _tsa_name(response: TimeStampResponse) -> str:
    certificate = _signer_certificate(response)
    if certificate is not None:
        return _printable(certificate.subject.rfc4514_string()) or _UNNAMED_TSA
    try:
        name = response.tst_info.name
    except ValueError:
        return _UNNAMED_TSA
    value = getattr(name, "value", None)
    if isinstance(value, x509.Name):
        return _printable(value.rfc4514_string()) or _UNNAMED_TSA
    return _printable(str(value)) if value else _UNNAMED_TSA


def _printable(text: str, limit: int = 200) -> str:
    """Untrusted text made safe for a one-line message: no control characters, bounded."""
    clean = "".join("?" if unicodedata.category(ch).startswith("C") else ch for ch in text)
    return clean[:limit]


def _check_trusted(response: TimeStampResponse, data: bytes, ca_pem: bytes) -> None:
    try:
        trusted = x509.load_pem_x509_certificates(ca_pem)
    except ValueError:
        raise RefusedInput(
            QT_TRANSLATE_NOOP("EvidenceError", "The file of trusted time-stamping certificates "
                                               "cannot be read.")) from None
    builder = VerifierBuilder()
    for certificate in trusted:
        builder = builder.add_root_certificate(certificate)
    untrusted = "The timestamp was not signed by a time-stamping service you trust."
    with _hostile_input(untrusted, TimestampUntrusted):
        try:
            builder.build().verify_message(response, data)
        except VerificationError:
            raise TimestampUntrusted(untrusted) from None


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

