// Several processes on one store (the default open mode): every process
// opens the same path and reads and writes; writes serialize on an append
// lock, land whole in lock order, and a write acknowledged in one process is
// visible to every read another process starts afterwards, without
// reopening. Compaction in one process moves the others to the new file;
// a writer SIGKILLed mid-append loses nothing anyone acknowledged.
//
// Payloads are self-describing (`key:version:` then bytes derived from both,
// helpers/mp-common.mjs), so every read can be checked for exact bytes.
//
// About 25 s on 2 cores. More kills in the kill test:
//   SRD_MP_KILLS=300 npx ava __test__/multiprocess.test.mjs
import test from 'ava'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { DataStore } from '../lib/index.mjs'
import { tmpFile } from './helpers/store.mjs'
import { rng } from './helpers/payload.mjs'
import { AckLog, checkPayload, expectClean, lastJson, mpPayload, sleep, startChild } from './helpers/mp-common.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const helper = (name) => path.join(here, 'helpers', name)
const CLUSTER = helper('mp-cluster.mjs')
const PINGPONG = helper('mp-pingpong.mjs')
const RACE = helper('mp-race.mjs')
const WRITER = helper('mp-writer.mjs')
const VERIFY = helper('mp-verify.mjs')
const READER = helper('mp-reader.mjs')
const COMPACTOR = helper('mp-compactor.mjs')
const ASYNC = helper('mp-async.mjs')
const ACK_COMPACT = helper('mp-ack-compact.mjs')
const KILLS = Number(process.env.SRD_MP_KILLS ?? 30)

/** Kills (SIGKILL) every child still running when the test ends. */
function reaper(t) {
  const children = []
  t.teardown(async () => {
    for (const c of children) {
      if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL')
    }
    await Promise.all(children.map((c) => c.exited))
  })
  return (c) => {
    children.push(c)
    return c
  }
}

/** The PENDING word of a shared page (informational only). */
function readPending(shm) {
  const fd = fs.openSync(shm, 'r')
  try {
    const b = Buffer.alloc(8)
    fs.readSync(fd, b, 0, 8, 16)
    return b.readBigUInt64LE(0)
  } finally {
    fs.closeSync(fd)
  }
}

/** Checks every key of `expect` (`Map` key -> version) in `store`: exact bytes of that version, or newer with `atLeast`. */
function checkStore(store, expect, atLeast) {
  const errors = []
  for (const [k, v] of expect) {
    const h = store.read(k)
    if (h === null) {
      errors.push(`${k} missing (acknowledged version ${v})`)
      continue
    }
    const c = checkPayload(h.bytes, k)
    if (typeof c === 'string') errors.push(c)
    else if (atLeast ? c.version < v : c.version !== v) errors.push(`${k}: version ${c.version}, acknowledged ${v}`)
    if (errors.length >= 20) break
  }
  return errors
}

/** Every entry iteration yields is an exact payload; returns [count, errors]. */
function checkIteration(store) {
  const errors = []
  let n = 0
  for (const h of store) {
    n++
    const c = checkPayload(h.bytes)
    if (typeof c === 'string' && errors.length < 20) errors.push(`iteration: ${c}`)
  }
  return [n, errors]
}

// ---- 1. a node:cluster of writers ----------------------------------------------------

