// TTL and Option values, as `simd-r-drive-extensions` 0.17.5-alpha stores them
// (`StorageCacheExt`, `StorageOptionExt`), on a sync or an async store. The
// payload formats:
//
//   TTL     key  NamespaceHasher(F7 "ttl" FD).namespace(key)       (16 bytes)
//           value  u64le(expiry, whole Unix seconds) ++ bitcode(value)
//   Option  key  NamespaceHasher(F7 "option" FD).namespace(key)    (16 bytes)
//           value  FF FE for None, else bitcode(value)
//
// No value of ours encodes to FF FE (a string or bytes start with their length,
// FF only from 255 bytes on, so never 2 bytes in all; a u64 starts with a header
// 0..6), so `writeOption` cannot write a Some that reads back as None. (In
// Rust, `Some(0xFEFFu16)` or `Some([0xFFu8, 0xFE])` does.) An empty string or
// byte array is bitcode `00`, the one-byte payload the format keeps for
// tombstones; the crate's `write_option(Some(""))` fails on it. We write it as
// `FF 06 00` instead (the length 0 in bitcode's long form), which bitcode 0.6
// decodes to the same empty value: the crate reads it back as `Some("")`.

import native = require('../native')
import { codedError } from '../errors'
import { checkOptionNames } from '../options'
import type { Key } from '../traits'
import type { EntryHandle } from '../handle'
import { type ExtValue, type ValueType, checkValueType, decodeValue, encodeValue, toU64 } from './bitcode'

/** The extensions' key prefixes: 0xF7, the feature's name, 0xFD. */
export const TTL_PREFIX = Buffer.from([0xf7, ...Buffer.from('ttl'), 0xfd])
export const OPTION_PREFIX = Buffer.from([0xf7, ...Buffer.from('option'), 0xfd])
/** The payload of `None`. */
export const OPTION_NONE = Buffer.from([0xff, 0xfe])
/** bitcode 0.6's long form of the length 0: an empty string or byte array, not the tombstone byte `00`. */
const EMPTY_LONG_FORM = Buffer.from([0xff, 0x06, 0x00])

const U64_MAX = (1n << 64n) - 1n

let ttlHasher: { namespace(key: Key): Buffer } | undefined
let optionHasher: { namespace(key: Key): Buffer } | undefined

/** The stored key of a TTL entry. */
export function ttlKey(key: Key): Buffer {
  ttlHasher ??= new native.NamespaceHasher(TTL_PREFIX)
  return ttlHasher.namespace(key)
}

/** The stored key of an Option entry. */
export function optionKey(key: Key): Buffer {
  optionHasher ??= new native.NamespaceHasher(OPTION_PREFIX)
  return optionHasher.namespace(key)
}

/** Options of `readWithTtl`. */
export interface TtlReadOptions {
  /** What the value is read as: 'string' (Rust `String`), 'bytes' (`Vec<u8>`, a Buffer; the default) or 'u64' (a bigint). */
  as?: ValueType
  /** The current time in whole Unix seconds (default: the system clock). For tests and replays. */
  now?: number | bigint
}

/** Options of `writeWithTtl`. */
export interface TtlWriteOptions {
  /** The current time in whole Unix seconds (default: the system clock); the expiry is `now + ttlSeconds`. */
  now?: number | bigint
}

/** Options of `readOption`. */
export interface OptionReadOptions {
  /** What a Some value is read as: 'string', 'bytes' (the default) or 'u64'. */
  as?: ValueType
}

/** A decoded value: a string, a Buffer or a bigint, as `as` says. */
export type ValueOf<T extends ValueType | undefined> = T extends 'string' ? string : T extends 'u64' ? bigint : Buffer

/** The options object (none: `{}`); `null` is refused here, unknown names as everywhere (`checkOptionNames`). */
function checkOptions(options: unknown, names: string[]): Record<string, unknown> {
  if (options === null) throw codedError('ERR_INVALID_ARG_TYPE', 'options must be an object, got null')
  return checkOptionNames<Record<string, unknown>>(options, 'options', names) ?? {}
}

function nowSeconds(now: unknown): bigint {
  if (now === undefined) return BigInt(Math.floor(Date.now() / 1000))
  if (typeof now !== 'number' && typeof now !== 'bigint') {
    throw codedError('ERR_INVALID_ARG_TYPE', `options.now must be a number or a bigint (Unix seconds), got ${typeof now}`)
  }
  return toU64(now, 'options.now')
}

/** The TTL payload of `value`: its expiry (`now + ttl`, saturating as the crate does) then its bitcode. */
export function ttlPayload(value: ExtValue, ttlSeconds: unknown, options: unknown): Buffer {
  const o = checkOptions(options, ['now'])
  if (typeof ttlSeconds !== 'number' && typeof ttlSeconds !== 'bigint') {
    throw codedError('ERR_INVALID_ARG_TYPE', `ttlSeconds must be a number or a bigint, got ${typeof ttlSeconds}`)
  }
  const ttl = toU64(ttlSeconds, 'ttlSeconds')
  let expiry = nowSeconds(o.now) + ttl
  if (expiry > U64_MAX) expiry = U64_MAX
  const out = encodeValue(value, 8)
  out.writeBigUInt64LE(expiry, 0)
  return out
}

/** What a TTL read does with a stored entry: the value, or 'expired' (the caller deletes it). */
export function ttlRead(handle: EntryHandle, options: unknown): { expired: true } | { expired: false; value: string | Buffer | bigint } {
  const o = checkOptions(options, ['as', 'now'])
  const as = checkValueType(o.as)
  const now = nowSeconds(o.now)
  const bytes = handle.bytes
  if (bytes.length < 8) throw codedError('ERR_INVALID_DATA', 'a TTL entry is too short to hold its expiry (8 bytes)')
  if (now >= bytes.readBigUInt64LE(0)) return { expired: true }
  return { expired: false, value: decodeValue(bytes, as, 8) }
}

/** The seconds left before `handle` (a TTL entry) expires at `now` (0: expired). */
export function ttlLeft(handle: EntryHandle, now: unknown): bigint {
  const bytes = handle.bytes
  if (bytes.length < 8) throw codedError('ERR_INVALID_DATA', 'a TTL entry is too short to hold its expiry (8 bytes)')
  const expiry = bytes.readBigUInt64LE(0)
  const t = nowSeconds(now)
  return expiry > t ? expiry - t : 0n
}

/** The Option payload of `value` (null: None). */
export function optionPayload(value: ExtValue | null): Buffer {
  if (value === null) return OPTION_NONE
  const out = encodeValue(value)
  if (out.length === 1 && out[0] === 0) return EMPTY_LONG_FORM
  // Unreachable for our types (see the top of this file); kept as the guarantee.
  if (out.equals(OPTION_NONE)) throw codedError('ERR_INVALID_ARG_VALUE', 'this value encodes as FF FE, which reads back as None')
  return out
}

/** An Option payload read back: null for None. */
export function optionRead(handle: EntryHandle, options: unknown): string | Buffer | bigint | null {
  const o = checkOptions(options, ['as'])
  const as = checkValueType(o.as)
  const bytes = handle.bytes
  if (bytes.length === 2 && bytes[0] === 0xff && bytes[1] === 0xfe) return null
  return decodeValue(bytes, as)
}
