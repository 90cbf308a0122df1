//! `NativeStore`: the engine's `Store` as a JS class. The public `DataStore`
//! (src/store.ts) wraps it; reads return offsets into the view buffer.
//!
//! An operation with a sync and an async method converts its arguments and
//! makes its engine call once, in a `*_work` function returning a
//! `tasks::Call`: the sync method runs it inline (`tasks::run`), the async
//! one on a libuv worker thread (`tasks::spawn`).

use crate::args;
use crate::errors::{throw, Coded, OrThrow};
use crate::group::{self, borrow, OpKind, Outcomes};
use crate::handle::Handle;
use crate::iter::NativeIter;
use crate::reads::{batch_located, located};
use crate::report::RepairReport;
use crate::stream::NativeStreamWriter;
use crate::tasks::{self, call, Call, Job};
use crate::views;
use napi::bindgen_prelude::*;
use napi::Env;
use napi_derive::napi;
use srd_engine::{Op, Part, Store};
use std::sync::Arc;
use typed_arena::Arena;

/// How to open a store (`NativeStore.open`); the TS layer checks the
/// user's options and passes these.
#[napi(object)]
pub struct NativeOpenOptions {
    /// Create the file if it is missing (else `ENOENT`).
    pub create: bool,
    /// Rebuild a damaged file (see `salvage`).
    pub repair: Option<bool>,
    /// fsync every write or batch before it returns.
    pub durable: Option<bool>,
    /// Keep other processes out while open (`ERR_STORE_LOCKED` for them).
    pub exclusive: Option<bool>,
    /// Open without write access; writers fail with `ERR_STORE_READ_ONLY`.
    pub read_only: Option<bool>,
    /// Record the bytes of keys written by key, so that `keys()` lists them.
    pub keys: Option<bool>,
}

impl From<NativeOpenOptions> for srd_engine::OpenOptions {
    fn from(o: NativeOpenOptions) -> Self {
        srd_engine::OpenOptions {
            create: o.create,
            repair: o.repair == Some(true),
            durable: o.durable == Some(true),
            exclusive: o.exclusive == Some(true),
            read_only: o.read_only == Some(true),
            keys: o.keys == Some(true),
        }
    }
}

/// Live entries whose checksum does not match: `(keyHash, metadataOffset)`.
type Corrupt = Vec<(BigInt, f64)>;

/// Listed keys, handed to JS as `[bytes, ends]`: one Buffer of every key's
/// bytes, one after the other, and the offset where each ends, which the TS
/// layer slices (a Buffer per key made here cost ~1.5 us each: 200,000 keys
/// took 360 ms; a `subarray` in JS costs a tenth of that).
pub struct KeyList(Vec<Vec<u8>>);

/// A listing of keys, run by `keys` and `keysAsync`.
type ListKeys = Call<Vec<Vec<u8>>, KeyList>;

impl From<Vec<Vec<u8>>> for KeyList {
    fn from(keys: Vec<Vec<u8>>) -> KeyList {
        KeyList(keys)
    }
}

impl TypeName for KeyList {
    fn type_name() -> &'static str {
        "[Buffer, Float64Array]"
    }
    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl ToNapiValue for KeyList {
    unsafe fn to_napi_value(env: napi::sys::napi_env, val: Self) -> Result<napi::sys::napi_value> {
        let mut bytes = Vec::with_capacity(val.0.iter().map(Vec::len).sum());
        let mut ends = Vec::with_capacity(val.0.len());
        for key in val.0 {
            bytes.extend_from_slice(&key);
            ends.push(bytes.len() as f64);
        }
        let env = Env::from_raw(env);
        let mut out = env.create_array(2)?;
        out.set(0, Buffer::from(bytes))?;
        out.set(1, Float64Array::new(ends))?;
        // SAFETY: `out` is a live array of this env.
        unsafe { Array::to_napi_value(env.raw(), out) }
    }
}

#[napi]
pub struct NativeStore {
    handle: Handle,
}

impl From<Arc<Store>> for NativeStore {
    fn from(store: Arc<Store>) -> Self {
        Self { handle: Handle::new(store) }
    }
}

