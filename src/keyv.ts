// `simd-r-drive/keyv`: a storage adapter for keyv 5 (`new Keyv({ store: new
// KeyvSimdRDrive('cache.srd') })`). keyv is a peer dependency of this entry
// only; nothing here imports it at run time (its types only).
//
// The store is opened with `{ keys: true }`, so `keys({ prefix })` lists the
// keys of a namespace (clear, the iterator). Each value is stored in an
// envelope of its own, which carries the expiry in milliseconds (the store's
// `writeWithTtl` counts whole seconds) and lets any value, '' included, be a
// payload (the store refuses an empty one and the single byte 0x00):
//
//   bytes 0..7  expiry, milliseconds since the Unix epoch, u64 little-endian;
//               0: never expires
//   byte  8     what follows: 0 a UTF-8 string, 1 bytes, 2 JSON text
//   bytes 9..   the value
//
// An entry whose expiry has come (Date.now() >= expiry) is absent for every
// method, and is deleted when a method meets it (get, getMany, has, delete,
// deleteMany, the iterator, clearExpired). A payload that is no envelope
// (other code wrote the key) is an ERR_INVALID_DATA error for get, getMany
// and has, is skipped by the iterator and clearExpired, and is deleted as any
// value by delete, deleteMany and clear.

import { EventEmitter } from 'node:events'
import type { KeyvStoreAdapter, StoredData } from 'keyv'
import { DataStore, type OpenOptions } from './index'
import { codedError } from './errors'

/** `new KeyvSimdRDrive({ path, ...openOptions })`: the store's open options, always opened with keys on. */
export type KeyvSimdRDriveOptions = Omit<OpenOptions, 'keys'> & {
  /** The store file (created if missing). */
  path: string
}

/** What `adapter.opts` holds: the options it was made with, and keyv's `dialect`. */
export type KeyvSimdRDriveOpts = KeyvSimdRDriveOptions & {
  /**
   * keyv 5 wires `keyv.iterator()` to an adapter's `iterator()` only when
   * `opts.dialect` is one of its own adapters' ('sqlite', 'postgres',
   * 'mysql', 'mongo', 'redis', 'valkey', 'etcd'): this adapter says 'etcd',
   * a key/value store listed by key prefix as this one is. keyv reads it for
   * nothing else.
   */
  dialect: 'etcd'
}

const HEADER = 9
const KIND_STRING = 0
const KIND_BYTES = 1
const KIND_JSON = 2
const TWO_32 = 2 ** 32

/** The envelope of `value`, to expire at `expiry` (ms since the epoch; 0: never). */
function envelope(value: unknown, expiry: number): Buffer {
  let out: Buffer
  if (typeof value === 'string') {
    out = Buffer.allocUnsafe(HEADER + Buffer.byteLength(value, 'utf8'))
    out[8] = KIND_STRING
    out.write(value, HEADER, 'utf8')
  } else if (value instanceof Uint8Array) {
    out = Buffer.allocUnsafe(HEADER + value.byteLength)
    out[8] = KIND_BYTES
    out.set(value, HEADER)
  } else {
    const json = JSON.stringify(value) as string | undefined
    if (json === undefined) throw codedError('ERR_INVALID_ARG_TYPE', `a ${typeof value} value cannot be stored (keyv serializes values to strings)`)
    out = Buffer.allocUnsafe(HEADER + Buffer.byteLength(json, 'utf8'))
    out[8] = KIND_JSON
    out.write(json, HEADER, 'utf8')
  }
  out.writeUInt32LE(expiry % TWO_32, 0)
  out.writeUInt32LE(Math.floor(expiry / TWO_32), 4)
  return out
}

function invalid(key: string): Error {
  return codedError('ERR_INVALID_DATA', `the entry of ${JSON.stringify(key)} is not a keyv adapter entry (written by other code?)`)
}

function isEnvelope(bytes: Buffer): boolean {
  return bytes.length >= HEADER && bytes[8] <= KIND_JSON
}

