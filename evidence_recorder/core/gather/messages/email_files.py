"""E-mails as evidence: one .eml, one Outlook .msg, or a whole mailbox (mbox).

Each reader returns a :class:`MessageExport` of kind ``email``: one :class:`Message` per
e-mail with its headers kept verbatim (``extra["headers"]``), the facts a person reads
(From, To, Cc, Date, Subject, Message-ID, the Received chain newest first), the body as
plain text (an HTML body is reduced to text, never rendered) and each attachment as a
:class:`MediaFile` linked from the message. Where an e-mail carries a DKIM signature it
is checked at import against the key the sender's domain publishes, and the key looked
up is recorded, since keys are replaced over time; a key that cannot be looked up
(offline) gives "not-checked", never a guess.

Hostile files meet the bounds of :mod:`limits`: MIME parts beyond ``MAX_MIME_PARTS`` or
nested beyond ``MAX_MIME_DEPTH`` are not read (the bytes handed to the parser end
there; the original file is still kept whole), a header with more encoded-words than
``MAX_ENCODED_WORDS`` is shown as written, and a mailbox is read one e-mail at a time,
never whole. Attachment bytes are not held: each ``MediaFile.open`` reads its e-mail
again from the file and decodes that one part. Outlook .msg files are read with
extract-msg; their signatures cannot be checked (the bytes as sent are not kept).
"""

from __future__ import annotations

import binascii
import codecs
import contextlib
import functools
import io
import logging
import mimetypes
import os
import re
import unicodedata
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC
from email import policy
from email.header import decode_header, make_header
from email.message import Message as MimeMessage
from email.parser import BytesHeaderParser, BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, BinaryIO

from evidence_recorder.core.conversation import (
    DkimResult,
    MediaFile,
    Message,
    MessageAttachment,
    MessageExport,
    MessageKind,
)
from evidence_recorder.core.errors import RefusedInput
from evidence_recorder.core.gather.messages import limits
from evidence_recorder.core.gather.messages.times import iso
from evidence_recorder.core.model import MessageSource

PARSER = "email/1"
DNS_TIMEOUT_SECONDS = 2.0  # one key lookup; after one failure the import stops looking
MAX_DKIM_SIGNATURES = 5  # signatures of one e-mail checked
MAX_HTML_CHARS = 4 * 1024**2  # HTML reduced to text, per e-mail
MAX_PARTICIPANTS = 200
MAX_DKIM_BYTES = 64 * 1024**2  # an e-mail checked for DKIM (dkimpy holds several copies)
BOM = b"\xef\xbb\xbf"

_QUIET = logging.getLogger("evidence_recorder.dkim")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False


# --- Text that is always safe to keep (JSON, SQLite) --------------------------------

_SURROGATES = re.compile(r"[\udc80-\udcff]+")
_OTHER_SURROGATES = re.compile(r"[\ud800-\udfff]")


