"""The history anchor's copy in the OS keychain, asked with a time limit.

This module owns the one place the app talks to the user's keychain (through
``keyring``): which backend may be used (never keyring's fail, null or plaintext
ones), and that every call runs in a worker thread with ``KEYRING_TIMEOUT``, so a
keychain that does not answer cannot hang an unlock; after one timeout it is left
alone for the rest of the process. A refusal or a timeout only means the anchor
has its file copy alone (see :mod:`anchor`); it is logged without any content.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

_log = logging.getLogger(__name__)


KEYRING_SERVICE = "Evidence Recorder vault history"
KEYRING_TIMEOUT = 3.0  # seconds; a keychain that does not answer must not hang an unlock

_keyring_off = False  # set for the rest of the process once the keychain failed to answer
T = TypeVar("T")


def _bounded(fn: Callable[[], T]) -> tuple[bool, T | None]:
    """Run a keychain call with a time limit: (finished without error, its result)."""
    global _keyring_off
    if _keyring_off:
        return False, None
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except Exception as exc:
            box["error"] = type(exc).__name__

    worker = threading.Thread(target=run, name="anchor-keychain", daemon=True)
    worker.start()
    worker.join(KEYRING_TIMEOUT)
    if worker.is_alive():
        _keyring_off = True
        _log.warning("The keychain did not answer; the history anchor uses its file only.")
        return False, None
    if "error" in box:
        _log.info("The keychain refused the history anchor (%s); using the file.", box["error"])
        return False, None
    return True, box.get("value")


def _backend() -> Any:
    """The keychain to use, or None for none: never keyring's fail, null or plaintext ones."""
    import keyring
    from keyring.backends import chainer

    found = keyring.get_keyring()
    candidates = list(found.backends) if isinstance(found, chainer.ChainerBackend) else [found]
    for backend in candidates:
        module = type(backend).__module__
        if module.startswith(("keyring.backends.fail", "keyring.backends.null", "keyrings.alt")):
            continue
        try:
            if float(backend.priority) < 1:
                continue
        except Exception:  # noqa: S112 - a backend that cannot say is not used
            continue
        return backend
    return None


def _keyring_read(vault_id: str) -> str | None:
    def read() -> str | None:
        backend = _backend()
        return None if backend is None else backend.get_password(KEYRING_SERVICE, vault_id)

    ok, value = _bounded(read)
    return value if ok and isinstance(value, str) else None


def _keyring_write(vault_id: str, text: str) -> None:
    def write() -> None:
        backend = _backend()
        if backend is not None:
            backend.set_password(KEYRING_SERVICE, vault_id, text)

    _bounded(write)
