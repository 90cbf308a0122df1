//! What differs per operating system, one file per platform, chosen here by
//! `cfg` (never inside a function): positioned writes, making a directory
//! entry durable, a file's identity, asking the kernel to map pages in,
//! whether a map may reach past the end of its file, and the lock writers
//! of several processes take around an append (`AppendLock`).

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub(crate) use unix::{file_identity, sync_dir, write_at, MAP_PAST_END};

#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub(crate) use windows::{file_identity, sync_dir, write_at, MAP_PAST_END};

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
pub(crate) use linux::{populate_read, AppendLock};

#[cfg(not(target_os = "linux"))]
mod lockfile;
#[cfg(not(target_os = "linux"))]
pub(crate) use lockfile::AppendLock;

/// Maps pages in ahead of a reader: only Linux has `MADV_POPULATE_READ`
/// (5.14+); elsewhere the reader faults them in itself.
#[cfg(not(target_os = "linux"))]
pub(crate) fn populate_read(_map: &memmap2::MmapMut, _offset: usize, _len: usize) {}
