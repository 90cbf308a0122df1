#!/usr/bin/env bash
# Regenerates fuzz/seeds/: small real store files written by the engine
# (see examples/make_seeds.rs). Works on stable Rust.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cargo run --quiet --release --manifest-path "$here/Cargo.toml" --example make_seeds -- "$here/seeds"