test.serial('cluster: 4 workers write 2000 keys each (write, batchWrite, async) and each then reads all the others\' without reopening', async (t) => {
  const { file } = tmpFile(t)
  const WORKERS = 4
  const PER = 2000
  const TOTAL = WORKERS * PER
  const started = Date.now()
  const c = startChild(CLUSTER, [file, WORKERS, PER], { timeoutMs: 60_000 })
  const { code, signal, timedOut } = await c.exited
  t.false(timedOut, `the cluster hung\n${c.stderr()}`)
  if (!c.lines.some((l) => l.startsWith('{'))) return t.fail(`the primary printed no report (exit ${code ?? signal}):\n${c.stderr()}`)
  const r = lastJson(c.lines)
  t.deepEqual(r.errors, [], c.stderr())
  t.is(code, 0, `primary exited with ${code ?? signal}\n${c.stderr()}`)
  t.true(r.ok)
  t.deepEqual(r.exits, { 1: 0, 2: 0, 3: 0, 4: 0 })
  t.is(r.results.length, WORKERS)
  for (const w of r.results) {
    t.deepEqual(w.errors, [], `worker ${w.id}`)
    t.is(w.checked, TOTAL, `worker ${w.id} read every key`)
    t.is(w.len, TOTAL, `worker ${w.id}: len()`)
    t.is(w.asyncLen, TOTAL, `worker ${w.id}: AsyncDataStore len()`)
    t.is(w.iter, TOTAL, `worker ${w.id}: iteration count`)
    t.is(w.iterDistinct, TOTAL, `worker ${w.id}: iteration keys`)
  }
  for (const d of r.done) t.true(d.tailsIncreasing, `worker ${d.id}: each write returned a larger tail than the one before`)
  // every worker sees the same tail, the largest any worker was acknowledged
  const sizes = new Set(r.results.map((w) => w.fileSize))
  t.is(sizes.size, 1, `fileSize() differs between workers: ${[...sizes]}`)
  const lastTail = Math.max(...r.done.map((d) => d.lastTail))
  t.is(r.results[0].fileSize, lastTail)

  // the shared page, and a fresh open here sees the same store
  t.is(fs.statSync(`${file}.shm`).size, 4096)
  const s = DataStore.open(file)
  t.teardown(() => s.close())
  t.is(s.len(), TOTAL)
  t.is(s.fileSize(), lastTail)
  t.is(fs.statSync(file).size, lastTail)
  const expect = new Map()
  for (let id = 1; id <= WORKERS; id++) for (let i = 0; i < PER; i++) expect.set(`c${id}-${i}`, id)
  t.deepEqual(checkStore(s, expect, false), [])
  const [n, iterErrors] = checkIteration(s)
  t.is(n, TOTAL)
  t.deepEqual(iterErrors, [])
  t.deepEqual(s.verify(), [])
  const cross = r.results.reduce((a, w) => a + w.crossSeen, 0)
  t.log(`${TOTAL} writes from ${WORKERS} workers in ${r.ms} ms; ${cross} reads of other workers' keys while writing; ${Date.now() - started} ms in all`)
})

// ---- 2. same keys from two processes ------------------------------------------------

test.serial('ping-pong: two processes take turns writing the same 40 keys for 50 rounds, each sees the other\'s writes without reopening', async (t) => {
  const { file } = tmpFile(t)
  const reap = reaper(t)
  const KEYS = 40
  const ROUNDS = 50
  const started = Date.now()
  const sides = [0, 1].map((side) => reap(startChild(PINGPONG, [file, side, KEYS], { timeoutMs: 60_000 })))
  await Promise.all(sides.map((c) => c.nextLine((l) => l === 'ready')))
  let tail = 0
  const errors = []
  for (let round = 0; round < ROUNDS; round++) {
    for (const [side, c] of sides.entries()) {
      c.send(`go ${round} ${tail}`)
      const line = await c.nextLine((l) => l.startsWith(`done ${round} `))
      const [, , tailText, ...rest] = line.split(' ')
      const next = Number(tailText)
      if (!(next > tail)) errors.push(`round ${round} side ${side}: tail ${next} after ${tail}`)
      tail = next
      for (const e of JSON.parse(rest.join(' '))) errors.push(`round ${round} side ${side}: ${e}`)
    }
  }
  for (const c of sides) c.send('exit')
  await Promise.all(sides.map((c, i) => expectClean(c, `side ${i}`)))
  t.deepEqual(errors.slice(0, 20), [])

  // last write wins: side 1's last round
  const s = DataStore.open(file)
  t.teardown(() => s.close())
  const last = (ROUNDS - 1) * 2 + 1
  t.deepEqual(checkStore(s, new Map(Array.from({ length: KEYS }, (_, i) => [`pp${i}`, last])), false), [])
  t.is(s.len(), KEYS)
  t.is(s.fileSize(), tail)
  t.log(`${ROUNDS} rounds x 2 sides x ${KEYS} keys in ${Date.now() - started} ms`)
})

