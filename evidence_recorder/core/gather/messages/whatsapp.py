"""WhatsApp "Export chat" files: the ``.txt`` alone, or the ``.zip`` with the media.

Owns the line formats of both apps: Android (``12/31/20, 11:59 PM - Name: text``,
``31.12.20, 23:59 - …``) and iOS (``[31/12/2020, 23:59:59] Name: text``,
``[3/18/22 14:56:01] …``), in any locale this knows of, and the machinery that reads a
dated-line chat text as a stream (``read_chat``, also used by ``signal``).

How a file is read, and why:
* Line by line, never whole: a 2 GB export costs the memory of its messages, not of
  its bytes. Every bound is in ``limits``.
* The order of day and month and the clock are worked out from the WHOLE file after
  one pass (a first field above 12 means day first, a second above 12 month first;
  where no date settles it, the order in which the messages run decides, and where
  even that cannot, the dates are called "ambiguous" and the notes say which reading
  was used). The direction marks WhatsApp puts around dates and names (U+200E, U+200F,
  U+202F, no-break spaces) are ignored for reading and kept in ``written_at``.
* Times carry no zone: they are taken in the computer's zone at import, said so in
  ``zone_assumed``. A calendar this cannot convert safely leaves ``sent_at`` empty,
  with a note, rather than a guess.
* A line that starts like a date but cannot be read is kept as an unreadable row;
  a file with no line that can be read at all is refused.
* Undecodable bytes: UTF-8 (with or without a BOM) is what WhatsApp writes; UTF-16
  with a BOM is read too. Bytes that are not UTF-8 are shown as U+FFFD and a note
  counts the lines concerned: the original file is kept byte for byte anyway, so the
  conversation stays readable rather than being refused for one bad byte.
* A zip's members are never extracted to disk; each is read through a bounded
  stream, its declared size checked against the bytes it really gives, and the zip
  refused outright when it looks like a bomb (too many members, too much unpacked,
  an unlikely ratio, overlapping entries).
"""

from __future__ import annotations

import io
import itertools
import mimetypes
import re
import stat
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import BinaryIO

from evidence_recorder.core.conversation import (
    MediaFile,
    Message,
    MessageAttachment,
    MessageExport,
    MessageKind,
    MessageSource,
)
from evidence_recorder.core.errors import RefusedInput
from evidence_recorder.core.gather.messages import detect, limits, times

PARSER = "whatsapp/1"
NOT_A_CHAT = ("{name} does not look like a WhatsApp chat export: no line starts with a date "
              "and time, as “12/31/20, 11:59 - Name: text” does.")

# Marks WhatsApp (and the bidirectional text of some locales) put into lines: deleted
# for reading; spaces that are not plain spaces read as spaces; the Arabic comma as one.
_DELETED = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
CLEAN: dict[int, str | None] = {ord(c): None for c in _DELETED}
CLEAN.update({0xA0: " ", 0x202F: " ", 0x2009: " ", 0x2007: " ", 0x060C: ","})
_CLEAN = CLEAN
_LEADING_MARKS = "\u200e\u200f"

_ERA = r"(?:[A-Z]|令和|平成)?"
_DATE = (rf"(?P<a>{_ERA}\d{{1,4}})[./-] ?(?P<b>\d{{1,2}})[./-] ?(?P<c>{_ERA}\d{{1,4}})\.?"
         r"(?P<era> ?(?:BE|B\.E\.|พ\.ศ\.))?")
_TIME = (r"(?P<h>\d{1,2})[:.](?P<mi>\d{2})(?:[:.](?P<s>\d{2}))?"
         r"(?: ?(?P<ap>[AaPp]\.? ?[Mm]\.?|午前|午後|上午|下午|vorm\.|nachm\.|ص|م))?")
IOS_HEADER = re.compile(rf"\[(?P<when>{_DATE},? {_TIME})\] ?(?P<rest>.*)", re.S)
ANDROID_HEADER = re.compile(rf"(?P<when>{_DATE},? {_TIME}) [-–] (?P<rest>.*)", re.S)


def header(clean: str) -> re.Match[str] | None:
    """The dated header of a cleaned line (marks taken out), iOS or Android, or None."""
    return IOS_HEADER.match(clean) if clean[:1] == "[" else ANDROID_HEADER.match(clean)


_MARKS = re.compile("[" + _DELETED + "\u00a0\u202f\u2009\u2007\u060c]")
# A line that starts with a date and a time but is not a message's first line (cut, or
# garbled): kept as unreadable rather than glued to the message before it. A line that
# merely starts with a date ("12/25/2024 was great") is the message's next line.
_DATEISH = re.compile(r"\[?\d{1,4}[./-] ?\d{1,2}[./-] ?\S{1,6},? \d{1,2}[:.]\d{2}")

