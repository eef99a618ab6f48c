"""A captured web page becomes an evidence item: its pictures, archive, network record
and certificate chain, hashed by the vault as they go in. No Qt here.

This module owns the step from :class:`~evidence_recorder.core.gather.webpage.PageRecord`
(what the capture browser hands over) to a saved item of kind ``web``: the WARC of the
page's network responses (written with warcio), the PEM of its certificate chain, the
facts read from that chain, the thumbnail and report previews, and the link between a
page and its later checks. The judging of what a page shows lives in
:mod:`~evidence_recorder.core.gather.webjudge` and is re-exported here.

Everything is built in memory and handed to the vault as bytes: nothing the person
captured is ever written to disk unencrypted, not even for a moment.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import struct
import warnings
import zlib
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from cryptography import x509
from PIL import Image
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

from evidence_recorder import __version__
from evidence_recorder.core.errors import CaptureFailed, RefusedInput
from evidence_recorder.core.gather import device, images
from evidence_recorder.core.gather.webjudge import (
    MAX_URL,
    NOTICE_TEXT_LIMIT,
    SITE_WORDING,
    check_url,
    first_details,
    judge_page,
    suggestions,
)
from evidence_recorder.core.gather.webpage import NetworkResponse, PagePicture, PageRecord
from evidence_recorder.core.model import (
    ArtefactRole,
    Capture,
    CaptureDetails,
    CaptureKind,
    PageState,
    WebSource,
    iso_utc,
)
from evidence_recorder.core.vault.items import NewArtefact

if TYPE_CHECKING:
    from evidence_recorder.core.vault.store import Vault

_log = logging.getLogger(__name__)

WARC_NAME = "network.warc.gz"
MHTML_NAME = "page.mhtml"
PEM_NAME = "certificate-chain.pem"
VISIBLE_NAME = "visible.png"
#: The thumbnail and previews show the top of the page, at most this tall for its width:
#: the whole of a 30,000 px page shrunk to 320 px would be a sliver nobody can read.
PREVIEW_MAX_ASPECT = 1.5

# Headers whose values are the capturing person's sign-in secrets, never the evidence:
# a bundle carrying them would let whoever reads it sign in as that person.
_SECRET_HEADERS = frozenset({"cookie", "set-cookie", "authorization", "proxy-authorization"})
SECRET_REMOVED = "(removed by Evidence Recorder: a sign-in secret of the person capturing)"  # noqa: S105
# The browser hands over bodies already decoded (no gzip, no chunks): these headers no
# longer describe the payload, so they are kept under pywb's "X-Archive-Orig-" prefix.
_DECODED_HEADERS = frozenset({"content-encoding", "transfer-encoding", "content-length"})
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def full_page_name(index: int, parts: int) -> str:
    """``full-page.png``, or ``full-page-1.png``… when the page was split into parts."""
    return "full-page.png" if parts == 1 else f"full-page-{index}.png"


# ----------------------------------------------------------------------------- saving


def save_page(vault: Vault, record: PageRecord, details: CaptureDetails | None = None,
              incident_id: int | None = None, recheck_of: int | None = None) -> int:
    """Keep a captured page as one web item; returns its id once it is durably saved.

    Its files: the full-page picture (``full-page.png``, or ``full-page-1.png``… when
    the page was split), what was on screen (``visible.png``), the page as rendered
    (``page.mhtml``), its network responses (``network.warc.gz``) and, for https, the
    certificate chain (``certificate-chain.pem``). The primary one is the first
    full-page part, or ``visible.png`` when only the screen was captured. The vault
    hashes each one as it goes in and the audit entry records every hash.

    ``details`` are the caller's: each non-empty one wins over :func:`first_details`
    (site and address). ``recheck_of`` names the web item this page checks again; it
    must exist and be a web page. The thumbnail and previews are made from the *top* of
    the primary picture (at most 1.5 times as tall as wide): the whole of a page tens
    of thousands of pixels tall would shrink to an unreadable sliver.
    """
    if recheck_of is not None:
        checked = vault.capture(recheck_of)
        if checked.kind is not CaptureKind.WEB or checked.web is None:
            raise RefusedInput(f"Capture {recheck_of} is not a web page, so there is no page "
                               "to check again.")
    pictures = [*record.full_page]
    if not pictures and record.visible is None:
        raise CaptureFailed("The browser gave no picture of the page, so nothing was saved.")
    for picture in [*pictures, *([record.visible] if record.visible else [])]:
        _png_size(picture)  # a picture that is not a PNG is refused before anything is kept

    artefacts: list[NewArtefact] = []
    parts = len(pictures)
    for index, picture in enumerate(pictures, 1):
        artefacts.append(NewArtefact(full_page_name(index, parts), ArtefactRole.FULL_PAGE,
                                     "image/png", picture.png, primary=index == 1))
    if record.visible is not None:
        artefacts.append(NewArtefact(VISIBLE_NAME, ArtefactRole.VISIBLE, "image/png",
                                     record.visible.png, primary=not pictures))
    if record.mhtml:
        artefacts.append(NewArtefact(MHTML_NAME, ArtefactRole.PAGE_ARCHIVE, "multipart/related",
                                     record.mhtml))
    artefacts.append(NewArtefact(WARC_NAME, ArtefactRole.NETWORK_ARCHIVE, "application/warc",
                                 build_warc(record)))
    if _ends_on_https(record) and record.certificate_chain:
        artefacts.append(NewArtefact(PEM_NAME, ArtefactRole.CERTIFICATE,
                                     "application/x-pem-file",
                                     chain_pem(record.certificate_chain)))

    primary = pictures[0] if pictures else record.visible
    assert primary is not None  # checked above
    width, height = _png_size(primary)
    preview, small, thumbnail = top_previews(primary.png, fallback=record.visible)
    web = web_source(record, parts=parts, recheck_of=recheck_of)
    captured_at = _utc(record.captured_at)
    environment = device.environment({
        "capture_backend": "qtwebengine",
        "user_agent": record.user_agent,
        "viewport": [record.viewport_width, record.viewport_height],
        "device_pixel_ratio": record.device_pixel_ratio,
    })
    return vault.add_item(
        CaptureKind.WEB, artefacts, captured_at=iso_utc(captured_at),
        tz_name=device.local_zone_name(), utc_offset=device.utc_offset(captured_at),
        environment=environment, thumbnail=thumbnail, previews=(preview, small), width=width,
        height=height, title=_title(record.title), web=web,
        details=merged_details(record, details), incident_id=incident_id)


def merged_details(record: PageRecord, details: CaptureDetails | None) -> CaptureDetails:
    """:func:`first_details` with each non-empty detail of the caller's on top."""
    start = first_details(record).as_dict()
    given = (details or CaptureDetails()).as_dict()
    return CaptureDetails(**{name: given[name] or start[name] for name in start})


