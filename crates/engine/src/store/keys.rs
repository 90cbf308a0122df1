//! Listing the keys a store recorded (see [`crate::keys`]), and keeping
//! the records out of what counts keys: `len` and iteration. The set of
//! live record hashes is built on first use and then kept up to the tail
//! lazily, by walking the entries appended since (by this process or
//! others), so writes pay nothing for it.

use super::{Indexed, Store};
use crate::error::Result;
use crate::format::{EntryLocation, Metadata, METADATA_SIZE};
use crate::hash::compute_hash;
use crate::index::{KeyIndex, SpreadHasher};
use crate::keys::{record_hash, record_key};
use crate::locks::lock;
use crate::mapping::ReadMap;
use hashbrown::HashSet;
use std::hash::BuildHasherDefault;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::sync::RwLockReadGuard;

/// The live records of a snapshot: their hashes, as of tail `upto` of
/// file generation `generation`.
pub(crate) struct Records {
    set: HashSet<u64, BuildHasherDefault<SpreadHasher>>,
    upto: u64,
    generation: u64,
}

impl Records {
    /// Every live entry of `keys` that is a record (reads each one's payload start).
    fn build(keys: &KeyIndex, map: &ReadMap, tail: u64, generation: u64) -> Records {
        let bytes = map.bytes();
        let set = keys
            .iter()
            .filter(|&(h, m)| payload_at(bytes, m).is_some_and(|p| record_key(h, p).is_some()))
            .map(|(h, _)| h)
            .collect();
        Records { set, upto: tail, generation }
    }

    /// Brings the set from `upto` to the end of `bytes` (entries appended
    /// since, applied oldest first). False if their chain does not lead
    /// back to `upto` (the caller builds the set again).
    fn advance(&mut self, bytes: &[u8]) -> bool {
        let Some(found) = crate::recovery::appended(bytes, self.upto) else {
            return false;
        };
        for (h, _, loc) in found {
            if !loc.tombstone && record_key(h, &bytes[loc.range()]).is_some() {
                self.set.insert(h);
            } else {
                self.set.remove(&h);
            }
        }
        self.upto = bytes.len() as u64;
        true
    }
}

/// The payload of the entry whose metadata is at `m` of a chain already accepted.
fn payload_at(bytes: &[u8], m: u64) -> Option<&[u8]> {
    let meta = Metadata::decode_at(bytes, m)?;
    let loc = EntryLocation::of_indexed(bytes, m, meta.prev_offset)?;
    (!loc.tombstone).then(|| &bytes[loc.range()])
}

impl Store {
    /// True when the live entry of `h`, whose metadata is at `m` of `map`,
    /// is a key record of a store that records keys: reads show it as
    /// absent. An entry past the end of `map` (appended since it was made)
    /// is shown.
    #[inline]
    pub(super) fn is_hidden(&self, map: &ReadMap, h: u64, m: u64) -> bool {
        self.records_keys() && payload_at(map.bytes(), m).is_some_and(|p| record_key(h, p).is_some())
    }

    /// `is_hidden` for a caller holding the index read lock `ix`, which it
    /// gives up: when `m` lies past `ix`'s map, the check maps the tail anew.
    pub(super) fn is_hidden_under(&self, ix: RwLockReadGuard<'_, Indexed>, h: u64, m: u64) -> bool {
        if !self.records_keys() {
            return false;
        }
        if m + METADATA_SIZE as u64 <= ix.map.len() {
            return self.is_hidden(&ix.map, h, m);
        }
        drop(ix);
        self.with_index(|_, map, _| self.is_hidden(map, h, m)).unwrap_or(false)
    }

    /// Whether `h` is live: `None` if not, `Some(true)` for a live key
    /// record (a store that records keys), `Some(false)` for any other entry.
    pub(super) fn live_record(&self, h: u64) -> Option<bool> {
        let ix = crate::locks::read(&self.index);
        let m = ix.keys.get(h)?;
        Some(self.is_hidden_under(ix, h, m))
    }

    /// Runs `f` on the index, a map and tail of one moment, and the live
    /// records as of that tail.
    fn with_records<R>(&self, f: impl FnOnce(&KeyIndex, &Arc<ReadMap>, u64, &Records) -> R) -> Result<R> {
        self.with_index(|keys, map, tail| {
            let generation = self.generation_id.load(Ordering::Acquire);
            let mut slot = lock(&self.records);
            let fresh = match slot.as_mut() {
                Some(r) if r.generation == generation && r.upto <= tail => r.advance(&map.bytes()[..tail as usize]),
                _ => false,
            };
            if !fresh {
                *slot = Some(Records::build(keys, map, tail, generation));
            }
            let records = slot.as_ref().expect("set just above");
            f(keys, map, tail, records)
        })
    }

    /// Live keys, not counting key records (when keys are recorded).
    pub(super) fn user_len(&self) -> Result<usize> {
        self.with_records(|keys, _, _, records| keys.len() - records.set.len())
    }

    /// The recorded keys that are live, oldest record first, those starting
    /// with `prefix` only. A key written by hash alone, or while keys were
    /// not recorded, is not among them.
    pub fn keys(&self, prefix: &[u8]) -> Result<Vec<Vec<u8>>> {
        self.with_records(|keys, map, _, records| {
            let bytes = map.bytes();
            let mut found: Vec<(u64, &[u8])> = records
                .set
                .iter()
                .filter_map(|&r| {
                    let m = keys.get(r)?;
                    let key = record_key(r, payload_at(bytes, m)?)?;
                    (key.starts_with(prefix) && keys.contains(compute_hash(key))).then_some((m, key))
                })
                .collect();
            found.sort_unstable_by_key(|&(m, _)| m);
            found.into_iter().map(|(_, k)| k.to_vec()).collect()
        })
    }

    /// The recorded key of a live key hash, if it was recorded.
    pub fn key_of(&self, key_hash: u64) -> Result<Option<Vec<u8>>> {
        let r = record_hash(key_hash);
        self.with_index(|keys, map, _| {
            let m = keys.get(r)?;
            let key = record_key(r, payload_at(map.bytes(), m)?)?;
            (keys.contains(key_hash) && compute_hash(key) == key_hash).then(|| key.to_vec())
        })
    }
}
