// worker_threads body for concurrency.test.mjs. Every worker opens the same
// store path (one shared engine per process) and plays one role:
// - writer: writes its own keys (single, batch and async writes), reading
//   back its own and other writers' keys as it goes;
// - reader: reads random keys until told to stop, checking every value is
//   exactly the bytes of the write its header names, for the key read, with
//   versions never going backwards; holds on to handles and rechecks them
//   (they must survive writes and compactions);
// - compactor: compacts in a loop until told to stop.
// Failures are reported, never thrown past the worker. `workerData.options`
// (optional) are the open options of every role (e.g. { exclusive: true }).
import { parentPort, workerData } from 'node:worker_threads'
import { DataStore } from '../../lib/index.mjs'
import { payloadFor, parsePayload, rng } from './payload.mjs'

const { role, file, id, options } = workerData
const stop = workerData.stop ? new Int32Array(workerData.stop) : null
const stopped = () => stop !== null && Atomics.load(stop, 0) === 1
const problems = []
const problem = (msg) => {
  if (problems.length < 20) problems.push(`${role} ${id}: ${msg}`)
}

const next = rng((id + 1) * 0x9e3779b1)
const rand = (n) => next() % n

/** Checks a handle read for `key`: exact bytes of the write its header names. Returns the version. */
function check(key, h, what) {
  const head = parsePayload(h.bytes)
  if (head === null || head.key !== key) {
    problem(`${what}: ${key} read bytes of ${head ? head.key : 'no write'}`)
    return -1
  }
  if (Buffer.compare(h.bytes, payloadFor(head.key, head.version)) !== 0) {
    problem(`${what}: ${key}:${head.version} has wrong bytes`)
    return -1
  }
  return head.version
}

async function writer() {
  const { count, writers } = workerData
  const store = DataStore.open(file, options)
  const pending = []
  let reads = 0
  for (let j = 0; j < count; ) {
    const r = rand(10)
    if (r === 0) {
      // a batch of up to 5 keys
      const n = Math.min(5, count - j)
      store.batchWrite(Array.from({ length: n }, (_, b) => [`w${id}-${j + b}`, payloadFor(`w${id}-${j + b}`, 1)]))
      j += n
    } else if (r === 1) {
      const k = `w${id}-${j++}`
      pending.push(store.async.write(k, payloadFor(k, 1)))
      if (pending.length >= 16) await Promise.all(pending.splice(0))
      continue
    } else {
      const k = `w${id}-${j++}`
      store.write(k, payloadFor(k, 1))
    }
    const own = `w${id}-${j - 1}`
    const h = store.read(own)
    if (h === null) problem(`own key ${own} missing right after its write`)
    else check(own, h, 'read-your-write')
    const other = `w${rand(writers)}-${rand(Math.max(1, j))}`
    const ho = store.read(other)
    if (ho !== null) check(other, ho, 'read of another writer')
    reads += 2
  }
  await Promise.all(pending)
  let missing = 0
  for (let j = 0; j < count; j++) {
    const k = `w${id}-${j}`
    const h = store.read(k)
    if (h === null) missing++
    else check(k, h, 'final read')
  }
  if (missing > 0) problem(`${missing} of its own keys missing at the end`)
  store.close()
  return { reads }
}

async function reader() {
  const { keys, churnFrom } = workerData
  const store = DataStore.open(file, options)
  const seen = new Map()
  const held = []
  let reads = 0
  let rechecks = 0
  while (!stopped()) {
    for (let n = 0; n < 200; n++) {
      const i = rand(keys)
      const key = `k${i}`
      const h = rand(8) === 0 ? await store.async.read(key) : store.read(key)
      reads++
      if (h === null) {
        if (i < churnFrom) problem(`${key} (never deleted) read as null`)
        continue
      }
      const v = check(key, h, 'read')
      if (v < (seen.get(key) ?? 0)) problem(`${key} went back from version ${seen.get(key)} to ${v}`)
      seen.set(key, v)
      if (held.length < 300) held.push([key, v, h])
      else if (rand(4) === 0) held[rand(held.length)] = [key, v, h]
    }
    // Every handle held across writes and compactions still reads its bytes.
    for (const [key, v, h] of held) {
      if (check(key, h, 'held handle') !== v) problem(`held handle of ${key}:${v} changed`)
      rechecks++
    }
    await new Promise((resolve) => setImmediate(resolve))
  }
  store.close()
  for (const [key, v, h] of held) if (check(key, h, 'held handle after close') !== v) problem(`held handle of ${key}:${v} changed after close`)
  return { reads, rechecks, held: held.length }
}

async function compactor() {
  const store = DataStore.open(file, options)
  let compactions = 0
  while (!stopped()) {
    if (compactions % 2 === 0) store.compact()
    else await store.async.compact()
    compactions++
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  store.close()
  return { compactions }
}

const roles = { writer, reader, compactor }
roles[role]()
  .then((stats) => parentPort.postMessage({ problems, stats }))
  .catch((err) => parentPort.postMessage({ problems: [...problems, `${role} ${id} threw ${err?.code}: ${err?.stack ?? err}`], stats: {} }))
