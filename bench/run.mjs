#!/usr/bin/env node
// simd-r-drive benchmark: this package against lmdb, classic-level and
// better-sqlite3 (Node), and the Rust engine against the published
// `simd-r-drive` crate. `npm run bench` (needs `npm run build` first).
//
// Every engine runs every row in one run, on the same data (bench/data.mjs,
// fixed seeds), in fresh directories on the same disk, each task in its own
// child process (bench/worker.mjs). Each figure is the median of BENCH_REPS
// (default 5) repetitions; repetitions are interleaved across engines so
// background noise hits all of them alike. Ratios are ours / peer for rates
// and peer / ours for times and sizes: > 1 always means we are better.
//
// Multi-process support: rows (a) page cache, (a) async durable, (b), (c),
// (d) and (h) also run ours opened with {exclusive: true} (single-process
// mode), beside the default open in each repetition: the column
// default/exclusive is what several-process support costs a single process.
// Rows (a) page cache, (b) and (g) also run ours opened with {keys: true}
// (each key's bytes recorded in the same append, so that keys() lists them),
// beside the default open in each repetition: the column keys/default is
// what listing keys costs (target: a single put within 1.5x of a plain put).
// Rows (i) and (j) run several processes on one store (ours in its default
// open, lmdb on one env; classic-level cannot): the driver starts them, each
// opens the store and waits at a barrier (a `go` line on its stdin), and
// their loops are stamped on a clock all processes share (process.hrtime).
//
// Writes bench/results.json, bench/results.md and bench/ratios.svg
// (`node bench/run.mjs --render` rewrites the last two from the first).
//
// Environment:
//   BENCH_REPS=5          repetitions per row
//   BENCH_DIR=<dir>       where the temporary stores go (default: os.tmpdir())
//   BENCH_SKIP_RUST=1     skip the Rust engine-vs-crate section
//   BENCH_QUICK=1         small sizes, for checking the harness only
//   BENCH_ONLY=streams    run only the stream-memory rows (also `--only=streams`):
//                         1 GiB through AsyncDataStore.writeStream from a Readable,
//                         an async generator and a web ReadableStream, each in a
//                         fresh process; prints the peaks, records them in
//                         results.json and results.md (not the README), ~1 min
//                         with BENCH_REPS=1
//   BENCH_ONLY=multi      run only what multi-process support costs and gives (also
//                         `--only=multi`): ours against ours opened {exclusive: true}
//                         in rows (a) page cache, (a) async durable, (b), (c), (d), (h),
//                         and rows (i) 4 processes writing, (j) gets while another
//                         process writes; prints them with their targets, writes no
//                         file (~1 min with BENCH_REPS=3; BENCH_QUICK=1 for less)
//   BENCH_ONLY=keys       run only what recording keys costs (also `--only=keys`): ours
//                         against ours opened {keys: true} in rows (a) page cache, (b)
//                         and (g); prints them with the target, writes no file
//                         (~10 s with BENCH_REPS=5; BENCH_QUICK=1 for less)
//   BENCH_STREAM_MIB=1024 stream length of those rows (the target stays 64 MiB)
//   BENCH_LIB=<path>      the package build the stream rows load (default lib/index.mjs),
//                         e.g. an older build, to measure a before/after

import { execFileSync, spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { CALLS, EXCLUSIVE, EXCLUSIVE_CALLS, KEYS, KEYS_CALLS, PEERS, WRITER_RATE } from './engines.mjs'
import { STREAM_KINDS } from './streams.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const repo = path.dirname(here)
const started = performance.now()
const startedAt = new Date()

const QUICK = process.env.BENCH_QUICK === '1'
const REPS = Math.max(1, Number(process.env.BENCH_REPS || 5))
const N = QUICK ? 10_000 : 100_000 // keys of every row but reopen-1M and memory
const N_DURABLE = QUICK ? 200 : 2_000 // fsync per write is slow: fewer keys, same data
const N_ASYNC = QUICK ? 2_000 : 10_000
const GETS = QUICK ? 100_000 : 1_000_000
const LARGE = QUICK ? 20 : 200
const LARGE_PASSES = 10
const N_BIG = QUICK ? 100_000 : 1_000_000
const ENGINE_NAMES = ['ours', ...PEERS]
const PROCS = 4 // writer processes of row (i), N / PROCS keys each
// Engines that open one store from several processes (classic-level cannot: LOCK file).
const MULTI_ENGINES = ['ours', 'lmdb', 'better-sqlite3']
const MiB = 1024 * 1024
const STREAM_MIB = Number(process.env.BENCH_STREAM_MIB || (QUICK ? 64 : 1024))
const STREAM_CHUNK = 64 * 1024
const STREAM_BOUND_MIB = 64
const ONLY = (process.env.BENCH_ONLY || process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length) || '')
  .split(',')
  .filter(Boolean)
for (const o of ONLY) {
  if (o !== 'streams' && o !== 'multi' && o !== 'keys') {
    console.error(`bench: unknown row group '${o}' in BENCH_ONLY / --only (known: streams, multi, keys)`)
    process.exit(2)
  }
}
if (ONLY.length > 1) {
  console.error('bench: BENCH_ONLY / --only takes one row group (streams, multi or keys)')
  process.exit(2)
}
/** BENCH_ONLY=multi: only the exclusive comparison and rows (i), (j). */
const MULTI_ONLY = ONLY.includes('multi')
/** BENCH_ONLY=keys: only ours against ours {keys: true}, rows (a) page cache, (b), (g). */
const KEYS_ONLY = ONLY.includes('keys')
/** A partial run (multi or keys) in main: only that group's rows, no peers, no file. */
const PARTIAL = MULTI_ONLY || KEYS_ONLY

const log = (msg) => process.stderr.write(`[bench ${((performance.now() - started) / 1e3).toFixed(0).padStart(3)}s] ${msg}\n`)

// ------------------------------------------------------------------ tasks

function runWorker(task, opts) {
  return spawnWorker(task, opts).result
}

/**
 * A worker process: `result` resolves to its last stdout line, parsed. With
 * `talk`, its stdin is a pipe: `send(line)` writes a line to it and
 * `until(line)` resolves once it has printed that line (the multi-process
 * rows' barrier, see bench/worker.mjs).
 */
function spawnWorker(task, { timeoutMs = 300_000, nodeArgs = [], talk = false } = {}) {
  const child = spawn(process.execPath, [...nodeArgs, path.join(here, 'worker.mjs'), JSON.stringify(task)], {
    cwd: repo,
    stdio: [talk ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  let waits = []
  const check = () => {
    const lines = out.split('\n').slice(0, -1)
    waits = waits.filter((w) => (lines.includes(w.line) ? (w.resolve(), false) : true))
  }
  child.stdout.on('data', (d) => {
    out += d
    check()
  })
  child.stderr.on('data', (d) => (err += d))
  child.stdin?.on('error', () => {}) // a worker that died: its exit says why
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  const result = new Promise((resolve, reject) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      const failed = (e) => {
        for (const w of waits) w.reject(e)
        waits = []
        reject(e)
      }
      if (code === 0) {
        try {
          resolve(JSON.parse(out.trim().split('\n').pop()))
        } catch (e) {
          failed(new Error(`${task.op}/${task.engine}: bad output ${out}`))
        }
      } else {
        failed(new Error(`${task.op}/${task.engine} failed (${signal || code}): ${err.trim()}`))
      }
      for (const w of waits) w.reject(new Error(`${task.op}/${task.engine} exited before printing '${w.line}'`))
    })
  })
  result.catch(() => {}) // awaited by the caller; a failure before then must not be unhandled
  return {
    result,
    until: (line) =>
      new Promise((resolve, reject) => {
        waits.push({ line, resolve, reject })
        check()
      }),
    send: (line) => child.stdin.write(line + '\n'),
    kill: () => child.kill('SIGKILL'),
  }
}

/**
 * Row (i): PROCS processes each open the store, wait at the barrier, then
 * write their N / PROCS keys; the figure is all the keys over the span from
 * the first process's start to the last one's end. Then a fresh process
 * checks every key (outside the clock).
 */
async function runPutShared(task) {
  const ws = Array.from({ length: task.procs }, (_, part) => spawnWorker({ ...task, op: 'putShared', part }, { talk: true }))
  let rs
  try {
    await Promise.all(ws.map((w) => w.until('ready')))
    for (const w of ws) w.send('go')
    rs = await Promise.all(ws.map((w) => w.result))
  } catch (e) {
    for (const w of ws) w.kill()
    throw e
  }
  const ms = (Math.max(...rs.map((r) => r.end)) - Math.min(...rs.map((r) => r.start))) / 1e6
  const v = await runWorker({ op: 'verify', engine: task.engine, dir: task.dir, n: task.n })
  return {
    ms,
    opsPerSec: (task.n / ms) * 1e3,
    processMs: rs.map((r) => r.ms),
    missing: v.missing,
    wrong: v.wrong,
    failed: v.missing || v.wrong ? `${fmtInt(v.missing)} keys missing and ${fmtInt(v.wrong)} wrong of ${fmtInt(task.n)} after ${task.procs} processes wrote them` : undefined,
  }
}

/**
 * Row (j): a store of N keys (populated first, untimed); a writer process
 * starts writing new keys, and once its first writes are in, a reader
 * process does row (c)'s gets; the writer stops when the reader is done.
 */
async function runGetsWhileWriting(task) {
  await runWorker({ op: 'populate', engine: task.engine, dir: task.dir, n: task.n })
  const w = spawnWorker({ ...task, op: 'writeShared' }, { talk: true })
  const r = spawnWorker({ ...task, op: 'getsShared' }, { talk: true })
  try {
    await Promise.all([w.until('ready'), r.until('ready')])
    w.send('go')
    await w.until('writing')
    r.send('go')
    const rr = await r.result
    w.send(`stop ${rr.start} ${rr.end}`)
    const wr = await w.result
    return { ...rr, writer: wr }
  } catch (e) {
    w.kill()
    r.kill()
    throw e
  }
}

