//! Raw N-API functions for the per-call hot paths (`locate`, `write`, and
//! `enqueueWrite`, the async write).
//!
//! Measured on this machine: a napi-rs class method costs ~450 ns per call
//! before doing any work (borrow tracking, unwrap, type-tag check), a raw
//! callback a few tens of ns. For a 64-byte read that is most of the time, so
//! these few functions skip the napi-rs wrappers. They only convert
//! arguments (with `args`) and delegate to the engine, like the rest of the
//! binding. Each store gets its own functions, bound to its `Handle` (slot,
//! async write queue, view) through the function's data pointer: no handle
//! argument to unwrap and check per call.

use crate::args;
use crate::errors::{closed, engine};
use crate::group::borrow;
use crate::handle::Handle;
use crate::reads::located;
use napi::bindgen_prelude::*;
use napi::{sys, Env};
use srd_engine::{Op, Store};
use std::ffi::c_void;
use std::ptr;

type Callback = unsafe extern "C" fn(sys::napi_env, sys::napi_callback_info) -> sys::napi_value;

/// The functions, by the names they get in JS (the keys of the object
/// `NativeStore.fastFunctions()` returns; see each callback).
const FUNCTIONS: [(&str, Callback); 4] =
    [("locate", locate_key), ("locateWithKeyHash", locate_hash), ("write", write), ("enqueueWrite", enqueue_write)];

/// `{ locate, locateWithKeyHash, write, enqueueWrite }` bound to `handle`.
pub fn functions<'env>(env: &'env Env, handle: &Handle) -> Result<Object<'env>> {
    let mut out = Object::new(env)?;
    for (name, cb) in FUNCTIONS {
        out.set_named_property(name, bound(env, name, cb, handle.clone())?)?;
    }
    Ok(out)
}

/// A JS function calling `cb` with `to` as its data; its shares are
/// released when the function is collected.
fn bound<'env>(env: &'env Env, name: &str, cb: Callback, to: Handle) -> Result<Unknown<'env>> {
    let data = Box::into_raw(Box::new(to));
    let mut f = ptr::null_mut();
    // SAFETY: `name` outlives the call (napi copies it); `data` stays valid
    // until `finalize` reclaims it, which napi runs after the function is gone.
    let ok = unsafe {
        sys::napi_create_function(env.raw(), name.as_ptr().cast(), name.len() as isize, Some(cb), data.cast(), &mut f)
            == sys::Status::napi_ok
            && sys::napi_add_finalizer(env.raw(), f, data.cast(), Some(finalize), ptr::null_mut(), ptr::null_mut())
                == sys::Status::napi_ok
    };
    if !ok {
        // SAFETY: no finalizer owns `data` (napi_add_finalizer failed or never ran).
        drop(unsafe { Box::from_raw(data) });
        return Err(Error::new(Status::GenericFailure, format!("cannot create {name}")));
    }
    // SAFETY: `f` was just created in this env.
    Ok(unsafe { Unknown::from_raw_unchecked(env.raw(), f) })
}

unsafe extern "C" fn finalize(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
    // SAFETY: `data` is the Box<Handle> leaked in `bound`; napi calls this
    // once, on the JS thread (where the handle's Rcs may be dropped).
    drop(unsafe { Box::from_raw(data as *mut Handle) });
}

/// Arguments of a callback, the handle it is bound to, and the Env.
struct Call<'a> {
    env: Env,
    to: &'a Handle,
    args: [Unknown<'a>; 2],
}

