//! `NativeIter`: a snapshot walk of live entries, newest first, a batch of
//! metadata offsets at a time. Shared with a worker thread by `nextBatchAsync`.

use crate::errors::OrThrow;
use crate::tasks::{self, call, Call, Job};
use crate::views;
use napi::bindgen_prelude::*;
use napi::Env;
use napi_derive::napi;
use srd_engine::iter::EntryIter;
use std::sync::{Arc, Mutex};

/// A snapshot walk of live entries, newest first. Shared with a worker
/// thread by `nextBatchAsync`.
#[napi]
pub struct NativeIter {
    inner: Arc<Mutex<EntryIter>>,
}

impl NativeIter {
    pub fn new(it: EntryIter) -> NativeIter {
        NativeIter { inner: Arc::new(Mutex::new(it)) }
    }

    /// Up to `max` metadata offsets; fewer (or none) at the end. With
    /// `populate`, their pages of the view are mapped in too (see
    /// `EntryIter::populate_view`).
    fn next_work(&self, max: u32, populate: bool) -> Call<Vec<f64>> {
        let it = self.inner.clone();
        call(move || {
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
            Ok(out.into_iter().map(|m| m as f64).collect())
        })
    }
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
    pub fn next_batch(&self, env: &Env, max: u32) -> Result<Vec<f64>> {
        tasks::run(env, self.next_work(max, false))
    }

    /// `nextBatch` on a worker thread: the walk reads each entry's metadata
    /// through the map, which faults pages in (and waits on the disk when
    /// they are not cached), so the async API keeps it off the event loop;
    /// the worker also maps in the view pages the handles will read.
    #[napi(ts_return_type = "Promise<number[]>")]
    pub fn next_batch_async(&self, max: u32) -> AsyncTask<Job<Call<Vec<f64>>>> {
        tasks::spawn(self.next_work(max, true))
    }
}
