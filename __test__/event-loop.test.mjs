// Event-loop lag (issue 3, "done means"; made load-proof in issue 14, part 6):
// while 256 MiB of async batchWrite calls proceed, a 10 ms interval timer keeps
// firing: no gap reaches 50 ms of the JS thread's own time.
//
// A gap between two ticks is wall time, and on a busy machine (a parallel
// build: the test failed once so) much of it can be time the JS thread was
// ready to run but waited for a CPU. That is not the loop being blocked, so
// it is taken out: Linux counts, per thread, the time spent waiting on a run
// queue (/proc/thread-self/schedstat, second field), read at every tick. What
// remains of a gap is the thread running (JS, GC, native calls) or sleeping
// (idle in epoll, or blocked in a syscall or on a lock): only a real block of
// the loop, a synchronous wait or computation of tens of ms on the JS thread,
// makes it reach 50 ms. Where schedstat is not available, the raw gap is used.
import test from 'ava'
import fs from 'node:fs'
import path from 'node:path'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { AsyncDataStore } from '../lib/index.mjs'
import { tmpDir } from './helpers/store.mjs'

const KiB = 1024
const MiB = 1024 * KiB
const BATCHES = 64
const PER_BATCH = 16
const SIZE = 256 * KiB // 64 × 16 × 256 KiB = 256 MiB

/** 16 distinct 256 KiB payloads (reused across batches under distinct keys). */
function payloads() {
  return Array.from({ length: PER_BATCH }, (_, j) => {
    const b = Buffer.alloc(SIZE, 0x30 + j)
    b.writeUInt32LE(j, 0)
    return b
  })
}