_AM = {"am", "a.m.", "a. m.", "a.m", "午前", "上午", "vorm.", "ص"}
_ERA_BASE = {"R": 2018, "令和": 2018, "H": 1988, "平成": 1988}
_PHONE = re.compile(r"\+?[\d ()\-‑]{7,}")

# "<Media omitted>" as Android writes it, in the locales known here.
_ANDROID_OMITTED = {
    "<Media omitted>", "<Média vynechány>", "<Без медиафайлов>", "<Medien ausgeschlossen>",
    "<Médias omis>", "<Multimedia omitido>", "<Media weggelaten>", "<Mídia oculta>",
    "<Media omessi>", "<Medya dahil edilmedi>", "<Pominięto multimedia>",
}
# "IMG-….jpg (file attached)", and its translations.
_ATTACHED_LABELS = {
    "file attached", "soubor byl přiložen", "файл добавлен", "Datei angehängt",
    "archivo adjunto", "fichier joint", "file allegato", "bestand bijgevoegd",
    "arquivo anexado", "dosya ekli", "plik załączony",
}
_ANDROID_FILE = re.compile(r"(?P<name>[^<>/\\\n]+?\.[A-Za-z0-9]{1,5}) \((?P<label>[^()\n]{3,40})\)")
# iOS: "<attached: 00000012-PHOTO-….jpg>" (the word translated in other locales).
_IOS_ATTACHED = re.compile(r"<[^<>:\n]{2,30}: ?(?P<name>[^<>/\\\n]+?\.[A-Za-z0-9]{1,5})>")
# iOS: "image omitted", "Some file.txt ‎document omitted", in the locales known here.
_IOS_OMITTED_WORDS = ("omitted", "omitida", "omitido", "absente", "omis", "manquant", "retiré",
                      "weggelassen", "ausgelassen", "отсутствует", "не добавлен",
                      "含まれていません", "省略", "ไม่มี", "ละเว้น", "ถูกลบ", "لم يتم إدراج",
                      "تم حذف", "हटाई",
                      "\u091b\u094b\u095c\u093e", "\u091b\u094b\u0921\u093c\u093e")
_FILE_NAME = re.compile(r"[^<>/\\\n]+\.[A-Za-z0-9]{1,5}")


# A message's date and time as its header gave them: the strings of the fields a, b, c
# (day, month, year in an order found later), era, hour, minute, second, AM/PM. Read
# once the whole file is known: the order of day and month belongs to the file.
_When = list[str | None]


@dataclass
class ChatText:
    """What one pass over a chat text found."""

    messages: list[Message] = field(default_factory=list)
    whens: list[_When | None] = field(default_factory=list)  # per message
    ios_lines: int = 0
    android_lines: int = 0
    participants: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    date_order: str = ""
    clock: str = ""


class _Bounds:
    """Counts what a file has cost so far, against ``limits``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.text_bytes = 0
        self.cut_lines = 0
        self.bad_lines = 0
        self.cut_messages = 0


def _lines(stream: BinaryIO, bounds: _Bounds) -> Iterator[str]:
    """The text's lines without their ends, read as a stream a block at a time: UTF-8
    (a BOM dropped), or UTF-16 where its BOM says so. A line beyond
    ``MAX_LINE_BYTES`` is cut (the rest of it skipped, never held)."""
    head = stream.read(4)
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        yield from _utf16_lines(head, stream, bounds)
        return
    if head[:3] == b"\xef\xbb\xbf":
        head = head[3:]
    limit = limits.MAX_LINE_BYTES
    carry = head
    skipping = False  # inside the rest of an overlong line
    while True:
        block = stream.read(_BLOCK)
        if not block:
            break
        bounds.text_bytes += len(block)
        if bounds.text_bytes > limits.MAX_PARSED_TEXT_BYTES:
            raise RefusedInput(_too_much_text(bounds.name))
        if skipping:
            end = block.find(b"\n")
            if end < 0:
                continue
            block = block[end + 1:]
            skipping = False
        data = carry + block if carry else block
        cut = data.rfind(b"\n")
        if cut < 0:
            carry = data
            if len(carry) > limit:
                bounds.cut_lines += 1
                yield _decode(carry[:limit], bounds).rstrip("\r")
                carry = b""
                skipping = True
            continue
        carry = data[cut + 1:]
        yield from _block_lines(data[:cut], bounds, limit)
    if carry and not skipping:
        yield from _block_lines(carry, bounds, limit)


_BLOCK = 1024 * 1024


def _decode(raw: bytes, bounds: _Bounds) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        bounds.bad_lines += 1
        return raw.decode("utf-8", errors="replace")


def _block_lines(chunk: bytes, bounds: _Bounds, limit: int) -> list[str]:
    """The lines of whole lines' bytes (split on "\\n" only: a message may hold other
    line separators)."""
    try:
        text = chunk.decode("utf-8")
    except UnicodeDecodeError:
        lines = [_decode(raw, bounds) for raw in chunk.split(b"\n")]
    else:
        lines = text.split("\n")
    if b"\r" in chunk:
        lines = [ln[:-1] if ln[-1:] == "\r" else ln for ln in lines]
    if len(chunk) > limit:
        for i, ln in enumerate(lines):
            if len(ln) > limit:
                bounds.cut_lines += 1
                lines[i] = ln[:limit]
    return lines


def _utf16_lines(head: bytes, stream: BinaryIO, bounds: _Bounds) -> Iterator[str]:
    rest = io.BufferedReader(_Prefixed(head, stream))
    text = io.TextIOWrapper(rest, encoding="utf-16", errors="replace", newline=None)
    limit = limits.MAX_LINE_BYTES // 2
    while True:
        line = text.readline(limit)
        if not line:
            return
        bounds.text_bytes += 2 * len(line)
        if bounds.text_bytes > limits.MAX_PARSED_TEXT_BYTES:
            raise RefusedInput(_too_much_text(bounds.name))
        if len(line) >= limit and not line.endswith("\n"):
            bounds.cut_lines += 1
            while (more := text.readline(limit)) and not more.endswith("\n"):
                bounds.text_bytes += 2 * len(more)
        if "\ufffd" in line:
            bounds.bad_lines += 1
        yield line.lstrip("\ufeff").rstrip("\r\n")


class _Prefixed(io.RawIOBase):
    """``head`` then the rest of ``stream``: the bytes sniffed are not lost."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self._head = head
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._stream.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)


