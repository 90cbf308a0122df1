//! JS argument conversion: keys and payloads (`string | ArrayBufferView | ArrayBuffer`) and key
//! hashes (`bigint`), with `ERR_INVALID_ARG_TYPE` / `ERR_INVALID_ARG_VALUE`.
//! Short string keys are hashed from a stack buffer (no allocation).

use crate::errors::{invalid_type, invalid_value};
use napi::bindgen_prelude::*;
use napi::{sys, Env, JsValue};
use srd_engine::Op;
use std::borrow::Cow;
use std::ptr;
use typed_arena::Arena;

fn raw(v: &Unknown<'_>) -> (sys::napi_env, sys::napi_value) {
    let val = v.value();
    (val.env, val.value)
}

/// What a key or payload may be, for error messages.
const BINARY_KINDS: &str = "a string, TypedArray, DataView or ArrayBuffer";

/// The bytes of a `string | ArrayBufferView | ArrayBuffer`, borrowed (for
/// this call only) when binary: a TypedArray or DataView is the bytes it
/// views, whatever its element type.
pub fn bytes<'a>(env: &Env, v: &Unknown<'a>, what: &str) -> Result<Cow<'a, [u8]>> {
    let (e, value) = raw(v);
    // Typed arrays first (one call), then strings (one more): the common
    // payloads pay no DataView or ArrayBuffer check.
    if let Some(slice) = typed_array(env, e, value, what)? {
        return Ok(Cow::Borrowed(slice));
    }
    match v.get_type()? {
        ValueType::String => Ok(Cow::Owned(string_bytes(e, value, None)?)),
        ValueType::Object => match view_or_buffer(env, e, value, what)? {
            Some(slice) => Ok(Cow::Borrowed(slice)),
            None => Err(invalid_type(env, &format!("{what} must be {BINARY_KINDS}"))),
        },
        _ => Err(invalid_type(env, &format!("{what} must be {BINARY_KINDS}"))),
    }
}

/// The bytes of a `string | Uint8Array` key: a short string is copied into
/// `stack` (no allocation, as in `key_hash`), other values as `bytes` gives them.
pub fn key_bytes<'a>(env: &Env, v: &Unknown<'a>, stack: &'a mut [u8; 256], what: &str) -> Result<Cow<'a, [u8]>> {
    let (e, value) = raw(v);
    // One call copies a short string onto the stack. If napi had to stop
    // early, at least 255 - 3 bytes were written (a UTF-8 char is <= 4 bytes),
    // so fewer than 252 means the whole string is there.
    let mut n = 0usize;
    // SAFETY: `stack` is writable for its length; napi writes at most 255 bytes plus NUL.
    let status = unsafe { sys::napi_get_value_string_utf8(e, value, stack.as_mut_ptr().cast(), stack.len(), &mut n) };
    if status == sys::Status::napi_ok && n < 252 {
        return Ok(Cow::Borrowed(&stack[..n]));
    }
    bytes(env, v, what)
}

/// XXH3 hash of a `string | Uint8Array` key.
pub fn key_hash(env: &Env, v: &Unknown<'_>, what: &str) -> Result<u64> {
    let mut stack = [0u8; 256];
    Ok(srd_engine::compute_hash(&key_bytes(env, v, &mut stack, what)?))
}

/// A full 64-bit key hash given as a `bigint`.
pub fn hash(env: &Env, v: &Unknown<'_>, what: &str) -> Result<u64> {
    let (e, value) = raw(v);
    if v.get_type()? != ValueType::BigInt {
        return Err(invalid_type(env, &format!("{what} must be a bigint")));
    }
    let mut out = 0u64;
    let mut lossless = false;
    // SAFETY: `value` is a live bigint of this call's scope; out-params are valid.
    let status = unsafe { sys::napi_get_value_bigint_uint64(e, value, &mut out, &mut lossless) };
    if status != sys::Status::napi_ok || !lossless {
        return Err(invalid_value(env, &format!("{what} must be an unsigned 64-bit bigint")));
    }
    Ok(out)
}

/// The hashes of an array of keys (`hashed == false`) or of bigint key hashes.
pub fn key_hashes(env: &Env, v: &Unknown<'_>, hashed: bool) -> Result<Vec<u64>> {
    let items = array(env, v, if hashed { "keyHashes" } else { "keys" })?;
    items.iter().map(|k| if hashed { hash(env, k, "keyHash") } else { key_hash(env, k, "key") }).collect()
}

