//! Several processes on one store file: the shared page they coordinate
//! through (its layout: [`page`]), who may set it up, and the append lock.
//!
//! The model (LMDB's, in SQLite WAL's `-shm` form, for this format):
//! - Every process maps `<store>.shm`. Its STATE word holds the committed
//!   tail and the file generation; a read checks it with one atomic load
//!   and, when it moved, follows what others appended (`store::follow`).
//! - Writers of every process take the append lock only around an append
//!   (not while open), catch up, append at the committed tail, publish the
//!   new tail, and release it. A writer that died holding it leaves
//!   PENDING set; the next writer cuts the torn bytes past the committed
//!   tail (no process maps past it).
//! - Attaching: every read-write process holds a shared OS lock on the
//!   page's file while open. An opener that gets it exclusively is the
//!   first: nothing else is attached, so it rebuilds the page from the
//!   store file (recovery) under that lock, then downgrades. Others wait
//!   for it (blocking shared lock) and join. A page left by processes that
//!   are gone (a crash, a reboot, an exclusive or Rust-crate writer since)
//!   is therefore never trusted: whoever comes first rebuilds it.
//! - Read-only opens never write the page nor lock it: they map it
//!   read-only when they can and follow its changes; their own view at
//!   open comes from the store file (recovery without a cut).
//! - The store file itself: read-write and read-only opens hold a shared
//!   OS lock on it, an `exclusive` open an exclusive one, so the two modes
//!   never meet (`Error::StoreLocked`).

pub(crate) mod page;

use crate::error::{Call, Error, IoContext, Result};
use crate::platform::AppendLock;
use memmap2::{MmapOptions, MmapRaw};
use page::State;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The shared page's path for the store at `store`: `<store>.shm`.
pub(crate) fn shm_path(store: &Path) -> PathBuf {
    let mut name = store.as_os_str().to_os_string();
    name.push(".shm");
    PathBuf::from(name)
}

/// A mapped shared page.
pub(crate) struct Shared {
    /// The page's file: a read-write open holds a shared lock on it (attached).
    file: File,
    map: MmapRaw,
    /// `None` for a read-only open (it never writes).
    lock: Option<AppendLock>,
    path: PathBuf,
}

/// How a read-write open attached.
pub(crate) enum Attached {
    /// No other process is attached: the caller recovers the store file and
    /// calls [`Shared::init`] then [`Shared::downgrade`] (it holds the
    /// page's lock exclusively until then, which keeps other openers waiting).
    First(Shared),
    /// Others are attached and the page is live.
    Joined(Shared),
}

impl Shared {
    /// Attaches a read-write open of the store at `store` (see the module doc).
    pub(crate) fn attach(store: &Path) -> Result<Attached> {
        let path = shm_path(store);
        let file =
            OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).at(Call::Open, &path)?;
        for _ in 0..1000 {
            match file.try_lock() {
                Ok(()) => {
                    if file.metadata().at(Call::Stat, &path)?.len() < page::SIZE {
                        // New: it gets the store file's permissions (not the
                        // umask's), so whoever may write the store may write it.
                        if let Ok(store_meta) = std::fs::metadata(store) {
                            let _ = file.set_permissions(store_meta.permissions());
                        }
                        file.set_len(page::SIZE).at(Call::Truncate, &path)?;
                    }
                    return Ok(Attached::First(Shared::map(file.try_clone().at(Call::Open, &path)?, path, true)?));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    // Waits while a first opener sets the page up.
                    file.lock_shared().at(Call::Lock, &path)?;
                    if file.metadata().at(Call::Stat, &path)?.len() >= page::SIZE {
                        let shared = Shared::map(file.try_clone().at(Call::Open, &path)?, path.clone(), true)?;
                        if shared.magic().load(Ordering::Acquire) == page::MAGIC {
                            return Ok(Attached::Joined(shared));
                        }
                    }
                    // A first opener died before setting it up: try to be first.
                    file.unlock().at(Call::Lock, &path)?;
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(e).at(Call::Lock, &path),
            }
        }
        Err(Error::io(
            std::io::Error::other("the shared state kept changing hands while opening it"),
            Call::Lock,
            &path,
        ))
    }

    /// Maps the page of the store at `store` read-only, if it exists and can
    /// be read (a read-only open follows other processes through it; on
    /// read-only media, or without it, nothing it could follow happens).
    pub(crate) fn attach_read_only(store: &Path) -> Option<Shared> {
        let path = shm_path(store);
        let file = File::open(&path).ok()?;
        if file.metadata().ok()?.len() < page::SIZE {
            return None;
        }
        Shared::map(file, path, false).ok()
    }

