//! Async work on libuv's worker threads: one `Job` type runs an engine call
//! (a closure) in `compute` and converts its result on the JS thread. Panics
//! are caught and become rejected Promises, never an abort of the process.

use crate::errors::Coded;
use crate::store::NativeStore;
use napi::bindgen_prelude::*;
use napi::{sys, Env};
use srd_engine::Store;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

/// What an engine call hands back to JavaScript.
pub enum Out {
    Unit,
    Number(f64),
    Bool(bool),
    Numbers(Vec<f64>),
    Store(Arc<Store>),
    /// `(keyHash, offset)` of corrupt entries.
    Corrupt(Vec<(u64, u64)>),
    /// What a group-commit flush did (group.rs).
    Outcomes(crate::group::Outcomes),
}

pub struct JsOut(Out);

impl TypeName for JsOut {
    fn type_name() -> &'static str {
        "unknown"
    }
    fn value_type() -> ValueType {
        ValueType::Unknown
    }
}

impl ToNapiValue for JsOut {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        // SAFETY: `env` is the live env of the resolving JS thread (napi-rs
        // calls this from `resolve`); each arm delegates to napi-rs' own impls.
        unsafe {
            match val.0 {
                Out::Unit => <()>::to_napi_value(env, ()),
                Out::Number(n) => f64::to_napi_value(env, n),
                Out::Bool(b) => bool::to_napi_value(env, b),
                Out::Numbers(v) => Vec::<f64>::to_napi_value(env, v),
                Out::Store(s) => NativeStore::to_napi_value(env, NativeStore::from_arc(s)),
                Out::Outcomes(o) => crate::group::Outcomes::to_napi_value(env, o),
                Out::Corrupt(v) => {
                    let items: Vec<(BigInt, f64)> = v.into_iter().map(|(h, m)| (BigInt::from(h), m as f64)).collect();
                    Vec::to_napi_value(env, items)
                }
            }
        }
    }
}

type Work = Box<dyn FnOnce() -> std::result::Result<Out, Coded> + Send>;

pub struct Job {
    work: Option<Work>,
}

impl Job {
    /// `work` may return an engine error (`?` converts it) or a [`Coded`] one.
    pub fn new(work: impl FnOnce() -> std::result::Result<Out, Coded> + Send + 'static) -> AsyncTask<Job> {
        AsyncTask::new(Job { work: Some(Box::new(work)) })
    }
}

#[napi_derive::napi]
impl Task for Job {
    type Output = std::result::Result<Out, Coded>;
    type JsValue = JsOut;

    fn compute(&mut self) -> Result<Self::Output> {
        let Some(work) = self.work.take() else {
            return Ok(Err(Coded::new("ERR_INTERNAL", "task ran twice")));
        };
        Ok(match catch_unwind(AssertUnwindSafe(work)) {
            Ok(Ok(out)) => Ok(out),
            Ok(Err(e)) => Err(e),
            Err(panic) => Err(Coded::new("ERR_INTERNAL", format!("engine panic: {}", panic_message(&*panic)))),
        })
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<JsOut> {
        match output {
            Ok(out) => Ok(JsOut(out)),
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
