//! Iteration of live entries, newest first: a backward walk of the chain
//! from a snapshot tail. A loop, not recursion, so a million overwrites of
//! one key cannot overflow a stack.

use crate::entry::EntryHandle;
use crate::format::{EntryLocation, Metadata, METADATA_SIZE};
use crate::generation::Generation;
use crate::index::SpreadHasher;
use crate::mapping::{ReadMap, ViewMap};
use hashbrown::HashSet;
use std::hash::BuildHasherDefault;
use std::sync::Arc;

pub struct EntryIter {
    map: Arc<ReadMap>,
    cursor: u64,
    generation: Arc<Generation>,
    seen: HashSet<u64, BuildHasherDefault<SpreadHasher>>,
    /// Skip key records (a store that records keys: see [`crate::keys`]).
    hide_records: bool,
}

impl EntryIter {
    pub(crate) fn new(map: Arc<ReadMap>, tail: u64, generation: Arc<Generation>, hide_records: bool) -> EntryIter {
        EntryIter { map, cursor: tail, generation, seen: HashSet::default(), hide_records }
    }

    /// A private view of this snapshot's file generation covering every
    /// offset the iterator yields (also after a compaction swapped files).
    pub fn view(&self) -> std::io::Result<Arc<ViewMap>> {
        let len = self.map.len();
        self.generation.view_map(len, len)
    }

    /// Maps in the pages of this snapshot's view (see `view`) that hold the
    /// metadata at `offsets`, so a thread making handles of them next (the
    /// JS thread) reads them without page faults. Best effort.
    pub fn populate_view(&self, offsets: &[u64]) {
        if let Ok(view) = self.view() {
            for &m in offsets {
                view.populate(m, METADATA_SIZE as u64);
            }
        }
    }

    /// The next live entry's metadata offset (the cheap form of `next`).
    pub fn next_offset(&mut self) -> Option<u64> {
        let bytes = self.map.bytes();
        while self.cursor > METADATA_SIZE as u64 {
            let m = self.cursor - METADATA_SIZE as u64;
            let meta = Metadata::decode_at(bytes, m)?;
            let loc = EntryLocation::of_indexed(bytes, m, meta.prev_offset)?;
            self.cursor = meta.prev_offset;
            if self.seen.insert(meta.key_hash)
                && !loc.tombstone
                && !(self.hide_records && crate::keys::record_key(meta.key_hash, &bytes[loc.range()]).is_some())
            {
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
