//! `NativeStore`: the engine's `Store` as a JS class. The public `DataStore`
//! (lib/index.ts) wraps it; reads return offsets into the view buffer.

use crate::args;
use crate::errors::{closed, Coded, OrThrow};
use crate::fast::Seen;
use crate::group::{self, borrow, SharedQueue};
use crate::tasks::{Job, Out};
use crate::views;
use napi::bindgen_prelude::*;
use napi::Env;
use napi_derive::napi;
use srd_engine::{Located, Op, OpenOptions, Part, Store, StreamWriter};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use typed_arena::Arena;

/// The view a handle has before its first `view()`: none.
const NO_VIEW: (u64, u64) = (u64::MAX, 0);

/// Result of `locate`: the caller's view is stale or too short.
const REFRESH: f64 = -2.0;
const ABSENT: f64 = -1.0;

/// This JS handle's share of an engine; emptied by `close()`. The fast
/// functions (fast.rs) are bound to the same slot. Only the JS thread that
/// owns the handle touches it (workers get their own `Arc<Store>`), and no
/// borrow of it spans a call into JS, so a `RefCell` is enough: a read pays
/// no atomic lock and unlock (a hot get is ~90 ns of call, measured).
pub type Slot = RefCell<Option<Arc<Store>>>;

#[napi]
pub struct NativeStore {
    slot: Rc<Slot>,
    queue: SharedQueue,
    seen: Seen,
}

impl NativeStore {
    pub(crate) fn from_arc(store: Arc<Store>) -> Self {
        Self {
            slot: Rc::new(RefCell::new(Some(store))),
            queue: SharedQueue::default(),
            seen: Seen::new(Cell::new(NO_VIEW)),
        }
    }

    fn get(&self, env: &Env) -> Result<Arc<Store>> {
        live(&self.slot).ok_or_else(|| closed(env))
    }
}

