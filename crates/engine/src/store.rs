//! The store: one file, one writer lock, one index, and the current
//! generation of the file (compaction starts a new one).
//!
//! Lock order, everywhere: `writer` -> `index` -> `generation`. A read takes
//! one lock, `index` (read), which holds both the key index and the read map
//! the offsets in it point into; so it never waits on a write in progress
//! beyond the index update itself.

use crate::batch::{self, Encoder};
use crate::entry::EntryHandle;
use crate::error::{Call, Error, IoContext, Result};
use crate::format::{self, Metadata, METADATA_SIZE, TOMBSTONE};
use crate::hash::compute_hash;
use crate::index::KeyIndex;
use crate::mapping::{ReadMap, ViewMap};
use crate::recovery;
use crate::registry;
use crate::salvage;
use crate::writer::Writer;
use std::borrow::Cow;
use std::fs::{File, OpenOptions as FsOpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Parts of a batch given to [`Store::apply_parts`] that may wait, converted,
/// for the writer thread (bounds the memory the producer runs ahead by).
const PARTS_IN_FLIGHT: usize = 4;

#[derive(Debug, Clone, Copy, Default)]
pub struct OpenOptions {
    /// Create the file if it is missing (`DataStore.open`); `false` for `openExisting`.
    pub create: bool,
    /// Rebuild a damaged file (see [`crate::salvage`]) instead of failing
    /// with `CorruptStore` or `NotAStore`: the valid prefix and every proven
    /// entry past it are kept, the damaged file is kept as a backup.
    pub repair: bool,
    /// fsync after every write or batch before it returns.
    pub durable: bool,
}

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

/// One write operation of a batch.
#[derive(Clone, Copy)]
pub enum Op<'a> {
    /// Write a payload for a key hash (`[0x00]` is a tombstone, if allowed).
    Put(u64, &'a [u8]),
    /// Write a tombstone if the key is live at that point; nothing otherwise.
    Delete(u64),
}

/// One group of [`Store::apply_groups`]: its ops end at `end` (they start
/// where the previous group's end); `allow_null` as in [`Store::apply`].
#[derive(Debug, Clone, Copy)]
pub struct Group {
    pub end: usize,
    pub allow_null: bool,
}

/// What [`Store::apply_groups`] did: per group, the tail after it (for a
/// failed or empty group, the tail at its place in the sequence), and the
/// groups that failed, in group order, with their errors.
#[derive(Debug)]
pub struct Applied {
    pub tails: Vec<u64>,
    pub failed: Vec<(usize, Error)>,
}

/// What the producer of a batch in parts hands over next ([`Store::apply_parts`]).
pub enum Part<'a> {
    /// The next puts of the batch.
    Puts(Vec<Op<'a>>),
    /// The batch is complete.
    End,
    /// The producer failed: nothing of the batch may be written.
    Abort,
}

/// A live generation of the file: the handle maps are made from, and the
/// current private view. Compaction replaces the whole generation.
pub(crate) struct Generation {
    pub(crate) id: u64,
    /// Opened read-only and never locked, so maps made from it keep no lock alive.
    file: File,
    view: Mutex<Arc<ViewMap>>,
}

/// What a read needs, under one lock: the key index and a read map of the
/// current generation. Invariant: every offset in `keys` is of `map`'s
/// generation; `map` may end before the tail (appends do not remap), and is
/// replaced under the write lock, by one covering the tail, when a read
/// needs bytes past its end.
pub(crate) struct Indexed {
    keys: KeyIndex,
    map: Arc<ReadMap>,
}

static NEXT_GENERATION: AtomicU64 = AtomicU64::new(1);

impl Generation {
    fn new(file: File) -> Generation {
        Generation {
            id: NEXT_GENERATION.fetch_add(1, Ordering::Relaxed),
            file,
            view: Mutex::new(Arc::new(ViewMap::new_empty())),
        }
    }

    /// A private view covering at least `need` bytes (a new one of `tail` bytes if not).
    pub(crate) fn view_map(&self, need: u64, tail: u64) -> io::Result<Arc<ViewMap>> {
        let mut cur = lock(&self.view);
        if cur.len() < need {
            *cur = Arc::new(ViewMap::new(&self.file, tail)?);
        }
        Ok(cur.clone())
    }
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
}

impl Drop for Store {
    fn drop(&mut self) {
        let me: *const Store = self;
        let w = self.writer.get_mut().unwrap_or_else(|e| e.into_inner());
        registry::release(me, &w.file, &self.path);
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

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
pub(crate) fn read<T>(m: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    m.read().unwrap_or_else(|e| e.into_inner())
}
pub(crate) fn write<T>(m: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    m.write().unwrap_or_else(|e| e.into_inner())
}

/// The canonical form of a path (the file may not exist yet).
fn canonical(path: &Path) -> io::Result<PathBuf> {
    match path.canonicalize() {
        Ok(p) => Ok(p),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let name = path.file_name().ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
            let parent = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.canonicalize()?,
                _ => std::env::current_dir()?,
            };
            Ok(parent.join(name))
        }
        Err(e) => Err(e),
    }
}

/// Takes the advisory exclusive lock that keeps a second process out.
fn lock_file(file: &File) -> Result<()> {
    match file.try_lock() {
        Ok(()) => Ok(()),
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::StoreLocked),
        Err(std::fs::TryLockError::Error(e)) => Err(e).during(Call::Lock),
    }
}

