//! Linux only.

/// Maps the pages of `[offset, offset + len)` of `map` into the page tables
/// now (`MADV_POPULATE_READ`, Linux 5.14+), so that a thread reading them
/// later does not stop on a page fault (nor on the disk). Best effort: an
/// older kernel refuses and nothing happens.
pub(crate) fn populate_read(map: &memmap2::MmapMut, offset: usize, len: usize) {
    let _ = map.advise_range(memmap2::Advice::PopulateRead, offset, len);
}

/// The lock writers of all processes take around an append (see
/// `crate::shared`): a robust, process-shared, error-checking pthread mutex
/// in the shared page. Uncontended it costs about 20 ns a lock and unlock
/// (measured here: `flock` costs 280-340 ns, a third of a 64-byte put).
/// Robust: when a process dies holding it, the kernel hands it to the next
/// locker with `EOWNERDEAD`, so a dead writer wedges no one.
/// Error-checking: a thread locking it twice gets `EDEADLK`, not a hang.
pub(crate) struct AppendLock {
    mutex: *mut libc::pthread_mutex_t,
}

// SAFETY: a process-shared pthread mutex is made to be used from any thread
// of any process; `AppendLock` only holds its address.
unsafe impl Send for AppendLock {}
// SAFETY: as above.
unsafe impl Sync for AppendLock {}

const _: () = assert!(std::mem::size_of::<libc::pthread_mutex_t>() <= AppendLock::REGION);

fn check(rc: libc::c_int) -> std::io::Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::from_raw_os_error(rc))
    }
}

impl AppendLock {
    /// Bytes of the shared page the lock lives in.
    pub(crate) const REGION: usize = 64;

    /// The lock living at `region`.
    ///
    /// # Safety
    /// `region` points at `REGION` writable bytes, aligned to 8, of a shared
    /// mapping that outlives the returned lock.
    pub(crate) unsafe fn new(region: *mut u8, _shm_path: &std::path::Path) -> std::io::Result<AppendLock> {
        Ok(AppendLock { mutex: region.cast() })
    }

    /// Initializes the mutex in place. Only the first opener calls this,
    /// while no other process is attached (see `shared::attach`), so no one
    /// holds or waits on the memory it overwrites.
    pub(crate) fn init(&self) -> std::io::Result<()> {
        let mut attr = std::mem::MaybeUninit::<libc::pthread_mutexattr_t>::uninit();
        // SAFETY: `attr` is initialized by pthread_mutexattr_init before any
        // other use and destroyed after; `self.mutex` points into the shared
        // page (see `new`) and no one else uses it now (see above).
        unsafe {
            check(libc::pthread_mutexattr_init(attr.as_mut_ptr()))?;
            let a = attr.as_mut_ptr();
            let result = check(libc::pthread_mutexattr_setpshared(a, libc::PTHREAD_PROCESS_SHARED))
                .and_then(|()| check(libc::pthread_mutexattr_setrobust(a, libc::PTHREAD_MUTEX_ROBUST)))
                .and_then(|()| check(libc::pthread_mutexattr_settype(a, libc::PTHREAD_MUTEX_ERRORCHECK)))
                .and_then(|()| check(libc::pthread_mutex_init(self.mutex, a)));
            libc::pthread_mutexattr_destroy(a);
            result
        }
    }

    /// Waits for the lock. `Ok(true)` when its last holder died holding it
    /// (the lock is made consistent and is now ours).
    pub(crate) fn lock(&self) -> std::io::Result<bool> {
        // SAFETY: the mutex was initialized by the first opener before any
        // process could attach (`shared::attach`), in the mapping `new` was given.
        match unsafe { libc::pthread_mutex_lock(self.mutex) } {
            0 => Ok(false),
            libc::EOWNERDEAD => {
                // SAFETY: we hold the mutex (EOWNERDEAD hands it over); marking it
                // consistent lets it be unlocked and locked again.
                check(unsafe { libc::pthread_mutex_consistent(self.mutex) })?;
                Ok(true)
            }
            rc => Err(std::io::Error::from_raw_os_error(rc)),
        }
    }

    /// Releases the lock (held by this thread).
    pub(crate) fn unlock(&self) {
        // SAFETY: as in `lock`; called only by the thread holding it.
        unsafe { libc::pthread_mutex_unlock(self.mutex) };
    }
}
