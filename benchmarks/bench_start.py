#!/usr/bin/env python3
"""Start-up: from launching the process to a usable unlock window, against bare PySide6.

Both sides are child processes with QT_QPA_PLATFORM=offscreen, measured from just
before the parent starts them to the moment the child has handled the first Paint
event of its window (CLOCK_MONOTONIC is shared by all processes on Linux):
  * app:   ``evidence_recorder.cli.main(["--vault", DIR])``, exactly what
           ``python -m evidence_recorder --vault DIR`` runs, with the QApplication made
           first so the first Paint can be watched (the StartWindow on its unlock page
           for an existing vault);
  * bare:  ``QApplication`` + a ``QWidget`` with a label, shown.
Target: app median <= 2x bare. Runs are interleaved.

    .venv/bin/python benchmarks/bench_start.py [--runs 15] [--quick]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import PASSPHRASE, REPO, child_env, describe, median, verdict

FIRST_PAINT = r"""
from PySide6.QtCore import QEvent, QObject, QTimer
class _FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and not getattr(self, "done", False):
            self.done = True
            QTimer.singleShot(0, _report)
        return False
def _report():
    import time, sys
    print(repr(time.monotonic()), flush=True)
    QApplication.instance().exit(0)
"""

APP = FIRST_PAINT + r"""
import sys
from PySide6.QtWidgets import QApplication
app = QApplication([sys.argv[0]])  # ui.app.main() takes the running one, as tests do
watch = _FirstPaint()
app.installEventFilter(watch)  # the first Paint of any widget: the start window's
from evidence_recorder.cli import main
sys.exit(main(["--vault", sys.argv[1]]))
"""

BARE = FIRST_PAINT + r"""
import sys
from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget
app = QApplication([sys.argv[0]])
window = QWidget()
QVBoxLayout(window).addWidget(QLabel("Hello"))
watch = _FirstPaint()
window.installEventFilter(watch)
window.show()
sys.exit(app.exec())
"""


def launch(code: str, args: list[str], env: dict[str, str]) -> float:
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", code, *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    if proc.returncode != 0 or not proc.stdout.strip():
        raise SystemExit(f"child failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
    return float(proc.stdout.strip().splitlines()[-1]) - t0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="7 runs")
    args = parser.parse_args()
    runs = 7 if args.quick else args.runs

    from evidence_recorder.core.vault.keyfile import KdfParams
    from evidence_recorder.core.vault.store import Vault

    work = Path(tempfile.mkdtemp(prefix="bench-start-"))
    try:
        Vault.create(work / "vault", PASSPHRASE, kdf=KdfParams(1, 8, 1))[0].close()
        env = child_env(work)
        # warm the page cache for both
        launch(APP, [str(work / "vault")], env)
        launch(BARE, [], env)
        app_t, bare_t = [], []
        for _ in range(runs):
            app_t.append(launch(APP, [str(work / "vault")], env))
            bare_t.append(launch(BARE, [], env))
        print(f"bench_start: launch to first paint, offscreen Qt, {runs} interleaved runs")
        print(describe("app: unlock window painted", app_t))
        print(describe("bare PySide6: QWidget painted", bare_t))
        verdict("start app/bare (median)", median(app_t) / median(bare_t), 2.0)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
