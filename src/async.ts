import type { Readable } from 'node:stream'
import native = require('./native')
import { type EntryHandle, type EntryMetadata, ensureVerified, metadataOf, keysOf, payloadStream, withKeys } from './handle'
import { closedError, codedError, typeError } from './errors'
import { WriteQueue } from './queue'
import { checkAllowNull, splitPairs } from './args'
import {
  type KeysOptions,
  type OpenOptions,
  checkKeysOptions,
  checkOptionNames,
  checkOptions,
  checkPath,
  checkReadOptions,
  checkReadStreamOptions,
  nativeOptions,
} from './options'
import { inspectCustom } from './inspect'
import type { InspectOptionsStylized } from 'node:util'
import { type Native, perHandle } from './per-handle'
import { type CorruptEntry, type RepairReport, corruptEntries } from './reports'
import { ViewState, entriesAt, entryAt, entryBatchesAsync } from './view'
import { DataStore } from './store'
import type {
  AsyncDataStoreReader,
  AsyncDataStoreWriter,
  Key,
  Payload,
  ReadOptions,
  StreamSource,
  WriteStreamOptions,
} from './traits'

type StreamWriter = InstanceType<typeof native.NativeStreamWriter>

function checkKey(key: unknown, what = 'key'): void {
  if (typeof key !== 'string' && !ArrayBuffer.isView(key) && !(key instanceof ArrayBuffer)) {
    throw typeError(`${what} must be a string, TypedArray, DataView or ArrayBuffer`)
  }
}
const MAX_HASH = (1n << 64n) - 1n

function checkHash(hash: unknown): void {
  if (typeof hash !== 'bigint') throw typeError('keyHash must be a bigint')
  if (hash < 0n || hash > MAX_HASH) throw codedError('ERR_INVALID_ARG_VALUE', 'keyHash must be an unsigned 64-bit bigint')
}
function checkArray(value: unknown, what: string): asserts value is unknown[] {
  if (!Array.isArray(value)) throw typeError(`${what} must be an array`)
}

function abortError(signal: AbortSignal): Error {
  const err = codedError('ABORT_ERR', 'the stream was aborted')
  err.name = 'AbortError'
  ;(err as Error & { cause?: unknown }).cause = signal.reason
  return err
}

function asyncIterator(source: unknown): AsyncIterator<unknown> | Iterator<unknown> {
  // A boxed String is iterable (by character) but no stream of bytes: rejected as a plain string is.
  if (source != null && typeof source === 'object' && !(source instanceof String)) {
    const s = source as Record<symbol, unknown>
    if (typeof s[Symbol.asyncIterator] === 'function') return (s[Symbol.asyncIterator] as () => AsyncIterator<unknown>)()
    if (typeof s[Symbol.iterator] === 'function') return (s[Symbol.iterator] as () => Iterator<unknown>)()
    const web = source as { getReader?: () => { read(): Promise<IteratorResult<unknown>>; releaseLock(): void } }
    if (typeof web.getReader === 'function') {
      const reader = web.getReader()
      return {
        next: () => reader.read(),
        return: async () => {
          reader.releaseLock()
          return { done: true, value: undefined }
        },
      }
    }
  }
  throw typeError('source must be a Readable, an AsyncIterable or Iterable of Uint8Array chunks, or a ReadableStream')
}

/**
 * The async face of a store: the same methods as `DataStore`, each returning
 * a Promise. Engine work runs on libuv's worker threads; concurrent writes
 * are coalesced into one append (group commit) and land in issue order.
 */
export class AsyncDataStore implements AsyncDataStoreWriter<AsyncDataStore | DataStore>, AsyncDataStoreReader, AsyncIterable<EntryHandle> {
  /** @internal */
  readonly native: Native
  readonly #views: ViewState
  readonly #queue: WriteQueue
  readonly #verifyReads: boolean
  readonly #recordsKeys: boolean
  /** For `util.inspect` after `close()` (when `path` throws). */
  readonly #path: string
  /** Streams in progress: their writer and how to stop them (close() does). */
  readonly #streams = new Map<StreamWriter, (err: Error) => void>()
  #closing: Promise<void> | undefined

  /** @internal */
  constructor(handle: Native, views: ViewState, options: OpenOptions) {
    this.native = handle
    this.#views = views
    this.#queue = WriteQueue.of(handle)
    this.#verifyReads = options.verifyReads === true
    this.#recordsKeys = options.keys === true
    this.#path = handle.closed ? '' : handle.path
  }

