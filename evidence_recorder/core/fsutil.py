"""Durable file writes: temp file beside the target, fsync, rename, fsync the folder.

A crash or a full disk at any point leaves either the old file or the new one under
the final name, never a half-written one.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

# Tests set this to interrupt a write at a named step ("written", "synced",
# "renamed") and so prove that every step leaves a usable state behind.
_fault_hook: Callable[[str], None] | None = None


def _step(name: str) -> None:
    if _fault_hook is not None:
        _fault_hook(name)


def fsync_dir(folder: Path) -> None:
    """Make a rename durable; a no-op where the platform cannot open folders (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def temp_path_for(target: Path) -> Path:
    """A fresh, unguessable temp name beside ``target`` that ``remove_stale_temps`` finds.

    A predictable name (the process id) would let someone who can write to the folder
    plant a symlink there and have our write land wherever it points.
    """
    return target.with_name(f".{target.name}.{secrets.token_hex(8)}.tmp")


_CREATE_FLAGS = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
                 | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))


def _create_temp(target: Path, mode: int) -> tuple[int, Path]:
    """Create a new temp file exclusively: never an existing file, never through a symlink."""
    for _ in range(100):
        tmp = temp_path_for(target)
        try:
            return os.open(tmp, _CREATE_FLAGS, mode), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside {target.name}")


@contextlib.contextmanager
def atomic_writer(target: Path, mode: int = 0o600) -> Iterator[BinaryIO]:
    """Yield a file to write; on success it replaces ``target`` durably."""
    fd, tmp = _create_temp(target, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            _step("written")
            os.fsync(fh.fileno())
        _step("synced")
        os.replace(tmp, target)
        _step("renamed")
        fsync_dir(target.parent)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def atomic_write_bytes(target: Path, data: bytes, mode: int = 0o600) -> None:
    with atomic_writer(target, mode) as fh:
        fh.write(data)


def remove_stale_temps(folder: Path, name: str) -> None:
    """Remove temp files a crashed writer of ``name`` left behind."""
    for stale in folder.glob(f".{name}.*.tmp"):
        with contextlib.suppress(OSError):
            stale.unlink()
