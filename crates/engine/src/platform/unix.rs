//! Unix (Linux, macOS, the BSDs).

use std::fs::File;
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::Path;

/// A read-only shared map may cover pages past the end of its file: mapping
/// them is allowed, only touching them faults (SIGBUS), and the engine
/// never reads past the committed tail. Appends then land in pages already
/// mapped, so following them needs no new map.
pub(crate) const MAP_PAST_END: bool = true;

/// Writes all of `bytes` at offset `at` (`pwrite`; the file cursor is not used).
pub(crate) fn write_at(file: &File, bytes: &[u8], at: u64) -> io::Result<()> {
    file.write_all_at(bytes, at)
}

/// fsync of the directory holding `path` (makes a create or rename durable).
/// Best effort: a directory that cannot be opened is left as it is.
pub(crate) fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent() {
        if let Ok(d) = File::open(if dir.as_os_str().is_empty() { Path::new(".") } else { dir }) {
            let _ = d.sync_all();
        }
    }
}

/// A file's identity: device and inode (two names of one file share it).
pub(crate) fn file_identity(metadata: &std::fs::Metadata) -> (u64, u64) {
    (metadata.dev(), metadata.ino())
}
