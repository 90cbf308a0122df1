// One benchmark task in its own process (so engines never share a heap, a
// thread pool or a page of state): `node bench/worker.mjs '<json task>'`.
// Prints one JSON line with the result on stdout.
//
// The multi-process rows' tasks also talk with the driver by lines: the
// worker prints `ready` once its store is open and its data made, then waits
// for `go` on stdin (the barrier); the writer of row (j) prints `writing`
// once its first writes are in and stops on `stop <start> <end>` (the
// reader's timed span, in `stamp` nanoseconds).

import fs from 'node:fs'
import path from 'node:path'
import { ENGINES, diskUsage } from './engines.mjs'
import * as data from './data.mjs'
import { asyncFloor, getFloor } from './floors.mjs'
import { streamMemory } from './streams.mjs'

const task = JSON.parse(process.argv[2])
const engine = ENGINES[task.engine]
fs.mkdirSync(task.dir, { recursive: true })

/** Lines from the driver on stdin: `next()` waits for one, `poll()` takes one if there is. */
function driverLines() {
  const queued = []
  const waiting = []
  let buf = ''
  process.stdin.setEncoding('utf8')
  process.stdin.on('data', (d) => {
    buf += d
    for (let i; (i = buf.indexOf('\n')) >= 0; ) {
      const line = buf.slice(0, i)
      buf = buf.slice(i + 1)
      if (waiting.length) waiting.shift()(line)
      else queued.push(line)
    }
  })
  return {
    next: () => (queued.length ? Promise.resolve(queued.shift()) : new Promise((resolve) => waiting.push(resolve))),
    poll: () => queued.shift(),
  }
}

const say = (line) => process.stdout.write(line + '\n')

/** The barrier: `ready`, then wait for the driver's `go`. */
function barrierOf(input) {
  return async () => {
    say('ready')
    const line = await input.next()
    if (line !== 'go') throw new Error(`expected 'go' from the driver, got '${line}'`)
  }
}