impl NativeStore {
    fn get(&self, env: &Env) -> Result<Arc<Store>> {
        self.handle.get(env)
    }

    fn open_work(path: String, options: NativeOpenOptions) -> Call<Arc<Store>, NativeStore> {
        let options = options.into();
        call(move || Ok(Store::open(&path, options)?))
    }

    /// A call of `f` on this handle's engine (taken now: `ERR_STORE_CLOSED` if closed).
    fn on_store<T: Send + 'static>(
        &self,
        env: &Env,
        f: impl FnOnce(&Arc<Store>) -> srd_engine::Result<T> + Send + 'static,
    ) -> Result<Call<T>> {
        let s = self.get(env)?;
        Ok(call(move || Ok(f(&s)?)))
    }

    fn rename_work(&self, env: &Env, old_key: &Unknown<'_>, new_key: &Unknown<'_>) -> Result<Call<f64>> {
        let s = self.get(env)?;
        let old = args::bytes(env, old_key, "oldKey")?.into_owned();
        let new = args::bytes(env, new_key, "newKey")?.into_owned();
        Ok(call(move || Ok(s.rename(&old, &new).map_err(|e| Coded::of(&e).naming_key(&old))? as f64)))
    }

    fn copy_work(&self, env: &Env, key: &Unknown<'_>, target: &NativeStore) -> Result<Call<f64>> {
        let (s, t) = (self.get(env)?, target.get(env)?);
        let key = args::bytes(env, key, "key")?.into_owned();
        Ok(call(move || Ok(s.copy(&key, &t).map_err(|e| Coded::of(&e).naming_key(&key))? as f64)))
    }

    fn transfer_work(&self, env: &Env, key: &Unknown<'_>, target: &NativeStore) -> Result<Call<f64>> {
        let (s, t) = (self.get(env)?, target.get(env)?);
        let key = args::bytes(env, key, "key")?.into_owned();
        Ok(call(move || Ok(s.transfer(&key, &t).map_err(|e| Coded::of(&e).naming_key(&key))? as f64)))
    }

    fn locate_last_work(&self, env: &Env, generation: f64, view_len: f64) -> Result<Call<f64>> {
        self.on_store(env, move |s| Ok(located(s.locate_last(generation as u64, view_len as u64)?)))
    }

    fn batch_locate_work(
        &self,
        env: &Env,
        keys: &Unknown<'_>,
        hashed: bool,
        generation: f64,
        view_len: f64,
    ) -> Result<Call<Vec<f64>>> {
        let s = self.get(env)?;
        let hashes = args::key_hashes(env, keys, hashed)?;
        Ok(call(move || Ok(batch_located(&s, &hashes, generation as u64, view_len as u64))))
    }

    fn keys_work(&self, env: &Env, prefix: Option<Unknown<'_>>) -> Result<ListKeys> {
        let s = self.get(env)?;
        let prefix = match prefix {
            Some(p) if !matches!(p.get_type()?, ValueType::Undefined | ValueType::Null) => {
                args::bytes(env, &p, "prefix")?.into_owned()
            }
            _ => Vec::new(),
        };
        Ok(call(move || Ok(s.keys(&prefix)?)))
    }

    fn verify_work(&self, env: &Env) -> Result<Call<Corrupt>> {
        self.on_store(env, |s| Ok(s.verify()?.into_iter().map(|(h, m)| (BigInt::from(h), m as f64)).collect()))
    }
}

/// The hash of a key (`hashed == false`) or a bigint key hash.
fn key_hash(env: &Env, key: &Unknown<'_>, hashed: bool) -> Result<u64> {
    if hashed {
        args::hash(env, key, "keyHash")
    } else {
        args::key_hash(env, key, "key")
    }
}

/// Puts converted per part of a batch: more than one part, and the engine
/// appends each part on another thread while the next is converted (the
/// conversion costs about as much as the append; measured on this machine,
/// a 100,000-entry batch in a fresh process 37.8 -> 35.0 ms, median of 12
/// alternating runs). One part is applied directly (a thread costs ~50 us).
const PART: u32 = 4096;

