//! The append lock where no robust process-shared mutex exists (macOS and
//! the BSDs have process-shared pthread mutexes but not robust ones: a
//! writer that died holding one would wedge every other; Windows has none
//! in shared memory). Checked on paper only: Linux uses `linux::AppendLock`.
//!
//! The lock is an OS lock on a file of its own beside the shared page
//! (`<store>.shm-lock`): `File::lock` is `flock(LOCK_EX)` on Unix and
//! `LockFileEx` on Windows. Both are released by the OS when the process
//! dies, and both exclude other open handles of the same process too (a
//! second engine of the same file). It costs a system call per lock and
//! unlock (about 300 ns on Linux, measured), so single puts there would
//! be slower than with Linux's mutex; the shared page's `pending` word,
//! not the lock, tells the next writer that a holder died mid-append.
//! On Windows the lock file is separate from the shared page's file for a
//! second reason: `LockFileEx` locks are mandatory for reads and writes of
//! the locked range, which must stay free on the page's file.

use std::fs::{File, OpenOptions};
use std::path::Path;

pub(crate) struct AppendLock {
    file: File,
}

impl AppendLock {
    /// Bytes of the shared page the lock uses (none here; kept equal to
    /// Linux's so the page's layout is the same on every platform).
    pub(crate) const REGION: usize = 64;

    /// The lock for the shared page at `shm_path`.
    ///
    /// # Safety
    /// Nothing to uphold here (the region is unused); `unsafe` to match
    /// the platforms whose lock lives in the region.
    pub(crate) unsafe fn new(_region: *mut u8, shm_path: &Path) -> std::io::Result<AppendLock> {
        let mut name = shm_path.as_os_str().to_os_string();
        name.push("-lock");
        let file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(name)?;
        Ok(AppendLock { file })
    }

    pub(crate) fn init(&self) -> std::io::Result<()> {
        Ok(())
    }

    /// Waits for the lock. Never reports a dead holder: the OS releases
    /// its lock silently, and the shared page's `pending` word tells.
    pub(crate) fn lock(&self) -> std::io::Result<bool> {
        self.file.lock().map(|()| false)
    }

    pub(crate) fn unlock(&self) {
        let _ = self.file.unlock();
    }
}