/// The elements of a JS array argument.
pub fn array<'a>(env: &Env, v: &Unknown<'a>, what: &str) -> Result<Vec<Unknown<'a>>> {
    let items = Elements::of(env, v, what)?;
    (0..items.len).map(|i| items.get(i)).collect()
}

/// A JS array argument, read one element at a time (no list of handles).
pub struct Elements<'a> {
    env: sys::napi_env,
    value: sys::napi_value,
    pub len: u32,
    _scope: std::marker::PhantomData<&'a ()>,
}

impl<'a> Elements<'a> {
    pub fn of(env: &Env, v: &Unknown<'a>, what: &str) -> Result<Elements<'a>> {
        let (e, value) = raw(v);
        let mut is_array = false;
        // SAFETY: `value` is a live value of this call's scope.
        unsafe { sys::napi_is_array(e, value, &mut is_array) };
        if !is_array {
            return Err(invalid_type(env, &format!("{what} must be an array")));
        }
        let mut len = 0u32;
        // SAFETY: as above; `value` is an array.
        unsafe { sys::napi_get_array_length(e, value, &mut len) };
        Ok(Elements { env: e, value, len, _scope: std::marker::PhantomData })
    }

    pub fn get(&self, i: u32) -> Result<Unknown<'a>> {
        let mut el = ptr::null_mut();
        // SAFETY: `value` is a live array of this call's scope (a getter may
        // run, or the index be past a shrunk end: napi then returns undefined
        // or an error status, both handled).
        let status = unsafe { sys::napi_get_element(self.env, self.value, i, &mut el) };
        if status != sys::Status::napi_ok {
            return Err(Error::new(Status::GenericFailure, "cannot read array element"));
        }
        // SAFETY: `el` was just produced by napi for this env.
        Ok(unsafe { Unknown::from_raw_unchecked(self.env, el) })
    }
}

/// The puts of `keys[i] -> payloads[i]` (the two halves of `[key, payload]`
/// pairs, split by the TS layer, which is faster at it than N-API calls),
/// read a part at a time: key hashes (of keys, or bigint hashes when
/// `hashed`) and payload bytes. Uint8Array payloads are borrowed; string
/// payloads are encoded into `strings`.
pub struct Puts<'a, 'e> {
    env: &'e Env,
    keys: Elements<'a>,
    payloads: Elements<'a>,
    hashed: bool,
    /// Keep each key's bytes (`Op::KeyedPut`) for a store that records keys.
    keyed: bool,
    strings: &'a Arena<u8>,
    next: u32,
}

impl<'a, 'e> Puts<'a, 'e> {
    pub fn new(
        env: &'e Env,
        keys: &Unknown<'a>,
        payloads: &Unknown<'a>,
        hashed: bool,
        strings: &'a Arena<u8>,
    ) -> Result<Self> {
        let keys = Elements::of(env, keys, if hashed { "keyHashes" } else { "keys" })?;
        let payloads = Elements::of(env, payloads, "payloads")?;
        if keys.len != payloads.len {
            return Err(invalid_value(env, "keys and payloads differ in length"));
        }
        Ok(Puts { env, keys, payloads, hashed, keyed: false, strings, next: 0 })
    }

    /// Puts by key keep their keys' bytes (a store that records keys).
    pub fn keyed(mut self, keyed: bool) -> Self {
        self.keyed = keyed && !self.hashed;
        self
    }

    /// How many puts there are.
    pub fn len(&self) -> u32 {
        self.keys.len
    }

    /// The next (up to) `max` puts; empty once all were read.
    pub fn part(&mut self, max: u32) -> Result<Vec<Op<'a>>> {
        let end = self.keys.len.min(self.next.saturating_add(max));
        let mut ops = Vec::with_capacity((end - self.next) as usize);
        // The element handles of one part live in a scope of their own: a
        // batch's handles would otherwise pile up in the call's scope (two
        // per put, 1.6 MB of fresh pages for 100,000 puts, at ~3 us per page
        // fault here). The payloads borrowed stay valid: the arrays keep them.
        let _scope = HandleScope::open(self.env)?;
        for i in self.next..end {
            let (env, k) = (self.env, self.keys.get(i)?);
            let key: Option<&'a [u8]> = if self.keyed {
                Some(match bytes(env, &k, "key")? {
                    Cow::Borrowed(k) => k,
                    Cow::Owned(k) => self.strings.alloc_extend(k),
                })
            } else {
                None
            };
            let h = match key {
                Some(key) => srd_engine::compute_hash(key),
                None if self.hashed => hash(env, &k, "keyHash")?,
                None => key_hash(env, &k, "key")?,
            };
            let p: &'a [u8] = match bytes(env, &self.payloads.get(i)?, "payload")? {
                Cow::Borrowed(p) => p,
                Cow::Owned(p) => self.strings.alloc_extend(p),
            };
            ops.push(match key {
                Some(key) => Op::KeyedPut(h, key, p),
                None => Op::Put(h, p),
            });
        }
        self.next = end;
        Ok(ops)
    }
}

