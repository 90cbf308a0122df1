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

/// Entries walked before the index is sized for the rest of the chain
/// (`size_for_rest`): enough to tell new keys from overwrites, few enough to
/// grow through cheaply.
const SIZING_SAMPLE: usize = 16_384;

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
        let mut deleted: HashSet<u64, Spread> = HashSet::default();
        let mut tail = bytes.len() as u64;
        let mut walked = 0usize;
        while tail != 0 {
            if walked == SIZING_SAMPLE {
                index.size_for_rest(bytes, tail, walked)?;
            }
            if tail <= METADATA_SIZE as u64 {
                return None;
            }
            let m = tail - METADATA_SIZE as u64;
            let meta = Metadata::decode_at(bytes, m)?;
            let loc = EntryLocation::derive(bytes, m, meta.prev_offset)?;
            if !crate::recovery::first_entry_ok(bytes, &loc, &meta) {
                return None;
            }
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
            walked += 1;
            tail = meta.prev_offset;
        }
        index.table.shrink_to_fit(|s| spread(s.key()));
        Some(index)
    }

    /// Brings the index of a chain ending at `from` up to the end of `bytes`
    /// (entries another process appended since): walks the new entries back
    /// from the end to `from`, each link well formed, then applies them
    /// oldest first. Time is linear in the new entries, not in the file.
    /// `None`, and nothing changed, if the chain from the end does not lead
    /// exactly to `from`.
    pub fn apply_appended(&mut self, bytes: &[u8], from: u64) -> Option<()> {
        let found = crate::recovery::appended(bytes, from)?;
        self.reserve(found.len());
        for (h, m, loc) in found {
            if loc.tombstone {
                self.remove(h);
            } else {
                self.insert(h, m);
            }
        }
        Some(())
    }

    /// After the newest `walked` entries, makes room at once for the keys
    /// the rest of the chain (ending at `tail`) will likely add, if those
    /// entries mostly added new keys. Growing step by step rehashes every
    /// key again at each doubling and faults in each larger table's fresh
    /// pages: sized once, an open of 1,000,000 distinct keys takes ~50
    /// instead of ~88 ms (Rust, medians). Counting the rest is a second walk
    /// of the chain, so a store that mostly overwrites few keys skips it
    /// (1,000,000 entries over 1,000 keys: ~16 ms either way). Only speed
    /// depends on the guess: too small grows as before, too large is shrunk
    /// at the end, and a table too large to get is not reserved.
    /// `None` if the rest of the chain is broken.
    fn size_for_rest(&mut self, bytes: &[u8], tail: u64, walked: usize) -> Option<()> {
        if self.len() * 3 < walked {
            return Some(());
        }
        let rest = crate::recovery::chain_len(bytes, tail)?;
        let likely = (rest as u128 * self.len() as u128 / walked as u128) as usize;
        let _ = self.table.try_reserve(likely, |s| spread(s.key()));
        Some(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::PREV_OFFSET_AT;

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

    /// The newest value of each key, from a chain `file` of (key, value).
    fn assert_newest(ix: &KeyIndex, file: &[u8], newest: impl IntoIterator<Item = (u64, u64)>) {
        for (k, v) in newest {
            let m = ix.get(k).unwrap_or_else(|| panic!("key {k} is live"));
            assert_eq!(Metadata::decode_at(file, m).unwrap().key_hash, k);
            assert_eq!(&file[(m - 8) as usize..m as usize], &v.to_le_bytes(), "newest value of key {k}");
        }
    }

    /// A table holding `ix`'s keys, grown one by one and shrunk.
    fn shrunk_size(ix: &KeyIndex) -> usize {
        let mut fresh = KeyIndex::default();
        for (h, m) in ix.iter() {
            fresh.insert(h, m);
        }
        fresh.table.shrink_to_fit(|s| spread(s.key()));
        fresh.allocated_bytes()
    }

    #[test]
    fn build_of_overwrites_and_deletes_keeps_the_newest_live_keys() {
        // 20,000 entries over 10 keys, 4 of them deleted at the end: the
        // sample is mostly overwrites, so the table is not sized for the rest.
        let mut file = Vec::new();
        for i in 0..20_000u64 {
            crate::format::encode_entry(&mut file, 0, i % 10, &i.to_le_bytes());
        }
        for k in [0u64, 3, 6, 9] {
            crate::format::encode_tombstone(&mut file, 0, k);
        }
        let ix = KeyIndex::build_chain(&file).expect("an intact chain");
        assert_eq!(ix.len(), 6);
        assert_newest(&ix, &file, [1u64, 2, 4, 5, 7, 8].map(|k| (k, 19_990 + k)));
        assert!(ix.get(3).is_none());
        assert_eq!(ix.allocated_bytes(), shrunk_size(&ix));
    }

    #[test]
    fn build_sized_from_a_sample_of_new_keys_shrinks_when_older_entries_overwrite() {
        // Oldest: 30,000 entries over 10 keys. Newest: one entry for each of
        // 16,484 distinct keys. The sample (all new keys) sizes the table for
        // 30,000 more; the older entries add only 10, so it must shrink.
        const OLD: u64 = 1 << 40;
        let mut file = Vec::new();
        for i in 0..30_000u64 {
            crate::format::encode_entry(&mut file, 0, OLD + i % 10, &i.to_le_bytes());
        }
        let recent = SIZING_SAMPLE as u64 + 100;
        for k in 0..recent {
            crate::format::encode_entry(&mut file, 0, k, &(k * 7).to_le_bytes());
        }
        let ix = KeyIndex::build_chain(&file).expect("an intact chain");
        assert_eq!(ix.len() as u64, recent + 10);
        assert_newest(
            &ix,
            &file,
            (0..10).map(|k| (OLD + k, 29_990 + k)).chain((0..recent).step_by(97).map(|k| (k, k * 7))),
        );
        assert_eq!(ix.allocated_bytes(), shrunk_size(&ix));

        // A broken link among the older entries (past the sample): no index.
        let mut broken = file.clone();
        let m = 5 * 64 + 8; // the 6th entry's metadata: each 8-byte payload starts a 64-byte slot
        let meta = Metadata::decode_at(&broken, m as u64).expect("6th entry's metadata");
        assert_eq!(meta.key_hash, OLD + 5);
        broken[m + PREV_OFFSET_AT..m + PREV_OFFSET_AT + 8].copy_from_slice(&(m as u64 + 1).to_le_bytes());
        assert!(KeyIndex::build_chain(&broken).is_none());
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
