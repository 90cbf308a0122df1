//! Byte compatibility with the published `simd-r-drive` crate, versions
//! 0.16.3-alpha and 0.17.5-alpha (which simd-r-drive-extensions 0.17.5-alpha
//! builds on): both directions, and byte-for-byte identical output for the
//! same sequence of operations. The tests (compat/body.rs) run once per
//! version, in the modules `v0_16_3` and `v0_17_5`.
//!
//! Our `Store::open` keeps one engine per path per process and takes an
//! exclusive OS lock, so every `Arc<Store>` (and the crate's `DataStore`) is
//! dropped before the other engine opens the same file.

mod common;

mod v0_16_3 {
    use simd_r_drive as core_crate;
    include!("compat/body.rs");
}

mod v0_17_5 {
    use simd_r_drive_0175 as core_crate;
    include!("compat/body.rs");
}
