// The on-disk facts the TS layer reads, as literals (the hot read folds
// them): the engine's `format` module (crates/engine/src/format.rs) is their
// source, and __test__/format.test.mjs checks these against it through the
// binding.
//
//   ... pre-pad | payload | key hash (u64 LE) | prev tail (u64 LE) | CRC32 (u32 LE) |
//                         ^ metadata offset `m` (the payload's end)

/** Payloads start on multiples of this. */
export const PAYLOAD_ALIGNMENT = 64
/** Bytes of metadata after every payload. */
export const METADATA_SIZE = 20
/** Offsets in the metadata. */
export const KEY_HASH_AT = 0
export const PREV_OFFSET_AT = 8
export const CHECKSUM_AT = 16

const TWO_32 = 4294967296

/** Payload start for an entry whose previous tail is `prev` (the pre-pad). */
export function payloadStart(prev: number): number {
  const rem = prev % PAYLOAD_ALIGNMENT
  return rem === 0 ? prev : prev + PAYLOAD_ALIGNMENT - rem
}

/** The previous tail stored in the metadata at `m` (a file offset: below 2^53). */
export function prevOffsetAt(dv: DataView, m: number): number {
  return dv.getUint32(m + PREV_OFFSET_AT, true) + dv.getUint32(m + PREV_OFFSET_AT + 4, true) * TWO_32
}

export function keyHashAt(dv: DataView, m: number): bigint {
  return dv.getBigUint64(m + KEY_HASH_AT, true)
}

export function checksumAt(dv: DataView, m: number): number {
  return dv.getUint32(m + CHECKSUM_AT, true)
}
