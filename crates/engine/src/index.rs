//! The in-memory index: key hash -> offset of the metadata of the key's live
//! entry. Invariant: only live keys are present (a tombstone removes its key),
//! so `len()` is the count of live keys, also after a reopen.

use crate::format::{EntryLocation, Metadata, METADATA_SIZE};
use hashbrown::hash_table::Entry;
use hashbrown::{HashSet, HashTable};
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

#[inline]
fn spread(key_hash: u64) -> u64 {
    let mut h = SpreadHasher::default();
    h.write_u64(key_hash);
    h.finish()
}

/// One slot: the key hash and a 48-bit metadata offset (256 TiB), packed to
/// 14 bytes so the table stays under 32 bytes per key at 1M keys (a plain
/// `HashMap<u64, u64>` takes ~36 there). Fields are read by value (packed).
#[derive(Clone, Copy)]
#[repr(C, packed)]
struct Slot {
    key_hash: u64,
    off_lo: u32,
    off_hi: u16,
}

/// Largest metadata offset a slot holds.
pub const MAX_OFFSET: u64 = (1 << 48) - 1;

impl Slot {
    #[inline]
    fn new(key_hash: u64, offset: u64) -> Slot {
        debug_assert!(offset <= MAX_OFFSET);
        Slot { key_hash, off_lo: offset as u32, off_hi: (offset >> 32) as u16 }
    }
    #[inline]
    fn key(&self) -> u64 {
        self.key_hash
    }
    #[inline]
    fn offset(&self) -> u64 {
        self.off_lo as u64 | (self.off_hi as u64) << 32
    }
}

#[derive(Default)]
pub struct KeyIndex {
    table: HashTable<Slot>,
}

impl KeyIndex {
    /// Builds the index of `bytes`, a store whose chain recovery validated.
    pub fn build(bytes: &[u8]) -> KeyIndex {
        Self::build_chain(bytes).unwrap_or_default()
    }

    /// Builds the index by walking the chain backwards from the end of
    /// `bytes` (the first entry met for a key is its newest; a tombstone hides
    /// older ones). `None` if the chain does not reach offset 0 intact, so
    /// open can build the index and check the chain in one walk.
    pub fn build_chain(bytes: &[u8]) -> Option<KeyIndex> {
        let mut index = KeyIndex::default();
        // Sized once for every entry of the chain: growing step by step
        // rehashed each slot again and faulted in each larger table's fresh
        // pages (1,000,000 keys: open ~105 -> ~63 ms, measured). Entries that
        // are overwritten or deleted make it too large until the shrink
        // below; if that much cannot be had, the table grows as it fills.
        let _ = index.table.try_reserve(chain_len(bytes)?, |s| spread(s.key()));
        let mut deleted: HashSet<u64, Spread> = HashSet::default();
        let mut tail = bytes.len() as u64;
        while tail != 0 {
            if tail <= METADATA_SIZE as u64 {
                return None;
            }
            let m = tail - METADATA_SIZE as u64;
            let meta = Metadata::decode_at(bytes, m)?;
            let loc = EntryLocation::derive(bytes, m, meta.prev_offset)?;
            let h = meta.key_hash;
            if loc.tombstone {
                if !index.contains(h) {
                    deleted.insert(h);
                }
            } else if !deleted.contains(&h) {
                if let Entry::Vacant(e) = index.table.entry(spread(h), |s| s.key() == h, |s| spread(s.key())) {
                    e.insert(Slot::new(h, m));
                }
            }
            tail = meta.prev_offset;
        }
        index.table.shrink_to_fit(|s| spread(s.key()));
        Some(index)
    }

    #[inline]
    pub fn get(&self, key_hash: u64) -> Option<u64> {
        self.table.find(spread(key_hash), |s| s.key() == key_hash).map(Slot::offset)
    }

    #[inline]
    pub fn contains(&self, key_hash: u64) -> bool {
        self.get(key_hash).is_some()
    }