def _too_much_text(name: str) -> str:
    return (f"{name} holds more text than this app reads from one chat export "
            f"({limits.MAX_PARSED_TEXT_BYTES // 1024**2} MB).")


def _raw_index(line: str, clean_index: int) -> int:
    """Where, in ``line`` as written, the character at ``clean_index`` of its cleaned
    form is (marks deleted by cleaning shift positions)."""
    kept = 0
    for pos, char in enumerate(line):
        if kept == clean_index:
            return pos
        if char not in _DELETED:
            kept += 1
    return len(line)


def read_chat(stream: BinaryIO, name: str) -> ChatText:
    """One pass over a dated-line chat text (WhatsApp, Signal): messages with their
    text, sender and time as written; times are filled in by :func:`settle_times`."""
    bounds = _Bounds(name)
    chat = ChatText()
    messages = chat.messages
    whens = chat.whens
    senders: dict[str, tuple[str, str]] = {}  # as written -> (sender, sender id)
    message: Message | None = None  # the message being read
    more: list[str] = []  # its lines after the first
    chars = 0
    undated = 0  # lines before the first dated one, or that look dated but are not
    ios_match = IOS_HEADER.match
    android_match = ANDROID_HEADER.match
    dateish = _DATEISH.match
    marks = _MARKS.search
    max_chars = limits.MAX_MESSAGE_CHARS
    max_messages = limits.MAX_MESSAGES
    chat_kind = MessageKind.MESSAGE
    system_kind = MessageKind.SYSTEM

    def close() -> None:
        if message is not None and more:
            while more and not more[-1].strip():
                more.pop()
            if more:
                message.text = "\n".join([message.text, *more])
            more.clear()

    for line in _lines(stream, bounds):
        clean = line if line.isascii() or not marks(line) else line.translate(_CLEAN)
        lead = clean[:1]
        found = None
        if lead == "[":
            found = ios_match(clean)
        elif lead.isdigit() or lead.isupper():
            found = android_match(clean)
        if found is None:
            if message is not None and not dateish(clean):
                if chars < max_chars:
                    more.append(line)
                    chars += len(line) + 1
                    if chars >= max_chars:
                        bounds.cut_messages += 1
                continue
            if message is None and not clean.strip():
                continue  # blank lines before the first message
            close()
            message = None
            undated += 1
            messages.append(Message(len(messages), "", line, kind=MessageKind.UNREADABLE))
            whens.append(None)
            continue
        close()
        index = len(messages)
        if index >= max_messages:
            raise RefusedInput(f"{name} holds more messages than this app reads from one "
                               f"chat export ({max_messages:,}).")
        when, *parts, rest = found.groups()
        whens.append(parts)
        ios = lead == "["
        if ios:
            chat.ios_lines += 1
        else:
            chat.android_lines += 1
        if clean is line:
            written = when
            first_mark = ""
        else:
            start, end = found.span(1)
            written = line[_raw_index(line, start):_raw_index(line, end)].strip(_LEADING_MARKS)
            rest = line[_raw_index(line, found.start(len(parts) + 2)):]
            first_mark = line[:1] if line[:1] in _LEADING_MARKS else ""
        colon = rest.find(":")
        known = senders.get(rest[:colon]) if 0 < colon <= 200 else None
        if known is None and 0 < colon <= 200:
            sender = _sender(rest[:colon])
            known = (sender, _sender_id(sender)) if sender else ("", "")
            senders[rest[:colon]] = known
        if known and known[0] and rest[colon - 1] != " ":
            text = rest[colon + 1:]
            if text[:1] == " ":
                text = text[1:]
            kind = chat_kind
            if text[:1] in _LEADING_MARKS and text:
                # iOS marks the app's own words: the first line's "Messages and calls
                # are end-to-end encrypted", "Your security code … changed" (two marks)
                if ios and not first_mark and (chat.ios_lines == 1
                                               or text[1:2] in _LEADING_MARKS):
                    kind = system_kind
                text = text.lstrip(_LEADING_MARKS)
            message = Message(index, known[0], text, written_at=written, sender_id=known[1],
                              kind=kind)
            if ios and first_mark:
                message.extra["marked"] = True  # iOS marks its attachment lines
        else:
            message = Message(index, "", rest, written_at=written, kind=system_kind)
        messages.append(message)
        chars = len(message.text)
    close()
    if not any(m.kind is not MessageKind.UNREADABLE for m in messages):
        raise RefusedInput(NOT_A_CHAT.format(name=name))
    chat.participants = list(dict.fromkeys(v[0] for v in senders.values() if v[0]))
    if undated:
        chat.notes.append(f"{undated} line(s) could not be read as messages; they are kept "
                          "as they were, marked unreadable.")
    if bounds.bad_lines:
        chat.notes.append(f"{bounds.bad_lines} line(s) held bytes that are not UTF-8 text; "
                          "those characters are shown as “\ufffd”. The original file is "
                          "kept unchanged.")
    if bounds.cut_lines:
        chat.notes.append(f"{bounds.cut_lines} line(s) longer than "
                          f"{limits.MAX_LINE_BYTES // 1024**2} MB were cut short here; the "
                          "original file is kept whole.")
    if bounds.cut_messages:
        chat.notes.append(f"{bounds.cut_messages} message(s) longer than "
                          f"{limits.MAX_MESSAGE_CHARS:,} characters were cut short here; "
                          "the original file is kept whole.")
    return chat


