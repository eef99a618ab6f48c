"""The evidence model in the user's words: incidents, captures and what was said of them.

The fields follow ``EVIDENCE-GUIDANCE.md``: who posted, where, when (as shown on the
post, and the capture instant in UTC and local time), and how the record was made.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from evidence_recorder.core import fields
from evidence_recorder.core.i18n import QT_TRANSLATE_NOOP

MAX_TEXT = fields.MAX_TEXT  # characters in one detail field: pages of text, not a pasted file


class CaptureKind(StrEnum):
    """How the original came to be."""

    SCREEN = "screen"  # every monitor at once
    MONITOR = "monitor"  # one monitor
    REGION = "region"  # a rectangle in screen pixels
    WINDOW = "window"  # one application window
    IMPORT = "import"  # a file the user brought in (a phone screenshot, say)
    WEB = "web"  # a web page: its pictures, archive and certificate (step 9)
    EMAIL = "email"  # an e-mail as received, with its attachments (step 10)
    CHAT = "chat"  # a chat export with its attachments (step 10)


class ArtefactRole(StrEnum):
    """What one file kept for an evidence item is."""

    ORIGINAL = "original"  # a screenshot's or an imported picture's bytes
    FULL_PAGE = "full-page"  # a web page's full-page picture
    VISIBLE = "visible"  # what was on screen of a web page
    PAGE_ARCHIVE = "page-archive"  # a web page's archive (e.g. MHTML, WACZ)
    NETWORK_ARCHIVE = "network-archive"  # the traffic that fetched it (e.g. WARC, HAR)
    CERTIFICATE = "certificate"  # the site's TLS certificate chain
    RAW_MESSAGE = "raw-message"  # an e-mail exactly as received, headers and all
    ATTACHMENT = "attachment"  # a file that came with a message
    EXPORT = "export"  # a platform's export file (a chat export, say)


# The file extension of an original of each picture type, as bundles name it
# ("original.png"); anything else is "original.bin". The schema-4 migration names
# the originals it moves with this too, so a vault and its bundles agree.
ORIGINAL_EXTENSIONS: dict[str, str] = {
    "image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp",
    "image/bmp": "bmp", "image/heic": "heic", "image/heif": "heif",
}


def original_name(media_type: str) -> str:
    """``original.png``: the name a picture's original artefact has in the vault."""
    return f"original.{ORIGINAL_EXTENSIONS.get(media_type, 'bin')}"


