"""What the capture browser hands over when it has captured a web page (no Qt here).

The browser side (:mod:`evidence_recorder.web`) fills a :class:`PageRecord` from the
live page: its pictures, its archive (MHTML), every network response the page loaded
with its body, and the facts of the main document (final address, status, server IP,
TLS certificate chain). :mod:`evidence_recorder.core.gather.web` turns one into an
evidence item (WARC, PEM, hashes, thumbnails) and the vault keeps it.

Nothing here is written to disk: every byte lives in memory until the vault has it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

#: The tallest full-page picture kept in one part, in CSS pixels; taller pages are split
#: into numbered parts, never cut.
PART_HEIGHT_CSS = 30_000
#: The default bound on one capture, load to pictures, in seconds.
DEFAULT_TIMEOUT = 60.0


class LoadState(StrEnum):
    """How far the page had loaded when it was captured."""

    COMPLETE = "complete"  # the browser said the load finished
    TIMED_OUT = "timed-out"  # the bound ran out first: what had loaded was captured
    FAILED = "failed"  # nothing could be loaded (no server, refused, DNS)


@dataclass(frozen=True, slots=True)
class PagePicture:
    """One PNG, as grabbed: device pixels, with the CSS pixels of the page it shows."""

    png: bytes
    width: int  # device pixels
    height: int
    css_top: int = 0  # where on the page (or panel) it starts, in CSS pixels
    css_height: int = 0  # how much of the page (or panel) it shows, in CSS pixels


@dataclass(frozen=True, slots=True)
class NetworkResponse:
    """One HTTP response the page received, as the browser's network log saw it."""

    url: str
    method: str
    status: int
    status_text: str
    http_version: str  # e.g. "HTTP/1.1", "h2"
    request_headers: tuple[tuple[str, str], ...]
    response_headers: tuple[tuple[str, str], ...]
    body: bytes | None  # None when the browser no longer held it (it is said so in the WARC)
    remote_ip: str = ""
    remote_port: int = 0
    mime_type: str = ""
    fetched_at: datetime | None = None  # UTC


@dataclass(frozen=True, slots=True)
class TlsFacts:
    """The main document's connection as the browser negotiated it."""

    protocol: str = ""  # e.g. "TLS 1.3"
    cipher: str = ""
    subject: str = ""  # as the browser reports the leaf's subject name
    issuer: str = ""
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    # The browser's own words for a certificate problem it showed the person ("" none).
    error: str = ""


@dataclass(slots=True)
class PageRecord:
    """Everything captured of one page, in memory, ready to be kept as evidence."""

    requested_url: str  # what was typed or clicked
    final_url: str  # after redirects
    title: str
    captured_at: datetime  # UTC, the moment the pictures were taken
    user_agent: str
    load_state: LoadState = LoadState.COMPLETE
    http_status: int | None = None  # of the main document; None when none was received
    server_ip: str = ""  # of the main document's server ("" unknown)
    redirects: tuple[str, ...] = ()  # every address before final_url, in order
    visible: PagePicture | None = None  # what the person saw, as they saw it
    full_page: tuple[PagePicture, ...] = ()  # the whole scroll height, in numbered parts
    # The CSS selector of the panel captured whole ("" = the page itself).
    panel: str = ""
    scroll_height: int = 0  # CSS pixels of what was captured whole (page or panel)
    viewport_width: int = 0  # CSS pixels
    viewport_height: int = 0
    device_pixel_ratio: float = 1.0
    mhtml: bytes | None = None  # the page as rendered
    responses: tuple[NetworkResponse, ...] = ()
    certificate_chain: tuple[bytes, ...] = ()  # DER, the leaf first; () for plain http
    tls: TlsFacts | None = None  # None for plain http
    # Suggestions from the page's own metadata (og:, twitter:, author), never written
    # into the item's details without the person's say.
    suggested_author: str = ""
    suggested_handle: str = ""
    # The page's visible text, at most a few thousand characters: enough to tell "this
    # content isn't available" from a post. Kept only to judge, never stored by itself.
    text_sample: str = ""
    # What the person should know of how it went ("the page kept loading more posts;
    # it was captured after 60 seconds"), in plain English, already translated.
    notes: list[str] = field(default_factory=list)


__all__ = [
    "DEFAULT_TIMEOUT", "PART_HEIGHT_CSS", "LoadState", "NetworkResponse", "PagePicture",
    "PageRecord", "TlsFacts",
]
