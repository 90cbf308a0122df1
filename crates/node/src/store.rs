//! `NativeStore`: the engine's `Store` as a JS class. The public `DataStore`
//! (lib/index.ts) wraps it; reads return offsets into the view buffer.

use crate::args;
use crate::errors::{closed, OrThrow};
use crate::views;
use napi::bindgen_prelude::*;
use napi::Env;
use napi_derive::napi;
use srd_engine::{Op, OpenOptions, Store, StreamWriter};
use std::sync::Arc;

/// Result of `locate`: the caller's view is stale or too short.
const REFRESH: f64 = -2.0;
const ABSENT: f64 = -1.0;

#[napi]
pub struct NativeStore {
    store: Option<Arc<Store>>,
}

impl NativeStore {
    fn get(&self, env: &Env) -> Result<&Arc<Store>> {
        self.store.as_ref().ok_or_else(|| closed(env))
    }
}

fn located(r: std::result::Result<Option<u64>, ()>) -> f64 {
    match r {
        Ok(Some(m)) => m as f64,
        Ok(None) => ABSENT,
        Err(()) => REFRESH,
    }
}

#[napi]
impl NativeStore {
    #[napi(factory)]
    pub fn open(env: &Env, path: String, create: bool, repair: bool, durable: bool) -> Result<Self> {
        let store = Store::open(&path, OpenOptions { create, repair, durable }).or_throw(env)?;
        Ok(Self { store: Some(store) })
    }