def _bytes_text(data: bytes) -> str:
    """Bytes as written: UTF-8 where they are, Latin-1 otherwise (every byte kept)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _safe(text: str) -> str:
    """Text with the parser's escaped raw bytes (surrogates) turned back into characters
    (UTF-8 where they are, else Latin-1), so it can be stored and exported as UTF-8."""
    if not _OTHER_SURROGATES.search(text):
        return text
    text = _SURROGATES.sub(lambda m: _bytes_text(bytes(ord(c) - 0xDC00 for c in m.group())),
                           text)
    return _OTHER_SURROGATES.sub("\ufffd", text)


def _unfold(value: str) -> str:
    if "\n" not in value:
        return value.strip()
    return re.sub(r"\r?\n(?=[ \t])", "", value).strip()


# --- Raw headers, verbatim -----------------------------------------------------------

def header_block(raw: bytes) -> bytes:
    """The header section of an e-mail: up to its first empty line (a leading mbox
    "From " line included)."""
    match = re.search(rb"\r?\n\r?\n", raw)
    return raw[: match.start()] if match else raw


def header_fields(raw: bytes) -> list[list[str]]:
    """Every header of an e-mail as ``[name, value]`` in the order written: the value
    after the colon as it stands (folding kept, the line end dropped), its bytes read as
    UTF-8 where they are and Latin-1 otherwise. A line among the headers that is not one
    is kept too, with the name ``""`` (the stdlib parser starts the body there; the
    person still sees every line written above the first empty one). A mbox "From "
    line is not a header."""
    block = header_block(raw)
    quick = _plain_header_fields(block)
    if quick is not None:
        return quick
    fields: list[list[bytes]] = []
    ending = b"\n"  # the line end written before the current line (kept within a value)
    for number, line in enumerate(block.split(b"\n")):
        this_ending = b"\r\n" if line.endswith(b"\r") else b"\n"
        line = line.removesuffix(b"\r")
        previous, ending = ending, this_ending
        if number == 0:
            line = line.removeprefix(b"\xef\xbb\xbf")
            if line.startswith(b"From "):
                continue
        if line[:1] in (b" ", b"\t"):
            if fields:
                fields[-1][1] += previous + line
            elif line.strip():
                fields.append([b"", line.strip()])
            continue
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip() or b" " in name:
            fields.append([b"", line])  # not a header line, yet written among them: kept
            continue
        fields.append([name, value.lstrip(b" \t")])
    try:  # the usual case: every header is UTF-8 (or ASCII), decoded in one go
        return [[n.decode("utf-8"), v.decode("utf-8")] for n, v in fields]
    except UnicodeDecodeError:
        return [[_bytes_text(n), _bytes_text(v)] for n, v in fields]


_PLAIN_HEADER = re.compile(rb"([!-9;-~]+):[ \t]*(.*)")


def _plain_header_fields(block: bytes) -> list[list[str]] | None:
    """``header_fields`` of the usual header block (one line per header, no folding, no
    carriage returns, every line a header, UTF-8), in one pass; ``None`` otherwise."""
    if b"\r" in block or b"\n " in block or b"\n\t" in block or block[:3] == b"\xef\xbb\xbf":
        return None
    lines = block.split(b"\n")
    if lines and lines[0].startswith(b"From "):
        lines = lines[1:]
    out: list[list[str]] = []
    try:
        for line in lines:
            found = _PLAIN_HEADER.fullmatch(line)
            if found is None:
                return None
            out.append([found.group(1).decode("utf-8"), found.group(2).decode("utf-8")])
    except UnicodeDecodeError:
        return None
    return out


def _first(fields: list[list[str]], name: str) -> str | None:
    low = name.lower()
    for key, value in fields:
        if key.lower() == low:
            return value
    return None


# --- Bounding MIME structure before the parser sees it -------------------------------

_MIME_LINE = re.compile(
    rb"^(?:--[^\r\n]*|[^\r\n]*boundary[^\r\n]*|content-type:[ \t]*message/[^\r\n]*)\r?$",
    re.M | re.I)
_BOUNDARY = re.compile(rb'boundary\s*=\s*(?:"([^"\r\n]{1,200})"|([^\s;"]{1,200}))', re.I)


def bound_mime(raw: bytes) -> tuple[bytes, str]:
    """The bytes of an e-mail the parser may read, and a note when they stop short.

    A cheap scan follows the declared boundaries (and enclosed messages) as the parser
    would: past ``MAX_MIME_PARTS`` parts or ``MAX_MIME_DEPTH`` levels, the bytes end,
    so the parser's work (and its recursion) is bounded whatever the file says.
    """
    stack: list[bytes] = []  # open boundaries; b"" marks an enclosed message
    parts = 0
    for match in _MIME_LINE.finditer(raw):
        line = match.group().rstrip(b"\r \t")
        if line.startswith(b"--") and stack:
            tag = line[2:]
            closing = tag.endswith(b"--") and tag[:-2] in stack
            name = tag[:-2] if closing else tag
            if name in stack:
                while stack[-1] != name:
                    stack.pop()
                if closing:
                    stack.pop()
                else:
                    parts += 1
                    if parts > limits.MAX_MIME_PARTS:
                        return raw[: match.start()], (
                            f"parts beyond {limits.MAX_MIME_PARTS} not read")
                continue
        found = _BOUNDARY.search(line)
        if found:
            stack.append(found.group(1) or found.group(2))
        elif line[:13].lower() == b"content-type:" and (
                b"rfc822" in line.lower() or b"global" in line.lower()):
            stack.append(b"")
        else:
            continue
        if len(stack) > limits.MAX_MIME_DEPTH:
            return raw[: match.start()], (
                f"parts nested deeper than {limits.MAX_MIME_DEPTH} levels not read")
    return raw, ""


def _parse(raw: bytes) -> tuple[MimeMessage, str]:
    """The parsed e-mail within the bounds, and a note.

    The stdlib's parser with its ``compat32`` policy (as its ``mailbox`` module uses):
    the ``default`` policy parses a header again on every access, which made a
    10,000-e-mail mailbox 18 times slower; the headers a person reads are decoded here
    (:func:`decode_words`), the raw ones kept verbatim (:func:`header_fields`).
    """
    data, note = bound_mime(raw)
    try:
        return BytesParser(policy=policy.compat32).parsebytes(data), note
    except RecursionError:  # a structure the scan did not see; headers are still read
        headers = BytesHeaderParser(policy=policy.compat32).parsebytes(header_block(raw))
        return headers, "its parts are nested too deeply to be read"


# --- Walking the parts (iteratively, bounded) ----------------------------------------

@dataclass(slots=True)
class _Leaf:
    ordinal: int  # position in the walk: names the part again when the file is re-read
    part: MimeMessage
    enclosed: int  # 0 for the e-mail itself, n for its n-th enclosed e-mail
    kind: str = ""  # its content type


@dataclass(slots=True)
class _Walk:
    leaves: list[_Leaf] = field(default_factory=list)
    enclosed: list[MimeMessage] = field(default_factory=list)  # enclosed e-mails, in order
    cut: bool = False  # parts beyond MAX_MIME_PARTS
    deep: bool = False  # parts nested beyond MAX_MIME_DEPTH


def _walk(top: MimeMessage) -> _Walk:
    walk = _Walk()
    todo: list[tuple[MimeMessage, int, int]] = [(top, 0, 0)]
    ordinal = 0
    while todo:
        part, depth, enclosed = todo.pop()
        ordinal += 1
        if ordinal > limits.MAX_MIME_PARTS:
            walk.cut = True
            break
        if depth > limits.MAX_MIME_DEPTH:
            walk.deep = True
            continue
        if part.is_multipart():
            children = part.get_payload()
            if not isinstance(children, list):
                continue
            kind = part.get_content_type()
            if kind in ("message/rfc822", "message/global"):
                inner = [c for c in children if isinstance(c, MimeMessage)][:1]
                if inner:
                    walk.enclosed.append(inner[0])
                    todo.append((inner[0], depth + 1, len(walk.enclosed)))
                continue
            if kind.startswith("message/"):
                continue  # delivery reports: header blocks, kept in the original
            todo.extend((c, depth + 1, enclosed) for c in reversed(children)
                        if isinstance(c, MimeMessage))
            continue
        walk.leaves.append(_Leaf(ordinal, part, enclosed, part.get_content_type()))
    return walk


def _filename(part: MimeMessage) -> str:
    try:
        name = part.get_filename()
    except Exception:  # a malformed parameter in a hostile header
        name = None
    return _safe(" ".join(decode_words(str(name)).split())) if name else ""


def _is_attachment(leaf: _Leaf) -> bool:
    """A part kept as a file: not text (pictures inline or not), or sent as an
    attachment, or given a file name."""
    if not leaf.kind.startswith("text/"):
        return True
    part = leaf.part
    disposition = part.get("content-disposition")
    if disposition is None and "name" not in str(part.get("content-type", "")).lower():
        return False  # the common body part: no need to look for a file name
    return (part.get_content_disposition() or "") == "attachment" or bool(_filename(part))


def _payload(part: MimeMessage) -> bytes:
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


@functools.lru_cache(maxsize=256)
def _known_charset(charset: str) -> str:
    try:
        codecs.lookup(charset)
    except LookupError:
        return "utf-8"
    return charset


def _decoded_text(part: MimeMessage, limit: int) -> str:
    data = _payload(part)[: limit * 4]
    charset = _known_charset(part.get_content_charset() or "utf-8")
    try:
        return _safe(data.decode(charset, errors="replace"))
    except Exception:  # a codec that fails on its own terms
        return data.decode("utf-8", errors="replace")


class _TextOfHtml(HTMLParser):
    """HTML reduced to its text: nothing fetched, run or rendered."""

    _SKIP = frozenset({"script", "style", "head", "title", "template", "noscript"})
    _BLOCK = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6",
                        "table", "ul", "ol", "blockquote", "pre", "hr", "section", "article"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self.skipping += 1
        elif tag in self._BLOCK:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self._BLOCK:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.out.append(data)


def html_to_text(html: str) -> str:
    """The readable text of an HTML body (whitespace tidied, links' text kept)."""
    reader = _TextOfHtml()
    # HTMLParser gives up on some malformed input; what it read so far is kept
    with contextlib.suppress(Exception):
        reader.feed(html[:MAX_HTML_CHARS])
        reader.close()
    lines = [" ".join(line.split()) for line in "".join(reader.out).splitlines()]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _body(parts: list[_Leaf], limit: int) -> tuple[str, bool]:
    """The text of one e-mail's body parts: text/plain preferred, else HTML as text."""
    plain = [leaf.part for leaf in parts if leaf.kind == "text/plain"]
    if plain:
        return "\n\n".join(_decoded_text(p, limit).strip("\r\n") for p in plain), False
    html = [leaf.part for leaf in parts if leaf.kind == "text/html"]
    if html:
        return "\n\n".join(html_to_text(_decoded_text(p, MAX_HTML_CHARS)) for p in html), True
    others = [leaf.part for leaf in parts]
    return "\n\n".join(_decoded_text(p, limit).strip("\r\n") for p in others), False


# --- Headers as shown -----------------------------------------------------------------

def decode_words(value: str) -> str:
    """RFC 2047 encoded-words decoded (``=?utf-8?q?…?=``), the rest as written; an
    unknown charset or a broken word leaves the value as written."""
    if "=?" not in value:
        return value
    try:
        return str(make_header(decode_header(value)))
    except Exception:  # a hostile or broken encoded-word: shown as written
        return value


def _shown(name: str, raw: str | None, notes: list[str]) -> str:
    """A header as a person reads it: unfolded, encoded-words decoded unless there are
    more than ``MAX_ENCODED_WORDS`` (then kept as written, with a note), cut at
    ``MAX_HEADER_CHARS``."""
    if raw is None:
        return ""
    value = _unfold(raw)
    if value.count("=?") > limits.MAX_ENCODED_WORDS:
        notes.append(f"The {name} header has more than {limits.MAX_ENCODED_WORDS} encoded "
                     "words; it is shown as written.")
    else:
        value = decode_words(value)
    value = _safe(" ".join(value.split()))
    if len(value) > limits.MAX_HEADER_CHARS:
        notes.append(f"The {name} header is longer than {limits.MAX_HEADER_CHARS} "
                     "characters; only its beginning is shown.")
        value = value[: limits.MAX_HEADER_CHARS]
    return value


_PLAIN_ADDRESS = re.compile(r"<([^<>\s\"]+@[^<>\s\"]+)>\s*$|^\s*([^<>\s\",;]+@[^<>\s\",;]+)\s*$")


def _address(raw: str | None) -> str:
    """The first address of a From header (the sender id)."""
    if raw is None:
        return ""
    plain = _PLAIN_ADDRESS.search(raw) if raw.count("@") == 1 else None
    if plain:  # "Name <a@b>" or "a@b": the usual From, without the full address parser
        return _safe(plain.group(1) or plain.group(2))
    found = [a for _, a in getaddresses([_safe(_unfold(raw))[: limits.MAX_HEADER_CHARS]])
             if a]
    return found[0] if found else ""


def _sent_at(raw: str | None) -> str:
    if not raw:
        return ""
    try:
        moment = parsedate_to_datetime(_safe(_unfold(raw)))
    except (TypeError, ValueError, IndexError, OverflowError):
        return ""
    if moment.tzinfo is None:  # "-0000" or no zone: RFC 5322 reads it as UTC
        moment = moment.replace(tzinfo=UTC)
    try:
        return iso(moment)
    except (ValueError, OverflowError):
        return ""


# --- DKIM ------------------------------------------------------------------------------

class KeyLookupError(Exception):
    """The sender's key could not be looked up (no network, no answer in time)."""


def lookup_txt(name: str, timeout: float) -> str | None:
    """The DNS TXT record at ``name`` (a DKIM key), ``None`` when the name has none.

    Raises :class:`KeyLookupError` when no answer came (offline, timeout). Tests turn
    real lookups off with ``ER_TESTS_NO_DNS`` and pass their own lookup instead.
    """
    if os.environ.get("ER_TESTS_NO_DNS"):
        raise KeyLookupError("lookups are turned off")
    import dns.exception
    import dns.resolver

    try:
        answer = dns.resolver.resolve(name, "TXT", lifetime=timeout,
                                      raise_on_no_answer=False)
    except dns.resolver.NXDOMAIN:
        return None
    except (dns.exception.DNSException, OSError) as exc:
        raise KeyLookupError(type(exc).__name__) from exc
    if answer.rrset is None:
        return None
    for record in answer.rrset:
        return b"".join(record.strings).decode("ascii", errors="replace")
    return None


KeyLookup = Callable[[str, float], "str | None"]

OFFLINE = "the sender's key could not be looked up, perhaps because the computer was offline"


class _Offline(Exception):
    pass


class _NoKey(Exception):
    pass


class DkimChecker:
    """Checks DKIM signatures for one import: each key looked up once, and once a
    lookup fails no more are tried (an offline import stays quick)."""

    def __init__(self, lookup: KeyLookup | None = None) -> None:
        self._lookup = lookup
        self._keys: dict[str, str | None] = {}
        self.offline = False
        self._key = ""

    def _dnsfunc(self, name: bytes, timeout: float = DNS_TIMEOUT_SECONDS) -> bytes:
        host = name.decode("ascii", errors="replace")
        if host not in self._keys:
            if self.offline:
                raise _Offline
            lookup = self._lookup if self._lookup is not None else lookup_txt
            try:
                self._keys[host] = lookup(host, min(timeout, DNS_TIMEOUT_SECONDS))
            except Exception as exc:
                self.offline = True
                raise _Offline from exc
        key = self._keys[host]
        if key is None:
            raise _NoKey
        self._key = key
        return key.encode("ascii", errors="replace")

    def check(self, raw: bytes, fields: list[list[str]]) -> tuple[DkimResult, list[DkimResult]]:
        """The result for the e-mail (the first passing signature, else the first
        failing one, else the first), and every signature's result."""
        signed = [v for n, v in fields if n.lower() == "dkim-signature"]
        if not signed:
            return DkimResult("none", reason="the e-mail has no DKIM signature"), []
        if len(raw) > MAX_DKIM_BYTES:
            return DkimResult("not-checked", checked_at=iso(_now()), reason=(
                f"the e-mail is larger than {MAX_DKIM_BYTES // 1024**2} MB, more than "
                "this app checks a signature of")), []
        results = [self._one(raw, index, value)
                   for index, value in enumerate(signed[:MAX_DKIM_SIGNATURES])]
        for wanted in ("pass", "fail"):
            for result in results:
                if result.result == wanted:
                    return result, results
        return results[0], results

    def _one(self, raw: bytes, index: int, value: str) -> DkimResult:
        import dkim
        from dkim.util import parse_tag_value

        try:
            tags = parse_tag_value(value.encode("utf-8", errors="replace"))
        except Exception:
            tags = {}
        result = DkimResult(
            "not-checked", domain=_safe(tags.get(b"d", b"").decode("ascii", "replace")),
            selector=_safe(tags.get(b"s", b"").decode("ascii", "replace")),
            checked_at=iso(_now()))
        self._key = ""
        verifier: Any = None
        try:
            verifier = dkim.DKIM(raw, logger=_QUIET, timeout=int(DNS_TIMEOUT_SECONDS))
            good = verifier.verify(idx=index, dnsfunc=self._dnsfunc)
        except _Offline:
            result.reason = OFFLINE
        except _NoKey:
            result.reason = ("the sender's domain no longer publishes the key this e-mail "
                             "was signed with, so the signature could not be checked "
                             "(keys are replaced over time)")
        except dkim.KeyFormatError:
            result.reason = ("the key the sender's domain publishes could not be used, so "
                             "the signature could not be checked")
        except dkim.ValidationError as exc:
            if "body hash mismatch" in str(exc):
                result.result = "fail"
                result.reason = "the e-mail's body is not what was signed"
            else:  # an expiry passed, a time ahead of the clock, a missing tag: unchecked
                result.reason = ("the signature's own terms (its dates or tags) kept it "
                                 "from being checked")
        except Exception:  # dkimpy cannot read the signature or the e-mail's headers
            result.reason = ("the signature or the e-mail's headers are not in a form that "
                             "can be checked")
        else:
            if good:
                result.result = "pass"
                result.reason = ("the signature matches the e-mail and the key the "
                                 "sender's domain publishes")
            elif getattr(verifier, "pk", None) is None:
                result.reason = ("the key the sender's domain publishes could not be "
                                 "used, so the signature could not be checked")
            else:
                result.result = "fail"
                result.reason = ("the signature does not match the e-mail's headers and "
                                 "the sender's key")
        result.key = _safe(self._key)
        return result


def _dkim_dict(result: DkimResult) -> dict[str, Any]:
    """``DkimResult.as_dict()`` without dataclasses.asdict's deep copy (a mailbox makes
    one per e-mail)."""
    return {name: getattr(result, name) for name in DkimResult.__slots__}


def _now() -> Any:
    from datetime import datetime

    return datetime.now(UTC)


# --- One e-mail ------------------------------------------------------------------------

Loader = Callable[[], bytes]


class _PartStream(io.RawIOBase):
    """An attachment's bytes, decoded only when first read (the e-mail is read again
    from the file then) and let go once read to the end."""

    def __init__(self, load: Callable[[], bytes]) -> None:
        super().__init__()
        self._load: Callable[[], bytes] | None = load
        self._data: io.BytesIO | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._data is None:
            if self._load is None:
                return 0
            self._data = io.BytesIO(self._load())
            self._load = None
        count = self._data.readinto(buffer)
        if count == 0:
            self._data = None
        return count

    def close(self) -> None:
        self._data = None
        self._load = None
        super().close()


def _opener(load: Loader, ordinal: int) -> Callable[[], BinaryIO]:
    """``MediaFile.open`` for one part: a fresh stream that decodes the part when read."""
    def open_part() -> BinaryIO:
        return io.BufferedReader(_PartStream(lambda: _part_bytes(load, ordinal)))
    return open_part


def _part_bytes(load: Loader, ordinal: int) -> bytes:
    msg, _ = _parse(load().removeprefix(BOM))
    for leaf in _walk(msg).leaves:
        if leaf.ordinal == ordinal:
            return _payload(leaf.part)
    raise RefusedInput("An attachment of this e-mail could not be read again from its file.")


def safe_name(name: str, fallback: str) -> str:
    """A file name safe to keep and to put in a bundle: plain letters, digits, dots,
    dashes and underscores, no folder, not hidden, at most 80 characters."""
    name = re.split(r"[\\/]", name)[-1]
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-_")
    name = re.sub(r"-{2,}", "-", name)
    if not name:
        return fallback
    if len(name) > 80:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 79 - len(ext)] + "." + ext) if dot and len(ext) <= 10 else name[:80]
    return name