function median(xs) {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  if (s.length === 0) return null
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

// ------------------------------------------------------------------ rows

// `exclusive`: ours is also measured opened with {exclusive: true}, right
// beside the default open in each repetition (which goes first alternates).
// `keys`: likewise ours opened with {keys: true} (rows (a) page cache and (b);
// (g) is measured on (b)'s stores).
const ROWS = [
  { id: 'putCache', label: `(a) single put, page cache (${fmtInt(N)} keys)`, unit: 'ops/s', better: 'higher', calls: CALLS.putCache, exclusive: true, keys: true },
  { id: 'putDurable', label: `(a) single put, durable: fsync per write (${fmtInt(N_DURABLE)} keys)`, unit: 'ops/s', better: 'higher', calls: CALLS.putDurable },
  { id: 'asyncDurable', label: `(a) async puts, group commit, durable (${fmtInt(N_ASYNC)} at once)`, unit: 'ops/s', better: 'higher', calls: CALLS.asyncDurable, exclusive: true },
  { id: 'batch', label: `(b) one batch of ${fmtInt(N)} puts`, unit: 'ops/s', better: 'higher', calls: CALLS.batch, exclusive: true, keys: true },
  { id: 'get', label: `(c) random get of a 64-byte value (${fmtInt(GETS)} gets)`, unit: 'ops/s', better: 'higher', calls: CALLS.get, exclusive: true },
  { id: 'getAbsent', label: `(d) get of an absent key (${fmtInt(GETS)} gets)`, unit: 'ops/s', better: 'higher', calls: CALLS.get, exclusive: true },
  { id: 'largeWrite', label: `(e) write ${LARGE} values of 1 MiB, page cache`, unit: 'MB/s', better: 'higher', calls: CALLS.large },
  { id: 'largeRead', label: `(e) read back ${LARGE} values of 1 MiB (x${LARGE_PASSES}; first+last byte touched)`, unit: 'MB/s', better: 'higher', calls: CALLS.large },
  { id: 'reopen100k', label: `(f) close, reopen, first get: ${fmtInt(N)} keys`, unit: 'ms', better: 'lower', calls: CALLS.reopen },
  { id: 'reopen1m', label: `(f) close, reopen, first get: ${fmtInt(N_BIG)} keys`, unit: 'ms', better: 'lower', calls: CALLS.reopen },
  { id: 'disk', label: `(g) bytes on disk per entry (${fmtInt(N)} x 64 B values, after close)`, unit: 'B', better: 'lower', calls: CALLS.batch, keys: true },
  { id: 'asyncCache', label: `(h) ${fmtInt(N_ASYNC)} concurrent async puts, page cache`, unit: 'ops/s', better: 'higher', calls: CALLS.asyncCache, exclusive: true },
  {
    id: 'multiWrite',
    label: `(i) ${PROCS} processes writing ${fmtInt(N / PROCS)} keys each concurrently, page cache`,
    unit: 'ops/s',
    better: 'higher',
    calls: CALLS.multiWrite,
    multi: MULTI_ENGINES,
  },
  {
    id: 'multiGet',
    label: `(j) random get in one process while another writes ${fmtInt(WRITER_RATE)} keys/s (${fmtInt(GETS)} gets)`,
    unit: 'ops/s',
    better: 'higher',
    calls: CALLS.multiGet,
    multi: ['ours', 'lmdb'], // better-sqlite3 not run: see CALLS.multiGet
  },
]
/** The rows BENCH_ONLY=multi runs. */
const MULTI_ROWS = ROWS.filter((r) => r.exclusive || r.multi).map((r) => r.id)
/** The rows BENCH_ONLY=keys runs. */
const KEYS_ROWS = ROWS.filter((r) => r.keys).map((r) => r.id)
/** The rows this run measures. */
const RUN_ROWS = MULTI_ONLY ? MULTI_ROWS : KEYS_ONLY ? KEYS_ROWS : ROWS.map((r) => r.id)

// ------------------------------------------------------------------ formatting

function fmtInt(n) {
  return Math.round(n).toLocaleString('en-US')
}
function sig(x, digits = 3) {
  if (x === null || x === undefined || !Number.isFinite(x)) return 'n/a'
  if (x === 0) return '0'
  const p = Math.max(0, digits - 1 - Math.floor(Math.log10(Math.abs(x))))
  return x.toLocaleString('en-US', { maximumFractionDigits: Math.min(p, 6), minimumFractionDigits: 0 })
}
function fmtValue(x, unit) {
  if (x === null || x === undefined) return 'n/a'
  switch (unit) {
    case 'ops/s':
      if (x >= 1e6) return `${sig(x / 1e6)} M/s`
      if (x >= 1e3) return `${sig(x / 1e3)} k/s`
      return `${sig(x)} /s`
    case 'ms':
      return `${sig(x)} ms`
    case 'MB/s':
      return `${sig(x)} MB/s`
    case 'B':
      return `${sig(x)} B`
    default:
      return sig(x)
  }
}
function fmtRatio(r) {
  if (r === null || r === undefined || !Number.isFinite(r)) return 'n/a'
  return `${sig(r, r >= 100 ? 3 : 2)}x`
}
function ratioOf(row, ours, peer) {
  if (ours === null || peer === null || ours === undefined || peer === undefined) return null
  return row.better === 'higher' ? ours / peer : peer / ours
}

// ------------------------------------------------------------------ main

async function main() {
  try {
    await import('../lib/index.mjs')
  } catch (e) {
    console.error(`bench: the package is not built (${e.message}); run \`npm run build\` first`)
    process.exit(1)
  }
  const root = fs.mkdtempSync(path.join(process.env.BENCH_DIR || os.tmpdir(), 'srd-bench-'))
  const loadBefore = os.loadavg()
  log(`temp dir ${root}; ${REPS} repetitions; ${os.cpus().length} CPUs; load ${loadBefore.map((l) => l.toFixed(2)).join(' ')}${PARTIAL ? `; only ${RUN_ROWS.join(', ')}` : ''}`)
  const samples = Object.fromEntries(ROWS.map((r) => [r.id, Object.fromEntries([...ENGINE_NAMES, EXCLUSIVE, KEYS].map((e) => [e, []]))]))
  const perEngine = () => Object.fromEntries(ENGINE_NAMES.map((e) => [e, []]))
  const extra = { largeReadUsPerValue: perEngine(), firstPassUs: perEngine(), warmLargeUs: perEngine(), warmSmallUs: perEngine(), copyUs: perEngine(), diskApparent: {} }
  const multi = { processMs: perEngine(), writerPerSec: perEngine(), writerPerSecAll: perEngine(), failures: [] }
  // The engines of a row in repetition `rep` (none if this run skips it): ours
  // and ours {exclusive: true} and/or {keys: true} side by side where the row
  // compares them, ours in the middle, each variant before it in every other
  // repetition (odd: keys, ours, exclusive; even: exclusive, ours, keys).
  const enginesOf = (rowId, rep) => {
    const row = ROWS.find((r) => r.id === rowId)
    if (!RUN_ROWS.includes(rowId)) return []
    if (row.multi) return row.multi
    const [a, b] = [...(row.exclusive && !KEYS_ONLY ? [EXCLUSIVE] : []), ...(row.keys && !MULTI_ONLY ? [KEYS] : [])]
    const side = a === undefined ? ['ours'] : b === undefined ? (rep % 2 ? ['ours', a] : [a, 'ours']) : rep % 2 ? [b, 'ours', a] : [a, 'ours', b]
    return PARTIAL ? side : [...side, ...PEERS]
  }
  const floors = { lmdbUs: [], levelUs: [], readUs: [], touchUs: [], locateUs: [], asyncMs: [] }
  const timings = {}
  let seq = 0
  const fresh = (tag, engine) => path.join(root, `${tag}-${engine}-${++seq}`)

  try {
    // Stores reopened by (f), populated once (not timed).
    let t = performance.now()
    const reopenDirs = {}
    for (const [tag, n] of PARTIAL ? [] : [['100k', N], ['1m', N_BIG]]) {
      reopenDirs[tag] = {}
      for (const engine of ENGINE_NAMES) {
        const dir = path.join(root, `reopen-${tag}-${engine}`)
        log(`populate ${fmtInt(n)} keys for reopen: ${engine}`)
        await runWorker({ op: 'populate', engine, dir, n })
        reopenDirs[tag][engine] = dir
      }
    }
    timings.populateS = (performance.now() - t) / 1e3

    t = performance.now()
    for (let rep = 1; rep <= REPS; rep++) {
      // `run` runs the task (one worker; the multi-process rows pass their own).
      const step = async (rowId, engine, task, pick, run = runWorker) => {
        const r = await run({ engine, ...task })
        const v = pick(r)
        for (const [id, x] of Object.entries(v)) samples[id][engine].push(x)
        log(`rep ${rep}/${REPS} ${task.op.padEnd(8)} ${engine.padEnd(14)} ${Object.entries(v).map(([id, x]) => `${id} ${fmtValue(x, ROWS.find((r) => r.id === id).unit)}`).join(', ')}`)
        return r
      }
      for (const engine of enginesOf('putCache', rep)) {
        await step('putCache', engine, { op: 'put', dir: fresh('put', engine), n: N, durable: false }, (r) => ({ putCache: r.opsPerSec }))
      }
      for (const engine of PARTIAL ? [] : ENGINE_NAMES) {
        await step('putDurable', engine, { op: 'put', dir: fresh('durable', engine), n: N_DURABLE, durable: true }, (r) => ({ putDurable: r.opsPerSec }))
      }
      for (const engine of enginesOf('asyncDurable', rep)) {
        if (engine === 'better-sqlite3') continue
        await step('asyncDurable', engine, { op: 'asyncPut', dir: fresh('async-durable', engine), n: N_ASYNC, durable: true }, (r) => ({ asyncDurable: r.opsPerSec }))
      }
      for (const engine of enginesOf('asyncCache', rep)) {
        if (engine === 'better-sqlite3') continue
        await step('asyncCache', engine, { op: 'asyncPut', dir: fresh('async', engine), n: N_ASYNC, durable: false }, (r) => ({ asyncCache: r.opsPerSec }))
      }
      if (!PARTIAL) {
        const r = await runWorker({ op: 'asyncFloor', engine: 'ours', dir: fresh('async-floor', 'ours'), n: N_ASYNC })
        floors.asyncMs.push(r.ms)
        log(`rep ${rep}/${REPS} floor    async: a Promise per write + Promise.all, no store: ${sig(r.ms)} ms`)
      }
      for (const engine of enginesOf('batch', rep)) {
        // The disk row is the default open's (the exclusive store only lacks the 4 KiB .shm page),
        // and the {keys: true} store's beside it.
        const pick = engine === EXCLUSIVE ? (r) => ({ batch: r.opsPerSec }) : (r) => ({ batch: r.opsPerSec, disk: r.bytesPerEntry })
        const r = await step('batch', engine, { op: 'batch', dir: fresh('batch', engine), n: N }, pick)
        if (engine !== EXCLUSIVE) extra.diskApparent[engine] = r.apparentPerEntry
      }
      for (const engine of enginesOf('get', rep)) {
        await step('get', engine, { op: 'reads', dir: fresh('reads', engine), n: N, gets: GETS, warm: Math.min(N, GETS / 10) }, (r) => ({
          get: r.getOpsPerSec,
          getAbsent: r.absentOpsPerSec,
        }))
      }
      if (!PARTIAL) {
        const r = await runWorker({ op: 'getFloor', engine: 'ours', dir: fresh('get-floor', 'ours'), n: N, gets: GETS, warm: Math.min(N, GETS / 10) })
        for (const k of ['lmdbUs', 'levelUs', 'readUs', 'touchUs', 'locateUs']) floors[k].push(r[k])
        log(`rep ${rep}/${REPS} floor    get, one process: lmdb ${sig(r.lmdbUs)} us, classic-level ${sig(r.levelUs)} us, ours ${sig(r.readUs)} us, locate + touch ${sig(r.touchUs)} us, locate ${sig(r.locateUs)} us`)
      }
      for (const engine of PARTIAL ? [] : ENGINE_NAMES) {
        const r = await step('large', engine, { op: 'large', dir: fresh('large', engine), count: LARGE, passes: LARGE_PASSES }, (r) => ({
          largeWrite: r.writeMBps,
          largeRead: r.readMBps,
        }))
        extra.largeReadUsPerValue[engine].push(r.readUsPerValue)
        extra.firstPassUs[engine].push(r.firstPassUsPerValue)
        extra.warmLargeUs[engine].push(r.warmUsPerValue)
        extra.warmSmallUs[engine].push(r.warmUsPerSmallValue)
        extra.copyUs[engine].push(r.copyUsPerValue)
      }
      for (const [tag, n, rowId] of PARTIAL ? [] : [['100k', N, 'reopen100k'], ['1m', N_BIG, 'reopen1m']]) {
        for (const engine of ENGINE_NAMES) {
          await step(rowId, engine, { op: 'reopen', dir: reopenDirs[tag][engine], key: `key-${n >> 1}` }, (r) => ({ [rowId]: r.ms }))
        }
      }
      for (const engine of enginesOf('multiWrite', rep)) {
        const r = await step('multiWrite', engine, { op: 'putShared', dir: fresh('multi-put', engine), n: N, procs: PROCS }, (r) => ({ multiWrite: r.opsPerSec }), runPutShared)
        multi.processMs[engine].push(r.processMs)
        if (r.failed) {
          multi.failures.push({ row: 'multiWrite', engine, rep, message: r.failed })
          log(`rep ${rep}/${REPS} FAILED   multiWrite ${engine}: ${r.failed}`)
        }
      }
      for (const engine of enginesOf('multiGet', rep)) {
        const task = { op: 'getsShared', dir: fresh('multi-get', engine), n: N, gets: GETS, warm: Math.min(N, GETS / 10) }
        const r = await step('multiGet', engine, task, (r) => ({ multiGet: r.getOpsPerSec }), runGetsWhileWriting)
        multi.writerPerSec[engine].push(r.writer.writesPerSecDuring)
        multi.writerPerSecAll[engine].push(r.writer.writesPerSec)
        log(`rep ${rep}/${REPS}          multiGet ${engine}: the writer wrote ${fmtValue(r.writer.writesPerSecDuring, 'ops/s')} during the gets (${fmtInt(r.writer.writes)} writes in all)`)
      }
      // Only the newest batch store is kept per engine (disk row); the rest goes.
      for (const e of fs.readdirSync(root)) {
        if (!e.startsWith('reopen-')) fs.rmSync(path.join(root, e), { recursive: true, force: true })
      }
    }
    timings.nodeRowsS = (performance.now() - t) / 1e3

    if (MULTI_ONLY) {
      const rows = aggregateRows(samples, multi).filter((r) => MULTI_ROWS.includes(r.id))
      const byId = Object.fromEntries(rows.map((r) => [r.id, r]))
      const result = { reps: REPS, rows, multi: multiSummary(multi), targets: multiTargets(byId), machine: { loadavgBefore: loadBefore, loadavgAfter: os.loadavg() } }
      process.stdout.write(multiReport(result))
      log(`done in ${((performance.now() - started) / 1e3).toFixed(0)} s (no file written)`)
      if (multi.failures.length) process.exitCode = 1
      return
    }
    if (KEYS_ONLY) {
      const rows = aggregateRows(samples, multi).filter((r) => KEYS_ROWS.includes(r.id))
      const byId = Object.fromEntries(rows.map((r) => [r.id, r]))
      const result = { reps: REPS, rows, diskApparentPerEntry: extra.diskApparent, targets: keysTargets(byId), machine: { loadavgBefore: loadBefore, loadavgAfter: os.loadavg() } }
      process.stdout.write(keysReport(result))
      log(`done in ${((performance.now() - started) / 1e3).toFixed(0)} s (no file written)`)
      return
    }

    // Memory: RSS of our index at N_BIG keys, in a fresh process.
    t = performance.now()
    log(`memory: RSS of our index at ${fmtInt(N_BIG)} keys`)
    const memSamples = []
    for (let rep = 1; rep <= REPS; rep++) {
      memSamples.push(
        await runWorker(
          { op: 'memory', engine: 'ours', dir: fresh('memory', 'ours'), big: path.join(reopenDirs['1m'].ours, 'store.bin') },
          { nodeArgs: ['--expose-gc'] },
        ),
      )
    }
    const memory = {
      keys: memSamples[0].keys,
      anonPerKey: median(memSamples.map((m) => m.anonPerKey)),
      rssPerKey: median(memSamples.map((m) => m.rssPerKey)),
      filePerKey: median(memSamples.map((m) => m.filePerKey)),
      openMs: median(memSamples.map((m) => m.openMs)),
      samples: memSamples,
    }
    log(`memory: ${sig(memory.anonPerKey)} B/key anonymous (index), ${sig(memory.rssPerKey)} B/key total RSS (incl. ${sig(memory.filePerKey)} B/key of mapped file pages)`)
    timings.memoryS = (performance.now() - t) / 1e3

    // Memory of async streams: 1 GiB through writeStream per source kind.
    t = performance.now()
    const streams = await runStreamRows(root)
    timings.streamsS = (performance.now() - t) / 1e3

    // Rust: engine vs the published crate.
    t = performance.now()
    const rust = await runRust(root)
    timings.rustS = (performance.now() - t) / 1e3

    // ---- aggregate
    const rows = aggregateRows(samples, multi)
    const byId = Object.fromEntries(rows.map((r) => [r.id, r]))
    const med = (m) => Object.fromEntries(ENGINE_NAMES.map((e) => [e, median(m[e])]))
    const largeReadUs = med(extra.largeReadUsPerValue)
    const readSize = { firstPassUs1MiB: med(extra.firstPassUs), warmUs1MiB: med(extra.warmLargeUs), warmUs64B: med(extra.warmSmallUs), copyUs1MiB: median(Object.values(extra.copyUs).flat()) }
    const targets = [...evaluateTargets(byId, memory, rust, readSize), ...multiTargets(byId), ...keysTargets(byId), ...streamTargets(streams)]
    const bounds = boundsOf(byId, floors)
    const durationS = (performance.now() - started) / 1e3
    const loadAfter = os.loadavg()
    const result = {
      generatedAt: startedAt.toISOString(),
      command: 'npm run bench',
      machine: {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model,
        memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
        platform: `${os.platform()} ${os.release()} ${os.arch()}`,
        node: process.version,
        loadavgBefore: loadBefore,
        loadavgAfter: loadAfter,
      },
      versions: peerVersions(),
      git: gitInfo(),
      reps: REPS,
      sizes: { keys: N, durableKeys: N_DURABLE, asyncKeys: N_ASYNC, gets: GETS, largeValues: LARGE, largeReadPasses: LARGE_PASSES, bigKeys: N_BIG, valueBytes: 64 },
      ratioConvention: 'ours/peer for rates, peer/ours for times and sizes: > 1 means simd-r-drive is better',
      rows,
      largeReadUsPerValue: largeReadUs,
      readTimeBySize: readSize,
      diskApparentPerEntry: extra.diskApparent,
      multi: multiSummary(multi),
      memory,
      streams,
      rust,
      targets,
      bounds,
      timings: { ...timings, totalS: durationS },
      durationS,
    }
    fs.writeFileSync(path.join(here, 'results.json'), JSON.stringify(result, null, 2) + '\n')
    writeReports(result)
    process.stdout.write(textReport(result))
    log(`wrote bench/results.json, bench/results.md, bench/ratios.svg in ${durationS.toFixed(0)} s`)
    if (multi.failures.length) {
      log(`FAILED: ${multi.failures.map((f) => `${f.row} ${f.engine} rep ${f.rep}: ${f.message}`).join('; ')}`)
      process.exitCode = 1
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true })
  }
}

