"""What a file is, from its bytes (never its name), and the one door to the parsers.

``what_is(path)`` reads the first bytes (and, for a ZIP, its list of names) and says
which format it takes the file for: a picture, one of the message formats below, or
``None`` when it recognises nothing. ``parse(path)`` reads a message export with the
parser of its format and returns a :class:`MessageExport`, or raises
``RefusedInput`` with a sentence saying what was expected.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from evidence_recorder.core.conversation import MessageExport
from evidence_recorder.core.errors import RefusedInput
from evidence_recorder.core.gather.messages import limits
from evidence_recorder.core.i18n import QT_TRANSLATE_NOOP

HEAD_BYTES = 64 * 1024  # what sniffing reads of a file


@dataclass(frozen=True, slots=True)
class Format:
    """A kind of file ``import`` takes, with the parser that reads it."""

    id: str
    label: str  # plain English, for "taken as …"
    kind: str  # "picture", "email" or "chat"
    parser: str  # "module:function" under core.gather.messages; "" for pictures


FORMATS: dict[str, Format] = {f.id: f for f in (
    Format("picture", QT_TRANSLATE_NOOP("Format", "a picture"), "picture", ""),
    Format("eml", QT_TRANSLATE_NOOP("Format", "an e-mail (.eml)"), "email",
           "email_files:parse_eml"),
    Format("msg", QT_TRANSLATE_NOOP("Format", "an Outlook e-mail (.msg)"), "email",
           "email_files:parse_msg"),
    Format("mbox", QT_TRANSLATE_NOOP("Format", "a mailbox (mbox)"), "email",
           "email_files:parse_mbox"),
    Format("whatsapp-text", QT_TRANSLATE_NOOP("Format", "a WhatsApp chat export"), "chat",
           "whatsapp:parse_text"),
    Format("whatsapp-zip", QT_TRANSLATE_NOOP("Format", "a WhatsApp chat export with media"),
           "chat", "whatsapp:parse_zip"),
    Format("signal-text", QT_TRANSLATE_NOOP("Format", "a Signal chat export"), "chat",
           "signal:parse_text"),
    Format("telegram-json", QT_TRANSLATE_NOOP("Format", "a Telegram chat export"), "chat",
           "chat_json:parse_telegram"),
    Format("facebook-json",
           QT_TRANSLATE_NOOP("Format", "a Facebook, Messenger or Instagram chat export"),
           "chat", "chat_json:parse_facebook"),
    Format("discord-json", QT_TRANSLATE_NOOP("Format", "a Discord chat export"), "chat",
           "chat_json:parse_discord"),
    Format("sms-xml", QT_TRANSLATE_NOOP("Format", "a text-message backup (SMS Backup & Restore)"),
           "chat", "sms:parse_sms"),
)}

_PICTURE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM")
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# An mbox "From " separator (as email_files.is_from_line): nothing, "-", an address,
# or a time of day after it; "From Russia with love" in a body is not one.
_FROM_LINE = re.compile(
    rb"^From (?:\s*|\s*-\s*|\s*\S*@\S*(?:\s+\S+)?\s*|.*\d{1,2}:\d{2}.*)$")
_SIGNAL_LINE = re.compile(r"\[\d{4}-\d{2}-\d{2}, \d{2}:\d{2}\] ")
CHAT_SNIFF_LINES = 40  # lines of a text file looked at for dated chat lines
_HEADER = re.compile(rb"^(?:[!-9;-~]{1,76}):[ \t]?", re.M)
_MAIL_HEADERS = (b"from:", b"to:", b"subject:", b"date:", b"message-id:", b"received:",
                 b"return-path:", b"mime-version:", b"delivered-to:", b"x-", b"dkim-signature:",
                 b"content-type:", b"reply-to:", b"cc:", b"sender:")
# The "type" of a chat in a Telegram Desktop export (an empty chat has no other sign).
_TELEGRAM_CHAT_TYPE = re.compile(
    r'"type"\s*:\s*"(?:personal_chat|bot_chat|saved_messages|replies|verification_codes|'
    r'private_group|private_supergroup|public_supergroup|private_channel|public_channel)"')
_WHATSAPP_ZIP_TEXT = re.compile(r"(^|/)(_chat\.txt|WhatsApp[^/]*\.txt|[^/]*\.txt)$")


def what_is(path: Path) -> Format | None:
    """The format of the file at ``path`` by its content, or ``None``."""
    with path.open("rb") as fh:
        head = fh.read(HEAD_BYTES)
    return sniff(head, path)


def _is_picture(head: bytes) -> bool:
    if head.startswith(_PICTURE_MAGIC):
        return True
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return True
    return head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"msf1",
                                                   b"heif", b"hevc")


def sniff(head: bytes, path: Path | None = None) -> Format | None:
    """The format of a file whose first bytes are ``head`` (``path`` is read again only
    for a ZIP's list of names)."""
    if _is_picture(head):
        return FORMATS["picture"]
    if head.startswith(_OLE2):
        return FORMATS["msg"] if path is None or _outlook_file(path) else None
    if head.startswith(b"PK\x03\x04") and path is not None:
        return FORMATS["whatsapp-zip"] if _whatsapp_zip(path) else None
    body = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if _looks_like_mbox(body):
        return FORMATS["mbox"]
    if body[:1] in (b"{", b"["):
        found = _json_format(body)
        if found is not None or body[:1] == b"{":
            return found
        # "[" also starts an iOS WhatsApp or a Signal line: read on as text.
    if body.startswith((b"<?xml", b"<smses", b"<!--")):
        return FORMATS["sms-xml"] if b"<smses" in body or b"<sms " in body else None
    chat, sure = _chat_text_format(head)
    if chat is not None and sure:
        return chat
    if _looks_like_mail(body):
        return FORMATS["eml"]
    return chat


def _chat_text_format(head: bytes) -> tuple[Format | None, bool]:
    """Whether the text is a WhatsApp or Signal chat: (format, sure). Sure when its first
    line is a dated chat line, as every export's is; a text whose first line is not but
    with at least two such lines among its first is a chat only if it is not an e-mail
    (a quoted chat in a mail's body must not make the mail a chat)."""
    from evidence_recorder.core.gather.messages import whatsapp  # it needs this module

    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16 with its BOM
        text = head[:len(head) // 2 * 2].decode("utf-16", errors="replace")
    else:
        text = head.decode("utf-8", errors="replace")
    if text[:1] in ("\ufeff", "\ufffe"):
        text = text[1:]
    if len(head) >= HEAD_BYTES:
        text = text.rsplit("\n", 1)[0]  # the last line may be cut
    lines = [ln.translate(whatsapp.CLEAN) for ln in text.splitlines()[:CHAT_SNIFF_LINES]]
    lines = [ln for ln in lines if ln.strip()]
    if not lines:
        return None, False
    dated = [whatsapp.header(ln) is not None for ln in lines]
    signal = _SIGNAL_LINE.match(lines[0]) is not None
    fmt = FORMATS["signal-text"] if signal else FORMATS["whatsapp-text"]
    if dated[0]:
        return fmt, True
    return (fmt if sum(dated) >= 2 else None), False


def _looks_like_mail(body: bytes) -> bool:
    end = body.find(b"\n\n")
    if end < 0:
        end = body.find(b"\r\n\r\n")
    header = body[: end if end > 0 else len(body)]
    lines = [ln for ln in header.splitlines()[:200] if ln and ln[:1] not in (b" ", b"\t")]
    if not lines or not all(_HEADER.match(ln) for ln in lines[:3]):
        return False
    return any(ln.lower().startswith(_MAIL_HEADERS) for ln in lines)


def _looks_like_mbox(body: bytes) -> bool:
    """A mailbox begins with a "From " separator line followed by an e-mail's headers.
    (A single e-mail saved with such a line, as flanker's torture tests are, is taken as a
    mailbox of one: it is read the same way, and kept whole either way.)"""
    first, newline, rest = body.partition(b"\n")
    if not newline or not _FROM_LINE.match(first.rstrip(b"\r")):
        return False
    return _looks_like_mail(rest.lstrip(b"\r\n"))


def _outlook_file(path: Path) -> bool:
    """An OLE2 compound file is an Outlook item (.msg) when it holds MAPI property
    streams; Word and Excel files are OLE2 too."""
    import olefile

    try:
        with olefile.OleFileIO(str(path)) as ole:
            names = ["/".join(entry) for entry in ole.listdir(streams=True, storages=True)]
    except Exception:  # not readable as OLE2 at all: leave it to the picture reader
        return False
    return any(n.startswith(("__substg1.0_", "__properties_version1.0")) for n in names)


def _json_format(body: bytes) -> Format | None:
    """A chat export's JSON by the keys in its first bytes; any other JSON is None."""
    text = body.decode("utf-8", errors="replace")
    keys = set(re.findall(r'"([A-Za-z_]{2,40})"\s*:', text))
    if {"guild", "channel"} <= keys and "messages" in keys:
        return FORMATS["discord-json"]
    if "messages" in keys and ({"timestamp_ms", "sender_name"} & keys) and \
            ("participants" in keys or "sender_name" in keys):
        return FORMATS["facebook-json"]
    if {"messages", "senderName"} <= keys and ({"participants", "threadName"} & keys):
        return FORMATS["facebook-json"]  # the newer (end-to-end encrypted) layout
    if "messages" in keys and ({"from_id", "date_unixtime", "chats"} & keys
                               or ("type" in keys and "date" in keys)
                               or _TELEGRAM_CHAT_TYPE.search(text)):
        return FORMATS["telegram-json"]
    if {"about", "personal_information"} <= keys:
        return FORMATS["telegram-json"]  # a whole account's export; its chats come later
    return None


def _whatsapp_zip(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            names = []
            for count, info in enumerate(archive.infolist()):
                if count >= limits.MAX_ZIP_MEMBERS:
                    break
                names.append(info.filename)
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    texts = [n for n in names if not n.startswith("__MACOSX/")
             and _WHATSAPP_ZIP_TEXT.search(n)]
    return any(n.endswith("_chat.txt") or "WhatsApp" in n for n in texts) or len(texts) == 1


def parser_for(fmt: Format) -> Callable[[Path], MessageExport]:
    """The parse function of a message format (its module imported only now: the
    libraries behind e-mails load only when an e-mail is read)."""
    from evidence_recorder.core.gather.messages import (
        chat_json,
        email_files,
        signal,
        sms,
        whatsapp,
    )

    modules = {"email_files": email_files, "whatsapp": whatsapp, "signal": signal,
               "chat_json": chat_json, "sms": sms}
    if not fmt.parser:
        raise ValueError(f"{fmt.id} is not a message format")
    module, _, function = fmt.parser.partition(":")
    found: Callable[[Path], MessageExport] = getattr(modules[module], function)
    return found


def parse(path: Path, fmt: Format | None = None, *,
          only: set[int] | None = None) -> MessageExport:
    """Read a message export; ``RefusedInput`` says in a sentence why not. ``only``
    (a mailbox's e-mails, numbered as ``email_files.mbox_summaries`` gives them) takes
    just those."""
    if fmt is None:
        fmt = what_is(path)
    if fmt is None or not fmt.parser:
        raise RefusedInput(f"{path.name} is not an e-mail or a chat export this app can read.")
    if only is not None:
        if fmt.id != "mbox":
            raise RefusedInput(f"{path.name} is not a mailbox, so there are no e-mails in it "
                               "to choose from.")
        from evidence_recorder.core.gather.messages import email_files

        export = email_files.parse_mbox(path, only=only)
        found = {m.extra.get("mailbox_index") for m in export.messages}
        if missing := sorted(only - found):
            raise RefusedInput(f"{path.name} has no e-mail numbered "
                               + ", ".join(str(n) for n in missing[:10]) + ".")
        return export
    return parser_for(fmt)(path)


def file_facts(path: Path) -> tuple[str, int, str]:
    """The file's name, size and modification time (ISO 8601 UTC), as kept in the
    source; refuses a file beyond :data:`limits.MAX_EXPORT_BYTES` or not a plain file."""
    stat = path.stat()
    if not path.is_file():
        raise RefusedInput(f"{path.name} is not a file.")
    if stat.st_size > limits.MAX_EXPORT_BYTES:
        raise RefusedInput(f"{path.name} is larger than this app takes in one file "
                           f"({limits.MAX_EXPORT_BYTES // 1024**3} GB).")
    mtime = datetime.fromtimestamp(stat.st_mtime, UTC)
    return path.name, stat.st_size, mtime.strftime("%Y-%m-%dT%H:%M:%S.") + \
        f"{mtime.microsecond // 1000:03d}Z"
