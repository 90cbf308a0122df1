import { Readable } from 'node:stream'
import native = require('./native')
import { EntryHandle, EntryMetadata } from './handle'
import { codedError, typeError } from './errors'
import { checkOptionNames } from './options'
import { inspectCustom } from './inspect'
import type { InspectOptionsStylized } from 'node:util'
import { ViewState, entryBatches } from './view'
import type { DataStoreReader, DataStoreWriter, Key, Payload, ReadOptions } from './traits'
import type { AsyncDataStore } from './async'

export interface OpenOptions {
  /**
   * Rebuild a damaged file instead of failing with ERR_CORRUPT_STORE (damage
   * in the middle) or ERR_NOT_A_STORE (no valid entry at all): every entry
   * before the damage and every entry past it that proves itself whole
   * (checksum) is kept, the damaged file is kept beside the store as
   * `<file>.corrupt-<ms>`, and `store.repairReport` says what was dropped.
   */
  repair?: boolean
  /** fsync every write or batch before it returns. */
  durable?: boolean
  /** Check the checksum of every payload read (ERR_CHECKSUM_MISMATCH on a mismatch). */
  verifyReads?: boolean
}

/** What `{ repair: true }` did to a damaged file (see `DataStore.repairReport`). */
export type RepairReport = import('../index').RepairReport

/** A live entry whose checksum does not match its payload. */
export interface CorruptEntry {
  keyHash: bigint
  /** Offset of the entry's metadata in the file. */
  offset: number
}

export type Native = InstanceType<typeof native.NativeStore>

const STREAM_CHUNK = 64 * 1024
const ITER_BATCH = 1024

export function checkPath(path: unknown): string {
  if (typeof path !== 'string') throw typeError('path must be a string')
  if (path.length === 0) throw codedError('ERR_INVALID_ARG_VALUE', 'path must not be empty')
  return path
}

const OPEN_OPTIONS = ['repair', 'durable', 'verifyReads'] as const

export function checkOptions(options: unknown): OpenOptions {
  return checkOptionNames<OpenOptions>(options, 'open options', OPEN_OPTIONS, OPEN_OPTIONS) ?? {}
}

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
 * Splits `[key, payload]` pairs into keys and payloads, checking the shape.
 * Done here because JS reads array elements far faster than N-API calls do
 * (a batch of 100,000: ~2 ms here against ~10 ms of extra native calls).
 */
export function splitPairs(entries: unknown): [unknown[], unknown[]] {
  if (!Array.isArray(entries)) throw typeError('entries must be an array')
  const n = entries.length
  const firsts = new Array<unknown>(n)
  const seconds = new Array<unknown>(n)
  for (let i = 0; i < n; i++) {
    const e: unknown = entries[i]
    if (!Array.isArray(e)) throw typeError('each entry must be an array')
    if (e.length !== 2) throw codedError('ERR_INVALID_ARG_VALUE', 'each entry must be a [key, payload] pair')
    firsts[i] = e[0]
    seconds[i] = e[1]
  }
  return [firsts, seconds]
}

export function checkReadOptions(options: unknown): ReadOptions | undefined {
  return checkOptionNames<ReadOptions>(options, 'read options', ['verify'], ['verify'])
}

export function checkReadStreamOptions(options: unknown): (ReadOptions & { highWaterMark?: number }) | undefined {
  return checkOptionNames(options, 'readStream options', ['verify', 'highWaterMark'], ['verify'])
}

