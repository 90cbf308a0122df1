// bitcode 0.6 (native `Encode`/`Decode`, not serde) for the three value types
// a JavaScript user has: a Rust `String` (a JS string), a `Vec<u8>` (any
// Uint8Array) and a `u64` (a bigint, or a non-negative safe-integer number).
// This is how `simd-r-drive-extensions` stores values; the interop test
// (__test__/ext-interop.test.mjs) checks these bytes against the crate's.
//
// The layout, as bitcode 0.6.9 writes one top-level value:
//
//   u64       header, then the value in the fewest whole bytes of 1, 2, 4, 8:
//             06 b | 04 b0 b1 | 02 b0..b3 | 00 b0..b7 (little-endian). A header
//             with its low bit set (05, 03, 01) carries an 8-byte minimum first
//             (value = min + packed); only decoded, never written for one value.
//   length n  one byte n when n < 255; else FF then n as a u64 (above).
//   String    length, then the UTF-8 bytes as they are.
//   Vec<u8>   length, then the bytes "packed": 0..2 bytes as they are; 3 or
//             more start with a packing byte 2p (or 2p-1 with a minimum byte
//             after it, whose value is subtracted from every byte first), p
//             the number of states per byte: 0 = 256 (the bytes as they are),
//             1 = 16 (2 per byte), 2 = 6 (3 per byte), 3 = 4 (4 per byte),
//             4 = 3 (5 per byte), 5 = 2 (8 per byte); digit k of a group is
//             worth states^k (the first byte is the low digit). The states are
//             chosen by the largest byte (<= 1: 2, 2: 3, 3: 4, 4..5: 6,
//             6..15: 16, else 256); with more than 5 bytes, subtracting the
//             minimum is used when that needs fewer states.
//
// Encoding is one pass over the value; a byte array whose bytes span 16 or
// more values (random or text-like data) is copied as it is after the first
// few bytes of the scan.

import { codedError, typeError } from '../errors'

/** What a value is read back as: a Rust `String`, a `Vec<u8>`, or a `u64` (as a bigint). */
export type ValueType = 'string' | 'bytes' | 'u64'

/** A value the extensions store: a string (`String`), bytes (`Vec<u8>`), or an unsigned integer (`u64`). */
export type ExtValue = string | Uint8Array | bigint | number

const U64_MAX = (1n << 64n) - 1n
const utf8 = new TextDecoder('utf-8', { fatal: true })

// ---- encoding --------------------------------------------------------------

/** Bytes a u64 takes after its header: 1, 2, 4 or 8. */
function u64Width(v: bigint): number {
  if (v <= 0xffn) return 1
  if (v <= 0xffffn) return 2
  if (v <= 0xffffffffn) return 4
  return 8
}

const HEADER_OF_WIDTH: Record<number, number> = { 1: 6, 2: 4, 4: 2, 8: 0 }

function writeU64(out: Uint8Array, at: number, v: bigint): number {
  const width = u64Width(v)
  out[at++] = HEADER_OF_WIDTH[width]
  for (let i = 0; i < width; i++) {
    out[at++] = Number((v >> BigInt(8 * i)) & 0xffn)
  }
  return at
}

function lengthSize(n: number): number {
  return n < 255 ? 1 : 2 + u64Width(BigInt(n))
}

function writeLength(out: Uint8Array, at: number, n: number): number {
  if (n < 255) {
    out[at] = n
    return at + 1
  }
  out[at] = 255
  return writeU64(out, at + 1, BigInt(n))
}

/** Number of states per byte needed for bytes whose largest is `max`: 2, 3, 4, 6, 16 or 256. */
function statesFor(max: number): number {
  if (max <= 1) return 2
  if (max === 2) return 3
  if (max === 3) return 4
  if (max <= 5) return 6
  if (max <= 15) return 16
  return 256
}

const PACKING_OF_STATES: Record<number, number> = { 256: 0, 16: 1, 6: 2, 4: 3, 3: 4, 2: 5 }
const STATES_OF_PACKING = [256, 16, 6, 4, 3, 2]
const DIGITS_PER_BYTE: Record<number, number> = { 16: 2, 6: 3, 4: 4, 3: 5, 2: 8 }

interface BytesPlan {
  /** States per byte (256: as they are). */
  states: number
  /** The minimum subtracted from each byte, or -1. */
  min: number
  /** Encoded size of the packed bytes (header included). */
  size: number
}