    /// Points `key_hash` at the metadata at `meta_offset` (<= [`MAX_OFFSET`]).
    #[inline]
    pub fn insert(&mut self, key_hash: u64, meta_offset: u64) {
        let slot = Slot::new(key_hash, meta_offset);
        match self.table.entry(spread(key_hash), |s| s.key() == key_hash, |s| spread(s.key())) {
            Entry::Occupied(mut e) => *e.get_mut() = slot,
            Entry::Vacant(e) => {
                e.insert(slot);
            }
        }
    }

    /// Makes room for `additional` more keys in one step (a batch's inserts
    /// then never rehash one by one).
    pub fn reserve(&mut self, additional: usize) {
        self.table.reserve(additional, |s| spread(s.key()));
    }

    #[inline]
    pub fn remove(&mut self, key_hash: u64) {
        if let Ok(e) = self.table.find_entry(spread(key_hash), |s| s.key() == key_hash) {
            e.remove();
        }
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.table.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// `(key_hash, meta_offset)` of every live key, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.table.iter().map(|s| (s.key(), s.offset()))
    }

    /// Bytes the table holds (slots and control bytes), for memory reports.
    pub fn allocated_bytes(&self) -> usize {
        self.table.allocation_size()
    }
}

/// Entries of the chain ending at the end of `bytes` (each link must point
/// strictly backwards), or `None` if it does not reach offset 0.
fn chain_len(bytes: &[u8]) -> Option<usize> {
    let mut n = 0usize;
    let mut tail = bytes.len() as u64;
    while tail != 0 {
        let m = tail.checked_sub(METADATA_SIZE as u64).filter(|&m| m > 0)?;
        let prev = Metadata::decode_at(bytes, m)?.prev_offset;
        if prev >= m {
            return None;
        }
        n += 1;
        tail = prev;
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_get_remove_and_large_offsets() {
        let mut ix = KeyIndex::default();
        for k in 0..10_000u64 {
            ix.insert(k, k * 3 + (1 << 40));
        }
        ix.insert(7, MAX_OFFSET);
        assert_eq!(ix.len(), 10_000);
        assert_eq!(ix.get(7), Some(MAX_OFFSET));
        assert_eq!(ix.get(8), Some(8 * 3 + (1 << 40)));
        ix.remove(8);
        assert_eq!(ix.get(8), None);
        assert_eq!(ix.len(), 9_999);
        assert_eq!(ix.iter().count(), 9_999);
    }

    #[test]
    fn build_sized_for_every_entry_keeps_only_live_keys_and_shrinks() {
        // 20,000 entries over 10 keys, every third key deleted at the end:
        // the table is reserved for 20,000 and must come back small.
        let mut file = Vec::new();
        let mut tail = 0;
        for i in 0..20_000u64 {
            tail = crate::format::encode_entry(&mut file, 0, i % 10, &i.to_le_bytes());
        }
        for k in [0u64, 3, 6, 9] {
            tail = crate::format::encode_tombstone(&mut file, 0, k);
        }
        assert_eq!(tail, file.len() as u64);
        let ix = KeyIndex::build_chain(&file).expect("an intact chain");
        assert_eq!(ix.len(), 6);
        for k in [1u64, 2, 4, 5, 7, 8] {
            let m = ix.get(k).expect("live key");
            let last = 19_990 + k;
            let meta = Metadata::decode_at(&file, m).unwrap();
            assert_eq!(meta.key_hash, k);
            assert_eq!(&file[(m - 8) as usize..m as usize], &last.to_le_bytes(), "newest value of key {k}");
        }
        assert!(ix.allocated_bytes() < 1024, "{} bytes for 6 keys", ix.allocated_bytes());
        // A broken link anywhere: no index (open then recovers the file).
        let mut cut = file.clone();
        cut.truncate(file.len() - 1);
        assert!(KeyIndex::build_chain(&cut).is_none());
    }

    #[test]
    fn a_million_keys_fit_in_32_bytes_each() {
        let mut ix = KeyIndex::default();
        for k in 0..1_000_000u64 {
            ix.insert(crate::hash::compute_hash(&k.to_le_bytes()), k * 100);
        }
        ix.table.shrink_to_fit(|s| spread(s.key()));
        let per_key = ix.allocated_bytes() as f64 / 1e6;
        assert!(per_key <= 32.0, "{per_key} bytes per key");
    }
}
