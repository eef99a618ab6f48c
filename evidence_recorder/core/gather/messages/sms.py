"""Android "SMS Backup & Restore" XML: text messages (``<sms>``) and picture messages
(``<mms>`` with ``<parts>``), read with defusedxml.

The backup may be a gigabyte, so it is streamed (``iterparse``), each message dropped
from memory once read. XML that defines entities (the "billion laughs" bomb, an entity
naming an outside file) is refused before anything is expanded. An MMS's text parts
are joined as its text; its other parts (pictures, videos) are decoded from base64,
each at most :data:`limits.MAX_MEMBER_BYTES`, and kept as attachment artefacts linked
from the message (in memory until the vault has them: never on disk unencrypted). A
backup that breaks off part way keeps the messages read before the break, with an
``unreadable`` row saying where.

Who sent what: a received message's sender is the contact (its name as the phone had
it, else its number); a sent one's sender is :data:`THIS_PHONE`. The backup does not
hold the phone's own number, so a sent message has no sender id; the number it went
to is in ``extra["to"]``.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as DefusedET
from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden

from evidence_recorder.core.conversation import (
    MediaFile,
    Message,
    MessageAttachment,
    MessageExport,
    MessageKind,
)
from evidence_recorder.core.errors import RefusedInput
from evidence_recorder.core.gather.messages import limits, times
from evidence_recorder.core.gather.messages.chat_json import fit_title, safe_original_name
from evidence_recorder.core.gather.messages.detect import file_facts
from evidence_recorder.core.model import MessageSource

PARSER = "sms/1"
FORMAT = "sms-backup-xml"
THIS_PHONE = "This phone"
_SECONDS_BELOW = 10**11  # a "date" below this is seconds since 1970 (as ms it is 1973)
# The Android "type" of an SMS and "msg_box" of an MMS: 1 is the inbox, the rest were
# written on this phone (2 sent, 3 draft, 4 outbox, 5 failed, 6 queued).
_BOXES = {"1": "received", "2": "sent", "3": "draft", "4": "outbox", "5": "failed",
          "6": "queued"}
_MMS_FROM = "137"  # an <addr type> of PduHeaders.FROM
_NULLS = {"", "null", "(Unknown)"}
_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif",
               "image/webp": "webp", "image/heic": "heic", "video/mp4": "mp4",
               "video/3gpp": "3gp", "audio/amr": "amr", "audio/mpeg": "mp3",
               "text/x-vcard": "vcf", "text/vcard": "vcf"}


# SMS Backup & Restore writes an emoji beyond U+FFFF as two character references, one
# per UTF-16 half ("&#55357;&#56832;"), which XML forbids; they are read as the one
# character they stand for (a lone half as U+FFFD). The file itself is kept as it was.
_HALF = rb"&#(?:5(?:529[6-9]|5[3-9]\d\d|6\d\d\d|7[0-2]\d\d|73[0-3]\d|734[0-3])" \
        rb"|[xX][dD][89a-fA-F][0-9a-fA-F]{2});"  # U+D800..U+DFFF, in decimal or hex
_HALVES = re.compile(rb"(" + _HALF + rb")(" + _HALF + rb")?")
_REFERENCE_TAIL = 24  # a pair of references (16 bytes) starting here may straddle a chunk


def _half(reference: bytes) -> int:
    digits = reference[2:-1]
    return int(digits[1:], 16) if digits[:1] in (b"x", b"X") else int(digits)


def _whole_character(match: re.Match[bytes]) -> bytes:
    high = _half(match[1])
    low = _half(match[2]) if match[2] else 0
    if high <= 0xDBFF and low >= 0xDC00:
        return b"&#%d;" % (0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
    return b"&#65533;" * (2 if match[2] else 1)


class _Halves(io.RawIOBase):
    """The backup's bytes with UTF-16 halves written as character references joined."""

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__()
        self._raw = raw
        self._ready = b""
        self._held = b""
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._ready and not self._done:
            chunk = self._raw.read(1024 * 1024)
            data = self._held + chunk
            if not chunk:
                self._done = True
                self._held = b""
            else:
                cut = data.find(b"&", max(0, len(data) - _REFERENCE_TAIL))
                cut = cut if cut >= 0 else len(data)
                data, self._held = data[:cut], data[cut:]
            self._ready = _HALVES.sub(_whole_character, data)
        size = min(len(buffer), len(self._ready))
        buffer[:size] = self._ready[:size]
        self._ready = self._ready[size:]
        return size


def _value(element: Element, name: str) -> str:
    value = element.get(name, "")
    return "" if value in _NULLS else value


def _when(raw: str) -> tuple[str, bool]:
    """``(sent_at, in_seconds)`` of a ``date`` attribute ("" when it cannot be read)."""
    try:
        number = int(raw)
    except ValueError:
        return "", False
    seconds = number < _SECONDS_BELOW
    try:
        return times.epoch_to_iso(number if seconds else number / 1000), seconds
    except (ValueError, OverflowError, OSError):
        return "", False