/**
 * Each row's medians (ours {exclusive: true} and {keys: true} too, where
 * measured), its ratios to the peers, ours default / exclusive, ours keys /
 * default, and the engines whose run of the row failed its check (their
 * figure is dropped).
 */
function aggregateRows(samples, multi) {
  return ROWS.map((row) => {
    const values = {}
    const ratios = {}
    const failed = {}
    for (const f of multi.failures) if (f.row === row.id) failed[f.engine] = f.message
    for (const e of [...ENGINE_NAMES, ...(row.exclusive ? [EXCLUSIVE] : []), ...(row.keys ? [KEYS] : [])]) values[e] = failed[e] ? null : median(samples[row.id][e])
    for (const p of PEERS) ratios[p] = ratioOf(row, values.ours, values[p])
    // Also each repetition's own pair (run back to back): how much of the gap is noise.
    const pairs = (a, b) => samples[row.id][a].map((x, i) => ratioOf(row, x, samples[row.id][b][i] ?? null))
    const extra = {
      ...(row.exclusive ? { exclusiveRatio: ratioOf(row, values.ours, values[EXCLUSIVE]), exclusivePairRatios: pairs('ours', EXCLUSIVE) } : {}),
      // As every ratio here, > 1 means better: keys rate / default rate, default bytes / keys bytes.
      ...(row.keys ? { keysRatio: ratioOf(row, values[KEYS], values.ours), keysPairRatios: pairs(KEYS, 'ours') } : {}),
    }
    const samplesOf = Object.fromEntries(Object.entries(samples[row.id]).filter(([e]) => (e !== EXCLUSIVE || row.exclusive) && (e !== KEYS || row.keys)))
    return { ...row, values, ratios, ...extra, ...(Object.keys(failed).length ? { failed } : {}), samples: samplesOf }
  })
}

