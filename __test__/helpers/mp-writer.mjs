// Child of multiprocess.test.mjs: writes new versions of its own keys
// (`NAME-<i>`) in a loop until told to stop (a `stop` line or the end of
// stdin), mixing sync writes, sync 4-key batchWrites and async writes.
// Every write is logged to LOG as `key version` lines with fs.writeSync
// AFTER it returned (acknowledged). Versions: VERSION_START, +1, +2, ...
// across all keys, so each key's versions increase. Prints `ready` once
// open, and `{"ok":true,...}` after a clean stop. PACE_MS > 0 sleeps that
// long every 16 operations (keeps the file size bounded); a key prefix of
// `big`/`sm` picks the payload size profile (see mp-common.mjs).
//
// With MONOTONIC=1 each returned tail must be larger than the one before
// (true while no other process compacts: a compaction moves the tail back).
//
//   node mp-writer.mjs FILE NAME KEYS LOG VERSION_START PACE_MS MONOTONIC
import fs from 'node:fs'
import { DataStore, AsyncDataStore } from '../../lib/index.mjs'
import { mpPayload } from './mp-common.mjs'
import { rng } from './payload.mjs'

const [file, name, keysArg, logPath, startArg, paceArg, monoArg] = process.argv.slice(2)
const MONOTONIC = monoArg === '1'
const KEYS = Number(keysArg)
const PACE = Number(paceArg)
let version = Number(startArg)
const next = rng((version ^ Number(process.pid) * 2654435761) >>> 0)
const keyOf = (i) => `${name}-${i}`

const s = DataStore.open(file)
const as = await AsyncDataStore.open(file)
const log = fs.openSync(logPath, 'a')
let stop = false
process.stdin.setEncoding('utf8')
process.stdin.on('data', (d) => {
  if (d.includes('stop')) stop = true
})
process.stdin.on('end', () => (stop = true))
console.log('ready')

const counts = { writes: 0, batches: 0, asyncs: 0, ops: 0 }
let lastTail = 0
const tailOk = (tail, what) => {
  if (!(Number.isSafeInteger(tail) && tail > 0 && (!MONOTONIC || tail > lastTail))) throw new Error(`${what} returned tail ${tail} after ${lastTail}`)
  lastTail = tail
}
while (!stop) {
  for (let j = 0; j < 16; j++) {
    const r = next() % 10
    if (r < 6) {
      const k = keyOf(next() % KEYS)
      const v = version++
      tailOk(s.write(k, mpPayload(k, v)), 'write')
      fs.writeSync(log, `${k} ${v}\n`)
      counts.writes++
    } else if (r < 8) {
      const ks = new Set()
      while (ks.size < Math.min(4, KEYS)) ks.add(keyOf(next() % KEYS))
      const entries = [...ks].map((k) => [k, version++])
      tailOk(s.batchWrite(entries.map(([k, v]) => [k, mpPayload(k, v)])), 'batchWrite')
      fs.writeSync(log, entries.map(([k, v]) => `${k} ${v}\n`).join(''))
      counts.batches++
    } else {
      const k = keyOf(next() % KEYS)
      const v = version++
      // the Promise resolving is the acknowledgement
      const tail = await as.write(k, mpPayload(k, v))
      tailOk(tail, 'async write')
      fs.writeSync(log, `${k} ${v}\n`)
      counts.asyncs++
    }
    counts.ops++
  }
  await new Promise((r) => (PACE > 0 ? setTimeout(r, PACE) : setImmediate(r)))
}
fs.closeSync(log)
await as.close()
s.close()
console.log(JSON.stringify({ ok: true, name, ...counts, lastVersion: version - 1 }))
process.exit(0)