test.serial('race: two processes write the same keys with no coordination; each key ends with the write that returned the larger tail', async (t) => {
  const { dir, file } = tmpFile(t)
  const reap = reaper(t)
  const KEYS = 64
  const OPS = 3000
  const logs = [0, 1].map((side) => path.join(dir, `race-${side}.json`))
  const sides = [0, 1].map((side) => reap(startChild(RACE, [file, side, KEYS, OPS, logs[side]], { timeoutMs: 60_000 })))
  await Promise.all(sides.map((c) => c.nextLine((l) => l === 'ready')))
  for (const c of sides) c.send('go')
  const outs = await Promise.all(sides.map((c, i) => expectClean(c, `racer ${i}`)))
  const summaries = outs.map(lastJson)
  for (const sm of summaries) {
    t.true(sm.ok)
    t.true(sm.increasing, 'each process saw its tails increase')
  }
  const writes = logs.map((p) => JSON.parse(fs.readFileSync(p, 'utf8')))

  // tails are file offsets handed out in lock order: the two processes never share one
  const tails0 = new Set(writes[0].map((w) => w[2]))
  const shared = writes[1].filter((w) => tails0.has(w[2]))
  t.deepEqual(shared.slice(0, 5), [], 'two processes were acknowledged the same tail')

  // the appends interleaved (otherwise this test tested nothing concurrent)
  const merged = [...writes[0].map((w) => [...w, 0]), ...writes[1].map((w) => [...w, 1])].sort((a, b) => a[2] - b[2])
  let switches = 0
  for (let i = 1; i < merged.length; i++) if (merged[i][3] !== merged[i - 1][3]) switches++
  t.true(switches > 0, 'the two processes\' appends never interleaved')

  // per key, the winner is the write with the largest tail
  const winner = new Map()
  for (const [k, v, tail] of merged) winner.set(k, v) // sorted by tail: the last one stays
  const s = DataStore.open(file)
  t.teardown(() => s.close())
  t.deepEqual(checkStore(s, winner, false), [])
  t.is(s.len(), winner.size)
  t.is(s.fileSize(), merged[merged.length - 1][2])
  t.is(fs.statSync(file).size, s.fileSize())
  t.deepEqual(s.verify(), [])
  const wonBy = [0, 0]
  for (const v of winner.values()) wonBy[v % 2]++
  t.log(`${merged.length} writes, ${switches} switches between the processes in lock order; keys last written by side 0/1: ${wonBy.join('/')}`)
})

// ---- 3. SIGKILL of a writer ----------------------------------------------------------

