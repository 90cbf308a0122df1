import type { Readable } from 'node:stream'
import native = require('./native')
import { EntryHandle, type EntryMetadata, ensureVerified, metadataOf, keysOf, payloadStream, withKeys } from './handle'
import { typeError } from './errors'
import { checkAllowNull, splitPairs } from './args'
import {
  type KeysOptions,
  type OpenOptions,
  checkKeysOptions,
  checkOptions,
  checkPath,
  checkReadOptions,
  checkReadStreamOptions,
  nativeOptions,
} from './options'
import { inspectCustom } from './inspect'
import type { InspectOptionsStylized } from 'node:util'
import type { Native } from './per-handle'
import { type CorruptEntry, type RepairReport, corruptEntries } from './reports'
import { STALE, ViewState, entriesAt, entryAt, entryBatches } from './view'
import type { DataStoreReader, DataStoreWriter, Key, Payload, ReadOptions } from './traits'

function iteratorOf(source: unknown): Iterator<unknown> {
  const fn = source != null ? (source as { [Symbol.iterator]?: unknown })[Symbol.iterator] : undefined
  if (typeof fn !== 'function' || typeof source === 'string' || source instanceof String) {
    throw typeError('source must be an Iterable of Uint8Array chunks')
  }
  const it = fn.call(source) as Iterator<unknown> | null
  if (it === null || typeof it !== 'object' || typeof it.next !== 'function') {
    throw typeError('source[Symbol.iterator]() must return an iterator')
  }
  return it
}

/**
 * A SIMD R Drive store: one append-only file, 64-byte-aligned payloads,
 * zero-copy reads. Every writer method returns the tail offset after it.
 */
export class DataStore implements DataStoreWriter<DataStore>, DataStoreReader, Iterable<EntryHandle> {
  /** @internal */
  readonly native: Native
  /** @internal */
  readonly views: ViewState
  /** @internal */
  readonly verifyReads: boolean
  /** @internal Opened with `{ keys: true }`. */
  readonly recordsKeys: boolean
  readonly #locate: (key: unknown) => number
  readonly #locateWithKeyHash: (keyHash: unknown) => number
  readonly #write: (key: unknown, payload: unknown) => number
  /** For `util.inspect` after `close()` (when `path` throws). */
  readonly #path: string

  /** @internal */
  constructor(handle: Native, options: OpenOptions = {}) {
    if (!(handle instanceof native.NativeStore)) throw typeError('use DataStore.open(path) to open a store')
    this.native = handle
    this.views = ViewState.of(handle)
    this.verifyReads = options.verifyReads === true
    this.recordsKeys = options.keys === true
    const fast = handle.fastFunctions()
    this.#locate = fast.locate
    this.#locateWithKeyHash = fast.locateWithKeyHash
    this.#write = fast.write
    this.#path = handle.path
  }

  /** Opens the store at `path`, creating the file if it is missing. */
  static open(path: string, options?: OpenOptions): DataStore {
    const opts = checkOptions(options)
    return new DataStore(native.NativeStore.open(checkPath(path), nativeOptions(opts, true)), opts)
  }

  /** Opens an existing store; throws `ENOENT` if the file is missing. */
  static openExisting(path: string, options?: OpenOptions): DataStore {
    const opts = checkOptions(options)
    return new DataStore(native.NativeStore.open(checkPath(path), nativeOptions(opts, false)), opts)
  }

  /**
   * What `{ repair: true }` did when this open rebuilt a damaged file: the
   * backup path, the bytes kept, the entries salvaged past the damage, the
   * byte ranges dropped and the entries in them whose metadata still read.
   * `null` when the open repaired nothing.
   */
  get repairReport(): RepairReport | null {
    return this.native.repairReport()
  }

  /** The canonical path of the store file. */
  get path(): string {
    return this.native.path
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.native.closed
  }

  /** Releases the file (when no other handle in this process has it open). Handles stay readable. */
  close(): void {
    this.native.close()
  }

  /** `using store = DataStore.open(path)` closes it at the end of the block. */
  [Symbol.dispose](): void {
    this.close()
  }