    /// Releases this handle on the engine (the file closes with the last one).
    #[napi]
    pub fn close(&mut self) {
        self.store = None;
    }

    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.store.is_none()
    }

    #[napi(getter)]
    pub fn path(&self, env: &Env) -> Result<String> {
        Ok(self.get(env)?.path().to_string_lossy().into_owned())
    }

    // ---- writes ----

    #[napi]
    pub fn write(&self, env: &Env, key: Unknown<'_>, payload: Unknown<'_>) -> Result<f64> {
        let s = self.get(env)?;
        let h = args::key_hash(env, &key, "key")?;
        let p = args::bytes(env, &payload, "payload")?;
        Ok(s.apply(&[Op::Put(h, &p)], false).or_throw(env)? as f64)
    }

    #[napi]
    pub fn write_with_key_hash(&self, env: &Env, hash: Unknown<'_>, payload: Unknown<'_>) -> Result<f64> {
        let s = self.get(env)?;
        let h = args::hash(env, &hash, "keyHash")?;
        let p = args::bytes(env, &payload, "payload")?;
        Ok(s.apply(&[Op::Put(h, &p)], false).or_throw(env)? as f64)
    }

    #[napi]
    pub fn batch_write(&self, env: &Env, entries: Unknown<'_>) -> Result<f64> {
        let s = self.get(env)?;
        let items = args::array(env, &entries, "entries")?;
        let mut hashes = Vec::with_capacity(items.len());
        let mut payloads = Vec::with_capacity(items.len());
        for item in &items {
            let (k, p) = args::pair(env, item, "each entry")?;
            hashes.push(args::key_hash(env, &k, "key")?);
            payloads.push(args::bytes(env, &p, "payload")?);
        }
        let ops: Vec<Op> = hashes.iter().zip(&payloads).map(|(&h, p)| Op::Put(h, p)).collect();
        Ok(s.apply(&ops, false).or_throw(env)? as f64)
    }

    #[napi]
    pub fn batch_write_with_key_hashes(&self, env: &Env, entries: Unknown<'_>, allow_null_bytes: Option<bool>) -> Result<f64> {
        let s = self.get(env)?;
        let items = args::array(env, &entries, "entries")?;
        let mut hashes = Vec::with_capacity(items.len());
        let mut payloads = Vec::with_capacity(items.len());
        for item in &items {
            let (k, p) = args::pair(env, item, "each entry")?;
            hashes.push(args::hash(env, &k, "keyHash")?);
            payloads.push(args::bytes(env, &p, "payload")?);
        }
        let ops: Vec<Op> = hashes.iter().zip(&payloads).map(|(&h, p)| Op::Put(h, p)).collect();
        Ok(s.apply(&ops, allow_null_bytes.unwrap_or(false)).or_throw(env)? as f64)
    }

    #[napi]
    pub fn delete(&self, env: &Env, key: Unknown<'_>) -> Result<f64> {
        let s = self.get(env)?;
        let h = args::key_hash(env, &key, "key")?;
        Ok(s.batch_delete_key_hashes(&[h]).or_throw(env)? as f64)
    }

    #[napi]
    pub fn batch_delete(&self, env: &Env, keys: Unknown<'_>) -> Result<f64> {
        let s = self.get(env)?;
        let hashes = args::array(env, &keys, "keys")?
            .iter()
            .map(|k| args::key_hash(env, k, "key"))
            .collect::<Result<Vec<u64>>>()?;
        Ok(s.batch_delete_key_hashes(&hashes).or_throw(env)? as f64)
    }

    #[napi]
    pub fn batch_delete_key_hashes(&self, env: &Env, hashes: Unknown<'_>) -> Result<f64> {
        let s = self.get(env)?;
        let hashes = args::array(env, &hashes, "keyHashes")?
            .iter()
            .map(|h| args::hash(env, h, "keyHash"))
            .collect::<Result<Vec<u64>>>()?;
        Ok(s.batch_delete_key_hashes(&hashes).or_throw(env)? as f64)
    }

    #[napi]
    pub fn rename(&self, env: &Env, old_key: Unknown<'_>, new_key: Unknown<'_>) -> Result<f64> {
        let s = self.get(env)?;
        let old = args::bytes(env, &old_key, "oldKey")?;
        let new = args::bytes(env, &new_key, "newKey")?;
        Ok(s.rename(&old, &new).or_throw(env)? as f64)
    }

    #[napi]
    pub fn copy(&self, env: &Env, key: Unknown<'_>, target: &NativeStore) -> Result<f64> {
        let s = self.get(env)?;
        let t = target.get(env)?;
        let key = args::bytes(env, &key, "key")?;
        Ok(s.copy(&key, t).or_throw(env)? as f64)
    }

    #[napi]
    pub fn transfer(&self, env: &Env, key: Unknown<'_>, target: &NativeStore) -> Result<f64> {
        let s = self.get(env)?;
        let t = target.get(env)?;
        let key = args::bytes(env, &key, "key")?;
        Ok(s.transfer(&key, t).or_throw(env)? as f64)
    }

    #[napi]
    pub fn sync(&self, env: &Env) -> Result<()> {
        self.get(env)?.sync().or_throw(env)
    }

    #[napi]
    pub fn stream_begin(&self, env: &Env, key: Unknown<'_>) -> Result<NativeStreamWriter> {
        let s = self.get(env)?;
        let h = args::key_hash(env, &key, "key")?;
        Ok(NativeStreamWriter { inner: Some(s.stream_writer(h)) })
    }

    #[napi]
    pub fn stream_begin_with_key_hash(&self, env: &Env, hash: Unknown<'_>) -> Result<NativeStreamWriter> {
        let s = self.get(env)?;
        let h = args::hash(env, &hash, "keyHash")?;
        Ok(NativeStreamWriter { inner: Some(s.stream_writer(h)) })
    }

    // ---- reads: offsets into the caller's view ----

    /// Metadata offset of `key`'s live entry in the view of `generation`
    /// covering `viewLen` bytes; -1 absent; -2 the view must be refreshed.
    #[napi]
    pub fn locate(&self, env: &Env, key: Unknown<'_>, generation: f64, view_len: f64) -> Result<f64> {
        let s = self.get(env)?;
        let h = args::key_hash(env, &key, "key")?;
        Ok(located(s.locate(h, generation as u64, view_len as u64)))
    }

    #[napi]
    pub fn locate_with_key_hash(&self, env: &Env, hash: Unknown<'_>, generation: f64, view_len: f64) -> Result<f64> {
        let s = self.get(env)?;
        let h = args::hash(env, &hash, "keyHash")?;
        Ok(located(s.locate(h, generation as u64, view_len as u64)))
    }

    #[napi]
    pub fn locate_last(&self, env: &Env, generation: f64, view_len: f64) -> Result<f64> {
        let s = self.get(env)?;
        Ok(located(s.locate_last(generation as u64, view_len as u64)))
    }

    /// Offsets of several keys (`-1` for absent ones), or `null` if the view must be refreshed.
    #[napi]
    pub fn batch_locate(&self, env: &Env, keys: Unknown<'_>, hashed: bool, generation: f64, view_len: f64) -> Result<Option<Vec<f64>>> {
        let s = self.get(env)?;
        let items = args::array(env, &keys, if hashed { "keyHashes" } else { "keys" })?;
        let mut out = Vec::with_capacity(items.len());
        for item in &items {
            let h = if hashed { args::hash(env, item, "keyHash")? } else { args::key_hash(env, item, "key")? };
            let r = located(s.locate(h, generation as u64, view_len as u64));
            if r == REFRESH {
                return Ok(None);
            }
            out.push(r);
        }
        Ok(Some(out))
    }

    /// `[viewBuffer, generation]`: the current private view covering the tail.
    #[napi]
    pub fn view<'env>(&self, env: &'env Env) -> Result<Array<'env>> {
        let s = self.get(env)?;
        let (view, generation) = s.view().or_throw(env)?;
        let mut out = env.create_array(2)?;
        out.set(0, views::array_buffer(env, view)?)?;
        out.set(1, generation as f64)?;
        Ok(out)
    }

    #[napi]
    pub fn exists(&self, env: &Env, key: Unknown<'_>) -> Result<bool> {
        let s = self.get(env)?;
        Ok(s.exists_with_key_hash(args::key_hash(env, &key, "key")?))
    }

    #[napi]
    pub fn exists_with_key_hash(&self, env: &Env, hash: Unknown<'_>) -> Result<bool> {
        let s = self.get(env)?;
        Ok(s.exists_with_key_hash(args::hash(env, &hash, "keyHash")?))
    }

    /// Checks that `keys[i]` hashes to `hashes[i]` (`ERR_HASH_COLLISION` if not).
    #[napi]
    pub fn check_key_hashes(&self, env: &Env, hashes: Unknown<'_>, keys: Unknown<'_>) -> Result<()> {
        let s = self.get(env)?;
        let hashes = args::array(env, &hashes, "keyHashes")?
            .iter()
            .map(|h| args::hash(env, h, "keyHash"))
            .collect::<Result<Vec<u64>>>()?;
        let keys = args::array(env, &keys, "keys")?
            .iter()
            .map(|k| args::bytes(env, k, "key"))
            .collect::<Result<Vec<_>>>()?;
        let keys: Vec<&[u8]> = keys.iter().map(|k| &k[..]).collect();
        s.batch_read_hashed_keys(&hashes, Some(&keys)).or_throw(env).map(|_| ())
    }

    #[napi]
    pub fn len(&self, env: &Env) -> Result<f64> {
        Ok(self.get(env)?.len() as f64)
    }

    #[napi]
    pub fn file_size(&self, env: &Env) -> Result<f64> {
        Ok(self.get(env)?.file_size() as f64)
    }

    #[napi]
    pub fn estimate_compaction_savings(&self, env: &Env) -> Result<f64> {
        Ok(self.get(env)?.estimate_compaction_savings().or_throw(env)? as f64)
    }

    #[napi]
    pub fn compact(&self, env: &Env) -> Result<()> {
        self.get(env)?.compact().or_throw(env)
    }

    /// Live entries whose checksum does not match: `[keyHash, metadataOffset]` pairs.
    #[napi]
    pub fn verify(&self, env: &Env) -> Result<Vec<(BigInt, f64)>> {
        let bad = self.get(env)?.verify().or_throw(env)?;
        Ok(bad.into_iter().map(|(h, m)| (BigInt::from(h), m as f64)).collect())
    }

    #[napi]
    pub fn iter(&self, env: &Env) -> Result<NativeIter> {
        let s = self.get(env)?;
        Ok(NativeIter { inner: s.iter().or_throw(env)? })
    }
}

