"""Chat exports written as JSON: Telegram Desktop, Facebook / Messenger / Instagram
"Download your information", and DiscordChatExporter.

Each file is read whole into memory, but only within bounds: at most
:data:`limits.MAX_JSON_BYTES`, and nested at most :data:`limits.MAX_JSON_DEPTH` deep
(checked by a scan of the brackets before the JSON parser sees the file, so a file of
``[[[[…`` 100,000 deep is refused in plain words rather than crashing the parser). A
file cut off while copying is refused with a sentence saying so.

A message whose entry is not what the format should hold (a text that is an object, a
missing text, an unknown type) is kept, not dropped: it becomes a row of kind
``unreadable`` whose text is a short JSON rendering of the entry as it was.

Order: ``Message.index`` counts in the export's own order, whatever it is. Facebook and
Instagram list the newest message first, so there index 0 is the newest; showing a
conversation oldest first is the reader's job (by ``sent_at``). The source's notes say
so when an export runs newest first.

A Telegram "Export Telegram data" of the whole account (``{"chats": {"list": […]}}``)
is taken as ONE item, titled "Telegram export (N chats)", each message's chat name in
``extra["chat"]``; one parse call makes one item, and splitting it is the person's
choice to make with the app's filters, not the importer's.

Attachments: a lone JSON file carries no media, so every photo, video or file it names
is listed with ``omitted=True`` and a note. Where the file named sits next to the JSON
in the export's folder (Telegram's ``photos/…``, DiscordChatExporter's ``--media``
folder), it is kept as an attachment artefact, read within :data:`limits.MAX_MEMBER_BYTES`.
"""

from __future__ import annotations

import io
import json
import mimetypes
import re
from collections.abc import Callable, Iterable
from datetime import datetime
from itertools import accumulate
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from evidence_recorder.core.conversation import (
    MediaFile,
    Message,
    MessageAttachment,
    MessageExport,
    MessageKind,
)
from evidence_recorder.core.errors import RefusedInput
from evidence_recorder.core.gather.messages import limits, times
from evidence_recorder.core.gather.messages.detect import file_facts
from evidence_recorder.core.model import MessageSource

TELEGRAM_PARSER = "telegram/1"
FACEBOOK_PARSER = "facebook/1"
DISCORD_PARSER = "discord/1"

NOT_IN_FILE = "not in the export file"
NOT_IN_EXPORT = "the file was not in the export"
UNREADABLE_CHARS = 2_000  # an unreadable entry is shown as this much of its JSON

# A JSON string, or one left open at the end of a cut-off file (so that no quote is
# tried twice: the scan stays linear whatever the file holds).
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)', re.S)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = [0] * 256
for _open in b"[{":
    _STEP[_open] = 1
for _close in b"]}":
    _STEP[_close] = -1


# --- reading JSON within bounds ----------------------------------------------------------

def _bracket_depths(data: bytes) -> tuple[int, int]:
    """The deepest nesting of ``data`` and the nesting left open at its end (both
    counting brackets outside strings)."""
    brackets = _STRING.sub(b"", data).translate(None, _NOT_BRACKETS)
    deepest = max(accumulate(map(_STEP.__getitem__, brackets), initial=0))
    left_open = brackets.count(b"[") + brackets.count(b"{") - brackets.count(b"]") \
        - brackets.count(b"}")
    return deepest, left_open


