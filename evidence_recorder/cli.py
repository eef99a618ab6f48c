"""The ``evidence-recorder`` command: the whole core, scriptable and headless.

Exit codes: 0 success, 1 other failure, 2 usage, 3 wrong passphrase or recovery key,
4 refused input. Errors are one plain line on standard error, never a traceback.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import math
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from evidence_recorder import __version__
from evidence_recorder.core import fields, paths
from evidence_recorder.core.errors import (
    EvidenceError,
    RefusedInput,
    VaultDamaged,
    WrongSecret,
)
from evidence_recorder.core.model import (
    Capture,
    CaptureDetails,
    Category,
    handle_text,
    iso_utc,
)
from evidence_recorder.core.passphrase import bundle_passphrase_problem, generate_passphrase
from evidence_recorder.core.process import disable_core_dumps

PASSPHRASE_ENV = "EVIDENCE_RECORDER_PASSPHRASE"  # noqa: S105 - a variable name
NEW_PASSPHRASE_ENV = "EVIDENCE_RECORDER_NEW_PASSPHRASE"  # noqa: S105
RECOVERY_KEY_ENV = "EVIDENCE_RECORDER_RECOVERY_KEY"
BUNDLE_PASSPHRASE_ENV = "EVIDENCE_RECORDER_BUNDLE_PASSPHRASE"  # noqa: S105 - a variable name
MAX_SECRET_FILE = 4096
BUNDLE_SUFFIX = ".zip"  # what export writes; `evidence-recorder FILE.zip` opens one

SECRET_ENVS = (PASSPHRASE_ENV, NEW_PASSPHRASE_ENV, RECOVERY_KEY_ENV, BUNDLE_PASSPHRASE_ENV)

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_WRONG_SECRET, EXIT_REFUSED = 0, 1, 2, 3, 4

log = logging.getLogger("evidence_recorder")

# Metadata options shared by capture, import and edit: (option, CaptureDetails field, help),
# one per declared field.
DETAIL_OPTIONS: tuple[tuple[str, str, str], ...] = tuple(
    (f.option, f.name, f.option_help + (": " + ", ".join(c.value for c in Category)
                                         if f.value is fields.Value.CATEGORY else ""))
    for f in fields.FIELDS
)


class UsageError(EvidenceError):
    exit_code = EXIT_USAGE


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors in one plain line and exits with 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see “{self.prog} --help”)\n")


# ---------------------------------------------------------------------- secrets

# The secret environment variables, moved out of os.environ at start (see startup()).
_env_secrets: dict[str, str] = {}


def take_secrets_from_environment() -> None:
    """Move the secret variables out of the environment, so that no child process
    (ssh-keygen, a time-stamping helper, the app) inherits them and /proc/PID/environ of
    later children does not show them. Reading them later uses ``_env_secret``."""
    for name in SECRET_ENVS:
        value = os.environ.pop(name, None)
        if value is not None:
            _env_secrets[name] = value


def _env_secret(name: str) -> str | None:
    take_secrets_from_environment()  # also when main() was not the way in
    return _env_secrets.get(name)


def startup() -> None:
    """What the command does before anything else: no core dumps (a dump of a process
    holding an open vault would hold decrypted evidence), no secrets left in the
    environment."""
    disable_core_dumps()
    _env_secrets.clear()
    take_secrets_from_environment()


def _read_secret_file(path: str) -> str:
    try:
        with Path(path).open("rb") as fh:
            raw = fh.read(MAX_SECRET_FILE + 1)
    except OSError as exc:
        raise UsageError(f"The passphrase file could not be read ({exc.strerror}).") from exc
    if len(raw) > MAX_SECRET_FILE:
        raise UsageError("The passphrase file is too large to be a passphrase file.")
    try:
        text = raw.decode("utf-8", errors="strict").splitlines()
    except UnicodeDecodeError:
        raise UsageError("The passphrase file is not UTF-8 text. Save it as plain text "
                         "(UTF-8), with the passphrase on the first line.") from None
    return text[0] if text else ""


def _prompt(label: str) -> str:
    if not sys.stdin.isatty():
        raise UsageError(f"{label} is needed, and there is no terminal to ask for it on. "
                         f"Use --passphrase-file or the environment variables in --help.")
    return getpass.getpass(f"{label}: ")


def _passphrase(args: argparse.Namespace) -> str:
    if args.passphrase_file:
        return _read_secret_file(args.passphrase_file)
    if (secret := _env_secret(PASSPHRASE_ENV)) is not None:
        return secret
    return _prompt("Passphrase")


def _new_passphrase(args: argparse.Namespace, env: str, label: str) -> str:
    if (secret := _env_secret(env)) is not None:
        return secret
    return _prompt_twice(label)


def _prompt_twice(label: str) -> str:
    first = _prompt(label)
    if _prompt("Type it again") != first:
        raise RefusedInput("The two passphrases are not the same. Nothing was changed.")
    return first


# ---------------------------------------------------------------------- helpers


def _vault_dir(args: argparse.Namespace) -> Path:
    return paths.resolve_vault_dir(args.vault)


def _open(args: argparse.Namespace) -> Any:
    from evidence_recorder.core.vault.store import Vault

    folder = _vault_dir(args)
    from evidence_recorder.core.vault.store import vault_exists

    if not vault_exists(folder) and not folder.exists():
        raise EvidenceError(
            f"There is no vault in {folder} yet. Create one with “evidence-recorder init”.")
    vault = Vault.open(folder, _passphrase(args))
    _say_history(vault)
    return vault


def _say_history(vault: Any) -> None:
    """Loudly, on every command, while this vault is older than the one last seen here."""
    if vault.history.notice:
        print(vault.history.notice, file=sys.stderr)
    if vault.history_warning is not None:
        print(f"WARNING: {vault.history_warning.text} If you put back an older copy on "
              "purpose, run “evidence-recorder audit --accept-older-copy”.", file=sys.stderr)


def _details(args: argparse.Namespace) -> dict[str, str]:
    return {name: getattr(args, name) for _, name, _ in DETAIL_OPTIONS
            if getattr(args, name, None) is not None}


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def _local(capture: Capture) -> str:
    return capture.captured_at.astimezone().strftime("%d %b %Y %H:%M:%S")


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


# ---------------------------------------------------------------------- commands


def cmd_init(args: argparse.Namespace) -> int:
    from evidence_recorder.core.vault.store import Vault

    folder = _vault_dir(args)
    if args.passphrase_file:
        passphrase = _read_secret_file(args.passphrase_file)
    elif (secret := _env_secret(PASSPHRASE_ENV)) is not None:
        passphrase = secret
    else:
        passphrase = _new_passphrase(args, PASSPHRASE_ENV, "Choose a passphrase")
    vault, recovery_key = Vault.create(folder, passphrase)
    vault.close()
    print(f"Your vault is ready in {folder}.\n")
    _print_recovery_key(recovery_key)
    return EXIT_OK


def _print_recovery_key(recovery_key: str) -> None:
    print("Your recovery key (it is shown only this once):\n")
    print(f"    {recovery_key}\n")
    print("If you forget your passphrase, this key is the only way back into your evidence.\n"
          "Write it on paper and keep it somewhere safe, away from this computer: anyone\n"
          "who finds it and can use this computer could open the vault.")


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
                                        CaptureDetails(**_details(args)), args.incident)
    for path, capture_id in outcome.saved:
        print(f"Saved capture {capture_id} from {path.name}.")
    for _path, reason in outcome.refused:
        print(reason, file=sys.stderr)
    return EXIT_REFUSED if outcome.refused else EXIT_OK


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
    with _open(args) as vault:
        capture = vault.capture(args.id)
        incident = vault.incident(capture.incident_id)
    if args.json:
        _print_json(capture.item_full())
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


def _box(text: str) -> list[float]:
    """``X,Y,W,H`` in the original's pixels (argparse type): four numbers."""
    parts = [part.strip() for part in text.split(",")]
    try:
        numbers = [float(part) for part in parts]
    except ValueError:
        numbers = []
    if len(numbers) != 4 or not all(math.isfinite(n) for n in numbers):
        raise argparse.ArgumentTypeError(
            f"“{text}” is not a box: write X,Y,W,H in pixels, e.g. 10,20,300,40")
    return [int(n) if n.is_integer() else n for n in numbers]


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