def _sender(written: str) -> str:
    """The sender's name from what precedes the first colon, or "" when that is not a
    name (a line of the app's own such as `Alice created group "Class 7: maths"`)."""
    sender = written.translate(_CLEAN).strip()
    if not sender or sender.count('"') % 2 or sender.count("“") != sender.count("”"):
        return ""
    return sender


def _sender_id(sender: str) -> str:
    if _PHONE.fullmatch(sender):
        digits = "".join(c for c in sender if c.isdigit())
        return ("+" if sender.startswith("+") else "") + digits
    return ""


# --------------------------------------------------------------------------- times

def _year(field_: str, era: str) -> int | None:
    """The Gregorian year of a date's year field, or ``None`` where the calendar is
    not one this converts safely."""
    prefix = field_.rstrip("0123456789")
    number = int(field_[len(prefix):])
    if prefix:
        base = _ERA_BASE.get(prefix)
        return None if base is None or number < 1 else base + number
    if era:
        return number - 543 if number > 2400 else None  # Thai Buddhist era
    if len(field_) <= 2:
        return 2000 + number
    return number if 1970 <= number <= 2100 else None


def settle_times(chat: ChatText, zone_name: str, zone: tzinfo) -> None:
    """Work out the order of day and month and the clock from every date of the
    file, then fill in each message's ``sent_at`` (ISO UTC) taken in ``zone``."""
    dated = [w for w in chat.whens if w is not None]
    if not dated:
        return
    notes = chat.notes
    firsts = {w[0] for w in dated}
    seconds = {w[1] for w in dated}
    if any(not str(f).isdigit() or len(str(f)) == 4 for f in firsts):
        chat.date_order = "year-first"
        order = "ymd"
    else:
        day_first = any(int(str(f)) > 12 for f in firsts)
        month_first = any(int(str(f)) > 12 for f in seconds)
        if day_first and month_first:
            chat.date_order = "ambiguous"
            by_day = sum(1 for w in dated if int(str(w[0])) > 12)
            by_month = sum(1 for w in dated if int(str(w[1])) > 12)
            order = "dmy" if by_day >= by_month else "mdy"
            notes.append("Some dates in this export can only be read day first and others "
                         "only month first; they were read "
                         f"{'day' if order == 'dmy' else 'month'} first, and the messages "
                         "whose dates cannot be read that way have no time.")
        elif day_first or month_first:
            order = "dmy" if day_first else "mdy"
            chat.date_order = "day-first" if day_first else "month-first"
        else:
            order = _order_by_sequence(dated)
            if order:
                chat.date_order = "day-first" if order == "dmy" else "month-first"
                notes.append("No date in this export has a day above 12, so the order of "
                             f"day and month was taken from the order of the messages: "
                             f"{'day' if order == 'dmy' else 'month'} first.")
            else:
                order = "dmy"
                chat.date_order = "ambiguous"
                notes.append("The dates in this export can be read day first or month first "
                             "(no day is above 12 and the order of the messages does not "
                             "settle it); they were read day first, as in the UK. Read "
                             "month first they would be other dates.")
    twelve = sum(1 for w in dated if w[7])
    chat.clock = "12-hour" if twelve else "24-hour"
    if twelve and twelve != len(dated):
        notes.append("Some times in this export have AM/PM and some do not; each was read "
                     "as written.")
    days: dict[tuple[str | None, ...], tuple[int, int, int] | None] = {}
    hours: dict[tuple[int, int, int, int], str | None] = {}  # -> "YYYY-MM-DDTHH:" in UTC
    unreadable_calendar = impossible = 0
    for message, when in zip(chat.messages, chat.whens, strict=True):
        if when is None:
            continue
        a, b, c, era, h, mi, sec, ap = when
        day_key = (a, b, c, era)
        if day_key in days:
            ymd = days[day_key]
        else:
            ymd = days[day_key] = _ymd(str(a), str(b), str(c), (era or "").strip(), order)
        if ymd is None:
            unreadable_calendar += 1
            continue
        hour = int(str(h))
        if ap and hour <= 12:
            hour = hour % 12 + (0 if ap.lower() in _AM else 12)
        hour_key = (*ymd, hour)
        prefix = hours.get(hour_key, "")
        if prefix == "":
            prefix = _utc_hour(hour_key, zone)
            hours[hour_key] = prefix
        minute, second = str(mi), sec or "00"
        if prefix is None or int(minute) > 59 or int(second) > 59:
            impossible += 1
            continue
        if prefix[-1] == ":":
            message.sent_at = f"{prefix}{minute}:{second}.000Z"
        else:  # a zone whose offset is not whole hours: the long way
            moment = datetime(*ymd, hour, int(minute), int(second))  # naive, in ``zone``
            message.sent_at = times.naive_to_iso(moment, zone)
    if unreadable_calendar:
        notes.append(f"{unreadable_calendar} message(s) are dated in a calendar this app "
                     "does not convert, or in a year it does not expect (the date is kept "
                     "as written); they have no time.")
    if impossible:
        notes.append(f"{impossible} message(s) have a date or time that does not exist "
                     "(kept as written); they have no time.")
    notes.append(f"The times in this export carry no time zone; they were taken as "
                 f"{zone_name} time, the zone of this computer at import.")
    chat.whens = []  # read: their memory is not needed any more


