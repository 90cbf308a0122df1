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
//!   which lets compaction and repair rename over the store while it is
//!   mapped, as on Unix.

use std::fs::File;
use std::io;
use std::os::windows::fs::FileExt;
use std::path::Path;

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
