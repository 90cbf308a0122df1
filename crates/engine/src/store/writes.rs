//! The writer methods of the Rust crate's `DataStoreWriter` trait, each one
//! batch of ops (see [`super::commit`]).

use super::Store;
use crate::error::{Error, Result};
use crate::hash::compute_hash;
use crate::ops::Op;
use crate::platform;
use std::sync::atomic::Ordering;

impl Store {
    pub fn write(&self, key: &[u8], payload: &[u8]) -> Result<u64> {
        self.apply(&[Op::KeyedPut(compute_hash(key), key, payload)], false)
    }

    pub fn write_with_key_hash(&self, key_hash: u64, payload: &[u8]) -> Result<u64> {
        self.apply(&[Op::Put(key_hash, payload)], false)
    }

    pub fn batch_write(&self, entries: &[(&[u8], &[u8])]) -> Result<u64> {
        let ops: Vec<Op> = entries.iter().map(|&(k, p)| Op::KeyedPut(compute_hash(k), k, p)).collect();
        self.apply(&ops, false)
    }

    pub fn batch_write_with_key_hashes(&self, entries: &[(u64, &[u8])], allow_null: bool) -> Result<u64> {
        let ops: Vec<Op> = entries.iter().map(|&(h, p)| Op::Put(h, p)).collect();
        self.apply(&ops, allow_null)
    }

    pub fn delete(&self, key: &[u8]) -> Result<u64> {
        self.batch_delete_key_hashes(&[compute_hash(key)])
    }

    pub fn batch_delete(&self, keys: &[&[u8]]) -> Result<u64> {
        let hashes: Vec<u64> = keys.iter().map(|k| compute_hash(k)).collect();
        self.batch_delete_key_hashes(&hashes)
    }

    /// Writes tombstones for the keys that are live; absent keys write nothing.
    pub fn batch_delete_key_hashes(&self, hashes: &[u64]) -> Result<u64> {
        let ops: Vec<Op> = hashes.iter().map(|&h| Op::Delete(h)).collect();
        self.apply(&ops, false)
    }

    /// Writes `new_key` with `old_key`'s payload and a tombstone for `old_key`,
    /// in one append (a crash keeps both or neither).
    pub fn rename(&self, old_key: &[u8], new_key: &[u8]) -> Result<u64> {
        if self.read_only {
            return Err(Error::ReadOnly);
        }
        if old_key == new_key {
            return Err(Error::invalid("cannot rename a key to itself"));
        }
        let old = compute_hash(old_key);
        let entry = self.read_with_key_hash(old)?.ok_or(Error::KeyNotFound { key_hash: old })?;
        self.apply(&[Op::KeyedPut(compute_hash(new_key), new_key, entry.payload()), Op::Delete(old)], false)
    }

    /// Copies the live entry of `key` into `target`; returns the target's tail.
    pub fn copy(&self, key: &[u8], target: &Store) -> Result<u64> {
        if std::ptr::eq(self, target) {
            return Err(Error::invalid("cannot copy an entry into the same store; use rename"));
        }
        let entry = self.read(key)?.ok_or(Error::KeyNotFound { key_hash: compute_hash(key) })?;
        target.apply(&[Op::KeyedPut(entry.key_hash(), key, entry.payload())], false)
    }

    /// Copies then deletes; returns this store's tail after the tombstone.
    /// A read-only store refuses before copying anything.
    pub fn transfer(&self, key: &[u8], target: &Store) -> Result<u64> {
        if self.read_only {
            return Err(Error::ReadOnly);
        }
        self.copy(key, target)?;
        self.delete(key)
    }

    /// fsync of the file's data (and of its directory, once, if this open
    /// created the file): everything written so far survives power loss.
    pub fn sync(&self) -> Result<()> {
        let w = self.writer()?;
        w.sync().map_err(|e| e.on_path(&self.path))?;
        if self.dir_unsynced.swap(false, Ordering::AcqRel) {
            platform::sync_dir(&self.path);
        }
        Ok(())
    }
}
