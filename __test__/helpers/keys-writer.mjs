// Child of keys.test.mjs (the kill test): opens FILE with { keys: true }
// and, until it is SIGKILLed, writes batches of 1..200 keys of the pool
// (keys-common.mjs; keys repeat, so there are overwrites, also within a
// batch), the odd single write or writeStream, batchDeletes and renames,
// and a compaction now and then and whenever the file passes 48 MiB. Each operation is logged to LOG with
// fs.writeSync: `I <id> <json>` before it is issued, `A <id>` once it
// returned (acknowledged). Every entry written gets its own version
// (VERSION_BASE, +1, ...). Prints READY once open.
//
//   node keys-writer.mjs FILE LOG SEED VERSION_BASE
import fs from 'node:fs'
import { DataStore } from '../../lib/index.mjs'
import { rng } from './payload.mjs'
import { POOL, keyPayload, poolKey } from './keys-common.mjs'

const [file, logPath, seedArg, baseArg] = process.argv.slice(2)
const next = rng(Number(seedArg))
const rand = (n) => next() % n
let version = Number(baseArg)

const store = DataStore.open(file, { keys: true })
const log = fs.openSync(logPath, 'a')
const say = (line) => fs.writeSync(log, `${line}\n`)
// What is live (this process is the only writer): found with exists, not keys().
const live = new Set()
for (let i = 0; i < POOL; i++) if (store.exists(poolKey(i))) live.add(i)
process.stdout.write('READY\n')

const COMPACT_ABOVE = 48 << 20
const deadline = Date.now() + 30_000 // the parent kills long before
let id = 0
/** Key `i` as a string when it is text (each other call), else its bytes. */
let flip = 0
const keyArg = (i) => (i % 7 !== 3 && flip++ % 2 === 0 ? poolKey(i).toString('utf8') : poolKey(i))
function* chunks(buf) {
  for (let at = 0; at < buf.length; at += 97) yield buf.subarray(at, Math.min(buf.length, at + 97))
}

while (Date.now() < deadline) {
  let r = rand(100)
  if (live.size === 0 && r >= 86 && r < 99) r = 70 // nothing to rename: a write
  const op = id++
  if (r < 62) {
    const n = 1 + rand(200)
    const e = Array.from({ length: n }, () => [rand(POOL), version++])
    say(`I ${op} ${JSON.stringify({ t: 'w', e })}`)
    store.batchWrite(e.map(([k, v]) => [keyArg(k), keyPayload(k, v)]))
    for (const [k] of e) live.add(k)
  } else if (r < 72) {
    const k = rand(POOL)
    const v = version++
    say(`I ${op} ${JSON.stringify({ t: 'w', e: [[k, v]] })}`)
    if (r < 67) store.write(keyArg(k), keyPayload(k, v))
    else store.writeStream(poolKey(k), chunks(keyPayload(k, v)))
    live.add(k)
  } else if (r < 86) {
    const ks = Array.from({ length: 1 + rand(6) }, () => rand(POOL))
    say(`I ${op} ${JSON.stringify({ t: 'd', k: ks })}`)
    store.batchDelete(ks.map(keyArg))
    for (const k of ks) live.delete(k)
  } else if (r < 99 && store.fileSize() < COMPACT_ABOVE) {
    const l = [...live]
    const o = l[rand(l.length)]
    let n = rand(POOL)
    if (n === o) n = (n + 1) % POOL
    say(`I ${op} ${JSON.stringify({ t: 'r', o, n })}`)
    store.rename(keyArg(o), keyArg(n))
    live.delete(o)
    live.add(n)
  } else {
    say(`I ${op} ${JSON.stringify({ t: 'c' })}`)
    store.compact()
  }
  say(`A ${op}`)
}
process.exit(3)