def cmd_audit(args: argparse.Namespace) -> int:
    with _open(args) as vault:
        if args.accept_older_copy:
            if vault.history_warning is None:
                print("This vault is not older than the last time it was opened on this "
                      "computer; there was nothing to accept.")
            else:
                vault.accept_history()
                print("Recorded in the audit log that you put back an older copy on purpose. "
                      "From now on, this copy is the one this computer compares with.")
        entries = vault.audit_entries()
        report = vault.verify() if args.verify else None
        history_sentence = (
            "It is not older than the last time it was opened on this computer."
            if vault.history.checked else
            "This computer has no earlier record of this vault, so whether it is an older "
            "copy could not be checked.")
    if args.json:
        out: dict[str, Any] = {"entries": [
            {"seq": e.seq, "at": e.at, "action": e.action, "subject": e.subject,
             "details": e.details, "prev_hash": e.prev_hash, "hash": e.hash} for e in entries]}
        if report is not None:
            out["verify"] = report.as_dict()
        _print_json(out)
    else:
        if report is None:
            for e in entries:
                print(f"{e.seq:>6}  {e.at}  {e.action:<20} {e.subject}")
        elif report.ok:
            lead = ("Apart from what is listed below as not checked, nothing was found "
                    "changed." if report.not_checked else "Nothing was found changed.")
            print(f"{lead} The {report.entries_checked} audit entries chain "
                  f"correctly; all {report.captures_checked} originals match the SHA-256 "
                  "recorded when they were captured; their details, thumbnails, report "
                  "pictures and highlights match the log; all "
                  f"{report.incidents_checked} incidents match their history; and the signing "
                  "key and every export's key are the one the log recorded.")
            print(history_sentence)
        else:
            print("The vault check found problems:", file=sys.stderr)
            for problem in report.problems:
                print(f"  - {problem}", file=sys.stderr)
        if report is not None:
            for note in report.not_checked:
                print(f"Not checked: {note}")
            print("This check cannot tell whether someone holding your passphrase or "
                  "recovery key rewrote the log itself; bundles already sent (ideally "
                  "time-stamped) are what fix the past.")
    return EXIT_OK if report is None or report.ok else EXIT_FAILED