/// Applies a batch of puts, all or nothing; returns the tail.
fn apply_puts(env: &Env, s: &Store, mut puts: args::Puts<'_, '_>, allow_null: bool) -> Result<f64> {
    if puts.len() <= PART {
        return Ok(s.apply(&puts.part(PART)?, allow_null).or_throw(env)? as f64);
    }
    let mut failed = None;
    let r = s.apply_parts(allow_null, || match puts.part(PART) {
        Ok(ops) if ops.is_empty() => Part::End,
        Ok(ops) => Part::Puts(ops),
        Err(e) => {
            failed = Some(e);
            Part::Abort
        }
    });
    // A conversion error was thrown to JS already: it, not the abort, is the error.
    if let Some(e) = failed {
        return Err(e);
    }
    Ok(r.or_throw(env)? as f64)
}

#[napi]
impl NativeStore {
    #[napi(factory)]
    pub fn open(env: &Env, path: String, options: NativeOpenOptions) -> Result<Self> {
        tasks::run(env, Self::open_work(path, options))
    }

    #[napi(ts_return_type = "Promise<NativeStore>")]
    pub fn open_async(path: String, options: NativeOpenOptions) -> AsyncTask<Job<Call<Arc<Store>, NativeStore>>> {
        tasks::spawn(Self::open_work(path, options))
    }