// ------------------------------------------------------------------ multi-process rows

/** Medians of what rows (i) and (j) record beside their figures. */
function multiSummary(multi) {
  const med = (m, f = (x) => x) => Object.fromEntries(MULTI_ENGINES.filter((e) => m[e].length).map((e) => [e, median(m[e].map(f))]))
  return {
    procs: PROCS,
    keysPerProcess: N / PROCS,
    processMs: med(multi.processMs, (ms) => median(ms)),
    writerPerSec: med(multi.writerPerSec),
    writerPerSecAll: med(multi.writerPerSecAll),
    failures: multi.failures,
  }
}

/** Targets of multi-process support: default open >= 0.9x of {exclusive: true}; rows (i), (j) ahead of lmdb. */
function multiTargets(byId) {
  const T = []
  for (const row of Object.values(byId)) {
    if (!row.exclusive) continue
    const r = row.exclusiveRatio
    T.push({
      key: `${row.id}/exclusive`,
      text: `${row.label}: default open (several processes) vs {exclusive: true}`,
      required: '>= 0.9x',
      actual:
        `${fmtRatio(r)} (${fmtValue(row.values.ours, row.unit)} vs ${fmtValue(row.values[EXCLUSIVE], row.unit)}; ` +
        `each repetition's pair: ${row.exclusivePairRatios.map(fmtRatio).join(' ')}, median ${fmtRatio(median(row.exclusivePairRatios))})`,
      met: r !== null && r >= 0.9,
      value: r,
    })
  }
  for (const [id, text] of [
    ['multiWrite', `${PROCS} processes writing concurrently vs lmdb (putSync, noSync:true, one env)`],
    ['multiGet', 'random get while another process writes vs lmdb getBinaryFast'],
  ]) {
    if (!byId[id]) continue
    const v = byId[id].ratios.lmdb
    T.push({ key: `${id}/lmdb`, text, required: '>= 1x', actual: fmtRatio(v), met: v !== null && v >= 1, value: v })
  }
  return T
}

/** What rows (i) and (j) show beside their figures, as sentences (for both reports). */
function multiText(result) {
  const m = result.multi
  if (!m) return []
  const ms = (x) => `${sig(x)} ms`
  const L = [
    `(i): ${m.procs} processes each open the store, wait at a barrier (a \`go\` line from the driver), then write ${fmtInt(m.keysPerProcess)} distinct keys; the figure is all the keys over the span from the first process's start to the last one's end (a clock all processes share); ` +
      `each process's own write loop took (median) ${Object.entries(m.processMs).map(([e, x]) => `${e} ${ms(x)}`).join(', ')}. ` +
      `After each run a fresh process reads every key back (not timed)` +
      (m.failures.length ? `: **FAILED** ${m.failures.map((f) => `${f.engine} (rep ${f.rep}): ${f.message}`).join('; ')}.` : ': all present and equal.'),
    `(j): a writer process writes new keys (\`w-<i>\`, 64-byte values, one per write) from before the reader starts until it ends; the reader does row (c)'s gets in the store of ${fmtInt(N)} keys. ` +
      `The writer's rate during the reader's timed gets (median): ${Object.entries(m.writerPerSec).map(([e, x]) => `${e} ${fmtValue(x, 'ops/s')}`).join(', ')}; ` +
      'every write the reader sees is one more entry its reads follow (ours: each read checks the shared page and indexes what was appended since), ' +
      "while lmdb-js's reader stays on one snapshot for a synchronous loop.",
  ]
  return L
}

/** BENCH_ONLY=multi: the rows it ran, the sentences on rows (i) and (j), the targets. */
function multiReport(result) {
  const { head, body } = tableRows(result)
  return partialReport(result, 'multi-process rows and ours default vs {exclusive: true}', head, body, multiText(result), `ours (exclusive): ${EXCLUSIVE_CALLS}`)
}

/**
 * The report of a partial run (BENCH_ONLY): `title` with the machine's load,
 * the table `head`/`body`, the `notes`, the `calls` line and the targets.
 */
function partialReport(result, title, head, body, notes, calls) {
  const lines = ['']
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => String(b[i]).length)))
  const fmt = (cells) => cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ')
  lines.push(`${title}: median of ${result.reps}; load average before/after ${result.machine.loadavgBefore.map((x) => x.toFixed(2)).join(' ')} / ${result.machine.loadavgAfter.map((x) => x.toFixed(2)).join(' ')}`)
  lines.push('')
  lines.push(fmt(head))
  lines.push(widths.map((w) => '-'.repeat(w)).join('  '))
  for (const b of body) lines.push(fmt(b))
  lines.push('')
  for (const t of notes) lines.push(t.replace(/`|\*\*/g, ''))
  lines.push(calls)
  lines.push('')
  lines.push('Targets:')
  for (const t of result.targets) lines.push(`  [${t.met ? 'met ' : 'MISS'}] ${t.text}: ${t.actual} (required ${t.required})`)
  lines.push('')
  return lines.join('\n')
}

// ------------------------------------------------------------------ keys: true

/** The rows that measured ours {keys: true} in this result (none in a run that did not, e.g. BENCH_ONLY=multi). */
function keysRows(result) {
  return result.rows.filter((r) => r.keys && r.values?.[KEYS] !== null && r.values?.[KEYS] !== undefined)
}

/** What {keys: true} multiplies: the time of a rate row, the bytes of a size row (1 / keys/default). */
function keysCost(row) {
  const r = row.keysRatio
  return r ? `${sig(1 / r, 2)}x the ${row.unit === 'B' ? 'bytes' : 'time'}` : 'n/a'
}

/** Target of {keys: true}: a single put within 1.5x of a plain put (the rest is reported, not targeted: keysText). */
function keysTargets(byId) {
  const row = byId.putCache
  if (!row || !row.keys || row.values[KEYS] === null || row.values[KEYS] === undefined) return []
  const r = row.keysRatio
  return [
    {
      key: 'putCache/keys',
      text: `${row.label}: {keys: true} vs the default open (keep a single put within 1.5x of a plain put)`,
      required: `>= ${sig(1 / 1.5, 2)}x (1 / 1.5)`,
      actual:
        `${fmtRatio(r)} (${fmtValue(row.values[KEYS], row.unit)} vs ${fmtValue(row.values.ours, row.unit)}: ${keysCost(row)}; ` +
        `each repetition's pair: ${row.keysPairRatios.map(fmtRatio).join(' ')}, median ${fmtRatio(median(row.keysPairRatios))})`,
      met: r !== null && r >= 1 / 1.5,
      value: r,
    },
  ]
}

/** The {keys: true} figures of the rows without a target, as one sentence (for every report). */
function keysText(result) {
  const rows = keysRows(result).filter((r) => r.id !== 'putCache')
  if (!rows.length) return []
  const apparent = result.diskApparentPerEntry
  const parts = rows.map((r) => {
    const disk = r.id === 'disk' && apparent && apparent[KEYS] && apparent.ours ? ` (apparent size: ${sig(apparent[KEYS])} B vs ${sig(apparent.ours)} B)` : ''
    return `${r.label.split(' (')[0]}: ${fmtValue(r.values[KEYS], r.unit)} vs ${fmtValue(r.values.ours, r.unit)}${disk}, keys/default ${fmtRatio(r.keysRatio)}: ${keysCost(r)}`
  })
  return [
    `Keys you can list (\`{ keys: true }\`: each key's bytes in an entry of their own, in the same append just before the value), measured beside the default open in each repetition, no target: ${parts.join('; ')}.`,
  ]
}

/** BENCH_ONLY=keys: ours against ours {keys: true} in rows (a) page cache, (b), (g), and the target. */
function keysReport(result) {
  const head = ['row', 'unit', 'ours', 'ours (keys)', 'keys/default', 'cost of keys', "each repetition's keys/default"]
  const body = result.rows.map((r) => [
    r.label,
    r.better === 'higher' ? `${r.unit} (higher is better)` : `${r.unit} (lower is better)`,
    fmtValue(r.values.ours, r.unit),
    fmtValue(r.values[KEYS], r.unit),
    fmtRatio(r.keysRatio),
    keysCost(r),
    r.keysPairRatios.map(fmtRatio).join(' '),
  ])
  return partialReport(result, 'ours default vs {keys: true}; ratio > 1 = keys on is better', head, body, keysText(result), `ours (keys): ${KEYS_CALLS}`)
}

