import type native = require('./native')

/** A native store handle (crates/node/src/store.rs). */
export type Native = InstanceType<typeof native.NativeStore>

/**
 * State kept once per native handle: every JS wrapper of one handle (a
 * DataStore, its `async` view, an AsyncDataStore) shares it.
 */
export function perHandle<H extends object, T>(states: WeakMap<H, T>, handle: H, make: (handle: H) => T): T {
  let state = states.get(handle)
  if (state === undefined) {
    state = make(handle)
    states.set(handle, state)
  }
  return state
}
