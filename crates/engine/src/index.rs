//! The in-memory index: key hash -> offset of the metadata of the key's live
//! entry. Invariant: only live keys are present (a tombstone removes its key),
//! so `len()` is the count of live keys, also after a reopen.

use crate::format::{EntryLocation, Metadata, METADATA_SIZE};
use hashbrown::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// Key hashes are XXH3 outputs already, but callers may pass their own
/// (`writeWithKeyHash(1n, ...)`): one multiply-xorshift spreads them cheaply.
#[derive(Default, Clone, Copy)]
pub struct SpreadHasher(u64);

impl Hasher for SpreadHasher {
    #[inline]
    fn finish(&self) -> u64 {
        let m = self.0.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        m ^ (m >> 29)
    }
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | b as u64;
        }
    }
    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type Spread = BuildHasherDefault<SpreadHasher>;

#[derive(Default)]
pub struct KeyIndex {
    map: HashMap<u64, u64, Spread>,
}

impl KeyIndex {
    /// Builds the index of the store prefix `bytes` (already validated by recovery).
    /// Walks the chain backwards; the first entry met for a key is its newest.
    pub fn build(bytes: &[u8]) -> KeyIndex {
        let mut map: HashMap<u64, u64, Spread> = HashMap::default();
        let mut deleted: HashSet<u64, Spread> = HashSet::default();
        let mut tail = bytes.len() as u64;
        while tail > METADATA_SIZE as u64 {
            let m = tail - METADATA_SIZE as u64;
            let Some(meta) = Metadata::decode_at(bytes, m) else { break };
            let Some(loc) = EntryLocation::derive(bytes, m, meta.prev_offset) else { break };
            if !map.contains_key(&meta.key_hash) && !deleted.contains(&meta.key_hash) {
                if loc.tombstone {
                    deleted.insert(meta.key_hash);
                } else {
                    map.insert(meta.key_hash, m);
                }
            }
            tail = meta.prev_offset;
        }
        map.shrink_to_fit();
        KeyIndex { map }
    }

    #[inline]
    pub fn get(&self, key_hash: u64) -> Option<u64> {
        self.map.get(&key_hash).copied()
    }

    #[inline]
    pub fn contains(&self, key_hash: u64) -> bool {
        self.map.contains_key(&key_hash)
    }

    #[inline]
    pub fn insert(&mut self, key_hash: u64, meta_offset: u64) {
        self.map.insert(key_hash, meta_offset);
    }

    #[inline]
    pub fn remove(&mut self, key_hash: u64) {
        self.map.remove(&key_hash);
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.map.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// `(key_hash, meta_offset)` of every live key, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.map.iter().map(|(&k, &v)| (k, v))
    }
}