def load_json(path: Path, what: str) -> Any:
    """The JSON value in ``path``, or ``RefusedInput`` saying in a sentence why not;
    ``what`` names the export ("Telegram export") in that sentence."""
    size = path.stat().st_size
    if size > limits.MAX_JSON_BYTES:
        raise RefusedInput(f"{path.name} is too large for this app to read as a {what} "
                           f"(it reads up to {limits.MAX_JSON_BYTES // 1024**2} MB).")
    with path.open("rb") as fh:
        data = fh.read(limits.MAX_JSON_BYTES + 1)
    data = data.removeprefix(b"\xef\xbb\xbf")
    deepest, left_open = _bracket_depths(data)
    if deepest > limits.MAX_JSON_DEPTH:
        raise RefusedInput(f"{path.name} is not a {what} this app can read: its contents "
                           f"are nested far deeper than any export ({deepest:,} levels).")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RefusedInput(f"{path.name} is not a {what} this app can read: it is not "
                           f"UTF-8 text (a wrong byte at position {exc.start:,}).") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        if left_open > 0 or exc.pos >= len(text.rstrip()) - 1:
            raise RefusedInput(f"{path.name} is not a complete {what}: the file ends in the "
                               "middle (it may have been cut off while copying).") from None
        raise RefusedInput(f"{path.name} is not a {what} this app can read: its JSON is "
                           f"broken at line {exc.lineno}, column {exc.colno}.") from None
    except ValueError:  # a number of thousands of digits (Python's int limit)
        raise RefusedInput(f"{path.name} is not a {what} this app can read: it holds a "
                           "number far longer than any export writes.") from None
    except RecursionError:  # pragma: no cover - the depth scan comes first
        raise RefusedInput(f"{path.name} is not a {what} this app can read: its contents "
                           "are nested far deeper than any export.") from None
    # JSON may escape half of a UTF-16 pair alone ("\ud83d"), which no text can hold
    # (nor the vault store), or a NUL ("\u0000"), which the vault's search stops at:
    # either is read as U+FFFD. Only escapes can make them.
    return _whole_characters(value) if _HALF_ESCAPE.search(data) else value


_HALF_ESCAPE = re.compile(rb"\\u(?:[dD][89a-fA-F]|0000)")
_LONE_HALF = re.compile("[\ud800-\udfff\x00]")


def _whole_characters(value: Any) -> Any:
    if isinstance(value, str):
        return _LONE_HALF.sub("\ufffd", value)
    if isinstance(value, list):
        return [_whole_characters(v) for v in value]
    if isinstance(value, dict):
        return {_whole_characters(k): _whole_characters(v) for k, v in value.items()}
    return value


def _render(entry: Any) -> str:
    """A short JSON rendering of an entry that could not be read, as the row's text."""
    text = json.dumps(entry, ensure_ascii=False)
    return text if len(text) <= UNREADABLE_CHARS else text[:UNREADABLE_CHARS] + " …"


def _unreadable(index: int, entry: Any, **extra: Any) -> Message:
    return Message(index, "", _render(entry), kind=MessageKind.UNREADABLE, extra=extra)


def _link_replies(replies: list[tuple[Message, Any]], by_id: dict[Any, int],
                  id_type: type, notes: set[str]) -> None:
    """Point each reply at the index of the message it answers (ids as the export writes
    them: numbers for Telegram, strings for Discord); an answer to a message not in the
    export keeps the id it named, with a note."""
    for message, reply in replies:
        if isinstance(reply, id_type) and not isinstance(reply, bool) and reply in by_id:
            message.reply_to = by_id[reply]
        else:
            message.extra["reply_to_id"] = reply
            notes.add("Some messages answer a message that is not in the export.")


def _bounded_text(text: str, notes: set[str]) -> str:
    if len(text) > limits.MAX_MESSAGE_CHARS:
        notes.add(f"Some messages were longer than {limits.MAX_MESSAGE_CHARS:,} characters; "
                  "only their beginning is shown (the export file holds all of it).")
        return text[:limits.MAX_MESSAGE_CHARS]
    return text


def _as_id(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return ""
    return str(value) if isinstance(value, str | int) else ""


def _participants(messages: Iterable[Message]) -> list[str]:
    seen: dict[str, None] = {}
    for message in messages:
        if message.kind is MessageKind.MESSAGE and message.sender:
            seen.setdefault(message.sender, None)
    return list(seen)


TITLE_CHARS = 200  # an item's title is at most this long (the vault takes 300)


def fit_title(title: str) -> str:
    """A chat's name as an item's title: one line, no control characters, not too long
    (the full name stays in the messages and the source)."""
    title = " ".join("".join(c if c.isprintable() else " " for c in title).split())
    return title if len(title) <= TITLE_CHARS else title[:TITLE_CHARS - 1] + "…"


def safe_original_name(path: Path, fallback: str) -> str:
    """The export's own file name as the item's primary artefact name, where the vault
    can take it as one (no backslash, not too long)."""
    name = path.name.replace("\\", "_")
    return name if 0 < len(name) <= 200 and name not in (".", "..") else fallback


# --- files next to the JSON ---------------------------------------------------------------

class _BoundedFile(io.RawIOBase):
    """A file read to exactly ``size`` bytes, however it grows meanwhile."""

    def __init__(self, path: Path, size: int) -> None:
        super().__init__()
        self._fh = path.open("rb", buffering=0)
        self._left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)
        want = min(len(view), self._left)
        if want <= 0:
            return 0
        got = self._fh.readinto(view[:want])
        self._left -= got or 0
        return got or 0

    def close(self) -> None:
        self._fh.close()
        super().close()


