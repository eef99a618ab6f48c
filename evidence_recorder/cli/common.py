"""What every command shares: the exit codes, the secret environment variables and how a
secret is asked for, the one plain-line usage error, opening the vault, and the small
printing helpers. Nothing here is a command; :mod:`evidence_recorder.cli.parser` wires
the commands of the ``*_commands`` modules to their names.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

from evidence_recorder.core import fields, paths
from evidence_recorder.core.errors import EvidenceError, RefusedInput
from evidence_recorder.core.model import Capture, Category
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


# ---------------------------------------------------------------------- the app
# Here, not in bundle_commands, because main() starts it too when there is no command.


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