// ------------------------------------------------------------------ stream memory

/**
 * The stream-memory rows: for each source kind, BENCH_REPS fresh processes
 * each streaming STREAM_MIB MiB through AsyncDataStore.writeStream (see
 * bench/streams.mjs); a row's figure is the median of the peaks, as every
 * other row's, and its worst peak is shown beside it. The peak moves with
 * V8's GC: the chunks a source drops are freed by scavenges that external
 * memory pressure triggers every ~16 MiB and by a background sweeper, so a
 * loaded machine (sweeper late) shows higher peaks than an idle one.
 */
async function runStreamRows(root) {
  const total = STREAM_MIB * MiB
  const cases = []
  const samples = Object.fromEntries(Object.keys(STREAM_KINDS).map((k) => [k, []]))
  for (let rep = 1; rep <= REPS; rep++) {
    for (const kind of Object.keys(STREAM_KINDS)) {
      const dir = streamDir(root, kind)
      const task = { op: 'streamMemory', engine: 'ours', dir, kind, total, chunkSize: STREAM_CHUNK }
      if (process.env.BENCH_LIB) task.lib = path.resolve(process.env.BENCH_LIB)
      const r = await runWorker(task, { nodeArgs: ['--expose-gc'] })
      fs.rmSync(dir, { recursive: true, force: true })
      samples[kind].push(r)
      log(
        `rep ${rep}/${REPS} stream   ${kind.padEnd(14)} ${STREAM_MIB} MiB: peak RSS +${sig(r.rssGrowthMiB)} MiB (${r.peakSource}), ` +
          `arrayBuffers +${sig(r.arrayBuffersGrowthMiB)} MiB, ${sig(r.MBps)} MB/s`,
      )
    }
  }
  for (const [kind, rs] of Object.entries(samples)) {
    cases.push({
      kind,
      source: STREAM_KINDS[kind],
      peakRssGrowthMiB: median(rs.map((r) => r.rssGrowthMiB)),
      worstRssGrowthMiB: Math.max(...rs.map((r) => r.rssGrowthMiB)),
      peakArrayBuffersGrowthMiB: median(rs.map((r) => r.arrayBuffersGrowthMiB)),
      MBps: median(rs.map((r) => r.MBps)),
      samples: rs,
    })
  }
  return {
    generatedAt: new Date().toISOString(),
    git: gitInfo(),
    lib: process.env.BENCH_LIB ? path.resolve(process.env.BENCH_LIB) : null,
    streamMiB: STREAM_MIB,
    chunkBytes: STREAM_CHUNK,
    boundMiB: STREAM_BOUND_MIB,
    reps: REPS,
    cases,
  }
}

let streamSeq = 0
function streamDir(root, kind) {
  return path.join(root, `stream-${kind}-${++streamSeq}`)
}

/** One target per stream row: peak RSS growth <= 64 MiB. */
function streamTargets(streams) {
  if (!streams || !streams.cases) return []
  const size = streams.streamMiB >= 1024 ? `${sig(streams.streamMiB / 1024)} GiB` : `${streams.streamMiB} MiB`
  return streams.cases.map((c) => ({
    key: `streams/${c.kind}`,
    text: `${size} through AsyncDataStore.writeStream from ${c.source}: peak RSS growth (issue 14)`,
    required: `<= ${streams.boundMiB} MiB`,
    actual: `+${sig(c.peakRssGrowthMiB)} MiB (worst of ${streams.reps}: +${sig(c.worstRssGrowthMiB)} MiB; arrayBuffers +${sig(c.peakArrayBuffersGrowthMiB)} MiB)`,
    met: c.peakRssGrowthMiB <= streams.boundMiB,
    value: c.peakRssGrowthMiB,
  }))
}

/** One sentence on the stream rows (for both reports). */
function streamsText(streams) {
  if (!streams || !streams.cases) return null
  return (
    `Async streams: ${streams.streamMiB} MiB through \`AsyncDataStore.writeStream\` in ${fmtInt(streams.streamMiB * MiB / streams.chunkBytes)} fresh chunks of ${streams.chunkBytes / 1024} KiB, ` +
    `each source in a fresh process, median of ${streams.reps} (worst in brackets): peak RSS growth over the RSS before the stream: ` +
    streams.cases.map((c) => `${c.source} +${sig(c.peakRssGrowthMiB)} MiB (+${sig(c.worstRssGrowthMiB)}; ${sig(c.MBps)} MB/s)`).join(', ') +
    `; bound ${streams.boundMiB} MiB. Measured ${streams.generatedAt.slice(0, 16).replace('T', ' ')} UTC` +
    (streams.git ? ` at commit ${streams.git.commit.slice(0, 12)}${streams.git.uncommittedProductFiles.length ? ' (with uncommitted product changes)' : ''}` : '') +
    (streams.lib ? `, package build ${streams.lib}` : '') +
    '.'
  )
}

