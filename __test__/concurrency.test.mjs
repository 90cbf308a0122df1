// Concurrency (issue 5, item 6; design.md section 5): worker_threads share
// one engine per file and lose nothing; a second process gets
// ERR_STORE_LOCKED while the store is held { exclusive: true } (and its
// exclusive open does while the store is held in the default mode, where its
// other opens share the store); compaction while other threads read and hold handles
// neither crashes nor returns wrong bytes; the store's own operations never
// shrink a file that a live mapping still covers.
import test from 'ava'
import fs from 'node:fs'
import path from 'node:path'
import { Worker } from 'node:worker_threads'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import { DataStore } from '../lib/index.mjs'
import { payloadFor, parsePayload } from './helpers/payload.mjs'
import { tmpFile } from './helpers/store.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const WORKER = path.join(here, 'helpers', 'concurrency-worker.mjs')
const OPEN_CHILD = path.join(here, 'helpers', 'open-child.mjs')
const run = promisify(execFile)

function startWorker(workerData) {
  const w = new Worker(WORKER, { workerData })
  const done = new Promise((resolve, reject) => {
    let msg
    w.on('message', (m) => (msg = m))
    w.on('error', reject)
    w.on('exit', (code) => (code === 0 && msg ? resolve(msg) : reject(new Error(`worker ${workerData.role} ${workerData.id} exited with ${code}`))))
  })
  return done
}

/** Opens `file` in another process with `how` (and open `options`); resolves with its JSON answer. */
async function openInChild(file, how, options) {
  const { stdout } = await run(process.execPath, [OPEN_CHILD, file, how, ...(options ? [JSON.stringify(options)] : [])])
  return JSON.parse(stdout.trim().split('\n').pop())
}

function assertExact(t, store, key, version, what) {
  const h = store.read(key)
  if (h === null) return t.fail(`${what}: ${key} missing`)
  if (Buffer.compare(h.bytes, payloadFor(key, version)) !== 0) t.fail(`${what}: ${key} has wrong bytes`)
}

test('worker threads writing and reading one store (shared engine) lose nothing', async (t) => {
  const { file } = tmpFile(t, 'store.srd')
  const WRITERS = 4
  const COUNT = 1500
  const main = DataStore.open(file)
  const workers = Array.from({ length: WRITERS }, (_, id) => startWorker({ role: 'writer', file, id, count: COUNT, writers: WRITERS }))
  // The main thread writes too, async (group commit) while the workers write sync.
  const mainKeys = []
  for (let j = 0; j < 500; j++) {
    const k = `main-${j}`
    mainKeys.push(k)
    await main.async.write(k, payloadFor(k, 1))
  }
  const results = await Promise.all(workers)
  for (const r of results) for (const p of r.problems) t.fail(p)
  const total = WRITERS * COUNT + mainKeys.length
  const check = (store, what) => {
    t.is(store.len(), total, `${what}: every key is live`)
    for (let id = 0; id < WRITERS; id++) for (let j = 0; j < COUNT; j++) assertExact(t, store, `w${id}-${j}`, 1, what)
    for (const k of mainKeys) assertExact(t, store, k, 1, what)
    let n = 0
    for (const h of store.entries()) {
      const head = parsePayload(h.bytes)
      if (head === null || Buffer.compare(h.bytes, payloadFor(head.key, head.version)) !== 0) t.fail(`${what}: a garbled entry`)
      n++
    }
    t.is(n, total, `${what}: iteration`)
    t.deepEqual(store.verify(), [], `${what}: verify()`)
  }
  check(main, 'in process')
  main.close()
  // From disk, through recovery, in a fresh engine.
  const again = DataStore.openExisting(file)
  check(again, 'after reopen')
  again.close()
  t.log(`${WRITERS} worker threads x ${COUNT} writes + ${mainKeys.length} async writes on the main thread: ${total} keys, none lost; reads in workers: ${results.reduce((a, r) => a + r.stats.reads, 0)}`)
})

