"""What every message parser returns, and what the vault keeps of it.

A parser reads one export (an e-mail, a mailbox, a chat export) and returns a
:class:`MessageExport`: facts about the export (:class:`MessageSource`, kept as JSON in
the item's ``source`` column and in its ``capture.added`` audit entry), the messages,
and the files that came with them (:class:`MediaFile`, each kept as its own artefact).
The original file itself is always kept byte for byte as the item's primary artefact;
everything here can be rebuilt from it by the parser version recorded in
``MessageSource.parser``.

Times: ``Message.sent_at`` is ISO 8601 UTC (``2026-11-25T11:52:25.000Z``) or ``""``
when the export gives none that can be read; ``written_at`` is the time exactly as
the export wrote it. When the export's times carry no zone, the parser takes them in
the computer's zone at import and says so in ``MessageSource.zone_assumed`` (the
report repeats it).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, BinaryIO

from evidence_recorder.core.model import MessageSource

__all__ = ["CONTEXT_MESSAGES", "DkimResult", "MediaFile", "Message", "MessageAttachment",
           "MessageExport", "MessageFlag", "MessageKind", "MessageSource", "messages_digest",
           "messages_json"]


class MessageKind(StrEnum):
    """What one row of a conversation is."""

    MESSAGE = "message"  # something a person sent
    SYSTEM = "system"  # the platform's own line ("Messages are end-to-end encrypted")
    UNREADABLE = "unreadable"  # a line the parser could not read, kept as it was


@dataclass(slots=True)
class MessageAttachment:
    """A file a message names. ``artefact`` is the item's artefact holding it, or ""
    when the export left it out ("<Media omitted>") or it could not be kept."""

    name: str  # as the export names it
    artefact: str = ""
    media_type: str = ""
    size: int | None = None
    omitted: bool = False  # the export says the file was left out
    note: str = ""  # why it is not kept, in plain English, where it is not

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MessageAttachment:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(slots=True)
class Message:
    """One message of a conversation, or one e-mail of a mailbox, as parsed.

    ``index`` counts from 0 in the export's own order and never changes: flags, the
    CLI (``messages``, ``flag``) and bundles name a message by it.
    """

    index: int
    sender: str  # as the export shows it ("Mum", "Jane Doe <jane@example.org>")
    text: str = ""
    sent_at: str = ""  # ISO 8601 UTC, "" when the export gives no readable time
    written_at: str = ""  # the time exactly as the export wrote it
    sender_id: str = ""  # a platform id or address where the export has one
    kind: MessageKind = MessageKind.MESSAGE
    reply_to: int | None = None  # the index of the message this one answers
    edited_at: str = ""  # when the export says it was edited (as written), "" if not
    attachments: list[MessageAttachment] = field(default_factory=list)
    # An e-mail's facts: "headers" ([name, value] pairs verbatim, in order), "from",
    # "to", "cc", "date", "subject", "message_id", "received" (the chain, newest
    # first), "dkim" (DkimResult.as_dict()); any format's extra facts otherwise.
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of ``messages --json`` and of a bundle's parsed messages."""
        return {"index": self.index, "sender": self.sender, "sender_id": self.sender_id,
                "sent_at": self.sent_at, "written_at": self.written_at,
                "kind": self.kind.value, "text": self.text, "reply_to": self.reply_to,
                "edited_at": self.edited_at,
                "attachments": [a.as_dict() for a in self.attachments],
                "extra": self.extra}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Message:
        return cls(index=int(data["index"]), sender=str(data.get("sender", "")),
                   text=str(data.get("text", "")), sent_at=str(data.get("sent_at", "")),
                   written_at=str(data.get("written_at", "")),
                   sender_id=str(data.get("sender_id", "")),
                   kind=MessageKind(data.get("kind", MessageKind.MESSAGE.value)),
                   reply_to=data.get("reply_to"), edited_at=str(data.get("edited_at", "")),
                   attachments=[MessageAttachment.from_dict(a)
                                for a in data.get("attachments", [])],
                   extra=dict(data.get("extra") or {}))


@dataclass(slots=True)
class DkimResult:
    """What checking an e-mail's DKIM signature found. ``result`` is one of
    ``pass``, ``fail``, ``none`` (not signed), ``not-checked`` (offline, or the key
    could not be looked up); never a guess."""

    result: str
    domain: str = ""
    selector: str = ""
    key: str = ""  # the public key record looked up, as received (keys rotate)
    checked_at: str = ""  # ISO 8601 UTC
    reason: str = ""  # plain English

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(slots=True)
class MediaFile:
    """A file that came with an export (a picture in a WhatsApp zip, an e-mail's
    attachment), to be kept as an artefact of role ``attachment``.

    ``open`` returns a fresh binary stream of exactly ``size`` bytes (bounded by the
    parser: a zip member is read through a limit, never trusted); ``name`` is the
    artefact name (unique in the item, no path separators).
    """

    name: str
    media_type: str
    size: int
    open: Callable[[], BinaryIO]
    data_hint: str = ""  # e.g. the name the export gave it, where ``name`` differs


@dataclass(slots=True)
class MessageExport:
    """One parsed export: what the vault stores for an e-mail or a chat item."""

    kind: str  # "email" or "chat" (a CaptureKind value)
    source: MessageSource
    messages: list[Message]
    media: list[MediaFile] = field(default_factory=list)
    original_media_type: str = "application/octet-stream"
    original_name: str = ""  # the primary artefact's name, e.g. "chat.txt", "message.eml"

    def finish(self) -> None:
        """Fill in the counts, first and last times and hash of ``source``."""
        src = self.source
        src.message_count = sum(1 for m in self.messages if m.kind is not MessageKind.UNREADABLE)
        src.unreadable_count = sum(1 for m in self.messages if m.kind is MessageKind.UNREADABLE)
        times = sorted(m.sent_at for m in self.messages if m.sent_at)
        src.first_at = times[0] if times else ""
        src.last_at = times[-1] if times else ""
        src.messages_sha256 = messages_digest(self.messages)


def messages_json(messages: list[Message]) -> bytes:
    """The canonical JSON of parsed messages (a bundle's ``messages.json`` holds it)."""
    return json.dumps([m.as_dict() for m in messages], ensure_ascii=False, sort_keys=True,
                      separators=(",", ":")).encode("utf-8")


def messages_digest(messages: list[Message]) -> str:
    """SHA-256 of :func:`messages_json`, made a thousand messages at a time (the same
    bytes, never the whole JSON of a 100,000-message chat in memory at once)."""
    encoder = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(b"[")
    step = 1000
    for start in range(0, len(messages), step):
        batch = encoder.encode([m.as_dict() for m in messages[start:start + step]])
        digest.update(("," if start else "").encode() + batch[1:-1].encode("utf-8"))
    digest.update(b"]")
    return digest.hexdigest()


@dataclass(slots=True)
class MessageFlag:
    """A message the person marked as mattering, with a category and a note."""

    item_id: int
    index: int
    category: str = ""  # a model.Category value or ""
    note: str = ""
    flagged_at: str = ""  # ISO 8601 UTC

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


CONTEXT_MESSAGES = 3  # a flagged message is shown with this many on each side
