#!/usr/bin/env python3
"""Export speed and memory: sealing a vault of 1920x1080 screenshots into a bundle.

A real vault is filled with distinct screenshot-like PNGs (text, photo patches,
gradients) totalling --size-mb of originals (default 1024). Then, interleaved:
  * app:       ``bundle.export_bundle(vault, out)`` in a child process (timed around the
               call only; peak RSS of that child from getrusage(RUSAGE_CHILDREN));
  * baseline:  ``sha256sum`` + ``zip -0`` over the same originals, written to a temp
               folder beforehand (writing them is not timed; they are deleted after).
Throughput = bytes of originals / seconds. Targets: app >= 0.5x baseline; peak RSS < 300 MB.

    .venv/bin/python benchmarks/bench_export.py [--size-mb 1024] [--runs 3] [--quick]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import PASSPHRASE, REPO, build_vault, describe, median, verdict

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from evidence_recorder.core.bundle.seal import export_bundle
from evidence_recorder.core.vault.store import Vault
vault = Vault.open(Path(sys.argv[1]), sys.argv[2])
t0 = time.perf_counter()
export_bundle(vault, Path(sys.argv[3]))
elapsed = time.perf_counter() - t0
vault.close()
print(json.dumps({"seconds": elapsed,
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""

BASELINE_BEFORE_EXPORT = r"""
import resource, sys
from evidence_recorder.core.bundle.seal import export_bundle
from evidence_recorder.core.vault.store import Vault
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def export_once(vault_dir: Path, out: Path) -> tuple[float, int]:
    """Returns (seconds, peak RSS in KiB) of one export in a fresh child process."""
    proc = subprocess.run([sys.executable, "-c", CHILD, str(vault_dir), PASSPHRASE, str(out)],
                          check=True, capture_output=True, text=True, cwd=REPO)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return float(result["seconds"]), int(result["maxrss_kb"])


def baseline_once(files: Path, out: Path) -> float:
    names = sorted(p.name for p in files.iterdir())
    t0 = time.perf_counter()
    with (files / "manifest-sha256.txt").open("wb") as manifest:
        subprocess.run(["sha256sum", "--", *names], cwd=files, stdout=manifest, check=True)
    subprocess.run(["zip", "-0", "-q", str(out), "manifest-sha256.txt", *names], cwd=files,
                   check=True)
    elapsed = time.perf_counter() - t0
    (files / "manifest-sha256.txt").unlink()
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="200 MB, 2 runs")
    parser.add_argument("--keep-vault", type=Path, help="build (or reuse) the vault here")
    args = parser.parse_args()
    size_mb, runs = (200, 2) if args.quick else (args.size_mb, args.runs)

    work = Path(tempfile.mkdtemp(prefix="bench-export-"))
    try:
        vault_dir = args.keep_vault or work / "vault"
        from evidence_recorder.core.vault.store import Vault

        t0 = time.monotonic()
        if not (vault_dir / "vault.key").exists():
            print(f"  building a vault of {size_mb} MB of 1920x1080 captures ...", flush=True)
            count, total = build_vault(vault_dir, total_bytes=size_mb * 1_000_000)
        print(f"  vault ready in {time.monotonic() - t0:.0f} s", flush=True)

        # the originals, written out for the baseline only
        files = work / "originals"
        files.mkdir()
        vault = Vault.open(vault_dir, PASSPHRASE)
        total = 0
        captures = vault.captures()
        for c in captures:
            data = vault.original(c.id)
            (files / f"capture-{c.id:06d}.png").write_bytes(data)
            total += len(data)
        vault.close()
        count = len(captures)

        idle_kb = int(subprocess.run([sys.executable, "-c", BASELINE_BEFORE_EXPORT],
                                     capture_output=True, text=True, check=True,
                                     cwd=REPO).stdout.strip())
        app_t, base_t, rss = [], [], []
        for i in range(runs):
            out_app = work / f"app-{i}.zip"
            out_base = work / f"base-{i}.zip"
            seconds, peak = export_once(vault_dir, out_app)
            app_t.append(seconds)
            rss.append(peak)
            base_t.append(baseline_once(files, out_base))
            app_size = out_app.stat().st_size
            out_app.unlink()
            out_base.unlink()
        children_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss

        mb = total / 1e6
        print(f"bench_export: {count} captures, {mb:.0f} MB of originals "
              f"(bundle {app_size / 1e6:.0f} MB), {runs} interleaved runs")
        print(describe("app: export_bundle", app_t))
        print(describe("baseline: sha256sum + zip -0", base_t))
        print(f"  throughput: app {mb / median(app_t):.0f} MB/s, "
              f"baseline {mb / median(base_t):.0f} MB/s")
        print(f"  peak RSS of the export child: {max(rss) / 1024:.0f} MB (getrusage "
              f"RUSAGE_CHILDREN: {children_peak / 1024:.0f} MB; a child that only imports "
              f"the modules: {idle_kb / 1024:.0f} MB)")
        verdict("export throughput app/baseline (median)", median(base_t) / median(app_t),
                0.5, at_most=False)
        peak_mb = max(rss) / 1024
        print(f"RATIO export peak RSS: {peak_mb:.0f} MB   target < 300 MB   "
              f"{'PASS' if peak_mb < 300 else 'MISS'}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
