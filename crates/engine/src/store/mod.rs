//! The store: one file, one writer lock, one index, and the current
//! generation of the file (compaction starts a new one). One concern per
//! file, each an `impl Store` block:
//! - [`open`]: opening, recovery and repair at open;
//! - [`commit`]: appending groups of ops and publishing them;
//! - [`parts`]: a batch written in parts from a second thread;
//! - [`writes`]: the writer methods of the Rust crate's trait;
//! - [`read`]: reads through the engine's map;
//! - [`views`]: offsets for a caller reading through its own private view;
//! - [`compact`]: iteration, verification, compaction;
//! - [`stream`]: streamed writes;
//! - [`follow`]: following what other processes commit (see [`crate::shared`]);
//! - [`keys`]: listing recorded keys, and hiding the records (see [`crate::keys`]).
//!
//! Lock order, everywhere: `writer` -> the append lock of every process
//! (shared mode) -> `index` -> `generation`. A read takes
//! one lock, `index` (read), which holds both the key index and the read map
//! the offsets in it point into; so it never waits on a write in progress
//! beyond the index update itself.

mod commit;
mod compact;
mod follow;
mod keys;
mod open;
mod parts;
mod read;
mod stream;
mod views;
mod writes;

pub use open::OpenOptions;
pub use stream::StreamWriter;
pub use views::Located;

use crate::error::{Error, Result};
use crate::generation::Generation;
use crate::index::KeyIndex;
use crate::locks::lock;
use crate::mapping::ReadMap;
use crate::registry;
use crate::salvage;
use crate::shared::Shared;
use crate::writer::Writer;
use std::io;
use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

/// What a read needs, under one lock: the key index and a read map of the
/// current generation. Invariant: every offset in `keys` is of `map`'s
/// generation; `map` may end before the tail (appends do not remap), and is
/// replaced under the write lock, by one covering the tail, when a read
/// needs bytes past its end.
pub(crate) struct Indexed {
    keys: KeyIndex,
    map: Arc<ReadMap>,
}

pub struct Store {
    path: PathBuf,
    durable: bool,
    writer: Mutex<Writer>,
    index: RwLock<Indexed>,
    generation: RwLock<Arc<Generation>>,
    /// Id of `generation`, readable without its lock (changed under the index write lock).
    generation_id: AtomicU64,
    /// The published tail: every byte below it is written and indexed.
    tail: AtomicU64,
    /// The thread running the producer of an [`Store::apply_parts`] (see
    /// `this_thread`), 0 if none: it holds the writer lock, so a write it
    /// attempted would wait on itself forever; it gets an error instead.
    producer: std::sync::atomic::AtomicUsize,
    /// The file was created by this open and its directory entry is not yet
    /// known durable; the next `sync()` fsyncs the directory too.
    dir_unsynced: std::sync::atomic::AtomicBool,
    /// Set when this open rebuilt a damaged file (`OpenOptions::repair`).
    repair_report: Option<salvage::RepairReport>,
    /// The page shared with other processes (the default mode); unset when
    /// opened `exclusive`, or read-only while there is no page to read (such
    /// an engine looks for one now and then: see `follow`).
    shared: std::sync::OnceLock<Shared>,
    /// Reads of a read-only engine without a page, to space out its looks for one.
    page_looks: std::sync::atomic::AtomicU32,
    /// The page's STATE word that `index`, the maps and `tail` reflect
    /// (changed under the index write lock only).
    seen: AtomicU64,
    /// Opened without write access: every write fails with `Error::ReadOnly`.
    read_only: bool,
    /// Opened `exclusive`: no other process has the store open meanwhile.
    exclusive: bool,
    /// Records the bytes of keys written by key (`OpenOptions::keys`, set by
    /// any open of this engine that asks for it; see [`crate::keys`]).
    keys: std::sync::atomic::AtomicBool,
    /// The live key records, kept up to the tail lazily (`store::keys`).
    records: Mutex<Option<keys::Records>>,
}

impl Drop for Store {
    fn drop(&mut self) {
        let me: *const Store = self;
        let w = self.writer.get_mut().unwrap_or_else(|e| e.into_inner());
        let g = self.generation.get_mut().unwrap_or_else(|e| e.into_inner());
        registry::release(me.cast(), &[&w.file, &g.file]);
    }
}

