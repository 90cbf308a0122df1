//! One engine per file per process: every open of a file (from any thread,
//! including Node worker threads, which share this library) gets the same
//! `Arc` of the engine while one is alive. The registry knows nothing of the
//! store (it holds `dyn Any` engines, so it sits below `store`). Files are told apart by identity (device
//! and inode on Unix), not by name: two spellings or hard links of one file
//! share an engine, and a file deleted and created again at the same path
//! gets a new one. A read-only open gets an engine of its own (it holds
//! no write access), shared by the other read-only opens of the file.

use crate::error::IoContext;
use crate::platform;
use std::any::Any;
use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, Weak};

#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) enum FileId {
    Inode(u64, u64),
    Path(PathBuf),
}

impl FileId {
    /// The identity of the open `file`, which was opened at `path`.
    pub(crate) fn of(file: &File, path: &Path) -> std::io::Result<FileId> {
        Self::identify(path, || file.metadata())
    }

    /// The identity of the file at `path` now.
    fn at(path: &Path) -> std::io::Result<FileId> {
        Self::identify(path, || std::fs::metadata(path))
    }

    /// Device and inode where the platform gives them (`platform::file_identity`);
    /// elsewhere the path itself.
    fn identify(path: &Path, metadata: impl FnOnce() -> std::io::Result<std::fs::Metadata>) -> std::io::Result<FileId> {
        Ok(match platform::file_identity(&metadata()?) {
            (0, 0) => FileId::Path(path.to_path_buf()),
            (dev, ino) => FileId::Inode(dev, ino),
        })
    }
}

type Engine = dyn Any + Send + Sync;

/// A file, and whether its engine is read-only.
type Key = (FileId, bool);

fn registry() -> &'static Mutex<HashMap<Key, Weak<Engine>>> {
    static REG: OnceLock<Mutex<HashMap<Key, Weak<Engine>>>> = OnceLock::new();
    REG.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The live engine of the file at `path`, or one `open` makes from the file
/// `open_file` returns. Invariants, both kept under the registry lock:
/// - a file is checked to still be the one at `path` where compaction swaps
///   files (see [`rename_over`]); a file replaced between its open and that
///   check (an old, unlinked generation) is never made an engine: the path
///   is opened again;
/// - an entry stays until its engine's `Drop` has released the file lock
///   ([`release`]); an open that finds a dying engine waits for that, rather
///   than fail on the lock the engine still holds (`Error::StoreLocked`).
///
/// `id_of` gives the identity of the file an engine writes (after `open`,
/// which may have replaced the file: a repair rebuilds it).
pub(crate) fn get_or_open<T: Any + Send + Sync>(
    path: &Path,
    read_only: bool,
    open_file: impl Fn() -> std::io::Result<File>,
    open: impl FnOnce(File) -> crate::Result<T>,
    id_of: impl Fn(&T) -> std::io::Result<FileId>,
) -> crate::Result<Arc<T>> {
    // Both waits below are brief; one that is not gives up with an error.
    let mut tries = 0;
    let mut retry = |why: &str| -> crate::Result<()> {
        tries += 1;
        if tries == 1000 {
            return Err(std::io::Error::other(format!("{} {why}", path.display())).into());
        }
        Ok(())
    };
    loop {
        let file = open_file().during(crate::error::Call::Open)?;
        let id = FileId::of(&file, path)?;
        let mut reg = registry().lock().unwrap_or_else(|e| e.into_inner());
        if FileId::at(path)? != id {
            // Replaced since opened (a compaction in another thread).
            retry("kept being replaced while opening it")?;
            continue;
        }
        if let Some(entry) = reg.get(&(id, read_only)) {
            if let Some(store) = entry.upgrade().and_then(|e| e.downcast::<T>().ok()) {
                return Ok(store);
            }
            // Dying in another thread: its Drop is about to release the file.
            drop(reg);
            retry("is still being closed by another thread")?;
            std::thread::sleep(std::time::Duration::from_micros(50));
            continue;
        }
        let store = Arc::new(open(file)?);
        let engine: Arc<Engine> = store.clone();
        reg.insert((id_of(&store)?, read_only), Arc::downgrade(&engine));
        return Ok(store);
    }
}

/// Renames `from` over `to` (`store`'s file) and moves `store`'s entry from
/// the old file's identity to the new one's, in one step for other opens.
pub(crate) fn rename_over<T: Any + Send + Sync>(
    store: &Arc<T>,
    from: &Path,
    to: &Path,
    old: &FileId,
    new: FileId,
) -> std::io::Result<()> {
    let mut reg = registry().lock().unwrap_or_else(|e| e.into_inner());
    std::fs::rename(from, to)?;
    let key = (old.clone(), false);
    if reg.get(&key).is_some_and(|w| same(w, Arc::as_ptr(store).cast())) {
        reg.remove(&key);
    }
    let engine: Arc<Engine> = store.clone();
    reg.insert((new, false), Arc::downgrade(&engine));
    Ok(())
}

/// Another process replaced the file (a compaction there): the engine at
/// `store`, which now reads the new file, is found under its identity.
pub(crate) fn moved(store: *const (), new: FileId) {
    let mut reg = registry().lock().unwrap_or_else(|e| e.into_inner());
    let Some(old) = reg.iter().find(|(_, w)| same(w, store)).map(|(k, _)| k.clone()) else {
        return;
    };
    if old.0 != new && !reg.contains_key(&(new.clone(), old.1)) {
        if let Some(w) = reg.remove(&old) {
            reg.insert((new, old.1), w);
        }
    }
}

/// Called by a dying engine's `Drop`, its files still open: releases their
/// locks and removes the engine's entry in one step for other opens.
pub(crate) fn release(store: *const (), files: &[&File]) {
    let mut reg = registry().lock().unwrap_or_else(|e| e.into_inner());
    for file in files {
        let _ = file.unlock();
    }
    reg.retain(|_, w| !same(w, store));
}

/// True when `w` is the engine at `ptr`.
fn same(w: &Weak<Engine>, ptr: *const ()) -> bool {
    std::ptr::eq(w.as_ptr().cast::<()>(), ptr)
}
