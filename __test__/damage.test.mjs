// Damage (issue 5, item 4): a store of a few hundred entries (mixed sizes,
// overwrites, deletes, batches) is damaged every way we can think of: every
// truncation length from 0 to its size, hundreds of random bit flips, junk
// runs and zero runs, junk and zero tails. Child processes (so a crash cannot
// take the test down with it) open each damaged copy, iterate, read every
// original key, verify(), write a new entry and read it back.
//
// Each damaged file must either open, or be refused with a code and left
// byte-identical:
// - truncations and junk or zero tails are torn tails: they open with
//   exactly the longest whole prefix, key for key and byte for byte (or, with
//   no whole entry at all, fail with ERR_NOT_A_STORE);
// - damage followed by whole entries is refused with ERR_CORRUPT_STORE (the
//   message says where, and how to repair); `repair: true` then keeps a
//   backup equal to the damaged file, and every key reads the state of its
//   newest entry outside the damaged range (or of a newer one that still
//   proves itself whole); verify() reports nothing;
// - damage that open accepts (payload bytes, checksum or key-hash fields,
//   the last entry cut as a torn tail) leaves every key whose newest entry
//   lies outside the damage exactly as written; any entry that is not an
//   original one is reported by verify() or has damaged metadata (the
//   format checksums payloads only, so a flipped key hash cannot be told
//   from a real one: counted as "silent"). A link rewritten to exactly
//   another entry's end makes a valid chain that open cannot tell from the
//   real one without reading every payload (docs/FORMAT.md): counted and
//   logged as "phantom", with how many verify() did not flag.
// No child may die by a signal or an abort, nor print a Rust panic.
import test from 'ava'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { DataStore } from '../lib/index.mjs'
import { payloadFor, parsePayload } from './helpers/payload.mjs'
import { boundaryStates, describeJob, rng } from './helpers/damage.mjs'
import { onLines } from './helpers/lines.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const CHILD = path.join(here, 'helpers', 'damage-child.mjs')
const OPTS = { small: true }
/** Damage jobs per child process. */
const PER_CHILD = Number(process.env.SRD_DAMAGE_PER_CHILD ?? 2000)
/** Children running at once. */
const CHILDREN = Number(process.env.SRD_DAMAGE_CHILDREN ?? 2)
/** Random flips / runs / tails (each). */
const RANDOM_JOBS = Number(process.env.SRD_DAMAGE_RANDOM ?? 300)

/** A scratch directory, on tmpfs when there is one (tens of thousands of small files). */
function scratchDir() {
  const base = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir()
  return fs.mkdtempSync(path.join(base, 'srd-damage-'))
}

/** Builds the original store: a few hundred entries. */
function buildOriginal(file) {
  const r = rng(20240601)
  const store = DataStore.open(file)
  let version = 1
  const keys = Array.from({ length: 120 }, (_, i) => `d${i}`)
  const pick = () => keys[r() % keys.length]
  for (let op = 0; op < 230; op++) {
    const x = r() % 100
    if (x < 10) {
      store.delete(pick())
    } else if (x < 20) {
      const n = 2 + (r() % 5)
      const batch = new Map()
      while (batch.size < n) batch.set(pick(), version++)
      store.batchWrite([...batch].map(([k, v]) => [k, payloadFor(k, v, OPTS)]))
    } else {
      const k = pick()
      store.write(k, payloadFor(k, version++, OPTS))
    }
  }
  // Two payloads past recovery's 4 KiB direct-checksum limit, one overwritten.
  for (const k of ['big0', 'big1', 'big0']) store.write(k, payloadFor(k, version++, OPTS))
  for (let op = 0; op < 40; op++) {
    const k = pick()
    store.write(k, payloadFor(k, version++, OPTS))
  }
  store.delete(keys[0]) // a tombstone as the last entry
  store.write(keys[0], payloadFor(keys[0], version++, OPTS))
  store.delete(keys[0])
  const live = store.len()
  store.close()
  return live
}

function makeJobs(size, r) {
  const jobs = []
  for (let len = 0; len <= size; len++) jobs.push({ kind: 'trunc', len })
  for (let n = 0; n < RANDOM_JOBS; n++) {
    const flips = r() % 4 === 0 ? 2 + (r() % 6) : 1
    jobs.push({ kind: 'flip', bits: Array.from({ length: flips }, () => [r() % size, r() % 8]) })
  }
  for (let n = 0; n < RANDOM_JOBS; n++) {
    const len = r() % 5 === 0 ? 1 + (r() % 8192) : 1 + (r() % 256)
    jobs.push({ kind: 'run', at: r() % size, len, zero: n % 2 === 0, seed: 1 + r() })
  }
  for (let n = 0; n < RANDOM_JOBS / 3; n++) {
    const len = r() % 4 === 0 ? 1 + (r() % 70000) : 1 + (r() % 300)
    jobs.push({ kind: 'tail', len, zero: n % 2 === 0, seed: 1 + r() })
  }
  return jobs
}

