//! Group commit for the async API. Async writes are converted on the JS
//! thread the moment they are issued and queued here, each group (a write,
//! a batch) with its own Promise; one `Flush` task then appends a whole
//! batch of groups on a libuv worker: one write, one index update, one fsync
//! when durable. Each group stays all-or-nothing and fails alone.
//!
//! The Promises are made and settled through N-API directly: no resolve
//! functions, no executor call, no JS array of callbacks per write (in a
//! fresh process that JS bookkeeping cost more than the append itself).
//! Where one batch ends (`cut`) and when it leaves (`take`) is decided by
//! the TS write queue (src/queue.ts), which keeps batches in issue order.

use crate::args::{self, Elements, Owned};
use crate::errors::{error_value, invalid_value};
use crate::tasks::panic_message;
use napi::bindgen_prelude::*;
use napi::{sys, Env};
use srd_engine::{Op, Store};
use std::cell::{RefCell, RefMut};
use std::collections::VecDeque;
use std::rc::Rc;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::sync::Arc;

// Op kinds, as src/queue.ts `OpKind` numbers them.
const PUT_KEY: u32 = 0;
const PUT_HASH: u32 = 1;
const DELETE_KEY: u32 = 2;
const DELETE_HASH: u32 = 3;

enum QueuedOp {
    Put(u64, Owned),
    Delete(u64),
}

/// The settle handle of one group's Promise.
struct Deferred(sys::napi_deferred);

// SAFETY: a `Deferred` travels to the worker inside a `Flush` but is only
// used on the JS thread that made it: `Flush::compute` never touches it;
// `resolve` and `finally`, which settle it, run on that JS thread.
unsafe impl Send for Deferred {}

/// One group: ops `start..end` of its batch (`start` is the previous
/// group's end), appended all or nothing.
struct Group {
    end: usize,
    allow_null: bool,
    deferred: Deferred,
}

/// Groups that leave in one append.
#[derive(Default)]
pub struct Batch {
    ops: Vec<QueuedOp>,
    /// Small payloads, copied (large Uint8Arrays are held by reference).
    arena: Vec<u8>,
    groups: Vec<Group>,
}

/// The batches of one JS handle waiting to be flushed, oldest first. Only
/// the JS thread that owns the handle touches it.
#[derive(Default)]
pub struct Queue {
    batches: VecDeque<Batch>,
}

type Outcome = std::result::Result<u64, (String, String)>;

impl Queue {
    /// Ends the batch being filled: later groups go into a new one.
    pub fn cut(&mut self) {
        self.batches.push_back(Batch::default());
    }

    /// The oldest batch (empty if none is queued).
    pub fn take(&mut self) -> Batch {
        self.batches.pop_front().unwrap_or_default()
    }

    /// The batch being filled.
    fn open(&mut self) -> &mut Batch {
        if self.batches.is_empty() {
            self.cut();
        }
        let Some(b) = self.batches.back_mut() else { unreachable!("a batch was just cut") };
        b
    }

    /// Queues `put(key, payload)` as a group of its own and returns its
    /// Promise (of the tail after it). Converting a key or payload runs no
    /// JS, so the queue may stay borrowed meanwhile.
    pub fn push_write(&mut self, env: &Env, key: &Unknown<'_>, payload: &Unknown<'_>) -> Result<sys::napi_value> {
        let b = self.open();
        let arena = b.arena.len();
        match convert(env, PUT_KEY, key, Some(payload), &mut b.arena).and_then(|op| Ok((op, promise(env)?))) {
            Ok((op, (deferred, promise))) => {
                b.ops.push(op);
                b.groups.push(Group { end: b.ops.len(), allow_null: false, deferred });
                Ok(promise)
            }
            Err(e) => {
                b.arena.truncate(arena);
                Err(e)
            }
        }
    }

    /// Appends `part`'s ops as one group settling `deferred`.
    fn push_part(&mut self, part: Batch, allow_null: bool, deferred: Deferred) {
        let b = self.open();
        let base = b.arena.len();
        b.arena.extend_from_slice(&part.arena);
        b.ops.extend(part.ops.into_iter().map(|op| match op {
            QueuedOp::Put(h, Owned::Arena(from, to)) => QueuedOp::Put(h, Owned::Arena(base + from, base + to)),
            op => op,
        }));
        b.groups.push(Group { end: b.ops.len(), allow_null, deferred });
    }
}

/// Queues the ops `kind(keys[i], payloads[i])` as one all-or-nothing group
/// (`payloads` is ignored for deletes) and returns its Promise. If any
/// element is invalid, it throws and nothing is queued. The queue is not
/// borrowed while the arrays are read: an element getter may run JS that
/// queues writes of its own (they land before this group).
pub fn push_group(env: &Env, queue: &SharedQueue, kind: u32, keys: &Unknown<'_>, payloads: &Unknown<'_>, allow_null: bool) -> Result<sys::napi_value> {
    let keys = Elements::of(env, keys, if kind == PUT_HASH || kind == DELETE_HASH { "keyHashes" } else { "keys" })?;
    let payloads = if kind == PUT_KEY || kind == PUT_HASH {
        let p = Elements::of(env, payloads, "payloads")?;
        if p.len != keys.len {
            return Err(invalid_value(env, "keys and payloads differ in length"));
        }
        Some(p)
    } else {
        None
    };
    let mut part = Batch { ops: Vec::with_capacity(keys.len as usize), ..Batch::default() };
    for i in 0..keys.len {
        let payload = payloads.as_ref().map(|p| p.get(i)).transpose()?;
        let op = convert(env, kind, &keys.get(i)?, payload.as_ref(), &mut part.arena)?;
        part.ops.push(op);
    }
    let (deferred, promise) = promise(env)?;
    borrow(env, queue)?.push_part(part, allow_null, deferred);
    Ok(promise)
}