  /** Opens (creating if missing) the store at `path`; the index is built off the main thread. */
  static async open(path: string, options?: OpenOptions): Promise<AsyncDataStore> {
    const opts = checkOptions(options)
    const handle = await native.NativeStore.openAsync(checkPath(path), nativeOptions(opts, true))
    return new AsyncDataStore(handle, ViewState.of(handle), opts)
  }

  /** As `open`, but rejects with `ENOENT` if the file is missing. */
  static async openExisting(path: string, options?: OpenOptions): Promise<AsyncDataStore> {
    const opts = checkOptions(options)
    const handle = await native.NativeStore.openAsync(checkPath(path), nativeOptions(opts, false))
    return new AsyncDataStore(handle, ViewState.of(handle), opts)
  }

  /** @internal */
  static fromDataStore(store: DataStore): AsyncDataStore {
    return new AsyncDataStore(store.native, store.views, { verifyReads: store.verifyReads, keys: store.recordsKeys })
  }

  /** What `{ repair: true }` did when this open rebuilt a damaged file; `null` if it did not (see `DataStore.repairReport`). */
  get repairReport(): RepairReport | null {
    return this.native.repairReport()
  }

  get path(): string {
    return this.native.path
  }

  get closed(): boolean {
    return this.#closing !== undefined || this.native.closed
  }

  /** Cheap check (no native call): closed through this object. A close of a
   * `DataStore` sharing the engine is caught by the engine (ERR_STORE_CLOSED). */
  #open(): void {
    if (this.#closing !== undefined) throw closedError()
  }

  // ---- writer ----

  write(key: Key, payload: Payload): Promise<number> {
    // Not `async`: no extra Promise per write on the hot path; errors still reject.
    try {
      if (this.#closing !== undefined) throw closedError()
      return this.#queue.write(key, payload)
    } catch (err) {
      return Promise.reject(err)
    }
  }

  async writeWithKeyHash(keyHash: bigint, payload: Payload): Promise<number> {
    this.#open()
    return this.#queue.group(native.OpKind.PutHash, [keyHash], [payload])
  }

  async batchWrite(entries: ReadonlyArray<readonly [Key, Payload]>): Promise<number> {
    this.#open()
    const [keys, payloads] = splitPairs(entries)
    return this.#queue.group(native.OpKind.PutKey, keys, payloads)
  }

  async batchWriteWithKeyHashes(entries: ReadonlyArray<readonly [bigint, Payload]>, allowNullBytes = false): Promise<number> {
    this.#open()
    const [keyHashes, payloads] = splitPairs(entries)
    return this.#queue.group(native.OpKind.PutHash, keyHashes, payloads, checkAllowNull(allowNullBytes))
  }

  async delete(key: Key): Promise<number> {
    this.#open()
    return this.#queue.group(native.OpKind.DeleteKey, [key], null)
  }

  async batchDelete(keys: ReadonlyArray<Key>): Promise<number> {
    this.#open()
    return this.#queue.group(native.OpKind.DeleteKey, keys, null)
  }

  async batchDeleteKeyHashes(keyHashes: ReadonlyArray<bigint>): Promise<number> {
    this.#open()
    return this.#queue.group(native.OpKind.DeleteHash, keyHashes, null)
  }

  async rename(oldKey: Key, newKey: Key): Promise<number> {
    this.#open()
    checkKey(oldKey, 'oldKey')
    checkKey(newKey, 'newKey')
    return this.#queue.task(() => this.native.renameAsync(oldKey, newKey))
  }

  async copy(key: Key, target: AsyncDataStore | DataStore): Promise<number> {
    this.#open()
    checkKey(key)
    const t = nativeOf(target)
    return this.#queue.task(() => this.native.copyAsync(key, t))
  }

  async transfer(key: Key, target: AsyncDataStore | DataStore): Promise<number> {
    this.#open()
    checkKey(key)
    const t = nativeOf(target)
    return this.#queue.task(() => this.native.transferAsync(key, t))
  }

  /**
   * Writes one entry from a Node Readable, an (async) iterable of chunks or a
   * web ReadableStream. Memory stays bounded whatever the length; a source
   * that fails (or an abort) leaves nothing behind.
   */
  async writeStream(key: Key, source: StreamSource, options?: WriteStreamOptions): Promise<number> {
    this.#open()
    checkKey(key)
    return this.#stream(this.native.streamBegin(key), source, options)
  }

  async writeStreamWithKeyHash(keyHash: bigint, source: StreamSource, options?: WriteStreamOptions): Promise<number> {
    this.#open()
    checkHash(keyHash)
    return this.#stream(this.native.streamBeginWithKeyHash(keyHash), source, options)
  }

  async #stream(writer: StreamWriter, source: StreamSource, options?: WriteStreamOptions): Promise<number> {
    const signal = checkOptionNames<WriteStreamOptions>(options, 'writeStream options', ['signal'])?.signal
    const it = asyncIterator(source)
    // How the stream stops early (an abort, or close()): `stop` records why and
    // rejects the one wait in progress, so a source that never yields again
    // cannot hold the stream up.
    //
    // Memory: each wait is a Promise of its own, referenced only while it is
    // the wait in progress. A race of each wait against one long-lived
    // "stopped" Promise (as before) left a reaction on that Promise per
    // race, each holding the race's Promise and so the chunk it settled
    // with: every chunk stayed reachable until the stream ended (a 200 MiB
    // stream grew arrayBuffers by 200 MiB).
    let stopReason: Error | undefined
    let interrupt: ((err: Error) => void) | undefined
    const stop = (err: Error): void => {
      if (stopReason !== undefined) return
      stopReason = err
      const reject = interrupt
      interrupt = undefined
      reject?.(err)
    }
    const until = <T>(step: T | PromiseLike<T>): Promise<T> => {
      if (stopReason !== undefined) return Promise.reject(stopReason)
      return new Promise<T>((resolve, reject) => {
        interrupt = reject
        Promise.resolve(step).then(
          (value) => {
            interrupt = undefined
            resolve(value)
          },
          (err: unknown) => {
            interrupt = undefined
            reject(err)
          },
        )
      })
    }
    const onAbort = () => stop(abortError(signal as AbortSignal))
    if (signal?.aborted) onAbort()
    else signal?.addEventListener('abort', onAbort, { once: true })
    this.#streams.set(writer, stop)
    try {
      for (;;) {
        // Stopped: pull nothing more from the source.
        if (stopReason !== undefined) throw stopReason
        const r = await until(it.next())
        if (r.done) break
        await until(writer.writeAsync(r.value))
      }
      if (stopReason !== undefined) throw stopReason
      return await this.#queue.task(() => writer.finishAsync())
    } catch (err) {
      writer.abort()
      // Let the source clean up, without waiting on it (it may be stuck in next()).
      try {
        void Promise.resolve(it.return?.()).catch(() => {})
      } catch {
        // the source's own cleanup failed; the stream is already discarded
      }
      // Stopped (abort, close()) while the native writer was failing for that
      // very reason ("already finished"): the stop is the cause.
      throw stopReason ?? err
    } finally {
      signal?.removeEventListener('abort', onAbort)
      this.#streams.delete(writer)
    }
  }