/// The engine of `slot`, or `None` once closed (or while `close` takes it).
pub fn live(slot: &Slot) -> Option<Arc<Store>> {
    slot.try_borrow().ok()?.clone()
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

pub(crate) fn located(r: Located) -> f64 {
    match r {
        Located::At(m) => m as f64,
        Located::Absent => ABSENT,
        Located::StaleView => REFRESH,
    }
}

/// What `repair` did to a damaged file (the engine's `salvage::RepairReport`).
#[napi(object)]
pub struct RepairReport {
    /// The damaged file as it was, kept beside the store.
    pub backup: String,
    /// Bytes kept as they were: every entry before the damage.
    pub kept_prefix: f64,
    /// Entries kept from past the damage (each proven by its checksum).
    pub salvaged_entries: u32,
    /// Byte ranges of the damaged file that were dropped.
    pub lost_ranges: Vec<LostRange>,
    /// Entries in those ranges whose metadata was still readable.
    pub lost_entries: Vec<LostEntry>,
    /// Size of the repaired file.
    pub new_size: f64,
}

#[napi(object)]
pub struct LostRange {
    pub start: f64,
    pub end: f64,
}

#[napi(object)]
pub struct LostEntry {
    pub key_hash: BigInt,
    /// Offset of its metadata in the damaged file.
    pub offset: f64,
}

#[napi]
impl NativeStore {
    #[napi(factory)]
    pub fn open(env: &Env, path: String, create: bool, repair: bool, durable: bool) -> Result<Self> {
        let store = Store::open(&path, OpenOptions { create, repair, durable }).or_throw(env)?;
        Ok(Self::from_arc(store))
    }

    /// Releases this handle on the engine (the file closes with the last one).
    #[napi]
    pub fn close(&self, env: &Env) -> Result<()> {
        let mut slot =
            self.slot.try_borrow_mut().map_err(|_| crate::errors::throw(env, "ERR_INTERNAL", "store handle busy"))?;
        slot.take();
        Ok(())
    }

    #[napi(getter)]
    pub fn closed(&self) -> bool {
        live(&self.slot).is_none()
    }

    /// `[locate, locateWithKeyHash, write, enqueueWrite]`: raw functions bound to this handle (fast.rs).
    #[napi(
        ts_return_type = "[(key: unknown) => number, (keyHash: unknown) => number, (key: unknown, payload: unknown) => number, (key: unknown, payload: unknown) => void]"
    )]
    pub fn fast_functions<'env>(&self, env: &'env Env) -> Result<Array<'env>> {
        crate::fast::functions(env, &self.slot, &self.queue, &self.seen)
    }

    /// What `repair` did when the open that made this engine rebuilt a damaged file; null if it did not.
    #[napi]
    pub fn repair_report(&self, env: &Env) -> Result<Option<RepairReport>> {
        let s = self.get(env)?;
        Ok(s.repair_report().map(|r| RepairReport {
            backup: r.backup.to_string_lossy().into_owned(),
            kept_prefix: r.kept_prefix as f64,
            salvaged_entries: r.salvaged_entries as u32,
            lost_ranges: r
                .lost_ranges
                .iter()
                .map(|&(start, end)| LostRange { start: start as f64, end: end as f64 })
                .collect(),
            lost_entries: r
                .lost_entries
                .iter()
                .map(|e| LostEntry { key_hash: BigInt::from(e.key_hash), offset: e.meta as f64 })
                .collect(),
            new_size: r.new_len as f64,
        }))
    }

    #[napi(getter)]
    pub fn path(&self, env: &Env) -> Result<String> {
        Ok(self.get(env)?.path().to_string_lossy().into_owned())
    }

    // ---- writes ----

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
        apply_puts(env, &*self.get(env)?, args::Puts::new(env, &keys, &payloads, false, &strings)?, false)
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
        let s = self.get(env)?;
        let old = args::bytes(env, &old_key, "oldKey")?;
        let new = args::bytes(env, &new_key, "newKey")?;
        Ok(s.rename(&old, &new).map_err(|e| Coded::of(&e).naming_key(&old)).or_throw(env)? as f64)
    }

    #[napi]
    pub fn copy(&self, env: &Env, key: Unknown<'_>, target: &NativeStore) -> Result<f64> {
        let s = self.get(env)?;
        let t = target.get(env)?;
        let key = args::bytes(env, &key, "key")?;
        Ok(s.copy(&key, &t).map_err(|e| Coded::of(&e).naming_key(&key)).or_throw(env)? as f64)
    }

    #[napi]
    pub fn transfer(&self, env: &Env, key: Unknown<'_>, target: &NativeStore) -> Result<f64> {
        let s = self.get(env)?;
        let t = target.get(env)?;
        let key = args::bytes(env, &key, "key")?;
        Ok(s.transfer(&key, &t).map_err(|e| Coded::of(&e).naming_key(&key)).or_throw(env)? as f64)
    }

    #[napi]
    pub fn sync(&self, env: &Env) -> Result<()> {
        self.get(env)?.sync().or_throw(env)
    }

    #[napi]
    pub fn stream_begin(&self, env: &Env, key: Unknown<'_>) -> Result<NativeStreamWriter> {
        let s = self.get(env)?;
        let h = args::key_hash(env, &key, "key")?;
        Ok(NativeStreamWriter::new(s.stream_writer(h)))
    }

    #[napi]
    pub fn stream_begin_with_key_hash(&self, env: &Env, hash: Unknown<'_>) -> Result<NativeStreamWriter> {
        let s = self.get(env)?;
        let h = args::hash(env, &hash, "keyHash")?;
        Ok(NativeStreamWriter::new(s.stream_writer(h)))
    }

    // ---- reads: offsets into the caller's view ----

    #[napi]
    pub fn locate_last(&self, env: &Env, generation: f64, view_len: f64) -> Result<f64> {
        let s = self.get(env)?;
        Ok(located(s.locate_last(generation as u64, view_len as u64).or_throw(env)?))
    }

    /// Offsets of several keys (`-1` for absent ones), or `null` if the view must be refreshed.
    #[napi]
    pub fn batch_locate(
        &self,
        env: &Env,
        keys: Unknown<'_>,
        hashed: bool,
        generation: f64,
        view_len: f64,
    ) -> Result<Option<Vec<f64>>> {
        let s = self.get(env)?;
        let hashes = args::key_hashes(env, &keys, hashed)?;
        let mut out = Vec::with_capacity(hashes.len());
        for h in hashes {
            let r = located(s.locate(h, generation as u64, view_len as u64));
            if r == REFRESH {
                return Ok(None);
            }
            out.push(r);
        }
        Ok(Some(out))
    }

    /// `[payloadBuffer, metadataBuffer, generation]`: the current private
    /// view covering the tail (its two maps: see `ViewMap`).
    #[napi(ts_return_type = "[ArrayBuffer, ArrayBuffer, number]")]
    pub fn view<'env>(&self, env: &'env Env) -> Result<Array<'env>> {
        let s = self.get(env)?;
        let (view, generation) = s.view().or_throw(env)?;
        self.seen.set((generation, view.len()));
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
        Ok(NativeIter { inner: Arc::new(Mutex::new(s.iter().or_throw(env)?)) })
    }
}

