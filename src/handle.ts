import { Readable } from 'node:stream'
import native = require('./native')
import { codedError } from './errors'
import { METADATA_SIZE, checksumAt, keyHashAt, payloadStart, prevOffsetAt } from './format'
import { inspectCustom } from './inspect'
import type { InspectOptionsStylized } from 'node:util'

/**
 * A Buffer over part of an ArrayBuffer, made the way Node makes its own
 * (a Uint8Array subclass whose prototype chain has Buffer.prototype):
 * `instanceof Buffer`, `Buffer.isBuffer` and every Buffer method hold, and
 * it skips `Buffer.from`'s argument checks (~25 ns of a ~600 ns read).
 */
class MappedBuffer extends Uint8Array {}
Object.setPrototypeOf(MappedBuffer.prototype, Buffer.prototype)

/**
 * One stored entry. `bytes` is a view of the memory-mapped file itself (no
 * copy, 64-byte aligned). It stays valid after later writes, compaction and
 * `close()`. Writing into it (or anywhere in `bytes.buffer`, the whole
 * mapping) changes this process's private copy of the page only: it never
 * reaches the file, never crashes the process, and never changes what this
 * or a later handle reports about an entry: offsets, sizes, the key hash and
 * the checksum are read from a second private map that no user-visible
 * object exposes, and `isValidChecksum()` checks the file's bytes there.
 */
/**
 * The keys of a native listing, `[bytes, ends]` (every key's bytes one
 * after the other, and where each ends): each a Buffer view of `bytes`,
 * made in JS (a Buffer per key made natively costs ten times more).
 */
export function* keysOf([bytes, ends]: [Buffer, Float64Array]): IterableIterator<Buffer> {
  let start = 0
  for (const end of ends) {
    yield bytes.subarray(start, end)
    start = end
  }
}

/** Keys of the handles `entries()` yields in a store that records keys. */
const KEYS = new WeakMap<EntryHandle, Buffer>()

/**
 * A batch of `entries()`: as it is, or, from a store that records keys,
 * each handle with its `key` (asked of `store.keyOf`).
 */
export function* withKeys(
  batch: EntryHandle[],
  recordsKeys: boolean,
  store: { keyOf(keyHash: bigint): Buffer | null },
): IterableIterator<EntryHandle> {
  if (!recordsKeys) {
    yield* batch
    return
  }
  for (const h of batch) {
    const key = store.keyOf(h.keyHash)
    if (key !== null) KEYS.set(h, key)
    yield h
  }
}

export class EntryHandle {
  /** Offset of the first payload byte in the file. */
  readonly startOffset: number
  /** Offset one past the last payload byte (where the metadata begins). */
  readonly endOffset: number
  readonly #view: ArrayBuffer
  readonly #dv: DataView
  #bytes: Buffer | undefined

  /**
   * @internal `meta` is the metadata offset of a regular (non-tombstone)
   * entry; `view` the buffer `bytes` slices, `dv` the metadata map.
   */
  constructor(view: ArrayBuffer, dv: DataView, meta: number) {
    this.#view = view
    this.#dv = dv
    this.startOffset = payloadStart(prevOffsetAt(dv, meta))
    this.endOffset = meta
  }

  /** The payload, as a Buffer over the mapped file (zero-copy). */
  get bytes(): Buffer {
    if (this.#bytes === undefined) {
      this.#bytes = new MappedBuffer(this.#view, this.startOffset, this.endOffset - this.startOffset) as Buffer
    }
    return this.#bytes
  }

  /** What `console.log(handle)` shows: the key hash, size and offsets (not the bytes). */
  [inspectCustom](depth: number, options: InspectOptionsStylized, inspect: typeof import('node:util').inspect): string {
    const shown = { keyHash: this.keyHash, size: this.size, startOffset: this.startOffset, endOffset: this.endOffset }
    return `EntryHandle ${inspect(shown, { ...options, depth: depth - 1 })}`
  }

  /** Payload size in bytes. */
  get size(): number {
    return this.endOffset - this.startOffset
  }

  /** Payload plus its 20 bytes of metadata. */
  get fileSize(): number {
    return this.endOffset - this.startOffset + METADATA_SIZE
  }

  /** XXH3-64 hash of the key (keys themselves are not stored). */
  /**
   * The entry's key, for an entry `entries()` yielded from a store opened
   * with `{ keys: true }` whose key was recorded; `null` otherwise.
   */
  get key(): Buffer | null {
    return KEYS.get(this) ?? null
  }

  get keyHash(): bigint {
    return keyHashAt(this.#dv, this.endOffset)
  }

  /** Offset of the previous entry's end (the tail when this entry was appended). */
  get prevOffset(): number {
    return prevOffsetAt(this.#dv, this.endOffset)
  }

  /** CRC32 of the payload, as stored. */
  get checksum(): number {
    return checksumAt(this.#dv, this.endOffset)
  }

  /**
   * True when the stored payload matches the stored checksum (the file's
   * bytes, as `verify()` checks them: not what a write into `bytes` made of
   * this process's copy).
   */
  isValidChecksum(): boolean {
    return native.crc32(new Uint8Array(this.#dv.buffer, this.startOffset, this.size)) === this.checksum
  }
}

/** The 20 bytes of metadata that follow every payload. */
export interface EntryMetadata {
  keyHash: bigint
  prevOffset: number
  checksum: number
}

/** `readMetadata`'s answer for the entry `handle` (null: absent). */
export function metadataOf(handle: EntryHandle | null): EntryMetadata | null {
  return handle === null ? null : { keyHash: handle.keyHash, prevOffset: handle.prevOffset, checksum: handle.checksum }
}

/** `handle`, checked: ERR_CHECKSUM_MISMATCH if its payload does not match its checksum. */
export function ensureVerified(handle: EntryHandle | null): EntryHandle | null {
  if (handle !== null && !handle.isValidChecksum()) {
    throw codedError(
      'ERR_CHECKSUM_MISMATCH',
      `checksum mismatch for key hash 0x${handle.keyHash.toString(16)} at offset ${handle.startOffset}`,
    )
  }
  return handle
}

const STREAM_CHUNK = 64 * 1024

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