    fn map(file: File, path: PathBuf, writable: bool) -> Result<Shared> {
        let map = if writable {
            MmapOptions::new().len(page::SIZE as usize).map_raw(&file)
        } else {
            MmapOptions::new().len(page::SIZE as usize).map_raw_read_only(&file)
        }
        .at(Call::Map, &path)?;
        let lock = if writable {
            // SAFETY: LOCK_AT + REGION lies inside the SIZE bytes mapped
            // writable above, at an offset aligned to 64; `map` lives in the
            // same `Shared` as the lock and is dropped after it (field order).
            Some(unsafe { AppendLock::new(map.as_mut_ptr().add(page::LOCK_AT), &path) }.at(Call::Open, &path)?)
        } else {
            None
        };
        const _: () = assert!(page::LOCK_AT + AppendLock::REGION <= page::SIZE as usize);
        Ok(Shared { file, map, lock, path })
    }

    fn word(&self, at: usize) -> &AtomicU64 {
        debug_assert!(at.is_multiple_of(8) && at + 8 <= page::SIZE as usize);
        // SAFETY: `at` is 8-aligned inside the page-aligned map of SIZE bytes
        // (the callers pass the constants of `page`); AtomicU64 has the
        // layout of u64, and every process touches these words atomically
        // only. A read-only map is only loaded from (atomic loads of read-only
        // memory are allowed for lock-free sizes).
        unsafe { &*(self.map.as_ptr().add(at) as *const AtomicU64) }
    }

    fn magic(&self) -> &AtomicU64 {
        self.word(page::MAGIC_AT)
    }

    fn pending(&self) -> &AtomicU64 {
        self.word(page::PENDING_AT)
    }

    /// The STATE word: one atomic load, the whole cost a read pays when
    /// nothing changed.
    #[inline]
    pub(crate) fn word_now(&self) -> u64 {
        self.word(page::STATE_AT).load(Ordering::Acquire)
    }

    pub(crate) fn state(&self) -> State {
        State::unpack(self.word_now())
    }

    /// Publishes `state` (writers only, under the append lock). Returns its word.
    pub(crate) fn publish(&self, state: State) -> u64 {
        let word = state.pack();
        self.word(page::STATE_AT).store(word, Ordering::Release);
        word
    }

    /// The identity of the store file the page speaks of (see `page`).
    pub(crate) fn identity(&self) -> (u64, u64) {
        (self.word(page::DEVICE_AT).load(Ordering::Acquire), self.word(page::INODE_AT).load(Ordering::Acquire))
    }

    /// Records the identity of the store file (writers, under the append
    /// lock or as the first opener).
    pub(crate) fn set_identity(&self, (device, inode): (u64, u64)) {
        self.word(page::DEVICE_AT).store(device, Ordering::Release);
        self.word(page::INODE_AT).store(inode, Ordering::Release);
    }

    /// Sets the page up for a store file whose valid prefix ends at `tail`
    /// (the first opener, holding the page's lock exclusively). The
    /// generation moves on from the old page's, so read-only processes that
    /// mapped it notice and look at the file again. Returns the STATE word.
    pub(crate) fn init(&self, tail: u64, identity: (u64, u64)) -> Result<u64> {
        self.set_identity(identity);
        let old = if self.magic().load(Ordering::Acquire) == page::MAGIC { Some(self.state()) } else { None };
        let generation = old.map_or(1, State::next_generation);
        self.pending().store(0, Ordering::Relaxed);
        if let Some(lock) = &self.lock {
            lock.init().at(Call::Lock, &self.path)?;
        }
        let word = self.publish(State { tail, generation, changing: false });
        self.magic().store(page::MAGIC, Ordering::Release);
        Ok(word)
    }

    /// After `init`: from the first opener's exclusive lock to the shared
    /// lock every attached process holds (waiting openers then join).
    pub(crate) fn downgrade(&self) -> Result<()> {
        self.file.unlock().at(Call::Lock, &self.path)?;
        self.file.lock_shared().at(Call::Lock, &self.path)
    }

    /// Takes the append lock and marks an append pending. `Ok(true)` when
    /// the last holder left an append unfinished (it died holding the
    /// lock): the caller cuts the store file back to the committed tail.
    pub(crate) fn begin_append(&self) -> Result<bool> {
        let Some(lock) = &self.lock else {
            return Err(Error::ReadOnly);
        };
        let died = lock.lock().at(Call::Lock, &self.path)?;
        // Under the lock: no other writer touches PENDING, so a plain load
        // and store do (an atomic swap cost ~15 ns more per write).
        let pending = self.pending().load(Ordering::Relaxed) != 0;
        self.pending().store(1, Ordering::Relaxed);
        Ok(died || pending)
    }

    /// Ends what `begin_append` began (the same thread).
    pub(crate) fn end_append(&self) {
        self.pending().store(0, Ordering::Release);
        if let Some(lock) = &self.lock {
            lock.unlock();
        }
    }
}