/// A snapshot walk of live entries, newest first. Shared with a worker
/// thread by `nextBatchAsync`.
#[napi]
pub struct NativeIter {
    inner: Arc<Mutex<srd_engine::iter::EntryIter>>,
}

/// Up to `max` metadata offsets of `it`; fewer (or none) at the end. With
/// `populate`, their pages of the view are mapped in too (see
/// `EntryIter::populate_view`).
fn next_offsets(it: &Mutex<srd_engine::iter::EntryIter>, max: u32, populate: bool) -> Vec<f64> {
    let mut it = it.lock().unwrap_or_else(|e| e.into_inner());
    let mut out = Vec::with_capacity(max.min(4096) as usize);
    while out.len() < max as usize {
        match it.next_offset() {
            Some(m) => out.push(m),
            None => break,
        }
    }
    if populate {
        it.populate_view(&out);
    }
    out.into_iter().map(|m| m as f64).collect()
}

#[napi]
impl NativeIter {
    /// `[payloadBuffer, metadataBuffer]`: the view of this snapshot's
    /// generation (valid for every offset it yields).
    #[napi(ts_return_type = "[ArrayBuffer, ArrayBuffer]")]
    pub fn view<'env>(&self, env: &'env Env) -> Result<Array<'env>> {
        let view = self
            .inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .view()
            .map_err(srd_engine::Error::from)
            .or_throw(env)?;
        views::array_buffers(env, view)
    }

    /// Up to `max` metadata offsets; fewer (or none) at the end.
    #[napi]
    pub fn next_batch(&self, max: u32) -> Vec<f64> {
        next_offsets(&self.inner, max, false)
    }

    /// `nextBatch` on a worker thread: the walk reads each entry's metadata
    /// through the map, which faults pages in (and waits on the disk when
    /// they are not cached), so the async API keeps it off the event loop;
    /// the worker also maps in the view pages the handles will read.
    #[napi(ts_return_type = "Promise<number[]>")]
    pub fn next_batch_async(&self, max: u32) -> AsyncTask<Job> {
        let it = self.inner.clone();
        Job::new(move || Ok(Out::Numbers(next_offsets(&it, max, true))))
    }
}

/// A streamed write in progress (spooled; appended on `finish`). Shared with
/// worker threads by the async methods.
#[napi]
pub struct NativeStreamWriter {
    inner: Arc<Mutex<Option<StreamWriter>>>,
}

impl NativeStreamWriter {
    fn new(w: StreamWriter) -> Self {
        Self { inner: Arc::new(Mutex::new(Some(w))) }
    }
}

fn finished() -> srd_engine::Error {
    srd_engine::Error::invalid("the stream is already finished")
}

#[napi]
impl NativeStreamWriter {
    #[napi]
    pub fn write(&self, env: &Env, chunk: Unknown<'_>) -> Result<()> {
        let bytes = args::bytes(env, &chunk, "chunk")?;
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        guard.as_mut().ok_or_else(finished).and_then(|w| w.write(&bytes)).or_throw(env)
    }

