//! Linux only.

/// Maps the pages of `[offset, offset + len)` of `map` into the page tables
/// now (`MADV_POPULATE_READ`, Linux 5.14+), so that a thread reading them
/// later does not stop on a page fault (nor on the disk). Best effort: an
/// older kernel refuses and nothing happens.
pub(crate) fn populate_read(map: &memmap2::MmapMut, offset: usize, len: usize) {
    let _ = map.advise_range(memmap2::Advice::PopulateRead, offset, len);
}