/** Nanoseconds the JS thread has waited on a run queue (ready, not running), or null. */
function runQueueWaitNs() {
  try {
    return Number(fs.readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ')[1])
  } catch {
    return null
  }
}

/**
 * Starts a 10 ms interval recording the gaps between its ticks, and a delay
 * histogram. Each gap is also measured without the time the thread waited
 * for a CPU (see the file comment): `maxHeld`.
 */
function startLagProbe() {
  const h = monitorEventLoopDelay({ resolution: 5 })
  h.enable()
  const schedstat = runQueueWaitNs() !== null
  let last = performance.now()
  let lastWait = schedstat ? runQueueWaitNs() : 0
  let maxGap = 0
  let maxHeld = 0
  let waitedMs = 0
  let ticks = 0
  const gap = () => {
    const now = performance.now()
    const wait = schedstat ? runQueueWaitNs() : 0
    const waited = (wait - lastWait) / 1e6
    maxGap = Math.max(maxGap, now - last)
    maxHeld = Math.max(maxHeld, now - last - waited)
    waitedMs += waited
    last = now
    lastWait = wait
  }
  const timer = setInterval(() => {
    gap()
    ticks++
  }, 10)
  return {
    stop() {
      clearInterval(timer)
      h.disable()
      // the time since the last tick counts too: a loop blocked at the end would hide there
      gap()
      return { schedstat, maxGap, maxHeld: schedstat ? maxHeld : maxGap, waitedMs, ticks, maxDelayMs: h.max / 1e6, p99DelayMs: h.percentile(99) / 1e6 }
    },
  }
}

/**
 * `allowance`: JS-thread time the work must spend by contract (ms, measured
 * in the same run), added to the 50 ms bound.
 */
async function lagDuring(t, label, work, allowance = 0) {
  const probe = startLagProbe()
  const started = performance.now()
  await work()
  const elapsed = performance.now() - started
  // let a couple more ticks fire so the settle of the last Promise is covered
  await new Promise((r) => setTimeout(r, 25))
  const res = probe.stop()
  t.log(
    `${label}: ${elapsed.toFixed(0)} ms, ${res.ticks} ticks, max gap ${res.maxGap.toFixed(1)} ms` +
      (res.schedstat
        ? ` (${res.maxHeld.toFixed(1)} ms without waits for a CPU; ${res.waitedMs.toFixed(0)} ms waited in all)`
        : ' (no schedstat: raw gaps)') +
      `, loop delay max ${res.maxDelayMs.toFixed(1)} ms p99 ${res.p99DelayMs.toFixed(1)} ms`,
  )
  t.true(
    res.maxHeld < 50 + allowance,
    `${label}: the 10 ms timer went ${res.maxGap.toFixed(1)} ms without firing, ${res.maxHeld.toFixed(1)} ms of it not waiting for a CPU`,
  )
  t.true(res.ticks >= 1, `${label}: the timer fired during the work`)
  return res
}

async function checkLanded(t, store, prefix) {
  t.is(await store.len(), BATCHES * PER_BATCH)
  const keys = []
  for (let b = 0; b < BATCHES; b += 7) for (let j = 0; j < PER_BATCH; j += 5) keys.push([`${prefix}-${b}-${j}`, j])
  const hs = await store.batchRead(keys.map(([k]) => k))
  t.true(
    hs.every((h, i) => h !== null && h.size === SIZE && h.bytes.readUInt32LE(0) === keys[i][1] && h.bytes[SIZE - 1] === 0x30 + keys[i][1]),
    'the batches landed',
  )
  t.true((await store.fileSize()) >= BATCHES * PER_BATCH * SIZE)
}

test.serial('a 10 ms timer keeps firing (no gap of 50 ms of the JS thread’s own time) while 256 MiB of concurrent async batchWrite calls proceed', async (t) => {
  const dir = tmpDir(t)
  const store = await AsyncDataStore.open(path.join(dir, 'store.bin'))
  t.teardown(() => store.close())
  const data = payloads()
  // the batches are built before the probe starts: only the store's work is measured
  const batches = Array.from({ length: BATCHES }, (_, b) => data.map((p, j) => [`c-${b}-${j}`, p]))
  // Issuing 64 batches in one tick copies their 256 MiB on the JS thread by
  // contract (a payload is taken at the call: JS may detach or reuse its
  // buffer right after). That copy, timed here in the same run, is allowed on
  // top of the bound; anything more is the store blocking the loop.
  const copyStarted = performance.now()
  let copied = 0
  for (const entries of batches) for (const [, p] of entries) copied += new Uint8Array(p).length
  const copyMs = performance.now() - copyStarted
  t.is(copied, BATCHES * PER_BATCH * SIZE)
  await lagDuring(
    t,
    `all 64 batches issued at once (their copy alone: ${copyMs.toFixed(0)} ms)`,
    async () => {
      const tails = await Promise.all(batches.map((entries) => store.batchWrite(entries)))
      for (let i = 1; i < tails.length; i++) t.true(tails[i] > tails[i - 1])
    },
    1.5 * copyMs,
  )
  await checkLanded(t, store, 'c')
})

test.serial('a 10 ms timer keeps firing (no gap of 50 ms of the JS thread’s own time) while 256 MiB of batchWrite calls are issued in a loop without awaiting each', async (t) => {
  const dir = tmpDir(t)
  const store = await AsyncDataStore.open(path.join(dir, 'store.bin'))
  t.teardown(() => store.close())
  const data = payloads()
  await lagDuring(t, 'one batch per turn of the loop', async () => {
    const pending = []
    for (let b = 0; b < BATCHES; b++) {
      pending.push(store.batchWrite(data.map((p, j) => [`l-${b}-${j}`, p])))
      // yield to the loop between issues, so the batches form several group commits
      await new Promise((r) => setImmediate(r))
    }
    const tails = await Promise.all(pending)
    for (let i = 1; i < tails.length; i++) t.true(tails[i] > tails[i - 1])
  })
  await checkLanded(t, store, 'l')
  // reads of the fresh 256 MiB (a view refresh over the grown file) do not stall the loop either
  await lagDuring(t, 'reading back every entry', async () => {
    let n = 0
    for await (const e of store.entries()) n += e.size > 0 ? 1 : 0
    t.is(n, BATCHES * PER_BATCH)
    await store.verify()
  })
})