def _ymd(a: str, b: str, c: str, era: str, order: str) -> tuple[int, int, int] | None:
    """(year, month, day) in the Gregorian calendar, or None where it cannot be read."""
    if order == "ymd":
        year, month, day = _year(a, era), int(b), int(c)
    elif order == "dmy":
        year, month, day = _year(c, era), int(b), int(a)
    else:
        year, month, day = _year(c, era), int(a), int(b)
    if year is None:
        return None
    return year, month, day


def _utc_hour(key: tuple[int, int, int, int], zone: tzinfo) -> str | None:
    """The start of that local hour in UTC as "YYYY-MM-DDTHH:", or the full ISO time of
    its start when the zone's offset is not whole hours (then minutes shift too), or
    None when no such date or hour exists."""
    try:
        moment = datetime(*key)  # naive: a local time in ``zone``
    except ValueError:
        return None
    offset = zone.utcoffset(moment) or timedelta(0)
    if offset % timedelta(hours=1):
        return "!"  # not whole hours: each time is converted on its own
    utc = moment - offset
    return f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:"


def _order_by_sequence(dated: list[_When]) -> str:
    """"dmy" or "mdy": the reading under which the messages run forward in time more
    often, or "" when both readings are equally good."""
    def backwards(order: str) -> int:
        count = 0
        last: tuple[int, ...] | None = None
        for w in dated:
            first, second = int(str(w[0])), int(str(w[1]))
            day, month = (first, second) if order == "dmy" else (second, first)
            key = (_year(str(w[2]), (w[3] or "").strip()) or 0, month, day)
            if last is not None and key < last:
                count += 1
            last = key
        return count
    dmy, mdy = backwards("dmy"), backwards("mdy")
    if dmy == mdy:
        return ""
    return "dmy" if dmy < mdy else "mdy"


