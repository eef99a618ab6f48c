"""Shared fixtures: real SQLCipher vaults in temporary folders, tiny KDF costs, the CLI.

Tests never touch the real home directory: HOME, the XDG folders and TMPDIR all point
into a per-session folder, which the plaintext scan then inspects.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from xvfb import xvfb_display  # noqa: F401

from evidence_recorder.core.vault.keyfile import KdfParams
from evidence_recorder.core.vault.store import Vault

PASSPHRASE = "plum orchard lantern 42"
# Locks test bundles: as strong as a generated one, so the bundle passphrase check passes.
BUNDLE_PASSPHRASE = "velvet harbor quarry tumble orchid lantern"
# Tiny Argon2id costs so that tests unlock in milliseconds. Only tests use them,
# through this one fixture; the product always calibrates (see keyfile.KDF_FLOOR).
FAST_KDF = KdfParams(time_cost=1, memory_cost=8, parallelism=1)
REPO = Path(__file__).resolve().parent.parent

_SESSION_ROOT = Path(tempfile.mkdtemp(prefix="er-tests-"))
for _name in ("home", "tmp", "xdg-data", "xdg-config", "xdg-cache", "xdg-state", "xdg-runtime"):
    (_SESSION_ROOT / _name).mkdir(mode=0o700)
os.environ.update({
    "HOME": str(_SESSION_ROOT / "home"),
    "TMPDIR": str(_SESSION_ROOT / "tmp"),
    "XDG_DATA_HOME": str(_SESSION_ROOT / "xdg-data"),
    "XDG_CONFIG_HOME": str(_SESSION_ROOT / "xdg-config"),
    "XDG_CACHE_HOME": str(_SESSION_ROOT / "xdg-cache"),
    "XDG_STATE_HOME": str(_SESSION_ROOT / "xdg-state"),
    "XDG_RUNTIME_DIR": str(_SESSION_ROOT / "xdg-runtime"),
    # Never the real keychain: keyring's null backend (the history anchor then uses its
    # file alone; tests that need a keychain install a fake one).
    "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
})
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Lets this process and every child it starts read key files made with FAST_KDF, whose
# 8 KiB are below the product's reading floor (keyfile.READ_MIN_MEMORY). Tests only.
os.environ["ER_TESTS_USE_TINY_KDF"] = "1"
# No DNS from tests (nor from the CLI children they start): a DKIM key lookup answers
# "offline" at once; tests that check signatures pass their own key lookup.
os.environ["ER_TESTS_NO_DNS"] = "1"
for _var in ("EVIDENCE_RECORDER_VAULT", "EVIDENCE_RECORDER_PASSPHRASE",
             "EVIDENCE_RECORDER_NEW_PASSPHRASE", "EVIDENCE_RECORDER_RECOVERY_KEY"):
    os.environ.pop(_var, None)
tempfile.tempdir = None  # let tempfile pick up the new TMPDIR


def _pin_locale() -> None:
    """Dates follow QLocale(): pin British English so results do not depend on the machine."""
    from PySide6.QtCore import QLocale

    QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedKingdom))


_pin_locale()


@pytest.fixture(autouse=True, scope="session")
def _test_process_keeps_its_core_limit() -> Iterator[None]:
    """cli.main() forbids core dumps for good (soft and hard limit 0). Tests that call it
    in-process must not do that to the test process: children of it raise the limit
    again to prove that the app and the CLI lower it (test_privacy, test_secrets)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("evidence_recorder.cli.common.disable_core_dumps", lambda: None)
        yield


@pytest.fixture(scope="session")
def session_root() -> Path:
    """The folder that stands in for the home, temp and XDG folders during the tests."""
    return _SESSION_ROOT


@pytest.fixture
def fast_kdf() -> KdfParams:
    return FAST_KDF


@pytest.fixture
def vault_dir(tmp_path: Path) -> Path:
    return tmp_path / "vault"


@pytest.fixture
def new_vault(vault_dir: Path) -> Iterator[tuple[Vault, str]]:
    """A freshly created, unlocked vault and its recovery key."""
    vault, recovery = Vault.create(vault_dir, PASSPHRASE, kdf=FAST_KDF)
    yield vault, recovery
    vault.close()


@pytest.fixture
def vault(new_vault: tuple[Vault, str]) -> Vault:
    return new_vault[0]



