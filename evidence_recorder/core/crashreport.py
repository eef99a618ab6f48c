"""The one crash report: what a bug leaves behind, for the CLI and the app alike.

A bug is not the user's fault and must not look like lost evidence. The report says
which version failed, on what system, and where: each exception's type, its SQLite
error name when it has one, and its frames (file, line, function and the line of our
code). It never holds an exception's message or any local value, because either could
quote evidence (a URL, a note, message text, a passphrase). The CLI prints where the
report went; the app shows it in the crash dialog. Both append it to the one crash log
that :func:`evidence_recorder.core.paths.crash_log` names.
"""

from __future__ import annotations

import datetime
import platform
import traceback
from pathlib import Path

from evidence_recorder import APP_NAME, __version__
from evidence_recorder.core import paths

_CHAIN_LIMIT = 8  # a cause of a cause of ...: enough to see where a bug began


def format_report(exc: BaseException) -> str:
    """The report for ``exc`` and the exceptions that caused it, messages left out."""
    chain: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(chain) < _CHAIN_LIMIT:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__)
    parts = [f"{APP_NAME} {__version__} on {platform.platform()}, Python "
             f"{platform.python_version()}"]
    for depth, error in enumerate(reversed(chain)):  # oldest first, as Python prints them
        if depth:
            parts.append("which led to:")
        parts.append(_describe(error))
        parts.append("".join(traceback.format_tb(error.__traceback__)).rstrip("\n"))
    return "\n".join(part for part in parts if part) + "\n"


def write_report(report: str) -> Path:
    """Append ``report`` to the crash log and return the log's path.

    Raises :class:`OSError` when the log cannot be written; callers decide whether
    that matters (the app still shows its dialog).
    """
    path = paths.crash_log()
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    with path.open("a", encoding="utf-8") as fh:
        fh.write(f"--- crash {when}\n{report}\n")
    return path


def _describe(error: BaseException) -> str:
    """The exception's type, and the SQLite error name (never its text) if it has one."""
    kind = type(error)
    name = f"{kind.__module__}.{kind.__qualname__}"
    code_name = getattr(error, "sqlite_errorname", None)
    if isinstance(code_name, str) and code_name.isidentifier():
        name += f" ({code_name})"
    return name