# --------------------------------------------------------------------- attachments

def _attachments(chat: ChatText, media: dict[str, str], sizes: dict[str, tuple[str, int]],
                 in_zip: bool) -> None:
    """Link each message naming a file to the zip's media (``media``: the name as
    written -> artefact name) or mark it left out, as the export says."""
    for message in chat.messages:
        marked = bool(message.extra) and message.extra.pop("marked", False)
        if message.kind is not MessageKind.MESSAGE:
            continue
        text = message.text
        if not marked and "<" not in text and ")" not in text:
            continue  # names no file: most messages
        first = text.partition("\n")[0]
        clean = (first if first.isascii() or not _MARKS.search(first)
                 else first.translate(_CLEAN)).strip()
        attachment: MessageAttachment | None = None
        if clean in _ANDROID_OMITTED:
            attachment = MessageAttachment("", omitted=True,
                                           note="The export left this file out.")
        elif (found := _IOS_ATTACHED.search(clean) or _android_file(clean, media)):
            attachment = MessageAttachment(found.group("name").strip())
        elif marked and _ios_omitted(first):
            last = re.split("[\u200e\u200f]", first)
            before = last[0].translate(_CLEAN).split(" • ")[0].strip() if len(last) > 1 else ""
            name = before if _FILE_NAME.fullmatch(before) else ""
            attachment = MessageAttachment(name, omitted=True,
                                           note="The export left this file out.")
        if attachment is None:
            continue
        if not attachment.omitted:
            artefact = media.get(attachment.name)
            if artefact:
                attachment.artefact = artefact
                attachment.media_type, attachment.size = sizes[artefact]
            elif in_zip:
                attachment.note = "The export names this file, but it is not in the zip."
            else:
                attachment.note = ("This file came with the export, but only the chat's "
                                   "text was imported.")
        message.attachments.append(attachment)


def _android_file(clean: str, media: dict[str, str]) -> re.Match[str] | None:
    """"IMG-….jpg (file attached)" (the label known here, or the file in the zip)."""
    found = _ANDROID_FILE.fullmatch(clean)
    if found and (found.group("label") in _ATTACHED_LABELS or found.group("name") in media):
        return found
    return None


def _ios_omitted(first: str) -> bool:
    """Whether an iOS line WhatsApp marked (a leading U+200E) says a file was left
    out: its last marked part is short and says so in a locale known here."""
    tail = re.split("[\u200e\u200f]", first)[-1]
    return len(tail) < 60 and any(word in tail for word in _IOS_OMITTED_WORDS)


# --------------------------------------------------------------------- the exports

def _title(file_name: str, participants: list[str]) -> str:
    stem = file_name.rsplit(".", 1)[0].translate(_CLEAN)
    found = re.search(r"(?:[^\W\d_]+\s+)?WhatsApp\b.*", stem)
    if found:
        return found.group(0).strip()
    shown = participants[:4]
    return ", ".join(shown) + (", …" if len(participants) > 4 else "")


def build_export(chat: ChatText, path: Path, *, fmt: str, parser: str,
                 media: list[MediaFile], original_media_type: str, original_name: str,
                 title: str) -> MessageExport:
    """The export of a chat read by :func:`read_chat`: its times settled in this
    computer's zone, and the facts of the file it came from."""
    name, size, mtime = detect.file_facts(path)
    zone_name, zone = times.import_zone()
    settle_times(chat, zone_name, zone)
    source = MessageSource(format=fmt, parser=parser, file_name=name, file_size=size,
                           file_mtime=mtime, title=title, participants=chat.participants,
                           zone_assumed=zone_name, date_order=chat.date_order,
                           clock=chat.clock, notes=chat.notes)
    return MessageExport("chat", source, chat.messages, media=media,
                         original_media_type=original_media_type, original_name=original_name)


def _format(chat: ChatText) -> str:
    return "whatsapp-ios" if chat.ios_lines > chat.android_lines else "whatsapp-android"


def parse_text(path: Path) -> MessageExport:
    """A WhatsApp chat exported without media (the ``.txt``)."""
    name, size, _ = detect.file_facts(path)
    if size > limits.MAX_PARSED_TEXT_BYTES:
        raise RefusedInput(_too_much_text(name))
    with path.open("rb", buffering=1024 * 1024) as stream:
        chat = read_chat(stream, name)
    _attachments(chat, {}, {}, in_zip=False)
    return build_export(chat, path, fmt=_format(chat), parser=PARSER, media=[],
                        original_media_type="text/plain", original_name="chat.txt",
                        title=_title(name, chat.participants))


# ---------------------------------------------------------------------------- zips