@dataclass(slots=True)
class _Budget:
    """What one export may still keep: attachments and text."""

    attachments: int = limits.MAX_ATTACHMENTS
    text_bytes: int = limits.MAX_PARSED_TEXT_BYTES


def read_email(raw: bytes, index: int, load: Loader, *, prefix: str, checker: DkimChecker,
               notes: list[str], budget: _Budget, label: str = "",
               dkim_check: bool = True) -> tuple[Message, list[MediaFile]]:
    """One e-mail (its bytes ``raw``, which ``load`` gives again) as a :class:`Message`
    and its attachments as :class:`MediaFile` named ``<prefix>attachment-N-<name>``.
    ``label`` ("E-mail 3") begins each of its notes where an export holds many."""
    said: list[str] = []
    raw = raw.removeprefix(BOM)
    fields = header_fields(raw)
    first: dict[str, str] = {}
    for key, value in fields:
        first.setdefault(key.lower(), value)
    simple = _simple_text(raw, fields, first, limits.MAX_MESSAGE_CHARS)
    if simple is None:
        msg, cut = _parse(raw)
    else:
        msg, cut = None, ""
    if cut:
        said.append(f"{cut[:1].upper()}{cut[1:]}; the whole file is kept as it is.")
    shown = said
    raw_from, raw_date = first.get("from"), first.get("date")
    sender = _shown("From", raw_from, shown)
    extra: dict[str, Any] = {
        "headers": fields,
        "from": sender,
        "to": _shown("To", first.get("to"), shown),
        "cc": _shown("Cc", first.get("cc"), shown),
        "date": _unfold(raw_date or ""),
        "subject": _shown("Subject", first.get("subject"), shown),
        "message_id": _unfold(first.get("message-id") or ""),
        "received": [_unfold(v) for n, v in fields if n.lower() == "received"],
    }
    if dkim_check:
        chosen, every = checker.check(raw, fields)
        extra["dkim"] = _dkim_dict(chosen)
        if len(every) > 1:
            extra["dkim_signatures"] = [_dkim_dict(r) for r in every]
    sent_at = _sent_at(raw_date)
    if raw_date and not sent_at:
        said.append("The Date header could not be read, so the e-mail has no time.")
    elif not raw_date:
        said.append("There is no Date header, so the e-mail has no time.")
    walk = _walk(msg) if msg is not None else _Walk()
    if walk.cut and not cut:
        said.append(f"Parts beyond {limits.MAX_MIME_PARTS} not read.")
    if walk.deep and not cut:
        said.append(f"Parts nested deeper than {limits.MAX_MIME_DEPTH} levels not read.")
    limit = limits.MAX_MESSAGE_CHARS
    bodies: dict[int, list[_Leaf]] = {}
    attachments: list[MessageAttachment] = []
    media: list[MediaFile] = []
    for leaf in walk.leaves:
        if not _is_attachment(leaf):
            bodies.setdefault(leaf.enclosed, []).append(leaf)
            continue
        given = _filename(leaf.part)
        kind = leaf.kind
        number = len(attachments) + 1
        fallback = "file" + (mimetypes.guess_extension(kind) or ".bin")
        name = f"{prefix}attachment-{number}-{safe_name(given, fallback)}"
        if budget.attachments <= 0:
            attachments.append(MessageAttachment(
                given or name, media_type=kind,
                note=f"Not kept: more than {limits.MAX_ATTACHMENTS} files in one import."))
            continue
        budget.attachments -= 1
        size = len(_payload(leaf.part))
        media.append(MediaFile(name, kind, size, _opener(load, leaf.ordinal), data_hint=given))
        attachments.append(MessageAttachment(given or name, artefact=name, media_type=kind,
                                             size=size))
    text, from_html = (simple, False) if simple is not None else _body(bodies.get(0, []), limit)
    for number, enclosed in enumerate(walk.enclosed, 1):
        inner, _ = _body(bodies.get(number, []), limit)
        lines = [f"---------- Enclosed e-mail {number} ----------"]
        written = [[str(n), str(v)] for n, v in enclosed.raw_items()]
        for name in ("From", "Date", "Subject"):
            value = _shown(name, _first(written, name), [])
            if value:
                lines.append(f"{name}: {value[:1000]}")
        text += "\n\n" + "\n".join(lines) + "\n\n" + inner
        if len(text) > limit:
            break
    text = _safe(text.strip())
    if len(text) > limit:
        said.append(f"The text is longer than {limit} characters; only the beginning is "
                    "shown (all of it is in the kept file).")
        text = text[:limit]
    budget.text_bytes -= len(text)
    notes.extend(f"{label}: {n}" if label else n for n in said)
    if from_html:
        extra["body_from_html"] = True
    message = Message(index, sender, text, sent_at=sent_at, written_at=extra["date"],
                      sender_id=_address(raw_from), attachments=attachments, extra=extra)
    return message, media


