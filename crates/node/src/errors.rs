//! Engine errors -> JS `Error`s with a stable string `code`.

use napi::{Env, Status};

/// Throws `code`/`msg` as a JS Error and returns the marker error napi-rs
/// expects after a throw (a pending exception is not thrown twice).
pub fn throw(env: &Env, code: &str, msg: &str) -> napi::Error {
    let _ = if code == "ERR_INVALID_ARG_TYPE" {
        env.throw_type_error(msg, Some(code))
    } else {
        env.throw_error(msg, Some(code))
    };
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