function planBytes(bytes: Uint8Array): BytesPlan {
  const n = bytes.length
  if (n <= 2) return { states: 256, min: -1, size: n }
  let min = 255
  let max = 0
  for (let i = 0; i < n; i++) {
    const b = bytes[i]
    if (b < min) min = b
    if (b > max) max = b
    // 16 or more distinct values apart: neither packing applies (max >= 16 too).
    if (max - min >= 16) return { states: 256, min: -1, size: 1 + n }
  }
  const basic = statesFor(max)
  const offset = statesFor(max - min)
  if (offset < basic && n > 5) {
    return { states: offset, min, size: 2 + Math.ceil(n / DIGITS_PER_BYTE[offset]) }
  }
  if (basic === 256) return { states: 256, min: -1, size: 1 + n }
  return { states: basic, min: -1, size: 1 + Math.ceil(n / DIGITS_PER_BYTE[basic]) }
}

function writePackedBytes(out: Uint8Array, at: number, bytes: Uint8Array, plan: BytesPlan): number {
  const n = bytes.length
  if (n <= 2) {
    out.set(bytes, at)
    return at + n
  }
  const p = PACKING_OF_STATES[plan.states]
  if (plan.min >= 0) {
    out[at++] = p * 2 - 1
    out[at++] = plan.min
  } else {
    out[at++] = p * 2
  }
  if (plan.states === 256) {
    out.set(bytes, at)
    return at + n
  }
  const states = plan.states
  const digits = DIGITS_PER_BYTE[states]
  const min = plan.min >= 0 ? plan.min : 0
  if (states === 16 || states === 4 || states === 2) {
    // Bit packing: digit k of a byte at bits k*w.. (w = 4, 2, 1).
    const w = states === 16 ? 4 : states === 4 ? 2 : 1
    const whole = n - (n % digits)
    let i = 0
    for (; i < whole; i += digits) {
      let acc = 0
      for (let k = 0; k < digits; k++) acc |= (bytes[i + k] - min) << (k * w)
      out[at++] = acc
    }
    if (i < n) {
      let acc = 0
      for (let k = 0; i + k < n; k++) acc |= (bytes[i + k] - min) << (k * w)
      out[at++] = acc
    }
    return at
  }
  for (let i = 0; i < n; i += digits) {
    const end = Math.min(i + digits, n)
    let acc = 0
    for (let j = end - 1; j >= i; j--) acc = acc * states + (bytes[j] - min)
    out[at++] = acc
  }
  return at
}

/** `value` as a u64 bigint, or a TypeError/RangeError naming `what`. */
export function toU64(value: bigint | number, what: string): bigint {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw codedError('ERR_INVALID_ARG_VALUE', `${what} must be a non-negative safe integer (or a bigint), got ${value}`)
    }
    return BigInt(value)
  }
  if (value < 0n || value > U64_MAX) {
    throw codedError('ERR_INVALID_ARG_VALUE', `${what} must fit in a u64 (0 .. 2^64-1), got ${value}`)
  }
  return value
}

/**
 * `bitcode::encode` of `value` (a string as `String`, bytes as `Vec<u8>`, a
 * bigint or number as `u64`), into a fresh Buffer with `reserve` zero bytes
 * before it (where a caller puts a prefix, e.g. the TTL's expiry).
 */
export function encodeValue(value: unknown, reserve = 0, what = 'value'): Buffer {
  if (typeof value === 'string') {
    const n = Buffer.byteLength(value, 'utf8')
    const out = Buffer.allocUnsafe(reserve + lengthSize(n) + n)
    out.fill(0, 0, reserve)
    const at = writeLength(out, reserve, n)
    out.write(value, at, 'utf8')
    return out
  }
  if (typeof value === 'bigint' || typeof value === 'number') {
    const v = toU64(value, what)
    const out = Buffer.alloc(reserve + 1 + u64Width(v))
    writeU64(out, reserve, v)
    return out
  }
  if (ArrayBuffer.isView(value) && value instanceof Uint8Array) {
    const plan = planBytes(value)
    const out = Buffer.allocUnsafe(reserve + lengthSize(value.length) + plan.size)
    out.fill(0, 0, reserve)
    const at = writeLength(out, reserve, value.length)
    writePackedBytes(out, at, value, plan)
    return out
  }
  throw typeError(`${what} must be a string, a Uint8Array, a bigint or a non-negative integer, got ${describe(value)}`)
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'object') return `an instance of ${(value as object).constructor?.name ?? 'Object'}`
  return `type ${typeof value}`
}

