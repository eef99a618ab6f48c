"""Times in exports: a naive time taken in the computer's zone, said so; ISO output.

Chat exports (WhatsApp, Signal, SMS in places) write times without a zone. The import
takes them in the computer's zone at import (``import_zone``), converts to UTC for
``Message.sent_at``, and records the zone's name in ``MessageSource.zone_assumed`` so
the report can say so.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

from evidence_recorder.core.gather import device


def import_zone() -> tuple[str, tzinfo]:
    """The computer's zone now: its IANA name where known, and the zone itself."""
    name = device.local_zone_name()
    try:
        return name, ZoneInfo(name)
    except Exception:
        local = datetime.now().astimezone().tzinfo
        return name, local if local is not None else UTC


def iso(moment: datetime) -> str:
    """``2026-11-25T11:52:25.000Z`` (UTC, milliseconds), as ``Message.sent_at``."""
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds")
    return text[:-6] + "Z"  # "+00:00" (faster than strftime, which showed in profiles)


def naive_to_iso(moment: datetime, zone: tzinfo) -> str:
    """A time written without a zone, taken in ``zone`` (the first of two at a change
    of the clocks), as ISO UTC."""
    return iso(moment.replace(tzinfo=zone, fold=0))


def epoch_to_iso(seconds: float) -> str:
    """Seconds since 1970 (UTC) as ISO UTC; ``ValueError`` beyond years 1..9999."""
    return iso(datetime.fromtimestamp(seconds, UTC))