class _Media:
    """The attachments of one export: files found beside the JSON are kept (unique safe
    names, bounded), the rest listed as not in the export."""

    def __init__(self, folder: Path, original: str) -> None:
        self.folder = folder.resolve()
        self.files: list[MediaFile] = []
        self._names = {original}
        self._kept: dict[Path, str] = {}
        self.notes: set[str] = set()

    def _local(self, reference: str) -> Path | None:
        if not reference or reference.startswith(("(", "/", "\\")) or "://" in reference \
                or "\x00" in reference:
            return None
        try:
            candidate = (self.folder / reference).resolve()
        except (OSError, ValueError, RuntimeError):
            return None
        if not candidate.is_relative_to(self.folder) or candidate == self.folder:
            return None
        try:
            return candidate if candidate.is_file() else None
        except OSError:
            return None

    def attachment(self, reference: str, media_type: str = "", size: int | None = None,
                   missing_note: str = NOT_IN_FILE, name: str = "") -> MessageAttachment:
        shown = name or reference
        media_type = media_type or mimetypes.guess_type(PurePosixPath(shown).name)[0] or ""
        local = self._local(reference)
        if local is None:
            return MessageAttachment(shown, media_type=media_type, size=size, omitted=True,
                                     note=missing_note)
        if local in self._kept:
            kept = self._kept[local]
            return MessageAttachment(shown, artefact=kept, media_type=media_type,
                                     size=local.stat().st_size)
        actual = local.stat().st_size
        if actual > limits.MAX_MEMBER_BYTES:
            self.notes.add("Some files beside the export were too large to keep "
                           f"(over {limits.MAX_MEMBER_BYTES // 1024**2} MB each).")
            return MessageAttachment(shown, media_type=media_type, size=actual,
                                     note="too large to keep")
        if len(self.files) >= limits.MAX_ATTACHMENTS:
            self.notes.add(f"Only the first {limits.MAX_ATTACHMENTS:,} files beside the "
                           "export were kept.")
            return MessageAttachment(shown, media_type=media_type, size=actual,
                                     note="not kept: too many files")
        artefact = self._unique(local.name)
        self._kept[local] = artefact
        self.files.append(MediaFile(artefact, media_type or "application/octet-stream",
                                    actual, _opener(local, actual), data_hint=reference))
        return MessageAttachment(shown, artefact=artefact, media_type=media_type, size=actual)

    def _unique(self, name: str) -> str:
        name = re.sub(r"[/\\\x00]", "_", name)[:200] or "file"
        stem, dot, ext = name.rpartition(".")
        if not dot:
            stem, ext = name, ""
        candidate, number = name, 1
        while candidate in self._names or candidate in (".", ".."):
            number += 1
            candidate = f"{stem}-{number}.{ext}" if ext else f"{stem}-{number}"
        self._names.add(candidate)
        return candidate


def _opener(path: Path, size: int) -> Callable[[], BinaryIO]:
    def open_it() -> BinaryIO:
        return io.BufferedReader(_BoundedFile(path, size))
    return open_it


# --- Telegram ------------------------------------------------------------------------------

_TELEGRAM_CHAT_NAMES = {"saved_messages": "Saved messages"}


def _telegram_text(value: Any) -> str | None:
    """Telegram's ``text``: a string, or a list of strings and entities; None if neither."""
    if isinstance(value, str):
        return value
    if not isinstance(value, list):
        return None
    parts: list[str] = []
    for piece in value:
        if isinstance(piece, str):
            parts.append(piece)
        elif isinstance(piece, dict) and isinstance(piece.get("text"), str):
            parts.append(piece["text"])
        else:
            return None
    return "".join(parts)