def web_source(record: PageRecord, *, parts: int, recheck_of: int | None = None) -> WebSource:
    """What the item records of the page: addresses, status, server, certificate facts
    (read from the chain itself, not from the browser's description of it), how the
    page was judged, and which item it checks again."""
    state, reason = judge_page(record)
    # Only a page that ended on https has a certificate of its own (as its PEM file).
    facts = certificate_facts(record.certificate_chain) if _ends_on_https(record) else {}
    return WebSource(
        requested_url=record.requested_url, final_url=record.final_url,
        title=_title(record.title), http_status=record.http_status, server_ip=record.server_ip,
        user_agent=record.user_agent, redirects=list(record.redirects),
        load_state=record.load_state.value, panel=record.panel,
        scroll_height=record.scroll_height, viewport_width=record.viewport_width,
        viewport_height=record.viewport_height, device_pixel_ratio=record.device_pixel_ratio,
        full_page_parts=parts, tls_protocol=record.tls.protocol if record.tls else "",
        certificate_error=record.tls.error if record.tls else "",
        page_state=state.value, page_state_reason=reason, recheck_of=recheck_of, **facts)


def _ends_on_https(record: PageRecord) -> bool:
    try:
        return urlsplit(record.final_url).scheme.lower() == "https"
    except ValueError:
        return False


