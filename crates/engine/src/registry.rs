//! One engine per file per process: every open of a file (from any thread,
//! including Node worker threads, which share this library) gets the same
//! `Arc<Store>` while one is alive. Files are told apart by identity (device
//! and inode on Unix), not by name: two spellings or hard links of one file
//! share an engine, and a file deleted and created again at the same path
//! gets a new one.

use crate::store::Store;
use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, Weak};

#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) enum FileId {
    #[cfg_attr(not(unix), allow(dead_code))]
    Inode(u64, u64),
    #[cfg_attr(unix, allow(dead_code))]
    Path(PathBuf),
}

impl FileId {
    pub(crate) fn of(file: &File, path: &Path) -> std::io::Result<FileId> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let _ = path;
            let m = file.metadata()?;
            Ok(FileId::Inode(m.dev(), m.ino()))
        }
        #[cfg(not(unix))]
        {
            let _ = file;
            Ok(FileId::Path(path.to_path_buf()))
        }
    }
}

fn registry() -> &'static Mutex<HashMap<FileId, Weak<Store>>> {
    static REG: OnceLock<Mutex<HashMap<FileId, Weak<Store>>>> = OnceLock::new();
    REG.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Runs `open` under the registry lock unless a live engine for `file` exists.
pub(crate) fn get_or_open(
    file: File,
    path: &Path,
    open: impl FnOnce(File) -> crate::Result<Store>,
) -> crate::Result<Arc<Store>> {
    let key = FileId::of(&file, path)?;
    let mut reg = registry().lock().unwrap_or_else(|e| e.into_inner());
    if let Some(store) = reg.get(&key).and_then(Weak::upgrade) {
        return Ok(store);
    }
    reg.retain(|_, w| w.strong_count() > 0);
    let store = Arc::new(open(file)?);
    reg.insert(key, Arc::downgrade(&store));
    Ok(store)
}

/// Moves `store`'s entry to the identity of the file that replaced it
/// (compaction renames a new file over the old one).
pub(crate) fn rekey(store: &Arc<Store>, old: &FileId, new: FileId) {
    let mut reg = registry().lock().unwrap_or_else(|e| e.into_inner());
    if reg.get(old).is_some_and(|w| std::ptr::eq(w.as_ptr(), Arc::as_ptr(store))) {
        reg.remove(old);
    }
    reg.insert(new, Arc::downgrade(store));
}
