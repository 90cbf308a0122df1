//! A generation of the store file: the read-only handle its maps are made
//! from and its current private view. Compaction starts a new generation;
//! maps of an old one stay valid while anything holds them.

use crate::locks::lock;
use crate::mapping::ViewMap;
use std::fs::File;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// A live generation of the file: the handle maps are made from, and the
/// current private view. Compaction replaces the whole generation.
pub(crate) struct Generation {
    pub(crate) id: u64,
    /// Opened read-only and never locked, so maps made from it keep no lock alive.
    pub(crate) file: File,
    view: Mutex<Arc<ViewMap>>,
}

static NEXT_GENERATION: AtomicU64 = AtomicU64::new(1);

impl Generation {
    pub(crate) fn new(file: File) -> Generation {
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
