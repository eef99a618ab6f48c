#!/usr/bin/env python3
"""Capture speed: from "grab" to "committed in the vault", on a 4K Xvfb screen.

App: ``capture.grab(MssGrabber())`` then ``recorder.save_grab(vault, grab)`` on a real
(SQLCipher) vault, timed in-process (warm, as in the running app).
Baselines, on the same screen, interleaved round by round:
  * scrot:  the whole ``scrot -o file.png`` process (what a user would otherwise run);
  * bare:   mss grab + Pillow PNG save to a plain file, in-process, at zlib level 1
            (the app's level; the verdict uses this) and at Pillow's default level.
Targets: app median <= 1.0x scrot; app median <= 1.3x bare (level 1).

    .venv/bin/python benchmarks/bench_capture.py [--runs 15] [--width 3840 --height 2160]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ScreenMaker, describe, median, verdict
from xvfb import XvfbDisplay, XvfbServer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--width", type=int, default=3840)
    parser.add_argument("--height", type=int, default=2160)
    parser.add_argument("--quick", action="store_true", help="7 runs instead of 15")
    args = parser.parse_args()
    runs = 7 if args.quick else args.runs

    scrot = shutil.which("scrot")
    if scrot is None:
        print("scrot is not installed (apt-get install scrot, or scripts/setup --test); "
              "the scrot baseline is skipped.")

    server = XvfbServer.start(args.width, args.height)
    os.environ["DISPLAY"] = server.display
    os.environ.pop("WAYLAND_DISPLAY", None)
    try:
        picture = ScreenMaker(args.width, args.height, seed=4).make()
        XvfbDisplay(server).paint(picture)
        return run(runs, scrot)
    finally:
        server.stop()


def run(runs: int, scrot: str | None) -> int:
    import mss
    from PIL import Image

    from evidence_recorder.core.gather import capture, recorder
    from evidence_recorder.core.vault.keyfile import KdfParams
    from evidence_recorder.core.vault.store import Vault

    work = Path(tempfile.mkdtemp(prefix="bench-capture-"))
    try:
        vault, _ = Vault.create(work / "vault", "correct horse battery staple",
                                kdf=KdfParams(1, 8, 1))
        grabber = capture.MssGrabber()
        sct = mss.MSS() if hasattr(mss, "MSS") else mss.mss()
        out_bare = work / "bare.png"
        out_scrot = work / "scrot.png"

        def app_once() -> float:
            t0 = time.perf_counter()
            g = capture.grab(grabber)
            recorder.save_grab(vault, g)
            return time.perf_counter() - t0

        def bare_once(level: int) -> float:
            t0 = time.perf_counter()
            shot = sct.grab(sct.monitors[0])
            image = Image.frombytes("RGB", shot.size, shot.bgra, "raw", "BGRX")
            image.save(out_bare.with_suffix(f".{level}.png"), "PNG", compress_level=level)
            return time.perf_counter() - t0

        def scrot_once() -> float:
            t0 = time.perf_counter()
            subprocess.run([scrot, "-o", str(out_scrot)], check=True)  # type: ignore[list-item]
            return time.perf_counter() - t0

        # warm-up (first mss grab sets up shared memory; first scrot loads libraries)
        app_once()
        bare_once(1)
        if scrot:
            scrot_once()

        app, bare1, bare6, scr = [], [], [], []
        for _ in range(runs):
            app.append(app_once())
            bare1.append(bare_once(1))
            bare6.append(bare_once(6))
            if scrot:
                scr.append(scrot_once())
        size_app = len(vault.original(vault.captures()[-1].id))
        vault.close()

        w, h = grabber.monitors()[0].width, grabber.monitors()[0].height
        print(f"bench_capture: {w}x{h} Xvfb screen, {runs} interleaved runs each")
        print(describe("app: grab + save_grab (in vault)", app))
        print(describe("bare: mss + Pillow PNG level 1", bare1))
        print(describe("bare: mss + Pillow PNG default (6)", bare6))
        if scrot:
            print(describe("scrot -o file.png (whole process)", scr))
        print(f"  PNG sizes: app {size_app / 1e6:.2f} MB, bare level 1 "
              f"{out_bare.with_suffix('.1.png').stat().st_size / 1e6:.2f} MB, "
              + (f"scrot {out_scrot.stat().st_size / 1e6:.2f} MB" if scrot else ""))
        if scrot:
            verdict("capture app/scrot (median)", median(app) / median(scr), 1.0)
        else:
            print("RATIO capture app/scrot: not measured (no scrot)   MISS")
        verdict("capture app/bare-level1 (median)", median(app) / median(bare1), 1.3)
        print(f"  (info) app/bare-default-level: {median(app) / median(bare6):.2f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
