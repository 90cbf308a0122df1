// Child of multiprocess.test.mjs: writes the same keys as another process
// at the same time, with no coordination. Prints `ready` once open, starts
// on a `go` line, then issues OPS writes (single writes, and 3-key
// batchWrites) of random keys, version = n*2+SIDE (unique to this process),
// recording each write's returned tail. Writes the log `[[key, version,
// tail], ...]` as JSON to LOG (a 1 ms pause every 25 writes or so keeps
// the two processes running side by side) and prints `{"ok":true,...}`.
//
//   node mp-race.mjs FILE SIDE KEYS OPS LOG
import fs from 'node:fs'
import { DataStore } from '../../lib/index.mjs'
import { mpPayload, readyThenGo } from './mp-common.mjs'
import { rng } from './payload.mjs'

const [file, sideArg, keysArg, opsArg, logPath] = process.argv.slice(2)
const SIDE = Number(sideArg)
const KEYS = Number(keysArg)
const OPS = Number(opsArg)
const next = rng(0x9e3779b9 ^ (SIDE + 1) * 0x85ebca6b)
const s = DataStore.open(file)
await readyThenGo()

const log = []
let n = 0
let increasing = true
let last = 0
while (n < OPS) {
  if (next() % 5 === 0) {
    const ks = new Set()
    while (ks.size < 3) ks.add(`smr${next() % KEYS}`)
    const entries = [...ks].map((k) => [k, n++ * 2 + SIDE])
    const tail = s.batchWrite(entries.map(([k, v]) => [k, mpPayload(k, v)]))
    for (const [k, v] of entries) log.push([k, v, tail])
    if (!(tail > last)) increasing = false
    last = tail
  } else {
    const k = `smr${next() % KEYS}`
    const v = n++ * 2 + SIDE
    const tail = s.write(k, mpPayload(k, v))
    log.push([k, v, tail])
    if (!(tail > last)) increasing = false
    last = tail
  }
  // a short pause now and then, so both processes run for about as long
  if (n % 25 < 2) await new Promise((r) => setTimeout(r, 1))
}
fs.writeFileSync(logPath, JSON.stringify(log))
s.close()
console.log(JSON.stringify({ ok: true, writes: log.length, increasing }))
