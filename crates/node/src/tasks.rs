//! One engine operation, written once, run two ways (node-rs argon2's
//! pattern): a [`Work`] holds an operation's converted arguments and makes
//! its engine call; the async method hands it to libuv's worker threads as
//! an [`AsyncTask`] ([`spawn`]), the sync method runs the same
//! `Task::compute` inline on the JS thread ([`run`]). Panics are caught and
//! become `ERR_INTERNAL` errors (a rejected Promise, or a throw), never an
//! abort of the process.

use crate::errors::Coded;
use napi::bindgen_prelude::*;
use napi::Env;
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// An engine call with its arguments already converted (owned, so that it
/// may run on a worker thread).
pub trait Work: Send + 'static {
    /// What the engine call gives, made on the thread that runs it.
    type Output: Send + 'static;
    /// What JavaScript gets, made from `Output` on the JS thread.
    type Js: ToNapiValue + TypeName + From<Self::Output>;
    /// The engine call. An engine error converts with `?`.
    fn run(self) -> std::result::Result<Self::Output, Coded>;
}

/// A [`Work`] made of a closure: each operation of the classes converts its
/// arguments in one function returning a `Call`, which its sync and its
/// async method both run. `J` is the JS value made of the result.
pub struct Call<T, J = T>(Box<dyn FnOnce() -> std::result::Result<T, Coded> + Send>, PhantomData<fn() -> J>);

/// A [`Call`] of `f`.
pub fn call<T, J>(f: impl FnOnce() -> std::result::Result<T, Coded> + Send + 'static) -> Call<T, J> {
    Call(Box::new(f), PhantomData)
}

impl<T, J> Work for Call<T, J>
where
    T: Send + 'static,
    J: ToNapiValue + TypeName + From<T> + 'static,
{
    type Output = T;
    type Js = J;
    fn run(self) -> std::result::Result<T, Coded> {
        (self.0)()
    }
}

/// A [`Work`] as a napi-rs `Task`.
pub struct Job<W>(Option<W>);

/// The async method: `work` runs on a libuv worker thread.
pub fn spawn<W: Work>(work: W) -> AsyncTask<Job<W>> {
    AsyncTask::new(Job(Some(work)))
}

/// The sync method: the same `compute`, inline; its error is thrown.
pub fn run<W: Work>(env: &Env, work: W) -> Result<W::Js> {
    match Job(Some(work)).compute()? {
        Ok(out) => Ok(W::Js::from(out)),
        Err(e) => Err(e.throw(env)),
    }
}

impl<W: Work> Task for Job<W> {
    type Output = std::result::Result<W::Output, Coded>;
    type JsValue = W::Js;

    fn compute(&mut self) -> Result<Self::Output> {
        let Some(work) = self.0.take() else {
            return Ok(Err(Coded::new("ERR_INTERNAL", "task ran twice")));
        };
        Ok(match catch_unwind(AssertUnwindSafe(|| work.run())) {
            Ok(r) => r,
            Err(panic) => Err(Coded::new("ERR_INTERNAL", format!("engine panic: {}", panic_message(&*panic)))),
        })
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<W::Js> {
        match output {
            Ok(out) => Ok(W::Js::from(out)),
            Err(e) => Err(rejection(&env, &e)),
        }
    }
}

/// The message a panic carried.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// The JS Error of `e`, as a napi-rs error that rejects with it.
fn rejection(env: &Env, e: &Coded) -> napi::Error {
    let value = e.to_value(env);
    if value.is_null() {
        return napi::Error::new(Status::GenericFailure, format!("{}: {}", e.code, e.message));
    }
    // SAFETY: `value` was just made in this env.
    napi::Error::from(unsafe { Unknown::from_raw_unchecked(env.raw(), value) })
}