def cmd_export(args: argparse.Namespace) -> int:
    from evidence_recorder.core import settings as options
    from evidence_recorder.core.bundle import seal as bundle

    saved = options.Settings()
    out = Path(args.out)
    if out.exists() and not out.is_dir() and not args.force:
        raise RefusedInput(f"{out} already exists. Choose another name, or add --force.")
    passphrase = generated = None
    if args.encrypt:
        passphrase = _bundle_passphrase_for_export(args)
        if passphrase is None:
            passphrase = generated = generate_passphrase()
    elif args.own_passphrase:
        raise UsageError("--own-passphrase goes with --encrypt.")
    chosen = bundle.ExportOptions(
        capture_ids=args.capture or None, incident_ids=args.incident or None,
        audience=args.audience, include_covered_originals=args.include_covered_originals,
        exporter=args.name if args.name is not None else saved.get(options.YOUR_NAME),
        role=args.role if args.role is not None else saved.get(options.YOUR_ROLE),
        passphrase=passphrase,
        timestamp_url=args.timestamp_url or saved.get(options.TIMESTAMP_URL) or None)
    with _open(args) as vault:
        path = bundle.export_bundle(vault, out, options=chosen)
        fingerprint = bundle.signing_fingerprint(vault)
        number = bundle.signing_seal_number(vault)
    print(f"Sealed bundle written to {path}.")
    print(f"Its seal's key fingerprint is {fingerprint}: give it to the recipient "
          "separately (by phone, say) so they can confirm the bundle came from you.")
    print("Its seal number (the same key as digits, easier to read out by phone):")
    _print_seal_number(number)
    if generated:
        print("\nThe bundle is locked with this passphrase (it is shown only this once):\n")
        print(f"    {generated}\n")
    if passphrase:
        print(SEND_SEPARATELY)
    return EXIT_OK


SEND_SEPARATELY = (
    "The bundle is encrypted. Send the passphrase to the recipient another way (phone, in "
    "person), never in the same e-mail as the bundle. 7-Zip or Evidence Recorder opens it.")


def _bundle_passphrase_for_export(args: argparse.Namespace) -> str | None:
    """The user's own bundle passphrase, checked; ``None`` means make one for them."""
    if args.own_passphrase:
        own = _prompt_twice("Your passphrase for the bundle")
    elif (secret := _env_secret(BUNDLE_PASSPHRASE_ENV)) is not None:
        own = secret
    else:
        return None
    if problem := bundle_passphrase_problem(own):
        raise UsageError(f"{problem} (Leave out --own-passphrase and "
                         f"{BUNDLE_PASSPHRASE_ENV}, and a strong one is made for you.)")
    return own