def raw_connection(folder: Path, passphrase: str = PASSPHRASE) -> Any:
    """Open a vault's database behind the app's back, as someone holding the key could
    (to look at or tamper with what the app wrote)."""
    import sqlcipher3

    from evidence_recorder.core.vault.keyfile import KeyFile
    from evidence_recorder.core.vault.store import DB_NAME

    key = KeyFile.load(folder).unlock_with_passphrase(passphrase)
    conn = sqlcipher3.connect(str(folder / DB_NAME), isolation_level=None)
    conn.execute("PRAGMA cipher_log_level = NONE")
    conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    return conn

CHAT_CORPUS = REPO.parent / "shared" / "corpora" / "chat-exports"


def chat_export(*parts: str) -> Path:
    """A file of the shared chat-export corpus, or a skip saying it is absent (a fresh
    clone has no ../shared; the files are never copied here)."""
    path = CHAT_CORPUS.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"the shared chat-export corpus is not here ({path})")
    return path


def parsed_export(path: Path) -> Any:
    """A message export read as ``import`` reads it, its counts and hash filled in."""
    from evidence_recorder.core.gather.messages import detect

    export = detect.parse(path)
    export.finish()
    return export


def as_schema_3(conn: Any) -> None:
    """Put a vault made by today's code back as schema 3 kept it (inside the caller's
    transaction): originals in the ``original`` table, no artefact or message tables.
    For vaults whose artefacts are single-chunk originals, as ``add`` helpers make them."""
    conn.execute("CREATE TABLE original (capture_id INTEGER PRIMARY KEY REFERENCES "
                 "capture(id), bytes BLOB NOT NULL)")
    conn.execute("INSERT INTO original SELECT a.item_id, c.bytes FROM artefact a "
                 "JOIN artefact_chunk c ON c.artefact_id = a.id WHERE a.is_primary")
    conn.execute("CREATE TRIGGER original_never_changes BEFORE UPDATE ON original "
                 "BEGIN SELECT RAISE(ABORT, 'originals never change'); END")
    conn.execute("DROP TABLE artefact_chunk")
    conn.execute("DROP TABLE artefact")
    conn.execute("DROP TABLE message_flag")  # schema 5's
    conn.execute("DROP TABLE message")
    for table in ("thumbnail", "preview"):
        conn.execute(f"ALTER TABLE {table} DROP COLUMN made_from")
    conn.execute("PRAGMA user_version = 3")


def schema_3_vault(into: Path) -> Path:
    """A copy of the schema-3 vault made by the last schema-3 code (40 captures; see
    tests/fixtures/vaults/make_v3_vault.py), unpacked into ``into``; returns its folder. This
    computer's record of it (its history anchor) is forgotten, as on a new computer:
    every copy has the same vault id."""
    import tarfile

    from evidence_recorder.core.vault import anchor
    from evidence_recorder.core.vault.keyfile import KeyFile

    with tarfile.open(REPO / "tests" / "fixtures" / "vaults" / "vault-v3.tar.gz") as tar:
        tar.extractall(into, filter="data")
    folder = into / "vault-v3"
    vault_id = KeyFile.load(folder).vault_id
    for path in (anchor._anchor_path(vault_id), anchor._next_path(vault_id)):
        path.unlink(missing_ok=True)
    return folder


@pytest.fixture
def closed_vault(vault_dir: Path) -> Path:
    """A vault on disk, created with tiny KDF costs and closed, for CLI tests."""
    Vault.create(vault_dir, PASSPHRASE, kdf=FAST_KDF)[0].close()
    return vault_dir


def run_cli(*args: str, env: dict[str, str] | None = None, input_text: str | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``evidence-recorder`` in a child process, as a script would."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "evidence_recorder", *args], env=full_env, text=True,
        capture_output=True, input=input_text, timeout=timeout, cwd=REPO, check=False,
    )


@pytest.fixture
def cli(closed_vault: Path):  # type: ignore[no-untyped-def]
    """Run the CLI against ``closed_vault`` with the test passphrase in the environment."""

    def _run(*args: str, env: dict[str, str] | None = None,
             input_text: str | None = None) -> subprocess.CompletedProcess[str]:
        merged = {"EVIDENCE_RECORDER_PASSPHRASE": PASSPHRASE,
                  "EVIDENCE_RECORDER_VAULT": str(closed_vault)}
        merged.update(env or {})
        return run_cli(*args, env=merged, input_text=input_text)

    return _run