_CHARSET = re.compile(r"""charset\s*=\s*["']?([^"';\s]+)""", re.I)
_SIMPLE_ENCODINGS = frozenset({"", "7bit", "8bit", "binary", "quoted-printable", "base64"})
SIMPLE_FAST_PATH = True  # tests switch it off to compare with the full parse


def _simple_text(raw: bytes, fields: list[list[str]], first: dict[str, str],
                 limit: int) -> str | None:
    """The body of a plain single-part e-mail (text/plain, or no Content-Type), read
    straight from its bytes as the stdlib's parser would give it, without building the
    parse tree: most e-mails of a big mailbox are such, and the full parse is most of
    the import's time. ``None`` for anything else (parts, attachments, HTML, a broken or
    repeated Content-Type or encoding), which the full parse reads."""
    if not SIMPLE_FAST_PATH:
        return None
    names = [name.lower() for name, _ in fields]
    if names.count("content-type") > 1 or names.count("content-transfer-encoding") > 1 \
            or "content-disposition" in names or "" in names:
        return None
    ctype = first.get("content-type", "")
    if ctype.split(";", 1)[0].strip().lower() not in ("", "text/plain"):
        return None
    encoding = first.get("content-transfer-encoding", "").strip().lower()
    if encoding not in _SIMPLE_ENCODINGS:
        return None
    found = re.search(rb"\r?\n\r?\n", raw)
    body = raw[found.end():] if found else b""
    if encoding == "quoted-printable":
        body = binascii.a2b_qp(body)
    elif encoding == "base64":
        try:
            body = binascii.a2b_base64(body, strict_mode=False)
        except binascii.Error:
            return None
    found_charset = _CHARSET.search(ctype)
    charset = _known_charset(found_charset.group(1).lower() if found_charset else "utf-8")
    data = body[: limit * 4]
    try:
        text = _safe(data.decode(charset, errors="replace"))
    except Exception:  # a codec that fails on its own terms
        text = data.decode("utf-8", errors="replace")
    return text.strip("\r\n")


