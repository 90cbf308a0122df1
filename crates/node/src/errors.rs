//! Engine errors -> JS `Error`s: a stable string `code` for every error, and
//! for OS errors the shape of Node's own fs errors: `code` (`ENOENT`),
//! negative `errno`, `syscall`, `path`, and the message
//! `ENOENT: no such file or directory, open '/x/y.srd'`. The engine says
//! what went wrong in its own terms; this module alone names it for Node.

use crate::errno;
use napi::{sys, Env, Status};
use std::ptr;

/// A coded error, made on any thread, turned into a JS Error on the JS thread.
#[derive(Debug)]
pub struct Coded {
    pub code: &'static str,
    pub message: String,
    os: Option<Os>,
}

/// The fields a Node fs error has beyond `code` and `message`.
#[derive(Debug)]
struct Os {
    errno: i32,
    syscall: &'static str,
    path: Option<String>,
}

impl Coded {
    pub fn new(code: &'static str, message: impl Into<String>) -> Coded {
        Coded { code, message: message.into(), os: None }
    }

    /// The JS error of an engine error.
    pub fn of(e: &srd_engine::Error) -> Coded {
        use srd_engine::Error as E;
        match e {
            E::Io { source, call, path } => {
                let named = errno::name(source);
                // Errors the OS reported, or made of a kind alone, read as
                // Node's; errors the engine or std made with words keep them.
                let detail = if source.raw_os_error().is_some() || source.get_ref().is_none() {
                    named.description.to_string()
                } else {
                    source.to_string()
                };
                let syscall = call.name();
                let path = path.as_ref().map(|p| p.display().to_string());
                let mut message = format!("{}: {detail}", named.code);
                if !syscall.is_empty() {
                    message.push_str(", ");
                    message.push_str(syscall);
                }
                if let Some(p) = &path {
                    message.push_str(&format!(" '{p}'"));
                }
                Coded { code: named.code, message, os: Some(Os { errno: named.errno, syscall, path }) }
            }
            E::InvalidArgument(m) => Coded::new("ERR_INVALID_ARG_VALUE", m.clone()),
            E::KeyNotFound { .. } => Coded::new("ERR_KEY_NOT_FOUND", e.to_string()),
            E::StoreLocked => Coded::new(
                "ERR_STORE_LOCKED",
                "the store is open { exclusive: true } (in another process, or in this one for a read-only \
                 open, which gets an engine of its own), or this open asked for { exclusive: true } while \
                 another process has it open; close it there first, or open without exclusive",
            ),
            E::ReadOnly => Coded::new(
                "ERR_STORE_READ_ONLY",
                "the store was opened with { readOnly: true }: open it without readOnly to write",
            ),
            E::InUse(m) => Coded::new("ERR_STORE_LOCKED", m.clone()),
            E::HashCollision(m) => Coded::new("ERR_HASH_COLLISION", m.clone()),
            E::NotAStore(m) => Coded::new("ERR_NOT_A_STORE", m.clone()),
            E::CorruptStore(m) => Coded::new("ERR_CORRUPT_STORE", m.clone()),
            E::ChecksumMismatch { .. } => Coded::new("ERR_CHECKSUM_MISMATCH", e.to_string()),
            _ => Coded::new("ERR_INTERNAL", e.to_string()),
        }
    }

    /// Names `key` in an `ERR_KEY_NOT_FOUND` message (other errors unchanged).
    pub fn naming_key(mut self, key: &[u8]) -> Coded {
        if self.code == "ERR_KEY_NOT_FOUND" {
            self.message = format!("key not found: {}", show_key(key));
        }
        self
    }

    /// The JS Error (a TypeError for `ERR_INVALID_ARG_TYPE`); null if it cannot be made.
    pub fn to_value(&self, env: &Env) -> sys::napi_value {
        let value = error_value(env, self.code, &self.message);
        if let (Some(os), false) = (&self.os, value.is_null()) {
            let raw = env.raw();
            // SAFETY: `value` is a live object of this env; the property
            // names are NUL-terminated; a failed set leaves the field out.
            unsafe {
                let mut n = ptr::null_mut();
                if os.errno != 0 {
                    sys::napi_create_int32(raw, os.errno, &mut n);
                    sys::napi_set_named_property(raw, value, c"errno".as_ptr(), n);
                }
                if !os.syscall.is_empty() {
                    sys::napi_create_string_utf8(raw, os.syscall.as_ptr().cast(), os.syscall.len() as isize, &mut n);
                    sys::napi_set_named_property(raw, value, c"syscall".as_ptr(), n);
                }
                if let Some(p) = &os.path {
                    sys::napi_create_string_utf8(raw, p.as_ptr().cast(), p.len() as isize, &mut n);
                    sys::napi_set_named_property(raw, value, c"path".as_ptr(), n);
                }
            }
        }
        value
    }