def _title(title: str) -> str:
    text = " ".join(title.replace("\x00", "").split())
    return text if len(text) <= 300 else text[:299] + "…"


def _utc(moment: datetime) -> datetime:
    """The record's time is UTC; a naive one is taken as UTC too, never as local."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# ------------------------------------------------------------------------ certificate


def chain_pem(chain: Iterable[bytes]) -> bytes:
    """The DER certificates as one PEM file, the leaf first (as ``openssl`` reads it)."""
    out = []
    for der in chain:
        body = base64.encodebytes(der).replace(b"\n", b"")
        lines = b"\n".join(body[i:i + 64] for i in range(0, len(body), 64))
        out.append(b"-----BEGIN CERTIFICATE-----\n" + lines + b"\n-----END CERTIFICATE-----\n")
    return b"".join(out)


def certificate_facts(chain: tuple[bytes, ...]) -> dict[str, str]:
    """The leaf certificate's subject, issuer (RFC 4514), validity (ISO UTC) and the
    SHA-256 of its DER. A leaf that cannot be parsed keeps its hash and no other fact:
    the PEM still holds it for anyone to examine."""
    if not chain:
        return {}
    leaf = chain[0]
    facts = {"certificate_sha256": hashlib.sha256(leaf).hexdigest()}
    try:
        cert = x509.load_der_x509_certificate(leaf)
        facts.update(certificate_subject=cert.subject.rfc4514_string(),
                     certificate_issuer=cert.issuer.rfc4514_string(),
                     certificate_valid_from=iso_utc(cert.not_valid_before_utc),
                     certificate_valid_to=iso_utc(cert.not_valid_after_utc))
    except ValueError:
        _log.warning("a page's leaf certificate could not be parsed")
    return facts


# ------------------------------------------------------------------------------ WARC


def build_warc(record: PageRecord) -> bytes:
    """The page's network responses as a gzipped WARC 1.1 file, built in memory.

    A ``warcinfo`` record says what made it and how; then, for each response, the
    request and the response (status line and headers reconstructed from the browser's
    network log, ``WARC-IP-Address``, ``WARC-Date`` when it was fetched). Bodies are
    as the browser decoded them, so the headers that described the encoded transfer
    are kept as ``X-Archive-Orig-…``. A response whose body the browser no longer held
    is recorded with an empty payload and ``WARC-Truncated: unspecified`` (WARC 1.1,
    section 5.13), so it never reads as complete. Sign-in secrets (cookies,
    authorisation) are replaced by a note saying so.
    """
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True, warc_version="1.1")
    info = writer.create_warcinfo_record(WARC_NAME, {
        "software": f"Evidence Recorder {__version__} (QtWebEngine capture browser)",
        "format": "WARC File Format 1.1",
        "conformsTo": "https://iipc.github.io/warc-specifications/specifications/"
                      "warc-format/warc-1.1/",
        "description": (
            "The network responses of one captured page, from the browser's network log. "
            "Bodies are as the browser decoded them; Content-Encoding, Transfer-Encoding "
            "and Content-Length as sent are kept as X-Archive-Orig-* headers. A response "
            "whose body was not kept has an empty payload and WARC-Truncated. Cookie, "
            "Set-Cookie and Authorization values are removed (sign-in secrets)."),
        "isPartOf": record.final_url[:MAX_URL],
    })
    info.rec_headers.replace_header("WARC-Date", _warc_date(record.captured_at))
    writer.write_record(info)
    for response in record.responses:
        request, reply = _warc_pair(writer, response, record.captured_at)
        writer.write_request_response_pair(request, reply)
    return out.getvalue()


def _warc_date(moment: datetime) -> str:
    return str(datetime_to_iso_date(_utc(moment).replace(tzinfo=None), use_micros=True))


# Characters a URI keeps as they are (RFC 3986 reserved and unreserved, and "%" of the
# escapes already made); anything else (spaces, non-ASCII) is percent-encoded as UTF-8.
_URI_SAFE = ":/?#[]@!$&'()*+,;=%-._~"


def _wire_url(url: str) -> str:
    """The address as it goes on the wire: the browser's own form, with anything a URI
    cannot hold (a space, "é") percent-encoded, as a browser sends it."""
    return quote(url, safe=_URI_SAFE)


def _clean_headers(headers: Iterable[tuple[str, str]], *, decoded_body: bool = False
                   ) -> list[tuple[str, str]]:
    """Headers as HTTP/1.1 writes them: one per line (the browser joins repeats with a
    line break), no HTTP/2 pseudo-headers, no secrets."""
    out: list[tuple[str, str]] = []
    for name, value in headers:
        name = "".join(c for c in str(name) if c.isprintable() and c not in ": ")
        if not name or name.startswith(":"):
            continue
        lower = name.lower()
        for line in str(value).replace("\r", "").split("\n"):
            if lower in _SECRET_HEADERS:
                out.append((name, SECRET_REMOVED))
                break
            if decoded_body and lower in _DECODED_HEADERS:
                out.append(("X-Archive-Orig-" + name, line))
            else:
                out.append((name, line))
    return out


def _warc_pair(writer: WARCWriter, response: NetworkResponse,
               captured_at: datetime) -> tuple[Any, Any]:
    when = _warc_date(response.fetched_at or captured_at)
    url = _wire_url(response.url[:MAX_URL])
    kept = response.body is not None
    body = response.body or b""
    headers = _clean_headers(response.response_headers, decoded_body=True)
    if kept:
        headers.append(("Content-Length", str(len(body))))
    reason = response.status_text or _REASONS.get(response.status, "")
    status_line = f"{response.status} {reason}".strip()
    http = StatusAndHeaders(status_line, headers, protocol="HTTP/1.1")
    warc_headers: dict[str, str] = {"WARC-Date": when}
    if response.remote_ip:
        warc_headers["WARC-IP-Address"] = response.remote_ip
    version = response.http_version.strip()
    if version and version.upper() != "HTTP/1.1":
        # The status line is written as HTTP/1.1 for the readers that expect it; the
        # protocol the browser really spoke is said here (a proposed WARC 1.1 field).
        warc_headers["WARC-Protocol"] = version.lower()
    if not kept:
        warc_headers["WARC-Truncated"] = "unspecified"
    reply = writer.create_warc_record(url, "response", payload=io.BytesIO(body),
                                      length=len(body), http_headers=http,
                                      warc_headers_dict=warc_headers)
    method = (response.method or "GET").upper()
    try:
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host = parts.netloc.rpartition("@")[2]
    except ValueError:
        target, host = "/", ""
    request_headers = _clean_headers(response.request_headers)
    if host and not any(name.lower() == "host" for name, _ in request_headers):
        request_headers.insert(0, ("Host", host))
    request_http = StatusAndHeaders(f"{method} {target} HTTP/1.1", request_headers,
                                    is_http_request=True)
    request_warc: dict[str, str] = {"WARC-Date": when}
    if method in _BODY_METHODS:  # the browser's log does not hold what was sent
        request_warc["WARC-Truncated"] = "unspecified"
    request = writer.create_warc_record(url, "request", payload=io.BytesIO(b""), length=0,
                                        http_headers=request_http,
                                        warc_headers_dict=request_warc)
    return request, reply


_REASONS = {200: "OK", 201: "Created", 204: "No Content", 206: "Partial Content",
            301: "Moved Permanently", 302: "Found", 303: "See Other", 304: "Not Modified",
            307: "Temporary Redirect", 308: "Permanent Redirect", 400: "Bad Request",
            401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 410: "Gone",
            429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
            503: "Service Unavailable", 504: "Gateway Timeout"}


# --------------------------------------------------------------------------- pictures


def _png_size(picture: PagePicture) -> tuple[int, int]:
    """The PNG's own width and height, from its header (what the item records)."""
    data = picture.png
    if (len(data) < 33 or data[:8] != _PNG_SIGNATURE or data[12:16] != b"IHDR"):
        raise CaptureFailed("The browser's picture of the page is not a PNG, so nothing "
                            "was saved. Please capture again.")
    width, height = struct.unpack(">II", data[16:24])
    if width < 1 or height < 1:
        raise CaptureFailed("The browser's picture of the page is empty, so nothing was "
                            "saved. Please capture again.")
    return int(width), int(height)