class _TelegramReader:
    def __init__(self, path: Path, media: _Media) -> None:
        self.path = path
        self.media = media
        self.messages: list[Message] = []
        self.notes: set[str] = set()
        self.zone_name, self.zone = times.import_zone()
        self.zone_used = False

    def chat(self, chat: Any, chat_name: str | None) -> None:
        """Read one chat's messages (``chat_name`` set when the file holds several)."""
        entries = chat.get("messages") if isinstance(chat, dict) else None
        if not isinstance(entries, list):
            self.messages.append(_unreadable(len(self.messages), chat))
            self.notes.add("A chat in the export could not be read; it is shown as "
                           "it was written.")
            return
        by_id: dict[int, int] = {}
        replies: list[tuple[Message, Any]] = []
        for entry in entries:
            if len(self.messages) >= limits.MAX_MESSAGES:
                self.notes.add(f"Only the first {limits.MAX_MESSAGES:,} messages were read.")
                return
            message, reply = self.message(len(self.messages), entry)
            if chat_name is not None:
                message.extra["chat"] = chat_name
            self.messages.append(message)
            ident = entry.get("id") if isinstance(entry, dict) else None
            if isinstance(ident, int) and not isinstance(ident, bool):
                if ident in by_id:
                    self.notes.add("Some messages share an id with an earlier one; replies "
                                   "to that id point to the first.")
                else:
                    by_id[ident] = message.index
            if reply is not None:
                replies.append((message, reply))
        _link_replies(replies, by_id, int, self.notes)

    def when(self, entry: dict[str, Any]) -> tuple[str, str] | None:
        """``(sent_at, written_at)``; None when a time is there but cannot be read."""
        written = entry.get("date")
        unix = entry.get("date_unixtime")
        if unix is not None:
            try:
                sent = times.epoch_to_iso(int(str(unix)))
            except (ValueError, OverflowError, OSError):
                return None
            return sent, written if isinstance(written, str) else str(unix)
        if written is None:
            return "", ""
        if not isinstance(written, str):
            return None
        try:
            moment = datetime.fromisoformat(written)
        except ValueError:
            return None
        if moment.tzinfo is not None:
            return times.iso(moment), written
        self.zone_used = True
        return times.naive_to_iso(moment, self.zone), written

    def message(self, index: int, entry: Any) -> tuple[Message, Any]:
        if not isinstance(entry, dict):
            return _unreadable(index, entry), None
        kind_name = entry.get("type", "message")
        text = _telegram_text(entry.get("text"))
        when = self.when(entry)
        sender_key, id_key = ("actor", "actor_id") if kind_name == "service" else (
            "from", "from_id")
        sender = entry.get(sender_key)
        if (kind_name not in ("message", "service") or text is None or when is None
                or not isinstance(sender, str | None)):
            return _unreadable(index, entry, id=_as_id(entry.get("id"))), None
        sent_at, written_at = when
        message = Message(index, sender or "", _bounded_text(text, self.notes),
                          sent_at=sent_at, written_at=written_at,
                          sender_id=_as_id(entry.get(id_key)))
        if isinstance(entry.get("id"), int | str):
            message.extra["id"] = entry["id"]
        if kind_name == "service":
            message.kind = MessageKind.SYSTEM
            action = entry.get("action")
            if isinstance(action, str):
                message.extra["action"] = action
                if not message.text:
                    message.text = action.replace("_", " ")
        edited = entry.get("edited")
        edited_unix = entry.get("edited_unixtime")
        if isinstance(edited, str):
            message.edited_at = edited
        elif edited_unix is not None:
            try:
                message.edited_at = times.epoch_to_iso(int(str(edited_unix)))
            except (ValueError, OverflowError, OSError):
                message.extra["edited_unixtime"] = str(edited_unix)
        for key in ("forwarded_from", "saved_from", "via_bot", "sticker_emoji", "media_type",
                    "title", "members", "poll", "duration_seconds", "discard_reason",
                    "message_id", "location_information", "contact_information"):
            if key in entry:
                message.extra[key] = entry[key]
        for key in ("photo", "file"):
            reference = entry.get(key)
            if isinstance(reference, str):
                media_type = entry.get("mime_type") if key == "file" else "image/jpeg"
                name = key if reference.startswith("(") else ""
                note = NOT_IN_FILE
                if reference.startswith("("):
                    note = f"{NOT_IN_FILE}: Telegram left it out {reference}"
                message.attachments.append(self.media.attachment(
                    reference, media_type if isinstance(media_type, str) else "",
                    missing_note=note, name=name))
        return message, entry.get("reply_to_message_id")