  /** What `console.log(store)` shows: the path, live keys and file size (or that it is closed). */
  [inspectCustom](depth: number, options: InspectOptionsStylized, inspect: typeof import('node:util').inspect): string {
    const shown = this.closed ? { path: this.#path, closed: true } : { path: this.#path, keys: this.len(), fileSize: this.fileSize() }
    return `DataStore ${inspect(shown, { ...options, depth: depth - 1 })}`
  }

  // ---- writer ----

  write(key: Key, payload: Payload): number {
    return this.#write(key, payload)
  }

  writeWithKeyHash(keyHash: bigint, payload: Payload): number {
    return this.native.writeWithKeyHash(keyHash, payload)
  }

  /** Writes every entry in one append, all or nothing. */
  batchWrite(entries: ReadonlyArray<readonly [Key, Payload]>): number {
    const [keys, payloads] = splitPairs(entries)
    return this.native.batchWrite(keys, payloads)
  }

  /** As `batchWrite` with precomputed hashes; `allowNullBytes` lets `[0x00]` payloads write tombstones. */
  batchWriteWithKeyHashes(entries: ReadonlyArray<readonly [bigint, Payload]>, allowNullBytes = false): number {
    const allowNull = checkAllowNull(allowNullBytes)
    const [keyHashes, payloads] = splitPairs(entries)
    return this.native.batchWriteWithKeyHashes(keyHashes, payloads, allowNull)
  }

  /** Writes one entry whose payload comes from a synchronous Iterable of chunks. */
  writeStream(key: Key, source: Iterable<Uint8Array>): number {
    const it = iteratorOf(source)
    return drain(this.native.streamBegin(key), it)
  }

  writeStreamWithKeyHash(keyHash: bigint, source: Iterable<Uint8Array>): number {
    const it = iteratorOf(source)
    return drain(this.native.streamBeginWithKeyHash(keyHash), it)
  }

  /** Moves an entry to `newKey` (one append: the new entry and a tombstone for the old). */
  rename(oldKey: Key, newKey: Key): number {
    return this.native.rename(oldKey, newKey)
  }

  /** Copies `key`'s entry into another store; returns the target's tail. */
  copy(key: Key, target: DataStore): number {
    return this.native.copy(key, checkTarget(target).native)
  }

  /** Copies `key`'s entry into `target`, then deletes it here; returns this store's tail. */
  transfer(key: Key, target: DataStore): number {
    return this.native.transfer(key, checkTarget(target).native)
  }

  /** Appends a tombstone if `key` is live; writes nothing otherwise. */
  delete(key: Key): number {
    return this.native.delete(key)
  }

  batchDelete(keys: ReadonlyArray<Key>): number {
    return this.native.batchDelete(keys)
  }

  batchDeleteKeyHashes(keyHashes: ReadonlyArray<bigint>): number {
    return this.native.batchDeleteKeyHashes(keyHashes)
  }

  /** fsync of the file's data: everything written so far survives an OS crash or power loss. */
  sync(): void {
    this.native.sync()
  }

  // ---- reader ----

  exists(key: Key): boolean {
    // -1 means absent; an offset or "refresh the view" (-2) means live.
    return this.#locate(key) !== -1
  }

  existsWithKeyHash(keyHash: bigint): boolean {
    return this.#locateWithKeyHash(keyHash) !== -1
  }

  /** The live entry of `key`, or `null`. Its `bytes` are a view of the mapped file. */
  read(key: Key, options?: ReadOptions): EntryHandle | null {
    // Located in the view this handle last fetched (`views.current`). The
    // hottest loop of the benchmarks: a first try inline, the stale-view
    // protocol (`views.locate`) only when the view must be refreshed.
    const m = this.#locate(key)
    const handle = m === STALE ? this.views.locate(() => this.#locate(key), entryAt, m) : entryAt(this.views.current, m)
    return this.verifyReads || checkReadOptions(options)?.verify === true ? ensureVerified(handle) : handle
  }

  readWithKeyHash(keyHash: bigint, options?: ReadOptions): EntryHandle | null {
    const handle = this.views.locate(() => this.#locateWithKeyHash(keyHash), entryAt)
    return this.verifyReads || checkReadOptions(options)?.verify === true ? ensureVerified(handle) : handle
  }

  /** The last entry written, or `null` if the store is empty or that entry is a tombstone. */
  readLastEntry(): EntryHandle | null {
    return this.views.locate((v) => this.native.locateLast(v.generation, v.length), entryAt)
  }

  batchRead(keys: ReadonlyArray<Key>): Array<EntryHandle | null> {
    return this.#batchRead(keys, false)
  }

  /** Reads by hash; when `keys` are given, each must hash to its hash (ERR_HASH_COLLISION otherwise). */
  batchReadHashedKeys(keyHashes: ReadonlyArray<bigint>, keys?: ReadonlyArray<Key>): Array<EntryHandle | null> {
    if (keys !== undefined && keys !== null) this.native.checkKeyHashes(keyHashes, keys)
    return this.#batchRead(keyHashes, true)
  }

  readMetadata(key: Key): EntryMetadata | null {
    return metadataOf(this.read(key))
  }

  /** A Node Readable of `key`'s payload (zero-copy chunks, with backpressure), or `null`. */
  readStream(key: Key, options?: ReadOptions & { highWaterMark?: number }): Readable | null {
    const opts = checkReadStreamOptions(options)
    const handle = this.read(key, opts === undefined ? undefined : { verify: opts.verify })
    return handle === null ? null : payloadStream(handle, opts?.highWaterMark)
  }

  /** Number of live keys. */
  len(): number {
    return this.native.len()
  }

  isEmpty(): boolean {
    return this.native.len() === 0
  }

  /** The tail: the end of the last entry. */
  fileSize(): number {
    return this.native.fileSize()
  }

  // ---- beyond the traits ----

  /** Live entries, newest version of each key, newest first; a snapshot as of the call. */
  *entries(): IterableIterator<EntryHandle> {
    for (const batch of entryBatches(this.native)) yield* withKeys(batch, this.recordsKeys, this.native)
  }

  /**
   * The live keys a store opened with `{ keys: true }` recorded (oldest
   * record first), those starting with `prefix` only; a snapshot as of the
   * call. Keys written by hash, or while keys were not recorded, are not listed.
   */
  *keys(options?: KeysOptions): IterableIterator<Buffer> {
    yield* keysOf(this.native.keys(checkKeysOptions(options).prefix))
  }

  [Symbol.iterator](): IterableIterator<EntryHandle> {
    return this.entries()
  }

  /** Rewrites live entries into a new file and continues on it. Earlier handles stay readable. */
  compact(): void {
    this.native.compact()
  }

  /** Bytes `compact()` would reclaim. */
  estimateCompactionSavings(): number {
    return this.native.estimateCompactionSavings()
  }

  /** Checks every live entry's checksum; returns the corrupt ones (empty when all are intact). */
  verify(): CorruptEntry[] {
    return corruptEntries(this.native.verify())
  }

  #batchRead(keys: ReadonlyArray<unknown>, hashed: boolean): Array<EntryHandle | null> {
    const out = this.views.locate((v) => this.native.batchLocate(keys, hashed, v.generation, v.length), entriesAt)
    if (this.verifyReads) out.forEach(ensureVerified)
    return out
  }
}

function checkTarget(target: unknown): DataStore {
  if (!(target instanceof DataStore) || !(target.native instanceof native.NativeStore)) {
    throw typeError('target must be a DataStore')
  }
  return target
}

function drain(writer: InstanceType<typeof native.NativeStreamWriter>, it: Iterator<unknown>): number {
  let done = false
  try {
    for (let r = it.next(); !r.done; r = it.next()) writer.write(r.value)
    done = true
    return writer.finish()
  } catch (err) {
    writer.abort()
    // Like for...of: let the source clean up when we stop early.
    if (!done) {
      try {
        it.return?.()
      } catch {
        // the source's own cleanup failed; the original error wins
      }
    }
    throw err
  }
}