ORIGINAL_ZIP = "chat.zip"
_RATIO_FLOOR = 1024 * 1024  # members smaller than this unpack to too little to matter


def _refuse_zip(name: str, why: str) -> RefusedInput:
    return RefusedInput(f"{name} cannot be taken in as a WhatsApp export: {why}")


def _check_directory(path: Path, name: str) -> None:
    """Refuse a zip whose central directory alone is too big, before reading it."""
    end_record = getattr(zipfile, "_EndRecData", None)
    if end_record is None:
        return
    with path.open("rb") as fh:
        try:
            record = end_record(fh)
        except OSError:
            record = None
    if not record:
        raise _refuse_zip(name, "it is not a readable ZIP file.")
    if record[getattr(zipfile, "_ECD_ENTRIES_TOTAL", 4)] > limits.MAX_ZIP_MEMBERS:
        raise _refuse_zip(name, f"it holds more than {limits.MAX_ZIP_MEMBERS:,} files.")


def _safe_name(member: str, used: set[str]) -> str:
    """An artefact name from a member's name: no folders, no control characters,
    unique in the item."""
    base = member.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in base if c.isprintable()).strip().strip(".") or "file"
    base = base[:150]
    stem, dot, ext = base.rpartition(".")
    if not dot or not stem:
        stem, ext, dot = base, "", ""
    candidate, n = base, 1
    while candidate in used:
        n += 1
        candidate = f"{stem} ({n}){dot}{ext}"
    used.add(candidate)
    return candidate


class _MemberReader(io.RawIOBase):
    """One zip member as a binary stream of exactly its declared size, opened on the
    first read (an export may have thousands), refused if the bytes do not match."""

    def __init__(self, path: Path, info: zipfile.ZipInfo, name: str) -> None:
        self._path = path
        self._info = info
        self._name = name
        self._archive: zipfile.ZipFile | None = None
        self._member: BinaryIO | None = None
        self._got = 0
        self._done = False

    def readable(self) -> bool:
        return True

    def _fail(self) -> RefusedInput:
        self.close()
        return RefusedInput(f"The file “{self._name}” in the WhatsApp export changed or is "
                            "damaged; nothing was saved.")

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._done:
            return 0
        try:
            if self._member is None:
                self._archive = zipfile.ZipFile(self._path)
                self._member = self._archive.open(self._info)  # type: ignore[assignment]
            assert self._member is not None
            want = min(len(buffer), self._info.file_size - self._got + 1)
            data = self._member.read(want) if want > 0 else b""
        except (zipfile.BadZipFile, OSError, ValueError, RuntimeError, EOFError,
                NotImplementedError) as exc:
            raise self._fail() from exc
        self._got += len(data)
        if self._got > self._info.file_size:
            raise self._fail()
        if not data:
            if self._got != self._info.file_size:
                raise self._fail()
            self._done = True
            self._release()
            return 0
        buffer[:len(data)] = data
        return len(data)

    def _release(self) -> None:
        if self._member is not None:
            self._member.close()
            self._member = None
        if self._archive is not None:
            self._archive.close()
            self._archive = None

    def close(self) -> None:
        self._release()
        super().close()


def _opener(path: Path, info: zipfile.ZipInfo, name: str) -> Callable[[], BinaryIO]:
    def open_member() -> BinaryIO:
        return io.BufferedReader(_MemberReader(path, info, name),
                                 buffer_size=1024 * 1024)
    return open_member


def _readable_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    """Whether the member gives exactly its declared bytes with a good checksum
    (read through, bounded by its declared size, nothing kept)."""
    got = 0
    try:
        with archive.open(info) as member:
            while block := member.read(1024 * 1024):
                got += len(block)
                if got > info.file_size:
                    return False
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError, EOFError,
            NotImplementedError):
        return False
    return got == info.file_size


def _chat_texts(files: list[zipfile.ZipInfo]) -> list[zipfile.ZipInfo]:
    """The members that may be the chat, best kind first: "_chat.txt" (iOS), then
    "WhatsApp Chat with ….txt" (Android), then any ".txt" naming WhatsApp, then the
    only ".txt" there is (a media file may itself be a ".txt": it never outranks these)."""
    def base(info: zipfile.ZipInfo) -> str:
        return info.filename.replace("\\", "/").rsplit("/", 1)[-1].lower()
    texts = [i for i in files if base(i).endswith(".txt")]
    for tier in (lambda b: b == "_chat.txt", lambda b: b.startswith("whatsapp chat"),
                 lambda b: "whatsapp" in b):
        found = [i for i in texts if tier(base(i))]
        if found:
            return found
    return texts if len(texts) == 1 else []