/// A N-API handle scope, closed when dropped.
struct HandleScope(sys::napi_env, sys::napi_handle_scope);

impl HandleScope {
    fn open(env: &Env) -> Result<HandleScope> {
        let mut scope = ptr::null_mut();
        // SAFETY: `env` is the live env of the current call.
        let status = unsafe { sys::napi_open_handle_scope(env.raw(), &mut scope) };
        if status != sys::Status::napi_ok {
            return Err(Error::new(Status::GenericFailure, "cannot open a handle scope"));
        }
        Ok(HandleScope(env.raw(), scope))
    }
}

impl Drop for HandleScope {
    fn drop(&mut self) {
        // SAFETY: the scope was opened in this env by `open` and is the innermost
        // one: scopes opened later in the call are closed before it (also dropped).
        unsafe { sys::napi_close_handle_scope(self.0, self.1) };
    }
}

/// The bytes viewed by a TypedArray of any element type; `None` for any other value.
fn typed_array<'a>(env: &Env, e: sys::napi_env, value: sys::napi_value, what: &str) -> Result<Option<&'a [u8]>> {
    let mut kind = 0;
    let mut len = 0usize;
    let mut data = ptr::null_mut();
    let mut ab = ptr::null_mut();
    let mut off = 0usize;
    // SAFETY: out-params are valid; napi returns an error status for a value
    // that is not a typed array.
    let status = unsafe { sys::napi_get_typedarray_info(e, value, &mut kind, &mut len, &mut data, &mut ab, &mut off) };
    if status != sys::Status::napi_ok {
        return Ok(None);
    }
    view_bytes(env, e, ab, data, len * element_size(kind), what).map(Some)
}

/// The bytes of a DataView or an ArrayBuffer; `None` for any other value.
fn view_or_buffer<'a>(env: &Env, e: sys::napi_env, value: sys::napi_value, what: &str) -> Result<Option<&'a [u8]>> {
    let (mut len, mut data, mut ab, mut off) = (0usize, ptr::null_mut(), ptr::null_mut(), 0usize);
    let mut is = false;
    // SAFETY: `value` is a live value of this call's scope; out-params are valid.
    if unsafe { sys::napi_is_dataview(e, value, &mut is) } == sys::Status::napi_ok && is {
        // SAFETY: as above; `value` is a DataView.
        unsafe { sys::napi_get_dataview_info(e, value, &mut len, &mut data, &mut ab, &mut off) };
        return view_bytes(env, e, ab, data, len, what).map(Some);
    }
    // SAFETY: as above.
    if unsafe { sys::napi_is_arraybuffer(e, value, &mut is) } == sys::Status::napi_ok && is {
        // SAFETY: as above; `value` is an ArrayBuffer.
        unsafe { sys::napi_get_arraybuffer_info(e, value, &mut data, &mut len) };
        return view_bytes(env, e, value, data, len, what).map(Some);
    }
    Ok(None)
}

fn element_size(kind: sys::napi_typedarray_type) -> usize {
    use sys::TypedarrayType as T;
    match kind {
        T::int16_array | T::uint16_array => 2,
        T::int32_array | T::uint32_array | T::float32_array => 4,
        T::float64_array | T::bigint64_array | T::biguint64_array => 8,
        _ => 1,
    }
}

/// `len` bytes at `data` of the ArrayBuffer `ab`, checked not detached.
fn view_bytes<'a>(
    env: &Env,
    e: sys::napi_env,
    ab: sys::napi_value,
    data: *mut std::ffi::c_void,
    len: usize,
    what: &str,
) -> Result<&'a [u8]> {
    if len == 0 || data.is_null() {
        let mut detached = false;
        // SAFETY: `ab` is the live ArrayBuffer behind the value (Node-API 7).
        unsafe { sys::napi_is_detached_arraybuffer(e, ab, &mut detached) };
        if detached {
            return Err(invalid_value(
                env,
                &format!("{what} is a view of a detached ArrayBuffer (it was transferred)"),
            ));
        }
        return Ok(&[]);
    }
    // SAFETY: napi reports `len` bytes at `data`, kept alive by the JS value
    // for the duration of this native call (the slice does not outlive it:
    // async work copies it first, see `Payloads`).
    Ok(unsafe { std::slice::from_raw_parts(data as *const u8, len) })
}