@dataclass(frozen=True, slots=True)
class Artefact:
    """One file kept byte for byte for an evidence item, as hashed at intake.

    ``name`` is unique within its item; exactly one artefact of an item is its
    ``primary`` one (a screenshot's picture, a page's full-page picture, an e-mail's
    raw message). The vault's thumbnail and report previews of an item, and the
    covered copy drawn for a bundle, are always made from its primary artefact.
    """

    id: int
    item_id: int
    name: str
    role: ArtefactRole
    media_type: str
    size: int
    sha256: str
    derived_from: str | None = None  # the name of the artefact this one was made from
    primary: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape ``show --json`` prints for each artefact."""
        return {"name": self.name, "role": self.role.value, "media_type": self.media_type,
                "size": self.size, "sha256": self.sha256}


class Category(StrEnum):
    HARASSMENT = "harassment"
    THREAT = "threat"
    IMPERSONATION = "impersonation"
    DEFAMATION = "defamation"
    HATE = "hate"
    SEXUAL = "sexual"
    OTHER = "other"


# British English here (the CLI and the report use it as is); the app translates each
# label under the "Category" context where it shows it.
CATEGORY_LABELS: dict[Category, str] = {
    Category.HARASSMENT: QT_TRANSLATE_NOOP("Category", "Harassment or bullying"),
    Category.THREAT: QT_TRANSLATE_NOOP("Category", "Threat"),
    Category.IMPERSONATION: QT_TRANSLATE_NOOP("Category", "Impersonation or fake account"),
    Category.DEFAMATION: QT_TRANSLATE_NOOP("Category", "False statements (defamation)"),
    Category.HATE: QT_TRANSLATE_NOOP("Category", "Hate (race, religion, sexuality, disability...)"),
    Category.SEXUAL: QT_TRANSLATE_NOOP("Category", "Sexual content or comments about an adult"),
    Category.OTHER: QT_TRANSLATE_NOOP("Category", "Other"),
}


@dataclass(slots=True)
class CaptureDetails:
    """What the user says of a capture. Every field may be edited; edits are audited.

    One attribute per field of :data:`evidence_recorder.core.fields.FIELDS`, in its
    order (written out so that type checkers know them; checked below at import).
    """

    site: str = ""
    url: str = ""
    author: str = ""
    handle: str = ""
    profile_url: str = ""
    author_id: str = ""
    posted_at: str = ""  # as the post displays it, e.g. "2h" or "3 March at 21:04"
    category: str = ""  # a Category value, or "" when not yet chosen
    description: str = ""  # what happened
    context: str = ""  # the surrounding thread, why it matters
    people: str = ""  # people involved or witnesses
    platform_ref: str = ""  # the platform's report reference
    police_ref: str = ""  # a police crime reference

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    def as_dict(self) -> dict[str, str]:
        return dataclasses.asdict(self)


def handle_text(handle: str) -> str:
    """A handle the one way it is stored and shown: ``@name``, case kept.

    White space around it and any number of leading "@" go; one "@" is put back, so
    "samj", " @samj " and "@@samj" all read "@samj". Vaults written before handles were
    stored this way keep what they hold (their audit log says so); this shows them alike.
    """
    name = handle.strip().lstrip("@").strip()
    return "@" + name if name else ""


if CaptureDetails.field_names() != fields.NAMES:  # pragma: no cover - caught by any test
    raise RuntimeError("CaptureDetails and core.fields.FIELDS list different fields")


# Fields the guidance says a capture should carry; the app marks them when empty.
IMPORTANT_DETAILS: tuple[str, ...] = fields.IMPORTANT


@dataclass(slots=True)
class Incident:
    id: int
    title: str
    description: str
    started_at: str  # free text or ISO date; as the user gave it
    created_at: datetime
    is_default: bool = False
    capture_count: int = 0


@dataclass(slots=True)
class ImportSource:
    """What we know of an imported file. A *claimed* time is never the capture time."""

    file_name: str
    file_size: int
    file_mtime: str  # ISO 8601 UTC, as the file system reported it
    claimed_time: str | None = None  # from EXIF DateTimeOriginal, as written in the file

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class PageState(StrEnum):
    """What a web capture found at its address: the post, or that it is gone."""

    AVAILABLE = "available"  # the page loaded and showed content
    GONE = "gone"  # 404, 410, or the site's own "this content isn't available"
    LOGIN_WALL = "login-wall"  # the site asked to sign in instead of showing it
    UNREACHABLE = "unreachable"  # nothing answered (no server, refused, timed out)


@dataclass(slots=True)
class WebSource:
    """What the capture browser recorded of a web page, automatically, at capture.

    Kept (as JSON, in the capture's ``source`` column) for items of kind ``web``; it is
    part of the ``capture.added`` audit entry and of the item in a bundle.
    """

    requested_url: str
    final_url: str
    title: str = ""
    http_status: int | None = None
    server_ip: str = ""
    user_agent: str = ""
    redirects: list[str] = field(default_factory=list)
    load_state: str = "complete"  # a webpage.LoadState value
    panel: str = ""  # CSS selector of the panel captured whole; "" the page itself
    scroll_height: int = 0  # CSS px captured whole
    viewport_width: int = 0
    viewport_height: int = 0
    device_pixel_ratio: float = 1.0
    full_page_parts: int = 0
    certificate_sha256: str = ""  # SHA-256 of the leaf certificate's DER; "" for http
    certificate_subject: str = ""
    certificate_issuer: str = ""
    certificate_valid_from: str = ""  # ISO 8601 UTC
    certificate_valid_to: str = ""
    tls_protocol: str = ""
    certificate_error: str = ""  # the browser's words for a certificate problem, "" none
    page_state: str = PageState.AVAILABLE.value
    page_state_reason: str = ""  # plain English: "the server answered 404 (not found)"
    recheck_of: int | None = None  # the capture this one checked again

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WebSource:
        """Read it back, ignoring keys a later release may add."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(slots=True)
class MessageSource:
    """What was recorded of an export at import: kept (as JSON) in the item's ``source``
    column for kinds ``email`` and ``chat``, and in its ``capture.added`` audit entry."""

    format: str  # e.g. "whatsapp-android", "telegram-json", "eml", "msg", "mbox"
    parser: str  # the parser and its version, e.g. "whatsapp/1"
    file_name: str
    file_size: int
    file_mtime: str  # ISO 8601 UTC, as the file system reported it
    title: str = ""  # a chat's name or an e-mail's subject
    participants: list[str] = field(default_factory=list)
    message_count: int = 0
    unreadable_count: int = 0  # lines kept but not understood
    first_at: str = ""  # ISO UTC of the earliest message with a time
    last_at: str = ""
    zone_assumed: str = ""  # e.g. "Europe/London": the export's times had no zone
    date_order: str = ""  # "day-first" / "month-first" / "year-first" where inferred
    clock: str = ""  # "24-hour" / "12-hour" where inferred
    notes: list[str] = field(default_factory=list)  # plain English, for the person
    messages_sha256: str = ""  # of the canonical JSON of the parsed messages

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MessageSource:
        """Read it back, ignoring keys a later release may add."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(slots=True)
class Capture:
    """An evidence item: a screen capture or imported picture today, a web page, e-mail
    or chat export next. The name stays "Capture" because that is what the app, the
    CLI and bundles call it."""

    id: int
    incident_id: int
    kind: CaptureKind
    captured_at: datetime  # UTC, millisecond precision
    tz_name: str  # IANA name where known, e.g. "Europe/London"
    utc_offset: str  # e.g. "+01:00" at the capture instant
    sha256: str
    width: int
    height: int
    media_type: str  # e.g. "image/png"
    byte_size: int
    environment: dict[str, Any]  # who and where: OS user, host, OS, app version, monitors
    source: ImportSource | None  # for imports
    details: CaptureDetails = field(default_factory=CaptureDetails)
    has_annotations: bool = False
    title: str = ""  # a page's or message's title as recorded at intake; "" where none
    # The files kept for it, the primary one first: filled in by ``Vault.capture`` and
    # by ``Vault.captures(artefacts=True)``, empty in plain listings. ``sha256``,
    # ``media_type`` and ``byte_size`` above are those of the primary artefact.
    artefacts: list[Artefact] = field(default_factory=list)
    web: WebSource | None = None  # for web pages: what the capture browser recorded
    messages: MessageSource | None = None  # for e-mails and chat exports: the export

    def summary(self) -> dict[str, Any]:
        """The stable JSON shape that ``list --json`` prints."""
        return {
            "id": self.id,
            "incident": self.incident_id,
            "kind": self.kind.value,
            "captured_at": iso_utc(self.captured_at),
            "sha256": self.sha256,
            "width": self.width,
            "height": self.height,
            # site, url, author, category and (as "note") description
            **{f.summary_key: getattr(self.details, f.name)
               for f in fields.FIELDS if f.summary_key},
        }

    def full(self) -> dict[str, Any]:
        """Everything recorded about the capture, for ``show --json`` and exports."""
        out = self.summary()
        out.update(
            {
                "tz_name": self.tz_name,
                "utc_offset": self.utc_offset,
                "media_type": self.media_type,
                "byte_size": self.byte_size,
                "environment": self.environment,
                "source": self.source.as_dict() if self.source else None,
                "details": self.details.as_dict(),
                "has_annotations": self.has_annotations,
            }
        )
        return out

    def item_summary(self) -> dict[str, Any]:
        """``list --json``: :meth:`summary`, the item's title and, for an e-mail or a
        chat export, its ``message_count``. (``summary`` itself stays as it was:
        bundles of evidence.json schema 1 are made from it.)"""
        out = {**self.summary(), "title": self.title}
        if self.messages is not None:
            out["message_count"] = self.messages.message_count
        return out

    def item_full(self) -> dict[str, Any]:
        """``show --json``: :meth:`full`, the title and every artefact; for a web page
        also its address, status, server and certificate, and all it recorded."""
        out = {**self.full(), "title": self.title,
               "artefacts": [a.as_dict() for a in self.artefacts]}
        if self.web is not None:
            out.update({"final_url": self.web.final_url, "http_status": self.web.http_status,
                        "server_ip": self.web.server_ip,
                        "certificate_sha256": self.web.certificate_sha256,
                        "web": self.web.as_dict()})
        if self.messages is not None:
            out.update({"message_count": self.messages.message_count,
                        "messages": self.messages.as_dict()})
        return out

    @property
    def primary(self) -> Artefact | None:
        """The primary artefact, when the artefacts were loaded with the item."""
        return next((a for a in self.artefacts if a.primary), None)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    at: str  # ISO 8601 UTC with milliseconds
    action: str
    subject: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


def utc_now() -> datetime:
    """Now, in UTC, truncated to milliseconds (what we store and show)."""
    now = datetime.now(UTC)
    return now.replace(microsecond=(now.microsecond // 1000) * 1000)


def iso_utc(moment: datetime) -> str:
    """``2026-11-25T11:52:25.123Z``: unambiguous, sortable, millisecond precision."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_iso_utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
