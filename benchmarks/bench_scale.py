#!/usr/bin/env python3
"""Scale: does the main window stay quick and small with 10,000 captures?

Two vaults are built (untimed): 100 and 10,000 distinct small captures, each with a
real JPEG thumbnail made by the product's thumbnailer. Each size then runs in its own
child process (offscreen Qt, so RSS is clean), which:
  * times from ``VaultSession.unlock`` (tiny KDF) through ``AppController`` opening the
    main window, to the first screen of thumbnails painted (every visible row of the
    grid has its thumbnail loaded and the window has processed the repaint);
  * scrolls the grid to the end a page at a time, letting each page's thumbnails
    load, then reads its RSS (VmRSS) and peak RSS.
Targets: first-screen time 10k/100 <= 2x; RSS after scrolling 10k/100 <= 1.5x.
Each size is measured --runs times (fresh child each time), alternating sizes.

    .venv/bin/python benchmarks/bench_scale.py [--runs 3] [--sizes 100,10000] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import PASSPHRASE, REPO, child_env, describe, median, verdict

# --- building the vaults (parent) ------------------------------------------------------

def _small_capture(index: int) -> tuple[bytes, bytes]:
    import io
    import random

    from PIL import Image, ImageDraw

    from evidence_recorder.core.gather import images

    rng = random.Random(index)
    picture = Image.new("RGB", (480, 300), tuple(rng.randrange(150, 256) for _ in range(3)))
    draw = ImageDraw.Draw(picture)
    for _ in range(6):
        x, y = rng.randrange(0, 400), rng.randrange(0, 240)
        draw.rectangle((x, y, x + rng.randrange(20, 80), y + rng.randrange(10, 60)),
                       fill=tuple(rng.randrange(256) for _ in range(3)))
    draw.text((10, 10), f"capture #{index}", fill=(0, 0, 0))
    buffer = io.BytesIO()
    picture.save(buffer, "PNG", compress_level=1)
    png = buffer.getvalue()
    return png, images.make_thumbnail(png)


def build_small_vault(folder: Path, count: int) -> None:
    import hashlib
    import multiprocessing

    from evidence_recorder.core.gather import device
    from evidence_recorder.core.model import CaptureKind, iso_utc, utc_now
    from evidence_recorder.core.vault.keyfile import KdfParams
    from evidence_recorder.core.vault.store import Vault

    vault, _ = Vault.create(folder, PASSPHRASE, kdf=KdfParams(1, 8, 1))
    # Setup only: skip the per-commit fsync while filling (the stored rows are the same).
    vault.conn.execute("PRAGMA synchronous=OFF")
    with multiprocessing.get_context("fork").Pool() as pool:
        for png, thumb in pool.imap(_small_capture, range(count), chunksize=32):
            now = utc_now()
            vault.add_capture(
                original=png, sha256=hashlib.sha256(png).hexdigest(), kind=CaptureKind.SCREEN,
                width=480, height=300, media_type="image/png", captured_at=iso_utc(now),
                tz_name=device.local_zone_name(), utc_offset=device.utc_offset(now),
                environment={"benchmark": True}, thumbnail=thumb)
    vault.close()


# --- one measurement (child) -----------------------------------------------------------

def child(vault_dir: Path, settings_file: Path) -> None:
    from PySide6.QtCore import QElapsedTimer
    from PySide6.QtWidgets import QApplication

    from evidence_recorder.core.settings import Settings
    from evidence_recorder.core.vault.keyfile import KdfParams
    from evidence_recorder.ui.app import AppController
    from evidence_recorder.ui.session import VaultSession
    from evidence_recorder.ui.tasks import wait_for_tasks

    app = QApplication([sys.argv[0]])
    app.setOrganizationName("EvidenceRecorderBench")
    session = VaultSession(vault_dir, KdfParams(1, 8, 1))
    ctl = AppController(session, Settings(settings_file), show_guide=False)
    ctl.run()
    app.processEvents()
    main = ctl.main
    model, proxy, grid = main.capture_model, main.proxy, main.grid

    first_hint = [0]

    def visible_ids() -> list[int]:
        # Scrolling only goes down, so the scan starts near the last first visible row
        # (scanning from row 0 every time would make this benchmark itself O(n^2)).
        area = grid.viewport().rect()
        ids = []
        seen_visible = False
        for r in range(max(0, first_hint[0] - 64), proxy.rowCount()):
            rect = grid.visualRect(proxy.index(r, grid.modelColumn()))
            if rect.intersects(area):
                if not seen_visible:
                    first_hint[0] = r
                seen_visible = True
                ids.append(proxy.capture_at(r).id)
            elif seen_visible and rect.top() > area.bottom():
                break
        return ids

    def loaded(ids: list[int]) -> bool:
        # The model's own cache (private, read only here) says which thumbnails arrived.
        return all(i in model._cache or i in model._failed for i in ids)

    def settle(timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            app.processEvents()
            if main.isVisible() and model.thumbnails_pending() == 0 and loaded(visible_ids()):
                app.processEvents()  # the repaint of the last arrivals
                return
            time.sleep(0.001)
        raise SystemExit("thumbnails did not load in time")

    profiler = None
    if os.environ.get("BENCH_PROFILE_FIRST_SCREEN"):  # cProfile of unlock -> first screen
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    opened = []
    timer = QElapsedTimer()
    timer.start()
    session.unlock(PASSPHRASE, lambda: opened.append(True),
                   lambda exc: (_ for _ in ()).throw(RuntimeError(str(exc))))
    while not session.is_unlocked:
        app.processEvents()
        time.sleep(0.0005)
    main.resize(1400, 900)
    ctl._opened()  # what StartWindow's "opened" signal does after its unlock button
    settle()
    first_screen = timer.nsecsElapsed() / 1e9
    if profiler is not None:
        import pstats

        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(30)
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(15)
        raise SystemExit(0)
    first_ids = len(visible_ids())
    # A large vault shows its newest captures first and reads the rest behind: wait for
    # all of them before scrolling through them.
    deadline = time.monotonic() + 60
    while proxy.rowCount() < session.capture_count() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.001)
    settle()
    rows = proxy.rowCount()

    bar = grid.verticalScrollBar()
    steps = 0
    while bar.value() < bar.maximum():
        bar.setValue(min(bar.maximum(), bar.value() + bar.pageStep()))
        settle()
        steps += 1
    scroll_s = timer.nsecsElapsed() / 1e9 - first_screen
    rss_kb = 0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss_kb = int(line.split()[1])
    import resource

    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    session.lock()
    wait_for_tasks()
    print(json.dumps({"first_screen": first_screen, "rows": rows, "visible": first_ids,
                      "rss_kb": rss_kb, "peak_kb": peak_kb, "scroll_steps": steps,
                      "scroll_s": scroll_s, "loads": model.loads_started}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", default="100,10000")
    parser.add_argument("--quick", action="store_true", help="1 run per size")
    parser.add_argument("--cache", type=Path, help="keep (and reuse) the built vaults here")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), Path(args.child[1]))
        return 0
    runs = 1 if args.quick else args.runs
    small, large = (int(s) for s in args.sizes.split(","))

    work = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    cache = args.cache or work
    try:
        for n in (small, large):
            folder = cache / f"vault-{n}"
            if not (folder / "vault.key").exists():
                t0 = time.monotonic()
                print(f"  building a vault of {n} captures ...", flush=True)
                build_small_vault(folder, n)
                print(f"  ... built in {time.monotonic() - t0:.0f} s", flush=True)
        env = child_env(work)
        results: dict[int, list[dict[str, float]]] = {small: [], large: []}
        for i in range(runs):
            for n in (small, large):
                proc = subprocess.run(
                    [sys.executable, __file__, "--child", str(cache / f"vault-{n}"),
                     str(work / f"settings-{n}-{i}.json")],
                    env=env, cwd=REPO, capture_output=True, text=True)
                if proc.returncode != 0:
                    print(f"  child for {n} failed:\n{proc.stdout}{proc.stderr}")
                    return 0
                results[n].append(json.loads(proc.stdout.strip().splitlines()[-1]))

        print(f"bench_scale: {runs} runs per size, offscreen Qt, alternating sizes")
        for n in (small, large):
            r = results[n]
            print(describe(f"{n:>6} captures: unlock -> first screen", [x["first_screen"] for x in r]))
            print(describe(f"{n:>6} captures: RSS after scrolling", [x["rss_kb"] / 1024 for x in r],
                           "MB"))
            print(f"  {'':6} (rows {r[0]['rows']}, {r[0]['visible']} visible, "
                  f"{r[0]['scroll_steps']} scroll steps in {median([x['scroll_s'] for x in r]):.1f} s, "
                  f"{r[0]['loads']} thumbnail loads, peak RSS "
                  f"{median([x['peak_kb'] for x in r]) / 1024:.0f} MB)")
        first = {n: median([x["first_screen"] for x in results[n]]) for n in (small, large)}
        rss = {n: median([x["rss_kb"] for x in results[n]]) for n in (small, large)}
        verdict(f"scale first screen {large}/{small} (median)", first[large] / first[small], 2.0)
        verdict(f"scale RSS after scrolling {large}/{small} (median)", rss[large] / rss[small], 1.5)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
