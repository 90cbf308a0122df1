// Child of multiprocess.test.mjs: one side of a ping-pong on one store.
// The parent relays turns: on `go ROUND TAIL` (TAIL: what the other side's
// last write returned, or 0) this process first checks, from its store
// opened once at start, that every key holds the other side's latest
// version with its exact bytes (and that len(), exists(), iteration and
// fileSize() agree), then writes version ROUND*2+SIDE of every key and
// answers `done ROUND TAIL ERRORS_JSON`.
//
//   node mp-pingpong.mjs FILE SIDE(0|1) KEYS
import readline from 'node:readline'
import { DataStore, AsyncDataStore } from '../../lib/index.mjs'
import { mpPayload, checkPayload } from './mp-common.mjs'

const [file, sideArg, keysArg] = process.argv.slice(2)
const SIDE = Number(sideArg)
const KEYS = Number(keysArg)
const keys = Array.from({ length: KEYS }, (_, i) => `pp${i}`)
const s = DataStore.open(file)
const as = await AsyncDataStore.open(file)
console.log('ready')

function check(expectVersion, otherTail) {
  const errors = []
  const bad = (m) => errors.length < 10 && errors.push(m)
  // fileSize() first: the other side's acknowledged tail is already committed
  const size = s.fileSize()
  if (size < otherTail) bad(`fileSize() ${size} < the other side's acknowledged tail ${otherTail}`)
  for (const k of keys) {
    const h = s.read(k)
    if (h === null) {
      bad(`${k} missing`)
      continue
    }
    const c = checkPayload(h.bytes, k)
    if (typeof c === 'string') bad(c)
    else if (c.version !== expectVersion) bad(`${k}: version ${c.version}, want ${expectVersion}`)
    if (!s.exists(k)) bad(`${k}: exists() false`)
  }
  if (s.len() !== KEYS) bad(`len() ${s.len()}, want ${KEYS}`)
  let n = 0
  for (const h of s) {
    n++
    const c = checkPayload(h.bytes)
    if (typeof c === 'string' || c.version !== expectVersion) bad(`iteration: ${typeof c === 'string' ? c : `${c.key}:${c.version}`}`)
  }
  if (n !== KEYS) bad(`iteration gave ${n} entries, want ${KEYS}`)
  return errors
}

const rl = readline.createInterface({ input: process.stdin })
for await (const line of rl) {
  const [cmd, roundArg, tailArg] = line.split(' ')
  if (cmd === 'exit') break
  const round = Number(roundArg)
  const expect = SIDE === 0 ? (round - 1) * 2 + 1 : round * 2
  const errors = expect >= 0 ? check(expect, Number(tailArg)) : []
  const version = round * 2 + SIDE
  let tail
  switch (round % 3) {
    case 0:
      for (const k of keys) tail = s.write(k, mpPayload(k, version))
      break
    case 1:
      tail = s.batchWrite(keys.map((k) => [Buffer.from(k), mpPayload(k, version)]))
      break
    default:
      tail = Math.max(...(await Promise.all(keys.map((k) => as.write(k, mpPayload(k, version))))))
  }
  console.log(`done ${round} ${tail} ${JSON.stringify(errors)}`)
}
rl.close()
process.stdin.destroy()
await as.close()
s.close()
