"""The commands about the evidence itself: capture, import, list, show, edit, extract,
annotate and delete captures, and create or list incidents."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from evidence_recorder.cli.common import (
    EXIT_OK,
    EXIT_REFUSED,
    UsageError,
    _details,
    _local,
    _open,
    _print_json,
    _short,
)
from evidence_recorder.core import fields
from evidence_recorder.core.errors import (
    EvidenceError,
    RefusedInput,
    VaultDamaged,
)
from evidence_recorder.core.model import (
    Capture,
    CaptureDetails,
    handle_text,
    iso_utc,
)


def cmd_capture(args: argparse.Namespace) -> int:
    from evidence_recorder.core.gather import capture, recorder

    region = capture.parse_region(args.region) if args.region else None
    if args.delay < 0 or args.delay > 600:
        raise UsageError("The delay must be between 0 and 600 seconds.")
    with _open(args) as vault:
        details = CaptureDetails(**_details(args))

        def countdown(left: int) -> None:
            print(f"Capturing in {left}…", file=sys.stderr)

        if args.window:
            grab = capture.grab_window(delay=args.delay,
                                       on_countdown=countdown if args.delay else None)
        else:
            grab = capture.grab(monitor=args.monitor, region=region, delay=args.delay,
                                on_countdown=countdown if args.delay else None)
        capture_id = recorder.save_grab(vault, grab, details, args.incident)
    print(f"Saved capture {capture_id} ({grab.width}×{grab.height}, taken "
          f"{iso_utc(grab.captured_at)}).")
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    from evidence_recorder.core.gather import recorder

    with _open(args) as vault:
        outcome = recorder.import_files(vault, [Path(f) for f in args.files],
                                        CaptureDetails(**_details(args)), args.incident,
                                        pick=args.pick)
        counts = {i: s.message_count for _, i in outcome.saved
                  if (s := vault.capture(i).messages) is not None}
    for path, capture_id in outcome.saved:
        taken_as = outcome.taken_as.get(path, "")
        if capture_id in counts:
            n = counts[capture_id]
            taken_as += f", {n:,} message{'s' if n != 1 else ''}"
        print(f"Saved capture {capture_id} from {path.name}"
              + (f" (taken as {taken_as})." if taken_as else "."))
    for _path, reason in outcome.refused:
        print(reason, file=sys.stderr)
    return EXIT_REFUSED if outcome.refused else EXIT_OK


def message_rows(capture: Capture, flagged: int) -> list[tuple[str, str]]:
    """``show``'s lines for an e-mail or a chat export."""
    from evidence_recorder.cli.message_commands import terminal_text

    src = capture.messages
    if src is None:
        return []
    rows = [("Format", f"{src.format} (read by {src.parser})"),
            ("Messages", f"{src.message_count:,}" + (
                f", and {src.unreadable_count:,} lines that could not be read (kept as written)"
                if src.unreadable_count else "") + (f"; {flagged:,} flagged" if flagged else ""))]
    if src.participants:
        rows.append(("People", terminal_text(", ".join(src.participants))))
    if src.first_at:
        rows.append(("First and last (UTC)", f"{src.first_at} to {src.last_at}"))
    if src.zone_assumed:
        rows.append(("Time zone", f"times without a zone taken as {src.zone_assumed} "
                                  "(the computer's zone at import)"))
    if src.date_order or src.clock:
        rows.append(("Dates read as", ", ".join(x for x in (src.date_order, src.clock) if x)))
    rows += [("Note", terminal_text(note)) for note in src.notes]
    return rows


def cmd_list(args: argparse.Namespace) -> int:
    with _open(args) as vault:
        captures = vault.captures(args.incident)
        titles = {i.id: i.title for i in vault.incidents()}
    if args.json:
        _print_json([c.item_summary() for c in captures])
        return EXIT_OK
    if not captures:
        print("No captures yet.")
        return EXIT_OK
    print(f"{'ID':>5}  {'Captured (local time)':<21} {'Kind':<8} {'Site':<14} "
          f"{'Author':<18} Incident")
    for c in captures:
        print(f"{c.id:>5}  {_local(c):<21} {c.kind.value:<8} {_short(c.details.site, 14):<14} "
              f"{_short(c.details.author, 18):<18} {_short(titles.get(c.incident_id, ''), 30)}")
    return EXIT_OK


