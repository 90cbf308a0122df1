#!/usr/bin/env bash
# Bounded libFuzzer run of fuzz target open_recover_iterate.
#   bash fuzz/run.sh [SECONDS]   (default 60)
# Needs cargo-fuzz (`cargo install cargo-fuzz`) and a nightly toolchain
# (cargo-fuzz builds with -Zsanitizer). Without them it says so and exits 0.
# The corpus grows in fuzz/corpus/ (git-ignored), seeded from fuzz/seeds/;
# a crash is saved under fuzz/artifacts/ and makes this script fail.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
secs="${1:-60}"
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz/run.sh: cargo-fuzz is not installed (cargo install cargo-fuzz); skipped"
  exit 0
fi
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "fuzz/run.sh: no nightly toolchain (cargo-fuzz needs one); skipped"
  exit 0
fi
mkdir -p "$here/corpus/open_recover_iterate"
cd "$here/.."
cargo +nightly fuzz run --fuzz-dir "$here" open_recover_iterate \
  "$here/corpus/open_recover_iterate" "$here/seeds" \
  -- -max_total_time="$secs" -max_len=262144 -print_final_stats=1
