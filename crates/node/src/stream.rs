//! `NativeStreamWriter`: a streamed write in progress (spooled; appended on
//! `finish`). Shared with worker threads by the async methods.

use crate::args;
use crate::errors::{Coded, OrThrow};
use crate::tasks::{self, call, Call, Job};
use napi::bindgen_prelude::*;
use napi::Env;
use napi_derive::napi;
use srd_engine::StreamWriter;
use std::sync::{Arc, Mutex};

type Shared = Arc<Mutex<Option<StreamWriter>>>;

/// A streamed write in progress (spooled; appended on `finish`). Shared with
/// worker threads by the async methods.
#[napi]
pub struct NativeStreamWriter {
    inner: Shared,
}

impl NativeStreamWriter {
    pub fn new(w: StreamWriter) -> Self {
        Self { inner: Arc::new(Mutex::new(Some(w))) }
    }

    fn finish_work(&self) -> Call<f64> {
        let inner = self.inner.clone();
        call(move || {
            let w = inner.lock().unwrap_or_else(|e| e.into_inner()).take();
            Ok(w.ok_or_else(finished)?.finish()? as f64)
        })
    }
}

fn finished() -> srd_engine::Error {
    srd_engine::Error::invalid("the stream is already finished")
}

/// Spools `bytes` into the writer of `inner`.
fn spool(inner: &Shared, bytes: &[u8]) -> srd_engine::Result<()> {
    let mut guard = inner.lock().unwrap_or_else(|e| e.into_inner());
    guard.as_mut().ok_or_else(finished)?.write(bytes)
}

#[napi]
impl NativeStreamWriter {
    /// Spools a chunk, read in place (the sync write: JS cannot run meanwhile).
    #[napi]
    pub fn write(&self, env: &Env, chunk: Unknown<'_>) -> Result<()> {
        let bytes = args::bytes(env, &chunk, "chunk")?;
        spool(&self.inner, &bytes).or_throw(env)
    }

    /// Spools a chunk on a worker thread: a copy of it (see `args::Payloads`).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn write_async(&self, env: &Env, chunk: Unknown<'_>) -> Result<AsyncTask<Job<Call<()>>>> {
        let mut payloads = args::Payloads::default();
        let at = payloads.push(env, &chunk, "chunk")?;
        let inner = self.inner.clone();
        Ok(tasks::spawn(call(move || spool(&inner, payloads.get(at)).map_err(Coded::from))))
    }

    #[napi]
    pub fn finish(&self, env: &Env) -> Result<f64> {
        tasks::run(env, self.finish_work())
    }

    #[napi(ts_return_type = "Promise<number>")]
    pub fn finish_async(&self) -> AsyncTask<Job<Call<f64>>> {
        tasks::spawn(self.finish_work())
    }

    /// Discards the spooled payload; nothing is written.
    #[napi]
    pub fn abort(&self) {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).take();
    }
}