    /// Spools a chunk on a worker thread (large chunks are read in place).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn write_async(&self, env: &Env, chunk: Unknown<'_>) -> Result<AsyncTask<Job>> {
        let mut payloads = args::Payloads::default();
        let at = payloads.push(env, &chunk, "chunk")?;
        let inner = self.inner.clone();
        Ok(Job::new(move || {
            let mut guard = inner.lock().unwrap_or_else(|e| e.into_inner());
            let w = guard.as_mut().ok_or_else(finished)?;
            w.write(payloads.get(at))?;
            Ok(Out::Unit)
        }))
    }

    #[napi]
    pub fn finish(&self, env: &Env) -> Result<f64> {
        let w = self.inner.lock().unwrap_or_else(|e| e.into_inner()).take();
        Ok(w.ok_or_else(finished).and_then(|w| w.finish()).or_throw(env)? as f64)
    }

    #[napi(ts_return_type = "Promise<number>")]
    pub fn finish_async(&self) -> AsyncTask<Job> {
        let inner = self.inner.clone();
        Job::new(move || {
            let w = inner.lock().unwrap_or_else(|e| e.into_inner()).take();
            Ok(Out::Number(w.ok_or_else(finished)?.finish()? as f64))
        })
    }

    /// Discards the spooled payload; nothing is written.
    #[napi]
    pub fn abort(&self) {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).take();
    }
}

/// The async twins: each converts its arguments on the JS thread and runs
/// the engine call on a libuv worker thread.
#[napi]
impl NativeStore {
    #[napi(ts_return_type = "Promise<NativeStore>")]
    pub fn open_async(path: String, create: bool, repair: bool, durable: bool) -> AsyncTask<Job> {
        Job::new(move || Ok(Out::Store(Store::open(&path, OpenOptions { create, repair, durable })?)))
    }

    /// Group commit: queues `kind(keys[i], payloads[i])` (put/delete by
    /// key or key hash) as one all-or-nothing group; throws and queues
    /// nothing on a bad argument. Its outcome is in what the `flushAsync`
    /// that appends it resolves to.
    #[napi]
    pub fn enqueue(
        &self,
        env: &Env,
        kind: u32,
        keys: Unknown<'_>,
        payloads: Unknown<'_>,
        allow_null: bool,
    ) -> Result<()> {
        self.get(env)?;
        group::push_group(env, &self.queue, kind, &keys, &payloads, allow_null)
    }

    /// Ends the open batch of queued groups; later ones start a new batch.
    #[napi]
    pub fn cut_batch(&self, env: &Env) -> Result<()> {
        borrow(env, &self.queue)?.cut();
        Ok(())
    }

    /// Appends the oldest queued batch in one write on a worker thread;
    /// resolves to `[tails, failures]`, one outcome per group (group.rs
    /// `Outcomes`). Throws `ERR_STORE_CLOSED` (dropping the batch) if closed.
    #[napi(ts_return_type = "Promise<[Float64Array, Array<number | Error> | null]>")]
    pub fn flush_async(&self, env: &Env) -> Result<AsyncTask<Job>> {
        let batch = borrow(env, &self.queue)?.take();
        Ok(group::flush(self.get(env)?, batch))
    }

    #[napi(ts_return_type = "Promise<number>")]
    pub fn rename_async(&self, env: &Env, old_key: Unknown<'_>, new_key: Unknown<'_>) -> Result<AsyncTask<Job>> {
        let s = self.get(env)?;
        let old = args::bytes(env, &old_key, "oldKey")?.into_owned();
        let new = args::bytes(env, &new_key, "newKey")?.into_owned();
        Ok(Job::new(move || Ok(Out::Number(s.rename(&old, &new).map_err(|e| Coded::of(&e).naming_key(&old))? as f64))))
    }

    #[napi(ts_return_type = "Promise<number>")]
    pub fn copy_async(&self, env: &Env, key: Unknown<'_>, target: &NativeStore) -> Result<AsyncTask<Job>> {
        let s = self.get(env)?;
        let t = target.get(env)?;
        let key = args::bytes(env, &key, "key")?.into_owned();
        Ok(Job::new(move || Ok(Out::Number(s.copy(&key, &t).map_err(|e| Coded::of(&e).naming_key(&key))? as f64))))
    }