    /// Releases this handle on the engine (the file closes with the last one).
    #[napi]
    pub fn close(&self, env: &Env) -> Result<()> {
        let mut slot =
            self.handle.slot.try_borrow_mut().map_err(|_| throw(env, "ERR_INTERNAL", "store handle busy"))?;
        slot.take();
        Ok(())
    }

    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.handle.live().is_none()
    }

    /// Raw functions bound to this handle (fast.rs).
    #[napi(
        ts_return_type = "{ locate: (key: unknown) => number; locateWithKeyHash: (keyHash: unknown) => number; write: (key: unknown, payload: unknown) => number; enqueueWrite: (key: unknown, payload: unknown) => void }"
    )]
    pub fn fast_functions<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        crate::fast::functions(env, &self.handle)
    }

    /// What `repair` did when the open that made this engine rebuilt a damaged file; null if it did not.
    #[napi]
    pub fn repair_report(&self, env: &Env) -> Result<Option<RepairReport>> {
        Ok(self.get(env)?.repair_report().map(RepairReport::from))
    }

    #[napi(getter)]
    pub fn path(&self, env: &Env) -> Result<String> {
        Ok(self.get(env)?.path().to_string_lossy().into_owned())
    }

    // ---- writes (the async API's go through the group-commit queue: `enqueue`) ----

    #[napi]
    pub fn write_with_key_hash(&self, env: &Env, hash: Unknown<'_>, payload: Unknown<'_>) -> Result<f64> {
        let s = self.get(env)?;
        let h = args::hash(env, &hash, "keyHash")?;
        let p = args::bytes(env, &payload, "payload")?;
        Ok(s.apply(&[Op::Put(h, &p)], false).or_throw(env)? as f64)
    }

    #[napi]
    pub fn batch_write(&self, env: &Env, keys: Unknown<'_>, payloads: Unknown<'_>) -> Result<f64> {
        let strings = Arena::new();
        let s = self.get(env)?;
        let keyed = s.records_keys();
        apply_puts(env, &s, args::Puts::new(env, &keys, &payloads, false, &strings)?.keyed(keyed), false)
    }

    #[napi]
    pub fn batch_write_with_key_hashes(
        &self,
        env: &Env,
        key_hashes: Unknown<'_>,
        payloads: Unknown<'_>,
        allow_null_bytes: bool,
    ) -> Result<f64> {
        let strings = Arena::new();
        apply_puts(
            env,
            &*self.get(env)?,
            args::Puts::new(env, &key_hashes, &payloads, true, &strings)?,
            allow_null_bytes,
        )
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
        let hashes = args::key_hashes(env, &keys, false)?;
        Ok(s.batch_delete_key_hashes(&hashes).or_throw(env)? as f64)
    }

    #[napi]
    pub fn batch_delete_key_hashes(&self, env: &Env, hashes: Unknown<'_>) -> Result<f64> {
        let s = self.get(env)?;
        let hashes = args::key_hashes(env, &hashes, true)?;
        Ok(s.batch_delete_key_hashes(&hashes).or_throw(env)? as f64)
    }

    #[napi]
    pub fn rename(&self, env: &Env, old_key: Unknown<'_>, new_key: Unknown<'_>) -> Result<f64> {
        tasks::run(env, self.rename_work(env, &old_key, &new_key)?)
    }

    #[napi(ts_return_type = "Promise<number>")]
    pub fn rename_async(
        &self,
        env: &Env,
        old_key: Unknown<'_>,
        new_key: Unknown<'_>,
    ) -> Result<AsyncTask<Job<Call<f64>>>> {
        Ok(tasks::spawn(self.rename_work(env, &old_key, &new_key)?))
    }

    #[napi]
    pub fn copy(&self, env: &Env, key: Unknown<'_>, target: &NativeStore) -> Result<f64> {
        tasks::run(env, self.copy_work(env, &key, target)?)
    }

    #[napi(ts_return_type = "Promise<number>")]
    pub fn copy_async(&self, env: &Env, key: Unknown<'_>, target: &NativeStore) -> Result<AsyncTask<Job<Call<f64>>>> {
        Ok(tasks::spawn(self.copy_work(env, &key, target)?))
    }

    #[napi]
    pub fn transfer(&self, env: &Env, key: Unknown<'_>, target: &NativeStore) -> Result<f64> {
        tasks::run(env, self.transfer_work(env, &key, target)?)
    }

    #[napi(ts_return_type = "Promise<number>")]
    pub fn transfer_async(
        &self,
        env: &Env,
        key: Unknown<'_>,
        target: &NativeStore,
    ) -> Result<AsyncTask<Job<Call<f64>>>> {
        Ok(tasks::spawn(self.transfer_work(env, &key, target)?))
    }

    #[napi]
    pub fn sync(&self, env: &Env) -> Result<()> {
        tasks::run(env, self.on_store(env, |s| s.sync())?)
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn sync_async(&self, env: &Env) -> Result<AsyncTask<Job<Call<()>>>> {
        Ok(tasks::spawn(self.on_store(env, |s| s.sync())?))
    }

    #[napi]
    pub fn stream_begin(&self, env: &Env, key: Unknown<'_>) -> Result<NativeStreamWriter> {
        let s = self.get(env)?;
        let key = args::bytes(env, &key, "key")?;
        let h = srd_engine::compute_hash(&key);
        Ok(NativeStreamWriter::new(s.stream_writer(h, Some(&key)).or_throw(env)?))
    }

    #[napi]
    pub fn stream_begin_with_key_hash(&self, env: &Env, hash: Unknown<'_>) -> Result<NativeStreamWriter> {
        let s = self.get(env)?;
        let h = args::hash(env, &hash, "keyHash")?;
        Ok(NativeStreamWriter::new(s.stream_writer(h, None).or_throw(env)?))
    }

    /// Group commit: queues `kind(keys[i], payloads[i])` (put/delete by
    /// key or key hash) as one all-or-nothing group; throws and queues
    /// nothing on a bad argument. Its outcome is in what the `flushAsync`
    /// that appends it resolves to.
    #[napi]
    pub fn enqueue(
        &self,
        env: &Env,
        kind: OpKind,
        keys: Unknown<'_>,
        payloads: Unknown<'_>,
        allow_null: bool,
    ) -> Result<()> {
        let keyed = self.get(env)?.records_keys();
        group::push_group(env, &self.handle.queue, kind, &keys, &payloads, allow_null, keyed)
    }

    /// Ends the open batch of queued groups; later ones start a new batch.
    #[napi]
    pub fn cut_batch(&self, env: &Env) -> Result<()> {
        borrow(env, &self.handle.queue)?.cut();
        Ok(())
    }

    /// Appends the oldest queued batch in one write on a worker thread;
    /// resolves to `[tails, failures]`, one outcome per group (group.rs
    /// `Outcomes`). Throws `ERR_STORE_CLOSED` (dropping the batch) if closed.
    #[napi(ts_return_type = "Promise<[Float64Array, Array<number | Error> | null]>")]
    pub fn flush_async(&self, env: &Env) -> Result<AsyncTask<Job<Call<Outcomes>>>> {
        let batch = borrow(env, &self.handle.queue)?.take();
        Ok(tasks::spawn(group::flush(self.get(env)?, batch)))
    }

    // ---- reads: offsets into the caller's view (reads.rs) ----

    #[napi]
    pub fn locate_last(&self, env: &Env, generation: f64, view_len: f64) -> Result<f64> {
        tasks::run(env, self.locate_last_work(env, generation, view_len)?)
    }

    #[napi(ts_return_type = "Promise<number>")]
    pub fn locate_last_async(&self, env: &Env, generation: f64, view_len: f64) -> Result<AsyncTask<Job<Call<f64>>>> {
        Ok(tasks::spawn(self.locate_last_work(env, generation, view_len)?))
    }

    /// `locate` (fast.rs) of a key or key hash on a worker thread, in the view `(generation, viewLen)`.
    #[napi(ts_return_type = "Promise<number>")]
    pub fn locate_async(
        &self,
        env: &Env,
        key: Unknown<'_>,
        hashed: bool,
        generation: f64,
        view_len: f64,
    ) -> Result<AsyncTask<Job<Call<f64>>>> {
        let s = self.get(env)?;
        let h = key_hash(env, &key, hashed)?;
        Ok(tasks::spawn(call(move || Ok(located(s.locate(h, generation as u64, view_len as u64))))))
    }

    #[napi(ts_return_type = "Promise<boolean>")]
    pub fn exists_async(&self, env: &Env, key: Unknown<'_>, hashed: bool) -> Result<AsyncTask<Job<Call<bool>>>> {
        let s = self.get(env)?;
        let h = key_hash(env, &key, hashed)?;
        Ok(tasks::spawn(call(move || Ok(s.exists_with_key_hash(h)))))
    }

    /// Offsets of several keys (`-1` for absent ones), or `[-2]` if the view must be refreshed.
    #[napi]
    pub fn batch_locate(
        &self,
        env: &Env,
        keys: Unknown<'_>,
        hashed: bool,
        generation: f64,
        view_len: f64,
    ) -> Result<Vec<f64>> {
        tasks::run(env, self.batch_locate_work(env, &keys, hashed, generation, view_len)?)
    }

    #[napi(ts_return_type = "Promise<number[]>")]
    pub fn batch_locate_async(
        &self,
        env: &Env,
        keys: Unknown<'_>,
        hashed: bool,
        generation: f64,
        view_len: f64,
    ) -> Result<AsyncTask<Job<Call<Vec<f64>>>>> {
        Ok(tasks::spawn(self.batch_locate_work(env, &keys, hashed, generation, view_len)?))
    }

    /// `[payloadBuffer, metadataBuffer, generation]`: the current private
    /// view covering the tail (its two maps: see `ViewMap`).
    #[napi(ts_return_type = "[ArrayBuffer, ArrayBuffer, number]")]
    pub fn view<'env>(&self, env: &'env Env) -> Result<Array<'env>> {
        let s = self.get(env)?;
        let (view, generation) = s.view().or_throw(env)?;
        self.handle.seen.set((generation, view.len()));
        let buffers = views::array_buffers(env, view)?;
        let mut out = env.create_array(3)?;
        out.set(0, buffers.get::<Unknown>(0)?)?;
        out.set(1, buffers.get::<Unknown>(1)?)?;
        out.set(2, generation as f64)?;
        Ok(out)
    }

    /// Checks that `keys[i]` hashes to `hashes[i]` (`ERR_HASH_COLLISION` if not).
    #[napi]
    pub fn check_key_hashes(&self, env: &Env, hashes: Unknown<'_>, keys: Unknown<'_>) -> Result<()> {
        let s = self.get(env)?;
        let hashes = args::key_hashes(env, &hashes, true)?;
        let keys =
            args::array(env, &keys, "keys")?.iter().map(|k| args::bytes(env, k, "key")).collect::<Result<Vec<_>>>()?;
        let keys: Vec<&[u8]> = keys.iter().map(|k| &k[..]).collect();
        s.batch_read_hashed_keys(&hashes, Some(&keys)).or_throw(env).map(|_| ())
    }

    /// The recorded live keys starting with `prefix` (all if omitted), oldest record first.
    #[napi(ts_return_type = "[Buffer, Float64Array]")]
    pub fn keys(&self, env: &Env, prefix: Option<Unknown<'_>>) -> Result<KeyList> {
        tasks::run(env, self.keys_work(env, prefix)?)
    }

    #[napi(ts_return_type = "Promise<[Buffer, Float64Array]>")]
    pub fn keys_async(&self, env: &Env, prefix: Option<Unknown<'_>>) -> Result<AsyncTask<Job<ListKeys>>> {
        Ok(tasks::spawn(self.keys_work(env, prefix)?))
    }

    /// The recorded key of a live key hash, or null.
    #[napi]
    pub fn key_of(&self, env: &Env, key_hash: Unknown<'_>) -> Result<Option<Buffer>> {
        let s = self.get(env)?;
        let h = args::hash(env, &key_hash, "keyHash")?;
        Ok(s.key_of(h).or_throw(env)?.map(Buffer::from))
    }

    #[napi]
    pub fn len(&self, env: &Env) -> Result<f64> {
        tasks::run(env, self.on_store(env, |s| Ok(s.len() as f64))?)
    }

    #[napi(ts_return_type = "Promise<number>")]
    pub fn len_async(&self, env: &Env) -> Result<AsyncTask<Job<Call<f64>>>> {
        Ok(tasks::spawn(self.on_store(env, |s| Ok(s.len() as f64))?))
    }

    #[napi]
    pub fn file_size(&self, env: &Env) -> Result<f64> {
        tasks::run(env, self.on_store(env, |s| Ok(s.file_size() as f64))?)
    }

    #[napi(ts_return_type = "Promise<number>")]
    pub fn file_size_async(&self, env: &Env) -> Result<AsyncTask<Job<Call<f64>>>> {
        Ok(tasks::spawn(self.on_store(env, |s| Ok(s.file_size() as f64))?))
    }

    #[napi]
    pub fn estimate_compaction_savings(&self, env: &Env) -> Result<f64> {
        tasks::run(env, self.on_store(env, |s| Ok(s.estimate_compaction_savings()? as f64))?)
    }

    #[napi(ts_return_type = "Promise<number>")]
    pub fn estimate_compaction_savings_async(&self, env: &Env) -> Result<AsyncTask<Job<Call<f64>>>> {
        Ok(tasks::spawn(self.on_store(env, |s| Ok(s.estimate_compaction_savings()? as f64))?))
    }

    #[napi]
    pub fn compact(&self, env: &Env) -> Result<()> {
        tasks::run(env, self.on_store(env, |s| s.compact())?)
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn compact_async(&self, env: &Env) -> Result<AsyncTask<Job<Call<()>>>> {
        Ok(tasks::spawn(self.on_store(env, |s| s.compact())?))
    }

    /// Live entries whose checksum does not match: `[keyHash, metadataOffset]` pairs.
    #[napi(ts_return_type = "Array<[bigint, number]>")]
    pub fn verify(&self, env: &Env) -> Result<Corrupt> {
        tasks::run(env, self.verify_work(env)?)
    }

    #[napi(ts_return_type = "Promise<Array<[bigint, number]>>")]
    pub fn verify_async(&self, env: &Env) -> Result<AsyncTask<Job<Call<Corrupt>>>> {
        Ok(tasks::spawn(self.verify_work(env)?))
    }

    #[napi]
    pub fn iter(&self, env: &Env) -> Result<NativeIter> {
        Ok(NativeIter::new(self.get(env)?.iter().or_throw(env)?))
    }
}