/// The async writes one JS handle has queued; shared by the handle and its
/// fast functions, on its JS thread only.
pub type SharedQueue = Rc<RefCell<Queue>>;

/// The queue, borrowed for one call. Nothing that runs JS happens while it
/// is borrowed, so this fails only on a bug (as an error, not a panic).
pub fn borrow<'a>(env: &Env, queue: &'a SharedQueue) -> Result<RefMut<'a, Queue>> {
    queue.try_borrow_mut().map_err(|_| crate::errors::throw(env, "ERR_INTERNAL", "async write queue busy"))
}

fn convert(env: &Env, kind: u32, key: &Unknown<'_>, payload: Option<&Unknown<'_>>, arena: &mut Vec<u8>) -> Result<QueuedOp> {
    let payload = |arena: &mut Vec<u8>| match payload {
        Some(p) => args::owned_payload(env, p, arena, "payload"),
        None => Err(invalid_value(env, "a put needs a payload")),
    };
    Ok(match kind {
        PUT_KEY => QueuedOp::Put(args::key_hash(env, key, "key")?, payload(arena)?),
        PUT_HASH => QueuedOp::Put(args::hash(env, key, "keyHash")?, payload(arena)?),
        DELETE_KEY => QueuedOp::Delete(args::key_hash(env, key, "key")?),
        DELETE_HASH => QueuedOp::Delete(args::hash(env, key, "keyHash")?),
        _ => return Err(invalid_value(env, "unknown op kind")),
    })
}

fn promise(env: &Env) -> Result<(Deferred, sys::napi_value)> {
    let (mut deferred, mut promise) = (ptr::null_mut(), ptr::null_mut());
    // SAFETY: out-params are valid; `env` is the live env of this call.
    let status = unsafe { sys::napi_create_promise(env.raw(), &mut deferred, &mut promise) };
    if status != sys::Status::napi_ok {
        return Err(Error::new(Status::GenericFailure, "cannot create a Promise"));
    }
    Ok((Deferred(deferred), promise))
}

/// Settles `d` with the tail or a coded error. Frees the deferred.
fn settle(env: &Env, d: Deferred, outcome: Outcome) {
    let mut value = ptr::null_mut();
    // SAFETY: `env` is the live env of the JS thread that made `d` (see
    // `Deferred`); N-API frees `d` as it settles it, and `d` is consumed here.
    unsafe {
        match outcome {
            Ok(tail) => {
                sys::napi_create_double(env.raw(), tail as f64, &mut value);
                sys::napi_resolve_deferred(env.raw(), d.0, value);
            }
            Err((code, msg)) => {
                value = error_value(env, &code, &msg);
                sys::napi_reject_deferred(env.raw(), d.0, value);
            }
        }
    }
}

impl Batch {
    /// Rejects every group of the batch with `code`/`msg`.
    pub fn fail(self, env: &Env, code: &str, msg: &str) {
        for g in self.groups {
            settle(env, g.deferred, Err((code.to_owned(), msg.to_owned())));
        }
    }
}

/// Appends one batch on a libuv worker, then settles its groups' Promises.
pub struct Flush {
    store: Arc<Store>,
    batch: Batch,
}

impl Flush {
    pub fn new(store: Arc<Store>, batch: Batch) -> Flush {
        Flush { store, batch }
    }

    fn append(&self) -> Vec<Outcome> {
        let b = &self.batch;
        let ops: Vec<Op<'_>> = b
            .ops
            .iter()
            .map(|op| match op {
                QueuedOp::Put(h, p) => Op::Put(*h, p.get(&b.arena)),
                QueuedOp::Delete(h) => Op::Delete(*h),
            })
            .collect();
        let mut start = 0;
        let groups: Vec<(&[Op<'_>], bool)> = b
            .groups
            .iter()
            .map(|g| {
                let ops = &ops[start..g.end];
                start = g.end;
                (ops, g.allow_null)
            })
            .collect();
        self.store.apply_groups(&groups).into_iter().map(|r| r.map_err(|e| (e.code().to_owned(), e.to_string()))).collect()
    }
}

#[napi_derive::napi]
impl Task for Flush {
    type Output = Vec<Outcome>;
    type JsValue = ();

    fn compute(&mut self) -> Result<Self::Output> {
        if self.batch.groups.is_empty() {
            return Ok(Vec::new());
        }
        Ok(catch_unwind(AssertUnwindSafe(|| self.append())).unwrap_or_else(|panic| {
            let failed = Err(("ERR_INTERNAL".to_owned(), format!("engine panic: {}", panic_message(&*panic))));
            vec![failed; self.batch.groups.len()]
        }))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<()> {
        for (g, outcome) in std::mem::take(&mut self.batch.groups).into_iter().zip(output) {
            settle(&env, g.deferred, outcome);
        }
        Ok(())
    }

    /// Any group `resolve` did not reach (there should be none) is rejected,
    /// so no Promise is left pending.
    fn finally(self, env: Env) -> Result<()> {
        self.batch.fail(&env, "ERR_INTERNAL", "the write task ended without a result");
        Ok(())
    }
}