test.serial(`kill: a writer SIGKILLed ${KILLS} times mid-write while three others keep writing; every acknowledged write survives with its exact bytes`, async (t) => {
  const { dir, file } = tmpFile(t)
  const reap = reaper(t)
  const started = Date.now()
  const next = rng(0x5eed1234)
  const SURVIVOR_KEYS = 40
  const VICTIM_KEYS = 24
  const survivors = [0, 1, 2].map((i) => {
    const log = path.join(dir, `sm${i}.log`)
    return { name: `sm${i}`, log: new AckLog(log), c: reap(startChild(WRITER, [file, `sm${i}`, SURVIVOR_KEYS, log, 1, 4, 1], { timeoutMs: 60_000 + KILLS * 3000 })) }
  })
  await Promise.all(survivors.map((w) => w.c.nextLine((l) => l === 'ready')))
  // a long-lived reader in this process: follows the others without reopening
  const reader = DataStore.open(file)
  let readerOpen = true
  t.teardown(() => readerOpen && reader.close())

  const victimLogs = []
  /** Newest acknowledged version per key, over every log (read before the store is). */
  const acknowledged = () => {
    const expect = new Map()
    for (const w of survivors) for (const [k, v] of w.log.poll()) expect.set(k, v)
    for (const log of victimLogs) for (const [k, v] of log.poll()) if (!(expect.get(k) >= v)) expect.set(k, v)
    return expect
  }
  const assertSurvivorsRunning = (when) => {
    for (const w of survivors) {
      if (w.c.child.exitCode !== null || w.c.child.signalCode !== null) {
        t.fail(`${w.name} died ${when} (${w.c.child.exitCode ?? w.c.child.signalCode}):\n${w.c.stderr()}`)
        return false
      }
    }
    return true
  }

  let victimAcked = 0
  let killedAfterAck = 0
  let heldLock = 0
  const failures = []
  for (let kill = 0; kill < KILLS; kill++) {
    const logPath = path.join(dir, `big-${kill}.log`)
    const victimLog = new AckLog(logPath)
    victimLogs.push(victimLog)
    const victim = reap(startChild(WRITER, [file, 'big', VICTIM_KEYS, logPath, kill * 10_000_000 + 1, 0, 1], { timeoutMs: 60_000 }))
    await victim.nextLine((l) => l === 'ready')
    await sleep(5 + (next() % 56))
    victim.child.kill('SIGKILL')
    const ex = await victim.exited
    if (ex.signal !== 'SIGKILL') {
      t.fail(`victim ${kill} ended by itself (${ex.code ?? ex.signal}) before the kill:\n${victim.stderr()}`)
      break
    }
    // informational: PENDING (offset 16 of the shared page, see crates/engine/src/shared/page.rs)
    // still set when looked at after the kill: the victim most likely died holding the append
    // lock (an underestimate: a surviving writer settles it within a millisecond or so)
    if (readPending(`${file}.shm`) !== 0n) heldLock++
    if (!assertSurvivorsRunning(`after kill ${kill}`)) break

    const expect = acknowledged()
    const acked = victimLog.lines
    victimAcked += acked
    if (acked > 0) killedAfterAck++
    // the long-lived reader, then a fresh open in another process
    for (const e of checkStore(reader, expect, true)) failures.push(`kill ${kill}, long-lived reader: ${e}`)
    const expectPath = path.join(dir, 'expect.json')
    fs.writeFileSync(expectPath, JSON.stringify(Object.fromEntries(expect)))
    const v = reap(startChild(VERIFY, [file, expectPath, 'atLeast'], { timeoutMs: 60_000 }))
    const res = lastJson(await expectClean(v, `verifier after kill ${kill}`))
    for (const e of res.errors) failures.push(`kill ${kill}, fresh open: ${e}`)
    if (failures.length > 0) break
  }
  t.deepEqual(failures.slice(0, 20), [])

  // stop the survivors: each must end cleanly, never having thrown
  for (const w of survivors) w.c.send('stop')
  const summaries = []
  for (const w of survivors) {
    const out = await expectClean(w.c, w.name)
    summaries.push(lastJson(out))
  }
  for (const sm of summaries) t.true(sm.ok)
  const expect = acknowledged()
  reader.close()
  readerOpen = false

  // nobody attached now: a fresh open here rebuilds from the file
  const s = DataStore.open(file)
  t.teardown(() => s.close())
  const exact = new Map([...expect].filter(([k]) => k.startsWith('sm')))
  const victims = new Map([...expect].filter(([k]) => k.startsWith('big')))
  t.deepEqual(checkStore(s, exact, false), [], 'the survivors\' last acknowledged versions, exactly')
  // a write the victim made but was killed before logging can be newer than its log says
  t.deepEqual(checkStore(s, victims, true), [], 'the victim\'s acknowledged versions (or newer)')
  // every live key is one some writer wrote (a victim's write cut off before it was logged may add one)
  const [n, iterErrors] = checkIteration(s)
  t.is(n, s.len())
  t.deepEqual(iterErrors, [])
  const universe = new Set([...survivors.flatMap((w) => Array.from({ length: SURVIVOR_KEYS }, (_, i) => `${w.name}-${i}`)), ...Array.from({ length: VICTIM_KEYS }, (_, i) => `big-${i}`)])
  const live = [...s].map((h) => checkPayload(h.bytes).key)
  t.deepEqual(live.filter((k) => !universe.has(k)), [])
  t.true(s.len() >= expect.size)
  t.deepEqual(s.verify(), [])
  t.is(fs.statSync(file).size, s.fileSize(), 'no torn bytes left past the tail')
  const survivorWrites = summaries.reduce((a, sm) => a + sm.writes + sm.asyncs + sm.batches * 4, 0)
  t.log(`${KILLS} kills (${killedAfterAck} after at least one acknowledged write, ${heldLock} with the append lock's PENDING word still set when looked at); victim acknowledged ${victimAcked} writes; survivors ${survivorWrites} writes; file ${(s.fileSize() / 1e6).toFixed(1)} MB; ${Date.now() - started} ms`)
})

