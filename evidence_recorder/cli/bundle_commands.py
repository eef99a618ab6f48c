"""The commands about report bundles: export (seal) one, show your seal, verify or open a
bundle someone sent, and choose which time-stamping authorities to trust."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from evidence_recorder.cli import common
from evidence_recorder.cli.common import (
    BUNDLE_PASSPHRASE_ENV,
    EXIT_FAILED,
    EXIT_OK,
    UsageError,
    _env_secret,
    _open,
    _print_json,
    _prompt,
    _prompt_twice,
)
from evidence_recorder.core.errors import EvidenceError, RefusedInput
from evidence_recorder.core.model import iso_utc
from evidence_recorder.core.passphrase import bundle_passphrase_problem, generate_passphrase


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
    return common._start_app(args)
