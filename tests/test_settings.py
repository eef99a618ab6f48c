"""Settings are declared once; a damaged or hostile settings file falls back to defaults."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evidence_recorder.core import settings as options
from evidence_recorder.core.settings import Settings


def test_defaults_and_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "settings.json"
    s = Settings(path)
    assert s.get(options.IDLE_LOCK_ENABLED) is True
    assert s.get(options.IDLE_LOCK_MINUTES) == 5
    s.set(options.IDLE_LOCK_MINUTES, 12)
    s.set(options.YOUR_NAME, "A. Teacher")
    again = Settings(path)
    assert again.get(options.IDLE_LOCK_MINUTES) == 12
    assert again.get(options.YOUR_NAME) == "A. Teacher"


def test_invalid_values_are_refused_when_set(tmp_path: Path) -> None:
    s = Settings(tmp_path / "settings.json")
    with pytest.raises(ValueError):
        s.set(options.CAPTURE_DELAY, 7)
    with pytest.raises(ValueError):
        s.set(options.IDLE_LOCK_MINUTES, 0)


@pytest.mark.parametrize("content", [b"\x00\xff garbage", b"[1, 2]", b'{"idle_lock_minutes": "5"}',
                                     b'{"idle_lock_minutes": 99999, "capture_delay": 4}'])
def test_damaged_file_falls_back_to_defaults(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "settings.json"
    path.write_bytes(content)
    s = Settings(path)
    assert s.get(options.IDLE_LOCK_MINUTES) == 5
    assert s.get(options.CAPTURE_DELAY) == 0


def test_unknown_keys_are_dropped_on_save(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"evil": "x" * 10, "your_role": "Head of Year 7"}))
    s = Settings(path)
    s.set(options.GUIDE_SEEN, True)
    assert json.loads(path.read_text()) == {"your_role": "Head of Year 7", "guide_seen": True}
