"""Where the vault lives: one place that the CLI and an environment variable override."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

VAULT_ENV = "EVIDENCE_RECORDER_VAULT"


def default_vault_dir() -> Path:
    """The platform's per-user data folder (never a cache folder, which may be wiped)."""
    return Path(platformdirs.user_data_dir("EvidenceRecorder", appauthor=False)) / "vault"


def resolve_vault_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """``--vault`` wins over ``EVIDENCE_RECORDER_VAULT``, which wins over the default."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get(VAULT_ENV)
    if env:
        return Path(env).expanduser()
    return default_vault_dir()