/// A snapshot walk of live entries, newest first.
#[napi]
pub struct NativeIter {
    inner: srd_engine::iter::EntryIter,
}

#[napi]
impl NativeIter {
    /// The view of this snapshot's generation (valid for every offset it yields).
    #[napi]
    pub fn view<'env>(&self, env: &'env Env) -> Result<ArrayBuffer<'env>> {
        let view = self.inner.view().map_err(srd_engine::Error::from).or_throw(env)?;
        views::array_buffer(env, view)
    }

    /// Up to `max` metadata offsets; fewer (or none) at the end.
    #[napi]
    pub fn next_batch(&mut self, max: u32) -> Vec<f64> {
        let mut out = Vec::with_capacity(max.min(4096) as usize);
        while out.len() < max as usize {
            match self.inner.next_offset() {
                Some(m) => out.push(m as f64),
                None => break,
            }
        }
        out
    }
}

/// A streamed write in progress (spooled; appended on `finish`).
#[napi]
pub struct NativeStreamWriter {
    inner: Option<StreamWriter>,
}

#[napi]
impl NativeStreamWriter {
    #[napi]
    pub fn write(&mut self, env: &Env, chunk: Unknown<'_>) -> Result<()> {
        let bytes = args::bytes(env, &chunk, "chunk")?;
        match self.inner.as_mut() {
            Some(w) => w.write(&bytes).or_throw(env),
            None => Err(crate::errors::invalid_value(env, "the stream is already finished")),
        }
    }

    #[napi]
    pub fn finish(&mut self, env: &Env) -> Result<f64> {
        match self.inner.take() {
            Some(w) => Ok(w.finish().or_throw(env)? as f64),
            None => Err(crate::errors::invalid_value(env, "the stream is already finished")),
        }
    }

    /// Discards the spooled payload; nothing is written.
    #[napi]
    pub fn abort(&mut self) {
        self.inner = None;
    }
}