def _bundle_passphrase() -> str | None:
    return _env_secret(BUNDLE_PASSPHRASE_ENV) or None


def cmd_verify(args: argparse.Namespace) -> int:
    from evidence_recorder.core.bundle import check as bundle_check

    path = Path(args.file)
    try:
        report = bundle_check.verify_bundle(path, _bundle_passphrase())
    except bundle_check.BundleLocked:
        report = bundle_check.verify_bundle(path, _prompt("Passphrase for the bundle"))
    if args.json:
        _print_json(report.as_dict())
    elif report.ok:
        print(f"The bundle is intact: {report.files_checked} files match their seal.")
        print(f"It was sealed by the key {report.fingerprint}; confirm this fingerprint with "
              "the sender.")
        if report.seal_number:
            print("Seal number (the same key as digits; the sender can read theirs to you):")
            _print_seal_number(report.seal_number)
        if report.timestamp_check is not None:
            print(report.timestamp_check.sentence())
    else:
        print("The bundle has been altered or is damaged:", file=sys.stderr)
        for problem in report.problems:
            print(f"  - {problem}", file=sys.stderr)
    return EXIT_OK if report.ok else EXIT_FAILED


def _print_seal_number(number: str) -> None:
    from evidence_recorder.core.bundle.sealnumber import seal_number_rows

    for row in seal_number_rows(number):
        print(f"    {row}")


def cmd_seal(args: argparse.Namespace) -> int:
    from evidence_recorder.core.bundle import seal as bundle

    with _open(args) as vault:
        fingerprint = bundle.signing_fingerprint(vault)
        number = bundle.signing_seal_number(vault)
    if args.json:
        _print_json({"fingerprint": fingerprint, "seal_number": number})
        return EXIT_OK
    print("Your seal, which every report you export carries:")
    print(f"  Fingerprint: {fingerprint}")
    print("  Seal number:")
    _print_seal_number(number)
    print("Read these to the person you send a report to, by phone or in person, so they "
          "can check the report came from you. Never send them with the report.")
    return EXIT_OK


def cmd_trust_add(args: argparse.Namespace) -> int:
    from evidence_recorder.core.bundle import trust

    for root in trust.add_root(Path(args.file)):
        print(f"Timestamps from authorities under {root.subject} are now trusted "
              f"(fingerprint {root.fingerprint}).")
    print("Only do this with a root certificate you got from the time-stamping service "
          "itself, not one that came with a bundle.")
    return EXIT_OK


def cmd_trust_list(args: argparse.Namespace) -> int:
    from evidence_recorder.core.bundle import trust

    roots = trust.imported_roots()
    if args.json:
        _print_json([{"fingerprint": r.fingerprint, "subject": r.subject,
                      "not_after": iso_utc(r.not_after)} for r in roots])
        return EXIT_OK
    if not roots:
        print("You have not added any root certificates.")
    for root in roots:
        print(f"{root.fingerprint}  {root.subject}  (until {iso_utc(root.not_after)[:10]})")
    print(f"Also trusted: {len(trust.bundled_roots())} roots from Mozilla's list (shipped "
          f"with this program) and {len(trust.system_roots())} from this computer's own list.")
    return EXIT_OK


def cmd_trust_remove(args: argparse.Namespace) -> int:
    from evidence_recorder.core.bundle import trust

    root = trust.remove_root(args.fingerprint)
    print(f"Timestamps are no longer trusted because of {root.subject}.")
    return EXIT_OK