/** `BENCH_ONLY=streams`: the stream rows alone, merged into results.json. */
async function streamsOnly() {
  try {
    await import(process.env.BENCH_LIB ? path.resolve(process.env.BENCH_LIB) : '../lib/index.mjs')
  } catch (e) {
    console.error(`bench: the package is not built (${e.message}); run \`npm run build\` first`)
    process.exit(1)
  }
  const root = fs.mkdtempSync(path.join(process.env.BENCH_DIR || os.tmpdir(), 'srd-bench-'))
  log(`stream rows only: ${STREAM_MIB} MiB per stream, ${REPS} repetitions; temp dir ${root}`)
  let streams
  try {
    streams = await runStreamRows(root)
  } finally {
    fs.rmSync(root, { recursive: true, force: true })
  }
  const targets = streamTargets(streams)
  const lines = ['', streamsText(streams).replace(/`/g, ''), '', 'Targets (issue 14):']
  for (const t of targets) lines.push(`  [${t.met ? 'met ' : 'MISS'}] ${t.text}: ${t.actual} (required ${t.required})`)
  lines.push('')
  process.stdout.write(lines.join('\n'))
  // Record them beside the last full run, unless they measured another build.
  const file = path.join(here, 'results.json')
  if (!streams.lib && fs.existsSync(file)) {
    const result = JSON.parse(fs.readFileSync(file, 'utf8'))
    result.streams = streams
    result.targets = result.targets.filter((t) => !String(t.key).startsWith('streams/')).concat(targets)
    fs.writeFileSync(file, JSON.stringify(result, null, 2) + '\n')
    writeReports(result, { readme: false })
    log('recorded in bench/results.json and bench/results.md (the README is left as is)')
  }
  if (targets.some((t) => !t.met)) process.exitCode = 1
}

/** The commit measured, and whether product files differed from it. */
function gitInfo() {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'crates', 'src', 'index.js', 'Cargo.toml'], { cwd: repo, encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map((l) => l.slice(3))
    return { commit, uncommittedProductFiles: dirty }
  } catch {
    return null
  }
}

function peerVersions() {
  const v = {}
  for (const p of ['lmdb', 'classic-level', 'better-sqlite3']) {
    try {
      v[p] = JSON.parse(fs.readFileSync(path.join(repo, 'node_modules', p, 'package.json'), 'utf8')).version
    } catch {
      v[p] = null
    }
  }
  try {
    v['simd-r-drive (this package)'] = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')).version
  } catch {}
  v['simd-r-drive crate (Rust reference)'] = '0.16.3-alpha'
  return v
}

// ------------------------------------------------------------------ Rust

function runRust(root) {
  if (process.env.BENCH_SKIP_RUST === '1') {
    log('rust: skipped (BENCH_SKIP_RUST=1)')
    return Promise.resolve({ skipped: 'BENCH_SKIP_RUST=1' })
  }
  log('rust: cargo run --release --example compare -p srd-engine (engine vs simd-r-drive crate)')
  return new Promise((resolve) => {
    const env = { ...process.env, SRD_BENCH_DIR: root, SRD_BENCH_REPS: String(REPS) }
    if (QUICK) Object.assign(env, { SRD_BENCH_SINGLE: '10000', SRD_BENCH_OPEN_KEYS: '100000', SRD_BENCH_GETS: '100000' })
    const child = spawn('cargo', ['run', '--quiet', '--release', '--example', 'compare', '-p', 'srd-engine'], {
      cwd: repo,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => process.stderr.write(d))
    child.on('error', (e) => {
      log(`rust: could not run cargo (${e.message})`)
      resolve({ skipped: `cargo: ${e.message}` })
    })
    child.on('close', (code) => {
      if (code !== 0) {
        log(`rust: compare exited with ${code}`)
        resolve({ skipped: `compare exited with ${code}` })
        return
      }
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()))
      } catch {
        resolve({ skipped: `bad output: ${out.slice(0, 200)}` })
      }
    })
  })
}

function rustLabel(name, rust) {
  const n = fmtInt(rust.singleWrites ?? 100_000)
  const k = fmtInt(rust.keys ?? 100_000)
  const g = fmtInt(rust.gets ?? 1_000_000)
  const big = fmtInt(rust.openKeys ?? 1_000_000)
  return (
    {
      single_write: `single writes (${n} x 64 B, page cache)`,
      batch_100k: `one batch of ${k} entries`,
      random_read: `random reads (${g}, payload slice)`,
      absent_read: `reads of absent keys (${g})`,
      open_1m: `open of a ${big}-entry file + first read`,
      torn_tail_pad_open_1m: `open + recovery of ${big} entries, torn tail (10 pad bytes of the last entry)`,
      torn_tail_payload_open_1m: `open + recovery of ${big} entries, torn tail (last entry without metadata)`,
    }[name] ?? name
  )
}

// ------------------------------------------------------------------ targets

function evaluateTargets(byId, memory, rust, readSize) {
  const rr = (name) => (rust && rust.rows ? rust.rows.find((r) => r.name === name) : undefined)
  const T = []
  const ratioTarget = (text, rowId, peer, min) => {
    const actual = byId[rowId].ratios[peer]
    T.push({ key: `${rowId}/${peer}`, text, required: `>= ${min}x`, actual: fmtRatio(actual), met: actual !== null && actual >= min, value: actual })
  }
  ratioTarget('random get of a 64-byte value vs lmdb getBinaryFast', 'get', 'lmdb', 3)
  ratioTarget('random get of a 64-byte value vs classic-level getSync', 'get', 'classic-level', 8)
  ratioTarget('absent-key get vs lmdb', 'getAbsent', 'lmdb', 2)
  ratioTarget('single put into the page cache vs lmdb putSync (noSync)', 'putCache', 'lmdb', 5)
  ratioTarget('batch of 100,000 vs lmdb transactionSync', 'batch', 'lmdb', 4)
  ratioTarget("10,000 concurrent async puts vs lmdb's batched async put", 'asyncCache', 'lmdb', 3)
  ratioTarget('durable single put vs lmdb putSync (fsync-bound)', 'putDurable', 'lmdb', 1)
  {
    const a = byId.asyncDurable.values.ours
    const b = byId.putDurable.values.lmdb
    const v = a && b ? a / b : null
    T.push({ text: 'durable async puts (group commit) vs lmdb durable putSync', required: '>= 10x', actual: fmtRatio(v), met: v !== null && v >= 10, value: v })
  }
  {
    const v = byId.largeWrite.values.ours
    T.push({ text: '1 MiB values: write into the page cache', required: '>= 1,000 MB/s', actual: fmtValue(v, 'MB/s'), met: v !== null && v >= 1000, value: v })
  }
  {
    // O(1) in the value's size: what a 1 MiB read costs beyond a 64-byte read
    // (same procedure, both warm) must be far below what copying 1 MiB costs.
    const big = readSize.warmUs1MiB.ours
    const small = readSize.warmUs64B.ours
    const copy = readSize.copyUs1MiB
    const extraUs = big !== null && small !== null ? big - small : null
    T.push({
      text: '1 MiB value read is O(1) (zero-copy): extra time of a warm 1 MiB read over a 64-byte read',
      required: `<= 1/10 of copying 1 MiB (${sig(copy)} us here)`,
      actual: `${sig(big)} us vs ${sig(small)} us: +${sig(extraUs)} us`,
      met: extraUs !== null && copy !== null && extraUs <= copy / 10,
      value: extraUs,
    })
  }
  {
    const v = byId.reopen1m.values.ours
    T.push({ text: 'open (+ first get) of a 1,000,000-key store', required: '< 150 ms', actual: fmtValue(v, 'ms'), met: v !== null && v < 150, value: v })
  }
  {
    const r = rr('single_write')
    T.push({ text: 'engine single writes vs the simd-r-drive crate (Rust)', required: '>= 3x', actual: r ? fmtRatio(r.ratio) : 'not run', met: !!r && r.ratio >= 3, value: r?.ratio ?? null })
    // "Engine reads no slower than the crate's": reads of present and of absent keys.
    for (const [name, what] of [['random_read', 'random reads'], ['absent_read', 'reads of absent keys']]) {
      const g = rr(name)
      T.push({ text: `engine ${what} vs the simd-r-drive crate (Rust)`, required: '>= 1x', actual: g ? fmtRatio(g.ratio) : 'not run', met: !!g && g.ratio >= 1, value: g?.ratio ?? null })
    }
  }
  {
    const v = memory.anonPerKey
    T.push({ text: 'in-memory index at 1,000,000 keys (RSS, anonymous memory)', required: '<= 32 B/key', actual: `${sig(v)} B/key`, met: v !== null && v <= 32, value: v })
  }
  return T
}

/**
 * What bounds rows (c) and (h): the peers' times, the ratio each target asks
 * for, and the floors of bench/floors.mjs measured in the same run.
 */
function boundsOf(byId, floors) {
  const ms = (opsPerSec) => (opsPerSec ? (N_ASYNC / opsPerSec) * 1e3 : null)
  const m = (k) => median(floors[k])
  return {
    get: { lmdbUs: m('lmdbUs'), levelUs: m('levelUs'), readUs: m('readUs'), touchUs: m('touchUs'), locateUs: m('locateUs') },
    async: { lmdbMs: ms(byId.asyncCache.values.lmdb), oursMs: ms(byId.asyncCache.values.ours), floorMs: m('asyncMs') },
    samples: floors,
  }
}

/**
 * The highest ratio a target's row could show above its floor in this run
 * (the peer's time over the floor's), or '' for a target without a floor.
 */
function ceilingOf(bounds, key) {
  if (!bounds) return ''
  const g = bounds.get
  const a = bounds.async
  const r = { 'get/lmdb': [g.lmdbUs, g.touchUs], 'get/classic-level': [g.levelUs, g.touchUs], 'asyncCache/lmdb': [a.lmdbMs, a.floorMs] }[key]
  return r && r[0] && r[1] ? fmtRatio(r[0] / r[1]) : ''
}

/** The bounds as sentences (`us` is the micro sign to use). */
function boundsText(b, us) {
  if (!b) return []
  const g = b.get
  const a = b.async
  const x = (n, d) => (n && d ? fmtRatio(n / d) : 'n/a')
  const ceiling = (key) => ceilingOf(b, key) || 'n/a'
  return [
    `(c) random get, all in one process, interleaved: lmdb ${sig(g.lmdbUs)} ${us} per get, classic-level ${sig(g.levelUs)} ${us}, ours ${sig(g.readUs)} ${us} (${x(g.lmdbUs, g.readUs)} and ${x(g.levelUs, g.readUs)}); ` +
      `3x lmdb needs <= ${sig(g.lmdbUs / 3)} ${us}, 8x classic-level <= ${sig(g.levelUs / 8)} ${us}. ` +
      `The least a read through the engine's index does (the native locate, then the entry's metadata and first payload byte; no EntryHandle, no Buffer) takes ${sig(g.touchUs)} ${us}, locate alone ${sig(g.locateUs)} ${us}: ` +
      `without a faster locate or entry, no change can beat ${ceiling('get/lmdb')} lmdb or ${ceiling('get/classic-level')} classic-level here.`,
    `(h) ${fmtInt(N_ASYNC)} async puts: lmdb takes ${sig(a.lmdbMs)} ms, so 3x needs <= ${sig(a.lmdbMs / 3)} ms. ` +
      `A Promise per write resolved to its own value, plus the Promise.all, with no store at all, takes ${sig(a.floorMs)} ms in a fresh process (${ceiling('asyncCache/lmdb')} lmdb); ` +
      `ours takes ${sig(a.oursMs)} ms, so the store's own work (each write converted natively, one append on a libuv worker, the batch settled) adds ${sig(a.oursMs - a.floorMs)} ms.`,
  ]
}

// ------------------------------------------------------------------ reports

// The exclusive columns, then the keys columns (only if this run measured
// them), go last, so the README's headline keeps its columns.
function tableRows(result) {
  const keys = keysRows(result).length > 0
  const head = ['row', 'unit', ...ENGINE_NAMES, ...PEERS.map((p) => `ours/${p}`), 'ours (exclusive)', 'default/exclusive', ...(keys ? ['ours (keys)', 'keys/default'] : [])]
  const body = result.rows.map((r) => [
    r.label,
    r.better === 'higher' ? `${r.unit} (higher is better)` : `${r.unit} (lower is better)`,
    ...ENGINE_NAMES.map((e) => (r.failed?.[e] ? 'FAILED' : fmtValue(r.values[e], r.unit))),
    ...PEERS.map((p) => fmtRatio(r.ratios[p])),
    r.exclusive ? fmtValue(r.values[EXCLUSIVE], r.unit) : '',
    r.exclusive ? fmtRatio(r.exclusiveRatio) : '',
    ...(keys ? [r.keys ? fmtValue(r.values[KEYS], r.unit) : '', r.keys ? fmtRatio(r.keysRatio) : ''] : []),
  ])
  return { head, body }
}

function rustRows(result) {
  if (!result.rust || !result.rust.rows) return null
  return result.rust.rows.map((r) => {
    return [rustLabel(r.name, result.rust), fmtValue(r.engine, r.unit), fmtValue(r.crate, r.unit), fmtRatio(r.ratio)]
  })
}