/** The expiry of an entry (0: never); throws ERR_INVALID_DATA on a payload that is no envelope. */
function expiryOf(bytes: Buffer, key: string | Buffer): number {
  if (!isEnvelope(bytes)) throw invalid(String(key))
  return bytes.readUInt32LE(0) + bytes.readUInt32LE(4) * TWO_32
}

function isExpired(expiry: number, now: number): boolean {
  return expiry !== 0 && now >= expiry
}

/** False for an expired envelope; true for a live one, and for a payload that is no envelope (a value all the same). */
function isLive(bytes: Buffer, now: number): boolean {
  return !isEnvelope(bytes) || !isExpired(expiryOf(bytes, ''), now)
}

/** The value an envelope holds (copied out of the mapped file). */
function valueOf(bytes: Buffer, key: string): unknown {
  switch (bytes[8]) {
    case KIND_STRING:
      return bytes.toString('utf8', HEADER)
    case KIND_BYTES:
      return Buffer.from(bytes.subarray(HEADER))
    case KIND_JSON:
      return JSON.parse(bytes.toString('utf8', HEADER)) as unknown
    default:
      throw invalid(key)
  }
}

/**
 * A keyv 5 storage adapter over one store file: `new Keyv({ store: new
 * KeyvSimdRDrive('cache.srd') })`. keyv passes keys already prefixed with
 * its namespace (`namespace:key`) and sets `adapter.namespace`; `clear()`
 * and the iterator work on the keys of that namespace only (all keys when
 * there is none). Several processes may use one file (the store's default
 * mode), each with its own adapter. An EventEmitter, as keyv expects (keyv
 * listens for 'error'): a failed call rejects, and keyv reports it as its own
 * 'error' event; the adapter emits none itself.
 */
export class KeyvSimdRDrive extends EventEmitter implements KeyvStoreAdapter {
  /** The options (and keyv's `dialect`; see `KeyvSimdRDriveOpts`). */
  opts: KeyvSimdRDriveOpts
  /** keyv's namespace, set by keyv: its keys start with `${namespace}:`. */
  namespace?: string | undefined
  readonly #store: DataStore
  readonly #readOnly: boolean

  /** Opens (creating it if missing) the store at `path`, with keys on. */
  constructor(options: string | KeyvSimdRDriveOptions) {
    super()
    const opts: KeyvSimdRDriveOptions = typeof options === 'string' ? { path: options } : { ...options }
    const { path, ...openOptions } = opts as KeyvSimdRDriveOptions & { keys?: unknown }
    if ('keys' in openOptions) {
      if (openOptions.keys !== true) throw codedError('ERR_INVALID_ARG_VALUE', 'the keyv adapter opens its store with { keys: true }: it lists keys to clear a namespace')
      delete openOptions.keys
    }
    this.#store = DataStore.open(path, { ...openOptions, keys: true })
    this.#readOnly = openOptions.readOnly === true
    this.opts = { ...opts, dialect: 'etcd' }
  }

  /** The store this adapter writes (for `compact()`, `sync()`, `fileSize()`...). */
  get store(): DataStore {
    return this.#store
  }

  /** The stored value of `key` (keyv's serialized string), or undefined when absent or expired. */
  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    const h = this.#store.read(key)
    if (h === null) return undefined
    const bytes = h.bytes
    if (this.#expired(key, bytes, Date.now())) return undefined
    return valueOf(bytes, key) as StoredData<Value>
  }

  /** The values of `keys`, in order (undefined where absent or expired). */
  async getMany<Value>(keys: string[]): Promise<Array<StoredData<Value | undefined>>> {
    const handles = this.#store.batchRead(keys)
    const now = Date.now()
    return handles.map((h, i) => {
      if (h === null) return undefined
      const bytes = h.bytes
      return this.#expired(keys[i], bytes, now) ? undefined : (valueOf(bytes, keys[i]) as StoredData<Value>)
    })
  }

