// Child process of damage.test.mjs: for each damage job in [FROM, TO) it
// writes the damaged copy of the original store to a file, opens it,
// iterates every entry, reads every original key, calls verify(), writes a
// new entry and reads it back (and for most jobs reopens to find it again).
// It prints `{"i":N,"s":1}` before a job and one JSON result line after it,
// with a blocking write to fd 1, so a job that kills the process is known.
//
//   node damage-child.mjs ORIGINAL JOBS_JSON FROM TO SCRATCH_DIR
import fs from 'node:fs'
import path from 'node:path'
import zlib from 'node:zlib'
import { DataStore, AsyncDataStore, computeHash } from '../../lib/index.mjs'
import { payloadFor, parsePayload } from './payload.mjs'
import { applyJob, boundaryStates } from './damage.mjs'

const [origPath, jobsPath, fromArg, toArg, scratch] = process.argv.slice(2)
const OPTS = { small: true }
const orig = fs.readFileSync(origPath)
const jobs = JSON.parse(fs.readFileSync(jobsPath, 'utf8'))
const info = boundaryStates(orig, parsePayload)
const file = path.join(scratch, `damaged-${process.pid}.srd`)
const out = (obj) => fs.writeSync(1, JSON.stringify(obj) + '\n')
const pad = (t) => (64 - (t % 64)) % 64

const payloadCache = new Map()
function payload(key, version) {
  const id = `${key}:${version}`
  let p = payloadCache.get(id)
  if (p === undefined) {
    p = payloadFor(key, version, OPTS)
    payloadCache.set(id, p)
  }
  return p
}
/** Exact bytes of an original write, by its own header; null if none. */
function originalWrite(bytes) {
  const head = parsePayload(bytes)
  if (head === null) return null
  const want = payload(head.key, head.version)
  return Buffer.compare(bytes, want) === 0 ? head : null
}

/** Last damaged offset + 1 (the damage is within [first, end)). */
function damageEnd(job, first) {
  if (job.kind === 'flip') return Math.max(...job.bits.map(([o]) => o)) + 1
  if (job.kind === 'run') return job.at + job.len
  return Infinity
}

/** Metadata offsets of the entries of an accepted store whose CRC32 does not match, by the format alone. */
function badEntries(b) {
  const out = []
  for (let t = b.length; t > 0; ) {
    const m = t - 20
    const prev = Number(b.readBigUInt64LE(m + 8))
    const start = m - prev === 1 && b[prev] === 0 ? prev : prev + pad(prev)
    if (zlib.crc32(b.subarray(start, m)) !== b.readUInt32LE(m + 16)) out.push(m)
    t = prev
  }
  return out
}

/** True when original entry `e` has a byte in the damaged range [first, end). */
const touched = (e, first, end) => e.prev < end && e.tail > first

/**
 * The states a key may read after a repair: the state of its newest entry
 * outside the damage, or of any newer one (an entry inside the damaged
 * range that still proves itself whole is kept). A state is a version, or
 * null for absent.
 */
function repairedStates(key, first, end) {
  const mine = info.entries.filter((e) => info.keyOf(e.hash) === key)
  let from = -1
  mine.forEach((e, i) => {
    if (!touched(e, first, end)) from = i
  })
  const states = new Set(mine.slice(Math.max(from, 0)).map((e) => info.versionOf(e)))
  if (from < 0) states.add(null)
  return states
}

/** Opens a refused file with `repair: true` and checks what it kept. */
function checkRepair(bytes, first, end, code, problem, res) {
  let s
  try {
    s = DataStore.open(file, { repair: true })
  } catch (err) {
    problem(`repair failed: ${err?.code} ${err?.message}`)
    return
  }
  try {
    const report = s.repairReport
    if (report === null) {
      problem('a repaired store has no repairReport')
      return
    }
    res.salvaged = report.salvagedEntries
    if (!fs.existsSync(report.backup) || Buffer.compare(fs.readFileSync(report.backup), bytes) !== 0) problem('the backup is not the damaged file')
    fs.rmSync(report.backup, { force: true })
    if (s.fileSize() !== report.newSize || fs.statSync(file).size !== report.newSize) problem('repaired size differs from the report')
    if (code === 'ERR_NOT_A_STORE' && (s.fileSize() !== 0 || s.len() !== 0)) problem(`repair of a non-store kept ${s.fileSize()} bytes`)
    let kept = 0
    for (const key of info.keys) {
      const h = s.read(key)
      const head = h === null ? null : originalWrite(h.bytes)
      if (h !== null && (head === null || head.key !== key)) {
        // Only a damaged payload inside the kept prefix, which its checksum shows.
        const o = info.entryAt(h.endOffset)
        const damagedInPrefix = h.endOffset < report.keptPrefix && o !== undefined && touched(o, first, end) && !h.isValidChecksum()
        if (!damagedInPrefix) problem(`after repair, read(${key}) gave bytes that are no write of it`)
        continue
      }
      const state = head === null ? null : head.version
      const ok = repairedStates(key, first, end)
      if (!ok.has(state)) problem(`after repair, read(${key}) is ${state}, expected one of [${[...ok]}]`)
      else if (state !== null) kept++
    }
    res.keptKeys = kept
    // Salvaged entries are proven; only a damaged payload inside the kept prefix may fail.
    for (const c of s.verify()) {
      const o = info.entryAt(c.offset)
      if (c.offset >= report.keptPrefix || o === undefined || !touched(o, first, end)) problem(`verify() after repair reports an undamaged entry at ${c.offset}`)
    }
    const t = s.write('__repaired__', 'ok')
    if (s.read('__repaired__')?.bytes.toString() !== 'ok' || t !== report.newSize + pad(report.newSize) + 2 + 20) problem('write after repair failed')
  } finally {
    s.close()
  }
}

