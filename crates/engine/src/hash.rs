//! Key hashing: XXH3-64 with seed 0, as the `simd-r-drive` crate's `compute_hash`.

use xxhash_rust::xxh3::xxh3_64;

#[inline]
pub fn compute_hash(key: &[u8]) -> u64 {
    xxh3_64(key)
}

/// Namespaced keys: `hash(prefix) LE ++ hash(key) LE` (16 bytes), as the crate's
/// `NamespaceHasher::namespace`.
pub struct NamespaceHasher {
    prefix: u64,
}

impl NamespaceHasher {
    pub fn new(prefix: &[u8]) -> Self {
        Self { prefix: compute_hash(prefix) }
    }

    pub fn namespace(&self, key: &[u8]) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&self.prefix.to_le_bytes());
        out[8..].copy_from_slice(&compute_hash(key).to_le_bytes());
        out
    }
}