  /** fsync: everything acknowledged so far survives an OS crash or power loss. */
  async sync(): Promise<void> {
    this.#open()
    await this.#queue.whenIdle()
    return this.native.syncAsync()
  }

  // ---- reader ----

  async exists(key: Key): Promise<boolean> {
    this.#open()
    checkKey(key)
    return this.native.existsAsync(key, false)
  }

  async existsWithKeyHash(keyHash: bigint): Promise<boolean> {
    this.#open()
    checkHash(keyHash)
    return this.native.existsAsync(keyHash, true)
  }

  async read(key: Key, options?: ReadOptions): Promise<EntryHandle | null> {
    this.#open()
    checkKey(key)
    return this.#read(key, false, options)
  }

  async readWithKeyHash(keyHash: bigint, options?: ReadOptions): Promise<EntryHandle | null> {
    this.#open()
    checkHash(keyHash)
    return this.#read(keyHash, true, options)
  }

  async #read(key: Key | bigint, hashed: boolean, options?: ReadOptions): Promise<EntryHandle | null> {
    const handle = await this.#views.locate((v) => this.native.locateAsync(key, hashed, v.generation, v.length), entryAt)
    return this.#verifyReads || checkReadOptions(options)?.verify === true ? ensureVerified(handle) : handle
  }

  async readLastEntry(): Promise<EntryHandle | null> {
    this.#open()
    return this.#views.locate((v) => this.native.locateLastAsync(v.generation, v.length), entryAt)
  }

  async batchRead(keys: ReadonlyArray<Key>): Promise<Array<EntryHandle | null>> {
    this.#open()
    checkArray(keys, 'keys')
    keys.forEach((k) => checkKey(k))
    return this.#batchRead(keys, false)
  }

  async batchReadHashedKeys(keyHashes: ReadonlyArray<bigint>, keys?: ReadonlyArray<Key>): Promise<Array<EntryHandle | null>> {
    this.#open()
    checkArray(keyHashes, 'keyHashes')
    keyHashes.forEach(checkHash)
    if (keys !== undefined && keys !== null) this.native.checkKeyHashes(keyHashes, keys)
    return this.#batchRead(keyHashes, true)
  }

  async #batchRead(keys: ReadonlyArray<unknown>, hashed: boolean): Promise<Array<EntryHandle | null>> {
    const out = await this.#views.locate((v) => this.native.batchLocateAsync(keys, hashed, v.generation, v.length), entriesAt)
    if (this.#verifyReads) out.forEach(ensureVerified)
    return out
  }

  async readMetadata(key: Key): Promise<EntryMetadata | null> {
    return metadataOf(await this.read(key))
  }

  /** A Node Readable of `key`'s payload, or `null` if absent. */
  async readStream(key: Key, options?: ReadOptions & { highWaterMark?: number }): Promise<Readable | null> {
    const opts = checkReadStreamOptions(options)
    const handle = await this.read(key, opts === undefined ? undefined : { verify: opts.verify })
    return handle === null ? null : payloadStream(handle, opts?.highWaterMark)
  }

  async len(): Promise<number> {
    this.#open()
    return this.native.lenAsync()
  }

  async isEmpty(): Promise<boolean> {
    return (await this.len()) === 0
  }

  async fileSize(): Promise<number> {
    this.#open()
    return this.native.fileSizeAsync()
  }

  // ---- beyond the traits ----

  /** Live entries, newest first (a snapshot as of the call). */
  async *entries(): AsyncIterableIterator<EntryHandle> {
    this.#open()
    // Each batch is walked on a worker; awaiting it lets other work run.
    for await (const batch of entryBatchesAsync(this.native)) yield* withKeys(batch, this.#recordsKeys, this.native)
  }

  /** As `DataStore.keys`, listed on a worker thread. */
  async *keys(options?: KeysOptions): AsyncIterableIterator<Buffer> {
    this.#open()
    const { prefix } = checkKeysOptions(options)
    yield* keysOf(await this.native.keysAsync(prefix))
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<EntryHandle> {
    return this.entries()
  }

  async compact(): Promise<void> {
    this.#open()
    return this.#queue.task(() => this.native.compactAsync())
  }

  async estimateCompactionSavings(): Promise<number> {
    this.#open()
    return this.native.estimateCompactionSavingsAsync()
  }

  async verify(): Promise<CorruptEntry[]> {
    this.#open()
    return corruptEntries(await this.native.verifyAsync())
  }

  /**
   * Waits for every queued or in-flight write, stops streams in progress
   * (they reject with ERR_STORE_CLOSED and write nothing), then releases the
   * file. Nothing is left half-written. Later calls reject with ERR_STORE_CLOSED.
   */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      for (const [writer, stop] of this.#streams) {
        stop(codedError('ERR_STORE_CLOSED', 'the store was closed during the stream'))
        writer.abort()
      }
      this.#closing = this.#queue.whenIdle().then(() => this.native.close())
    }
    return this.#closing
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  /** What `console.log(store)` shows: the path, live keys and file size (or that it is closed). */
  [inspectCustom](depth: number, options: InspectOptionsStylized, inspect: typeof import('node:util').inspect): string {
    const shown = this.closed ? { path: this.#path, closed: true } : { path: this.#path, keys: this.native.len(), fileSize: this.native.fileSize() }
    return `AsyncDataStore ${inspect(shown, { ...options, depth: depth - 1 })}`
  }
}

function nativeOf(target: unknown): Native {
  if ((target instanceof AsyncDataStore || target instanceof DataStore) && target.native instanceof native.NativeStore) {
    return target.native
  }
  throw typeError('target must be a DataStore or AsyncDataStore')
}

// `DataStore.async`, defined here so that store.ts needs nothing of this
// module (the sync store is below the async one: no import cycle).
declare module './store' {
  interface DataStore {
    /** The async view of this store: same engine, same data, Promise-returning methods. */
    readonly async: AsyncDataStore
  }
}

const ASYNC_VIEWS = new WeakMap<DataStore, AsyncDataStore>()

Object.defineProperty(DataStore.prototype, 'async', {
  get(this: DataStore): AsyncDataStore {
    return perHandle(ASYNC_VIEWS, this, AsyncDataStore.fromDataStore)
  },
  configurable: true,
})