def _top_of_png(data: bytes, rows: int) -> bytes:
    """The same PNG told it is only ``rows`` tall: a decoder stops after those rows, so
    the top of a 60,000-row page decodes in milliseconds and a few MB, and Pillow's
    size guard sees the strip, not the page. Only the header (and its CRC) changes."""
    width, height = struct.unpack(">II", data[16:24])
    if rows >= height:
        return data
    header = b"IHDR" + struct.pack(">II", width, rows) + data[24:29]
    return (data[:8] + struct.pack(">I", 13) + header
            + struct.pack(">I", zlib.crc32(header)) + data[33:])


def top_previews(png: bytes, fallback: PagePicture | None = None) -> tuple[bytes, bytes, bytes]:
    """``(preview, small preview, thumbnail)`` JPEGs of the top of a page's picture.

    The strip is at most :data:`PREVIEW_MAX_ASPECT` times as tall as wide. If the
    picture cannot be read (an interlaced PNG, say), ``fallback`` (what was on screen)
    is used; failing that, a plain grey picture stands in: a thumbnail is not evidence,
    and the files themselves are kept whatever happens here.
    """
    for candidate in (png, fallback.png if fallback else None):
        if not candidate:
            continue
        try:
            width, height = struct.unpack(">II", candidate[16:24])
            rows = max(1, min(height, round(width * PREVIEW_MAX_ASPECT)))
            with images.PILLOW_LOCK, warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with Image.open(io.BytesIO(_top_of_png(candidate, rows)),
                                formats=["PNG"]) as strip:
                    if strip.width * strip.height > images.MAX_PIXELS:
                        raise ValueError("too many pixels")
                    strip.load()
                    picture = strip.convert("RGB")
            return images.previews_of(picture)
        except Exception as exc:  # a thumbnail is not evidence: see the docstring
            _log.warning("a preview of a page could not be made: %s", type(exc).__name__)
    return images.previews_of(Image.new("RGB", (320, 240), (220, 220, 220)))


