//! Group commit for the async API. Async writes are converted on the JS
//! thread the moment they are issued and queued here, each group (a write,
//! a batch) all or nothing; one `flush` task then appends a whole batch of
//! groups on a libuv worker: one write, one index update, one fsync when
//! durable. Each group fails alone.
//!
//! No Promise is made here: a flush resolves to the outcome of every group
//! of its batch, in queue order (`Outcomes`), and the TS write queue
//! (src/queue.ts) hands each write its own Promise derived from that one.
//! Where one batch ends (`cut`) and when it leaves (`take`) is decided by
//! the TS queue too, which mirrors every cut, so batch k here is its batch k.

use crate::args::{self, Elements, Owned, Payloads};
use crate::errors::{invalid_value, Coded};
use crate::tasks::{call, Call};
use napi::bindgen_prelude::*;
use napi::{sys, Env};
use napi_derive::napi;
use srd_engine::{Applied, Group, Op, Store};
use std::cell::{RefCell, RefMut};
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::Arc;

/// What a queued group does to each of its keys (`NativeStore.enqueue`).
#[napi]
#[derive(Clone, Copy)]
pub enum OpKind {
    /// Put by key (`keys[i]` a key, `payloads[i]` its payload).
    PutKey,
    /// Put by key hash (`keys[i]` a bigint).
    PutHash,
    /// Delete by key.
    DeleteKey,
    /// Delete by key hash.
    DeleteHash,
}

#[derive(Clone, Copy)]
enum QueuedOp {
    Put(u64, Owned),
    /// A put by key in a store that records keys: the key's bytes too.
    KeyedPut(u64, Owned, Owned),
    Delete(u64),
}

/// Groups that leave in one append.
#[derive(Default)]
pub struct Batch {
    ops: Vec<QueuedOp>,
    payloads: Payloads,
    groups: Vec<Group>,
}

/// The batches of one JS handle waiting to be flushed, oldest first. Only
/// the JS thread that owns the handle touches it.
#[derive(Default)]
pub struct Queue {
    batches: VecDeque<Batch>,
}

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

    /// Queues `put(key, payload)` as a group of its own. Converting a key or
    /// payload runs no JS, so the queue may stay borrowed meanwhile.
    pub fn push_write(&mut self, env: &Env, key: &Unknown<'_>, payload: &Unknown<'_>, keyed: bool) -> Result<()> {
        let b = self.open();
        let mark = b.payloads.mark();
        match convert(env, OpKind::PutKey, key, Some(payload), &mut b.payloads, keyed) {
            Ok(op) => {
                b.ops.push(op);
                b.groups.push(Group { end: b.ops.len(), allow_null: false });
                Ok(())
            }
            Err(e) => {
                b.payloads.truncate(mark);
                Err(e)
            }
        }
    }

    /// Appends `part`'s ops as one group.
    fn push_part(&mut self, part: Batch, allow_null: bool) {
        let b = self.open();
        let moved = b.payloads.append(part.payloads);
        b.ops.extend(part.ops.into_iter().map(|op| match op {
            QueuedOp::Put(h, at) => QueuedOp::Put(h, moved(at)),
            QueuedOp::KeyedPut(h, k, at) => QueuedOp::KeyedPut(h, moved(k), moved(at)),
            op => op,
        }));
        b.groups.push(Group { end: b.ops.len(), allow_null });
    }
}

/// Queues the ops `kind(keys[i], payloads[i])` as one all-or-nothing group
/// (`payloads` is ignored for deletes). If any
/// element is invalid, it throws and nothing is queued. The queue is not
/// borrowed while the arrays are read: an element getter may run JS that
/// queues writes of its own (they land before this group).
pub fn push_group(
    env: &Env,
    queue: &SharedQueue,
    kind: OpKind,
    keys: &Unknown<'_>,
    payloads: &Unknown<'_>,
    allow_null: bool,
    keyed: bool,
) -> Result<()> {
    use OpKind::*;
    let keys = Elements::of(env, keys, if matches!(kind, PutHash | DeleteHash) { "keyHashes" } else { "keys" })?;
    let payloads = if matches!(kind, PutKey | PutHash) {
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
        let op = convert(env, kind, &keys.get(i)?, payload.as_ref(), &mut part.payloads, keyed)?;
        part.ops.push(op);
    }
    borrow(env, queue)?.push_part(part, allow_null);
    Ok(())
}

