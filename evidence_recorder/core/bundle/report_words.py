"""What the readable report says, in the PDF and the HTML alike: the fixed wording, the
rows recorded of each capture, how times are written, and :func:`visible_text`, which
every piece of hostile text goes through before either format shows it.

Kept apart from the two layouts (:mod:`.report_pdf`, :mod:`.report_html`) so that both
say exactly the same thing; nothing here knows about pages or markup.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from http import HTTPStatus
from typing import Final

from evidence_recorder.core import fields
from evidence_recorder.core.bundle.report_data import ReportCapture, ReportData, ReportFile
from evidence_recorder.core.conversation import (
    CONTEXT_MESSAGES,
    Message,
    MessageFlag,
    MessageKind,
)
from evidence_recorder.core.fields import Value
from evidence_recorder.core.model import (
    CATEGORY_LABELS,
    Capture,
    CaptureKind,
    Category,
    PageState,
    WebSource,
    handle_text,
)

TITLE: Final = "Record of online abuse"
HONEST_STATEMENT: Final = (
    "These captures were made by the person affected, using Evidence Recorder on their "
    "own computer. They are a record, not a forensic acquisition: each picture was "
    "fingerprinted (SHA-256) when it was taken and has not changed since; the audit log "
    "records every action."
)
CONFIRM_FINGERPRINT: Final = "Confirm this fingerprint with the sender by phone"
SEAL_NUMBER_LABEL: Final = "Seal number (the same key as digits, easier to read out)"
CONFIRM_SEAL: Final = "Confirm the seal number with the sender by phone"

_AUDIENCES: Final = {"headteacher": "the headteacher", "police": "the police"}
_HOW: Final = {
    CaptureKind.SCREEN: "Captured on screen: every monitor",
    CaptureKind.MONITOR: "Captured on screen: one monitor",
    CaptureKind.REGION: "Captured on screen: a selected area",
    CaptureKind.WINDOW: "Captured on screen: one window",
    CaptureKind.IMPORT: "Imported from a file (for example a phone screenshot)",
    CaptureKind.WEB: "Captured as a web page in Evidence Recorder's own browser",
    CaptureKind.EMAIL: "Imported from an e-mail file, kept byte for byte",
    CaptureKind.CHAT: "Imported from a chat export, kept byte for byte",
}
# Invisible characters that reorder or hide text (Trojan Source, "exe.txt" tricks).
_BIDI_CONTROLS: Final = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})$")


# ---------------------------------------------------------------------------
# Text: what every field goes through before it is shown


def _marker(char: str) -> str:
    return f"[U+{ord(char):04X}]"


def visible_text(
    text: str, *, multiline: bool = True, drawable: frozenset[int] | None = None
) -> str:
    """Text as it may be shown: controls and direction overrides made visible.

    ``drawable``, when given, is the set of code points a font can draw; anything else
    becomes a marker too, so a name in a script the font lacks is not silently lost.
    """
    if text.isascii() and text.isprintable() and (drawable is None or drawable >= _ASCII):
        return text  # the common case, without a look at each character
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    out: list[str] = []
    for char in text:
        if char == "\n":
            out.append("\n" if multiline else " ")
        elif char == "\t":
            out.append("    " if multiline else " ")
        elif _hidden(char) or (drawable is not None and ord(char) not in drawable):
            out.append(_marker(char))
        else:
            out.append(char)
    return "".join(out)


_ASCII: Final = frozenset(range(0x20, 0x7F))


def _hidden(char: str) -> bool:
    """A character that would act on the text around it instead of being seen."""
    return char in _BIDI_CONTROLS or unicodedata.category(char) in {"Cc", "Cs"}


def _needs_shaping(text: str) -> bool:
    """Right-to-left letters, or marks that combine with the letter before them."""
    return not text.isascii() and any(
        unicodedata.bidirectional(char) in {"R", "AL", "AN"} or unicodedata.combining(char)
        for char in text
    )


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _parse_offset(text: str) -> timedelta | None:
    found = _OFFSET.match(text.strip())
    if not found:
        return None
    sign, hours, minutes = found.groups()
    delta = timedelta(hours=int(hours), minutes=int(minutes))
    return -delta if sign == "-" else delta


def _utc_text(moment: datetime, *, millis: bool = False) -> str:
    utc = _utc(moment)
    fraction = f".{utc.microsecond // 1000:03d}" if millis else ""
    return f"{utc:%Y-%m-%d %H:%M:%S}{fraction} UTC"


def _stored_time_text(text: str) -> str:
    """A time stored as ISO UTC, written as the report writes every other time (as stored
    when it does not parse, since it came from outside)."""
    try:
        return _utc_text(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        return text


def _local_text(moment: datetime, utc_offset: str, tz_name: str = "") -> str:
    """Local time from the offset recorded at that instant (not today's rules)."""
    offset = _parse_offset(utc_offset)
    if offset is None:
        return "not recorded"
    local = _utc(moment).astimezone(timezone(offset))
    zone = f"UTC{utc_offset.strip()}" + (f", {tz_name}" if tz_name else "")
    return f"{local:%Y-%m-%d %H:%M:%S} ({zone})"


def _exported_local(moment: datetime) -> str:
    """The exporting computer's local time (the report is written there, at export)."""
    local = _utc(moment).astimezone()
    offset = local.strftime("%z")
    offset = f"{offset[:3]}:{offset[3:]}" if offset else "+00:00"
    name = local.tzname() or ""
    zone = f"UTC{offset}" + (f", {name}" if name and not name.startswith(("UTC", "+", "-")) else "")
    return f"{local:%Y-%m-%d %H:%M:%S} ({zone})"


def _category(value: str) -> str:
    if not value:
        return ""
    try:
        return CATEGORY_LABELS[Category(value)]
    except ValueError:
        return value


def _audience(value: str) -> str:
    return _AUDIENCES.get(value, value or "not given")


def timeline_site(capture: Capture) -> str:
    """The timeline's site column: what the sender wrote, else (for an e-mail or a chat
    export) what the item is."""
    if capture.details.site.strip() or capture.messages is None:
        return capture.details.site
    return "E-mail" if capture.kind is CaptureKind.EMAIL else "Chat export"


def timeline_description(capture: Capture) -> str:
    """The timeline's description column: the sender's words, else an e-mail's subject
    or a chat's name."""
    if capture.details.description.strip() or capture.messages is None:
        return capture.details.description
    return capture.title


def _posted(capture: Capture) -> str:
    return capture.details.posted_at


def _author_handle(capture: Capture) -> str:
    details = capture.details
    return "\n".join(part for part in (details.author, handle_text(details.handle)) if part)


# Addresses and account numbers may break anywhere: they have no spaces to break at.
_STYLES: Final[dict[Value, str]] = {Value.URL: "url", Value.NUMBER: "url"}


def _fields(item: ReportCapture, others: Sequence[ReportCapture] = ()) -> list[
        tuple[str, str, str]]:
    """(label, value, style) rows for one capture, in the order an officer reads them.

    Style is "" for ordinary text, "mono" for hashes and paths, "url" for text that
    may break anywhere. Empty core fields stay, marked "not recorded", because their
    absence is itself information; empty optional ones are left out. ``others`` are
    the report's captures, where a web page's later checks are found.
    """
    capture = item.capture
    details = capture.details
    rows: list[tuple[str, str, str]] = [
        ("Incident", item.incident_title, ""),
        ("Captured (UTC)", _utc_text(capture.captured_at, millis=True), ""),
        ("Captured (local time)", _local_text(capture.captured_at, capture.utc_offset,
                                              capture.tz_name), ""),
        ("How", _HOW.get(capture.kind, str(capture.kind)), ""),
    ]
    if capture.source is not None:
        rows.append(("File name", capture.source.file_name, "url"))
        rows.append(("Date written in the file (not verified)",
                     capture.source.claimed_time or "none", ""))
        if capture.source.file_mtime:
            rows.append(("File's modified time (not verified)",
                         _stored_time_text(capture.source.file_mtime), ""))
    for f in fields.in_reading_order():
        value = getattr(details, f.name)
        if f.value is Value.HANDLE:
            value = handle_text(value)
        elif f.value is Value.CATEGORY:
            value = _category(value)
        if value or f.reported_when_empty:
            rows.append((f.title, value, _STYLES.get(f.value, "")))
    if capture.web is not None:
        rows += web_rows(capture, [other.capture for other in others])
    if capture.messages is not None:
        return rows + message_source_rows(item)
    rows += [
        ("Picture", f"{capture.width} × {capture.height} pixels, {capture.media_type}", ""),
        ("SHA-256 of the original", capture.sha256, "mono"),
        ("Original in the bundle", item.original_path, "mono") if item.original_path
        else ("Original", KEPT_ORIGINAL, ""),
    ]
    if item.redacted_path:
        rows.append(("Covered copy in the bundle" if item.covered
                     else "Marked copy in the bundle", item.redacted_path, "mono"))
    for role, path in item.web_files:
        rows.append((_WEB_FILES.get(role, f"{role.capitalize()} in the bundle"), path, "mono"))
    if item.kept_back:
        rows.append(("Other files", "Not in this bundle: the sender kept them with the "
                     f"original, since they show what was covered ({', '.join(item.kept_back)}).",
                     ""))
    return rows


# ---------------------------------------------------------------------------
# Web pages: what the capture browser recorded, and whether the page is still there

_WEB_FILES: Final = {
    "full-page": "Full-page picture in the bundle",
    "visible": "What was on screen, in the bundle",
    "page-archive": "Archived page (MHTML) in the bundle",
    "network-archive": "Network record (WARC) in the bundle",
    "certificate": "Certificate chain (PEM) in the bundle",
}
_LOAD_NOTES: Final = {
    "timed-out": "The page had not finished loading when the time allowed ran out; what "
                 "had loaded was captured.",
    "failed": "The page could not be loaded: nothing answered at its address.",
}
# What a later check found, beside "gone by": a login wall or no answer may not mean
# the post was deleted, and the report must not say more than the check saw.
_NOT_THERE: Final = {
    PageState.GONE.value: "the page was no longer there",
    PageState.LOGIN_WALL.value: "the site asked to sign in instead of showing it, so it "
                                "may be hidden rather than deleted",
    PageState.UNREACHABLE.value: "nothing answered at its address, which may be a passing "
                                 "fault",
}
_STATE_WORDS: Final = {
    PageState.AVAILABLE.value: "the page was there",
    **_NOT_THERE,
}


def _status_text(status: int | None) -> str:
    if status is None:
        return "no answer was received"
    try:
        return f"{status} ({HTTPStatus(status).phrase})"
    except ValueError:
        return str(status)


def _validity(web: WebSource) -> str:
    start, end = (_stored_time_text(web.certificate_valid_from),
                  _stored_time_text(web.certificate_valid_to))
    if start and end:
        return f"from {start} to {end}"
    if start:
        return f"from {start}"
    return f"until {end}" if end else ""


def checks_of(capture: Capture, others: Sequence[Capture]) -> list[Capture]:
    """The later captures that checked this web page again, oldest first."""
    return sorted((other for other in others if other.web is not None
                   and other.web.recheck_of == capture.id and other.id != capture.id),
                  key=lambda other: (other.captured_at, other.id))


def still_there(capture: Capture, others: Sequence[Capture]) -> str:
    """"Captured on …, gone by …" or "Still there on …", from the latest check of this
    page among ``others``; "" when it was not checked again (in what was sent)."""
    checks = checks_of(capture, others)
    if not checks:
        return ""
    latest = checks[-1]
    assert latest.web is not None
    if latest.web.page_state == PageState.AVAILABLE.value:
        return (f"Still there on {_utc_text(latest.captured_at)} (checked again: record "
                f"no. {latest.id}).")
    gone_since = latest  # the first check of the run of checks that did not find it
    for check in reversed(checks):
        if check.web is None or check.web.page_state == PageState.AVAILABLE.value:
            break
        gone_since = check
    assert gone_since.web is not None
    found = _NOT_THERE.get(gone_since.web.page_state, gone_since.web.page_state)
    reason = f" ({gone_since.web.page_state_reason})" if gone_since.web.page_state_reason \
        else ""
    return (f"Captured on {_utc_text(capture.captured_at)}, gone by "
            f"{_utc_text(gone_since.captured_at)}: {found}{reason} (checked again: record "
            f"no. {gone_since.id}).")


def check_sentence(capture: Capture, others: Sequence[Capture]) -> str:
    """For a capture that checked an earlier one again: which, and what it found."""
    web = capture.web
    if web is None or web.recheck_of is None:
        return ""
    found = _STATE_WORDS.get(web.page_state, web.page_state)
    reason = f" ({web.page_state_reason})" if web.page_state_reason else ""
    first = next((other for other in others if other.id == web.recheck_of), None)
    if first is None:
        return (f"A later check of record no. {web.recheck_of}, which is not in this "
                f"bundle: {found}{reason}.")
    return (f"A later check of record no. {first.id} (captured "
            f"{_utc_text(first.captured_at)}): {found}{reason}.")


def web_rows(capture: Capture, others: Sequence[Capture] = ()) -> list[tuple[str, str, str]]:
    """What the capture browser recorded of a web page, as (label, value, style) rows."""
    web = capture.web
    if web is None:
        return []
    rows: list[tuple[str, str, str]] = [("Address", web.final_url, "url")]
    if web.requested_url and web.requested_url != web.final_url:
        rows.append(("Address asked for", web.requested_url, "url"))
    if web.redirects:
        rows.append(("Redirected from", "\n".join(web.redirects), "url"))
    rows += [("Page title", web.title, ""), ("HTTP status", _status_text(web.http_status), ""),
             ("Server IP address", web.server_ip, "")]
    if web.certificate_sha256 or web.certificate_subject:
        rows += [("Certificate subject", web.certificate_subject, ""),
                 ("Certificate issuer", web.certificate_issuer, ""),
                 ("Certificate valid", _validity(web), ""),
                 ("SHA-256 of the certificate", web.certificate_sha256, "mono")]
        if web.tls_protocol:
            rows.append(("Connection", web.tls_protocol, ""))
    elif web.final_url.lower().startswith("http:"):
        rows.append(("Certificate", "plain http: no certificate", ""))
    else:
        rows.append(("Certificate", "", ""))
    if web.certificate_error:
        rows.append(("Certificate error the browser showed", web.certificate_error, ""))
    notes = [_LOAD_NOTES[web.load_state]] if web.load_state in _LOAD_NOTES else []
    if web.panel:
        notes.append(f"The scrolling panel {web.panel} was captured whole, not the page.")
    if web.page_state != PageState.AVAILABLE.value and web.recheck_of is None:
        notes.append(f"When captured, {_STATE_WORDS.get(web.page_state, web.page_state)}"
                     + (f" ({web.page_state_reason})." if web.page_state_reason else "."))
    if notes:
        rows.append(("Load notes", " ".join(notes), ""))
    if web.scroll_height:
        parts = (f", in {web.full_page_parts} parts" if web.full_page_parts > 1 else "")
        rows.append(("Height captured", f"{web.scroll_height:,} CSS pixels{parts} "
                     f"(window {web.viewport_width} × {web.viewport_height}, pixel ratio "
                     f"{web.device_pixel_ratio:g})", ""))
    if web.user_agent:
        rows.append(("Browser", web.user_agent, ""))
    if history := still_there(capture, others):
        rows.append(("Still there?", history, ""))
    if check := check_sentence(capture, others):
        rows.append(("Checked again", check, ""))
    return rows


# ---------------------------------------------------------------------------
# E-mails and chat exports: what was read from the file, and each message as written

DERIVED_NOTE: Final = (
    "The messages below are read out of the original file by Evidence Recorder; the "
    "original, byte for byte, is the evidence, and the whole reading is in the bundle "
    "as messages.json (derived, not original).")
_FORMATS: Final = {
    "eml": "E-mail (.eml)", "msg": "Outlook message (.msg)", "mbox": "Mailbox (mbox)",
    "whatsapp-android": "WhatsApp chat export (Android)",
    "whatsapp-ios": "WhatsApp chat export (iPhone)", "whatsapp-zip": "WhatsApp chat export",
    "telegram-json": "Telegram Desktop export (JSON)",
    "facebook-json": "Facebook / Messenger / Instagram download (JSON)",
    "discord-json": "Discord export (JSON)", "signal-text": "Signal export (text)",
    "sms-xml": "SMS Backup & Restore (XML)",
}


def zone_sentence(zone: str) -> str:
    """What the report says of times written without a zone."""
    return (f"Times without a zone were taken as {zone}, the computer's zone at import."
            if zone else "Every time in the export carried its own zone.")


def message_source_rows(item: ReportCapture) -> list[tuple[str, str, str]]:
    """What was recorded of an e-mail or chat export at import, and where its files are."""
    capture = item.capture
    src = capture.messages
    assert src is not None
    count = f"{src.message_count:,}"
    if src.unreadable_count:
        count += (f", and {src.unreadable_count:,} line"
                  f"{'' if src.unreadable_count == 1 else 's'} that could not be read (kept "
                  "as written)")
    rows: list[tuple[str, str, str]] = [
        ("Format", _FORMATS.get(src.format, src.format), ""),
        ("Read by", f"Evidence Recorder's {src.parser} reader" if src.parser else "", ""),
        ("File name", src.file_name, "url"),
        ("File's modified time (not verified)", _stored_time_text(src.file_mtime), ""),
        ("Title", src.title, ""),
        ("Participants", ", ".join(src.participants), ""),
        ("Messages", count, ""),
    ]
    if src.first_at:
        rows.append(("First and last message", f"{_stored_time_text(src.first_at)} to "
                     f"{_stored_time_text(src.last_at)}", ""))
    rows.append(("Times", zone_sentence(src.zone_assumed), ""))
    order = ", ".join(part for part in (src.date_order, src.clock) if part)
    if order:
        rows.append(("Dates read as", f"{order} (worked out from the whole file)", ""))
    if src.notes:
        rows.append(("Notes from reading the file", "\n".join(src.notes), ""))
    if item.flags:
        rows.append(("Flagged messages", f"{len(item.flags):,}", ""))
    rows += [
        ("SHA-256 of the original", capture.sha256, "mono"),
        ("Original in the bundle", item.original_path, "mono"),
        ("Messages as read (derived)", item.messages_path, "mono"),
        ("SHA-256 of the messages as read", src.messages_sha256, "mono"),
    ]
    for file in item.files:
        rows.append((f"{file.role.capitalize()} in the bundle",
                     f"{file.name}: {file.size:,} bytes, SHA-256 {file.sha256}, "
                     f"at {file.path}", "url"))
    return rows


def _day(text: str) -> str:
    """"7 Dec 2026" from a stored ISO time ("" when it does not parse)."""
    try:
        moment = _utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        return ""
    return f"{moment.day} {moment:%b %Y}"


def dkim_words(dkim: object) -> str:
    """The DKIM result exactly as strong as what was recorded: "Signature valid for
    example.org, checked on 7 Dec 2026" only for a pass; "Not checked" as such."""
    if not isinstance(dkim, dict) or not dkim.get("result"):
        return "Not checked"
    result = str(dkim.get("result", ""))
    domain = str(dkim.get("domain", "") or "")
    day = _day(str(dkim.get("checked_at", "") or ""))
    reason = str(dkim.get("reason", "") or "")
    when = f", checked on {day}" if day else ""
    why = f" ({reason})" if reason else ""
    if result == "pass":
        return f"Signature valid for {domain or 'the signing domain'}{when}"
    if result == "fail":
        return f"Signature did not verify for {domain or 'the signing domain'}{when}{why}"
    if result == "none":
        return "Not signed"
    if result == "not-checked":
        return f"Not checked{why}"
    return f"Recorded as “{result}”{when}{why}"


def _header_text(value: object) -> str:
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    return "" if value is None else str(value)


def email_rows(message: Message) -> list[tuple[str, str, str]]:
    """An e-mail's headers as recorded: From, To, Cc, Date, Subject, Message-ID, the
    Received chain (newest first) and the DKIM result."""
    extra = message.extra
    rows: list[tuple[str, str, str]] = [
        ("From", _header_text(extra.get("from")) or message.sender, ""),
        ("To", _header_text(extra.get("to")), ""),
    ]
    if extra.get("cc"):
        rows.append(("Cc", _header_text(extra.get("cc")), ""))
    date = _header_text(extra.get("date")) or message.written_at
    if message.sent_at:
        date = f"{date} ({_stored_time_text(message.sent_at)})" if date \
            else _stored_time_text(message.sent_at)
    rows += [
        ("Date", date, ""),
        ("Subject", _header_text(extra.get("subject")), ""),
        ("Message-ID", _header_text(extra.get("message_id")), "url"),
        ("Received chain (newest first)", _header_text(extra.get("received")), "url"),
        ("DKIM", dkim_words(extra.get("dkim")), ""),
    ]
    return rows


def attachment_rows(message: Message, files: Sequence[ReportFile]) -> list[str]:
    """One line per file the message names: its name, size and SHA-256 where kept."""
    by_name = {file.name: file for file in files}
    out = []
    for attachment in message.attachments:
        kept = by_name.get(attachment.artefact) if attachment.artefact else None
        if kept is not None:
            out.append(f"{attachment.name}: {kept.size:,} bytes, SHA-256 {kept.sha256}, "
                       f"at {kept.path}")
        elif attachment.omitted:
            out.append(f"{attachment.name}: left out of the export"
                       + (f" ({attachment.note})" if attachment.note else ""))
        else:
            out.append(f"{attachment.name}: not kept"
                       + (f" ({attachment.note})" if attachment.note else ""))
    return out


def message_time(message: Message) -> str:
    """A message's time as written in the export, and in UTC."""
    written = message.written_at or "no time written"
    if not message.sent_at:
        return f"{written} (no time could be read)"
    return f"{written} (as written) · {_stored_time_text(message.sent_at)}"


def message_heading(message: Message) -> str:
    """Who sent it and when; what kind of line it is where it is not a message."""
    if message.kind is MessageKind.UNREADABLE:
        return f"#{message.index} · a line that could not be read, kept as written"
    who = message.sender or "no sender shown"
    if message.sender_id and message.sender_id != message.sender:
        who = f"{who} ({message.sender_id})"
    if message.kind is MessageKind.SYSTEM:
        who = f"{who or 'the app'} (the app's own line)"
    return f"#{message.index} · {who} · {message_time(message)}"


def flag_words(flag: MessageFlag) -> str:
    parts = ["FLAGGED by the sender"]
    if flag.category:
        parts.append(f"as {_category(flag.category)}")
    text = " ".join(parts)
    return f"{text}: {flag.note}" if flag.note else text


def conversation_runs(item: ReportCapture) -> list[list[Message]]:
    """The messages shown, in runs of consecutive indexes (a flagged message with its
    context; runs that touch are one)."""
    runs: list[list[Message]] = []
    for message in item.messages:
        if runs and message.index == runs[-1][-1].index + 1:
            runs[-1].append(message)
        else:
            runs.append([message])
    return runs


CONVERSATION_INTRO: Final = (
    f"Each flagged message with {CONTEXT_MESSAGES} messages before and after it, in the "
    "order of the export. Times are shown as the export wrote them and in UTC.")


KEPT_ORIGINAL: Final = "Not in this bundle: the sender kept the original."
COVERED_KEPT: Final = "Covered copy; the sender kept the original."


def _copy_note(item: ReportCapture) -> str:
    """What the picture shown is, when it is the annotated copy (one line of words)."""
    if not item.covered:
        return "Marked copy (nothing covered): the original is in"
    if not item.original_path:
        return COVERED_KEPT
    return "Covered copy: the original is in"


# The manual commands come first: they need only standard tools, and they are what
# proves something. The scripts in the bundle come last, with the reason not to trust
# a copy that arrived with the evidence (README-VERIFY.txt says the same).
_CHECK_STEPS: Final = (
    "Unzip the bundle and, in its folder, check every file with a standard tool: "
    "sha256sum -c manifest-sha256.txt and sha256sum -c tagmanifest-sha256.txt (on "
    "Windows, certutil -hashfile FILE SHA256 for each file, compared with its line in "
    "the manifest). Every file in the folder must be listed in one of the two "
    "manifests, apart from the seal's own files; anything else was added later.",
    "Check the seal: ssh-keygen -Y verify -f allowed_signers -I IDENTITY -n "
    "evidence-recorder-bundle -s tagmanifest-sha256.txt.sig < tagmanifest-sha256.txt, "
    "where IDENTITY is the first word of allowed_signers. It must print Good "
    "\"evidence-recorder-bundle\" signature. README-VERIFY.txt in the folder gives each "
    "command in full.",
    "If a trusted timestamp is included: openssl ts -verify -in "
    "tagmanifest-sha256.txt.sig.tsr -data tagmanifest-sha256.txt.sig -CAfile with the "
    "authority's root certificate, taken from the authority itself.",
    "Compare the seal's number or fingerprint with the one the sender gives you by phone.",
    "Evidence Recorder runs the same checks when you open the .zip file in it (Verify a "
    "bundle). The scripts in the bundle, verify.sh and verify.cmd, run them too, but a "
    "script inside a bundle proves nothing by itself: whoever altered the bundle could "
    "have altered the script. Use the copies published with Evidence Recorder "
    "(docs/verify/ in its source code) or type the commands.",
)


def _timestamp_sentence(timestamped: bool) -> str:
    if timestamped:
        return ("Included: a time-stamping authority (RFC 3161) countersigned the bundle's "
                "seal (tagmanifest-sha256.txt.sig.tsr). Checked against that authority's root "
                "certificate, it shows the bundle existed, as it is, no later than the time it "
                "records.")
    return "Not included: the times are those of the sender's computer clock."


def _about_sentences(data: ReportData) -> list[str]:
    """What the recipient should know beyond the statement: imports and redactions."""
    sentences = []
    imported = sum(1 for item in data.captures if item.capture.kind is CaptureKind.IMPORT)
    if imported:
        pictures = "picture was" if imported == 1 else "pictures were"
        sentences.append(
            f"{imported} {pictures} not captured on screen but imported from a file (for "
            "example a screenshot taken on a phone): the fingerprint dates from the import, "
            "and any date written in the file cannot be verified.")
    pages = sum(1 for item in data.captures if item.capture.web is not None)
    if pages:
        what = "capture is a web page" if pages == 1 else "captures are web pages"
        sentences.append(
            f"{pages} {what} recorded in Evidence Recorder's own browser: the address, "
            "the server's answer and address and the site's certificate are what the "
            "browser was given when it loaded the page, recorded automatically, not typed.")
    messages = sum(1 for item in data.captures if item.capture.messages is not None)
    if messages:
        what = ("capture is an e-mail or a chat export" if messages == 1
                else "captures are e-mails or chat exports")
        sentences.append(
            f"{messages} {what}, imported from a file: the file is in the bundle byte for "
            "byte and fingerprinted at import, with its attachments. The messages shown "
            "are read out of it by Evidence Recorder (messages.json in the bundle, derived, "
            "not original); an e-mail's DKIM result is only what was checked at import.")
    covered = [item for item in data.captures if item.shows_redacted_copy and item.covered]
    if covered:
        kept = sum(1 for item in covered if not item.original_path)
        sentences.append(_redaction_sentence(len(covered), kept))
    return sentences


def _redaction_sentence(count: int, kept: int = 0) -> str:
    pictures = "picture is a covered copy" if count == 1 else "pictures are covered copies"
    if kept == 0:
        where = "and the unaltered original is in the bundle."
    elif kept == count:
        where = ("and the sender kept the original: it is not in this bundle." if count == 1
                 else "and the sender kept the originals: they are not in this bundle.")
    else:
        where = (f"and the sender kept {kept} of the originals: those are not in this "
                 "bundle.")
    return (f"{count} {pictures}: some content was covered with solid blocks to protect "
            f"other people. Each is marked, {where}")


# The timeline's columns after the number and the capture time, named as the fields are;
# the author's column holds their handle too.
_TIMELINE_FIELD_HEADINGS: Final = (
    fields.SITE.title, f"{fields.AUTHOR.title} / {fields.HANDLE.title.lower()}",
    fields.POSTED_AT.title, fields.CATEGORY.title, fields.DESCRIPTION.title)


def _timeline_time(capture: Capture) -> str:
    """Capture time in two short lines: UTC, then local with its offset."""
    utc = _utc_text(capture.captured_at)
    offset = _parse_offset(capture.utc_offset)
    if offset is None:
        return f"{utc}\nlocal time not recorded"
    local = _utc(capture.captured_at).astimezone(timezone(offset))
    return f"{utc}\n{local:%Y-%m-%d %H:%M:%S} {capture.utc_offset.strip()}"