export function ensureVerified(handle: EntryHandle | null): EntryHandle | null {
  if (handle !== null && !handle.isValidChecksum()) {
    throw codedError(
      'ERR_CHECKSUM_MISMATCH',
      `checksum mismatch for key hash 0x${handle.keyHash.toString(16)} at offset ${handle.startOffset}`,
    )
  }
  return handle
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
  readonly #locate: (key: unknown) => number
  readonly #locateWithKeyHash: (keyHash: unknown) => number
  readonly #write: (key: unknown, payload: unknown) => number
  #async: AsyncDataStore | undefined
  /** For `util.inspect` after `close()` (when `path` throws). */
  readonly #path: string

  /** @internal */
  constructor(handle: Native, options: OpenOptions = {}) {
    if (!(handle instanceof native.NativeStore)) throw typeError('use DataStore.open(path) to open a store')
    this.native = handle
    this.views = ViewState.of(handle)
    this.verifyReads = options.verifyReads === true
    ;({ locate: this.#locate, locateWithKeyHash: this.#locateWithKeyHash, write: this.#write } = handle.fastFunctions())
    this.#path = handle.path
  }

  /** The async view of this store: same engine, same data, Promise-returning methods. */
  get async(): AsyncDataStore {
    if (this.#async === undefined) {
      // Loaded lazily: async.ts imports this module.
      const { AsyncDataStore } = require('./async') as typeof import('./async')
      this.#async = AsyncDataStore.fromDataStore(this)
    }
    return this.#async
  }

  /** Opens the store at `path`, creating the file if it is missing. */
  static open(path: string, options?: OpenOptions): DataStore {
    const opts = checkOptions(options)
    return new DataStore(native.NativeStore.open(checkPath(path), { create: true, repair: opts.repair === true, durable: opts.durable === true }), opts)
  }

  /** Opens an existing store; throws `ENOENT` if the file is missing. */
  static openExisting(path: string, options?: OpenOptions): DataStore {
    const opts = checkOptions(options)
    return new DataStore(native.NativeStore.open(checkPath(path), { create: false, repair: opts.repair === true, durable: opts.durable === true }), opts)
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
    // Located in the view this handle last fetched (`views.current`): -2 asks for a newer one.
    let view = this.views.current
    let m = this.#locate(key)
    while (m === -2) {
      view = this.views.refresh()
      m = this.#locate(key)
    }
    const handle = m < 0 ? null : view.handle(m)
    return this.verifyReads || checkReadOptions(options)?.verify === true ? ensureVerified(handle) : handle
  }

  readWithKeyHash(keyHash: bigint, options?: ReadOptions): EntryHandle | null {
    let view = this.views.current
    let m = this.#locateWithKeyHash(keyHash)
    while (m === -2) {
      view = this.views.refresh()
      m = this.#locateWithKeyHash(keyHash)
    }
    const handle = m < 0 ? null : view.handle(m)
    return this.verifyReads || checkReadOptions(options)?.verify === true ? ensureVerified(handle) : handle
  }

  /** The last entry written, or `null` if the store is empty or that entry is a tombstone. */
  readLastEntry(): EntryHandle | null {
    let view = this.views.current
    let m = this.native.locateLast(view.generation, view.length)
    while (m === -2) {
      view = this.views.refresh()
      m = this.native.locateLast(view.generation, view.length)
    }
    return m < 0 ? null : view.handle(m)
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
    const h = this.read(key)
    return h === null ? null : { keyHash: h.keyHash, prevOffset: h.prevOffset, checksum: h.checksum }
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
    for (const batch of entryBatches(this.native, ITER_BATCH)) yield* batch
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
    return this.native.verify().map(([keyHash, offset]) => ({ keyHash, offset }))
  }

  #batchRead(keys: ReadonlyArray<unknown>, hashed: boolean): Array<EntryHandle | null> {
    let view = this.views.current
    let offsets = this.native.batchLocate(keys, hashed, view.generation, view.length)
    while (offsets.length === 1 && offsets[0] === -2) {
      view = this.views.refresh()
      offsets = this.native.batchLocate(keys, hashed, view.generation, view.length)
    }
    const out = offsets.map((m) => (m < 0 ? null : view.handle(m)))
    if (this.verifyReads) out.forEach(ensureVerified)
    return out
  }
}

/** A Node Readable over a payload: zero-copy chunks, pulled (backpressure). */
export function payloadStream(handle: EntryHandle, highWaterMark = STREAM_CHUNK): Readable {
  const bytes = handle.bytes
  // A highWaterMark of 0 is valid for a Readable; chunks still need a size.
  const chunk = highWaterMark > 0 ? highWaterMark : STREAM_CHUNK
  let offset = 0
  return new Readable({
    highWaterMark,
    read() {
      if (offset >= bytes.length) {
        this.push(null)
        return
      }
      const end = Math.min(offset + chunk, bytes.length)
      const part = bytes.subarray(offset, end)
      offset = end
      this.push(part)
    },
  })
}

export function checkAllowNull(allowNullBytes: unknown): boolean {
  if (typeof allowNullBytes !== 'boolean') throw typeError('allowNullBytes must be a boolean')
  return allowNullBytes
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