/// The async writes one JS handle has queued; shared by the handle and its
/// fast functions, on its JS thread only.
pub type SharedQueue = Rc<RefCell<Queue>>;

/// The queue, borrowed for one call. Nothing that runs JS happens while it
/// is borrowed, so this fails only on a bug (as an error, not a panic).
pub fn borrow<'a>(env: &Env, queue: &'a SharedQueue) -> Result<RefMut<'a, Queue>> {
    queue.try_borrow_mut().map_err(|_| crate::errors::throw(env, "ERR_INTERNAL", "async write queue busy"))
}

fn convert(
    env: &Env,
    kind: OpKind,
    key: &Unknown<'_>,
    payload: Option<&Unknown<'_>>,
    payloads: &mut Payloads,
    keyed: bool,
) -> Result<QueuedOp> {
    let payload = |payloads: &mut Payloads| match payload {
        Some(p) => payloads.push(env, p, "payload"),
        None => Err(invalid_value(env, "a put needs a payload")),
    };
    Ok(match kind {
        OpKind::PutKey if keyed => {
            // The key's bytes are kept for the engine, which records them.
            let k = payloads.push(env, key, "key")?;
            QueuedOp::KeyedPut(srd_engine::compute_hash(payloads.get(k)), k, payload(payloads)?)
        }
        OpKind::PutKey => QueuedOp::Put(args::key_hash(env, key, "key")?, payload(payloads)?),
        OpKind::PutHash => QueuedOp::Put(args::hash(env, key, "keyHash")?, payload(payloads)?),
        OpKind::DeleteKey => QueuedOp::Delete(args::key_hash(env, key, "key")?),
        OpKind::DeleteHash => QueuedOp::Delete(args::hash(env, key, "keyHash")?),
    })
}

/// What a flush resolves to: `[tails, failures]`. `tails` is a Float64Array
/// with one entry per group of the batch, in queue order: the tail after
/// the group, or NaN if it failed; `failures` is `null`, or a flat array
/// `[group, error, group, error, ...]` of the failed ones with their coded
/// errors.
pub struct Outcomes {
    tails: Vec<f64>,
    /// `(group, error)`, in group order.
    failed: Vec<(usize, Coded)>,
}

impl From<Applied> for Outcomes {
    fn from(a: Applied) -> Outcomes {
        // Same size and alignment: collected in place.
        let mut tails: Vec<f64> = a.tails.into_iter().map(|t| t as f64).collect();
        let failed = a
            .failed
            .into_iter()
            .map(|(g, e)| {
                tails[g] = f64::NAN;
                (g, Coded::of(&e))
            })
            .collect();
        Outcomes { tails, failed }
    }
}

impl TypeName for Outcomes {
    fn type_name() -> &'static str {
        "Outcomes"
    }
    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl ToNapiValue for Outcomes {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        let env = Env::from_raw(env);
        let mut out = env.create_array(2)?;
        out.set(0, Float64Array::new(val.tails))?;
        if val.failed.is_empty() {
            out.set(1, Null)?;
        } else {
            let mut list = env.create_array(2 * val.failed.len() as u32)?;
            for (k, (g, e)) in val.failed.into_iter().enumerate() {
                list.set(2 * k as u32, g as u32)?;
                // SAFETY: a value made in this env, during this call.
                list.set(2 * k as u32 + 1, unsafe { Unknown::from_raw_unchecked(env.raw(), e.to_value(&env)) })?;
            }
            out.set(1, list)?;
        }
        // SAFETY: `out` is a live array of this env.
        unsafe { Array::to_napi_value(env.raw(), out) }
    }
}

/// Appends `batch` in one write on a libuv worker; resolves to its groups'
/// [`Outcomes`]. A panic rejects it with `ERR_INTERNAL` (as any task), and
/// the TS queue rejects each of the batch's groups with that error.
pub fn flush(store: Arc<Store>, batch: Batch) -> Call<Outcomes> {
    call(move || {
        let ops: Vec<Op<'_>> = batch
            .ops
            .iter()
            .map(|op| match op {
                QueuedOp::Put(h, p) => Op::Put(*h, batch.payloads.get(*p)),
                QueuedOp::KeyedPut(h, k, p) => Op::KeyedPut(*h, batch.payloads.get(*k), batch.payloads.get(*p)),
                QueuedOp::Delete(h) => Op::Delete(*h),
            })
            .collect();
        Ok(store.apply_groups(&ops, &batch.groups).into())
    })
}
