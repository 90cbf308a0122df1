import { EntryHandle } from './handle'
import { perHandle, type Native } from './per-handle'

/**
 * What a read answers besides a metadata offset (crates/node/src/reads.rs):
 * the key is absent; or the view is stale (a write or a compaction since it
 * was taken): refresh it and ask again. A batch answers `[STALE]`.
 */
export const ABSENT = -1
export const STALE = -2

/** Handles made per native call of a walk over the entries. */
const ITER_BATCH = 1024

/**
 * An immutable snapshot of the store's mapped file as seen from this
 * thread: two external ArrayBuffers over two private maps of one file
 * generation. Reads locate entries natively, read their metadata from
 * `#meta` and slice `buffer` for their bytes. A user can write anywhere in
 * `buffer` (`handle.bytes.buffer`); no user-visible object holds `#meta`,
 * so what a read trusts (sizes, offsets, checksums) is the file's.
 */
export class View {
  readonly #meta: DataView
  readonly length: number
  constructor(
    readonly buffer: ArrayBuffer,
    meta: ArrayBuffer,
    readonly generation: number,
  ) {
    this.#meta = new DataView(meta)
    this.length = buffer.byteLength
  }

  /** The entry whose metadata is at `meta` (a value `locate` returned for this view). */
  handle(meta: number): EntryHandle {
    return new EntryHandle(this.buffer, this.#meta, meta)
  }
}

/** The entry at `m` in `view` (a read's answer for it), or null (ABSENT). */
export function entryAt(view: View, m: number): EntryHandle | null {
  return m < 0 ? null : view.handle(m)
}

/** The entries at `ms` in `view` (a batch read's answer for it). */
export function entriesAt(view: View, ms: number[]): Array<EntryHandle | null> {
  return ms.map((m) => entryAt(view, m))
}

const EMPTY = new View(new ArrayBuffer(0), new ArrayBuffer(0), -1)

const STATES = new WeakMap<Native, ViewState>()

type Answer = number | number[]

function isStale(a: Answer): boolean {
  return a === STALE || (typeof a === 'object' && a[0] === STALE)
}

/**
 * The current view of one native handle, replaced (never mutated) when it
 * is stale. One per handle (`of`): the handle's `locate` checks offsets
 * against the view it last handed out, which must be `current`.
 */
export class ViewState {
  current: View = EMPTY

  private constructor(private readonly store: Native) {}

  /** The view state of `store` (every wrapper of one handle shares it). */
  static of(store: Native): ViewState {
    return perHandle(STATES, store, (handle) => new ViewState(handle))
  }

  /** Replaces the current view by one covering the whole file now. */
  refresh(): View {
    const [buffer, meta, generation] = this.store.view()
    this.current = new View(buffer, meta, generation)
    return this.current
  }

  /**
   * The stale-view protocol, for every read: asks `locate` for its answer in
   * the current view and, while the answer is STALE, refreshes the view and
   * asks again; then `found(view, answer)` makes the result in the view the
   * answer is for. When `locate` answers through a Promise (the async
   * reads), so does this, and the view it asked for is the one `found` gets
   * (another read may refresh `current` meanwhile). `first`, if given, is
   * an answer already had for the current view (a sync read's first try).
   */
  locate<A extends Answer, R>(locate: (view: View) => Promise<A>, found: (view: View, answer: A) => R): Promise<R>
  locate<A extends Answer, R>(locate: (view: View) => A, found: (view: View, answer: A) => R, first?: A): R
  locate<A extends Answer, R>(locate: (view: View) => A | Promise<A>, found: (view: View, answer: A) => R, first?: A): R | Promise<R> {
    let view = this.current
    for (;;) {
      const answer = first === undefined ? locate(view) : first
      first = undefined
      if (answer instanceof Promise) {
        const asked = view
        return answer.then((a) => {
          if (!isStale(a)) return found(asked, a)
          this.refresh()
          return this.locate(locate as (view: View) => Promise<A>, found)
        })
      }
      if (!isStale(answer)) return found(view, answer)
      view = this.refresh()
    }
  }
}

/** Live entries of a snapshot walk, a batch of handles at a time. */
export function* entryBatches(store: Native): Generator<EntryHandle[]> {
  const it = store.iter()
  const view = new View(...it.view(), -1)
  for (;;) {
    const batch = it.nextBatch(ITER_BATCH)
    if (batch.length === 0) return
    yield batch.map((m) => view.handle(m))
  }
}

/** As `entryBatches`, each batch walked on a worker thread. */
export async function* entryBatchesAsync(store: Native): AsyncGenerator<EntryHandle[]> {
  const it = store.iter()
  const view = new View(...it.view(), -1)
  for (;;) {
    const batch = await it.nextBatchAsync(ITER_BATCH)
    if (batch.length === 0) return
    yield batch.map((m) => view.handle(m))
  }
}
