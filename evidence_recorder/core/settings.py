"""Every user setting, declared once with its type, default and limits.

After Picard's ``Option`` registry: code reads ``settings.get(IDLE_LOCK_MINUTES)``
and cannot misspell a key or get the wrong type. Values live in a small JSON file in
the platform's config folder (never the cache folder); a damaged file falls back to
the defaults rather than stopping the app. No evidence is ever kept here.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from evidence_recorder.core import fsutil, paths
from evidence_recorder.core.i18n import QT_TRANSLATE_NOOP

T = TypeVar("T", bool, int, str)

CONFIG_ENV = paths.CONFIG_ENV  # the one override of where settings live, kept in paths
MAX_SETTINGS_BYTES = 256 * 1024


@dataclass(frozen=True)
class Option(Generic[T]):
    key: str
    default: T
    label: str
    choices: tuple[T, ...] = ()
    minimum: int | None = None
    maximum: int | None = None

    def coerce(self, value: Any) -> T:
        """The stored value if it is valid for this option, else the default."""
        kind = type(self.default)
        if type(value) is not kind:
            return self.default
        if self.choices and value not in self.choices:
            return self.default
        if isinstance(value, int) and not isinstance(value, bool):
            if self.minimum is not None and value < self.minimum:
                return self.default
            if self.maximum is not None and value > self.maximum:
                return self.default
        if isinstance(value, str) and len(value) > 500:
            return self.default
        return value


REGISTRY: dict[str, Option[Any]] = {}


def _declare(option: Option[T]) -> Option[T]:
    REGISTRY[option.key] = option
    return option


# Labels are British English; the app's settings dialog translates them ("Settings").
IDLE_LOCK_ENABLED = _declare(Option("idle_lock_enabled", True,
                                    QT_TRANSLATE_NOOP("Settings", "Lock when I am away")))
IDLE_LOCK_MINUTES = _declare(Option("idle_lock_minutes", 5,
                                    QT_TRANSLATE_NOOP("Settings",
                                                      "Lock after this many idle minutes"),
                                    minimum=1, maximum=240))
CAPTURE_DELAY = _declare(Option("capture_delay", 0,
                                QT_TRANSLATE_NOOP("Settings", "Wait before capturing (seconds)"),
                                choices=(0, 3, 5, 10)))
HIDE_WHILE_CAPTURING = _declare(Option("hide_while_capturing", True,
                                       QT_TRANSLATE_NOOP("Settings",
                                                         "Hide Evidence Recorder while capturing")))
YOUR_NAME = _declare(Option("your_name", "",
                            QT_TRANSLATE_NOOP("Settings", "Your name (for reports)")))
YOUR_ROLE = _declare(Option("your_role", "",
                            QT_TRANSLATE_NOOP("Settings", "Your role (for reports)")))
DEFAULT_INCIDENT = _declare(Option("default_incident", 0,
                                   QT_TRANSLATE_NOOP("Settings", "Incident for new captures"),
                                   minimum=0))
TIMESTAMP_URL = _declare(Option("timestamp_url", "",
                                QT_TRANSLATE_NOOP("Settings",
                                                  "Time-stamping service (RFC 3161) address")))
GUIDE_SEEN = _declare(Option("guide_seen", False, "The first-run guide has been shown"))


def settings_path() -> Path:
    return paths.settings_file()


class Settings:
    """The settings file, read once and written back whole on every change."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or settings_path()
        self._values: dict[str, Any] = {}
        with contextlib.suppress(OSError, ValueError, UnicodeDecodeError):
            if self.path.stat().st_size <= MAX_SETTINGS_BYTES:
                loaded = json.loads(self.path.read_text(encoding="utf-8"))
                if isinstance(loaded, dict):
                    self._values = loaded

    def get(self, option: Option[T]) -> T:
        return option.coerce(self._values.get(option.key, option.default))

    def set(self, option: Option[T], value: T) -> None:
        if option.coerce(value) != value:
            raise ValueError(f"{value!r} is not a valid value for {option.key}")
        self._values[option.key] = value
        self.save()

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        data = {k: v for k, v in self._values.items() if k in REGISTRY}
        fsutil.atomic_write_bytes(self.path, json.dumps(data, indent=2).encode())
