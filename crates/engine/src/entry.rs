//! A read entry: its metadata and a view of its payload in a [`ReadMap`].
//! Holding one keeps its map alive, so it stays readable after later writes,
//! compaction and close.

use crate::format::{checksum, EntryLocation, Metadata, METADATA_SIZE};
use crate::mapping::ReadMap;
use std::sync::Arc;

#[derive(Clone)]
pub struct EntryHandle {
    pub(crate) map: Arc<ReadMap>,
    pub(crate) loc: EntryLocation,
    pub(crate) meta: Metadata,
}

impl EntryHandle {
    /// The entry whose metadata sits at `meta_offset` of `map`, if well formed.
    pub(crate) fn at(map: Arc<ReadMap>, meta_offset: u64) -> Option<EntryHandle> {
        let meta = Metadata::decode_at(map.bytes(), meta_offset)?;
        let loc = EntryLocation::of_indexed(map.bytes(), meta_offset, meta.prev_offset)?;
        Some(EntryHandle { map, loc, meta })
    }

    #[inline]
    pub fn payload(&self) -> &[u8] {
        &self.map.bytes()[self.loc.range()]
    }
    #[inline]
    pub fn key_hash(&self) -> u64 {
        self.meta.key_hash
    }
    #[inline]
    pub fn size(&self) -> u64 {
        self.loc.end - self.loc.start
    }
    /// Payload plus metadata (the pre-pad is not counted, as in the crate).
    #[inline]
    pub fn file_size(&self) -> u64 {
        self.size() + METADATA_SIZE as u64
    }
    #[inline]
    pub fn checksum(&self) -> u32 {
        self.meta.checksum
    }
    #[inline]
    pub fn start_offset(&self) -> u64 {
        self.loc.start
    }
    #[inline]
    pub fn end_offset(&self) -> u64 {
        self.loc.end
    }
    #[inline]
    pub fn metadata(&self) -> Metadata {
        self.meta
    }
    #[inline]
    pub fn is_tombstone(&self) -> bool {
        self.loc.tombstone
    }
    pub fn is_valid_checksum(&self) -> bool {
        checksum(self.payload()) == self.meta.checksum
    }
}
