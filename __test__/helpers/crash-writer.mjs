// Child process of crash.test.mjs: writes to one store in a loop until it is
// killed (SIGKILL), printing every operation before it is issued and every
// acknowledgement after the call returned. Lines go out with a blocking
// fs.writeSync(1) (process.stdout is never touched: Node would make the pipe
// non-blocking and queue lines that a kill then loses), so a printed line is
// in the pipe before the next store call begins.
//
//   node crash-writer.mjs FILE MODE VERSION_BASE SEED
//
// MODE: single (sync write/delete, now and then a compaction), batch (sync
// batchWrite / batchDelete, now and then of more than 4,096 entries), async (AsyncDataStore, bursts of concurrent
// writes and deletes coalesced by group commit).
// Lines: `READY`; `I <op> w <key> <version>` and `I <op> d <key>` (issued);
// `A <op>` (acknowledged); `C` / `c` (compaction started / done).
import fs from 'node:fs'
import { DataStore, AsyncDataStore } from '../../lib/index.mjs'
import { payloadFor, rng } from './payload.mjs'

const [file, mode, versionBaseArg, seedArg] = process.argv.slice(2)
const KEYS = 2048
const opts = { huge: true }
let version = Number(versionBaseArg)
const next = rng(Number(seedArg))
const rand = (n) => next() % n
let opId = 0
const out = (line) => fs.writeSync(1, line + '\n')
const key = () => `k${rand(KEYS)}`

function issueWrite(k) {
  const id = opId++
  const v = version++
  out(`I ${id} w ${k} ${v}`)
  return [id, payloadFor(k, v, opts)]
}
function issueDelete(k) {
  const id = opId++
  out(`I ${id} d ${k}`)
  return id
}

async function runSingle() {
  const store = DataStore.open(file)
  out('READY')
  for (;;) {
    const r = rand(1000)
    if (r < 2) {
      out('C')
      store.compact()
      out('c')
    } else if (r < 150) {
      const k = key()
      const id = issueDelete(k)
      store.delete(k)
      out(`A ${id}`)
    } else {
      const k = key()
      const [id, p] = issueWrite(k)
      store.write(k, p)
      out(`A ${id}`)
    }
  }
}

async function runBatch() {
  const store = DataStore.open(file)
  out('READY')
  for (;;) {
    if (rand(20) === 0) {
      // A batch of more than one part (the binding converts and appends it
      // part by part, on two threads); keys may repeat: the later one wins.
      const ops = []
      for (let i = 4097 + rand(4000); i > 0; i--) {
        const k = key()
        ops.push([k, ...issueWrite(k)])
      }
      store.batchWrite(ops.map(([k, , p]) => [k, p]))
      for (const [, id] of ops) out(`A ${id}`)
      continue
    }
    const n = 1 + rand(40)
    const keys = new Set()
    while (keys.size < n) keys.add(key())
    if (rand(8) === 0) {
      const ids = [...keys].map((k) => issueDelete(k))
      store.batchDelete([...keys])
      for (const id of ids) out(`A ${id}`)
    } else {
      const ops = [...keys].map((k) => [k, ...issueWrite(k)])
      store.batchWrite(ops.map(([k, , p]) => [k, p]))
      for (const [, id] of ops) out(`A ${id}`)
    }
  }
}

async function runAsync() {
  const store = await AsyncDataStore.open(file)
  out('READY')
  const inflight = []
  for (;;) {
    const burst = 1 + rand(64)
    const promises = []
    for (let i = 0; i < burst; i++) {
      // Hot keys overwritten within one burst: the last issued must win.
      const k = rand(4) === 0 ? `k${rand(16)}` : key()
      if (rand(10) === 0) {
        const id = issueDelete(k)
        promises.push(store.delete(k).then(() => out(`A ${id}`)))
      } else {
        const [id, p] = issueWrite(k)
        promises.push(store.write(k, p).then(() => out(`A ${id}`)))
      }
    }
    inflight.push(Promise.all(promises))
    if (inflight.length >= 3) await inflight.shift()
    else await new Promise((resolve) => setImmediate(resolve))
  }
}

const run = { single: runSingle, batch: runBatch, async: runAsync }[mode]
if (run === undefined) {
  console.error(`unknown mode ${mode}`)
  process.exit(2)
}
run().catch((err) => {
  console.error(`crash-writer failed: ${err?.code ?? ''} ${err?.stack ?? err}`)
  process.exit(1)
})
