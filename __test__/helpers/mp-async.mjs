// Child of multiprocess.test.mjs: AsyncDataStore writes from one of two
// processes at once. Prints `ready` once open; on `go` writes N keys
// `a<SIDE>-<i>` with up to 32 writes in flight (every fifth group as one
// batchWrite) and prints `done`; on `check` reads the other side's N keys
// through the same still-open store (exact bytes), checks len() and
// iteration, and prints one JSON line.
//
//   node mp-async.mjs FILE SIDE N
import readline from 'node:readline'
import { AsyncDataStore } from '../../lib/index.mjs'
import { mpPayload, checkPayload } from './mp-common.mjs'

const [file, sideArg, nArg] = process.argv.slice(2)
const SIDE = Number(sideArg)
const N = Number(nArg)
const s = await AsyncDataStore.open(file)
console.log('ready')
const rl = readline.createInterface({ input: process.stdin })
const errors = []
const bad = (m) => errors.length < 20 && errors.push(m)
let writes = 0
let tailsOk = true
for await (const line of rl) {
  if (line === 'go') {
    for (let g = 0; g < N; g += 32) {
      const ks = []
      for (let i = g; i < Math.min(N, g + 32); i++) ks.push(`a${SIDE}-${i}`)
      if ((g / 32) % 5 === 4) {
        const tail = await s.batchWrite(ks.map((k) => [k, mpPayload(k, SIDE)]))
        if (!Number.isSafeInteger(tail)) tailsOk = false
      } else {
        const tails = await Promise.all(ks.map((k) => s.write(k, mpPayload(k, SIDE))))
        if (new Set(tails).size !== tails.length) tailsOk = false // one tail per separate write
      }
      writes += ks.length
    }
    console.log('done')
  } else if (line === 'check') {
    const other = 1 - SIDE
    const keys = Array.from({ length: N }, (_, i) => `a${other}-${i}`)
    const handles = await s.batchRead(keys)
    for (const [i, h] of handles.entries()) {
      if (h === null) bad(`${keys[i]} missing`)
      else {
        const c = checkPayload(h.bytes, keys[i])
        if (typeof c === 'string') bad(c)
        else if (c.version !== other) bad(`${keys[i]}: version ${c.version}`)
      }
    }
    for (let i = 0; i < N; i += 97) {
      const h = await s.read(keys[i])
      if (h === null || typeof checkPayload(h.bytes, keys[i]) === 'string') bad(`read(${keys[i]}) wrong`)
    }
    const len = await s.len()
    const size = await s.fileSize()
    let iter = 0
    for await (const _ of s.entries()) iter++
    console.log(JSON.stringify({ ok: errors.length === 0, errors, writes, tailsOk, len, size, iter }))
    break
  }
}
rl.close()
process.stdin.destroy()
await s.close()