fn string_len(e: sys::napi_env, value: sys::napi_value) -> Result<usize> {
    let mut len = 0usize;
    // SAFETY: a null buffer asks napi for the UTF-8 length only.
    let status = unsafe { sys::napi_get_value_string_utf8(e, value, ptr::null_mut(), 0, &mut len) };
    if status != sys::Status::napi_ok {
        return Err(Error::new(Status::StringExpected, "cannot read string"));
    }
    Ok(len)
}

fn copy_string(e: sys::napi_env, value: sys::napi_value, buf: &mut [u8]) -> Result<usize> {
    let mut n = 0usize;
    // SAFETY: `buf` is writable for its length; napi writes at most len-1 bytes plus NUL.
    let status = unsafe { sys::napi_get_value_string_utf8(e, value, buf.as_mut_ptr().cast(), buf.len(), &mut n) };
    if status != sys::Status::napi_ok {
        return Err(Error::new(Status::StringExpected, "cannot read string"));
    }
    Ok(n)
}

fn string_bytes(e: sys::napi_env, value: sys::napi_value, len: Option<usize>) -> Result<Vec<u8>> {
    let len = match len {
        Some(l) => l,
        None => string_len(e, value)?,
    };
    let mut buf = vec![0u8; len + 1];
    let n = copy_string(e, value, &mut buf)?;
    buf.truncate(n);
    Ok(buf)
}

/// Payloads owned for a worker thread, copied on the JS thread: small ones
/// into one arena, large ones each into a buffer of its own (no arena
/// regrowth). Never read in place from JS memory: JS may transfer
/// (detach), resize or free an ArrayBuffer while the worker runs, and N-API
/// gives no way to pin a backing store, so a worker reading it could read
/// freed memory (measured: bytes of a later allocation stored with a valid
/// checksum). Large copies go into reused buffers (`pool`): ~0.1 ms a MiB
/// on the JS thread then, instead of 0.4-1.1 ms into fresh memory.
#[derive(Default)]
pub struct Payloads {
    arena: Vec<u8>,
    large: Vec<Vec<u8>>,
}

impl Drop for Payloads {
    fn drop(&mut self) {
        self.large.drain(..).for_each(crate::pool::give);
    }
}

/// Where one payload of a [`Payloads`] is (small, so a queue of them stays small).
#[derive(Clone, Copy)]
pub enum Owned {
    Arena(usize, usize),
    Large(usize),
}

/// Payloads at least this large get a buffer of their own.
const OWN_BUFFER_MIN: usize = 64 * 1024;

impl Payloads {
    /// Takes (copies) a string or binary payload.
    pub fn push(&mut self, env: &Env, v: &Unknown<'_>, what: &str) -> Result<Owned> {
        let bytes = bytes(env, v, what)?;
        if bytes.len() >= OWN_BUFFER_MIN {
            self.large.push(crate::pool::copy_of(&bytes));
            return Ok(Owned::Large(self.large.len() - 1));
        }
        self.arena.extend_from_slice(&bytes);
        Ok(Owned::Arena(self.arena.len() - bytes.len(), self.arena.len()))
    }

    pub fn get(&self, at: Owned) -> &[u8] {
        match at {
            Owned::Arena(a, b) => &self.arena[a..b],
            Owned::Large(i) => &self.large[i],
        }
    }

    /// A mark to [`Payloads::truncate`] back to.
    pub fn mark(&self) -> (usize, usize) {
        (self.arena.len(), self.large.len())
    }

    /// Drops the payloads taken since `mark`.
    pub fn truncate(&mut self, (arena, large): (usize, usize)) {
        self.arena.truncate(arena);
        self.large.drain(large.min(self.large.len())..).for_each(crate::pool::give);
    }

    /// Moves `other`'s payloads after these; returns how to move a place in
    /// `other` to its place here.
    pub fn append(&mut self, mut other: Payloads) -> impl Fn(Owned) -> Owned + use<> {
        let (arena, large) = self.mark();
        self.arena.extend_from_slice(&other.arena);
        self.large.append(&mut other.large);
        move |at| match at {
            Owned::Arena(a, b) => Owned::Arena(arena + a, arena + b),
            Owned::Large(i) => Owned::Large(large + i),
        }
    }
}
