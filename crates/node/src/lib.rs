//! Node binding of the SIMD R Drive engine (`srd-engine`): argument
//! conversion, classes and coded errors only; no engine logic here.

mod args;
mod errno;
mod errors;
mod fast;
mod group;
mod pool;
mod store;
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
pub fn panic_in_task_for_test() -> AsyncTask<tasks::Job> {
    tasks::Job::new(|| panic!("deliberate panic from panicInTaskForTest"))
}