test('a second process gets ERR_STORE_LOCKED while the store is held exclusive, and opens it once closed', async (t) => {
  const { file } = tmpFile(t, 'store.srd')
  const EXCLUSIVE = { exclusive: true }
  const store = DataStore.open(file, EXCLUSIVE)
  store.write('a', 'alpha')
  store.write('k0', payloadFor('k0', 1)) // what the reader thread below reads
  const before = fs.readFileSync(file)
  const attempts = [
    ...['open', 'openExisting', 'async', 'repair', 'write'].flatMap((how) => [
      [how, undefined],
      [how, EXCLUSIVE],
    ]),
    ['open', { readOnly: true }],
    ['openExisting', { readOnly: true }],
    ['async', { readOnly: true }],
  ]
  const answers = await Promise.all(attempts.map(([how, options]) => openInChild(file, how, options)))
  for (const [i, [how, options]] of attempts.entries()) {
    const r = answers[i]
    t.deepEqual([r.ok, r.code], [false, 'ERR_STORE_LOCKED'], `${how} ${JSON.stringify(options ?? {})}: ${r.message ?? ''}`)
  }
  t.deepEqual(fs.readFileSync(file), before, 'the locked-out processes changed nothing')
  t.false(fs.existsSync(`${file}.shm`), 'nor made a .shm beside an exclusive store')

  // Held by a worker thread only (the main thread closed its handle): still locked.
  const handle = store.read('a')
  store.close()
  const stop = new SharedArrayBuffer(4)
  const reader = startWorker({ role: 'reader', file, id: 0, keys: 1, churnFrom: 1, stop, options: EXCLUSIVE })
  await new Promise((resolve) => setTimeout(resolve, 300))
  for (const options of [undefined, EXCLUSIVE, { readOnly: true }]) {
    const locked = await openInChild(file, 'open', options)
    t.deepEqual([locked.ok, locked.code], [false, 'ERR_STORE_LOCKED'], `${JSON.stringify(options ?? {})}: locked while a worker thread has it open`)
  }
  Atomics.store(new Int32Array(stop), 0, 1)
  const res = await reader
  t.deepEqual(res.problems, [])

  // Closed everywhere: another process opens and writes; a handle taken before still reads.
  const w = await openInChild(file, 'write')
  t.true(w.ok, JSON.stringify(w))
  t.is(handle.bytes.toString(), 'alpha')
  const again = DataStore.openExisting(file)
  t.is(again.read('from-child')?.bytes.toString(), 'written by another process')
  t.is(again.read('a')?.bytes.toString(), 'alpha')
  again.close()
})

test('a store held here in the default mode: another process\'s exclusive open gets ERR_STORE_LOCKED; its other opens share it both ways', async (t) => {
  const { file } = tmpFile(t, 'store.srd')
  const store = DataStore.open(file)
  t.teardown(() => store.close())
  store.write('a', 'alpha')
  store.write('k0', payloadFor('k0', 1))
  const before = fs.readFileSync(file)
  const hows = ['open', 'openExisting', 'async', 'repair', 'write']
  const answers = await Promise.all(hows.map((how) => openInChild(file, how, { exclusive: true })))
  for (const [i, how] of hows.entries()) {
    const r = answers[i]
    t.deepEqual([r.ok, r.code], [false, 'ERR_STORE_LOCKED'], `${how} exclusive: ${r.message ?? ''}`)
  }
  t.deepEqual(fs.readFileSync(file), before, 'the locked-out exclusive opens changed nothing')

  // Default and read-only opens elsewhere see this process's writes...
  for (const [how, options] of [
    ['open', undefined],
    ['openExisting', undefined],
    ['async', undefined],
    ['open', { readOnly: true }],
    ['async', { readOnly: true }],
  ]) {
    const r = await openInChild(file, how, options)
    t.deepEqual(r, { ok: true, len: 2, a: 'alpha' }, `${how} ${JSON.stringify(options ?? {})}`)
  }
  store.write('a', 'alpha, again')
  const r = await openInChild(file, 'open')
  t.is(r.a, 'alpha, again', 'a later write here is seen by the next process')
  // ...and this process sees theirs without reopening.
  const w = await openInChild(file, 'write')
  t.true(w.ok, JSON.stringify(w))
  t.is(store.read('from-child')?.bytes.toString(), 'written by another process')
  t.is(store.len(), 3)
  t.is(store.fileSize(), w.tail)

  // Held by a worker thread in the default mode: the same.
  const handle = store.read('a')
  store.close()
  const stop = new SharedArrayBuffer(4)
  const reader = startWorker({ role: 'reader', file, id: 0, keys: 1, churnFrom: 1, stop })
  await new Promise((resolve) => setTimeout(resolve, 300))
  const locked = await openInChild(file, 'open', { exclusive: true })
  t.deepEqual([locked.ok, locked.code], [false, 'ERR_STORE_LOCKED'], 'an exclusive open while a worker thread has it open')
  const shared = await openInChild(file, 'open')
  t.deepEqual(shared, { ok: true, len: 3, a: 'alpha, again' }, 'a default open while a worker thread has it open')
  Atomics.store(new Int32Array(stop), 0, 1)
  t.deepEqual((await reader).problems, [])
  t.is(handle.bytes.toString(), 'alpha, again')
  const excl = await openInChild(file, 'open', { exclusive: true })
  t.deepEqual(excl, { ok: true, len: 3, a: 'alpha, again' }, 'exclusive once no other process has it open')
})

