"""The app's capture flow on a real X screen (Xvfb): the app hides itself, grabs, returns.

Qt can have one platform per process and the suite runs offscreen, so the app runs
here in a child process on the Xvfb display, with a known pattern painted on the
screen. The saved original must be exactly that pattern: not one pixel of our own
window may appear in the evidence.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FAST_KDF, PASSPHRASE, REPO
from PIL import Image, ImageChops
from test_capture import unique_pattern
from xvfb import XvfbDisplay

from evidence_recorder.core.vault.store import Vault

_CHILD = """
import sys, time
from pathlib import Path
from PySide6.QtWidgets import QApplication
app = QApplication([])
from evidence_recorder.core.vault.keyfile import KdfParams
from evidence_recorder.core.settings import Settings
from evidence_recorder.ui import main_window
from evidence_recorder.ui.app import AppController
from evidence_recorder.ui.session import VaultSession
from evidence_recorder.ui.tasks import wait_for_tasks

main_window.DescribeDialog.exec = lambda self: 0
session = VaultSession(Path(sys.argv[1]), KdfParams(1, 8, 1))
ctl = AppController(session, Settings(Path(sys.argv[2])), show_guide=False)
ctl.run()
ctl.start.unlock_page.passphrase.setText(sys.argv[3])
ctl.start.unlock_page.unlock_button.click()
def wait(condition, seconds=20):
    end = time.monotonic() + seconds
    while not condition() and time.monotonic() < end:
        app.processEvents(); wait_for_tasks(20); time.sleep(0.01)

wait(ctl.main.isVisible)
assert ctl.main.isVisible(), "did not unlock"
ctl.main.resize(900, 600)
ctl.main.move(50, 50)
for _ in range(20):
    app.processEvents()
ctl.main.capturer._region_selector = lambda desktop: (100, 120, 300, 200)
for kind in ("screen", "region"):
    before = ctl.main.capture_model.rowCount()
    ctl.main.capture(kind)
    wait(lambda: ctl.main.capture_model.rowCount() > before and ctl.main.isVisible())
    assert ctl.main.capture_model.rowCount() == before + 1, kind
    assert ctl.main.isVisible(), "the window did not come back"
session.lock()
print("done")
"""


@pytest.mark.screen
def test_app_hides_itself_and_captures_the_real_screen(xvfb_display: XvfbDisplay,
                                                       vault_dir: Path, tmp_path: Path) -> None:
    pattern = unique_pattern(*xvfb_display.size)
    xvfb_display.paint(pattern)
    Vault.create(vault_dir, PASSPHRASE, kdf=FAST_KDF)[0].close()
    env = {**os.environ, "DISPLAY": xvfb_display.name, "QT_QPA_PLATFORM": "xcb"}
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, str(vault_dir), str(tmp_path / "s.json"), PASSPHRASE],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert child.returncode == 0, child.stderr
    assert "done" in child.stdout
    with Vault.open(vault_dir, PASSPHRASE) as vault:
        screen, region = vault.captures()
        whole = Image.open(io.BytesIO(vault.original(screen.id))).convert("RGB")
        part = Image.open(io.BytesIO(vault.original(region.id))).convert("RGB")
    assert screen.kind.value == "screen" and region.kind.value == "region"
    assert ImageChops.difference(whole, pattern).getbbox() is None, "our window was captured"
    expected = pattern.crop((100, 120, 400, 320))
    assert ImageChops.difference(part, expected).getbbox() is None
