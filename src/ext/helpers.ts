// Helpers the Rust crate has: compute_checksum, compute_hash_batch, and
// EntryHandle::metadata.
import native = require('../native')
import { typeError } from '../errors'
import type { Key } from '../traits'

/** CRC32 (IEEE, as the `crc32fast` crate and the format compute it) of `bytes`; `compute_checksum` in Rust. */
export function computeChecksum(bytes: ArrayBufferView | ArrayBuffer): number {
  if (bytes instanceof ArrayBuffer) return native.crc32(new Uint8Array(bytes))
  if (!ArrayBuffer.isView(bytes)) {
    throw typeError(`bytes must be an ArrayBufferView or an ArrayBuffer, got ${bytes === null ? 'null' : typeof bytes}`)
  }
  return native.crc32(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength))
}

/** The XXH3-64 hash of each key, in order; `compute_hash_batch` in Rust. */
export function computeHashBatch(keys: ReadonlyArray<Key>): bigint[] {
  if (!Array.isArray(keys)) {
    throw typeError(`keys must be an Array, got ${keys === null ? 'null' : typeof keys}`)
  }
  const out = new Array<bigint>(keys.length)
  for (let i = 0; i < keys.length; i++) out[i] = native.computeHash(keys[i])
  return out
}