def _refuse_size(path: Path, size: int, what: str) -> None:
    if size > limits.MAX_EMAIL_BYTES:
        raise RefusedInput(f"{path.name} is larger than this app reads as {what} "
                           f"({limits.MAX_EMAIL_BYTES // 1024**2} MB).")


def _source(path: Path, fmt: str, title: str, notes: list[str],
            participants: list[str]) -> MessageSource:
    from evidence_recorder.core.gather.messages import detect

    name, size, mtime = detect.file_facts(path)
    return MessageSource(format=fmt, parser=PARSER, file_name=name, file_size=size,
                         file_mtime=mtime, title=title, notes=notes,
                         participants=participants[:MAX_PARTICIPANTS])


def _people(*values: str) -> list[str]:
    seen: list[str] = []
    for value in values:
        if not value:
            continue
        try:
            pairs = getaddresses([value])
        except Exception:
            pairs = [(value, "")]
        for shown, address in pairs:
            person = f"{shown} <{address}>" if shown and address else (address or shown)
            if person and person not in seen:
                seen.append(_safe(person))
    return seen


def parse_eml(path: Path, lookup: KeyLookup | None = None) -> MessageExport:
    """One e-mail saved with its headers (.eml, RFC 5322)."""
    size = path.stat().st_size
    _refuse_size(path, size, "one e-mail")
    with path.open("rb") as fh:
        raw = fh.read(limits.MAX_EMAIL_BYTES + 1)
    fields = header_fields(raw)
    names = {n.lower() for n, _ in fields}
    if not names & {"from", "date", "subject"}:
        raise RefusedInput(f"{path.name} does not look like an e-mail (no From, Date or "
                           "Subject header).")
    notes: list[str] = []

    def load() -> bytes:
        with path.open("rb") as again:
            return again.read(limits.MAX_EMAIL_BYTES + 1)

    message, media = read_email(raw, 0, load, prefix="", checker=DkimChecker(lookup),
                                notes=notes, budget=_Budget())
    extra = message.extra
    title = extra["subject"] or f"E-mail from {message.sender or 'an unknown sender'}"
    source = _source(path, "eml", title, notes,
                     _people(extra["from"], extra["to"], extra["cc"]))
    return MessageExport("email", source, [message], media,
                         original_media_type="message/rfc822", original_name="message.eml")


