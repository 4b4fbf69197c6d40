#!/usr/bin/env bash
# Long fuzzing runs, local only (CI runs every target with the default small budget as part of
# the tests). Each target runs for SKIFF_FUZZ_MINUTES (10 by default) with a case budget no run
# reaches; a target that finds a failure stops with proptest's shrunk input, which proptest also
# keeps in the target's `.proptest-regressions` file (commit it: it is replayed on every run).
#
#   ci/fuzz.sh                 # every target, 10 minutes each
#   SKIFF_FUZZ_MINUTES=1 ci/fuzz.sh config_loader
set -uo pipefail
cd "$(dirname "$0")/.."
minutes="${SKIFF_FUZZ_MINUTES:-10}"
targets=(
  "--test fuzz config_loader"
  "--test fuzz interpolation"
  "--test fuzz onigmo_translation"
  "--test fuzz time_formats"
  "--test fuzz bulk_responses"
  "--test migrate_props"
  "--lib transforms::proptests"
)
if [ $# -gt 0 ]; then
  targets=()
  for t in "$@"; do targets+=("--test fuzz $t"); done
fi
cargo test --profile fuzz --no-run --test fuzz --test migrate_props --lib >/dev/null 2>&1 || {
  echo "build failed" >&2; exit 1; }
failed=0
for t in "${targets[@]}"; do
  start=$(date +%s)
  # shellcheck disable=SC2086
  SKIFF_FUZZ_CASES=1000000000 timeout "$((minutes * 60))" \
    cargo test --profile fuzz -q $t -- --test-threads=1 >"target/fuzz-$(echo "$t" | tr ' :/' '___').log" 2>&1
  code=$?
  took=$(( $(date +%s) - start ))
  case $code in
    124) echo "ok     $t: ${took}s, no failure" ;;
    0) echo "ok     $t: ${took}s, budget exhausted, no failure" ;;
    *) echo "FAILED $t after ${took}s (exit $code): see target/fuzz-*.log"; failed=1 ;;
  esac
done
exit $failed
