//! Whole-file work: iteration of live entries, verification of every
//! checksum, and compaction into a new generation.

use super::Store;
use crate::entry::EntryHandle;
use crate::error::{Call, Error, IoContext, Result};
use crate::format;
use crate::index::KeyIndex;
use crate::locks::{read, write};
use crate::mapping::ReadMap;
use crate::platform;
use crate::registry;
use crate::salvage;
use crate::shared::page::State;
use crate::writer::Writer;
use std::fs::{File, OpenOptions as FsOpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;

impl Store {
    /// Live entries, newest first, as of now (a snapshot); key records are
    /// not among them (see [`crate::keys`]).
    pub fn iter(&self) -> Result<crate::iter::EntryIter> {
        self.iter_of(self.records_keys())
    }

    /// Live entries, key records included (what compaction copies).
    fn iter_of(&self, hide_records: bool) -> Result<crate::iter::EntryIter> {
        self.with_index(|_, map, tail| {
            crate::iter::EntryIter::new(map.clone(), tail, read(&self.generation).clone(), hide_records)
        })
    }

    /// Bytes `compact()` would reclaim: the tail minus the exact size of the
    /// compacted file (live entries laid out oldest first, with their pads).
    /// The crate counts payload+metadata only, which overstates savings by
    /// the pads a compacted file still needs; we report what compaction frees.
    pub fn estimate_compaction_savings(&self) -> Result<u64> {
        let tail = self.file_size();
        let mut sizes: Vec<u64> = self.iter_of(false)?.map(|e| e.file_size()).collect();
        sizes.reverse();
        let compacted = sizes.into_iter().fold(0u64, |t, size| t + format::pad_len(t) + size);
        Ok(tail.saturating_sub(compacted))
    }

    /// Checks the checksum of every entry of the file, live or superseded
    /// (a damaged link can hide entries behind a superseded one: see
    /// `salvage::bad_entries`). Returns the bad ones, `(key hash, metadata
    /// offset)`, in file order.
    pub fn verify(&self) -> Result<Vec<(u64, u64)>> {
        let (map, tail) = self.with_index(|_, map, tail| (map.clone(), tail))?;
        Ok(salvage::bad_entries(&map.bytes()[..tail as usize]))
    }

    /// Rewrites the live entries into a new file and swaps it in; refuses
    /// (`ChecksumMismatch`, nothing changed) if a live payload fails its
    /// checksum, since the copy would carry a fresh one. Handles and
    /// views taken before keep the old generation's maps (the old file stays
    /// mapped until they are gone; it is never truncated).
    pub fn compact(self: &Arc<Self>) -> Result<()> {
        let mut w = self.writer()?;
        // Other processes keep reading the old file, and wait for the
        // append lock (held here) to write, while the page says `changing`.
        let before = self.shared.get().map(|shared| {
            let state = shared.state();
            shared.publish(State { changing: true, ..state });
            state
        });
        let restore = || {
            if let (Some(shared), Some(state)) = (self.shared.get(), before) {
                shared.publish(state);
            }
        };
        let tmp_path = compact_path(&self.path);
        let result = (|| -> Result<(File, u64)> {
            let mut tmp = FsOpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(true)
                .open(&tmp_path)
                .at(Call::Open, &tmp_path)?;
            // Locked before it takes the store's name, in this open's mode.
            if self.shared.get().is_some() {
                super::open::lock_shared(&tmp)?;
            } else {
                super::open::lock_file(&tmp)?;
            }
            let mut buf = Vec::with_capacity(8 << 20);
            let mut pos = 0u64; // file offset of buf[0]
            let mut tail = 0u64;
            // Live entries in file order (oldest first): compaction is idempotent
            // and the last entry written stays the last entry.
            let mut live: Vec<EntryHandle> = self.iter_of(false)?.collect();
            live.reverse();
            for entry in live {
                // A payload that fails its checksum would get a fresh, valid
                // one here, and its damage could never be found again.
                if !entry.is_valid_checksum() {
                    return Err(Error::ChecksumMismatch { key_hash: entry.key_hash(), offset: entry.end_offset() });
                }
                tail = format::encode_entry(&mut buf, pos, entry.key_hash(), entry.payload());
                if buf.len() >= 8 << 20 {
                    tmp.write_all(&buf).at(Call::Write, &tmp_path)?;
                    pos += buf.len() as u64;
                    buf.clear();
                }
            }
            tmp.write_all(&buf).at(Call::Write, &tmp_path)?;
            tmp.sync_all().at(Call::Fsync, &tmp_path)?;
            Ok((tmp, tail))
        })();
        let (tmp, tail) = match result {
            Ok(v) => v,
            Err(e) => {
                let _ = std::fs::remove_file(&tmp_path);
                restore();
                return Err(e);
            }
        };
        let old_id = registry::FileId::of(&w.file, &self.path)?;
        let new_id = registry::FileId::of(&tmp, &self.path)?;
        let identity = super::open::identity_of(&tmp, &tmp_path)?;
        if let Err(e) = registry::rename_over(self, &tmp_path, &self.path, &old_id, new_id) {
            let _ = std::fs::remove_file(&tmp_path);
            restore();
            return Err(e).at(Call::Rename, &self.path);
        }
        platform::sync_dir(&self.path);
        // From here the compacted file is the store: other processes are
        // told so even if this process fails to map it.
        let generation_word = before.map(|state| State { tail, generation: state.next_generation(), changing: false });
        let announce = || match (self.shared.get(), generation_word) {
            (Some(shared), Some(state)) => {
                shared.set_identity(identity);
                shared.publish(state)
            }
            _ => 0,
        };
        let swapped = (|| -> Result<()> {
            let ro = File::open(&self.path).at(Call::Open, &self.path)?;
            if self.shared.get().is_some() {
                super::open::lock_shared(&ro).map_err(|e| e.on_path(&self.path))?;
            }
            let map = ReadMap::with_room(&ro, tail).at(Call::Map, &self.path)?;
            let new_index = KeyIndex::build(map.bytes());
            // The old file (unlinked now) goes with the old writer.
            *w = Writer::new(tmp, tail);
            let mut index = write(&self.index);
            self.install_generation(&mut index, new_index, map, ro, tail);
            if let Some(state) = generation_word {
                w.generation = state.generation;
                self.seen.store(announce(), Ordering::Release);
            }
            Ok(())
        })();
        if swapped.is_err() {
            // Others move to the new file; this engine follows it on its next read.
            announce();
        }
        swapped
    }
}

fn compact_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".compact");
    path.with_file_name(name)
}