# --- Outlook .msg ------------------------------------------------------------------------

def parse_msg(path: Path, lookup: KeyLookup | None = None) -> MessageExport:
    """One Outlook e-mail (.msg, an OLE2 compound file), read with extract-msg.

    Outlook keeps the transport headers where the message came by Internet mail; the
    body and addresses are its own properties, not the bytes as sent, so a DKIM
    signature cannot be checked (``not-checked``, said so)."""
    del lookup  # the bytes as sent are not in a .msg
    size = path.stat().st_size
    _refuse_size(path, size, "one e-mail")
    import extract_msg

    notes: list[str] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            logging.getLogger("extract_msg").setLevel(logging.CRITICAL)
            opened = extract_msg.openMsg(str(path), delayAttachments=False)
            try:
                message, media = _read_msg(opened, notes)
            finally:
                opened.close()
    except RefusedInput:
        raise
    except Exception as exc:  # extract-msg on a damaged or hostile file
        raise RefusedInput(f"{path.name} could not be read as an Outlook e-mail (.msg): "
                           "the file is damaged or is not an e-mail.") from exc
    extra = message.extra
    title = extra["subject"] or f"E-mail from {message.sender or 'an unknown sender'}"
    source = _source(path, "msg", title, notes,
                     _people(extra["from"], extra["to"], extra["cc"]))
    return MessageExport("email", source, [message], media,
                         original_media_type="application/vnd.ms-outlook",
                         original_name="message.msg")