    /// Throws this error; returns the marker error napi-rs expects after a
    /// throw (a pending exception is not thrown twice).
    pub fn throw(&self, env: &Env) -> napi::Error {
        let value = self.to_value(env);
        if !value.is_null() {
            // SAFETY: `value` was just made in this env, on its JS thread.
            unsafe { sys::napi_throw(env.raw(), value) };
        }
        napi::Error::new(Status::PendingException, self.message.clone())
    }
}

impl From<srd_engine::Error> for Coded {
    fn from(e: srd_engine::Error) -> Coded {
        Coded::of(&e)
    }
}

/// A key for a message: printable UTF-8 as quoted text, anything else as
/// hex; long keys shortened.
fn show_key(key: &[u8]) -> String {
    const MAX_CHARS: usize = 64;
    const MAX_BYTES: usize = 32;
    match std::str::from_utf8(key) {
        Ok(s) if !s.chars().any(char::is_control) => {
            let n = s.chars().count();
            if n <= MAX_CHARS {
                format!("{s:?}")
            } else {
                let head: String = s.chars().take(MAX_CHARS).collect();
                format!("{head:?}... ({n} characters)")
            }
        }
        _ => {
            let hex: String = key.iter().take(MAX_BYTES).map(|b| format!("{b:02x}")).collect();
            if key.len() <= MAX_BYTES {
                format!("<hex {hex}>")
            } else {
                format!("<hex {hex}...> ({} bytes)", key.len())
            }
        }
    }
}

/// Throws `code`/`msg` as a JS Error.
pub fn throw(env: &Env, code: &'static str, msg: &str) -> napi::Error {
    Coded::new(code, msg).throw(env)
}

pub fn engine(env: &Env, e: srd_engine::Error) -> napi::Error {
    Coded::of(&e).throw(env)
}

pub fn invalid_type(env: &Env, msg: &str) -> napi::Error {
    throw(env, "ERR_INVALID_ARG_TYPE", msg)
}

pub fn invalid_value(env: &Env, msg: &str) -> napi::Error {
    throw(env, "ERR_INVALID_ARG_VALUE", msg)
}

/// The error of any call on a closed store.
pub fn closed_error() -> Coded {
    Coded::new("ERR_STORE_CLOSED", "the store is closed")
}

pub fn closed(env: &Env) -> napi::Error {
    closed_error().throw(env)
}

/// The `ERR_STORE_CLOSED` error, for the TS layer to throw where it finds a
/// store closed before any native call (one source for its code and message).
#[napi_derive::napi(ts_return_type = "Error & { code: string }")]
#[cfg_attr(test, allow(dead_code))]
pub fn store_closed_error(env: &Env) -> napi::Result<napi::bindgen_prelude::Unknown<'_>> {
    let value = closed_error().to_value(env);
    if value.is_null() {
        return Err(napi::Error::new(Status::GenericFailure, "cannot create an error"));
    }
    // SAFETY: `value` was just made in this env.
    Ok(unsafe { napi::bindgen_prelude::Unknown::from_raw_unchecked(env.raw(), value) })
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

impl<T> OrThrow<T> for std::result::Result<T, Coded> {
    fn or_throw(self, env: &Env) -> napi::Result<T> {
        self.map_err(|e| e.throw(env))
    }
}

/// A JS Error with `code` (a TypeError for `ERR_INVALID_ARG_TYPE`), to reject
/// a Promise with; null if it cannot be made.
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

/// Test hook: this platform's errno table, `[errno, code, description]` per
/// row, checked against Node's own `util.getSystemErrorMap()`.
#[napi_derive::napi(ts_return_type = "Array<[number, string, string]>")]
#[cfg_attr(test, allow(dead_code))]
pub fn errno_table_for_test(env: &Env) -> napi::Result<napi::bindgen_prelude::Array<'_>> {
    let rows = errno::table();
    let mut out = env.create_array(rows.len() as u32)?;
    for (i, (n, code, text)) in rows.into_iter().enumerate() {
        let mut row = env.create_array(3)?;
        row.set(0, n)?;
        row.set(1, code)?;
        row.set(2, text)?;
        out.set(i as u32, row)?;
    }
    Ok(out)
}
