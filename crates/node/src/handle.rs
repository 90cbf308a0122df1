//! What one JS handle on an engine holds: its share of the engine (a slot
//! that `close()` empties), its queue of async writes and the view it reads
//! through. `NativeStore` (store.rs) and its fast functions (fast.rs) are
//! bound to the same `Handle`.

use crate::errors::closed;
use crate::group::SharedQueue;
use napi::{Env, Result};
use srd_engine::Store;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;

/// This JS handle's share of an engine; emptied by `close()`. Only the JS
/// thread that owns the handle touches it (workers get their own
/// `Arc<Store>`), and no borrow of it spans a call into JS, so a `RefCell`
/// is enough: a read pays no atomic lock and unlock (a hot get is ~90 ns of
/// call, measured).
pub type Slot = RefCell<Option<Arc<Store>>>;

/// The view of the file this JS handle reads through, as `(generation,
/// length)`: recorded by `NativeStore.view()`, which is how the TS layer gets
/// a new one, so `locate` needs no arguments to check it.
pub type Seen = Rc<Cell<(u64, u64)>>;

/// The view a handle has before its first `view()`: none.
const NO_VIEW: (u64, u64) = (u64::MAX, 0);

/// One JS handle: cloning it shares the same slot, queue and view.
#[derive(Clone)]
pub struct Handle {
    pub slot: Rc<Slot>,
    pub queue: SharedQueue,
    pub seen: Seen,
}

impl Handle {
    pub fn new(store: Arc<Store>) -> Handle {
        Handle {
            slot: Rc::new(RefCell::new(Some(store))),
            queue: SharedQueue::default(),
            seen: Rc::new(Cell::new(NO_VIEW)),
        }
    }

    /// The engine, or `None` once closed (or while `close` takes it).
    pub fn live(&self) -> Option<Arc<Store>> {
        self.slot.try_borrow().ok()?.clone()
    }

    /// The engine, or `ERR_STORE_CLOSED`.
    pub fn get(&self, env: &Env) -> Result<Arc<Store>> {
        self.live().ok_or_else(|| closed(env))
    }
}