/** Runs jobs [from, to) in one child; resolves with its results and how it ended. */
function runChild(orig, jobsFile, from, to, scratch) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, orig, jobsFile, String(from), String(to), scratch], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const results = []
    let started = -1
    let stderr = ''
    onLines(child.stdout, 'utf8', (line) => {
      const msg = JSON.parse(line)
      if (msg.s === 1) started = msg.i
      else results.push(msg)
    })
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({ results, started, code, signal, stderr }))
  })
}

const PANIC = /panicked|RUST_BACKTRACE|fatal runtime error|Aborted|core dumped|Segmentation fault|Bus error/i

test('every truncation, bit flip, junk and zero run opens with an intact prefix or fails with a code, never crashes', async (t) => {
  t.timeout(300_000)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'srd-damage-orig-'))
  const scratch = scratchDir()
  t.teardown(() => {
    fs.rmSync(dir, { recursive: true, force: true })
    fs.rmSync(scratch, { recursive: true, force: true })
  })
  const orig = path.join(dir, 'original.srd')
  const live = buildOriginal(orig)
  const bytes = fs.readFileSync(orig)
  const info = boundaryStates(bytes, parsePayload)
  t.is(info.entries.length >= 300, true, `a few hundred entries (${info.entries.length})`)
  t.is(info.stateAt(bytes.length).size, live)

  const jobs = makeJobs(bytes.length, rng(77))
  const jobsFile = path.join(dir, 'jobs.json')
  fs.writeFileSync(jobsFile, JSON.stringify(jobs))

  const counts = { trunc: 0, flip: 0, run: 0, tail: 0 }
  const outcomes = {
    opened: 0,
    refused: 0,
    corrupt: 0,
    inside: 0,
    silent: 0,
    flagged: 0,
    stale: 0,
    phantom: 0,
    phantomUnflagged: 0,
    salvaged: 0,
    keptKeys: 0,
    children: 0,
  }
  const failures = []
  const deaths = []
  // Jobs in chunks, two children at a time; a child that dies is reported
  // with the job that killed it, and the rest of its chunk runs in a new one.
  const chunks = []
  for (let from = 0; from < jobs.length; from += PER_CHILD) chunks.push([from, Math.min(jobs.length, from + PER_CHILD)])
  const worker = async () => {
    for (let c = chunks.shift(); c !== undefined; c = chunks.shift()) {
      const [from, to] = c
      const res = await runChild(orig, jobsFile, from, to, scratch)
      outcomes.children++
      for (const r of res.results) {
        const job = jobs[r.i]
        counts[job.kind]++
        outcomes[r.outcome]++
        if (r.inside) outcomes.inside++
        outcomes.silent += r.silent ?? 0
        outcomes.flagged += r.flagged ?? 0
        outcomes.stale += r.stale ?? 0
        if (r.phantom) outcomes.phantom++
        if (r.phantomUnflagged) outcomes.phantomUnflagged++
        outcomes.salvaged += r.salvaged ?? 0
        outcomes.keptKeys += r.keptKeys ?? 0
        if (r.problems.length > 0) failures.push(`job ${r.i} (${describeJob(job)}): ${r.problems.join('; ')}`)
      }
      if (PANIC.test(res.stderr)) failures.push(`child stderr shows a crash or panic: ${res.stderr.slice(0, 2000)}`)
      if (res.signal !== null || res.code !== 0) {
        const i = res.started
        deaths.push(
          `job ${i} (${i >= 0 ? describeJob(jobs[i]) : 'before the first job'}) killed the child: code ${res.code}, ` +
            `signal ${res.signal}; stderr: ${res.stderr.slice(0, 2000)}`,
        )
        if (i >= from && i + 1 < to) chunks.push([i + 1, to])
        continue
      }
      if (res.stderr.trim() !== '') failures.push(`child stderr: ${res.stderr.slice(0, 2000)}`)
    }
  }
  await Promise.all(Array.from({ length: CHILDREN }, worker))
  const tried = counts.trunc + counts.flip + counts.run + counts.tail
  t.log(
    `original: ${bytes.length} bytes, ${info.entries.length} entries, ${live} live keys; damaged files tried: ${tried} ` +
      `(${counts.trunc} truncations, ${counts.flip} bit-flip sets, ${counts.run} junk/zero runs, ${counts.tail} tails) in ${outcomes.children} children; ` +
      `opened ${outcomes.opened}, refused with ERR_NOT_A_STORE ${outcomes.refused}, refused with ERR_CORRUPT_STORE ${outcomes.corrupt} ` +
      `(repair salvaged ${outcomes.salvaged} entries past the damage, ${outcomes.keptKeys} keys read back after repair); ` +
      `damage inside the accepted prefix ${outcomes.inside} (phantom links on an entry boundary ${outcomes.phantom}, ${outcomes.phantomUnflagged} not flagged by verify) ` +
      `(entries reported by verify() ${outcomes.flagged}, entries with damaged metadata and a valid checksum ${outcomes.silent}, ` +
      `stale reads through damaged metadata ${outcomes.stale}); child deaths ${deaths.length}`,
  )
  for (const d of deaths) t.fail(d)
  for (const f of failures.slice(0, 20)) t.fail(f)
  if (failures.length > 20) t.fail(`... and ${failures.length - 20} more failures`)
  t.is(tried + deaths.length, jobs.length, 'every damaged file was tried')
})
