//! Engine errors -> JS `Error`s with a stable string `code`.

use napi::{sys, Env, Status};
use std::ptr;

/// Throws `code`/`msg` as a JS Error (see `error_value`) and returns the
/// marker error napi-rs expects after a throw (a pending exception is not
/// thrown twice).
pub fn throw(env: &Env, code: &str, msg: &str) -> napi::Error {
    let value = error_value(env, code, msg);
    if !value.is_null() {
        // SAFETY: `value` was just made in this env, on its JS thread.
        unsafe { sys::napi_throw(env.raw(), value) };
    }
    napi::Error::new(Status::PendingException, msg.to_owned())
}

pub fn engine(env: &Env, e: srd_engine::Error) -> napi::Error {
    throw(env, e.code(), &e.to_string())
}

pub fn invalid_type(env: &Env, msg: &str) -> napi::Error {
    throw(env, "ERR_INVALID_ARG_TYPE", msg)
}

pub fn invalid_value(env: &Env, msg: &str) -> napi::Error {
    throw(env, "ERR_INVALID_ARG_VALUE", msg)
}

pub fn closed(env: &Env) -> napi::Error {
    throw(env, "ERR_STORE_CLOSED", "the store is closed")
}

/// Converts an engine result, throwing its coded error.
pub trait OrThrow<T> {
    fn or_throw(self, env: &Env) -> napi::Result<T>;
}

impl<T> OrThrow<T> for srd_engine::Result<T> {
    fn or_throw(self, env: &Env) -> napi::Result<T> {
        self.map_err(|e| engine(env, e))
    }
}

/// A JS Error with `code` (a TypeError for `ERR_INVALID_ARG_TYPE`, as
/// `throw` makes), to reject a Promise with; null if it cannot be made.
pub fn error_value(env: &Env, code: &str, msg: &str) -> sys::napi_value {
    let (mut c, mut m, mut out) = (ptr::null_mut(), ptr::null_mut(), ptr::null_mut());
    // SAFETY: `env` is the live env of the calling JS thread; the strings are
    // copied by N-API; a failed call leaves `out` null, which callers accept.
    unsafe {
        sys::napi_create_string_utf8(env.raw(), code.as_ptr().cast(), code.len() as isize, &mut c);
        sys::napi_create_string_utf8(env.raw(), msg.as_ptr().cast(), msg.len() as isize, &mut m);
        if code == "ERR_INVALID_ARG_TYPE" {
            sys::napi_create_type_error(env.raw(), c, m, &mut out);
        } else {
            sys::napi_create_error(env.raw(), c, m, &mut out);
        }
    }
    out
}