function textReport(result) {
  const lines = []
  const { head, body } = tableRows(result)
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => String(b[i]).length)))
  const fmt = (cells) => cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ')
  lines.push('')
  lines.push(`simd-r-drive benchmark: median of ${result.reps}; ${result.machine.cpus} CPUs (${result.machine.cpuModel}), ${result.machine.platform}, Node ${result.machine.node}`)
  lines.push(`ratio = ${result.ratioConvention}`)
  lines.push('')
  lines.push(fmt(head))
  lines.push(widths.map((w) => '-'.repeat(w)).join('  '))
  for (const b of body) lines.push(fmt(b))
  lines.push('')
  lines.push(`1 MiB read, time per value (all ${result.sizes.largeReadPasses} passes): ${ENGINE_NAMES.map((e) => `${e} ${sig(result.largeReadUsPerValue[e])} us`).join(', ')}`)
  if (result.readTimeBySize) {
    const r = result.readTimeBySize
    lines.push(`  first pass (incl. first-touch page faults): ${ENGINE_NAMES.map((e) => `${e} ${sig(r.firstPassUs1MiB[e])} us`).join(', ')}`)
    lines.push(`  warm, 1 MiB vs 64 B value: ${ENGINE_NAMES.map((e) => `${e} ${sig(r.warmUs1MiB[e])} vs ${sig(r.warmUs64B[e])} us`).join(', ')}; a 1 MiB Buffer.copy takes ${sig(r.copyUs1MiB)} us`)
  }
  lines.push(`bytes on disk per entry, apparent size: ${ENGINE_NAMES.map((e) => `${e} ${sig(result.diskApparentPerEntry[e])} B`).join(', ')}`)
  lines.push(
    `memory: our index at ${fmtInt(result.memory.keys)} keys: ${sig(result.memory.anonPerKey)} B/key of anonymous RSS; total RSS ${sig(result.memory.rssPerKey)} B/key, of which ${sig(result.memory.filePerKey)} B/key are mapped (page-cache) file pages`,
  )
  for (const t of multiText(result)) lines.push(t.replace(/`|\*\*/g, ''))
  for (const t of keysText(result)) lines.push(t.replace(/`|\*\*/g, ''))
  const st = streamsText(result.streams)
  if (st) lines.push(st.replace(/`/g, ''))
  lines.push('')
  lines.push('What each engine runs per row:')
  const seen = new Set()
  for (const r of result.rows) {
    if (seen.has(r.calls)) continue
    seen.add(r.calls)
    lines.push(`  ${r.label}${result.rows.filter((x) => x.calls === r.calls && x !== r).map((x) => ` / ${x.label.split(' ')[0]}`).join('')}`)
    for (const e of ENGINE_NAMES) lines.push(`    ${e.padEnd(15)} ${r.calls[e]}`)
  }
  lines.push(`  ours (exclusive), in the rows that show it: ${EXCLUSIVE_CALLS}, run beside ours in each repetition (alternately first)`)
  if (keysRows(result).length) lines.push(`  ours (keys), in the rows that show it: ${KEYS_CALLS}, run beside ours in each repetition (alternately first); keys/default > 1 means keys on is better`)
  lines.push('')
  const rr = rustRows(result)
  if (rr) {
    lines.push(`Rust: srd-engine vs the simd-r-drive crate 0.16.3-alpha (median of ${result.rust.reps}; ratio > 1 = engine better)`)
    const h = ['row', 'engine', 'crate', 'engine/crate']
    const w = h.map((x, i) => Math.max(x.length, ...rr.map((r) => r[i].length)))
    const f = (c) => c.map((x, i) => (i === 0 ? x.padEnd(w[i]) : x.padStart(w[i]))).join('  ')
    lines.push(f(h))
    lines.push(w.map((x) => '-'.repeat(x)).join('  '))
    for (const r of rr) lines.push(f(r))
    const tl = result.rust.tornLive
    if (tl) {
      lines.push(
        `live entries after recovering the torn files (expected ${fmtInt(tl.expected)}): pad cut: engine ${fmtInt(tl.pad.engine)}, crate ${fmtInt(tl.pad.crate)}; payload cut: engine ${fmtInt(tl.payload.engine)}, crate ${fmtInt(tl.payload.crate)}`,
      )
    }
  } else {
    lines.push(`Rust section not run: ${result.rust && result.rust.skipped}`)
  }
  lines.push('')
  lines.push(`Targets (${TARGETS_FROM}):`)
  for (const t of result.targets) {
    const c = ceilingOf(result.bounds, t.key)
    lines.push(`  [${t.met ? 'met ' : 'MISS'}] ${t.text}: ${t.actual} (required ${t.required}${c ? `; at most ${c} above its floor` : ''})`)
  }
  lines.push('')
  lines.push('Floors (bench/floors.mjs, same run):')
  for (const t of boundsText(result.bounds, 'us')) lines.push(`  ${t}`)
  lines.push('')
  if (result.git) {
    lines.push(`measured at commit ${result.git.commit.slice(0, 12)}${result.git.uncommittedProductFiles.length ? ` with uncommitted changes in ${result.git.uncommittedProductFiles.join(', ')}` : ''}`)
  }
  lines.push(`load average before/after: ${result.machine.loadavgBefore.map((x) => x.toFixed(2)).join(' ')} / ${result.machine.loadavgAfter.map((x) => x.toFixed(2)).join(' ')}`)
  lines.push(`total time ${result.durationS.toFixed(0)} s (${Object.entries(result.timings).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')})`)
  lines.push('')
  return lines.join('\n')
}

const TARGETS_FROM = 'issue 4; the stream rows: issue 14; multi-process support: rows (i), (j) and ours default vs {exclusive: true}; keys you can list: ours {keys: true} vs default'

function mdEscape(s) {
  return String(s).replace(/\|/g, '\\|')
}

function markdown(result) {
  const L = []
  const { head, body } = tableRows(result)
  L.push('<!-- generated by `npm run bench` (bench/run.mjs); do not edit by hand -->')
  L.push(`### Node: simd-r-drive vs lmdb ${result.versions.lmdb}, classic-level ${result.versions['classic-level']}, better-sqlite3 ${result.versions['better-sqlite3']}`)
  L.push('')
  L.push(
    `Median of ${result.reps} runs on ${result.machine.cpus} CPUs (${result.machine.cpuModel}), ${result.machine.platform}, Node ${result.machine.node}, ${result.generatedAt.slice(0, 10)}. ` +
      `64-byte random values, keys \`key-<i>\`. Ratio: ${result.ratioConvention}. Reproduce with \`npm run build && npm run bench\`.`,
  )
  L.push('')
  L.push(`| ${head.map(mdEscape).join(' | ')} |`)
  L.push(`|${head.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`)
  for (const b of body) L.push(`| ${b.map(mdEscape).join(' | ')} |`)
  L.push('')
  const rs = result.readTimeBySize
  L.push(
    `1 MiB read, time per value over all ${result.sizes.largeReadPasses} passes: ${ENGINE_NAMES.map((e) => `${e} ${sig(result.largeReadUsPerValue[e])} µs`).join(', ')}` +
      (rs
        ? `; warm (median pass after the first), 1 MiB vs 64-byte value: ${ENGINE_NAMES.map((e) => `${e} ${sig(rs.warmUs1MiB[e])} vs ${sig(rs.warmUs64B[e])} µs`).join(', ')}` +
          ` (our first pass, which maps the pages: ${sig(rs.firstPassUs1MiB.ours)} µs per value; copying 1 MiB takes ${sig(rs.copyUs1MiB)} µs)`
        : '') +
      '. ' +
      `Bytes on disk per entry are allocated blocks; apparent sizes: ${ENGINE_NAMES.map((e) => `${e} ${sig(result.diskApparentPerEntry[e])} B`).join(', ')}.`,
  )
  L.push('')
  L.push(
    `Memory: our in-memory index at ${fmtInt(result.memory.keys)} keys takes **${sig(result.memory.anonPerKey)} bytes per key** of anonymous RSS ` +
      `(RSS after opening the store minus RSS with an empty store open, in a fresh process). Total RSS grows by ${sig(result.memory.rssPerKey)} B/key, ` +
      `of which ${sig(result.memory.filePerKey)} B/key are page-cache pages of the mapped file touched while the index is built (shared, reclaimable).`,
  )
  L.push('')
  for (const t of [...multiText(result), ...keysText(result)]) {
    L.push(t)
    L.push('')
  }
  const st = streamsText(result.streams)
  if (st) {
    L.push(st)
    L.push('')
  }
  L.push('<details><summary>What each engine runs in each row</summary>')
  L.push('')
  L.push(`| row | ${ENGINE_NAMES.join(' | ')} |`)
  L.push(`|---|${ENGINE_NAMES.map(() => '---').join('|')}|`)
  for (const r of result.rows) L.push(`| ${mdEscape(r.label)} | ${ENGINE_NAMES.map((e) => mdEscape(r.calls[e])).join(' | ')} |`)
  L.push('')
  L.push(`ours (exclusive), in the rows that show it: ${EXCLUSIVE_CALLS}, run beside ours in each repetition (alternately first).`)
  if (keysRows(result).length) {
    L.push('')
    L.push(`ours (keys), in the rows that show it: ${KEYS_CALLS}, run beside ours in each repetition (alternately first); keys/default > 1 means keys on is better (in (g): default bytes / keys bytes).`)
  }
  L.push('')
  L.push('</details>')
  L.push('')
  const rr = rustRows(result)
  L.push('### Rust: srd-engine vs the simd-r-drive crate 0.16.3-alpha')
  L.push('')
  if (rr) {
    L.push(`Median of ${result.rust.reps}, same process, same files (\`cargo run --release --example compare -p srd-engine\`). Ratio > 1 = engine better.`)
    L.push('')
    L.push('| row | engine | crate | engine/crate |')
    L.push('|---|---:|---:|---:|')
    for (const r of rr) L.push(`| ${r.map(mdEscape).join(' | ')} |`)
    const tl = result.rust.tornLive
    if (tl) {
      L.push('')
      L.push(
        `Live entries after recovery (expected ${fmtInt(tl.expected)}): pad cut: engine ${fmtInt(tl.pad.engine)}, crate ${fmtInt(tl.pad.crate)}; ` +
          `payload cut: engine ${fmtInt(tl.payload.engine)}, crate ${fmtInt(tl.payload.crate)}.` +
          (tl.payload.crate !== tl.expected
            ? ' The crate accepts the zero pre-pad of the torn entry as an entry whose chain ends at 0 (it checks no checksum), so it keeps a bogus one-entry store and every earlier key reads as absent.'
            : ''),
      )
    }
  } else {
    L.push(`Not run: ${result.rust && result.rust.skipped}`)
  }
  L.push('')
  L.push(`### Targets (${TARGETS_FROM})`)
  L.push('')
  L.push('| target | required | measured | | at most, above its floor (see below) |')
  L.push('|---|---|---|---|---|')
  for (const t of result.targets) L.push(`| ${mdEscape(t.text)} | ${mdEscape(t.required)} | ${mdEscape(t.actual)} | ${t.met ? 'met' : '**missed**'} | ${ceilingOf(result.bounds, t.key)} |`)
  L.push('')
  const floorLines = boundsText(result.bounds, 'µs')
  if (floorLines.length) {
    L.push('Floors, measured in the same run (`bench/floors.mjs`):')
    L.push('')
    for (const t of floorLines) L.push(`- ${t}`)
    L.push('')
  }
  L.push(
    (result.git ? `Measured at commit \`${result.git.commit.slice(0, 12)}\`${result.git.uncommittedProductFiles.length ? ' (with uncommitted product changes)' : ''}. ` : '') +
    `Total benchmark time ${result.durationS.toFixed(0)} s. Load average before/after: ${result.machine.loadavgBefore.map((x) => x.toFixed(2)).join(' ')} / ${result.machine.loadavgAfter.map((x) => x.toFixed(2)).join(' ')}.`,
  )
  L.push('')
  L.push('![our ratio to each peer](ratios.svg)')
  L.push('')
  return L.join('\n')
}

// ------------------------------------------------------------------ SVG

function xmlEscape(s) {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

const COLORS = { lmdb: '#4e79a7', 'classic-level': '#59a14f', 'better-sqlite3': '#e15759', 'simd-r-drive crate': '#b07aa1' }

const SHORT_RUST = {
  single_write: 'single writes',
  batch_100k: 'one batch',
  random_read: 'random reads',
  absent_read: 'absent-key reads',
  open_1m: 'open, 1M entries',
  torn_tail_pad_open_1m: 'open + torn-tail recovery, 1M',
  torn_tail_payload_open_1m: 'open + torn-tail recovery (payload cut), 1M',
}

/** Horizontal log-scale bars of our ratio to each peer (> 1: right of the 1x line). */
function svg(result) {
  const groups = result.rows.map((r) => ({
    label: r.label,
    bars: PEERS.map((p) => ({ peer: p, ratio: r.ratios[p] })),
    targets: targetMarks(r.id),
  }))
  if (result.rust && result.rust.rows) {
    const tl = result.rust.tornLive
    for (const r of result.rust.rows) {
      // A torn-tail row where the crate recovers the wrong prefix is not a speed comparison.
      if (tl && r.name === 'torn_tail_payload_open_1m' && tl.payload.crate !== tl.expected) continue
      if (tl && r.name === 'torn_tail_pad_open_1m' && tl.pad.crate !== tl.expected) continue
      groups.push({
        label: `Rust vs crate: ${SHORT_RUST[r.name] || r.name}`,
        bars: [{ peer: 'simd-r-drive crate', ratio: r.ratio }],
        targets: r.name === 'single_write' ? { 'simd-r-drive crate': 3 } : r.name === 'random_read' || r.name === 'absent_read' ? { 'simd-r-drive crate': 1 } : {},
      })
    }
  }
  const all = groups.flatMap((g) => g.bars.map((b) => b.ratio)).filter((r) => r !== null && Number.isFinite(r) && r > 0)
  let lo = Math.floor(Math.log10(Math.min(0.5, ...all)))
  let hi = Math.ceil(Math.log10(Math.max(2, ...all)))
  lo = Math.max(lo, -3)
  hi = Math.min(hi, 5)
  const W = 1000
  const left = 380
  const right = W - 70
  const x = (r) => left + ((Math.log10(Math.min(Math.max(r, 10 ** lo), 10 ** hi)) - lo) / (hi - lo)) * (right - left)
  const barH = 11
  const gap = 3
  const groupGap = 12
  const top = 78
  let y = top
  const parts = []
  for (const g of groups) {
    const gh = g.bars.length * (barH + gap) - gap
    parts.push(`<text x="${left - 8}" y="${(y + gh / 2 + 4).toFixed(1)}" text-anchor="end" font-size="11">${xmlEscape(g.label)}</text>`)
    for (const b of g.bars) {
      const color = COLORS[b.peer]
      if (b.ratio === null || !Number.isFinite(b.ratio)) {
        parts.push(`<text x="${x(1) + 4}" y="${y + barH - 2}" font-size="9" fill="#888">${xmlEscape(b.peer)}: n/a</text>`)
      } else {
        const x0 = Math.min(x(1), x(b.ratio))
        const w = Math.max(1, Math.abs(x(b.ratio) - x(1)))
        parts.push(
          `<rect x="${x0.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${color}"><title>${xmlEscape(`${g.label}: ${fmtRatio(b.ratio)} vs ${b.peer}`)}</title></rect>`,
        )
        // Labels go past the bar's end, or just inside the plot when the bar is clamped at its edge.
        const clampedLow = b.ratio < 1 && x(b.ratio) - 40 < left
        const lx = b.ratio >= 1 ? x(b.ratio) + 3 : clampedLow ? x(b.ratio) + 3 : x(b.ratio) - 3
        const anchor = b.ratio >= 1 || clampedLow ? 'start' : 'end'
        const fill = clampedLow ? '#fff' : '#000'
        parts.push(`<text x="${lx.toFixed(1)}" y="${y + barH - 2}" font-size="9" fill="${fill}" text-anchor="${anchor}">${xmlEscape(fmtRatio(b.ratio))}</text>`)
      }
      const tgt = g.targets[b.peer]
      if (tgt) {
        const tx = x(tgt)
        parts.push(
          `<line x1="${tx.toFixed(1)}" x2="${tx.toFixed(1)}" y1="${y - 1}" y2="${y + barH + 1}" stroke="#000" stroke-width="2"><title>target ${tgt}x</title></line>`,
        )
      }
      y += barH + gap
    }
    y += groupGap - gap
  }
  const H = y + 40
  const grid = []
  for (let e = lo; e <= hi; e++) {
    const gx = x(10 ** e)
    grid.push(`<line x1="${gx.toFixed(1)}" x2="${gx.toFixed(1)}" y1="${top - 8}" y2="${y}" stroke="${e === 0 ? '#333' : '#ddd'}" stroke-width="${e === 0 ? 1.5 : 1}"/>`)
    grid.push(`<text x="${gx.toFixed(1)}" y="${top - 12}" text-anchor="middle" font-size="10">${e < 0 ? (10 ** e).toFixed(-e) : fmtInt(10 ** e)}x</text>`)
  }
  const legend = Object.entries(COLORS)
    .map(([name, c], i) => `<rect x="${left + i * 150}" y="${H - 26}" width="12" height="12" fill="${c}"/><text x="${left + i * 150 + 16}" y="${H - 16}" font-size="11">vs ${xmlEscape(name)}</text>`)
    .join('')
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">simd-r-drive: our ratio to each peer (log scale; right of 1x = we are faster / smaller)</text>`,
    `<text x="${W / 2}" y="40" text-anchor="middle" font-size="11" fill="#555">${xmlEscape(`median of ${result.reps}, ${result.machine.cpus} CPUs, ${result.machine.platform}, Node ${result.machine.node}, ${result.generatedAt.slice(0, 10)}; black ticks: issue 4 targets`)}</text>`,
    ...grid,
    ...parts,
    legend,
    '</svg>',
    '',
  ].join('\n')
}

function targetMarks(rowId) {
  switch (rowId) {
    case 'get':
      return { lmdb: 3, 'classic-level': 8 }
    case 'getAbsent':
      return { lmdb: 2 }
    case 'putCache':
      return { lmdb: 5 }
    case 'batch':
      return { lmdb: 4 }
    case 'asyncCache':
      return { lmdb: 3 }
    case 'putDurable':
    case 'multiWrite':
    case 'multiGet':
      return { lmdb: 1 }
    default:
      return {}
  }
}

/** `node bench/run.mjs --render`: rewrite results.md and ratios.svg from results.json (no measuring). */
function renderOnly() {
  const result = JSON.parse(fs.readFileSync(path.join(here, 'results.json'), 'utf8'))
  writeReports(result)
  process.stdout.write(textReport(result))
}

/** The README's headline rows: these rows of the results table, with our figure and the three ratios. */
const HEADLINE = [
  '(a) single put, page cache',
  '(a) async puts, group commit, durable',
  '(b) one batch',
  '(c) random get',
  '(d) get of an absent key',
  '(e) read back',
  '(h) 10,000 concurrent async puts',
  '(i) 4 processes writing',
  '(j) random get in one process while another writes',
]

/** Replaces what lies between `start` and `end` in `file` by `body` (nothing if the markers are missing). */
function replaceBetween(file, start, end, body) {
  const text = fs.readFileSync(file, 'utf8')
  const a = text.indexOf(start)
  const b = text.indexOf(end)
  if (a >= 0 && b > a) fs.writeFileSync(file, `${text.slice(0, a + start.length)}\n${body}\n${text.slice(b)}`)
}

/**
 * results.md, ratios.svg, the full tables in docs/performance.md, and the
 * README's headline rows (both between their markers).
 */
function writeReports(result, { readme: withReadme = true } = {}) {
  const md = markdown(result)
  fs.writeFileSync(path.join(here, 'results.md'), md)
  fs.writeFileSync(path.join(here, 'ratios.svg'), svg(result))
  if (!withReadme) return
  replaceBetween(path.join(here, '..', 'docs', 'performance.md'), '<!-- bench:start -->', '<!-- bench:end -->', md.replace(/^<!--.*-->\n/, ''))
  const cells = (line) => line.split('|').slice(1, -1).map((c) => c.trim())
  const rows = md.split('\n').filter((l) => /^\| \(/.test(l))
  const picked = HEADLINE.map((h) => rows.find((l) => cells(l)[0].startsWith(h))).filter((l) => l !== undefined)
  const table = [
    '| row | ours | ours/lmdb | ours/classic-level | ours/better-sqlite3 |',
    '|---|---:|---:|---:|---:|',
    ...picked.map((l) => {
      const c = cells(l)
      return `| ${[c[0], c[2], c[6], c[7], c[8]].join(' | ')} |`
    }),
  ].join('\n')
  replaceBetween(path.join(here, '..', 'README.md'), '<!-- bench:headline:start -->', '<!-- bench:headline:end -->', table)
}

// BENCH_ONLY=multi runs in main, which skips every other row.
const entry = process.argv.includes('--render') ? async () => renderOnly() : ONLY.includes('streams') ? streamsOnly : main
entry().catch((err) => {
  console.error(err && err.stack ? err.stack : err)
  process.exit(1)
})
