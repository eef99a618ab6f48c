#!/usr/bin/env python3
"""Verify speed: ``evidence-recorder verify BUNDLE`` against ``sha256sum`` of its files.

A vault of distinct 1920x1080 screenshot-like captures (--size-mb of originals) is
exported once (untimed). Then, interleaved:
  * app:       ``evidence-recorder verify BUNDLE``, the whole CLI process;
  * baseline:  ``sha256sum`` over every file of the same bundle, extracted beforehand
               with ``unzip`` (extraction not timed).
Throughput = bundle bytes / seconds. Target: app >= 0.7x baseline.

    .venv/bin/python benchmarks/bench_verify.py [--size-mb 300] [--runs 5] [--quick]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import PASSPHRASE, REPO, build_vault, child_env, describe, median, verdict


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=300)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="100 MB, 3 runs")
    parser.add_argument("--keep-vault", type=Path, help="build (or reuse) the vault here")
    args = parser.parse_args()
    size_mb, runs = (100, 3) if args.quick else (args.size_mb, args.runs)

    from evidence_recorder.core.bundle.seal import export_bundle
    from evidence_recorder.core.vault.store import Vault

    cli = Path(sys.executable).with_name("evidence-recorder")
    command = [str(cli)] if cli.exists() else [sys.executable, "-m", "evidence_recorder"]
    work = Path(tempfile.mkdtemp(prefix="bench-verify-"))
    try:
        vault_dir = args.keep_vault or work / "vault"
        if not (vault_dir / "vault.key").exists():
            print(f"  building a vault of {size_mb} MB of 1920x1080 captures ...", flush=True)
            build_vault(vault_dir, total_bytes=size_mb * 1_000_000)
        vault = Vault.open(vault_dir, PASSPHRASE)
        count = len(vault.captures())
        t0 = time.monotonic()
        bundle = export_bundle(vault, work / "bundle.zip")
        print(f"  exported the bundle in {time.monotonic() - t0:.0f} s", flush=True)
        vault.close()
        extracted = work / "extracted"
        subprocess.run(["unzip", "-q", str(bundle), "-d", str(extracted)], check=True)
        files = sorted(str(p.relative_to(extracted)) for p in extracted.rglob("*") if p.is_file())

        env = child_env(work)
        subprocess.run([*command, "--help"], env=env, cwd=REPO, capture_output=True)  # warm
        app_t, base_t = [], []
        for _ in range(runs):
            t0 = time.perf_counter()
            proc = subprocess.run([*command, "verify", str(bundle)], env=env, cwd=REPO,
                                  capture_output=True, text=True)
            app_t.append(time.perf_counter() - t0)
            if proc.returncode != 0:
                print(f"  verify exited {proc.returncode}: {proc.stdout}{proc.stderr}")
            t0 = time.perf_counter()
            subprocess.run(["sha256sum", "--", *files], cwd=extracted, check=True,
                           stdout=subprocess.DEVNULL)
            base_t.append(time.perf_counter() - t0)

        mb = bundle.stat().st_size / 1e6
        print(f"bench_verify: bundle of {count} captures, {mb:.0f} MB, {len(files)} files, "
              f"{runs} interleaved runs")
        print(describe("app: evidence-recorder verify", app_t))
        print(describe("baseline: sha256sum (extracted)", base_t))
        print(f"  throughput: app {mb / median(app_t):.0f} MB/s, "
              f"baseline {mb / median(base_t):.0f} MB/s")
        verdict("verify throughput app/baseline (median)", median(base_t) / median(app_t),
                0.7, at_most=False)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
