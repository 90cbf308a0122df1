//! Raw N-API callbacks for the per-call hot paths (`locate`, `write`).
//!
//! Measured on this machine: a napi-rs class method costs ~450 ns per call
//! before doing any work (borrow tracking, unwrap, type-tag check), a raw
//! callback a few tens of ns. For a 64-byte read that is most of the time, so
//! these few functions skip the napi-rs wrappers. They only convert
//! arguments (with `args`) and delegate to the engine, like the rest of the
//! binding. The store is reached through an external created here, tagged
//! with a type tag so a foreign external is rejected, not misread.

use crate::args;
use crate::errors::{closed, engine};
use crate::store::{located, Slot};
use napi::bindgen_prelude::*;
use napi::{sys, Env};
use srd_engine::{Op, Store};
use std::ffi::c_void;
use std::ptr;
use std::sync::Arc;

const TAG: sys::napi_type_tag = sys::napi_type_tag { lower: 0x5344_525f_4641_5354, upper: 0x7372_645f_6e6f_6465 };

/// An external over `slot` (dropped when the external is collected).
pub fn handle<'env>(env: &'env Env, slot: Arc<Slot>) -> Result<Unknown<'env>> {
    let raw = Box::into_raw(Box::new(slot));
    let mut value = ptr::null_mut();
    // SAFETY: `raw` is a leaked Box<Arc<Slot>> reclaimed exactly once, by `finalize`.
    let status = unsafe { sys::napi_create_external(env.raw(), raw.cast(), Some(finalize), ptr::null_mut(), &mut value) };
    if status != sys::Status::napi_ok {
        // SAFETY: napi did not take ownership; reclaim the Box.
        drop(unsafe { Box::from_raw(raw) });
        return Err(Error::new(Status::GenericFailure, "cannot create the store handle"));
    }
    // SAFETY: `value` is the external just created in this env.
    unsafe { sys::napi_type_tag_object(env.raw(), value, &TAG) };
    // SAFETY: as above.
    Ok(unsafe { Unknown::from_raw_unchecked(env.raw(), value) })
}

unsafe extern "C" fn finalize(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
    // SAFETY: `data` is the Box<Arc<Slot>> leaked in `handle`; napi calls this once.
    drop(unsafe { Box::from_raw(data as *mut Arc<Slot>) });
}

/// Registers the fast functions on the module's exports.
#[napi_derive::napi(module_exports)]
pub fn register(mut exports: Object, env: Env) -> Result<()> {
    define(&env, &mut exports, "fastLocate", locate_key)?;
    define(&env, &mut exports, "fastLocateWithKeyHash", locate_hash)?;
    define(&env, &mut exports, "fastWrite", write)?;
    Ok(())
}

fn define(env: &Env, exports: &mut Object, name: &str, cb: unsafe extern "C" fn(sys::napi_env, sys::napi_callback_info) -> sys::napi_value) -> Result<()> {
    let mut f = ptr::null_mut();
    // SAFETY: `name` outlives the call (napi copies it); `cb` is a valid callback.
    let status = unsafe { sys::napi_create_function(env.raw(), name.as_ptr().cast(), name.len() as isize, Some(cb), ptr::null_mut(), &mut f) };
    if status != sys::Status::napi_ok {
        return Err(Error::new(Status::GenericFailure, format!("cannot define {name}")));
    }
    // SAFETY: `f` was just created in this env.
    exports.set_named_property(name, unsafe { Unknown::from_raw_unchecked(env.raw(), f) })
}

/// Arguments of a callback, the store behind its first one, and the Env.
struct Call<'a> {
    env: Env,
    args: [Unknown<'a>; 4],
}

impl<'a> Call<'a> {
    /// # Safety
    /// `env` and `info` must be the ones N-API passed to the running callback.
    unsafe fn new(env: sys::napi_env, info: sys::napi_callback_info) -> Option<Call<'a>> {
        let mut argc = 4usize;
        let mut argv = [ptr::null_mut(); 4];
        // SAFETY: argv has room for argc values; missing ones are filled with undefined.
        let status = unsafe { sys::napi_get_cb_info(env, info, &mut argc, argv.as_mut_ptr(), ptr::null_mut(), ptr::null_mut()) };
        if status != sys::Status::napi_ok {
            return None;
        }
        // SAFETY: each argv entry is a live value of this callback's scope.
        let args = argv.map(|v| unsafe { Unknown::from_raw_unchecked(env, v) });
        Some(Call { env: Env::from_raw(env), args })
    }

    /// The live store of the handle in the first argument.
    fn store(&self) -> Result<Arc<Store>> {
        let v = self.args[0].value();
        let mut tagged = false;
        // SAFETY: `v.value` is a live value; the check reads only its tag.
        unsafe { sys::napi_check_object_type_tag(v.env, v.value, &TAG, &mut tagged) };
        if !tagged {
            return Err(crate::errors::invalid_type(&self.env, "not a store handle"));
        }
        let mut data = ptr::null_mut();
        // SAFETY: the tag proves this is an external made by `handle`.
        unsafe { sys::napi_get_value_external(v.env, v.value, &mut data) };
        // SAFETY: `data` is the Box<Arc<Slot>> of `handle`, alive while the external is.
        let slot = unsafe { &*(data as *const Arc<Slot>) };
        slot.read().unwrap_or_else(|e| e.into_inner()).clone().ok_or_else(|| closed(&self.env))
    }

    fn number(&self, at: usize) -> Result<f64> {
        args::number(&self.env, &self.args[at], "argument")
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


/// `fastLocate(handle, key, generation, viewLen)`: the metadata offset of
/// `key`'s live entry in the caller's view; -1 absent; -2 refresh the view.
unsafe extern "C" fn locate_key(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    // SAFETY: called by N-API with this callback's env and info.
    unsafe { locate(env, info, |env, v| args::key_hash(env, v, "key")) }
}

/// `fastLocateWithKeyHash(handle, keyHash, generation, viewLen)`.
unsafe extern "C" fn locate_hash(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    // SAFETY: called by N-API with this callback's env and info.
    unsafe { locate(env, info, |env, v| args::hash(env, v, "keyHash")) }
}

/// # Safety
/// `env` and `info` must be the ones N-API passed to the running callback.
unsafe fn locate(env: sys::napi_env, info: sys::napi_callback_info, key: impl Fn(&Env, &Unknown<'_>) -> Result<u64>) -> sys::napi_value {
    // SAFETY: forwarded from the callback.
    let Some(c) = (unsafe { Call::new(env, info) }) else { return ptr::null_mut() };
    let r = (|| {
        let s = c.store()?;
        let h = key(&c.env, &c.args[1])?;
        Ok(located(s.locate(h, c.number(2)? as u64, c.number(3)? as u64)))
    })();
    c.finish(r)
}

/// `fastWrite(handle, key, payload)`: as `NativeStore.write`; returns the tail.
unsafe extern "C" fn write(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    // SAFETY: called by N-API with this callback's env and info.
    let Some(c) = (unsafe { Call::new(env, info) }) else { return ptr::null_mut() };
    let r = (|| {
        let s = c.store()?;
        let h = args::key_hash(&c.env, &c.args[1], "key")?;
        let p = args::bytes(&c.env, &c.args[2], "payload")?;
        s.apply(&[Op::Put(h, &p)], false).map(|t| t as f64).map_err(|e| engine(&c.env, e))
    })();
    c.finish(r)
}
