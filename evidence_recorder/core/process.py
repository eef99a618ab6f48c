"""Hardening of the running process that the app and the command line share."""

from __future__ import annotations

import contextlib


def disable_core_dumps() -> None:
    """A core dump of an unlocked app would hold decrypted evidence: forbid them."""
    with contextlib.suppress(ImportError, OSError, ValueError):
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
