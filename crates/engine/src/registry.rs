//! One engine per file per process: every open of a path (from any thread,
//! including Node worker threads, which share this library) gets the same
//! `Arc<Store>` while one is alive.

use crate::store::Store;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, Weak};

fn registry() -> &'static Mutex<HashMap<PathBuf, Weak<Store>>> {
    static REG: OnceLock<Mutex<HashMap<PathBuf, Weak<Store>>>> = OnceLock::new();
    REG.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Runs `open` under the registry lock unless a live engine for `key` exists.
pub(crate) fn get_or_open(
    key: PathBuf,
    open: impl FnOnce() -> crate::Result<Store>,
) -> crate::Result<Arc<Store>> {
    let mut reg = registry().lock().unwrap_or_else(|e| e.into_inner());
    if let Some(store) = reg.get(&key).and_then(Weak::upgrade) {
        return Ok(store);
    }
    reg.retain(|_, w| w.strong_count() > 0);
    let store = Arc::new(open()?);
    reg.insert(key, Arc::downgrade(&store));
    Ok(store)
}