def cmd_open(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise EvidenceError(f"{path} does not exist.")
    args.bundle = path
    return _start_app(args)


def cmd_passwd(args: argparse.Namespace) -> int:
    with _open(args) as vault:
        new = _new_passphrase(args, NEW_PASSPHRASE_ENV, "New passphrase")
        vault.change_passphrase(new)
    print("Your passphrase has been changed. The recovery key still works as before.\n"
          "Copies of the vault or of its key file made before now (backups, old copies on a\n"
          "USB stick) still open with the old passphrase. If someone may know your old\n"
          "passphrase or have a copy, run “evidence-recorder rekey” instead.")
    return EXIT_OK


def cmd_rekey(args: argparse.Namespace) -> int:
    with _open(args) as vault:
        new = _new_passphrase(args, NEW_PASSPHRASE_ENV, "New passphrase")
        show = sys.stderr.isatty()

        def progress(done: int, total: int) -> None:
            if show:
                print(f"\rChanging all keys… {100 * done // max(total, 1)}%", end="",
                      file=sys.stderr, flush=True)

        recovery_key = vault.change_all_keys(new, progress=progress)
        if show:
            print(file=sys.stderr)
    print("All keys have been changed: the vault is now encrypted with a new key, opened by\n"
          "your new passphrase or the new recovery key below. Old copies of vault.key no\n"
          "longer open it, and the old recovery key no longer works.\n"
          "Backups made before now are separate copies: they still open with the old\n"
          "passphrase and the old recovery key. Delete them, or keep them as safe as the\n"
          "vault.\n")
    _print_recovery_key(recovery_key)
    return EXIT_OK


def cmd_recover(args: argparse.Namespace) -> int:
    from evidence_recorder.core.vault.store import Vault

    folder = _vault_dir(args)
    key = _env_secret(RECOVERY_KEY_ENV) or _prompt("Recovery key")
    if not key.strip():
        raise WrongSecret("No recovery key was given.")
    new = _new_passphrase(args, NEW_PASSPHRASE_ENV, "New passphrase")
    Vault.recover(folder, key, new).close()
    print("The vault is open again with your new passphrase. Keep the recovery key safe: "
          "it still works.")
    return EXIT_OK


def cmd_backup(args: argparse.Namespace) -> int:
    from evidence_recorder.core.vault import backup

    if args.check:
        report = backup.verify_backup(Path(args.check))
        if report.ok:
            print(f"The backup is intact: {report.files_checked} files match their recorded "
                  f"SHA-256 (vault {report.vault_id}, made {report.created_at}).")
            return EXIT_OK
        print("The backup has been altered or is damaged:", file=sys.stderr)
        for problem in report.problems:
            print(f"  - {problem}", file=sys.stderr)
        return EXIT_FAILED
    if args.restore:
        if not args.to:
            raise UsageError("Say where to restore it with --to DIR (an empty or new folder).")
        report = backup.restore_backup(Path(args.restore), Path(args.to))
        print(f"The backup (made {report.created_at}) was checked and restored into "
              f"{args.to}. Open it with your passphrase, e.g. "
              f"“evidence-recorder --vault {args.to} audit --verify”, or with your recovery "
              "key (“evidence-recorder recover”).")
        if report.history_note:
            print(report.history_note)
        return EXIT_OK
    if args.to:
        raise UsageError("--to goes with --restore.")
    out = Path(args.out)
    if out.exists() and not out.is_dir() and not args.force:
        raise RefusedInput(f"{out} already exists. Choose another name, or add --force.")
    with _open(args) as vault:
        path = backup.make_backup(vault, out)
    print(f"Backup written to {path}. It is encrypted: it opens only with your passphrase or "
          "recovery key. Keep it on another disk.")
    return EXIT_OK


# ---------------------------------------------------------------------- parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"“{text}” is not a number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--vault", metavar="DIR", default=argparse.SUPPRESS,
                        help="the vault folder (default: $EVIDENCE_RECORDER_VAULT, else "
                             f"{paths.default_vault_dir()})")
    common.add_argument("--passphrase-file", metavar="FILE", default=argparse.SUPPRESS,
                        help="read the passphrase from the first line of FILE "
                             f"(or set ${PASSPHRASE_ENV}); otherwise it is asked for")

    parser = _Parser(
        prog="evidence-recorder",
        description="Keep timestamped, tamper-evident evidence of online abuse in an "
                    "encrypted vault.",
        epilog="Environment: EVIDENCE_RECORDER_VAULT (vault folder), "
               f"{PASSPHRASE_ENV}, {NEW_PASSPHRASE_ENV} (for passwd, rekey and recover), "
               f"{RECOVERY_KEY_ENV} (for recover). Exit codes: 0 success, 1 failure, "
               "2 usage, 3 wrong passphrase or recovery key, 4 refused input.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def command(name: str, func: Callable[[argparse.Namespace], int], help_text: str,
                parent: Any = sub) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = parent.add_parser(name, help=help_text,
                                                       description=help_text, parents=[common])
        p.set_defaults(func=func)
        return p

    def detail_options(p: argparse.ArgumentParser, *, incident_help: str) -> None:
        group = p.add_argument_group("what to record about it")
        group.add_argument("--incident", type=_positive_int, metavar="ID", help=incident_help)
        for option, dest, help_text in DETAIL_OPTIONS:
            kwargs: dict[str, Any] = {"dest": dest, "help": help_text, "metavar": "TEXT"}
            if fields.BY_NAME[dest].value is fields.Value.CATEGORY:
                kwargs.update(choices=[c.value for c in Category], metavar="CATEGORY")
            group.add_argument(option, **kwargs)

    command("init", cmd_init, "create a new vault and show its recovery key once")

    p = command("capture", cmd_capture, "capture the screen (all monitors unless told otherwise)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--monitor", type=_positive_int, metavar="N", help="only monitor N")
    where.add_argument("--region", metavar="X,Y,W,H", help="only this rectangle, in screen pixels")
    where.add_argument("--window", action="store_true",
                       help="the active window (click it during --delay)")
    p.add_argument("--delay", type=float, default=0.0, metavar="S",
                   help="wait S seconds first (to open a menu, say)")
    detail_options(p, incident_help="put it in incident ID (default: unsorted captures)")

    p = command("import", cmd_import, "import screenshots or pictures from files "
                                      "(PNG, JPEG, WebP, GIF, BMP, HEIC)")
    p.add_argument("files", nargs="+", metavar="FILE")
    detail_options(p, incident_help="put them in incident ID (default: unsorted captures)")

    p = command("list", cmd_list, "list captures (evidence items), oldest first; --json gives "
                                  "each one's kind and title too")
    p.add_argument("--incident", type=_positive_int, metavar="ID", help="only this incident")
    p.add_argument("--json", action="store_true", help="print JSON for scripts")

    p = command("show", cmd_show, "show everything recorded about one capture, and the files "
                                  "it holds (--json: their names, roles, sizes and SHA-256)")
    p.add_argument("id", type=_positive_int, metavar="ID")
    p.add_argument("--json", action="store_true", help="print JSON for scripts")

    p = command("edit", cmd_edit, "change what is recorded about a capture (the change is "
                                  "audited; the image never changes)")
    p.add_argument("id", type=_positive_int, metavar="ID")
    detail_options(p, incident_help="move it to incident ID")

    p = command("annotate", cmd_annotate, "cover (redact) or highlight parts of a capture; "
                                          "the original never changes, and the change is "
                                          "audited like the editor's")
    p.add_argument("id", type=_positive_int, metavar="ID")
    p.add_argument("--redact", type=_box, action="append", metavar="X,Y,W,H",
                   help="cover this box with solid black in what is shared, in the "
                        "original's pixels (repeat for more)")
    p.add_argument("--highlight", type=_box, action="append", metavar="X,Y,W,H",
                   help="highlight this box, in the original's pixels (repeat for more)")
    p.add_argument("--clear", action="store_true",
                   help="remove every annotation first (alone: just remove them)")

    p = command("extract", cmd_extract, "write one file a capture holds (by default its "
                                        "original image or main file), byte for byte, to a "
                                        "file (unencrypted)")
    p.add_argument("id", type=_positive_int, metavar="ID")
    p.add_argument("--artefact", metavar="NAME",
                   help="which of its files to write, by name as “show” lists them "
                        "(default: the main one)")
    p.add_argument("--out", required=True, metavar="FILE")
    p.add_argument("--force", action="store_true", help="replace FILE if it exists")

    p = command("delete", cmd_delete, "delete a capture; its SHA-256 and your reason stay in "
                                      "the audit log")
    p.add_argument("id", type=_positive_int, metavar="ID")
    p.add_argument("--reason", required=True, metavar="TEXT")

    incident_parser = command("incident", lambda _args: _usage(incident_parser),
                              "create or list incidents")
    incident_sub = incident_parser.add_subparsers(dest="incident_command", metavar="ACTION",
                                    parser_class=_Parser)
    q = command("new", cmd_incident_new, "create an incident", incident_sub)
    q.add_argument("--title", required=True, metavar="T")
    q.add_argument("--description", metavar="TEXT")
    q.add_argument("--started", metavar="WHEN", help="when it started, in your words")
    q = command("list", cmd_incident_list, "list incidents", incident_sub)
    q.add_argument("--json", action="store_true", help="print JSON for scripts")

    p = command("audit", cmd_audit, "show the audit log, or check the whole vault with --verify")
    p.add_argument("--verify", action="store_true",
                   help="recompute the hash chain; re-hash every original, thumbnail, report "
                        "picture and highlight against the SHA-256 the log recorded; replay "
                        "captures and incidents from the log against what is stored; check "
                        "the signing key and every export's key. It cannot detect a log "
                        "rewritten and re-chained by someone holding the key (see SECURITY.md)")
    p.add_argument("--json", action="store_true", help="print JSON for scripts")
    p.add_argument("--accept-older-copy", action="store_true",
                   help="you put back an older copy of the vault on purpose: record that in "
                        "the audit log and stop warning that it is older")

    p = command("export", cmd_export, "seal captures into a signed report bundle (a ZIP) for a "
                                      "headteacher or the police")
    p.add_argument("--out", required=True, metavar="FILE",
                   help="the bundle to write (or a folder to put it in)")
    p.add_argument("--incident", type=_positive_int, action="append", metavar="ID",
                   help="only this incident (repeat for more)")
    p.add_argument("--capture", type=_positive_int, action="append", metavar="ID",
                   help="only this capture (repeat for more)")
    p.add_argument("--audience", choices=["headteacher", "police"], default="headteacher",
                   help="headteacher (the default): a capture with something covered goes "
                        "out as the covered copy only; police: every original goes out too")
    originals = p.add_mutually_exclusive_group()
    originals.add_argument("--include-covered-originals", action="store_true",
                           help="for the headteacher: also include the untouched originals "
                                "of the captures you covered (the police always get them)")
    # The flag of earlier versions: covered originals are now left out by default.
    originals.add_argument("--no-originals", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--encrypt", action="store_true",
                   help="wrap the bundle in an AES-256 ZIP (7-Zip opens it), locked with a "
                        "passphrase of six random words that is made and shown once (or your "
                        f"own, from ${BUNDLE_PASSPHRASE_ENV} or --own-passphrase, if it is as "
                        "strong)")
    p.add_argument("--own-passphrase", action="store_true",
                   help="with --encrypt: ask for your own passphrase instead")
    p.add_argument("--timestamp-url", metavar="URL",
                   help="add a trusted RFC 3161 timestamp from this time-stamping service")
    p.add_argument("--name", metavar="TEXT", help="your name, for the report")
    p.add_argument("--role", metavar="TEXT", help="your role, for the report")
    p.add_argument("--force", action="store_true", help="replace FILE if it exists")

    p = command("seal", cmd_seal, "show your seal: the fingerprint and seal number a "
                                  "recipient confirms with you by phone")
    p.add_argument("--json", action="store_true", help="print JSON for scripts")

    p = command("verify", cmd_verify, "check a bundle: exits 0 only if nothing in it changed "
                                      "(no vault needed)")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--json", action="store_true", help="print JSON for scripts")

    trust_parser = command("trust", lambda _args: _usage(trust_parser),
                           "choose which time-stamping authorities' root certificates to trust")
    trust_sub = trust_parser.add_subparsers(dest="trust_command", metavar="ACTION",
                                            parser_class=_Parser)
    q = command("add", cmd_trust_add, "trust a time-stamping authority's root certificate "
                                      "(PEM or DER file)", trust_sub)
    q.add_argument("file", metavar="FILE")
    q = command("list", cmd_trust_list, "list the root certificates you added", trust_sub)
    q.add_argument("--json", action="store_true", help="print JSON for scripts")
    q = command("remove", cmd_trust_remove, "stop trusting a root certificate you added",
                trust_sub)
    q.add_argument("fingerprint", metavar="FINGERPRINT",
                   help="its SHA-256 fingerprint, as trust list shows it (at least 8 characters)")

    p = command("open", cmd_open, "open a bundle someone sent you in the viewer")
    p.add_argument("file", metavar="FILE")

    p = command("backup", cmd_backup, "make an encrypted backup of the vault, check one, or "
                                      "restore one after damage")
    p.epilog = ("A backup is one file holding an encrypted copy of the database and the key "
                "file, made while the vault is open; it opens with the same passphrase or "
                "recovery key. To recover after damage: leave the damaged vault folder as it "
                "is, run “evidence-recorder backup --check FILE”, then “evidence-recorder "
                "backup --restore FILE --to NEWDIR” (an empty or new folder), and open NEWDIR "
                "with --vault NEWDIR. Captures made after the backup are not in it.")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--out", metavar="FILE",
                      help="write a backup to FILE (or into the folder FILE)")
    what.add_argument("--check", metavar="FILE",
                      help="check that a backup is whole (no passphrase needed)")
    what.add_argument("--restore", metavar="FILE",
                      help="unpack a checked backup into the folder given with --to")
    p.add_argument("--to", metavar="DIR", help="the empty or new folder to restore into")
    p.add_argument("--force", action="store_true", help="replace FILE if it exists")

    p = command("passwd", cmd_passwd, "change the passphrase")
    p.epilog = ("Only the passphrase changes; the recovery key stays the same. Copies of the "
                "vault or of vault.key made before (backups, old copies on a USB stick) still "
                "open with the old passphrase: if someone may know it or have a copy, use "
                "“rekey” instead.")
    p = command("rekey", cmd_rekey, "change all keys: re-encrypt the vault with a new key, a "
                                    "new passphrase and a new recovery key")
    p.epilog = ("The whole vault is re-encrypted, so it needs about its own size in free disk "
                "space and may take a while for a large vault; if the computer stops part way, "
                "the next unlock finishes or undoes the change. Afterwards old copies of "
                "vault.key and the old recovery key no longer open the vault. Backups made "
                "before are separate copies and still open with the old passphrase: delete "
                "them or keep them safe. The new recovery key is shown once.")
    command("recover", cmd_recover, "open the vault with the recovery key and choose a new "
                                    "passphrase")
    return parser


