// Shared by damage.test.mjs and its child damage-child.mjs: how a damage job
// turns the original store's bytes into a damaged copy, and what the
// original store looked like at each entry boundary (parsed from the bytes
// by the format of design.md section 2, without the engine).

import { rng } from './payload.mjs'

export { rng }

/**
 * Applies a job to a copy of `orig`. Returns `{ bytes, first }`: the damaged
 * copy and the first offset at which it may differ from `orig`.
 * Jobs: `{ kind: 'trunc', len }`, `{ kind: 'flip', bits: [[offset, bit], ...] }`,
 * `{ kind: 'run', at, len, zero, seed }` (junk or zeros over `[at, at+len)`,
 * growing the file if needed), `{ kind: 'tail', len, zero, seed }` (appended).
 */
export function applyJob(orig, job) {
  switch (job.kind) {
    case 'trunc':
      return { bytes: Buffer.from(orig.subarray(0, job.len)), first: job.len }
    case 'flip': {
      const b = Buffer.from(orig)
      let first = b.length
      for (const [at, bit] of job.bits) {
        b[at] ^= 1 << bit
        first = Math.min(first, at)
      }
      return { bytes: b, first }
    }
    case 'run': {
      const b = Buffer.alloc(Math.max(orig.length, job.at + job.len))
      orig.copy(b, 0)
      fill(b, job.at, job.len, job.zero, job.seed)
      return { bytes: b, first: job.at }
    }
    case 'tail': {
      const b = Buffer.alloc(orig.length + job.len)
      orig.copy(b, 0)
      fill(b, orig.length, job.len, job.zero, job.seed)
      return { bytes: b, first: orig.length }
    }
    default:
      throw new Error(`unknown job kind ${job.kind}`)
  }
}

function fill(b, at, len, zero, seed) {
  if (zero) {
    b.fill(0, at, at + len)
    return
  }
  const r = rng(seed)
  for (let i = at; i < at + len; i++) b[i] = r() & 0xff
}

/** A short description of a job, for failure messages. */
export function describeJob(job) {
  switch (job.kind) {
    case 'trunc':
      return `truncate to ${job.len}`
    case 'flip':
      return `flip ${job.bits.map(([o, b]) => `${o}.${b}`).join(' ')}`
    case 'run':
      return `${job.zero ? 'zero' : 'junk'} run ${job.at}+${job.len}`
    case 'tail':
      return `${job.zero ? 'zero' : 'junk'} tail +${job.len}`
    default:
      return JSON.stringify(job)
  }
}

const pad = (t) => (64 - (t % 64)) % 64

/**
 * The entries of an intact store file, oldest first, walked from its end by
 * the `prev` links: `{ meta, start, tail, hash, tombstone }`.
 */
export function parseEntries(bytes) {
  const out = []
  let tail = bytes.length
  while (tail > 0) {
    const meta = tail - 20
    const hash = bytes.readBigUInt64LE(meta)
    const prev = Number(bytes.readBigUInt64LE(meta + 8))
    if (!(prev < meta)) throw new Error(`not an intact store: link at ${meta} -> ${prev}`)
    const tombstone = meta - prev === 1 && bytes[prev] === 0
    const start = tombstone ? prev : prev + pad(prev)
    out.push({ meta, start, tail, prev, hash, tombstone })
    tail = prev
  }
  return out.reverse()
}

/**
 * The original store at every entry boundary: `boundaries` (ascending, with
 * 0) and `stateAt(b)`: Map key -> version of the live keys of the prefix of
 * length `b`. `keyOf(hash)` names a hash from the payload headers.
 */
export function boundaryStates(bytes, parsePayload) {
  const entries = parseEntries(bytes)
  const keyOf = new Map()
  for (const e of entries) {
    if (e.tombstone) continue
    const head = parsePayload(bytes.subarray(e.start, e.meta))
    if (head === null) throw new Error(`entry at ${e.meta} has no payload header`)
    keyOf.set(e.hash, head.key)
  }
  const boundaries = [0]
  const states = [new Map()]
  let state = new Map()
  for (const e of entries) {
    state = new Map(state)
    const key = keyOf.get(e.hash)
    if (key === undefined) throw new Error(`tombstone of an unknown key hash ${e.hash}`)
    if (e.tombstone) state.delete(key)
    else state.set(key, parsePayload(bytes.subarray(e.start, e.meta)).version)
    boundaries.push(e.tail)
    states.push(state)
  }
  /** Index of the largest boundary <= at. */
  const indexBelow = (at) => {
    let lo = 0
    let hi = boundaries.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (boundaries[mid] <= at) lo = mid
      else hi = mid - 1
    }
    return lo
  }
  return {
    entries,
    boundaries,
    keys: [...new Set(keyOf.values())],
    /** The key a hash was written for. */
    keyOf: (hash) => keyOf.get(hash),
    /** The version an entry wrote (null for a tombstone). */
    versionOf: (e) => (e.tombstone ? null : parsePayload(bytes.subarray(e.start, e.meta)).version),
    boundaryBelow: (at) => boundaries[indexBelow(at)],
    stateAt: (b) => {
      const i = indexBelow(b)
      if (boundaries[i] !== b) throw new Error(`${b} is not an entry boundary`)
      return states[i]
    },
    isBoundary: (b) => boundaries[indexBelow(b)] === b,
    /** The original entry whose metadata is at `meta`, if any. */
    entryAt: (() => {
      const byMeta = new Map(entries.map((e) => [e.meta, e]))
      return (meta) => byMeta.get(meta)
    })(),
  }
}
