"""Reading and checking the CMS signature inside an RFC 3161 timestamp token.

This module owns the *integrity* fact of :func:`timestamp.check_timestamp`: that
the token's SignedData was signed, over this TSTInfo, by the certificate its one
SignerInfo names (issuer and serial, or key identifier; never a guess from the
certificate bag), with an accepted algorithm, and that the ESS signing-certificate
attribute names that same certificate. ``rfc3161-client`` does not expose the
signed attributes or the signature, so they are read here from the DER with a
minimal, bounded walk (definite lengths only, single-byte tags) that also puts a
token's certificate SET into DER order for that strict parser.

Binding (the imprint is this seal's hash), trust (the certificate chain) and the
words of the verdict stay in :mod:`timestamp`.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from evidence_recorder.core.errors import EvidenceError, RefusedInput

_SHA256 = "2.16.840.1.101.3.4.2.1"


class TimestampForged(EvidenceError):
    """A timestamp whose own signature does not check: it was altered, or cannot be checked."""


# --- Checking the token: integrity (CMS signature) ---------------------------------

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
