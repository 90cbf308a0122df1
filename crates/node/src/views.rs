//! Zero-copy views: one external `ArrayBuffer` per private map, which the JS
//! layer slices by the offsets the engine returns.

use napi::bindgen_prelude::*;
use napi::Env;
use srd_engine::mapping::ViewMap;
use std::sync::Arc;

/// An external ArrayBuffer over `view`; the buffer keeps the map alive.
pub fn array_buffer<'env>(env: &'env Env, view: Arc<ViewMap>) -> Result<ArrayBuffer<'env>> {
    if view.is_empty() {
        return ArrayBuffer::from_data(env, Vec::<u8>::new());
    }
    let ptr = view.as_mut_ptr();
    let len = view.len() as usize;
    // SAFETY: `ptr..ptr+len` is a private, writable map of bytes already in the
    // file (never past its end); the finalizer owns an `Arc` that keeps it
    // mapped until the ArrayBuffer is collected. JS writes copy pages privately.
    // Under a memory cage napi-rs copies instead and drops the Arc at once.
    unsafe { ArrayBuffer::from_external(env, ptr, len, view, |_, v| drop(v)) }
}