impl Store {
    /// Opens (or shares, if this process has it open already) the store at `path`.
    pub fn open(path: impl AsRef<Path>, opts: OpenOptions) -> Result<Arc<Store>> {
        let path = path.as_ref();
        if !opts.create && !path.exists() {
            return Err(Error::io(io::ErrorKind::NotFound.into(), Call::Open, path));
        }
        let shown = path;
        // Reported as the open it is part of (a missing folder: ENOENT, open).
        let path = canonical(path).at(Call::Open, shown)?;
        let existed = path.exists();
        let open_file = || FsOpenOptions::new().read(true).write(true).create(opts.create).truncate(false).open(&path);
        registry::get_or_open(&path, open_file, |file| Store::open_new(path.clone(), file, existed, opts))
            .map_err(|e| e.on_path(shown))
    }

    fn open_new(path: PathBuf, file: File, existed: bool, opts: OpenOptions) -> Result<Store> {
        // Where opening a directory for writing does not fail by itself (Windows).
        if file.metadata().at(Call::Stat, &path)?.is_dir() {
            return Err(Error::io(io::ErrorKind::IsADirectory.into(), Call::Open, &path));
        }
        lock_file(&file).map_err(|e| e.on_path(&path))?;
        let os_len = file.metadata().at(Call::Stat, &path)?.len();
        let ro = File::open(&path).at(Call::Open, &path)?;
        let map = ReadMap::new(&ro, os_len).at(Call::Map, &path)?;
        // Common case: an intact file. Checking its last entry and building the
        // index (which walks and checks the whole chain) is the only pass.
        let intact = if os_len == 0 {
            Some(KeyIndex::default())
        } else if recovery::tail_entry_intact(map.bytes()) {
            KeyIndex::build_chain(map.bytes())
        } else {
            None
        };
        let valid = if intact.is_some() { os_len } else { recovery::valid_prefix_len(map.bytes()) };
        // A repair also checks every checksum: damage that open alone cannot
        // see (a damaged payload, a link moved onto another entry's end) is
        // dropped and what follows it salvaged.
        let checked = if opts.repair { salvage::checked_prefix(map.bytes(), valid) } else { valid };
        if checked < os_len {
            // Torn tail (cut below) or damage in the middle (refused, or rebuilt on repair).
            let scan = salvage::scan(map.bytes(), checked);
            if !scan.is_torn_tail() || (checked == 0 && opts.repair) || checked < valid {
                if !opts.repair {
                    return Err(corrupt(&path, &scan));
                }
                let report = salvage::rebuild(&path, map.bytes(), &scan)?;
                drop((map, ro, file));
                let file = FsOpenOptions::new().read(true).write(true).open(&path).at(Call::Open, &path)?;
                let mut store = Store::open_new(path, file, true, opts)?;
                store.repair_report = Some(report);
                return Ok(store);
            }
            if valid == 0 {
                return Err(Error::NotAStore(format!(
                    "{} is not a SIMD R Drive store (no valid entry chain in its {os_len} bytes); \
                     it was left untouched (pass {{ repair: true }} to keep a backup of it and start it empty)",
                    path.display()
                )));
            }
        }
        let map = if valid < os_len {
            // Nothing else maps this file: this process has no other engine
            // for it (registry) and other processes are locked out.
            // No fsync here: an un-synced cut can only bring the cut-off tail
            // back after an OS crash, and the next open cuts it again.
            drop(map);
            file.set_len(valid).at(Call::Truncate, &path)?;
            ReadMap::new(&ro, valid).at(Call::Map, &path)?
        } else {
            map
        };
        let index = match intact {
            Some(index) => index,
            None => KeyIndex::build(map.bytes()),
        };
        let created = !existed;
        if created && opts.durable {
            sync_dir(&path);
        }
        let generation = Arc::new(Generation::new(ro));
        Ok(Store {
            generation_id: AtomicU64::new(generation.id),
            dir_unsynced: std::sync::atomic::AtomicBool::new(created && !opts.durable),
            path,
            durable: opts.durable,
            writer: Mutex::new(Writer::new(file, valid)),
            index: RwLock::new(Indexed { keys: index, map: Arc::new(map) }),
            generation: RwLock::new(generation),
            tail: AtomicU64::new(valid),
            producer: std::sync::atomic::AtomicUsize::new(0),
            repair_report: None,
        })
    }

