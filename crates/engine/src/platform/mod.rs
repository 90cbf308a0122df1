//! What differs per operating system, one file per platform, chosen here by
//! `cfg` (never inside a function): positioned writes, making a directory
//! entry durable, a file's identity, and asking the kernel to map pages in.

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub(crate) use unix::{file_identity, sync_dir, write_at};

#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub(crate) use windows::{file_identity, sync_dir, write_at};

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
pub(crate) use linux::populate_read;

/// Maps pages in ahead of a reader: only Linux has `MADV_POPULATE_READ`
/// (5.14+); elsewhere the reader faults them in itself.
#[cfg(not(target_os = "linux"))]
pub(crate) fn populate_read(_map: &memmap2::MmapMut, _offset: usize, _len: usize) {}
