//! Iteration of live entries, newest first: a backward walk of the chain
//! from a snapshot tail. A loop, not recursion, so a million overwrites of
//! one key cannot overflow a stack.

use crate::entry::EntryHandle;
use crate::format::{EntryLocation, Metadata, METADATA_SIZE};
use crate::index::SpreadHasher;
use crate::mapping::ReadMap;
use hashbrown::HashSet;
use std::hash::BuildHasherDefault;
use std::sync::Arc;

pub struct EntryIter {
    map: Arc<ReadMap>,
    cursor: u64,
    generation: u64,
    seen: HashSet<u64, BuildHasherDefault<SpreadHasher>>,
}

impl EntryIter {
    pub(crate) fn new(map: Arc<ReadMap>, tail: u64, generation: u64) -> EntryIter {
        EntryIter { map, cursor: tail, generation, seen: HashSet::default() }
    }

    /// The generation this snapshot belongs to (see `Store::view_of`).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The tail this snapshot started from.
    pub fn map_len(&self) -> u64 {
        self.map.len()
    }

    /// The next live entry's metadata offset (the cheap form of `next`).
    pub fn next_offset(&mut self) -> Option<u64> {
        let bytes = self.map.bytes();
        while self.cursor > METADATA_SIZE as u64 {
            let m = self.cursor - METADATA_SIZE as u64;
            let meta = Metadata::decode_at(bytes, m)?;
            let loc = EntryLocation::derive(bytes, m, meta.prev_offset)?;
            self.cursor = meta.prev_offset;
            if self.seen.insert(meta.key_hash) && !loc.tombstone {
                return Some(m);
            }
        }
        None
    }
}

impl Iterator for EntryIter {
    type Item = EntryHandle;

    fn next(&mut self) -> Option<EntryHandle> {
        let m = self.next_offset()?;
        EntryHandle::at(self.map.clone(), m)
    }
}