  /**
   * Stores `value` under `key`, to expire `ttl` milliseconds from now when
   * `ttl` is a positive number (none when it is undefined, 0 or not finite;
   * a negative one deletes the key, as expired at once).
   */
  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    let expiry = 0
    if (typeof ttl === 'number' && Number.isFinite(ttl) && ttl !== 0) {
      if (ttl < 0) {
        this.#store.delete(key)
        return true
      }
      expiry = Math.min(Math.ceil(Date.now() + ttl), Number.MAX_SAFE_INTEGER)
    }
    this.#store.write(key, envelope(value, expiry))
    return true
  }

  /** Deletes `key`; true when it held a live (unexpired) value. */
  async delete(key: string): Promise<boolean> {
    const h = this.#store.read(key)
    if (h === null) return false
    const live = isLive(h.bytes, Date.now())
    this.#store.delete(key)
    return live
  }

  /** Deletes `keys` in one append; true when at least one held a live value. */
  async deleteMany(keys: string[]): Promise<boolean> {
    const unique = [...new Set(keys)]
    const handles = this.#store.batchRead(unique)
    const now = Date.now()
    const present: string[] = []
    let live = false
    handles.forEach((h, i) => {
      if (h === null) return
      present.push(unique[i])
      if (isLive(h.bytes, now)) live = true
    })
    if (present.length > 0) this.#store.batchDelete(present)
    return live
  }

  /** Deletes every key of the namespace (every key the store lists when there is none), in one append. */
  async clear(): Promise<void> {
    const keys = [...this.#store.keys(this.#prefixOptions(this.namespace))]
    if (keys.length > 0) this.#store.batchDelete(keys)
  }

  /** True when `key` holds a live (unexpired) value. */
  async has(key: string): Promise<boolean> {
    const h = this.#store.read(key)
    return h !== null && !this.#expired(key, h.bytes, Date.now())
  }

  /**
   * `[key, value]` of every live entry of `namespace` (of every key listed
   * when none is given), keys as stored (prefixed); expired entries are
   * deleted, not yielded, and payloads that are not this adapter's skipped.
   * The keys are those listed when it starts; each value is read when its
   * turn comes (a key deleted meanwhile is skipped).
   */
  async *iterator<Value>(namespace?: string): AsyncGenerator<Array<string | Awaited<Value> | undefined>, void> {
    const keys = [...this.#store.keys(this.#prefixOptions(namespace))]
    for (const raw of keys) {
      const key = raw.toString('utf8')
      const h = this.#store.read(raw)
      if (h === null || !isEnvelope(h.bytes)) continue
      const bytes = h.bytes
      if (this.#expired(raw, bytes, Date.now())) continue
      yield [key, valueOf(bytes, key) as Awaited<Value>]
    }
  }

  /**
   * Deletes the expired entries of the namespace (of every key listed when
   * there is none) in one append; resolves to how many. Entries are deleted
   * when met anyway: this sweeps those no one reads again. Payloads that are
   * not this adapter's are left alone.
   */
  async clearExpired(): Promise<number> {
    const now = Date.now()
    const expired: Buffer[] = []
    for (const raw of this.#store.keys(this.#prefixOptions(this.namespace))) {
      const h = this.#store.read(raw)
      if (h !== null && isEnvelope(h.bytes) && isExpired(expiryOf(h.bytes, raw), now)) expired.push(raw)
    }
    if (expired.length > 0) this.#store.batchDelete(expired)
    return expired.length
  }

  /** Closes the store (handles and values already returned stay valid). Later calls reject with ERR_STORE_CLOSED. */
  async disconnect(): Promise<void> {
    if (!this.#store.closed) this.#store.close()
  }

  /** True when the entry of `key` has expired; deletes it then (unless the store is read-only). */
  #expired(key: string | Buffer, bytes: Buffer, now: number): boolean {
    if (!isExpired(expiryOf(bytes, key), now)) return false
    if (!this.#readOnly) this.#store.delete(key)
    return true
  }

  #prefixOptions(namespace: string | undefined): { prefix?: string } {
    return namespace ? { prefix: `${namespace}:` } : {}
  }
}

export default KeyvSimdRDrive
