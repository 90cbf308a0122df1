// Child of multiprocess.test.mjs: reads keys `PREFIX-<i>` (all written
// before it starts, never deleted) continuously while other processes write
// and compact, until a `stop` line (or the end of stdin). Checks:
// - every read finds the key, with the exact bytes of some version of it;
// - per key, versions never go back (a later read never shows an older write);
// - every write the writer logged in ACKLOG (acknowledged) is visible: polled
//   every 64 reads, then each key's read must be at least that version;
// - handles kept from before compactions keep their bytes (re-checked often);
// - iteration yields every key once, each an exact payload.
// Prints one JSON line of counts and the errors by kind (missing, bytes,
// wentBack, staleAfterAck, keptHandle, iteration, len).
//
//   node mp-reader.mjs FILE PREFIX KEYS ACKLOG
import { DataStore } from '../../lib/index.mjs'
import { checkPayload, AckLog } from './mp-common.mjs'
import { rng } from './payload.mjs'

const [file, prefix, keysArg, ackPath] = process.argv.slice(2)
const KEYS = Number(keysArg)
const keys = Array.from({ length: KEYS }, (_, i) => `${prefix}-${i}`)
const next = rng(0x1234567)
const s = DataStore.open(file)
const acks = new AckLog(ackPath)
let stop = false
process.stdin.setEncoding('utf8')
process.stdin.on('data', (d) => {
  if (d.includes('stop')) stop = true
})
process.stdin.on('end', () => (stop = true))

// errors by kind (the first few messages of each, and a count)
const errors = {}
const bad = (kind, m) => {
  const e = (errors[kind] ??= { count: 0, first: [] })
  e.count++
  if (e.first.length < 5) e.first.push(m)
}
const seen = new Map()
const kept = [] // [handle, copy of its bytes, fileSize when read]
const stats = { reads: 0, ackChecks: 0, ackedKeysChecked: 0, keptChecks: 0, iterations: 0, shrinksSeen: 0, keptAcrossShrink: 0 }
let lastSize = s.fileSize()
let minSizeSinceKept = Infinity

function readKey(k, atLeast) {
  stats.reads++
  const h = s.read(k)
  if (h === null) {
    bad('missing', `${k} missing`)
    return null
  }
  const c = checkPayload(h.bytes, k)
  if (typeof c === 'string') {
    bad('bytes', c)
    return null
  }
  const prev = seen.get(k) ?? -1
  if (c.version < prev) bad('wentBack', `${k}: read version ${c.version} after having read ${prev}`)
  if (c.version < atLeast) bad('staleAfterAck', `${k}: read version ${c.version} after version ${atLeast} was acknowledged`)
  seen.set(k, Math.max(prev, c.version))
  return h
}

function checkKept() {
  for (const [h, copy] of kept) {
    stats.keptChecks++
    if (!Buffer.from(h.bytes).equals(copy)) bad('keptHandle', `a kept handle's bytes changed (${copy.toString('latin1', 0, 20)})`)
  }
}

console.log('ready')
let i = 0
while (!stop) {
  for (let j = 0; j < 64; j++, i++) {
    const k = keys[next() % KEYS]
    const h = readKey(k, -1)
    if (h && i % 300 === 0) {
      const copy = Buffer.from(h.bytes)
      if (kept.length < 24) kept.push([h, copy, s.fileSize()])
      else kept[next() % kept.length] = [h, copy, s.fileSize()]
    }
    const size = s.fileSize()
    if (size < lastSize) {
      stats.shrinksSeen++
      // kept handles from before this shrink: check them now, on the new file
      stats.keptAcrossShrink += kept.length
      checkKept()
    }
    lastSize = size
  }
  // acknowledged writes: read the log first, then the store
  const newest = acks.poll()
  stats.ackChecks++
  for (const [k, v] of newest) {
    readKey(k, v)
    stats.ackedKeysChecked++
  }
  checkKept()
  if (stats.ackChecks % 20 === 0) {
    stats.iterations++
    let n = 0
    for (const h of s) {
      n++
      const c = checkPayload(h.bytes)
      if (typeof c === 'string') bad('iteration', c)
    }
    if (n !== KEYS) bad('iteration', `iteration gave ${n} entries, want ${KEYS}`)
    if (s.len() !== KEYS) bad('len', `len() ${s.len()}, want ${KEYS}`)
  }
  await new Promise((r) => setImmediate(r))
}
checkKept()
s.close()
checkKept()
console.log(JSON.stringify({ ok: Object.keys(errors).length === 0, errors, ...stats, kept: kept.length }))
process.exit(0)