def cmd_show(args: argparse.Namespace) -> int:
    from evidence_recorder.cli import web_commands

    with _open(args) as vault:
        capture = vault.capture(args.id)
        incident = vault.incident(capture.incident_id)
        checks = []
        flagged = len(vault.message_flags(capture.id)) if capture.messages else 0
        if capture.web is not None:
            from evidence_recorder.core.gather.web import checks_of

            checks = checks_of(vault, capture.id)
    if args.json:
        full = capture.item_full()
        if capture.web is not None:
            full["checks"] = web_commands.checks_json(checks)
        _print_json(full)
        return EXIT_OK
    d = capture.details
    rows = [
        ("Capture", str(capture.id)),
        ("Incident", f"{incident.title} ({incident.id})"),
        ("How", capture.kind.value + (f" of {capture.source.file_name}" if capture.source else "")),
        ("Captured (UTC)", iso_utc(capture.captured_at)),
        ("Captured (local)", f"{_local(capture)} {capture.tz_name} ({capture.utc_offset})"),
        ("Size", f"{capture.width}×{capture.height} pixels, {capture.byte_size:,} bytes"),
        ("SHA-256", capture.sha256),
    ]
    if capture.title:
        rows.insert(3, ("Title", capture.title))
    rows += web_commands.web_rows(capture, checks)
    rows += message_rows(capture, flagged)
    if capture.source and capture.source.claimed_time:
        rows.append(("Date in the file", f"{capture.source.claimed_time} (claimed, unverified)"))
    if len(capture.artefacts) > 1:  # one file: it is the picture above
        rows += [("File", f"{a.name} ({a.role.value}, {a.media_type}, {a.size:,} bytes, "
                          f"SHA-256 {a.sha256})") for a in capture.artefacts]
    rows += [(f.title, handle_text(value) if f.value is fields.Value.HANDLE else value)
             for f in fields.FIELDS if (value := getattr(d, f.name))]
    width = max(18, *(len(label) + 1 for label, _ in rows))
    for label, value in rows:
        print(f"{label + ':':<{width}} {value}")
    return EXIT_OK


def cmd_edit(args: argparse.Namespace) -> int:
    changes = _details(args)
    if not changes and args.incident is None:
        raise UsageError("Say what to change, e.g. --site Facebook or --note \"…\".")
    with _open(args) as vault:
        diff = vault.edit_capture(args.id, changes, args.incident)
    if diff:
        print(f"Updated capture {args.id}: {', '.join(n.replace('_', ' ') for n in diff)}.")
    else:
        print(f"Capture {args.id} already said that; nothing changed.")
    return EXIT_OK


def cmd_extract(args: argparse.Namespace) -> int:
    import hashlib

    from evidence_recorder.core import fsutil
    from evidence_recorder.core.vault.items import unknown_name

    out = Path(args.out)
    if out.exists() and not args.force:
        raise RefusedInput(f"{out} already exists. Choose another name, or add --force.")
    if not out.parent.is_dir():
        raise RefusedInput(f"The folder {out.parent} does not exist.")
    with _open(args) as vault:
        held = vault.artefacts(args.id)
        if args.artefact is not None and args.artefact not in {a.name for a in held}:
            raise UsageError(unknown_name(args.id, args.artefact,
                                          [a.name for a in held]).message)
        artefact = vault.artefact(args.id, args.artefact)
        digest = hashlib.sha256()
        try:
            with vault.open_artefact(args.id, artefact.name) as source, \
                    fsutil.atomic_writer(out) as target:
                # Streamed a chunk at a time, hashed on the way: what is written is
                # what was recorded at intake, or nothing is written.
                while block := source.read(1024 * 1024):
                    digest.update(block)
                    target.write(block)
                if digest.hexdigest() != artefact.sha256:
                    raise VaultDamaged(
                        f"The file {artefact.name} of capture {args.id} no longer matches the "
                        "SHA-256 recorded when it was saved, so it was not written. Run "
                        "“evidence-recorder audit --verify”.")
        except OSError as exc:
            raise EvidenceError(f"{out} could not be written ({exc.strerror}).") from exc
        details: dict[str, object] = {"capture": args.id}
        if args.artefact is not None:
            details["artefact"] = artefact.name
        vault.record("capture.extracted", f"capture:{args.id}", details)
    if args.artefact is None:
        print(f"Wrote the original of capture {args.id} to {out} ({artefact.size:,} bytes).")
    else:
        print(f"Wrote {artefact.name} of capture {args.id} to {out} ({artefact.size:,} bytes).")
    return EXIT_OK