def parse_telegram(path: Path) -> MessageExport:
    """A Telegram Desktop ``result.json``: one chat, or the whole account's chats."""
    file_name, size, mtime = file_facts(path)
    data = load_json(path, "Telegram export")
    original = safe_original_name(path, "result.json")
    media = _Media(path.parent, original)
    reader = _TelegramReader(path, media)
    if isinstance(data, dict) and isinstance(data.get("chats"), dict) \
            and isinstance(data["chats"].get("list"), list):
        chats = list(data["chats"]["list"])
        left = data.get("left_chats")
        if isinstance(left, dict) and isinstance(left.get("list"), list):
            chats += left["list"]
        names = []
        for number, chat in enumerate(chats, 1):
            name = _telegram_chat_name(chat) or f"Chat {number}"
            names.append(name)
            reader.chat(chat, name)
        title = names[0] if len(names) == 1 else f"Telegram export ({len(names)} chats)"
        reader.notes.add(
            f"This is a Telegram export of {len(chats)} chat{'s' if len(chats) != 1 else ''}, "
            "kept as one item; each message says which chat it is from.")
    elif isinstance(data, dict) and isinstance(data.get("messages"), list):
        reader.chat(data, None)
        title = _telegram_chat_name(data) or "Telegram chat"
    else:
        raise RefusedInput(f"{path.name} is not a Telegram chat export: it holds no list "
                           "of messages.")
    notes = sorted(reader.notes | media.notes)
    source = MessageSource(
        format="telegram-json", parser=TELEGRAM_PARSER, file_name=file_name, file_size=size,
        file_mtime=mtime, title=fit_title(title), participants=_participants(reader.messages),
        zone_assumed=reader.zone_name if reader.zone_used else "", notes=notes)
    return MessageExport("chat", source, reader.messages, media=media.files,
                         original_media_type="application/json", original_name=original)


def _telegram_chat_name(chat: Any) -> str:
    if not isinstance(chat, dict):
        return ""
    name = chat.get("name")
    if isinstance(name, str) and name:
        return name
    kind = chat.get("type")
    return _TELEGRAM_CHAT_NAMES.get(kind, "") if isinstance(kind, str) else ""


# --- Facebook, Messenger, Instagram ------------------------------------------------------