class _Reader:
    def __init__(self, original: str) -> None:
        self.messages: list[Message] = []
        self.media: list[MediaFile] = []
        self.notes: set[str] = set()
        self.contacts: dict[str, None] = {}
        self.names = {original}
        self.seen: set[tuple[str, ...]] = set()
        self.repeats = 0

    def _common(self, element: Element, box: str, text: str) -> Message:
        raw_date = element.get("date", "")
        sent_at, in_seconds = _when(raw_date)
        if in_seconds:
            self.notes.add("Some times in the backup are written in seconds rather than "
                           "milliseconds; they were read as seconds.")
        address = _value(element, "address")
        contact = _value(element, "contact_name") or address
        direction = _BOXES.get(box, "")
        message = Message(len(self.messages), "", text, sent_at=sent_at,
                          written_at=element.get("readable_date") or raw_date)
        if direction == "received":
            message.sender, message.sender_id = contact or "Unknown number", address
            message.extra["from"] = address
        else:
            message.sender = THIS_PHONE
            message.extra["to"] = address
        if contact:
            self.contacts.setdefault(contact, None)
        message.extra.update({"contact_name": _value(element, "contact_name"),
                              "direction": direction or box, "date": raw_date})
        date_sent = _value(element, "date_sent")
        if date_sent and date_sent != "0":
            message.extra["date_sent"] = date_sent
        if len(text) > limits.MAX_MESSAGE_CHARS:
            message.text = text[:limits.MAX_MESSAGE_CHARS]
            self.notes.add(f"Some messages were longer than {limits.MAX_MESSAGE_CHARS:,} "
                           "characters; only their beginning is shown (the backup holds "
                           "all of it).")
        return message

    def _remember(self, key: tuple[str, ...]) -> None:
        if key in self.seen:
            self.repeats += 1
        else:
            self.seen.add(key)

    def sms(self, element: Element) -> Message:
        body = element.get("body")
        message = self._common(element, element.get("type", ""), body or "")
        message.extra["kind"] = "sms"
        subject = _value(element, "subject")
        if subject:
            message.extra["subject"] = subject
        self._remember(("sms", element.get("address", ""), element.get("date", ""),
                        element.get("type", ""), body or ""))
        return message

    def mms(self, element: Element) -> Message:
        texts: list[str] = []
        pictures: list[Element] = []
        for part in element.iter("part"):
            kind = (part.get("ct") or "").lower()
            if kind == "application/smil":
                continue
            if kind.startswith("text/plain"):
                text = _value(part, "text")
                if text:
                    texts.append(text)
            else:
                pictures.append(part)
        box = element.get("msg_box", "")
        message = self._common(element, box, "\n".join(texts))
        message.extra["kind"] = "mms"
        if box == "1":  # received: the sender is the <addr> of type FROM where given
            for addr in element.iter("addr"):
                address = _value(addr, "address")
                if addr.get("type") == _MMS_FROM and address and \
                        address != "insert-address-token":
                    message.sender_id = address
                    if not _value(element, "contact_name"):
                        message.sender = address
        subject = _value(element, "sub")
        if subject:
            message.extra["subject"] = subject
        for number, part in enumerate(pictures):
            message.attachments.append(self._part(message.index, number, part))
        self._remember(("mms", element.get("address", ""), element.get("date", ""), box,
                        message.text, str(len(pictures))))
        return message

    def _part(self, index: int, number: int, part: Element) -> MessageAttachment:
        media_type = (part.get("ct") or "application/octet-stream").lower()
        shown = _value(part, "fn") or _value(part, "cl") or _value(part, "name")
        data = part.get("data")
        if not data:
            return MessageAttachment(shown or f"part {number + 1}", media_type=media_type,
                                     omitted=True, note="the backup does not hold this file")
        if len(data) > (limits.MAX_MEMBER_BYTES // 3 + 2) * 4:
            self.notes.add("Some pictures in the backup were too large to keep (over "
                           f"{limits.MAX_MEMBER_BYTES // 1024**2} MB each).")
            return MessageAttachment(shown or f"part {number + 1}", media_type=media_type,
                                     note="too large to keep")
        if len(self.media) >= limits.MAX_ATTACHMENTS:
            self.notes.add(f"Only the first {limits.MAX_ATTACHMENTS:,} pictures and files "
                           "in the backup were kept.")
            return MessageAttachment(shown or f"part {number + 1}", media_type=media_type,
                                     note="not kept: too many files")
        try:
            content = base64.b64decode(data)
        except (binascii.Error, ValueError):
            self.notes.add("Some pictures in the backup could not be decoded; they are "
                           "listed but not kept.")
            return MessageAttachment(shown or f"part {number + 1}", media_type=media_type,
                                     note="its data in the backup could not be decoded")
        name = self._unique(shown, index, number, media_type)
        self.media.append(MediaFile(name, media_type, len(content), _opener(content),
                                    data_hint=shown))
        return MessageAttachment(shown or name, artefact=name, media_type=media_type,
                                 size=len(content))

    def _unique(self, shown: str, index: int, number: int, media_type: str) -> str:
        base = re.sub(r"[^\w.\- ]", "_", shown)[:120].strip(". ")
        if not base:
            base = f"mms-{index}-part-{number + 1}"
        if "." not in base and media_type in _EXTENSIONS:
            base = f"{base}.{_EXTENSIONS[media_type]}"
        stem, _, ext = base.rpartition(".")
        candidate, count = base, 1
        while candidate in self.names:
            count += 1
            candidate = f"{stem}-{count}.{ext}" if stem else f"{base}-{count}"
        self.names.add(candidate)
        return candidate


def _opener(content: bytes) -> Callable[[], BinaryIO]:
    def open_it() -> BinaryIO:
        return io.BytesIO(content)
    return open_it


def _refuse_hostile(path: Path, exc: DefusedXmlException) -> RefusedInput:
    what = "a document type definition" if isinstance(exc, DTDForbidden) else (
        "entity definitions" if isinstance(exc, EntitiesForbidden) else "references to other files")
    return RefusedInput(f"{path.name} contains XML this app will not read ({what}).")


def parse_sms(path: Path) -> MessageExport:
    """An SMS Backup & Restore XML backup, streamed."""
    file_name, size, mtime = file_facts(path)
    if size > limits.MAX_XML_BYTES:
        raise RefusedInput(f"{path.name} is too large for this app to read as a text-message "
                           f"backup (it reads up to {limits.MAX_XML_BYTES // 1024**3} GB).")
    original = safe_original_name(path, "sms-backup.xml")
    reader = _Reader(original)
    stated: str | None = None
    found = 0
    depth = 0
    root: Element | None = None
    broken = ""
    with path.open("rb") as fh:
        events = DefusedET.iterparse(io.BufferedReader(_Halves(fh), 1024 * 1024),
                                     events=("start", "end"), forbid_dtd=False,
                                     forbid_entities=True, forbid_external=True)
        try:
            for event, element in events:
                if event == "start":
                    depth += 1
                    if depth == 1:
                        root = element
                        if element.tag != "smses":
                            raise RefusedInput(f"{path.name} is not a text-message backup: "
                                               "it does not start with <smses>.")
                        stated = element.get("count")
                    continue
                depth -= 1
                if depth != 1:
                    continue
                if element.tag in ("sms", "mms"):
                    found += 1
                    if len(reader.messages) >= limits.MAX_MESSAGES:
                        reader.notes.add(f"Only the first {limits.MAX_MESSAGES:,} messages "
                                         "were read.")
                    else:
                        read = reader.sms if element.tag == "sms" else reader.mms
                        reader.messages.append(read(element))
                if root is not None:
                    root.clear()
        except DefusedXmlException as exc:
            raise _refuse_hostile(path, exc) from None
        except ParseError as exc:
            line, column = getattr(exc, "position", (0, 0))
            broken = f"line {line:,}, column {column + 1:,}"
    if broken and not reader.messages:
        raise RefusedInput(f"{path.name} is not a text-message backup this app can read: its "
                           f"XML breaks off or is broken at {broken}.")
    if broken:
        reader.messages.append(Message(
            len(reader.messages), "", f"(The rest of the backup could not be read: its XML "
            f"breaks off or is broken at {broken}.)", kind=MessageKind.UNREADABLE))
        reader.notes.add(f"The backup breaks off or is broken at {broken}; the messages "
                         "before that point were read.")
    if stated is not None and stated != str(found):
        reader.notes.add(f"The backup says it holds {stated} message"
                         f"{'' if stated == '1' else 's'}; {found:,} were found in it.")
    if reader.repeats:
        reader.notes.add(f"{reader.repeats:,} message{'s' if reader.repeats != 1 else ''} "
                         "appear twice in the backup (same number, time and text); each is "
                         "kept as it appears.")
    contacts = list(reader.contacts)
    source = MessageSource(
        format=FORMAT, parser=PARSER, file_name=file_name, file_size=size, file_mtime=mtime,
        title=fit_title(_title(contacts)), participants=[*contacts, THIS_PHONE],
        notes=sorted(reader.notes))
    return MessageExport("chat", source, reader.messages, media=reader.media,
                         original_media_type="application/xml", original_name=original)


def _title(contacts: list[str]) -> str:
    if not contacts:
        return "Text messages"
    if len(contacts) <= 3:
        names = contacts[0] if len(contacts) == 1 else \
            ", ".join(contacts[:-1]) + " and " + contacts[-1]
        return f"Text messages with {names}"
    rest = len(contacts) - 2
    return f"Text messages with {contacts[0]}, {contacts[1]} and {rest} others"
