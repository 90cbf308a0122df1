import native = require('./native')
import { EntryHandle } from './handle'
import { perHandle } from './per-handle'

type Native = InstanceType<typeof native.NativeStore>

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

const EMPTY = new View(new ArrayBuffer(0), new ArrayBuffer(0), -1)

const STATES = new WeakMap<Native, ViewState>()

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
}

/** Live entries of a snapshot walk, a batch of handles at a time. */
export function* entryBatches(store: Native, batchSize: number): Generator<EntryHandle[]> {
  const it = store.iter()
  const view = new View(...it.view(), -1)
  for (;;) {
    const batch = it.nextBatch(batchSize)
    if (batch.length === 0) return
    yield batch.map((m) => view.handle(m))
  }
}

/** As `entryBatches`, each batch walked on a worker thread. */
export async function* entryBatchesAsync(store: Native, batchSize: number): AsyncGenerator<EntryHandle[]> {
  const it = store.iter()
  const view = new View(...it.view(), -1)
  for (;;) {
    const batch = await it.nextBatchAsync(batchSize)
    if (batch.length === 0) return
    yield batch.map((m) => view.handle(m))
  }
}