def _all_latin1(value: Any) -> bool:
    """True when no string in ``value`` has a character beyond U+00FF (so it may be
    Facebook's mojibake: UTF-8 bytes written as Latin-1 code points)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if any(ord(c) > 0xFF for c in item):
                return False
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True


def repair_mojibake(text: str) -> str:
    """``text`` read back as the UTF-8 bytes it was written from, when that round-trips;
    otherwise ``text`` unchanged."""
    if text.isascii():
        return text
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def _repaired(value: Any) -> Any:
    if isinstance(value, str):
        return repair_mojibake(value)
    if isinstance(value, list):
        return [_repaired(v) for v in value]
    if isinstance(value, dict):
        return {k: _repaired(v) for k, v in value.items()}
    return value


_FB_MEDIA = (("photos", "image/jpeg"), ("videos", "video/mp4"), ("gifs", "image/gif"),
             ("audio_files", "audio/mp4"), ("files", ""))
_FB_SYSTEM = {"Subscribe", "Unsubscribe"}


def _facebook_message(index: int, entry: Any, media: _Media, notes: set[str]) -> Message:
    if not isinstance(entry, dict):
        return _unreadable(index, entry)
    sender = entry.get("sender_name", entry.get("senderName"))
    stamp = entry.get("timestamp_ms", entry.get("timestamp"))
    text = entry.get("content", entry.get("text", ""))
    if not isinstance(sender, str) or not isinstance(text, str) or isinstance(stamp, bool) \
            or not isinstance(stamp, int | float | None):
        return _unreadable(index, entry)
    sent_at = ""
    if stamp is not None:
        try:
            sent_at = times.epoch_to_iso(stamp / 1000)
        except (ValueError, OverflowError, OSError):
            return _unreadable(index, entry)
    message = Message(index, sender, _bounded_text(text, notes), sent_at=sent_at,
                      written_at="" if stamp is None else str(stamp))
    kind = entry.get("type")
    if isinstance(kind, str):
        message.extra["type"] = kind
        if kind in _FB_SYSTEM:
            message.kind = MessageKind.SYSTEM
    for key in ("reactions", "share", "is_unsent", "isUnsent", "call_duration", "users",
                "is_geoblocked_for_viewer"):
        if key in entry:
            message.extra[key] = entry[key]
    share = entry.get("share")
    if not message.text and isinstance(share, dict) and isinstance(share.get("link"), str):
        message.text = share["link"]
    lists = [(key, entry.get(key), kind_type) for key, kind_type in _FB_MEDIA]
    lists.append(("media", entry.get("media"), ""))
    sticker = entry.get("sticker")
    if isinstance(sticker, dict):
        lists.append(("sticker", [sticker], "image/png"))
    for _key, items, media_type in lists:
        if not isinstance(items, list):
            continue
        for item in items:
            uri = item.get("uri") if isinstance(item, dict) else None
            if isinstance(uri, str):
                # The uri is relative to the whole download's root, not to this file:
                # the file is not looked for beside it.
                guessed = mimetypes.guess_type(PurePosixPath(uri).name)[0]
                message.attachments.append(MessageAttachment(
                    uri, media_type=guessed or media_type, omitted=True, note=NOT_IN_FILE))
    return message


def parse_facebook(path: Path) -> MessageExport:
    """A Facebook / Messenger / Instagram ``message_N.json``."""
    file_name, size, mtime = file_facts(path)
    what = "Facebook, Messenger or Instagram chat export"
    data = load_json(path, what)
    if not isinstance(data, dict) or not isinstance(data.get("messages"), list):
        raise RefusedInput(f"{path.name} is not a {what}: it holds no list of messages.")
    notes: set[str] = set()
    if _all_latin1(data):
        repaired = _repaired(data)
        if repaired != data:
            notes.add("Facebook stores text in a garbled form (UTF-8 read as Latin-1); "
                      "it was put right on import. The export file is kept as it was.")
        data = repaired
    original = safe_original_name(path, "message.json")
    media = _Media(path.parent, original)
    messages: list[Message] = []
    for entry in data["messages"]:
        if len(messages) >= limits.MAX_MESSAGES:
            notes.add(f"Only the first {limits.MAX_MESSAGES:,} messages were read.")
            break
        messages.append(_facebook_message(len(messages), entry, media, notes))
    stamps = [m.sent_at for m in messages if m.sent_at]
    if len(stamps) > 1 and stamps[0] > stamps[-1]:
        notes.add("The export lists the newest message first; messages are numbered in "
                  "the export's own order.")
    participants: list[str] = []
    people = data.get("participants")
    for person in people if isinstance(people, list) else []:
        name = person.get("name") if isinstance(person, dict) else person
        if isinstance(name, str) and name and name not in participants:
            participants.append(name)
    for sender in _participants(messages):
        if sender not in participants:
            participants.append(sender)
    title = data.get("title", data.get("threadName"))
    if not isinstance(title, str) or not title:
        title = "Chat with " + ", ".join(participants) if participants else "Chat"
    source = MessageSource(
        format="facebook-json", parser=FACEBOOK_PARSER, file_name=file_name, file_size=size,
        file_mtime=mtime, title=fit_title(title), participants=participants,
        notes=sorted(notes | media.notes))
    return MessageExport("chat", source, messages, media=media.files,
                         original_media_type="application/json", original_name=original)


# --- Discord (DiscordChatExporter) -------------------------------------------------------

_DISCORD_MESSAGES = {"Default", "Reply", "ThreadStarterMessage", "ChatInputCommand",
                     "ContextMenuCommand"}


def _discord_message(index: int, entry: Any, media: _Media,
                     notes: set[str]) -> tuple[Message, Any]:
    if not isinstance(entry, dict):
        return _unreadable(index, entry), None
    author = entry.get("author")
    stamp = entry.get("timestamp")
    text = entry.get("content", "")
    kind = entry.get("type", "Default")
    if not isinstance(author, dict) or not isinstance(stamp, str) or not isinstance(text, str) \
            or not isinstance(kind, str):
        return _unreadable(index, entry), None
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return _unreadable(index, entry), None
    if moment.tzinfo is None:
        return _unreadable(index, entry), None
    name = author.get("name")
    nickname = author.get("nickname")
    sender = nickname if isinstance(nickname, str) and nickname else name
    message = Message(index, sender if isinstance(sender, str) else "",
                      _bounded_text(text, notes), sent_at=times.iso(moment), written_at=stamp,
                      sender_id=_as_id(author.get("id")))
    message.extra["id"] = _as_id(entry.get("id"))
    if kind not in _DISCORD_MESSAGES:
        message.kind = MessageKind.SYSTEM
    message.extra["type"] = kind
    if isinstance(name, str) and name != message.sender:
        message.extra["author_name"] = name
    edited = entry.get("timestampEdited")
    if isinstance(edited, str):
        message.edited_at = edited
    for key in ("isPinned", "reactions", "embeds", "stickers", "mentions",
                "callEndedTimestamp"):
        if entry.get(key):
            message.extra[key] = entry[key]
    attachments = entry.get("attachments")
    for attachment in attachments if isinstance(attachments, list) else []:
        if not isinstance(attachment, dict):
            continue
        url = attachment.get("url")
        file_name = attachment.get("fileName")
        file_size = attachment.get("fileSizeBytes")
        if not isinstance(url, str):
            continue
        message.attachments.append(media.attachment(
            url, size=file_size if type(file_size) is int else None,
            missing_note=NOT_IN_EXPORT,
            name=file_name if isinstance(file_name, str) and file_name else ""))
    reference = entry.get("reference")
    reply = reference.get("messageId") if isinstance(reference, dict) else None
    return message, reply


def parse_discord(path: Path) -> MessageExport:
    """A DiscordChatExporter JSON export of one channel or direct message."""
    file_name, size, mtime = file_facts(path)
    data = load_json(path, "Discord chat export")
    if not isinstance(data, dict) or not isinstance(data.get("messages"), list):
        raise RefusedInput(f"{path.name} is not a Discord chat export: it holds no list "
                           "of messages.")
    notes: set[str] = set()
    original = safe_original_name(path, "discord.json")
    media = _Media(path.parent, original)
    messages: list[Message] = []
    by_id: dict[str, int] = {}
    replies: list[tuple[Message, Any]] = []
    for entry in data["messages"]:
        if len(messages) >= limits.MAX_MESSAGES:
            notes.add(f"Only the first {limits.MAX_MESSAGES:,} messages were read.")
            break
        message, reply = _discord_message(len(messages), entry, media, notes)
        messages.append(message)
        ident = message.extra.get("id") if message.kind is not MessageKind.UNREADABLE else ""
        if ident:
            if ident in by_id:
                notes.add("Some messages appear more than once with the same id; each is "
                          "kept as it appears, and replies point to the first.")
            else:
                by_id[ident] = message.index
        if reply is not None:
            replies.append((message, reply))
    _link_replies(replies, by_id, str, notes)
    guild = data["guild"] if isinstance(data.get("guild"), dict) else {}
    channel = data["channel"] if isinstance(data.get("channel"), dict) else {}
    channel_name = channel.get("name") if isinstance(channel.get("name"), str) else ""
    guild_name = guild.get("name") if isinstance(guild.get("name"), str) else ""
    if guild_name and guild_name != "Direct Messages" and channel_name:
        title = f"{guild_name} – #{channel_name}"
    else:
        title = channel_name or guild_name or "Discord chat"
    stated = data.get("messageCount")
    if isinstance(stated, int) and stated != len(messages):
        notes.add(f"The export says it holds {stated:,} message{'' if stated == 1 else 's'}; "
                  f"{len(messages):,} were found in it.")
    source = MessageSource(
        format="discord-json", parser=DISCORD_PARSER, file_name=file_name, file_size=size,
        file_mtime=mtime, title=fit_title(title), participants=_participants(messages),
        notes=sorted(notes | media.notes))
    return MessageExport("chat", source, messages, media=media.files,
                         original_media_type="application/json", original_name=original)
