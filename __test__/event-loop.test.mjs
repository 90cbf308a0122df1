// Event-loop lag (issue 3, "done means"): while 256 MiB of async batchWrite
// calls proceed, a 10 ms interval timer keeps firing: no gap reaches 50 ms.
import test from 'ava'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { AsyncDataStore } from '../lib/index.mjs'

const KiB = 1024
const MiB = 1024 * KiB
const BATCHES = 64
const PER_BATCH = 16
const SIZE = 256 * KiB // 64 × 16 × 256 KiB = 256 MiB

function tmpDir(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'srd-lag-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** 16 distinct 256 KiB payloads (reused across batches under distinct keys). */
function payloads() {
  return Array.from({ length: PER_BATCH }, (_, j) => {
    const b = Buffer.alloc(SIZE, 0x30 + j)
    b.writeUInt32LE(j, 0)
    return b
  })
}

/** Starts a 10 ms interval recording the gaps between its ticks, and a delay histogram. */
function startLagProbe() {
  const h = monitorEventLoopDelay({ resolution: 5 })
  h.enable()
  let last = performance.now()
  let maxGap = 0
  let ticks = 0
  const timer = setInterval(() => {
    const now = performance.now()
    maxGap = Math.max(maxGap, now - last)
    last = now
    ticks++
  }, 10)
  return {
    stop() {
      clearInterval(timer)
      h.disable()
      // the time since the last tick counts too: a loop blocked at the end would hide there
      maxGap = Math.max(maxGap, performance.now() - last)
      return { maxGap, ticks, maxDelayMs: h.max / 1e6, p99DelayMs: h.percentile(99) / 1e6 }
    },
  }
}

async function lagDuring(t, label, work) {
  const probe = startLagProbe()
  const started = performance.now()
  await work()
  const elapsed = performance.now() - started
  // let a couple more ticks fire so the settle of the last Promise is covered
  await new Promise((r) => setTimeout(r, 25))
  const res = probe.stop()
  t.log(
    `${label}: ${elapsed.toFixed(0)} ms, ${res.ticks} ticks, max gap ${res.maxGap.toFixed(1)} ms, ` +
      `loop delay max ${res.maxDelayMs.toFixed(1)} ms p99 ${res.p99DelayMs.toFixed(1)} ms`,
  )
  t.true(res.maxGap < 50, `${label}: the 10 ms timer went ${res.maxGap.toFixed(1)} ms without firing`)
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

test.serial('a 10 ms timer keeps firing (< 50 ms gaps) while 256 MiB of concurrent async batchWrite calls proceed', async (t) => {
  const dir = tmpDir(t)
  const store = await AsyncDataStore.open(path.join(dir, 'store.bin'))
  t.teardown(() => store.close())
  const data = payloads()
  // the batches are built before the probe starts: only the store's work is measured
  const batches = Array.from({ length: BATCHES }, (_, b) => data.map((p, j) => [`c-${b}-${j}`, p]))
  await lagDuring(t, 'all 64 batches issued at once', async () => {
    const tails = await Promise.all(batches.map((entries) => store.batchWrite(entries)))
    for (let i = 1; i < tails.length; i++) t.true(tails[i] > tails[i - 1])
  })
  await checkLanded(t, store, 'c')
})

test.serial('a 10 ms timer keeps firing (< 50 ms gaps) while 256 MiB of batchWrite calls are issued in a loop without awaiting each', async (t) => {
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