def _start_app(args: argparse.Namespace) -> int:
    """With no command, open the desktop app (it needs a screen to show itself on)."""
    on_linux = sys.platform.startswith("linux")
    if on_linux and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
                         or os.environ.get("QT_QPA_PLATFORM")):
        raise EvidenceError("Evidence Recorder needs a desktop to show its window, and none "
                            "is available here. The commands in “evidence-recorder --help” "
                            "work without one.")
    try:
        from evidence_recorder.ui.app import main as app_main
    except ImportError as exc:
        raise EvidenceError(f"The desktop part of Evidence Recorder could not start "
                            f"({exc.name or 'a library'} is missing). Run scripts/setup, or "
                            "reinstall the app.") from exc
    return app_main(_vault_dir(args), bundle=getattr(args, "bundle", None))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return EXIT_USAGE


def _bare_bundle_path(argv: Sequence[str]) -> bool:
    """True for ``evidence-recorder FILE.zip``: how a file manager or the desktop entry
    (``Exec=evidence-recorder %f``) opens a bundle. It means the same as ``open FILE``;
    no command name ends in the bundle suffix, so nothing else is taken for one."""
    return (len(argv) == 1 and not argv[0].startswith("-")
            and argv[0].lower().endswith(BUNDLE_SUFFIX))


def main(argv: Sequence[str] | None = None) -> int:
    startup()
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if _bare_bundle_path(argv):
        argv.insert(0, "open")
    args = parser.parse_args(argv)
    for name in ("vault", "passphrase_file"):
        if not hasattr(args, name):
            setattr(args, name, None)
    try:
        if not getattr(args, "func", None):
            return _start_app(args)
        return int(args.func(args))
    except EvidenceError as exc:
        print(exc.message, file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("Stopped. Nothing half-done was saved.", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: say so plainly, keep the details out of the terminal
        report = _write_crash_report(exc)
        print("Something went wrong inside Evidence Recorder; this is a bug, not something you "
              f"did. Your vault is safe. {report}", file=sys.stderr)
        return EXIT_FAILED


def _write_crash_report(exc: BaseException) -> str:
    """The sentence that says where the report went (see core/crashreport: no messages)."""
    from evidence_recorder.core import crashreport

    try:
        path = crashreport.write_report(crashreport.format_report(exc))
    except OSError:  # the disk that caused the bug may be full too: say so, still exit
        return "The report could not be written either."
    return f"A report was written to {path}."


if __name__ == "__main__":
    raise SystemExit(main())