/// The writer, locked for this thread and, with other processes, the
/// append lock of all of them, caught up to their committed tail (see
/// `follow`). Dropping it releases both.
pub(crate) struct WriteGuard<'s> {
    writer: MutexGuard<'s, Writer>,
    shared: Option<&'s Shared>,
}

impl Deref for WriteGuard<'_> {
    type Target = Writer;
    fn deref(&self) -> &Writer {
        &self.writer
    }
}

impl DerefMut for WriteGuard<'_> {
    fn deref_mut(&mut self) -> &mut Writer {
        &mut self.writer
    }
}

impl Drop for WriteGuard<'_> {
    fn drop(&mut self) {
        if let Some(shared) = self.shared {
            shared.end_append();
        }
    }
}

/// Marks the calling thread as the producer of a batch until dropped.
struct Producing<'s>(&'s std::sync::atomic::AtomicUsize);

impl<'s> Producing<'s> {
    fn mark(producer: &'s std::sync::atomic::AtomicUsize) -> Self {
        producer.store(this_thread(), Ordering::Release);
        Producing(producer)
    }
}

impl Drop for Producing<'_> {
    fn drop(&mut self) {
        self.0.store(0, Ordering::Release);
    }
}

/// A number unique to the calling thread while it runs (never 0).
fn this_thread() -> usize {
    thread_local!(static MARK: u8 = const { 0 });
    MARK.with(|m| m as *const u8 as usize)
}

impl Store {
    /// What `repair` did when this open rebuilt a damaged file; `None` if it did not.
    pub fn repair_report(&self) -> Option<&salvage::RepairReport> {
        self.repair_report.as_ref()
    }

    /// Identity of the file this store reads (for the registry).
    pub(crate) fn file_id(&self) -> io::Result<registry::FileId> {
        registry::FileId::of(&crate::locks::read(&self.generation).file, &self.path)
    }

    /// True when writes by key record the key's bytes (`OpenOptions::keys`).
    #[inline]
    pub fn records_keys(&self) -> bool {
        self.keys.load(Ordering::Relaxed)
    }

    /// True when opened read-only.
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// True when other processes may have the file open (the default
    /// mode), false when opened `exclusive`.
    pub fn is_shared(&self) -> bool {
        self.shared.get().is_some() && !self.read_only
    }

    /// Makes the file `ro` (a map and the index of its first `tail` bytes) the
    /// current generation, in the index write lock the caller holds (`ix`):
    /// after a compaction here, or another process's. The old generation's
    /// file lock is released; its maps stay valid for whoever holds them.
    fn install_generation(&self, ix: &mut Indexed, keys: KeyIndex, map: ReadMap, ro: std::fs::File, tail: u64) {
        *ix = Indexed { keys, map: Arc::new(map) };
        let generation = Arc::new(Generation::new(ro));
        let old = std::mem::replace(&mut *crate::locks::write(&self.generation), generation.clone());
        let _ = old.file.unlock();
        self.generation_id.store(generation.id, Ordering::Release);
        self.tail.store(tail, Ordering::Release);
    }

    /// The writer lock, for a write; with other processes, also their
    /// append lock, caught up to what they committed.
    fn writer(&self) -> Result<WriteGuard<'_>> {
        if self.producer.load(Ordering::Acquire) == this_thread() {
            return Err(Error::invalid("cannot write to a store from inside the production of a batch for it"));
        }
        if self.read_only {
            return Err(Error::ReadOnly);
        }
        let writer = lock(&self.writer);
        let Some(shared) = self.shared.get() else {
            return Ok(WriteGuard { writer, shared: None });
        };
        let torn = shared.begin_append().map_err(|e| e.on_path(&self.path))?;
        let mut guard = WriteGuard { writer, shared: Some(shared) };
        self.follow_for_write(&mut guard.writer, shared, torn).map_err(|e| e.on_path(&self.path))?;
        Ok(guard)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Directory of the store file (for temporary spool files).
    pub(crate) fn dir(&self) -> PathBuf {
        self.path.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."))
    }
}