    #[napi(ts_return_type = "Promise<number>")]
    pub fn transfer_async(&self, env: &Env, key: Unknown<'_>, target: &NativeStore) -> Result<AsyncTask<Job>> {
        let s = self.get(env)?;
        let t = target.get(env)?;
        let key = args::bytes(env, &key, "key")?.into_owned();
        Ok(Job::new(move || Ok(Out::Number(s.transfer(&key, &t).map_err(|e| Coded::of(&e).naming_key(&key))? as f64))))
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn sync_async(&self, env: &Env) -> Result<AsyncTask<Job>> {
        let s = self.get(env)?;
        Ok(Job::new(move || Ok(s.sync().map(|_| Out::Unit)?)))
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn compact_async(&self, env: &Env) -> Result<AsyncTask<Job>> {
        let s = self.get(env)?;
        Ok(Job::new(move || Ok(s.compact().map(|_| Out::Unit)?)))
    }

    #[napi(ts_return_type = "Promise<number>")]
    pub fn estimate_compaction_savings_async(&self, env: &Env) -> Result<AsyncTask<Job>> {
        let s = self.get(env)?;
        Ok(Job::new(move || Ok(Out::Number(s.estimate_compaction_savings()? as f64))))
    }

    #[napi(ts_return_type = "Promise<Array<[bigint, number]>>")]
    pub fn verify_async(&self, env: &Env) -> Result<AsyncTask<Job>> {
        let s = self.get(env)?;
        Ok(Job::new(move || Ok(Out::Corrupt(s.verify()?))))
    }

    #[napi(ts_return_type = "Promise<number>")]
    pub fn len_async(&self, env: &Env) -> Result<AsyncTask<Job>> {
        let s = self.get(env)?;
        Ok(Job::new(move || Ok(Out::Number(s.len() as f64))))
    }

    #[napi(ts_return_type = "Promise<number>")]
    pub fn file_size_async(&self, env: &Env) -> Result<AsyncTask<Job>> {
        let s = self.get(env)?;
        Ok(Job::new(move || Ok(Out::Number(s.file_size() as f64))))
    }

    #[napi(ts_return_type = "Promise<boolean>")]
    pub fn exists_async(&self, env: &Env, key: Unknown<'_>, hashed: bool) -> Result<AsyncTask<Job>> {
        let s = self.get(env)?;
        let h = if hashed { args::hash(env, &key, "keyHash")? } else { args::key_hash(env, &key, "key")? };
        Ok(Job::new(move || Ok(Out::Bool(s.exists_with_key_hash(h)))))
    }

    /// As `locate`, on a worker thread.
    #[napi(ts_return_type = "Promise<number>")]
    pub fn locate_async(
        &self,
        env: &Env,
        key: Unknown<'_>,
        hashed: bool,
        generation: f64,
        view_len: f64,
    ) -> Result<AsyncTask<Job>> {
        let s = self.get(env)?;
        let h = if hashed { args::hash(env, &key, "keyHash")? } else { args::key_hash(env, &key, "key")? };
        Ok(Job::new(move || Ok(Out::Number(located(s.locate(h, generation as u64, view_len as u64))))))
    }

    #[napi(ts_return_type = "Promise<number>")]
    pub fn locate_last_async(&self, env: &Env, generation: f64, view_len: f64) -> Result<AsyncTask<Job>> {
        let s = self.get(env)?;
        Ok(Job::new(move || Ok(Out::Number(located(s.locate_last(generation as u64, view_len as u64)?)))))
    }

    /// As `batchLocate`, on a worker thread; `[-2]` asks for a view refresh.
    #[napi(ts_return_type = "Promise<number[]>")]
    pub fn batch_locate_async(
        &self,
        env: &Env,
        keys: Unknown<'_>,
        hashed: bool,
        generation: f64,
        view_len: f64,
    ) -> Result<AsyncTask<Job>> {
        let s = self.get(env)?;
        let hashes = args::key_hashes(env, &keys, hashed)?;
        Ok(Job::new(move || {
            let mut out = Vec::with_capacity(hashes.len());
            for h in hashes {
                let r = located(s.locate(h, generation as u64, view_len as u64));
                if r == REFRESH {
                    return Ok(Out::Numbers(vec![REFRESH]));
                }
                out.push(r);
            }
            Ok(Out::Numbers(out))
        }))
    }
}