def _read_msg(opened: Any, notes: list[str]) -> tuple[Message, list[MediaFile]]:
    if not hasattr(opened, "subject") or not hasattr(opened, "attachments"):
        raise RefusedInput("This Outlook file is not an e-mail.")
    header_text = getattr(opened, "headerText", None)
    fields = header_fields(header_text.encode("utf-8", "surrogateescape")) \
        if isinstance(header_text, str) and header_text.strip() else []
    if not fields:
        notes.append("Outlook kept no Internet headers for this e-mail.")

    def text(value: Any) -> str:
        return _safe(" ".join(str(value).split()))[: limits.MAX_HEADER_CHARS] if value else ""

    sender = text(getattr(opened, "sender", None))
    date = getattr(opened, "date", None)
    sent_at = ""
    if date is not None and hasattr(date, "astimezone"):
        try:
            sent_at = iso(date if date.tzinfo else date.replace(tzinfo=UTC))
        except (ValueError, OverflowError):
            sent_at = ""
    if not sent_at:
        notes.append("The e-mail gives no time it was sent that could be read.")
    raw_date = _first(fields, "Date")
    written = _unfold(raw_date) if raw_date else (str(date) if date is not None else "")
    body = getattr(opened, "body", None)
    from_html = False
    if not (isinstance(body, str) and body.strip()):
        html = getattr(opened, "htmlBody", None)
        if isinstance(html, bytes):
            body, from_html = html_to_text(html.decode("utf-8", errors="replace")), True
        else:
            body = ""
    body = _safe(body.replace("\r\n", "\n").strip())
    if len(body) > limits.MAX_MESSAGE_CHARS:
        notes.append(f"The e-mail's text is longer than {limits.MAX_MESSAGE_CHARS} "
                     "characters; only the beginning is shown.")
        body = body[: limits.MAX_MESSAGE_CHARS]
    signed = any(n.lower() == "dkim-signature" for n, _ in fields)
    dkim = DkimResult(
        "not-checked" if signed else "none", checked_at=iso(_now()),
        reason=("an Outlook .msg file does not keep the e-mail exactly as it was sent, so "
                "its DKIM signature cannot be checked") if signed
        else "the e-mail has no DKIM signature")
    extra: dict[str, Any] = {
        "headers": fields, "from": sender, "to": text(getattr(opened, "to", None)),
        "cc": text(getattr(opened, "cc", None)), "date": written,
        "subject": text(getattr(opened, "subject", None)),
        "message_id": text(getattr(opened, "messageId", None))
        or _unfold(_first(fields, "Message-ID") or ""),
        "received": [_unfold(v) for n, v in fields if n.lower() == "received"],
        "dkim": dkim.as_dict(),
    }
    if from_html:
        extra["body_from_html"] = True
    attachments: list[MessageAttachment] = []
    media: list[MediaFile] = []
    for number, attachment in enumerate(opened.attachments[: limits.MAX_ATTACHMENTS], 1):
        given = _safe(str(getattr(attachment, "longFilename", None)
                          or getattr(attachment, "shortFilename", None) or ""))
        data = getattr(attachment, "data", None)
        if not isinstance(data, bytes):
            attachments.append(MessageAttachment(
                given or f"attachment {number}",
                note="An enclosed Outlook item; it is kept inside the original file."))
            continue
        kind = str(getattr(attachment, "mimetype", None) or "") or \
            (mimetypes.guess_type(given)[0] or "application/octet-stream")
        name = f"attachment-{number}-{safe_name(given, 'file.bin')}"
        media.append(MediaFile(name, kind, len(data), _bytes_opener(data), data_hint=given))
        attachments.append(MessageAttachment(given or name, artefact=name, media_type=kind,
                                             size=len(data)))
    if len(opened.attachments) > limits.MAX_ATTACHMENTS:
        notes.append(f"Only the first {limits.MAX_ATTACHMENTS} attachments were kept apart; "
                     "all are in the original file.")
    sender_id = ""
    if sender:
        found = [a for _, a in getaddresses([sender]) if a]
        sender_id = found[0] if found else ""
    return Message(0, sender, body, sent_at=sent_at, written_at=written, sender_id=sender_id,
                   attachments=attachments, extra=extra), media


def _bytes_opener(data: bytes) -> Callable[[], BinaryIO]:
    def open_data() -> BinaryIO:
        return io.BytesIO(data)
    return open_data


# --- mbox ------------------------------------------------------------------------------

_FROM_TIME = re.compile(rb"\d{1,2}:\d{2}")


def is_from_line(line: bytes) -> bool:
    """An mbox separator ("From sender date"), not a body line that starts with "From "
    ("From Russia with love"): nothing after it, "-", an address, or a time of day."""
    if not line.startswith(b"From "):
        return False
    words = line[5:].split()
    if not words:
        return True
    if len(words) == 1:
        return words[0] == b"-" or b"@" in words[0]
    return bool(_FROM_TIME.search(line)) or (b"@" in words[0] and len(words) <= 2)


@dataclass(slots=True)
class MboxEntry:
    """One e-mail of a mailbox: where it lies in the file, and its bytes (``None`` when
    it is larger than one e-mail may be)."""

    number: int
    offset: int
    length: int
    data: bytes | None


_LINE_FROM = re.compile(rb"^From ", re.M)
MBOX_BLOCK = 256 * 1024  # a mailbox is read this much at a time


class _MboxReader:
    """Splits a mailbox read block by block: what lies between two "From " separator
    lines is one e-mail, gathered up to ``MAX_EMAIL_BYTES`` (beyond, only counted)."""

    def __init__(self, start: int) -> None:
        self.number = 0
        self.start = start  # file offset where the current e-mail's bytes begin
        self.kept: list[bytes] = []
        self.size = 0
        self.whole = True

    def take(self, data: bytes) -> None:
        self.size += len(data)
        if self.whole:
            if self.size > limits.MAX_EMAIL_BYTES:
                self.whole, self.kept = False, []
            elif data:
                self.kept.append(data)

    def close(self, end: int, next_start: int) -> MboxEntry:
        """The e-mail ending at file offset ``end``; the next one begins at
        ``next_start``. The blank line before a "From " line separates, so it is not
        part of the e-mail."""
        length = end - self.start
        data = b"".join(self.kept) if self.whole else None
        if data is not None:
            if data.endswith(b"\r\n\r\n"):
                data, length = data[:-2], length - 2
            elif data.endswith(b"\n\n"):
                data, length = data[:-1], length - 1
        entry = MboxEntry(self.number, self.start, length, data)
        self.number += 1
        self.start, self.kept, self.size, self.whole = next_start, [], 0, True
        return entry


