// Shared by keys.test.mjs and its child scripts (helpers/keys-*.mjs): the
// key-record layout of stores opened with { keys: true }, a pool of keys
// (text, binary with 0x00 and non-UTF-8 bytes, the empty key) and
// self-describing payloads whose bytes are a function of (source key,
// version), so a reader can recompute them exactly.
import { NamespaceHasher } from '../../lib/index.mjs'
import { rng } from './payload.mjs'

/** The 5 bytes every key record's payload starts with: 0xF7 'key' 0xFD. */
export const RECORD_PREFIX = Buffer.from([0xf7, 0x6b, 0x65, 0x79, 0xfd])

const recordHasher = new NamespaceHasher(RECORD_PREFIX)

/** The 16-byte key a record of `key` is stored under (the crate's NamespaceHasher). */
export const recordKeyOf = (key) => recordHasher.namespace(key)

/** True when `bytes` start with the record prefix. */
export const looksLikeRecord = (bytes) => bytes.length >= RECORD_PREFIX.length && Buffer.compare(Buffer.from(bytes.buffer, bytes.byteOffset, RECORD_PREFIX.length), RECORD_PREFIX) === 0

export const hex = (b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')

/** Size of the pool of keys of the kill test. */
export const POOL = 240

/**
 * Key `i` of the pool: 0 is the empty key, every 7th a binary key with 0x00
 * and bytes that are no UTF-8, the rest text keys with two prefixes.
 */
export function poolKey(i) {
  if (i === 0) return Buffer.alloc(0)
  if (i % 7 === 3) return Buffer.from([0x00, 0xff, 0xfe, i & 0xff, i >> 8, 0x00])
  return Buffer.from(`${i % 2 ? 'user' : 'item'}:${i}`, 'utf8')
}

/** Pool index of a key given in hex (undefined if it is none of the pool's). */
export const poolIndex = new Map(Array.from({ length: POOL }, (_, i) => [hex(poolKey(i)), i]))

/** 48 KiB of noise the payloads are cut from. */
const NOISE = (() => {
  const r = rng(0x6e6f6973)
  const b = Buffer.allocUnsafe(48 << 10)
  for (let i = 0; i < b.length; i += 4) b.writeUInt32LE(r(), i)
  return b
})()

/**
 * The bytes of write `version` of pool key `src`: `src:version:` then a
 * slice of NOISE at an offset of its own (cheap to make: a writer spends
 * its time writing). Lengths: half under 300 bytes, 30% under 4 KiB, 20%
 * 4-40 KiB (a batch often spans several of the engine's 256 KiB writes).
 */
export function keyPayload(src, version) {
  const r = rng((Math.imul(src + 1, 2654435761) ^ Math.imul(version, 40503) ^ 0x9e3779b9) >>> 0)
  const a = r() % 100
  const len = a < 50 ? 1 + (r() % 300) : a < 80 ? 300 + (r() % 3800) : 4096 + (r() % 36000)
  const at = r() % 8192
  const header = Buffer.from(`${src}:${version}:`, 'latin1')
  return Buffer.concat([header, NOISE.subarray(at, at + len)])
}

/** `{ src, version }` of a payload made by `keyPayload`, or null when there is no header. */
export function parseKeyPayload(bytes) {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 32))
  const m = /^(\d+):(\d+):/.exec(b.toString('latin1'))
  return m === null ? null : { src: Number(m[1]), version: Number(m[2]) }
}
