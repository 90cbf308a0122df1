//! Reused buffers for the copies of large async payloads (see
//! `args::Payloads`). A copy into fresh memory faults its pages in one by
//! one: measured here, a 1 MiB copy took 0.4-1.1 ms into fresh memory and
//! ~0.1 ms into a buffer used before. Buffers whose write is done wait here
//! for the next copy, up to a bound.

use std::sync::Mutex;

/// Idle bytes kept at most.
const MAX_POOLED: usize = 32 << 20;
/// Buffers larger than this are freed, not kept.
const MAX_BUFFER: usize = 16 << 20;

static POOL: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

/// A copy of `bytes`, in a pooled buffer when one is large enough.
pub fn copy_of(bytes: &[u8]) -> Vec<u8> {
    let mut v = take(bytes.len());
    v.extend_from_slice(bytes);
    v
}

/// An empty buffer of at least `len` bytes' capacity: the smallest pooled one that fits, or a new one.
fn take(len: usize) -> Vec<u8> {
    let mut pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
    let best =
        pool.iter().enumerate().filter(|(_, b)| b.capacity() >= len).min_by_key(|(_, b)| b.capacity()).map(|(i, _)| i);
    match best {
        Some(i) => pool.swap_remove(i),
        None => Vec::with_capacity(len),
    }
}

/// Returns a buffer for reuse (or frees it, past the bounds).
pub fn give(mut v: Vec<u8>) {
    if v.capacity() > MAX_BUFFER {
        return;
    }
    let mut pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
    let held: usize = pool.iter().map(Vec::capacity).sum();
    if held + v.capacity() <= MAX_POOLED {
        v.clear();
        pool.push(v);
    }
}