// ---- 4. compaction across processes --------------------------------------------------

test.serial('compaction: one process compacts 20 times while another writes and a third reads; nothing lost, reads exact, held handles intact', async (t) => {
  const { dir, file } = tmpFile(t)
  const reap = reaper(t)
  const KEYS = 64
  const COUNT = 20
  const started = Date.now()
  // every key exists before the others start (the reader expects each to be there)
  {
    const s = DataStore.open(file)
    for (let i = 0; i < KEYS; i++) s.write(`cw-${i}`, mpPayload(`cw-${i}`, 0))
    s.close()
  }
  const wlogPath = path.join(dir, 'cw.log')
  const W = reap(startChild(WRITER, [file, 'cw', KEYS, wlogPath, 1, 1, 0], { timeoutMs: 120_000 }))
  const R = reap(startChild(READER, [file, 'cw', KEYS, wlogPath], { timeoutMs: 120_000 }))
  const C = reap(startChild(COMPACTOR, [file, 'cw', KEYS, COUNT, 60], { timeoutMs: 120_000 }))
  await Promise.all([W, R, C].map((c) => c.nextLine((l) => l === 'ready')))
  C.send('go')
  const cOut = lastJson(await expectClean(C, 'compactor'))
  for (const c of [W, R]) c.send('stop')
  const wOut = lastJson(await expectClean(W, 'writer'))
  const rOut = lastJson(await expectClean(R, 'reader'))

  t.deepEqual(cOut.errors, [], 'compactor')
  t.is(cOut.runs.length, COUNT)
  const shrank = cOut.runs.filter((r) => r.after < r.before).length
  t.true(shrank > 0, 'the file shrank at least once')
  // the reader's checks, by kind (each: a count and the first messages)
  for (const kind of ['missing', 'bytes', 'wentBack', 'keptHandle', 'iteration', 'len']) t.is(rOut.errors[kind], undefined, `reader: ${kind}`)
  t.true(rOut.shrinksSeen > 0, 'the reader moved to a compacted file')
  t.true(rOut.keptAcrossShrink > 0, 'the reader held handles across a compaction')
  t.true(rOut.ackedKeysChecked > 0)
  t.true(wOut.ok)

  const acked = new AckLog(wlogPath).poll()
  const expect = new Map(Array.from({ length: KEYS }, (_, i) => [`cw-${i}`, acked.get(`cw-${i}`) ?? 0]))
  const s = DataStore.open(file)
  t.teardown(() => s.close())
  t.deepEqual(checkStore(s, expect, false), [], 'every key holds the writer\'s last acknowledged version')
  t.is(s.len(), KEYS)
  t.deepEqual(s.verify(), [])
  t.is(fs.statSync(file).size, s.fileSize())
  const writes = wOut.writes + wOut.asyncs + wOut.batches * 4
  t.log(`${COUNT} compactions (${shrank} shrank the file, ${cOut.runs.map((r) => r.ms).reduce((a, b) => a + b, 0)} ms in compact()); writer ${writes} writes; reader ${rOut.reads} reads, ${rOut.ackedKeysChecked} checks of acknowledged versions, ${rOut.shrinksSeen} shrinks seen, ${rOut.keptChecks} held-handle checks; ${Date.now() - started} ms`)
  // last (ava reports the first failed assertion only): every read the reader
  // started after a write was acknowledged (logged) saw it
  t.is(rOut.errors.staleAfterAck, undefined, 'reader: a read started after a write was acknowledged did not see it')
})

