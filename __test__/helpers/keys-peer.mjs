// Child of keys.test.mjs: opens FILE with the options OPTIONS_JSON and runs
// the commands it is sent on stdin, one JSON object a line, answering each
// with one JSON line (`{"ok":true,...}` or `{"ok":false,"error":...}`).
// Prints `{"ready":true}` once open. The store stays open between commands
// (what other processes write is seen without reopening).
//
//   write  {prefix, n, paceMs?}  keys `${prefix}${i}`, i < n, payload
//                        `${key}=v`, each 4th by write, batchWrite (64 a
//                        batch), async group commit (100 in flight),
//                        writeStream; a pause of paceMs every 200 keys
//   list   {prefix?}     keys() (sync and `for await`), checked: every
//                        listed key readable; len(), entries() and what they show
//   delete {keys}        batchDelete
//   rename {from, to}
//   compact
//   exit
//
//   node keys-peer.mjs FILE OPTIONS_JSON
import readline from 'node:readline'
import { DataStore, computeHash } from '../../lib/index.mjs'
import { hex, looksLikeRecord } from './keys-common.mjs'

const [file, optionsJson] = process.argv.slice(2)
const store = DataStore.open(file, JSON.parse(optionsJson))

const payloadOf = (key) => Buffer.from(`${key}=v`)

async function write({ prefix, n, paceMs = 0 }) {
  let batch = []
  let inFlight = []
  for (let i = 0; i < n; i++) {
    if (paceMs > 0 && i % 200 === 199) await new Promise((r) => setTimeout(r, paceMs))
    const k = `${prefix}${i}`
    switch (i % 4) {
      case 0:
        store.write(k, payloadOf(k))
        break
      case 1:
        batch.push([k, payloadOf(k)])
        if (batch.length === 64) {
          store.batchWrite(batch)
          batch = []
        }
        break
      case 2:
        inFlight.push(store.async.write(k, payloadOf(k)))
        if (inFlight.length === 100) {
          await Promise.all(inFlight)
          inFlight = []
        }
        break
      default:
        store.writeStream(k, [payloadOf(k)])
    }
  }
  if (batch.length > 0) store.batchWrite(batch)
  await Promise.all(inFlight)
  return { wrote: n }
}

async function list({ prefix }) {
  const opts = prefix === undefined ? undefined : { prefix }
  const keys = [...store.keys(opts)]
  const asyncKeys = []
  for await (const k of store.async.keys(opts)) asyncKeys.push(k)
  const unreadable = keys.filter((k) => store.read(k) === null).map((k) => k.toString('latin1'))
  let entries = 0
  let recordPayloads = 0
  let keyed = 0
  let wrongKey = 0
  for (const h of store.entries()) {
    entries++
    if (looksLikeRecord(h.bytes)) recordPayloads++
    if (h.key !== null) {
      keyed++
      if (computeHash(h.key) !== h.keyHash) wrongKey++
    }
  }
  return {
    keys: keys.map(hex),
    asyncSame: asyncKeys.map(hex).join() === keys.map(hex).join(),
    unreadable,
    len: store.len(),
    asyncLen: await store.async.len(),
    entries,
    recordPayloads,
    keyed,
    wrongKey,
  }
}

const commands = {
  write,
  list,
  delete: ({ keys }) => ({ tail: store.batchDelete(keys) }),
  rename: ({ from, to }) => ({ tail: store.rename(from, to) }),
  compact: () => {
    store.compact()
    return { fileSize: store.fileSize() }
  },
  exit: () => ({}),
}

console.log(JSON.stringify({ ready: true, pid: process.pid }))
const rl = readline.createInterface({ input: process.stdin })
for await (const line of rl) {
  if (line.trim() === '') continue
  const cmd = JSON.parse(line)
  try {
    const out = await commands[cmd.op](cmd)
    console.log(JSON.stringify({ ok: true, op: cmd.op, ...out }))
  } catch (err) {
    console.log(JSON.stringify({ ok: false, op: cmd.op, code: err.code, error: String(err.stack) }))
  }
  if (cmd.op === 'exit') break
}
store.close()