# ----------------------------------------------------------------------- later checks


def checks_of(vault: Vault, capture_id: int) -> list[Capture]:
    """The web items that checked ``capture_id`` again, oldest first."""
    return checks_by_original(vault).get(capture_id, [])


def checks_by_original(vault: Vault) -> dict[int, list[Capture]]:
    """Every later check, by the item it checked (oldest first): one pass over the
    vault for a timeline that shows "gone by …" beside each page."""
    found: dict[int, list[Capture]] = {}
    for item in vault.captures():
        if item.web is not None and item.web.recheck_of is not None:
            found.setdefault(item.web.recheck_of, []).append(item)
    return found


def page_state_of(item: Capture) -> PageState | None:
    """What a web item found at its address, or None for any other item."""
    if item.web is None:
        return None
    try:
        return PageState(item.web.page_state)
    except ValueError:
        return None


__all__ = [
    "MAX_URL", "MHTML_NAME", "NOTICE_TEXT_LIMIT", "PEM_NAME", "SITE_WORDING",
    "VISIBLE_NAME", "WARC_NAME", "build_warc", "certificate_facts", "chain_pem",
    "check_url", "checks_by_original", "checks_of", "first_details", "full_page_name",
    "judge_page", "merged_details", "page_state_of", "save_page", "suggestions",
    "top_previews", "web_source",
]
