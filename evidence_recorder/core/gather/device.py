"""Who made a capture, and on what: the context a third party needs to weigh it."""

from __future__ import annotations

import contextlib
import getpass
import os
import platform
import socket
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from evidence_recorder import __version__


def local_zone_name() -> str:
    """The IANA name of the local time zone where the platform tells us, else its abbreviation."""
    candidates: list[str] = []
    if tz := os.environ.get("TZ", "").lstrip(":"):
        candidates.append(tz)
    with contextlib.suppress(OSError):
        target = os.readlink("/etc/localtime")
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    with contextlib.suppress(OSError):
        candidates.append(Path("/etc/timezone").read_text(encoding="utf-8").strip())
    for name in candidates:
        with contextlib.suppress(Exception):
            ZoneInfo(name)
            return name
    return datetime.now().astimezone().tzname() or "UTC"


def utc_offset(moment: datetime) -> str:
    """The local offset at ``moment`` as ``+01:00``."""
    offset = moment.astimezone().utcoffset()
    seconds = int(offset.total_seconds()) if offset is not None else 0
    sign = "+" if seconds >= 0 else "-"
    hours, minutes = divmod(abs(seconds) // 60, 60)
    return f"{sign}{hours:02d}:{minutes:02d}"


def os_user() -> str:
    with contextlib.suppress(Exception):
        return getpass.getuser()
    return ""


def environment(extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """OS user, host, operating system and app version, plus whatever the caller adds."""
    info: dict[str, Any] = {
        "os_user": os_user(),
        "host": socket.gethostname(),
        "os": platform.system(),
        "os_release": platform.release(),
        "os_version": platform.version(),
        "platform": platform.platform(),
        "app": "Evidence Recorder",
        "app_version": __version__,
    }
    if extra:
        info.update(extra)
    return info
