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
    else if (err.code !== 'ERR_NOT_A_STORE') problem(`open failed with ${err.code}: ${err.message}`)
    if (B > 0) problem(`refused a file whose first ${B} bytes are an intact store`)
    if (Buffer.compare(fs.readFileSync(file), bytes) !== 0) problem('a refused file was changed')
    // The async open refuses it the same way.
    try {
      const a = await AsyncDataStore.open(file)
      await a.close()
      problem('AsyncDataStore.open opened a file DataStore.open refused')
    } catch (err2) {
      if (err2?.code !== err.code) problem(`AsyncDataStore.open failed with ${err2?.code}, DataStore.open with ${err.code}`)
    }
    // repair: true cuts it to its valid prefix (empty) and opens.
    try {
      const s = DataStore.open(file, { repair: true })
      if (s.fileSize() !== 0 || s.len() !== 0) problem(`repair opened with ${s.fileSize()} bytes, ${s.len()} keys`)
      const t = s.write('__repaired__', 'ok')
      if (s.read('__repaired__')?.bytes.toString() !== 'ok' || t !== 2 + 20) problem('write after repair failed')
      s.close()
    } catch (err2) {
      problem(`repair failed: ${err2?.code} ${err2?.message}`)
    }
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

    // verify() reports exactly the live entries whose checksum fails.
    const reported = store.verify()
    const reportedSet = new Set(reported.map((c) => c.offset))
    res.flagged = reported.length
    if (reportedSet.size !== bad.size || [...bad].some((m) => !reportedSet.has(m))) {
      problem(`verify() reported [${[...reportedSet]}], the live entries with a bad checksum are [${[...bad]}]`)
    }
    if (exact && reported.length > 0) problem(`verify() reported ${reported.length} corrupt entries in an untouched prefix`)

    // Read every original key.
    let stale = 0
    for (const key of info.keys) {
      const h = store.read(key)
      const want = expected?.get(key)
      if (h === null) {
        if (exact && want !== undefined) problem(`read(${key}) is null, expected version ${want}`)
        continue
      }
      const head = originalWrite(h.bytes)
      if (exact) {
        if (head === null || head.key !== key || head.version !== want) problem(`read(${key}) gave ${head ? `${head.key}:${head.version}` : 'wrong bytes'}, expected ${want}`)
        continue
      }
      if (head !== null && head.key === key) {
        if (want !== undefined && head.version !== want) stale++
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