    /// What `repair` did when this open rebuilt a damaged file; `None` if it did not.
    pub fn repair_report(&self) -> Option<&salvage::RepairReport> {
        self.repair_report.as_ref()
    }

    /// Identity of the file this store writes (for the registry).
    pub(crate) fn file_id(&self) -> io::Result<registry::FileId> {
        registry::FileId::of(&lock(&self.writer).file, &self.path)
    }

    /// The writer lock, for a write.
    fn writer(&self) -> Result<MutexGuard<'_, Writer>> {
        if self.producer.load(Ordering::Acquire) == this_thread() {
            return Err(Error::invalid("cannot write to a store from inside the production of a batch for it"));
        }
        Ok(lock(&self.writer))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    // ---- writes -------------------------------------------------------

    /// Appends a batch in one write and publishes it in one index update.
    /// All-or-nothing: every op is validated before any byte is written.
    /// A `[0x00]` payload is written as a tombstone only with `allow_null`.
    /// Returns the tail after the batch.
    pub fn apply(&self, ops: &[Op<'_>], allow_null: bool) -> Result<u64> {
        validate_ops(ops, allow_null)?;
        let mut w = self.writer()?;
        let tails = self.append(&mut w, ops)?;
        Ok(tails.last().copied().unwrap_or(w.tail))
    }

    /// Group commit: appends several independent groups of `ops` in ONE
    /// write, one index update and (when durable) one fsync. Group `g` is
    /// `ops[groups[g - 1].end..groups[g].end]` (the first starts at 0); each
    /// is validated on its own and stays all-or-nothing: an invalid group is
    /// left out without failing the others. Nothing is allocated per group
    /// beyond its tail, and when every group is valid the ops are written
    /// from `ops` itself (a flush of 10,000 async writes in a fresh process
    /// paid ~2 µs per fresh page of the per-group lists this replaced).
    pub fn apply_groups(&self, ops: &[Op<'_>], groups: &[Group]) -> Applied {
        let mut failed = Vec::new();
        let mut start = 0;
        for (g, group) in groups.iter().enumerate() {
            let valid = match ops.get(start..group.end) {
                Some(slice) => validate_ops(slice, group.allow_null),
                None => Err(Error::invalid("group bounds out of order")),
            };
            if let Err(e) = valid {
                failed.push((g, e));
            }
            start = group.end.max(start);
        }
        let kept: Cow<'_, [Op<'_>]> =
            if failed.is_empty() { Cow::Borrowed(ops) } else { Cow::Owned(kept_ops(ops, groups, &failed)) };
        let written = self.writer().and_then(|mut w| {
            let base = w.tail;
            self.append(&mut w, &kept).map(|tails| (base, tails))
        });
        match written {
            Ok((base, tails)) => Applied { tails: group_tails(base, groups, &failed, tails), failed },
            Err(e) => {
                let mut failed = failed.into_iter().peekable();
                let all = (0..groups.len())
                    .map(|g| match failed.next_if(|(f, _)| *f == g) {
                        Some(earlier) => earlier,
                        None => (g, e.replicate()),
                    })
                    .collect();
                Applied { tails: vec![self.tail.load(Ordering::Acquire); groups.len()], failed: all }
            }
        }
    }

    /// Writes already-validated ops at the tail (batch.rs), then publishes
    /// them. `Op::Delete` of a key that is not live (in the index or earlier
    /// in `ops`) writes nothing. Returns the tail after each op. On an I/O
    /// error the file is cut back and nothing is published.
    fn append(&self, w: &mut Writer, ops: &[Op<'_>]) -> Result<Vec<u64>> {
        let base = w.tail;
        if ops.is_empty() {
            return Ok(Vec::new());
        }
        let deletes = ops.iter().any(|op| matches!(op, Op::Delete(_)));
        let mut enc = Encoder::new(base, ops, deletes);
        w.append_or_roll_back(self.durable, |file| -> io::Result<()> {
            if deletes {
                let ix = read(&self.index);
                enc.push(file, ops, |h| ix.keys.contains(h))?;
            } else {
                enc.push(file, ops, |_| false)?;
            }
            enc.finish(file)
        })
        .map_err(|e| e.on_path(&self.path))?;
        w.tail = enc.tail;
        self.publish(enc.tail, ops.len(), batch::updates(base, ops.iter().copied(), &enc.tails));
        Ok(enc.tails)
    }

    /// Appends a batch of puts that the caller produces in parts: each part
    /// is validated and written, on a second thread, while the caller
    /// produces the next. For a caller whose conversion costs about as much
    /// as the append (the Node binding reading JS arrays), the batch takes
    /// about the longer of the two instead of their sum. The contract of
    /// [`Store::apply`] holds: all or nothing. If a part is invalid or holds
    /// a delete, the caller aborts, or an I/O error occurs, the file is cut
    /// back and nothing is published; the caller is not asked for more parts
    /// once the batch has failed (nor at all if no thread can be started:
    /// the OS error is returned). Returns the tail after the batch.
    pub fn apply_parts<'a>(&self, allow_null: bool, mut next: impl FnMut() -> Part<'a>) -> Result<u64> {
        let mut w = self.writer()?;
        let base = w.tail;
        let durable = self.durable;
        let _producing = Producing::mark(&self.producer);
        let (tx, rx) = std::sync::mpsc::sync_channel::<Option<Vec<Op<'a>>>>(PARTS_IN_FLIGHT);
        let writer: &mut Writer = &mut w;
        let written = std::thread::scope(|scope| {
            // No thread to be had (resource limits): the batch fails, writing nothing.
            let appender = std::thread::Builder::new()
                .spawn_scoped(scope, move || write_parts(writer, durable, base, allow_null, rx))?;
            // A failed send: the appender failed and stopped listening.
            produce(&mut next, |part| tx.send(part).is_ok());
            drop(tx);
            appender.join().unwrap_or_else(|_| Err(io::Error::other("the batch writer thread panicked").into()))
        });
        let (parts, enc) = written.map_err(|e| e.on_path(&self.path))?;
        w.tail = enc.tail;
        let count = enc.tails.len();
        self.publish(enc.tail, count, batch::updates(base, parts.iter().flatten().copied(), &enc.tails));
        Ok(enc.tail)
    }

    /// Makes written entries visible: index updates (about `count` of them)
    /// and the tail, together.
    pub(crate) fn publish(&self, tail: u64, count: usize, updates: impl IntoIterator<Item = (u64, Option<u64>)>) {
        let mut ix = write(&self.index);
        let index = &mut ix.keys;
        if count > 1 {
            index.reserve(count);
        }
        for (h, m) in updates {
            match m {
                Some(m) => index.insert(h, m),
                None => index.remove(h),
            }
        }
        self.tail.store(tail, Ordering::Release);
    }

    pub fn write(&self, key: &[u8], payload: &[u8]) -> Result<u64> {
        self.apply(&[Op::Put(compute_hash(key), payload)], false)
    }

    pub fn write_with_key_hash(&self, key_hash: u64, payload: &[u8]) -> Result<u64> {
        self.apply(&[Op::Put(key_hash, payload)], false)
    }

    pub fn batch_write(&self, entries: &[(&[u8], &[u8])]) -> Result<u64> {
        let ops: Vec<Op> = entries.iter().map(|(k, p)| Op::Put(compute_hash(k), p)).collect();
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
        if old_key == new_key {
            return Err(Error::invalid("cannot rename a key to itself"));
        }
        let old = compute_hash(old_key);
        let entry = self.read_with_key_hash(old)?.ok_or(Error::KeyNotFound { key_hash: old })?;
        self.apply(&[Op::Put(compute_hash(new_key), entry.payload()), Op::Delete(old)], false)
    }

    /// Copies the live entry of `key` into `target`; returns the target's tail.
    pub fn copy(&self, key: &[u8], target: &Store) -> Result<u64> {
        if std::ptr::eq(self, target) {
            return Err(Error::invalid("cannot copy an entry into the same store; use rename"));
        }
        let entry = self.read(key)?.ok_or(Error::KeyNotFound { key_hash: compute_hash(key) })?;
        target.apply(&[Op::Put(entry.key_hash(), entry.payload())], false)
    }

    /// Copies then deletes; returns this store's tail after the tombstone.
    pub fn transfer(&self, key: &[u8], target: &Store) -> Result<u64> {
        self.copy(key, target)?;
        self.delete(key)
    }

    /// fsync of the file's data (and of its directory, once, if this open
    /// created the file): everything written so far survives power loss.
    pub fn sync(&self) -> Result<()> {
        let w = self.writer()?;
        w.sync().map_err(|e| e.on_path(&self.path))?;
        if self.dir_unsynced.swap(false, Ordering::AcqRel) {
            sync_dir(&self.path);
        }
        Ok(())
    }

    // ---- reads --------------------------------------------------------

    pub fn read(&self, key: &[u8]) -> Result<Option<EntryHandle>> {
        self.read_with_key_hash(compute_hash(key))
    }

    pub fn read_with_key_hash(&self, key_hash: u64) -> Result<Option<EntryHandle>> {
        {
            let ix = read(&self.index);
            let Some(m) = ix.keys.get(key_hash) else {
                return Ok(None);
            };
            if m + METADATA_SIZE as u64 <= ix.map.len() {
                return Ok(EntryHandle::at(ix.map.clone(), m));
            }
        }
        // The entry was appended after the map was made (rare: once per
        // read after a write).
        self.with_index(|keys, map, _| keys.get(key_hash).and_then(|m| EntryHandle::at(map.clone(), m)))
    }

    pub fn exists(&self, key: &[u8]) -> bool {
        self.exists_with_key_hash(compute_hash(key))
    }

    pub fn exists_with_key_hash(&self, key_hash: u64) -> bool {
        read(&self.index).keys.contains(key_hash)
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
            hashes.iter().map(|&h| keys.get(h).and_then(|m| EntryHandle::at(map.clone(), m))).collect()
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

    pub fn len(&self) -> usize {
        read(&self.index).keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The tail: the end of the last entry, whatever the OS length.
    pub fn file_size(&self) -> u64 {
        self.tail.load(Ordering::Acquire)
    }

    /// Runs `f` on the index, a read map covering the tail, and the tail, all
    /// of one moment. Remaps (under the write lock) if the map is short.
    fn with_index<R>(&self, f: impl FnOnce(&KeyIndex, &Arc<ReadMap>, u64) -> R) -> Result<R> {
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
            ix.map = Arc::new(ReadMap::new(&read(&self.generation).file, tail).at(Call::Map, &self.path)?);
        }
        Ok(f(&ix.keys, &ix.map, tail))
    }

    // ---- zero-copy views for JavaScript ------------------------------------

    /// The metadata offset of `key_hash`'s live entry, checked against the
    /// caller's view (of file generation `generation`, `view_len` bytes long).
    pub fn locate(&self, key_hash: u64, generation: u64, view_len: u64) -> Located {
        let index = read(&self.index);
        let Some(m) = index.keys.get(key_hash) else {
            return Located::Absent;
        };
        if m + METADATA_SIZE as u64 > view_len || self.generation_id.load(Ordering::Acquire) != generation {
            return Located::StaleView;
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
        let _index = read(&self.index);
        let generation = read(&self.generation).clone();
        let tail = self.tail.load(Ordering::Acquire);
        Ok((generation.view_map(tail, tail)?, generation.id))
    }

    // ---- iteration, verification, compaction -------------------------------

    /// Live entries, newest first, as of now (a snapshot).
    pub fn iter(&self) -> Result<crate::iter::EntryIter> {
        self.with_index(|_, map, tail| crate::iter::EntryIter::new(map.clone(), tail, read(&self.generation).clone()))
    }

    /// Bytes `compact()` would reclaim: the tail minus the exact size of the
    /// compacted file (live entries laid out oldest first, with their pads).
    /// The crate counts payload+metadata only, which overstates savings by
    /// the pads a compacted file still needs; we report what compaction frees.
    pub fn estimate_compaction_savings(&self) -> Result<u64> {
        let tail = self.file_size();
        let mut sizes: Vec<u64> = self.iter()?.map(|e| e.file_size()).collect();
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
        let tmp_path = compact_path(&self.path);
        let result = (|| -> Result<(File, u64)> {
            let mut tmp = FsOpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(true)
                .open(&tmp_path)
                .at(Call::Open, &tmp_path)?;
            lock_file(&tmp)?;
            let mut buf = Vec::with_capacity(8 << 20);
            let mut pos = 0u64; // file offset of buf[0]
            let mut tail = 0u64;
            // Live entries in file order (oldest first): compaction is idempotent
            // and the last entry written stays the last entry.
            let mut live: Vec<EntryHandle> = self.iter()?.collect();
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
                return Err(e);
            }
        };
        let old_id = registry::FileId::of(&w.file, &self.path)?;
        let new_id = registry::FileId::of(&tmp, &self.path)?;
        registry::rename_over(self, &tmp_path, &self.path, &old_id, new_id).at(Call::Rename, &self.path)?;
        sync_dir(&self.path);
        let ro = File::open(&self.path).at(Call::Open, &self.path)?;
        let map = ReadMap::new(&ro, tail).at(Call::Map, &self.path)?;
        let new_index = KeyIndex::build(map.bytes());
        // The old file (unlinked now) goes with the old writer.
        *w = Writer::new(tmp, tail);
        let mut index = write(&self.index);
        let mut generation = write(&self.generation);
        *index = Indexed { keys: new_index, map: Arc::new(map) };
        *generation = Arc::new(Generation::new(ro));
        self.generation_id.store(generation.id, Ordering::Release);
        self.tail.store(tail, Ordering::Release);
        Ok(())
    }

    /// Begins a streamed write of one entry (see [`crate::stream::StreamWriter`]).
    pub fn stream_writer(self: &Arc<Self>, key_hash: u64) -> crate::stream::StreamWriter {
        crate::stream::StreamWriter::new(self.clone(), key_hash)
    }

    /// Appends a streamed entry whose payload is in `spool`. Used by `StreamWriter::finish`.
    pub(crate) fn append_spooled(
        &self,
        key_hash: u64,
        spool: &mut crate::stream::Spool,
        len: u64,
        crc: u32,
    ) -> Result<u64> {
        let mut w = self.writer()?;
        let base = w.tail;
        let pad = format::pad_len(base);
        let m = base + pad + len;
        let meta = Metadata { key_hash, prev_offset: base, checksum: crc };
        w.append_or_roll_back(self.durable, |file| {
            file.write_all(&[0u8; 64][..pad as usize])?;
            spool.copy_into(file)?;
            file.write_all(&meta.encode())
        })
        .map_err(|e| e.on_path(&self.path))?;
        let tail = m + METADATA_SIZE as u64;
        w.tail = tail;
        self.publish(tail, 1, [(key_hash, Some(m))]);
        Ok(tail)
    }

    /// Directory of the store file (for temporary spool files).
    pub(crate) fn dir(&self) -> PathBuf {
        self.path.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."))
    }
}

/// Hands the parts of a producer to `take` (`None` if it aborts) until it
/// ends, aborts, or `take` refuses one.
fn produce<'a>(mut next: impl FnMut() -> Part<'a>, mut take: impl FnMut(Option<Vec<Op<'a>>>) -> bool) {
    loop {
        match next() {
            Part::Puts(ops) => {
                if !take(Some(ops)) {
                    return;
                }
            }
            Part::End => return,
            Part::Abort => {
                take(None);
                return;
            }
        }
    }
}

/// Validates and writes the parts of a batch at `base` as they come
/// (`None`: the producer aborted); on any failure the file is cut back.
/// Returns the parts (for the index) and the encoder (for the tails).
fn write_parts<'a>(
    writer: &mut Writer,
    durable: bool,
    base: u64,
    allow_null: bool,
    parts: impl IntoIterator<Item = Option<Vec<Op<'a>>>>,
) -> Result<(Vec<Vec<Op<'a>>>, Encoder)> {
    let mut enc = Encoder::new(base, &[], false);
    let mut kept = Vec::new();
    writer.append_or_roll_back(durable, |file| {
        for part in parts {
            let ops = part.ok_or_else(|| Error::invalid("the batch was aborted"))?;
            validate_ops(&ops, allow_null)?;
            if ops.iter().any(|op| matches!(op, Op::Delete(_))) {
                return Err(Error::invalid("a batch given in parts holds puts only"));
            }
            enc.push(file, &ops, |_| false)?;
            kept.push(ops);
        }
        Ok(enc.finish(file)?)
    })?;
    Ok((kept, enc))
}

/// The ops of the groups not in `failed` (whose bounds were checked).
fn kept_ops<'a>(ops: &[Op<'a>], groups: &[Group], failed: &[(usize, Error)]) -> Vec<Op<'a>> {
    let mut failed = failed.iter().map(|(g, _)| *g).peekable();
    let (mut kept, mut start) = (Vec::new(), 0);
    for (g, group) in groups.iter().enumerate() {
        if failed.next_if_eq(&g).is_none() {
            kept.extend_from_slice(&ops[start..group.end]);
        }
        start = group.end.max(start);
    }
    kept
}

