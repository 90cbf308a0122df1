//! Node binding of the SIMD R Drive engine (`srd-engine`): argument
//! conversion, classes and coded errors only; no engine logic here.
//!
//! Modules, bottom up (each uses only modules before it; no cycle, checked
//! by `scripts/layers.mjs`):
//! - `errno`, `errors`: engine errors as Node errors (a per-platform errno table)
//! - `pool`, `args`: JS values to keys, hashes and payloads
//! - `tasks`: one operation run sync (inline) or async (libuv worker)
//! - `views`: external ArrayBuffers over the engine's private maps
//! - `reads`: what a read answers (offset, `ABSENT`, `STALE`)
//! - `group`: the group-commit queue of the async writes
//! - `handle`: one JS handle's engine slot, write queue and view
//! - `fast`: raw N-API functions for the per-call hot paths
//! - `iter`, `stream`, `report`: the classes `NativeIter`, `NativeStreamWriter`, and repair reports
//! - `store`: the class `NativeStore`
//! - this file: free functions and test hooks

mod args;
mod errno;
mod errors;
mod fast;
mod group;
mod handle;
mod iter;
mod pool;
mod reads;
mod report;
mod store;
mod stream;
mod tasks;
mod views;

use napi::bindgen_prelude::*;
use napi::Env;
use napi_derive::napi;

/// XXH3-64 (seed 0) of a key, as the Rust crate's `compute_hash`.
#[napi]
pub fn compute_hash(env: &Env, key: Unknown<'_>) -> Result<BigInt> {
    Ok(BigInt::from(args::key_hash(env, &key, "key")?))
}

/// CRC32 of bytes (the checksum stored with every payload).
#[napi]
pub fn crc32(bytes: &[u8]) -> u32 {
    srd_engine::format::checksum(bytes)
}

/// Namespaced keys: 16 bytes, `hash(prefix) LE ++ hash(key) LE`.
#[napi]
pub struct NamespaceHasher {
    inner: srd_engine::NamespaceHasher,
}

#[napi]
impl NamespaceHasher {
    #[napi(constructor)]
    pub fn new(env: &Env, prefix: Unknown<'_>) -> Result<Self> {
        let prefix = args::bytes(env, &prefix, "prefix")?;
        Ok(Self { inner: srd_engine::NamespaceHasher::new(&prefix) })
    }

    #[napi]
    pub fn namespace(&self, env: &Env, key: Unknown<'_>) -> Result<Buffer> {
        let key = args::bytes(env, &key, "key")?;
        Ok(self.inner.namespace(&key).to_vec().into())
    }
}

/// Test hook: a task whose engine call panics. It must reject its Promise
/// (with code `ERR_INTERNAL`) and leave the process running.
#[napi(ts_return_type = "Promise<void>")]
pub fn panic_in_task_for_test() -> AsyncTask<tasks::Job<tasks::Call<()>>> {
    tasks::spawn(tasks::call(|| panic!("deliberate panic from panicInTaskForTest")))
}

/// Test hook: the facts the TS layer holds as literals (src/format.ts), from
/// the engine and the binding, for a test to compare.
#[napi(object)]
pub struct FormatFacts {
    pub payload_alignment: u32,
    pub metadata_size: u32,
    pub key_hash_at: u32,
    pub prev_offset_at: u32,
    pub checksum_at: u32,
    /// What a read answers for an absent key (reads.rs).
    pub absent: f64,
    /// What a read answers when the caller's view is stale (reads.rs).
    pub stale: f64,
}

#[napi]
pub fn format_facts_for_test() -> FormatFacts {
    FormatFacts {
        payload_alignment: srd_engine::format::PAYLOAD_ALIGNMENT as u32,
        metadata_size: srd_engine::format::METADATA_SIZE as u32,
        key_hash_at: srd_engine::format::KEY_HASH_AT as u32,
        prev_offset_at: srd_engine::format::PREV_OFFSET_AT as u32,
        checksum_at: srd_engine::format::CHECKSUM_AT as u32,
        absent: reads::ABSENT,
        stale: reads::STALE,
    }
}

/// Test hook: the metadata bytes the engine writes for these fields, for a
/// test to decode with the TS layer's offsets.
#[napi]
pub fn encode_metadata_for_test(key_hash: BigInt, prev_offset: f64, checksum: u32) -> Buffer {
    let meta =
        srd_engine::format::Metadata { key_hash: key_hash.get_u64().1, prev_offset: prev_offset as u64, checksum };
    meta.encode().to_vec().into()
}
