#!/usr/bin/env bash
# Runs every benchmark with its quick settings (~7 minutes on 2 cores with cached vaults;
# the first run also builds them, ~5 minutes more).
# Pass --full to use each script's full defaults instead (1 GB export, 15 capture runs...).
# Benchmarks are measurements: each prints RATIO ... PASS/MISS lines and exits 0.
set -uo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
[ -x "$py" ] || { echo "Run scripts/setup --test first (it builds .venv and installs scrot, Xvfb, zip)." >&2; exit 1; }
quick=--quick
[ "${1:-}" = "--full" ] && quick=
# bench_messages compares with whatstk (the project's "bench" extra); install it once.
"$py" -c "import whatstk" 2>/dev/null || "$py" -m pip install -q -e ".[bench]"
# The benchmark vaults use tiny key-derivation costs (the cost of unlocking is not what
# is measured); key files that small are read only with this set, as in the tests.
export ER_TESTS_USE_TINY_KDF=1
status=0
log=$(mktemp)
# Built vaults are kept here and reused by later runs (delete the folder to rebuild).
cache=${BENCH_CACHE:-${TMPDIR:-/tmp}/evidence-recorder-bench}
mkdir -p "$cache"
size=200
[ -z "$quick" ] && size=1024
declare -A extra=(
  [bench_export]="--keep-vault $cache/export-${size}mb-v4 --size-mb $size"
  [bench_verify]="--keep-vault $cache/export-${size}mb-v4"
  [bench_scale]="--cache $cache/scale"
)
# bench_web puts itself in scripts/isolated (loopback only); Chromium's baseline needs
# `apt-get install chromium` and is skipped, saying so, without it.
for bench in bench_capture bench_export bench_verify bench_scale bench_start bench_web \
    bench_messages; do
  echo "=== $bench $quick ${extra[$bench]:-}"
  start=$(date +%s)
  # shellcheck disable=SC2086
  "$py" "benchmarks/$bench.py" $quick ${extra[$bench]:-} 2>&1 | tee -a "$log"
  rc=${PIPESTATUS[0]}
  [ "$rc" = 0 ] || { echo "!!! $bench failed to run (exit $rc)"; status=1; }
  echo "=== $bench took $(( $(date +%s) - start )) s"
done
echo
echo "Summary:"
grep '^RATIO' "$log"
rm -f "$log"
exit $status
