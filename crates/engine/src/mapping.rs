//! Memory maps of the store file.
//!
//! Two kinds, never mixed up:
//! - [`ReadMap`]: a shared, read-only map. The engine reads payloads through it
//!   (reads, copies, compaction, verification), so what it sees is the file.
//! - [`ViewMap`]: a private (copy-on-write), writable map handed to JavaScript
//!   as one external `ArrayBuffer`. A JS write into a view copies the page for
//!   this process only: it can neither fault (the pages are writable) nor
//!   reach the file or the engine's `ReadMap`.
//!
//! Both cover `[0, len)` of the file at the moment they were made, never more:
//! pages past the end of a file raise SIGBUS. Invariant: a map is only made
//! with `len <= ` the length of bytes already written to the file, and the
//! store never shrinks a file while a map of it is alive (compaction writes a
//! new file). A map is replaced, not grown, when a read needs bytes past its
//! end; that also means a private page a JS write copied never goes stale
//! (bytes appended later land in a new map).

use memmap2::{Mmap, MmapMut, MmapOptions};
use std::fs::File;
use std::io;

pub struct ReadMap {
    map: Option<Mmap>,
}

impl ReadMap {
    pub fn new(file: &File, len: u64) -> io::Result<ReadMap> {
        if len == 0 {
            return Ok(ReadMap { map: None });
        }
        let len = usize::try_from(len).map_err(|_| io::Error::other("file too large to map"))?;
        // SAFETY: the map is read-only and covers only bytes already written;
        // the store appends past them and never truncates below a live map
        // (see the module invariant). Another program truncating the file is
        // outside what any mmap-based store can defend against (README).
        let map = unsafe { MmapOptions::new().len(len).map(file)? };
        Ok(ReadMap { map: Some(map) })
    }

    #[inline]
    pub fn bytes(&self) -> &[u8] {
        self.map.as_deref().unwrap_or(&[])
    }

    #[inline]
    pub fn len(&self) -> u64 {
        self.bytes().len() as u64
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

pub struct ViewMap {
    map: Option<MmapMut>,
    len: usize,
}

impl ViewMap {
    pub fn new_empty() -> ViewMap {
        ViewMap { map: None, len: 0 }
    }

    pub fn new(file: &File, len: u64) -> io::Result<ViewMap> {
        if len == 0 {
            return Ok(ViewMap { map: None, len: 0 });
        }
        let len = usize::try_from(len).map_err(|_| io::Error::other("file too large to map"))?;
        // SAFETY: MAP_PRIVATE + PROT_READ|PROT_WRITE over bytes already written:
        // writes through it copy pages privately and never reach the file.
        let map = unsafe { MmapOptions::new().len(len).map_copy(file)? };
        Ok(ViewMap { map: Some(map), len })
    }

    /// Start of the mapping (null when empty). JavaScript may write through it;
    /// the engine never reads through it.
    #[inline]
    pub fn as_mut_ptr(&self) -> *mut u8 {
        match &self.map {
            Some(m) => m.as_ptr() as *mut u8,
            None => std::ptr::null_mut(),
        }
    }

    #[inline]
    pub fn len(&self) -> u64 {
        self.len as u64
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Maps the pages holding `[offset, offset + len)` into this process's
    /// page tables now (`MADV_POPULATE_READ`), so that a thread reading them
    /// later does not stop on a page fault (nor on the disk). Best effort: a
    /// kernel without it (before Linux 5.14) or another OS does nothing.
    pub fn populate(&self, offset: u64, len: u64) {
        #[cfg(target_os = "linux")]
        if let Some(m) = &self.map {
            if offset.saturating_add(len) <= self.len as u64 {
                let _ = m.advise_range(memmap2::Advice::PopulateRead, offset as usize, len as usize);
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = (offset, len);
    }
}
