//! Zero-copy views: one external `ArrayBuffer` per private map, which the JS
//! layer slices by the offsets the engine returns.

use napi::bindgen_prelude::*;
use napi::Env;
use srd_engine::mapping::ViewMap;
use std::sync::Arc;

/// `[payload, metadata]`: external ArrayBuffers over the two maps of `view`
/// (see `ViewMap`); each buffer keeps the maps alive.
pub fn array_buffers<'env>(env: &'env Env, view: Arc<ViewMap>) -> Result<Array<'env>> {
    let mut out = env.create_array(2)?;
    out.set(0, array_buffer(env, view.clone(), view.as_mut_ptr())?)?;
    out.set(1, array_buffer(env, view.clone(), view.meta_ptr())?)?;
    Ok(out)
}

/// An external ArrayBuffer over one map of `view` starting at `ptr`.
fn array_buffer<'env>(env: &'env Env, view: Arc<ViewMap>, ptr: *mut u8) -> Result<ArrayBuffer<'env>> {
    if view.is_empty() {
        return ArrayBuffer::from_data(env, Vec::<u8>::new());
    }
    let len = view.len() as usize;
    // SAFETY: `ptr..ptr+len` is a private, writable map of bytes already in the
    // file (never past its end); the finalizer owns an `Arc` that keeps it
    // mapped until the ArrayBuffer is collected. JS writes copy pages privately.
    // Under a memory cage napi-rs copies instead and drops the Arc at once.
    unsafe { ArrayBuffer::from_external(env, ptr, len, view, |_, v| drop(v)) }
}