def _check_box(box: list[float], capture: Capture, option: str) -> None:
    """A box must cover something, and lie on the picture: a redaction drawn off the
    picture would cover nothing and the person would believe it covered a name."""
    x, y, w, h = box
    shown = ",".join(f"{n:g}" for n in box)
    if w <= 0 or h <= 0:
        raise UsageError(f"{option} {shown} is empty: its width and height must be more "
                         "than 0.")
    if x < 0 or y < 0 or x + w > capture.width or y + h > capture.height:
        raise UsageError(f"{option} {shown} goes outside the picture, which is "
                         f"{capture.width} × {capture.height} pixels (X,Y is the top left "
                         "corner, W,H the width and height).")


def cmd_annotate(args: argparse.Namespace) -> int:
    from evidence_recorder.core import marks

    redact, highlight = args.redact or [], args.highlight or []
    if not (redact or highlight or args.clear):
        raise UsageError("Say what to do: --redact X,Y,W,H to cover something, --highlight "
                         "X,Y,W,H to mark it, or --clear to remove every annotation.")
    with _open(args) as vault:
        capture = vault.capture(args.id)
        for option, boxes in (("--redact", redact), ("--highlight", highlight)):
            for box in boxes:
                _check_box(box, capture, option)
        existing = vault.annotations(args.id)
        data = marks.validate(existing) if existing else marks.empty()
        before = len(data["items"])
        if args.clear:
            data = marks.empty()
        data["items"] += [{"type": "highlight", "rect": box} for box in highlight]
        data["items"] += [{"type": "redact", "rect": box} for box in redact]
        # The editor's own save: the same checks, the same audit entry.
        vault.set_annotations(args.id, data if data["items"] else None)
    said = []
    if args.clear:
        said.append(f"removed {before} annotation{'' if before == 1 else 's'}"
                    if before else "there was nothing to remove")
    if redact:
        said.append(f"covered {len(redact)} box{'' if len(redact) == 1 else 'es'}")
    if highlight:
        said.append(f"highlighted {len(highlight)} box{'' if len(highlight) == 1 else 'es'}")
    total = len(data["items"])
    print(f"Capture {args.id}: {', '.join(said)}. It now has {total} "
          f"annotation{'' if total == 1 else 's'}"
          f"{', with something covered' if marks.has_redactions(data) else ''}; "
          "the original is unchanged.")
    return EXIT_OK


def cmd_delete(args: argparse.Namespace) -> int:
    with _open(args) as vault:
        vault.delete_capture(args.id, args.reason)
    print(f"Deleted capture {args.id}. The audit log keeps its SHA-256 and your reason.")
    return EXIT_OK


def cmd_incident_new(args: argparse.Namespace) -> int:
    with _open(args) as vault:
        incident = vault.new_incident(args.title, args.description or "", args.started or "")
    print(f"Created incident {incident.id}: {incident.title}")
    return EXIT_OK


def cmd_incident_list(args: argparse.Namespace) -> int:
    with _open(args) as vault:
        incidents = vault.incidents()
    if args.json:
        _print_json([{"id": i.id, "title": i.title, "description": i.description,
                      "started_at": i.started_at, "created_at": iso_utc(i.created_at),
                      "default": i.is_default, "captures": i.capture_count} for i in incidents])
        return EXIT_OK
    print(f"{'ID':>5}  {'Captures':>8}  Title")
    for i in incidents:
        print(f"{i.id:>5}  {i.capture_count:>8}  {i.title}")
    return EXIT_OK

