//! Memory maps of the store file.
//!
//! Two kinds, never mixed up:
//! - [`ReadMap`]: a shared, read-only map. The engine reads payloads through it
//!   (reads, copies, compaction, verification), so what it sees is the file.
//! - [`ViewMap`]: private (copy-on-write), writable maps handed to JavaScript
//!   as external `ArrayBuffer`s: one that handles' bytes slice, one the JS
//!   layer reads metadata from. A JS write into a view copies the page for
//!   that map in this process only: it can neither fault (the pages are
//!   writable) nor reach the file, the engine's `ReadMap` or the other map.
//!
//! Both show `[0, len)` of the file at the moment they were made, never more:
//! pages past the end of a file raise SIGBUS. (A `ReadMap` made
//! `with_room` reserves address space past that, never read.) Invariant: a map is only made
//! with `len <= ` the length of bytes already written to the file, and the
//! store never shrinks a file while a map of it is alive (compaction writes a
//! new file). A map is replaced, not grown, when a read needs bytes past its
//! end; that also means a private page a JS write copied never goes stale
//! (bytes appended later land in a new map).

use memmap2::{Mmap, MmapMut, MmapOptions};
use std::fs::File;
use std::io;
use std::sync::Arc;

pub struct ReadMap {
    map: Option<Arc<Mmap>>,
    /// Bytes of `map` this map shows (`bytes()`): all written to the file.
    len: usize,
}

/// Address space a growable map reserves past the bytes it shows (see
/// [`ReadMap::with_room`]).
const ROOM: usize = 64 << 20;

impl ReadMap {
    /// A map of exactly `[0, len)` of `file`.
    pub fn new(file: &File, len: u64) -> io::Result<ReadMap> {
        Self::map(file, len, 0)
    }

    /// A map showing `[0, len)` of `file` that also reserves address space
    /// past it (where the platform allows a map past the end of its file:
    /// `platform::MAP_PAST_END`), so that bytes appended later can be shown
    /// by [`grown`](Self::grown) without a new map. Bytes past `len` are
    /// never read through it: touching pages past the file's end faults.
    pub fn with_room(file: &File, len: u64) -> io::Result<ReadMap> {
        let room = if crate::platform::MAP_PAST_END { ROOM.max(len as usize / 2) } else { 0 };
        Self::map(file, len, room)
    }

    fn map(file: &File, len: u64, room: usize) -> io::Result<ReadMap> {
        if len == 0 && room == 0 {
            return Ok(ReadMap { map: None, len: 0 });
        }
        let len = usize::try_from(len).map_err(|_| io::Error::other("file too large to map"))?;
        let reserved = len.checked_add(room).ok_or_else(|| io::Error::other("file too large to map"))?;
        // SAFETY: the map is read-only and `bytes()` shows only `[0, len)`,
        // bytes already written; the store appends past them and never
        // truncates below a live map (see the module invariant), so the
        // pages past the file's end that `room` reserves are never touched.
        // Another program truncating the file is outside what any mmap-based
        // store can defend against (README).
        let map = unsafe { MmapOptions::new().len(reserved).map(file)? };
        Ok(ReadMap { map: Some(Arc::new(map)), len })
    }

    /// The same map showing `[0, len)`, if it reserved that much: the caller
    /// guarantees the file holds `len` written bytes.
    pub fn grown(&self, len: u64) -> Option<ReadMap> {
        let map = self.map.as_ref()?;
        (len as usize <= map.len() && len as usize >= self.len)
            .then(|| ReadMap { map: Some(map.clone()), len: len as usize })
    }

    #[inline]
    pub fn bytes(&self) -> &[u8] {
        match &self.map {
            Some(m) => &m[..self.len],
            None => &[],
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
}

/// Two private maps of the same bytes: `payload`, handed to JavaScript as
/// the buffer that handles' `bytes` slice (a user can reach all of it through
/// `bytes.buffer` and write anywhere in it), and `meta`, from which the JS
/// layer reads entries' metadata and which no user-visible object exposes.
/// A JS write across the payload buffer therefore never changes the
/// metadata a later read or iteration trusts (sizes, offsets, checksums):
/// private pages are per map. Both are writable, so even a write through the
/// internals cannot fault; both share the page cache's pages until written.
pub struct ViewMap {
    payload: Option<MmapMut>,
    meta: Option<MmapMut>,
    len: usize,
}

impl ViewMap {
    pub fn new_empty() -> ViewMap {
        ViewMap { payload: None, meta: None, len: 0 }
    }

    pub fn new(file: &File, len: u64) -> io::Result<ViewMap> {
        if len == 0 {
            return Ok(ViewMap::new_empty());
        }
        let len = usize::try_from(len).map_err(|_| io::Error::other("file too large to map"))?;
        // SAFETY: MAP_PRIVATE + PROT_READ|PROT_WRITE over bytes already written:
        // writes through either map copy pages privately and never reach the file.
        let payload = unsafe { MmapOptions::new().len(len).map_copy(file)? };
        // SAFETY: as above.
        let meta = unsafe { MmapOptions::new().len(len).map_copy(file)? };
        Ok(ViewMap { payload: Some(payload), meta: Some(meta), len })
    }

    /// Start of the payload map (null when empty). JavaScript may write
    /// through it; neither the engine nor the JS layer's metadata reads do.
    #[inline]
    pub fn as_mut_ptr(&self) -> *mut u8 {
        match &self.payload {
            Some(m) => m.as_ptr() as *mut u8,
            None => std::ptr::null_mut(),
        }
    }

    /// Start of the metadata map (null when empty), for the JS layer's own
    /// metadata reads only.
    #[inline]
    pub fn meta_ptr(&self) -> *mut u8 {
        match &self.meta {
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

    /// Maps the pages holding `[offset, offset + len)` of both maps into this
    /// process's page tables now, so that a thread reading them later does
    /// not stop on a page fault (nor on the disk). Best effort (see
    /// `platform::populate_read`).
    pub fn populate(&self, offset: u64, len: u64) {
        if offset.saturating_add(len) <= self.len as u64 {
            for m in [&self.payload, &self.meta].into_iter().flatten() {
                crate::platform::populate_read(m, offset as usize, len as usize);
            }
        }
    }
}
