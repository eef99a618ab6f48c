"""A capturing process killed with SIGKILL at random moments never costs a saved capture.

The child opens a real vault and captures in a loop (a fake screen, real PNG, real
SQLCipher), printing each capture's id and SHA-256 only after the vault said it was
saved. After every kill the vault must open, verify, and hold every reported capture
whole. ``ER_CRASH_KILLS`` sets how many kills (quick default here; step 4's full run
raises it).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import PASSPHRASE, REPO

from evidence_recorder.core.vault.store import Vault

KILLS = int(os.environ.get("ER_CRASH_KILLS", "25"))

_CHILD = """
import random, sys
from PIL import Image
from evidence_recorder.core.gather import capture
from evidence_recorder.core.gather import recorder
from evidence_recorder.core.model import CaptureDetails
from evidence_recorder.core.vault.store import Vault
vault = Vault.open(sys.argv[1], sys.argv[2])
print("open", flush=True)
rng = random.Random(int(sys.argv[3]))
while True:
    size = (rng.randint(200, 900), rng.randint(150, 700))
    image = Image.effect_noise(size, rng.randint(10, 120)).convert("RGB")
    grab = capture.grab(capture.FakeGrabber(image))
    note = "capture %d" % rng.randint(0, 10**9)
    capture_id = recorder.save_grab(vault, grab, CaptureDetails(description=note))
    sha = recorder.hashlib.sha256(grab.png).hexdigest()
    sys.stdout.write("saved %d %s\\n" % (capture_id, sha))  # one write: never half a line
    sys.stdout.flush()
"""


@pytest.mark.slow
def test_sigkill_while_capturing_loses_nothing_reported_saved(closed_vault: Path) -> None:
    rng = random.Random(20261125)
    reported: dict[int, str] = {}
    for round_no in range(KILLS):
        child = subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(closed_vault), PASSPHRASE, str(round_no)],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert child.stdout is not None and child.stderr is not None
        said = ""
        if rng.random() < 0.7:
            # Most rounds start the clock once the vault is open, so that a loaded
            # machine's slow start does not turn every round into a kill before any save.
            said = child.stdout.readline()
        time.sleep(rng.uniform(0.05, 1.5))
        child.send_signal(signal.SIGKILL)
        # Read through the same buffered pipe readline() used; the child is dead.
        out, err = said + child.stdout.read(), child.stderr.read()
        child.wait(timeout=30)
        child.stdout.close()
        child.stderr.close()
        assert "Traceback" not in err, err
        for line in out.split("\n")[:-1]:  # a line the kill cut short was never said
            if line.startswith("saved "):
                _, capture_id, sha = line.split()
                reported[int(capture_id)] = sha

        with Vault.open(closed_vault, PASSPHRASE) as vault:
            report = vault.verify()
            assert report.ok, (round_no, report.problems)
            stored = {c.id: c.sha256 for c in vault.captures()}
            for capture_id, sha in reported.items():
                assert stored.get(capture_id) == sha, f"capture {capture_id} lost, round {round_no}"
            for capture_id in stored:  # no half-written capture: every part is there
                assert vault.thumbnail(capture_id)
                assert vault.original(capture_id)
            assert vault.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert len(reported) >= KILLS // 2, "the child rarely got to save anything; test too weak"
