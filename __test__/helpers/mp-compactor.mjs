// Child of multiprocess.test.mjs: compacts a store that other processes
// read and write. Prints `ready`, waits for `go`, then COUNT times: sleeps
// SLEEP_MS, takes a handle on a random key `PREFIX-<i>`, compact(), checks
// the handle's bytes are unchanged, len() is KEYS and every key reads an
// exact payload. Prints one JSON line: the fileSize() before and after each
// compaction (and the size on disk after), and the first errors.
//
//   node mp-compactor.mjs FILE PREFIX KEYS COUNT SLEEP_MS
import fs from 'node:fs'
import { DataStore } from '../../lib/index.mjs'
import { checkPayload, readyThenGo } from './mp-common.mjs'

const [file, prefix, keysArg, countArg, sleepArg] = process.argv.slice(2)
const KEYS = Number(keysArg)
const COUNT = Number(countArg)
const SLEEP = Number(sleepArg)
const s = DataStore.open(file)
await readyThenGo()

const errors = []
const bad = (m) => errors.length < 20 && errors.push(m)
const runs = []
for (let n = 0; n < COUNT; n++) {
  await new Promise((r) => setTimeout(r, SLEEP))
  const k = `${prefix}-${n % KEYS}`
  const h = s.read(k)
  const copy = h && Buffer.from(h.bytes)
  const before = s.fileSize()
  const t0 = Date.now()
  s.compact()
  const ms = Date.now() - t0
  const after = s.fileSize()
  runs.push({ before, after, disk: fs.statSync(file).size, ms })
  if (h === null) bad(`${k} missing before compaction ${n}`)
  else if (!Buffer.from(h.bytes).equals(copy)) bad(`handle on ${k} changed across compaction ${n}`)
  if (s.len() !== KEYS) bad(`len() ${s.len()} after compaction ${n}`)
  for (let i = 0; i < KEYS; i++) {
    const key = `${prefix}-${i}`
    const r = s.read(key)
    if (r === null) bad(`${key} missing after compaction ${n}`)
    else {
      const c = checkPayload(r.bytes, key)
      if (typeof c === 'string') bad(`after compaction ${n}: ${c}`)
    }
  }
}
s.close()
console.log(JSON.stringify({ ok: errors.length === 0, errors, runs }))