async function runJob(i, job) {
  const { bytes, first } = applyJob(orig, job)
  fs.rmSync(file, { force: true })
  fs.writeFileSync(file, bytes)
  const res = { i, problems: [] }
  const problem = (msg) => res.problems.push(msg)
  const end = damageEnd(job, first)
  const B = info.boundaryBelow(Math.min(first, bytes.length))
  res.B = B

  let store
  try {
    store = DataStore.open(file)
  } catch (err) {
    res.outcome = 'refused'
    res.code = err?.code
    if (typeof err?.code !== 'string' || err.code === '') problem(`open threw an error without a code: ${err?.stack ?? err}`)
    else if (err.code !== 'ERR_NOT_A_STORE' && err.code !== 'ERR_CORRUPT_STORE') problem(`open failed with ${err.code}: ${err.message}`)
    if (err.code === 'ERR_NOT_A_STORE' && B > 0) problem(`ERR_NOT_A_STORE for a file whose first ${B} bytes are an intact store`)
    if (err.code === 'ERR_CORRUPT_STORE') {
      res.outcome = 'corrupt'
      if (job.kind === 'trunc' || job.kind === 'tail') problem(`a ${job.kind} is a torn tail, refused as damage: ${err.message}`)
      if (!/damaged at offset \d+/.test(err.message) || !/repair: true/.test(err.message)) problem(`the message does not say where and how to repair: ${err.message}`)
    }
    if (Buffer.compare(fs.readFileSync(file), bytes) !== 0) problem('a refused file was changed')
    // The async open refuses it the same way.
    try {
      const a = await AsyncDataStore.open(file)
      await a.close()
      problem('AsyncDataStore.open opened a file DataStore.open refused')
    } catch (err2) {
      if (err2?.code !== err.code) problem(`AsyncDataStore.open failed with ${err2?.code}, DataStore.open with ${err.code}`)
    }
    checkRepair(bytes, first, end, err.code, problem, res)
    return res
  }

  try {
    res.outcome = 'opened'
    const size = store.fileSize()
    res.fileSize = size
    const osSize = fs.statSync(file).size
    if (osSize !== size) problem(`file is ${osSize} bytes on disk but the tail is ${size}`)
    if (size < B) problem(`lost intact entries: opened with ${size} bytes, the first ${B} were intact`)
    const untouched = size <= first
    const exact = untouched || job.kind === 'trunc' || job.kind === 'tail'
    if (exact && size !== B) problem(`opened with ${size} bytes; the longest whole prefix is ${B}`)
    if (!exact && !info.isBoundary(size)) problem(`accepted a prefix of ${size} bytes that is no original entry boundary`)
    res.inside = !untouched
    const expected = info.isBoundary(size) ? info.stateAt(size) : null

    // Iterate every live entry.
    const bad = new Set()
    let count = 0
    let silent = 0
    for (const h of store.entries()) {
      count++
      const valid = h.isValidChecksum()
      if (!valid) bad.add(h.endOffset)
      const o = info.entryAt(h.endOffset)
      const head = originalWrite(h.bytes)
      const intact =
        o !== undefined && !o.tombstone && o.hash === h.keyHash && o.start === h.startOffset && head !== null && computeHash(head.key) === h.keyHash
      if (intact) {
        if (expected !== null && exact && expected.get(head.key) !== head.version) problem(`iterated ${head.key}:${head.version}, expected version ${expected.get(head.key)}`)
        continue
      }
      if (exact) {
        problem(`iterated an entry that is not an original one (meta at ${h.endOffset}, ${h.size} bytes)`)
        continue
      }
      const metaDamaged = h.endOffset < end && h.endOffset + 20 > first
      if (valid && !metaDamaged) {
        problem(`an entry with a valid checksum that is not an original one and whose metadata is intact (meta at ${h.endOffset})`)
      } else if (valid) {
        silent++
      }
    }
    res.count = count
    res.silent = silent
    if (count !== store.len()) problem(`iterated ${count} entries but len() is ${store.len()}`)
    if (exact && expected !== null && count !== expected.size) problem(`iterated ${count} entries, expected ${expected.size}`)

    // verify() reports exactly the entries of the file, live or superseded,
    // whose checksum fails (the live ones among them are those iteration found).
    const reported = store.verify()
    const reportedSet = new Set(reported.map((c) => c.offset))
    res.flagged = reported.length
    const chainBad = badEntries(bytes.subarray(0, size))
    if (reportedSet.size !== chainBad.length || chainBad.some((m) => !reportedSet.has(m)) || [...bad].some((m) => !reportedSet.has(m))) {
      problem(`verify() reported [${[...reportedSet]}], the entries with a bad checksum are [${chainBad}] (live: [${[...bad]}])`)
    }
    if (exact && reported.length > 0) problem(`verify() reported ${reported.length} corrupt entries in an untouched prefix`)

    // A link rewritten to exactly another entry's end is a valid chain with a
    // phantom entry spanning the ones it skips: open cannot see it without
    // reading every payload (docs/FORMAT.md). Found here by comparing the
    // accepted chain with the original boundaries before the damage.
    const chain = new Set()
    for (let t = size; t > 0; t = Number(bytes.readBigUInt64LE(t - 20 + 8))) chain.add(t)
    const phantom = info.boundaries.some((b) => b > 0 && b <= Math.min(first, size) && !chain.has(b))
    res.phantom = phantom
    if (phantom && reported.length === 0) res.phantomUnflagged = true
    /** True when `key`'s newest entry in the first `at` bytes of the original has a damaged byte. */
    const newestTouched = (key, at) => {
      const mine = info.entries.filter((e) => e.tail <= at && info.keyOf(e.hash) === key)
      const last = mine[mine.length - 1]
      return last !== undefined && touched(last, first, end)
    }

    // Read every original key.
    let stale = 0
    for (const key of info.keys) {
      const h = store.read(key)
      const want = expected?.get(key)
      if (h === null) {
        if (exact && want !== undefined) problem(`read(${key}) is null, expected version ${want}`)
        else if (want !== undefined && expected !== null && !phantom && !newestTouched(key, size)) problem(`read(${key}) is null, expected version ${want}; its newest entry is outside the damage`)
        continue
      }
      const head = originalWrite(h.bytes)
      if (exact) {
        if (head === null || head.key !== key || head.version !== want) problem(`read(${key}) gave ${head ? `${head.key}:${head.version}` : 'wrong bytes'}, expected ${want}`)
        continue
      }
      if (head !== null && head.key === key) {
        if (want !== undefined && head.version !== want) {
          stale++
          if (expected !== null && !phantom && !newestTouched(key, size)) problem(`read(${key}) gave version ${head.version}, expected ${want}; its newest entry is outside the damage`)
        }
        continue
      }
      const metaDamaged = h.endOffset < end && h.endOffset + 20 > first
      if (h.isValidChecksum() && !metaDamaged) problem(`read(${key}) gave bytes of another write with a valid checksum`)
    }
    res.stale = stale

    // A new entry lands right after the accepted prefix and reads back.
    const k = '__damage_new__'
    const p = payload(k, i)
    const tail = store.write(k, p)
    const wantTail = size + pad(size) + p.length + 20
    if (tail !== wantTail) problem(`write returned tail ${tail}, expected ${wantTail}`)
    const back = store.read(k)
    if (back === null || Buffer.compare(back.bytes, p) !== 0 || !back.isValidChecksum()) problem('the new entry does not read back')
    store.close()
    store = undefined
    if (job.kind !== 'trunc' || i % 16 === 0) {
      const again = DataStore.openExisting(file)
      try {
        if (again.fileSize() !== tail) problem(`reopened with ${again.fileSize()} bytes, expected ${tail}`)
        const h = again.read(k)
        if (h === null || Buffer.compare(h.bytes, p) !== 0) problem('the new entry is gone after a reopen')
        if (again.len() !== count + (expected?.has(k) ? 0 : 1)) problem(`reopened with ${again.len()} keys, expected ${count + 1}`)
      } finally {
        again.close()
      }
    }
  } catch (err) {
    problem(`threw ${err?.code ?? '(no code)'}: ${err?.stack ?? err}`)
  } finally {
    store?.close()
  }
  return res
}

const from = Number(fromArg)
const to = Number(toArg)
for (let i = from; i < to; i++) {
  out({ i, s: 1 })
  out(await runJob(i, jobs[i]))
}
fs.rmSync(file, { force: true })
