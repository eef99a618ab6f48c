"""The ``evidence-recorder`` command: the whole core, scriptable and headless.

Exit codes: 0 success, 1 other failure, 2 usage, 3 wrong passphrase or recovery key,
4 refused input. Errors are one plain line on standard error, never a traceback.

This package owns :func:`main`. The rest is split by job: ``common`` (exit codes,
secrets, opening the vault), ``parser`` (the argparse tree and its --help texts), and the
commands grouped by story in ``vault_commands``, ``evidence_commands``,
``web_commands`` and ``bundle_commands``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from evidence_recorder.cli import common
from evidence_recorder.cli.common import (
    BUNDLE_PASSPHRASE_ENV,
    BUNDLE_SUFFIX,
    DETAIL_OPTIONS,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_USAGE,
    EXIT_WRONG_SECRET,
    NEW_PASSPHRASE_ENV,
    PASSPHRASE_ENV,
    RECOVERY_KEY_ENV,
    SECRET_ENVS,
    UsageError,
    _env_secret,
    startup,
)
from evidence_recorder.cli.parser import build_parser
from evidence_recorder.core.errors import EvidenceError

__all__ = [
    "BUNDLE_PASSPHRASE_ENV",
    "BUNDLE_SUFFIX",
    "DETAIL_OPTIONS",
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_REFUSED",
    "EXIT_USAGE",
    "EXIT_WRONG_SECRET",
    "NEW_PASSPHRASE_ENV",
    "PASSPHRASE_ENV",
    "RECOVERY_KEY_ENV",
    "SECRET_ENVS",
    "UsageError",
    "_env_secret",
    "build_parser",
    "main",
]


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
            return common._start_app(args)
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