// ---- decoding --------------------------------------------------------------

function invalid(message: string): Error {
  return codedError('ERR_INVALID_DATA', `not a bitcode value of the type asked for: ${message}`)
}

class Reader {
  at: number
  constructor(
    readonly bytes: Uint8Array,
    at: number,
  ) {
    this.at = at
  }
  byte(): number {
    if (this.at >= this.bytes.length) throw invalid('ends early')
    return this.bytes[this.at++]
  }
  take(n: number): Uint8Array {
    if (n > this.bytes.length - this.at) throw invalid('ends early')
    const out = this.bytes.subarray(this.at, this.at + n)
    this.at += n
    return out
  }
  le(width: number): bigint {
    const b = this.take(width)
    let v = 0n
    for (let i = width - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i])
    return v
  }
  /** A u64 as bitcode writes one integer (its header, an optional minimum, the value). */
  u64(): bigint {
    const h = this.byte()
    if (h > 6) throw invalid(`u64 header ${h}`)
    const width = [8, 4, 4, 2, 2, 1, 1][h]
    const min = h & 1 ? this.le(8) : 0n
    return (min + this.le(width)) & U64_MAX
  }
  length(): number {
    const small = this.byte()
    if (small < 255) return small
    const n = this.u64()
    // bitcode refuses lengths from 0x7FFFFFFFFFFFFFFF / 4096 on; a length past what
    // the bytes left can hold (8 per byte, packed) fails when they are taken.
    if (n >= 0x7fffffffffffffffn / 4096n) throw invalid(`length ${n}`)
    return Number(n)
  }
  end(): void {
    if (this.at !== this.bytes.length) throw invalid(`${this.bytes.length - this.at} bytes left over`)
  }
}

function unpackBytes(r: Reader, n: number): Uint8Array {
  if (n <= 2) return r.take(n)
  const h = r.byte()
  const p = (h + 1) >> 1
  if (p > 5) throw invalid(`packing byte ${h}`)
  const states = STATES_OF_PACKING[p]
  const min = h & 1 ? r.byte() : 0
  if (states === 256) return r.take(n)
  const digits = DIGITS_PER_BYTE[states]
  const packed = r.take(Math.ceil(n / digits))
  const out = Buffer.allocUnsafe(n)
  if (states === 16 || states === 4 || states === 2) {
    const w = states === 16 ? 4 : states === 4 ? 2 : 1
    const mask = states - 1
    for (let i = 0, k = 0; i < n; k++) {
      const v = packed[k]
      const end = Math.min(i + digits, n)
      for (let shift = 0; i < end; i++, shift += w) out[i] = (((v >> shift) & mask) + min) & 0xff
    }
    return out
  }
  for (let i = 0, k = 0; i < n; k++) {
    let v = packed[k]
    const end = Math.min(i + digits, n)
    for (; i < end; i++) {
      out[i] = ((v % states) + min) & 0xff
      v = Math.floor(v / states)
    }
  }
  return out
}

/**
 * `bitcode::decode::<T>` of `bytes[from..]` with T named by `as`. A `Vec<u8>`
 * stored unpacked comes back as a view of `bytes` (no copy); packed, a new
 * Buffer. Anything that is not exactly one such value throws ERR_INVALID_DATA.
 */
export function decodeValue(bytes: Uint8Array, as: ValueType, from = 0): string | Buffer | bigint {
  const r = new Reader(bytes, from)
  if (as === 'u64') {
    const v = r.u64()
    r.end()
    return v
  }
  const n = r.length()
  if (as === 'string') {
    const s = r.take(n)
    r.end()
    try {
      return utf8.decode(s)
    } catch {
      throw invalid('invalid UTF-8')
    }
  }
  const out = unpackBytes(r, n)
  r.end()
  return Buffer.isBuffer(out) ? out : Buffer.from(out.buffer, out.byteOffset, out.length)
}

/** `as`, checked (default: 'bytes'). */
export function checkValueType(as: unknown): ValueType {
  if (as === undefined) return 'bytes'
  if (as === 'string' || as === 'bytes' || as === 'u64') return as
  throw codedError('ERR_INVALID_ARG_VALUE', `options.as must be 'string', 'bytes' or 'u64', got ${String(as)}`)
}
