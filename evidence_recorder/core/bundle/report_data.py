"""What a report shows, apart from how it is drawn.

Kept apart from :mod:`evidence_recorder.core.bundle.report` so that an export can plan its
report without importing the PDF library, which the report thread imports meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from evidence_recorder.core.conversation import Message, MessageFlag
from evidence_recorder.core.model import Capture, Incident


@dataclass(frozen=True)
class ReportFile:
    """One file of an e-mail or chat export as the report lists it."""

    name: str  # the item's name for it (an attachment as the export named it)
    role: str
    media_type: str
    size: int
    sha256: str
    path: str  # inside the bag ("data/captures/12/report.pdf")


@dataclass(frozen=True)
class ReportCapture:
    capture: Capture
    incident_title: str
    image: bytes  # what to show: the redacted copy for the headteacher when one exists
    # (b"" when the export hands the pictures to render_pdf one by one instead)
    shows_redacted_copy: bool
    original_path: str  # bundle-relative, e.g. "data/captures/12/original.png"; "" when
    # the sender kept the original back (a covered capture sent to the headteacher)
    redacted_path: str | None
    covered: bool = False  # its annotations cover something (at least one redaction)
    # A web page: the names of its full-page picture's parts, in order ("full-page.png",
    # or "full-page-1.png", "full-page-2.png"...; () for any other item), and its other
    # files as (role, bundle path) pairs.
    page_parts: tuple[str, ...] = ()
    web_files: tuple[tuple[str, str], ...] = ()
    # The names of the item's other files the sender kept back with its original (the
    # original is kept because something on it is covered; they would show it).
    kept_back: tuple[str, ...] = ()
    # The full-page picture as page-tall JPEG slices, top to bottom (callers of
    # render_pdf without an export's picture stream; an export hands them over instead).
    slices: tuple[bytes, ...] = ()
    # An e-mail or chat export (capture.messages is set): the messages the report shows
    # (an e-mail's, or a chat's flagged ones with CONTEXT_MESSAGES on each side), in
    # export order; the item's flags; its other files (attachments); the bundle path of
    # its messages.json; and how many e-mails (or flagged messages) were left out of the
    # report for its length (they are all in messages.json).
    messages: tuple[Message, ...] = ()
    flags: tuple[MessageFlag, ...] = ()
    files: tuple[ReportFile, ...] = ()
    messages_path: str = ""
    left_out: int = 0


@dataclass(frozen=True)
class ReportData:
    exported_at: datetime  # UTC
    exported_by: str  # may be ""
    role: str
    audience: str  # "headteacher" or "police"
    incidents: list[Incident]
    captures: list[ReportCapture]  # in timeline order
    fingerprint: str  # "SHA256:..." as ssh-keygen prints it
    app_version: str
    bundle_name: str
    timestamped: bool
    # The same key as twelve groups of five digits (core.sealnumber), to read by phone;
    # "" for callers that have no key.
    seal_number: str = ""