def mbox_entries(path: Path) -> Iterator[MboxEntry]:
    """The e-mails of a mailbox one at a time, read a block at a time (never whole):
    each begins after a "From " line and ends before the blank line that precedes the
    next."""
    with path.open("rb") as fh:
        position = 0
        first = b""
        while not first.strip():  # blank lines before the first "From " line
            first = fh.readline(limits.MAX_LINE_BYTES)
            position += len(first)
            if not first:
                break
            first = first.removeprefix(BOM)
        if not first.lstrip().startswith(b"From "):
            raise RefusedInput(f"{path.name} does not look like a mailbox (mbox): it should "
                               "begin with a “From ” line.")
        reader = _MboxReader(position)
        tail = b""  # bytes read but not yet given to an e-mail; begins at ``offset``
        offset = position
        line_start = first.endswith(b"\n")  # whether ``tail`` begins a line
        eof = False
        while not eof:
            block = fh.read(MBOX_BLOCK)
            eof = not block
            tail += block
            base = 0  # tail[base:] is not yet given to an e-mail
            scan = 0
            while True:
                found = _LINE_FROM.search(tail, scan)
                if found is None:
                    break
                at = found.start()
                if at == 0 and not line_start:
                    scan = 1
                    continue
                newline = tail.find(b"\n", at)
                if newline < 0 and not eof and len(tail) - at <= limits.MAX_LINE_BYTES:
                    break  # the line goes on in the next block
                end = len(tail) if newline < 0 else newline + 1
                if not is_from_line(tail[at:end].rstrip(b"\r\n")):
                    scan = at + 5
                    continue
                reader.take(tail[base:at])
                yield reader.close(offset + at, offset + end)
                base = scan = end
            # keep back the last, unfinished line (it may be a "From " line); give the
            # rest to the current e-mail
            cut = len(tail) if eof else tail.rfind(b"\n", base) + 1
            if cut <= base:
                cut = base if len(tail) - base <= limits.MAX_LINE_BYTES else len(tail)
            if cut > base:
                reader.take(tail[base:cut])
                line_start = tail[cut - 1:cut] == b"\n"
            elif base > 0:
                line_start = True  # a separator line ended right at ``base``
            offset += cut
            tail = tail[cut:]
        yield reader.close(offset, offset)


def _loader(path: Path, offset: int, length: int) -> Loader:
    def load() -> bytes:
        with path.open("rb") as fh:
            fh.seek(offset)
            return fh.read(length)
    return load


def mbox_summaries(path: Path) -> list[tuple[int, str, str, str]]:
    """``(index, from, date, subject)`` of each e-mail of a mailbox, read from their
    headers alone, so a person can choose which to take in (``parse_mbox(only=…)``)."""
    found: list[tuple[int, str, str, str]] = []
    for entry in mbox_entries(path):
        if entry.number >= limits.MAX_MBOX_MESSAGES:
            break
        if entry.data is None:
            found.append((entry.number, "", "", ""))
            continue
        fields = header_fields(entry.data)
        ignored: list[str] = []
        found.append((entry.number, _shown("From", _first(fields, "From"), ignored),
                      _unfold(_first(fields, "Date") or ""),
                      _shown("Subject", _first(fields, "Subject"), ignored)))
    return found


_REPLY = re.compile(r"^(?:(?:re|fw|fwd|aw|wg|sv|tr)\s*(?:\[\d+\])?\s*:\s*)+", re.I)


def parse_mbox(path: Path, only: set[int] | None = None,
               lookup: KeyLookup | None = None) -> MessageExport:
    """A mailbox (mbox) as ONE item: one message per e-mail, read one at a time.

    ``only`` takes just the e-mails with those numbers (as :func:`mbox_summaries` gives
    them); their messages are numbered from 0 in mailbox order and each keeps its place
    in the mailbox as ``extra["mailbox_index"]``. The whole file is kept either way.
    """
    notes: list[str] = []
    checker = DkimChecker(lookup)
    budget = _Budget()
    messages: list[Message] = []
    media: list[MediaFile] = []
    for entry in mbox_entries(path):
        if entry.number >= limits.MAX_MBOX_MESSAGES:
            notes.append(f"This mailbox holds more than {limits.MAX_MBOX_MESSAGES} e-mails; "
                         f"only the first {limits.MAX_MBOX_MESSAGES} were read. The whole "
                         "file is kept.")
            break
        if only is not None and entry.number not in only:
            continue
        index = len(messages)
        label = f"E-mail {entry.number + 1}"
        if entry.data is None:
            messages.append(Message(index, "", f"(This e-mail is larger than "
                                    f"{limits.MAX_EMAIL_BYTES // 1024**2} MB and was not read; "
                                    "it is in the kept mailbox file.)",
                                    kind=MessageKind.UNREADABLE,
                                    extra={"mailbox_index": entry.number}))
            continue
        if budget.text_bytes <= 0:
            notes.append("The mailbox holds more text than this app reads from one file; "
                          f"e-mails from number {entry.number + 1} on were not read.")
            break
        try:
            message, files = read_email(
                entry.data, index, _loader(path, entry.offset, entry.length),
                prefix=f"message-{entry.number + 1}-", checker=checker, notes=notes,
                budget=budget, label=label)
        except Exception:  # one damaged e-mail must not lose the rest of the mailbox
            head = header_block(entry.data)[:2000]
            messages.append(Message(index, "", _bytes_text(head), kind=MessageKind.UNREADABLE,
                                    extra={"mailbox_index": entry.number}))
            notes.append(f"{label} could not be read; its first lines are shown as they are.")
            continue
        message.extra["mailbox_index"] = entry.number
        messages.append(message)
        media.extend(files)
    subjects = {_REPLY.sub("", m.extra.get("subject", "")).strip() for m in messages
                if m.kind is MessageKind.MESSAGE}
    common = next(iter(subjects)) if len(subjects) == 1 else ""
    title = common or f"Mailbox: {path.name}"
    people: list[str] = []
    for message in messages:
        if message.sender and message.sender not in people:
            people.append(message.sender)
    source = _source(path, "mbox", title, notes, people)
    return MessageExport("email", source, messages, media,
                         original_media_type="application/mbox", original_name="mailbox.mbox")

