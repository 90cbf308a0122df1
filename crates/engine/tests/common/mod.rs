//! Helpers shared by the integration tests.

/// Deterministic pseudo-random bytes; the first byte is never 0 (so a
/// one-byte payload is never the reserved tombstone byte).
pub fn pat(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut v = Vec::with_capacity(len);
    for _ in 0..len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.push((x >> 32) as u8);
    }
    if let Some(b) = v.first_mut() {
        if *b == 0 {
            *b = 0xA5;
        }
    }
    v
}