def fake_screen() -> Any:
    """A plain 1280x800 "screen" with one post on it, for the app's fake grabber."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (1280, 800), (240, 242, 245))
    draw = ImageDraw.Draw(image)
    draw.rectangle((300, 150, 980, 400), fill="white", outline=(200, 200, 200))
    draw.text((320, 170), "J. Smith @jsmith123 - 2h", fill=(20, 20, 20))
    return image


@pytest.fixture
def app_settings(tmp_path: Path) -> Any:
    from evidence_recorder.core.settings import Settings

    return Settings(tmp_path / "settings.json")


def unlocked_session(qtbot: Any, folder: Path) -> Iterator[Any]:
    """A ``VaultSession`` unlocked on ``folder`` (tiny KDF costs), locked afterwards;
    fixtures ``yield from`` it."""
    from evidence_recorder.ui import messages
    from evidence_recorder.ui.session import VaultSession
    from evidence_recorder.ui.tasks import wait_for_tasks

    opened: list[bool] = []
    session = VaultSession(folder, FAST_KDF)
    session.unlock(PASSPHRASE, lambda: opened.append(True),
                   lambda exc: pytest.fail(exc.message))
    qtbot.waitUntil(lambda: bool(opened))
    yield session
    wait_for_tasks()
    session.lock()
    messages._next_answers.clear()


@pytest.fixture
def windows(qtbot: Any) -> Iterator[list[Any]]:
    """Every bundle viewer a test opens, closed afterwards even if the test fails."""
    from PySide6.QtWidgets import QApplication

    from evidence_recorder.ui.tasks import wait_for_tasks

    opened: list[Any] = []
    yield opened
    for viewer in opened:
        viewer.close()
    wait_for_tasks()
    QApplication.processEvents()


@pytest.fixture
def controller(qtbot: Any, vault_dir: Path, app_settings: Any,
               monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The whole app (start window, then main window) on a new vault, offscreen, with a
    fake screen to capture and the modal describe dialog answered at once."""
    from PySide6.QtWidgets import QApplication

    from evidence_recorder.core.gather import capture
    from evidence_recorder.ui import main_window as main_window_module
    from evidence_recorder.ui import messages
    from evidence_recorder.ui.app import AppController
    from evidence_recorder.ui.session import VaultSession
    from evidence_recorder.ui.tasks import wait_for_tasks

    session = VaultSession(vault_dir, FAST_KDF)
    ctl = AppController(session, app_settings, show_guide=False)
    ctl.main.capturer._grabber_factory = lambda: capture.FakeGrabber(fake_screen())
    ctl.main.capturer.hide_windows = False
    monkeypatch.setattr(main_window_module.DescribeDialog, "exec", lambda self: 0)
    qtbot.addWidget(ctl.start)
    qtbot.addWidget(ctl.main)
    ctl.run()
    yield ctl
    session.lock()
    wait_for_tasks()
    ctl.start.close()
    ctl.main.close()
    for widget in QApplication.topLevelWidgets():  # any dialog a test left showing
        if widget.isVisible():
            widget.close()
    messages._next_answers.clear()


@pytest.fixture(autouse=True)
def _no_leaked_windows(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test that leaves a window open (napari's make_napari_viewer check)."""
    yield
    if "qtbot" not in request.fixturenames and "qapp" not in request.fixturenames:
        return
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return
    app.processEvents()
    leaked = [type(w).__name__ for w in QApplication.topLevelWidgets() if w.isVisible()]
    for widget in QApplication.topLevelWidgets():
        widget.close()
    assert not leaked, f"windows left open: {leaked}"


# --- web capture (issue 12) -------------------------------------------------------------

def pytest_configure(config: pytest.Config) -> None:
    """QtWebEngine needs shared OpenGL contexts set before the one QApplication is made."""
    from PySide6.QtCore import QCoreApplication, Qt

    if QCoreApplication.instance() is None:
        QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
    os.environ.setdefault("MESA_SHADER_CACHE_DISABLE", "true")


@pytest.fixture(scope="session")
def web_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """HTTP and HTTPS page servers on 127.0.0.1 (tests/webserver.py), corpus under /corpus/."""
    from webserver import start_servers

    corpus = REPO.parent / "shared" / "corpora" / "web-pages"
    servers = start_servers(tmp_path_factory.mktemp("web-tls"),
                            corpus if corpus.is_dir() else None)
    yield servers
    servers.close()


@pytest.fixture
def isolated_network() -> None:
    """Skip unless this network namespace has loopback only (fail instead when CI=true)."""
    from webserver import network_is_loopback_only

    if not network_is_loopback_only():
        reason = ("the browser tests run only where the network is loopback-only: "
                  "run them inside `unshare -n` (scripts/isolated)")
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
