//! Offsets for a caller that reads through a private view of its own (the
//! Node binding hands one to JavaScript): where a key's entry is in the
//! caller's view, or that the view is stale and must be fetched again.

use super::Store;
use crate::entry::EntryHandle;
use crate::error::Result;
use crate::format::METADATA_SIZE;
use crate::locks::read;
use crate::mapping::ViewMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Where a key's live entry is, for a caller reading through its own view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Located {
    /// Metadata offset of the entry (inside the caller's view).
    At(u64),
    Absent,
    /// The caller's view is of an older file generation or too short: it must
    /// fetch [`Store::view`] and ask again.
    StaleView,
}

impl Store {
    /// The metadata offset of `key_hash`'s live entry, checked against the
    /// caller's view (of file generation `generation`, `view_len` bytes long).
    pub fn locate(&self, key_hash: u64, generation: u64, view_len: u64) -> Located {
        self.follow();
        let index = read(&self.index);
        let Some(m) = index.keys.get(key_hash) else {
            return Located::Absent;
        };
        if m + METADATA_SIZE as u64 > view_len || self.generation_id.load(Ordering::Acquire) != generation {
            return Located::StaleView;
        }
        if self.is_hidden_under(index, key_hash, m) {
            return Located::Absent;
        }
        Located::At(m)
    }

    /// Metadata offset of the last entry if it is not a tombstone, checked as in `locate`.
    pub fn locate_last(&self, generation: u64, view_len: u64) -> Result<Located> {
        self.with_index(|_, map, tail| {
            if tail == 0 {
                return Located::Absent;
            }
            if tail > view_len || self.generation_id.load(Ordering::Acquire) != generation {
                return Located::StaleView;
            }
            let last = EntryHandle::at(map.clone(), tail - METADATA_SIZE as u64).filter(|e| !e.is_tombstone());
            last.map_or(Located::Absent, |e| Located::At(e.end_offset()))
        })
    }

    /// A private, writable view of the current generation covering the tail,
    /// and that generation's id.
    pub fn view(&self) -> Result<(Arc<ViewMap>, u64)> {
        self.follow();
        let _index = read(&self.index);
        let generation = read(&self.generation).clone();
        let tail = self.tail.load(Ordering::Acquire);
        Ok((generation.view_map(tail, tail)?, generation.id))
    }
}
