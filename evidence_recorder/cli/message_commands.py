"""The commands about e-mails and chat exports: ``messages`` (read them) and ``flag``
(mark the ones that matter, or take the mark off)."""

from __future__ import annotations

import argparse
import re
from datetime import date, datetime, time, timedelta

from evidence_recorder.cli.common import EXIT_OK, _open, _print_json, _short
from evidence_recorder.core.errors import RefusedInput
from evidence_recorder.core.model import Capture, CaptureKind, iso_utc, parse_iso_utc

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def terminal_text(text: str) -> str:
    """Text from an export made safe to print: control characters (a terminal escape
    sequence, say) and bidirectional overrides shown as U+FFFD, never obeyed."""
    return _CONTROL.sub("\ufffd", text)


def _moment(text: str, *, end: bool) -> str:
    """``--from``/``--to``: a date (local; ``--to`` takes the whole day) or an ISO
    8601 time (local unless it names a zone), as ISO UTC."""
    text = text.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime.combine(day + timedelta(days=1) if end else day, time())
            moment = moment.astimezone()
            if end:
                moment -= timedelta(milliseconds=1)
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.astimezone()
    except ValueError:
        raise RefusedInput(f"“{_short(text, 40)}” is not a date: write it as 2026-11-25 "
                           "or 2026-11-25T18:30.") from None
    return iso_utc(moment)


def _item_with_messages(vault: object, item_id: int) -> Capture:
    item: Capture = vault.capture(item_id)  # type: ignore[attr-defined]
    if item.kind not in (CaptureKind.EMAIL, CaptureKind.CHAT):
        raise RefusedInput(f"Item {item_id} is a {item.kind.value} capture, not an e-mail or "
                           "a chat export: it has no messages.")
    return item


def cmd_messages(args: argparse.Namespace) -> int:
    since = _moment(args.since, end=False) if args.since else ""
    until = _moment(args.until, end=True) if args.until else ""
    with _open(args) as vault:
        item = _item_with_messages(vault, args.id)
        found = vault.messages(item.id, since=since, until=until, search=args.search or "")
        flags = {f.index: f for f in vault.message_flags(item.id)}
    if args.json:
        out = []
        for m in found:
            row = m.as_dict()
            flag = flags.get(m.index)
            row["flag"] = flag.as_dict() if flag else None
            out.append(row)
        _print_json(out)
        return EXIT_OK
    source = item.messages
    if source is not None and source.zone_assumed:
        print(f"Times without a zone in the export were taken as {source.zone_assumed}, "
              "the computer's zone at import.")
    if not found:
        print("No messages match." if (since or until or args.search) else "No messages.")
        return EXIT_OK
    for m in found:
        when = (parse_iso_utc(m.sent_at).astimezone().strftime("%d %b %Y %H:%M")
                if m.sent_at else (m.written_at or "no time"))
        mark = " [flagged]" if m.index in flags else ""
        sender = terminal_text(m.sender) if m.sender else "(no sender)"
        if m.kind.value == "system":
            sender = f"({terminal_text(m.sender)}, the app's own line)" if m.sender \
                else "(the app's own line)"
        if m.kind.value == "unreadable":
            sender = "(could not read this line)"
        lines = terminal_text(m.text).splitlines() or [""]
        print(f"{m.index:>6}  {when:<17}  {sender}{mark}: {lines[0]}")
        for line in lines[1:]:
            print(f"{'':>27}{line}")
        for a in m.attachments:
            what = "not in the export" if a.omitted or not a.artefact else a.artefact
            print(f"{'':>27}[attachment: {terminal_text(a.name)} ({what})]")
    return EXIT_OK


def cmd_mailbox(args: argparse.Namespace) -> int:
    from pathlib import Path

    from evidence_recorder.core.gather.messages import detect, email_files

    path = Path(args.file)
    try:
        fmt = detect.what_is(path)
    except OSError as exc:
        raise RefusedInput(f"{path.name} could not be read ({exc.strerror}).") from None
    if fmt is None or fmt.id != "mbox":
        raise RefusedInput(f"{path.name} is not a mailbox (mbox) file.")
    found = email_files.mbox_summaries(path)
    if not found:
        print("The mailbox holds no e-mails.")
        return EXIT_OK
    for number, sender, when, subject in found:
        print(f"{number:>6}  {_short(terminal_text(when), 31):<31}  "
              f"{_short(terminal_text(sender), 30):<30}  {terminal_text(subject)}")
    return EXIT_OK


def cmd_flag(args: argparse.Namespace) -> int:
    with _open(args) as vault:
        item = _item_with_messages(vault, args.id)
        if args.remove:
            done = vault.unflag_messages(item.id, args.indexes)
            print(f"Took the flag off {len(done)} message{'s' if len(done) != 1 else ''} "
                  f"of item {item.id}." if done else "None of those messages was flagged.")
            return EXIT_OK
        done = vault.flag_messages(item.id, args.indexes, category=args.category or "",
                                   note=args.note or "")
    print(f"Flagged message{'s' if len(done) != 1 else ''} "
          + ", ".join(str(i) for i in done) + f" of item {item.id}.")
    return EXIT_OK