test.serial('compaction: a write acknowledged in one process just before it compacts is seen by reads another process starts during the compaction', async (t) => {
  const { file } = tmpFile(t)
  const reap = reaper(t)
  // a store large enough that compact() takes a while (40 MB of live data)
  const s = DataStore.open(file)
  t.teardown(() => s.close())
  const big = Buffer.alloc(64 << 10, 7)
  for (let i = 0; i < 640; i++) s.write(`bulk${i}`, big)
  s.write('k', mpPayload('k', 0))
  t.is(checkPayload(s.read('k').bytes, 'k').version, 0)
  const len0 = s.len()

  const seen = []
  let compacted = false
  let acked = false
  const a = reap(
    startChild(ACK_COMPACT, [file], {
      timeoutMs: 60_000,
      onLine: (line) => {
        if (line.startsWith('compacted')) compacted = true
        if (line.startsWith('acked')) acked = true
      },
    }),
  )
  await a.nextLine((l) => l.startsWith('acked'))
  t.true(acked)
  // every read from here on starts after the writes were acknowledged; A is
  // now compacting (or about to): read until it says it is done
  while (!compacted) {
    const h = s.read('k')
    const c = h === null ? 'missing' : checkPayload(h.bytes, 'k')
    seen.push({ k: typeof c === 'string' ? c : c.version, fresh: s.exists('fresh'), len: s.len() })
    await sleep(1)
  }
  await expectClean(a, 'the compacting writer')
  const after = { k: checkPayload(s.read('k').bytes, 'k').version, fresh: s.exists('fresh'), len: s.len() }
  const stale = seen.filter((r) => r.k !== 1 || !r.fresh || r.len !== len0 + 1)
  t.log(`${seen.length} reads between the acknowledgement and the end of the other process's compaction (${a.lines.at(-1)} ms); ${stale.length} missed the acknowledged writes`)
  t.true(seen.length > 0)
  t.deepEqual(stale.slice(0, 3), [], `reads started after the writes were acknowledged: first ${JSON.stringify(stale[0])}, expected { k: 1, fresh: true, len: ${len0 + 1} }`)
  t.deepEqual(after, { k: 1, fresh: true, len: len0 + 1 })
})

// ---- 5. AsyncDataStore in two processes ----------------------------------------------

test.serial('async: two processes write 3000 keys each through AsyncDataStore at once; each sees all of the other\'s', async (t) => {
  const { file } = tmpFile(t)
  const reap = reaper(t)
  const N = 3000
  const sides = [0, 1].map((side) => reap(startChild(ASYNC, [file, side, N], { timeoutMs: 60_000 })))
  await Promise.all(sides.map((c) => c.nextLine((l) => l === 'ready')))
  for (const c of sides) c.send('go')
  await Promise.all(sides.map((c) => c.nextLine((l) => l === 'done')))
  for (const c of sides) c.send('check')
  const outs = (await Promise.all(sides.map((c, i) => expectClean(c, `async side ${i}`)))).map(lastJson)
  for (const [i, o] of outs.entries()) {
    t.deepEqual(o.errors, [], `side ${i}`)
    t.true(o.tailsOk, `side ${i}: one tail per write`)
    t.is(o.writes, N)
    t.is(o.len, 2 * N, `side ${i}: len()`)
    t.is(o.iter, 2 * N, `side ${i}: entries()`)
  }
  t.is(outs[0].size, outs[1].size)
  const s = DataStore.open(file)
  t.teardown(() => s.close())
  const expect = new Map()
  for (const side of [0, 1]) for (let i = 0; i < N; i++) expect.set(`a${side}-${i}`, side)
  t.deepEqual(checkStore(s, expect, false), [])
  t.is(s.len(), 2 * N)
  t.is(s.fileSize(), outs[0].size)
})
