//! The SIMD R Drive storage engine: a single-file, append-only key/value
//! store with 64-byte-aligned payloads, byte-compatible with the
//! `simd-r-drive` crate 0.16.x. No Node.js here; `srd-node` binds it.
//!
//! Layers, lowest first (a module uses only modules above it in this list;
//! see `docs/architecture.md`):
//! - [`error`], `locks`, `platform` (per-OS code), [`simd_copy`]
//! - [`format`]: the on-disk entry layout (see `docs/FORMAT.md`); [`hash`]: key hashing and namespaces
//! - [`ops`]: the write operations a batch is made of; [`keys`]: key records (opt-in)
//! - [`mapping`]: the engine's read map and the private views; [`entry`]: a read entry
//! - [`recovery`]: the valid prefix of a file; [`salvage`]: torn tail or damage, and repair
//! - [`index`]: key hash -> live entry; `batch`: encoding a batch; `writer`: the append path
//! - `generation`: one generation of the file; [`iter`]: live entries of a snapshot
//! - `registry`: one engine per file per process; `shared`: the page several processes coordinate through
//! - [`store`]: the store, one concern per file (open, commit, reads, views, compaction, streams)

#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

mod batch;
pub mod entry;
pub mod error;
pub mod format;
mod generation;
pub mod hash;
pub mod index;
pub mod iter;
pub mod keys;
mod locks;
pub mod mapping;
pub mod ops;
mod platform;
pub mod recovery;
mod registry;
pub mod salvage;
mod shared;
pub mod simd_copy;
pub mod store;
mod writer;

pub use entry::EntryHandle;
pub use error::{Call, Error, Result};
pub use hash::{compute_hash, NamespaceHasher};
pub use ops::{Applied, Group, Op, Part};
pub use store::{Located, OpenOptions, Store, StreamWriter};