async function run() {
  switch (task.op) {
    case 'put': {
      const ms = await engine.put(task.dir, data.keys(task.n), data.values(task.n), task.durable)
      return { ms, opsPerSec: (task.n / ms) * 1e3 }
    }
    case 'asyncPut': {
      const ms = await engine.asyncPut(task.dir, data.keys(task.n), data.values(task.n), task.durable)
      return { ms, opsPerSec: (task.n / ms) * 1e3 }
    }
    case 'batch': {
      const ms = await engine.batch(task.dir, data.keys(task.n), data.values(task.n))
      const du = diskUsage(task.dir)
      return { ms, opsPerSec: (task.n / ms) * 1e3, disk: du, bytesPerEntry: du.allocated / task.n, apparentPerEntry: du.apparent / task.n }
    }
    case 'populate': {
      const t = performance.now()
      await engine.populate(task.dir, data.keys(task.n), data.values(task.n))
      return { ms: performance.now() - t, disk: diskUsage(task.dir) }
    }
    case 'reads': {
      const keys = data.keys(task.n)
      const vals = data.values(task.n)
      await engine.populate(task.dir, keys, vals)
      const idx = data.order(task.gets, task.n)
      const absent = data.keys(task.n, task.n) // key-<n> .. key-<2n-1>: never written
      const r = await engine.reads(task.dir, keys, vals, idx, absent, task.warm)
      return {
        getMs: r.getMs,
        absentMs: r.absentMs,
        getOpsPerSec: (task.gets / r.getMs) * 1e3,
        absentOpsPerSec: (task.gets / r.absentMs) * 1e3,
      }
    }
    case 'getFloor': {
      // The same keys and order as 'reads', in stores of ours, lmdb and classic-level side by side (see floors.mjs).
      const keys = data.keys(task.n)
      const vals = data.values(task.n)
      for (const name of ['ours', 'lmdb', 'classic-level']) await ENGINES[name].populate(task.dir, keys, vals)
      return getFloor(task.dir, keys, data.order(task.gets, task.n), task.warm)
    }
    case 'asyncFloor': {
      // No store: the same keys, values and loop as 'asyncPut' (see floors.mjs).
      return { ms: await asyncFloor(data.keys(task.n), data.values(task.n)) }
    }
    case 'large': {
      const vals = data.largeValues(task.count)
      const keys = data.keys(task.count)
      for (const sub of ['large', 'small']) fs.mkdirSync(path.join(task.dir, sub), { recursive: true })
      const r = await engine.large(path.join(task.dir, 'large'), keys, vals, task.passes)
      // The same procedure with 64-byte values, in a fresh store: a read whose
      // cost does not depend on the value's size (zero-copy) takes as long for
      // both once warm (the first pass also pays for first-touch page faults).
      const small = await engine.large(path.join(task.dir, 'small'), keys, data.values(task.count), task.passes)
      // What copying a 1 MiB value costs here (Buffer.copy into one reused target).
      const target = Buffer.allocUnsafe(vals[0].length)
      const copyMs = []
      for (let p = 0; p < 5; p++) {
        const t = performance.now()
        for (let i = 0; i < task.count; i++) vals[i].copy(target)
        copyMs.push(performance.now() - t)
      }
      copyMs.sort((a, b) => a - b)
      const bytes = vals[0].length * task.count
      // Warm: the median pass after the first.
      const warmUs = (ms) => {
        const rest = ms.slice(1).sort((a, b) => a - b)
        return rest.length ? (rest[rest.length >> 1] * 1e3) / task.count : (ms[0] * 1e3) / task.count
      }
      return {
        writeMs: r.writeMs,
        readMs: r.readMs,
        writeMBps: bytes / 1e6 / (r.writeMs / 1e3),
        readMBps: (bytes * task.passes) / 1e6 / (r.readMs / 1e3),
        readUsPerValue: (r.readMs * 1e3) / (task.count * task.passes),
        firstPassUsPerValue: (r.passMs[0] * 1e3) / task.count,
        warmUsPerValue: warmUs(r.passMs),
        warmUsPerSmallValue: warmUs(small.passMs),
        copyUsPerValue: (copyMs[2] * 1e3) / task.count,
      }
    }
    case 'putShared': {
      // Row (i): process `part` of `procs` writes keys [part * n/procs, (part + 1) * n/procs).
      const per = task.n / task.procs
      const from = task.part * per
      const vals = data.values(task.n).slice(from, from + per)
      return engine.putShared(task.dir, data.keys(per, from), vals, barrierOf(driverLines()))
    }
    case 'verify': {
      return engine.verify(task.dir, data.keys(task.n), data.values(task.n))
    }
    case 'getsShared': {
      // Row (j), the reader: row (c)'s keys and order, in a store the driver populated.
      const keys = data.keys(task.n)
      const r = await engine.getsShared(task.dir, keys, data.values(task.n), data.order(task.gets, task.n), task.warm, barrierOf(driverLines()))
      return { ...r, getOpsPerSec: (task.gets / r.ms) * 1e3 }
    }
    case 'writeShared': {
      // Row (j), the writer: writes until the driver sends `stop <start> <end>`,
      // then reports its rate over that span (the reader's timed gets).
      const input = driverLines()
      let stop = null
      const marks = await engine.writeUntil(
        task.dir,
        data.values(task.n),
        barrierOf(input),
        () => say('writing'),
        () => (stop = stop ?? input.poll() ?? null) !== null,
      )
      const [word, a, b] = stop.split(' ')
      if (word !== 'stop') throw new Error(`expected 'stop' from the driver, got '${stop}'`)
      const span = (lo, hi) => {
        // The first mark at or after lo, the last at or before hi.
        const i = marks.findIndex((m) => m[0] >= lo)
        let j = marks.length - 1
        while (j >= 0 && marks[j][0] > hi) j--
        return i >= 0 && j > i ? { writes: marks[j][1] - marks[i][1], ms: (marks[j][0] - marks[i][0]) / 1e6 } : null
      }
      const all = span(marks[0][0], Infinity)
      const during = span(Number(a), Number(b))
      return {
        writes: all.writes,
        ms: all.ms,
        writesPerSec: (all.writes / all.ms) * 1e3,
        writesDuring: during ? during.writes : null,
        writesPerSecDuring: during ? (during.writes / during.ms) * 1e3 : null,
      }
    }
    case 'reopen': {
      return { ms: await engine.reopen(task.dir, task.key) }
    }
    case 'memory': {
      // RSS of our index: open an empty store, then a store of task.n keys.
      const { DataStore } = await import('../lib/index.mjs')
      const status = () => {
        const s = fs.readFileSync('/proc/self/status', 'utf8')
        const kb = (name) => Number((s.match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm')) || [0, 0])[1]) * 1024
        return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile') }
      }
      const settle = () => {
        for (let i = 0; i < 3; i++) globalThis.gc?.()
      }
      const empty = DataStore.open(path.join(task.dir, 'empty.bin'))
      empty.write('warm', 'x') // load every code path an open store uses
      settle()
      const before = status()
      const t = performance.now()
      const big = DataStore.open(task.big)
      const openMs = performance.now() - t
      settle()
      const after = status()
      const len = big.len()
      big.close()
      empty.close()
      return {
        keys: len,
        openMs,
        before,
        after,
        rssPerKey: (after.rss - before.rss) / len,
        anonPerKey: (after.anon - before.anon) / len,
        filePerKey: (after.file - before.file) / len,
      }
    }
    case 'streamMemory': {
      // Peak RSS growth of one AsyncDataStore.writeStream (see streams.mjs); run with --expose-gc.
      return streamMemory({ dir: task.dir, kind: task.kind, total: task.total, chunkSize: task.chunkSize, lib: task.lib })
    }
    default:
      throw new Error(`unknown task ${task.op}`)
  }
}

run().then(
  (r) => {
    process.stdout.write(JSON.stringify(r) + '\n')
    // lmdb / classic-level keep native threads; do not wait for them.
    process.exit(0)
  },
  (err) => {
    process.stderr.write(`${err && err.stack ? err.stack : err}\n`)
    process.exit(1)
  },
)
