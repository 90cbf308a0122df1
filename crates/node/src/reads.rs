//! What a read answers JavaScript: the metadata offset of an entry in the
//! caller's view, or one of two codes. The TS layer (src/view.ts) retries
//! a `STALE` answer in a fresh view; a batch answers `[STALE]` when any of
//! its keys does, so one encoding holds for every read.

use srd_engine::{Located, Store};

/// The key is absent (or deleted).
pub const ABSENT: f64 = -1.0;
/// The caller's view is stale or too short: refresh it and ask again.
pub const STALE: f64 = -2.0;

pub fn located(r: Located) -> f64 {
    match r {
        Located::At(m) => m as f64,
        Located::Absent => ABSENT,
        Located::StaleView => STALE,
    }
}

/// Offsets of `hashes` in the view `(generation, view_len)`, or `[STALE]`.
pub fn batch_located(s: &Store, hashes: &[u64], generation: u64, view_len: u64) -> Vec<f64> {
    let mut out = Vec::with_capacity(hashes.len());
    for &h in hashes {
        let r = located(s.locate(h, generation, view_len));
        if r == STALE {
            return vec![STALE];
        }
        out.push(r);
    }
    out
}
