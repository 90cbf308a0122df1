//! Reads through the engine's read map: by key or key hash, in batches, the
//! last entry, and the counts.

use super::Store;
use crate::entry::EntryHandle;
use crate::error::{Error, Result};
use crate::format::METADATA_SIZE;
use crate::hash::compute_hash;
use crate::index::KeyIndex;
use crate::locks::{read, write};
use crate::mapping::ReadMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

impl Store {
    pub fn read(&self, key: &[u8]) -> Result<Option<EntryHandle>> {
        self.read_with_key_hash(compute_hash(key))
    }

    pub fn read_with_key_hash(&self, key_hash: u64) -> Result<Option<EntryHandle>> {
        self.follow();
        {
            let ix = read(&self.index);
            let Some(m) = ix.keys.get(key_hash) else {
                return Ok(None);
            };
            if m + METADATA_SIZE as u64 <= ix.map.len() {
                return Ok(EntryHandle::at(ix.map.clone(), m).filter(|_| !self.is_hidden(&ix.map, key_hash, m)));
            }
        }
        // The entry was appended after the map was made (rare: once per
        // read after a write).
        self.with_index(|keys, map, _| {
            keys.get(key_hash)
                .filter(|&m| !self.is_hidden(map, key_hash, m))
                .and_then(|m| EntryHandle::at(map.clone(), m))
        })
    }

    pub fn exists(&self, key: &[u8]) -> bool {
        self.exists_with_key_hash(compute_hash(key))
    }

    pub fn exists_with_key_hash(&self, key_hash: u64) -> bool {
        self.follow();
        self.live_record(key_hash) == Some(false)
    }

    /// Reads `hashes`; when `keys` are given each must hash to its hash
    /// (`ERR_HASH_COLLISION` otherwise) and they must be as many.
    pub fn batch_read_hashed_keys(&self, hashes: &[u64], keys: Option<&[&[u8]]>) -> Result<Vec<Option<EntryHandle>>> {
        if let Some(keys) = keys {
            if keys.len() != hashes.len() {
                return Err(Error::invalid("keys and hashes differ in length"));
            }
            for (k, &h) in keys.iter().zip(hashes) {
                if compute_hash(k) != h {
                    return Err(Error::HashCollision(format!("key of {} bytes does not hash to {h:#018x}", k.len())));
                }
            }
        }
        self.with_index(|keys, map, _| {
            hashes
                .iter()
                .map(|&h| {
                    keys.get(h).filter(|&m| !self.is_hidden(map, h, m)).and_then(|m| EntryHandle::at(map.clone(), m))
                })
                .collect()
        })
    }

    pub fn batch_read(&self, keys: &[&[u8]]) -> Result<Vec<Option<EntryHandle>>> {
        let hashes: Vec<u64> = keys.iter().map(|k| compute_hash(k)).collect();
        self.batch_read_hashed_keys(&hashes, None)
    }

    /// The last entry written, or `None` if the store is empty or it is a tombstone.
    pub fn read_last_entry(&self) -> Result<Option<EntryHandle>> {
        self.with_index(|_, map, tail| {
            let m = tail.checked_sub(METADATA_SIZE as u64)?;
            EntryHandle::at(map.clone(), m).filter(|e| !e.is_tombstone())
        })
    }

    /// Live keys (key records not counted: see [`crate::keys`]).
    pub fn len(&self) -> usize {
        if self.records_keys() {
            if let Ok(n) = self.user_len() {
                return n;
            }
        }
        self.follow();
        read(&self.index).keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The tail: the end of the last entry, whatever the OS length.
    pub fn file_size(&self) -> u64 {
        self.follow();
        self.tail.load(Ordering::Acquire)
    }

    /// Runs `f` on the index, a read map covering the tail, and the tail, all
    /// of one moment. Remaps (under the write lock) if the map is short.
    pub(super) fn with_index<R>(&self, f: impl FnOnce(&KeyIndex, &Arc<ReadMap>, u64) -> R) -> Result<R> {
        self.follow();
        {
            let ix = read(&self.index);
            let tail = self.tail.load(Ordering::Acquire);
            if ix.map.len() >= tail {
                return Ok(f(&ix.keys, &ix.map, tail));
            }
        }
        let mut ix = write(&self.index);
        let tail = self.tail.load(Ordering::Acquire);
        if ix.map.len() < tail {
            ix.map = self.map_to(&ix.map, tail)?;
        }
        Ok(f(&ix.keys, &ix.map, tail))
    }
}