impl<'a> Call<'a> {
    /// # Safety
    /// `env` and `info` must be the ones N-API passed to a callback made by `bound`.
    unsafe fn new(env: sys::napi_env, info: sys::napi_callback_info) -> Option<Call<'a>> {
        let mut argc = 2usize;
        let mut argv = [ptr::null_mut(); 2];
        let mut data = ptr::null_mut();
        // SAFETY: argv has room for argc values; missing ones are filled with undefined.
        let status =
            unsafe { sys::napi_get_cb_info(env, info, &mut argc, argv.as_mut_ptr(), ptr::null_mut(), &mut data) };
        if status != sys::Status::napi_ok || data.is_null() {
            return None;
        }
        // SAFETY: each argv entry is a live value of this callback's scope.
        let args = argv.map(|v| unsafe { Unknown::from_raw_unchecked(env, v) });
        // SAFETY: `data` is the Box<Handle> of `bound`, alive while the function is.
        let to = unsafe { &*(data as *const Handle) };
        Some(Call { env: Env::from_raw(env), to, args })
    }

    /// Runs `f` on the live store, borrowed from the slot (no clone of the
    /// `Arc`: that is an atomic increment and decrement per call).
    fn with_store<T>(&self, f: impl FnOnce(&Store) -> Result<T>) -> Result<T> {
        let guard = self.to.slot.try_borrow().map_err(|_| closed(&self.env))?;
        f(guard.as_deref().ok_or_else(|| closed(&self.env))?)
    }

    fn finish(&self, r: Result<f64>) -> sys::napi_value {
        let mut out = ptr::null_mut();
        if let Ok(n) = r {
            // SAFETY: creating a number in the live env of this callback.
            unsafe { sys::napi_create_double(self.env.raw(), n, &mut out) };
        }
        // On Err the exception is already pending (thrown by `errors`).
        out
    }
}

/// `locate(key)`: the metadata offset of `key`'s live entry in this
/// handle's view (`Seen`), or `reads::ABSENT` / `reads::STALE`.
unsafe extern "C" fn locate_key(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    // SAFETY: called by N-API with this callback's env and info.
    unsafe { locate(env, info, |env, v| args::key_hash(env, v, "key")) }
}

/// `locateWithKeyHash(keyHash)`.
unsafe extern "C" fn locate_hash(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    // SAFETY: called by N-API with this callback's env and info.
    unsafe { locate(env, info, |env, v| args::hash(env, v, "keyHash")) }
}

/// # Safety
/// `env` and `info` must be the ones N-API passed to a callback made by `bound`.
unsafe fn locate(
    env: sys::napi_env,
    info: sys::napi_callback_info,
    key: impl Fn(&Env, &Unknown<'_>) -> Result<u64>,
) -> sys::napi_value {
    // SAFETY: forwarded from the callback.
    let Some(c) = (unsafe { Call::new(env, info) }) else {
        return ptr::null_mut();
    };
    let r = c.with_store(|s| {
        let h = key(&c.env, &c.args[0])?;
        let (generation, len) = c.to.seen.get();
        Ok(located(s.locate(h, generation, len)))
    });
    c.finish(r)
}

/// `write(key, payload)`: as `NativeStore.write`; returns the tail.
unsafe extern "C" fn write(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    // SAFETY: called by N-API with this callback's env and info.
    let Some(c) = (unsafe { Call::new(env, info) }) else {
        return ptr::null_mut();
    };
    let r = c.with_store(|s| {
        let mut stack = [0u8; 256];
        let k = args::key_bytes(&c.env, &c.args[0], &mut stack, "key")?;
        let p = args::bytes(&c.env, &c.args[1], "payload")?;
        // The key's bytes go to the engine, which records them if it records keys.
        let op = Op::KeyedPut(srd_engine::compute_hash(&k), &k, &p);
        s.apply(&[op], false).map(|t| t as f64).map_err(|e| engine(&c.env, e))
    });
    c.finish(r)
}

/// `enqueueWrite(key, payload)`: as `NativeStore.enqueue(OpKind.PutKey, [key],
/// [payload])`, without the arrays: converts now and queues; returns
/// undefined, or throws on a bad argument.
unsafe extern "C" fn enqueue_write(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    // SAFETY: called by N-API with this callback's env and info.
    let Some(c) = (unsafe { Call::new(env, info) }) else {
        return ptr::null_mut();
    };
    // Null is `undefined` to N-API; on Err the exception is already pending.
    let _ = c.with_store(|s| borrow(&c.env, &c.to.queue)?.push_write(&c.env, &c.args[0], &c.args[1], s.records_keys()));
    ptr::null_mut()
}
