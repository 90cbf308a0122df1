//! The SIMD R Drive storage engine: a single-file, append-only key/value
//! store with 64-byte-aligned payloads, byte-compatible with the
//! `simd-r-drive` crate 0.16.x. No Node.js here; `srd-node` binds it.
//!
//! Modules, each named for what it holds:
//! - [`format`]: the on-disk entry layout (see `docs/FORMAT.md`)
//! - [`hash`]: key hashing and namespaces
//! - [`recovery`]: finding the valid prefix of a file on open
//! - [`salvage`]: telling a torn tail from damage past it, and `repair`
//! - [`index`]: key hash -> live entry
//! - [`mapping`]: the read-only engine map and the private JS views
//! - [`store`]: writes, reads, compaction, verification
//! - `batch`: encoding a batch at the tail; `writer`: the append path (`pwrite` at the tail, rollback)
//! - [`iter`], [`stream`], [`entry`], [`simd_copy`], [`error`]

mod batch;
pub mod entry;
pub mod error;
pub mod format;
pub mod hash;
pub mod index;
pub mod iter;
pub mod mapping;
pub mod recovery;
mod registry;
pub mod salvage;
pub mod simd_copy;
pub mod store;
pub mod stream;
mod writer;

pub use entry::EntryHandle;
pub use error::{Error, Result};
pub use hash::{compute_hash, NamespaceHasher};
pub use store::{Applied, Group, Located, Op, OpenOptions, Part, Store};
pub use stream::StreamWriter;