def parse_zip(path: Path) -> MessageExport:
    """A WhatsApp chat exported with its media (the ``.zip``)."""
    name, _, _ = detect.file_facts(path)
    _check_directory(path, name)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError) as exc:
        raise _refuse_zip(name, "it is not a readable ZIP file.") from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.MAX_ZIP_MEMBERS:
            raise _refuse_zip(name, f"it holds more than {limits.MAX_ZIP_MEMBERS:,} files.")
        _check_bomb(infos, name)
        notes: list[str] = []
        files: list[zipfile.ZipInfo] = []
        for info in infos:
            member = info.filename
            base = member.replace("\\", "/").rsplit("/", 1)[-1]
            if info.is_dir() or member.startswith("__MACOSX/") or base.startswith("._"):
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                notes.append(f"“{base}” in the zip is a link to another file, not a file; "
                             "it was not kept.")
                continue
            files.append(info)
        texts = _chat_texts(files)
        if not texts:
            raise _refuse_zip(name, "it holds no WhatsApp chat (a file called "
                              "“_chat.txt” or “WhatsApp Chat with ….txt”).")
        if len(texts) > 1:
            raise _refuse_zip(name, "it holds more than one chat text.")
        text = texts[0]
        if text.flag_bits & 0x1:
            raise _refuse_zip(name, "its chat is protected by a password.")
        if text.file_size > limits.MAX_PARSED_TEXT_BYTES:
            raise RefusedInput(_too_much_text(name))
        try:
            with archive.open(text) as stream:
                chat = read_chat(stream, name)  # type: ignore[arg-type]
        except (zipfile.BadZipFile, OSError, ValueError, RuntimeError, EOFError,
                NotImplementedError) as exc:
            raise _refuse_zip(name, "its chat text is damaged.") from exc
        used = {ORIGINAL_ZIP}
        media: list[MediaFile] = []
        by_written: dict[str, str] = {}
        sizes: dict[str, tuple[str, int]] = {}
        for info in files:
            if info is text:
                continue
            base = info.filename.replace("\\", "/").rsplit("/", 1)[-1]
            shown = "".join(c for c in base if c.isprintable())[:150]
            if info.flag_bits & 0x1:
                notes.append(f"“{shown}” in the zip is protected by a password; it was not "
                             "kept.")
                continue
            if info.file_size > limits.MAX_MEMBER_BYTES:
                notes.append(f"“{shown}” in the zip is larger than this app keeps "
                             f"({limits.MAX_MEMBER_BYTES // 1024**2} MB); it was not kept.")
                continue
            if len(media) >= limits.MAX_ATTACHMENTS:
                notes.append(f"Only the first {limits.MAX_ATTACHMENTS:,} files of the zip "
                             "were kept.")
                break
            if not _readable_member(archive, info):
                notes.append(f"“{shown}” in the zip is damaged (its bytes do not match what "
                             "the zip says); it was not kept.")
                continue
            artefact = _safe_name(info.filename, used)
            media_type = mimetypes.guess_type(artefact)[0] or "application/octet-stream"
            media.append(MediaFile(artefact, media_type, info.file_size,
                                   _opener(path, info, artefact),
                                   data_hint=info.filename if info.filename != artefact else ""))
            by_written.setdefault(base, artefact)
            sizes[artefact] = (media_type, info.file_size)
    chat.notes.extend(notes)
    _attachments(chat, by_written, sizes, in_zip=True)
    named = name if "WhatsApp" in name else text.filename.replace("\\", "/").rsplit("/", 1)[-1]
    return build_export(chat, path, fmt=_format(chat), parser=PARSER, media=media,
                        original_media_type="application/zip", original_name=ORIGINAL_ZIP,
                        title=_title(named, chat.participants))


def _check_bomb(infos: list[zipfile.ZipInfo], name: str) -> None:
    """Refuse, from the zip's own directory alone, a zip that would unpack to too
    much, at an unlikely ratio, or whose entries overlap (a "zip bomb")."""
    total = 0
    for info in infos:
        if info.is_dir():
            continue
        total += info.file_size
        if info.file_size > _RATIO_FLOOR and \
                info.file_size > limits.MAX_ZIP_RATIO * max(info.compress_size, 1):
            raise _refuse_zip(name, "a file in it unpacks to far more than it takes up, as "
                              "a “zip bomb” does.")
    if total > limits.MAX_UNPACKED_BYTES:
        raise _refuse_zip(name, "it would unpack to more than "
                          f"{limits.MAX_UNPACKED_BYTES // 1024**3} GB.")
    spans = sorted((i.header_offset, i.compress_size) for i in infos)
    for (offset, size), (next_offset, _) in itertools.pairwise(spans):
        if offset + size > next_offset:
            raise _refuse_zip(name, "its entries overlap, as a “zip bomb”'s do.")