/// Each group's tail, from the tail after each written op (`op_tails`, of
/// the ops of the groups not in `failed`, from `base`). When every group is
/// one op and none failed, that is `op_tails` itself.
fn group_tails(base: u64, groups: &[Group], failed: &[(usize, Error)], op_tails: Vec<u64>) -> Vec<u64> {
    if failed.is_empty() && op_tails.len() == groups.len() && groups.iter().enumerate().all(|(g, x)| x.end == g + 1) {
        return op_tails;
    }
    let mut failed = failed.iter().map(|(g, _)| *g).peekable();
    let (mut running, mut at, mut start) = (base, 0, 0);
    groups
        .iter()
        .enumerate()
        .map(|(g, group)| {
            let len = group.end.saturating_sub(start);
            start = group.end.max(start);
            if failed.next_if_eq(&g).is_none() && len > 0 {
                at += len;
                running = op_tails[at - 1];
            }
            running
        })
        .collect()
}

fn validate_ops(ops: &[Op<'_>], allow_null: bool) -> Result<()> {
    for op in ops {
        if let Op::Put(_, payload) = op {
            validate_payload(payload, allow_null)?;
        }
    }
    Ok(())
}

fn validate_payload(payload: &[u8], allow_null: bool) -> Result<()> {
    if payload.is_empty() {
        return Err(Error::invalid("payload must not be empty"));
    }
    if payload == TOMBSTONE && !allow_null {
        return Err(Error::invalid("a payload of a single 0x00 byte is reserved for tombstones"));
    }
    Ok(())
}

fn compact_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".compact");
    path.with_file_name(name)
}

/// fsync of the directory holding `path` (makes a create or rename durable).
pub(crate) fn sync_dir(path: &Path) {
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        if let Ok(d) = File::open(if dir.as_os_str().is_empty() { Path::new(".") } else { dir }) {
            let _ = d.sync_all();
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// The error for a file with whole entries past a broken part (see [`crate::salvage`]).
fn corrupt(path: &Path, scan: &salvage::Scan) -> Error {
    let first = scan.proven.first().map_or(0, |p| p.prev);
    Error::CorruptStore(format!(
        "{} is damaged at offset {}: the {} bytes before it are intact, and {} entries ({} bytes) past the damage, \
         from offset {first}, are whole; open refuses to drop them, and the file was left untouched. \
         Open it with {{ repair: true }} to keep a backup of the damaged file beside it and rebuild the store \
         from every entry that can be proven intact",
        path.display(),
        scan.from,
        scan.from,
        scan.proven.len(),
        scan.proven_bytes(),
    ))
}
