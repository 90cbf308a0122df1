//! Windows. Only Linux builds run where this package is developed; this
//! file is checked on paper.
//!
//! - Writes: `seek_write` may write less than asked, so it loops.
//! - Directories cannot be opened for fsync; NTFS makes a rename durable
//!   with the file's own flush, so `sync_dir` does nothing.
//! - Identity: `std` offers no stable file index on Windows, so the
//!   registry falls back to the canonical path (see `registry::FileId`):
//!   two hard links of one file then get two engines, each holding the
//!   file's lock, so the second open fails with `StoreLocked` rather than
//!   sharing (safe, less convenient).
//! - Renaming over an open file: `std` opens files with `FILE_SHARE_DELETE`,
//!   which lets compaction and repair rename over the store while only
//!   this process has it open. A file mapped by another process cannot be
//!   replaced (`MoveFileEx` fails with `ERROR_ACCESS_DENIED`): compaction
//!   with other processes open then fails with that OS error before
//!   anything changes (the compacted copy is removed, the shared page
//!   never leaves its old generation), and the README tells Windows users
//!   to compact while the store is open in one process only.
//! - Maps past the end of the file: a mapping cannot be larger than its
//!   file on Windows (`CreateFileMapping` would grow the file), so every
//!   map ends at the committed tail (`MAP_PAST_END`) and following other
//!   processes' appends maps again.
//! - Locks: `File::try_lock_shared`/`try_lock` (the data file's shared or
//!   exclusive lock, the shared page's attach lock) are `LockFileEx`; the
//!   append lock is a `LockFileEx` lock on a file of its own
//!   (`platform/lockfile.rs`), which Windows releases when a process dies.

use std::fs::File;
use std::io;
use std::os::windows::fs::FileExt;
use std::path::Path;

/// See the module doc: no map reaches past its file's end here.
pub(crate) const MAP_PAST_END: bool = false;

/// Writes all of `bytes` at offset `at`.
pub(crate) fn write_at(file: &File, bytes: &[u8], at: u64) -> io::Result<()> {
    let mut done = 0;
    while done < bytes.len() {
        let n = file.seek_write(&bytes[done..], at + done as u64)?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        done += n;
    }
    Ok(())
}

/// Nothing to do on Windows (see the module doc).
pub(crate) fn sync_dir(_path: &Path) {}

/// No stable identity from `std` here (see the module doc): the caller uses the path.
pub(crate) fn file_identity(_metadata: &std::fs::Metadata) -> (u64, u64) {
    (0, 0)
}
