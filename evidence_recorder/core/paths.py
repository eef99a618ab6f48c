"""Every folder the app keeps things in, and where the files shipped with it are found.

This is the one module that asks platformdirs: the vault (``--vault`` or
``EVIDENCE_RECORDER_VAULT`` override it), the settings file (``EVIDENCE_RECORDER_CONFIG``
overrides it) and the crash log. Nothing the user keeps ever goes in a cache folder,
which may be wiped. It also finds the files shipped with the app, in a checkout or a
frozen build.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_FOLDER = "EvidenceRecorder"  # the folder name platformdirs makes for us
VAULT_ENV = "EVIDENCE_RECORDER_VAULT"
CONFIG_ENV = "EVIDENCE_RECORDER_CONFIG"
KEYFILE_NAME = "vault.key"  # the file whose presence says a vault exists in a folder


def default_vault_dir() -> Path:
    """The platform's per-user data folder (never a cache folder, which may be wiped)."""
    import platformdirs  # not needed when --vault is given, and slow to import

    return Path(platformdirs.user_data_dir(APP_FOLDER, appauthor=False)) / "vault"


def resolve_vault_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """``--vault`` wins over ``EVIDENCE_RECORDER_VAULT``, which wins over the default."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get(VAULT_ENV)
    if env:
        return Path(env).expanduser()
    return default_vault_dir()


def settings_file() -> Path:
    """``EVIDENCE_RECORDER_CONFIG`` names the file; else the platform's config folder.

    Trust roots and history anchors live beside it (see bundle/trust.py, vault/anchor.py).
    """
    if override := os.environ.get(CONFIG_ENV):
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_FOLDER, appauthor=False)) / "settings.json"


def crash_log() -> Path:
    """The one crash log the CLI and the app append to; its folder is made (0700) here."""
    import platformdirs

    folder = Path(platformdirs.user_log_dir(APP_FOLDER, appauthor=False))
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder / "crash.log"


def vault_exists(folder: Path) -> bool:
    """Whether ``folder`` holds a vault (asked before anything heavy is imported)."""
    return (Path(folder) / KEYFILE_NAME).is_file()


def resource_dir() -> Path:
    """The ``resources/`` folder (fonts, icons, translations) shipped beside the package."""
    return _shipped("resources")


def docs_dir() -> Path:
    """The user guides (``docs/``: Markdown and ``images/``) that the in-app Help shows."""
    return _shipped("docs")


def _shipped(name: str) -> Path:
    """A folder shipped with the app, in a checkout or a frozen build.

    From a checkout or an editable install it sits at the repository root, beside
    ``evidence_recorder/``. In an app frozen by PyInstaller (packaging/) the spec puts it
    at the top of the unpacked tree, which ``sys._MEIPASS`` names. This is the one place
    that knows both layouts.
    """
    frozen_root = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and frozen_root:
        return Path(frozen_root) / name
    return Path(__file__).resolve().parents[2] / name
