"""The commands about the vault as a whole: create it, change its passphrase or all its
keys, recover it with the recovery key, back it up, and show or check its audit log."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from evidence_recorder.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    NEW_PASSPHRASE_ENV,
    PASSPHRASE_ENV,
    RECOVERY_KEY_ENV,
    UsageError,
    _env_secret,
    _new_passphrase,
    _open,
    _print_json,
    _prompt,
    _read_secret_file,
    _vault_dir,
)
from evidence_recorder.core.errors import RefusedInput, WrongSecret


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