test('compaction while worker threads read and hold handles: no crash, never a wrong byte', async (t) => {
  const { file } = tmpFile(t, 'store.srd')
  const KEYS = 400
  const CHURN_FROM = 300 // keys k300.. are deleted and rewritten; the others only overwritten
  const store = DataStore.open(file)
  let version = 1
  const latest = new Map()
  const put = (i) => {
    const k = `k${i}`
    const v = version++
    store.write(k, payloadFor(k, v))
    latest.set(k, v)
  }
  for (let i = 0; i < KEYS; i++) put(i)
  const stop = new SharedArrayBuffer(4)
  const readers = Array.from({ length: 3 }, (_, id) => startWorker({ role: 'reader', file, id, keys: KEYS, churnFrom: CHURN_FROM, stop }))
  const compactor = startWorker({ role: 'compactor', file, id: 9, stop })

  // Handles taken on the main thread before any compaction.
  const early = [...latest].slice(0, 100).map(([k, v]) => [k, v, store.read(k)])
  let compactions = 0
  const deadline = Date.now() + 4000
  while (Date.now() < deadline) {
    for (let n = 0; n < 150; n++) put(Math.floor(Math.random() * KEYS))
    for (let n = 0; n < 10; n++) {
      const i = CHURN_FROM + Math.floor(Math.random() * (KEYS - CHURN_FROM))
      store.delete(`k${i}`)
      latest.delete(`k${i}`)
    }
    for (let i = CHURN_FROM; i < KEYS; i++) if (!latest.has(`k${i}`) && Math.random() < 0.5) put(i)
    store.compact()
    compactions++
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  Atomics.store(new Int32Array(stop), 0, 1)
  const results = await Promise.all([...readers, compactor])
  for (const r of results) for (const p of r.problems) t.fail(p)

  for (const [k, v, h] of early) if (Buffer.compare(h.bytes, payloadFor(k, v)) !== 0) t.fail(`early handle of ${k}:${v} changed`)
  t.is(store.len(), latest.size)
  for (const [k, v] of latest) assertExact(t, store, k, v, 'after the compactions')
  t.deepEqual(store.verify(), [])
  store.close()
  const again = DataStore.openExisting(file)
  t.is(again.len(), latest.size)
  for (const [k, v] of latest) assertExact(t, again, k, v, 'after reopen')
  again.close()
  const reads = results.slice(0, 3).reduce((a, r) => a + r.stats.reads, 0)
  const rechecks = results.slice(0, 3).reduce((a, r) => a + r.stats.rechecks, 0)
  t.log(`${compactions} compactions on the main thread + ${results[3].stats.compactions} in a worker, while 3 reader threads did ${reads} reads and ${rechecks} rechecks of held handles: no wrong byte`)
})

test('compaction never shrinks the file under a live mapping: handles taken before read the same bytes after', (t) => {
  const { file } = tmpFile(t, 'store.srd')
  const store = DataStore.open(file)
  for (let i = 0; i < 300; i++) store.write(`k${i}`, payloadFor(`k${i}`, i + 1))
  for (let i = 0; i < 300; i++) store.write(`k${i}`, payloadFor(`k${i}`, 1000 + i)) // half the file is now garbage
  const handles = Array.from({ length: 300 }, (_, i) => [`k${i}`, 1000 + i, store.read(`k${i}`)])
  const stale = store.entries().next().value // newest first: k299's latest
  // Keep the pre-compaction inode open to see whether anything cut it.
  const oldFd = fs.openSync(file, 'r')
  const oldSize = fs.fstatSync(oldFd).size
  const oldIno = fs.fstatSync(oldFd).ino

  store.compact()
  const newSize = fs.statSync(file).size
  t.true(newSize < oldSize, `compaction shrank the store (${oldSize} -> ${newSize})`)
  t.is(fs.fstatSync(oldFd).size, oldSize, 'the old file (still mapped) was not truncated')
  t.not(fs.statSync(file).ino, oldIno, 'compaction wrote a new file')
  // Handles whose payload lies past the new file's end still read (no SIGBUS, right bytes).
  const beyond = handles.filter(([, , h]) => h.startOffset >= newSize).length
  t.true(beyond > 0)
  for (const [k, v, h] of handles) if (Buffer.compare(h.bytes, payloadFor(k, v)) !== 0) t.fail(`${k} changed after compaction`)
  t.is(parsePayload(stale.bytes).version, 1299)

  // More writes, another compaction, a second open of the same path (shares
  // the engine: no recovery pass over a mapped file), then close.
  for (let i = 0; i < 300; i++) store.write(`k${i}`, payloadFor(`k${i}`, 2000 + i))
  store.compact()
  const second = DataStore.open(file)
  t.is(second.len(), 300)
  second.close()
  store.close()
  for (const [k, v, h] of handles) if (Buffer.compare(h.bytes, payloadFor(k, v)) !== 0) t.fail(`${k} changed after close`)
  t.is(fs.fstatSync(oldFd).size, oldSize)
  fs.closeSync(oldFd)
  t.log(`${beyond} of 300 handles point past the compacted file's end and still read their bytes`)
})

test('a second open in the same process (also through a link) shares the engine and never cuts a mapped file', (t) => {
  const { file } = tmpFile(t, 'store.srd')
  const store = DataStore.open(file)
  for (let i = 0; i < 50; i++) store.write(`k${i}`, payloadFor(`k${i}`, 1))
  const handles = Array.from({ length: 50 }, (_, i) => [`k${i}`, store.read(`k${i}`)])
  // Another program appends junk: a first open would cut it, a shared engine must not.
  const tail = store.fileSize()
  fs.appendFileSync(file, Buffer.alloc(4096, 0xab))
  const sym = `${file}.sym`
  fs.symlinkSync(file, sym)
  const hard = `${file}.hard`
  fs.linkSync(file, hard)
  const how = []
  for (const p of [file, sym, hard]) {
    let other
    try {
      other = DataStore.open(p)
    } catch (err) {
      // Not sharing would at least have to refuse, not recover.
      t.is(err.code, 'ERR_STORE_LOCKED', `${p}: ${err.message}`)
      how.push(`${path.basename(p)}: ERR_STORE_LOCKED`)
      continue
    }
    how.push(`${path.basename(p)}: shared`)
    t.is(other.fileSize(), store.fileSize(), `${path.basename(p)}: the shared engine's tail`)
    other.write(`via-${path.basename(p)}`, 'x')
    t.is(store.read(`via-${path.basename(p)}`)?.bytes.toString(), 'x', `${path.basename(p)}: one engine`)
    other.close()
  }
  t.true(fs.statSync(file).size >= tail + 4096 || store.fileSize() > tail, 'nothing cut under the live mapping')
  for (const [k, h] of handles) if (Buffer.compare(h.bytes, payloadFor(k, 1)) !== 0) t.fail(`${k} changed`)
  store.close()
  t.log(how.join(', '))
})
