// Concurrency model (design.md section 5): one engine per file per process,
// shared by every open of the path and by worker_threads. Between
// processes: a store held { exclusive: true } locks every other process out
// with ERR_STORE_LOCKED until the file is released, and an exclusive open
// is locked out while another process has the store open; default opens of
// several processes share the store, each seeing the others' writes.
import test from 'ava'
import fs from 'node:fs'
import path from 'node:path'
import { spawn, spawnSync } from 'node:child_process'
import { Worker } from 'node:worker_threads'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { DataStore, computeHash } from '../lib/index.mjs'
import { text, tmpFile } from './helpers/store.mjs'

const ENTRY = fileURLToPath(new URL('../lib/index.mjs', import.meta.url))
const CJS_ENTRY = fileURLToPath(new URL('../lib/index.js', import.meta.url))


/**
 * Opens `file` in a fresh process with open `options`, and writes `write`
 * (`[key, value]`) when given: `{ ok: true, len, a, tail }` or `{ ok: false, code }`.
 */
function openInChild(file, options, write = null) {
  const code = `
    import { DataStore } from ${JSON.stringify(ENTRY)}
    let out
    try {
      const s = DataStore.open(${JSON.stringify(file)}, ${JSON.stringify(options ?? null)})
      const h = s.read('a')
      out = { ok: true, len: s.len(), a: h && Buffer.from(h.bytes).toString() }
      const w = ${JSON.stringify(write)}
      if (w !== null) out.tail = s.write(w[0], w[1])
      s.close()
    } catch (e) {
      out = { ok: false, code: e.code, message: e.message }
    }
    process.stdout.write(JSON.stringify(out))
  `
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`)
  return JSON.parse(r.stdout)
}

function runWorker(source, workerData) {
  const w = new Worker(source, { eval: true, workerData })
  const done = new Promise((resolve, reject) => {
    const messages = []
    w.on('message', (m) => messages.push(m))
    w.on('error', reject)
    w.on('exit', (code) => (code === 0 ? resolve(messages) : reject(new Error(`worker exited with ${code}`))))
  })
  return { worker: w, done }
}

// ---- one engine per file per process ---------------------------------------------

test('two DataStore.open of one path share one engine and see each other\'s writes at once', (t) => {
  const { file } = tmpFile(t)
  const a = DataStore.open(file)
  const b = DataStore.open(file)
  t.teardown(() => {
    a.close()
    b.close()
  })
  a.write('x', 'from a')
  t.is(text(b.read('x')), 'from a')
  t.true(b.exists('x'))
  t.is(b.len(), 1)
  t.is(b.fileSize(), a.fileSize())
  const tail = b.batchWrite([['y', 'from b'], ['x', 'b wins']])
  t.is(a.fileSize(), tail)
  t.is(text(a.read('x')), 'b wins')
  t.is(text(a.read('y')), 'from b')
  t.is(text(a.readLastEntry()), 'b wins')
  b.delete('y')
  t.is(a.read('y'), null)
  t.is(a.len(), 1)
  t.deepEqual([...a].map(text), ['b wins'])

  // a streamed write and a compaction through one object are seen by the other
  a.writeStream('s', [Buffer.from('str'), Buffer.from('eam')])
  t.is(text(b.read('s')), 'stream')
  const before = b.read('x')
  b.compact()
  t.is(text(a.read('x')), 'b wins')
  t.is(a.fileSize(), fs.statSync(file).size)
  t.is(text(before), 'b wins')

  // closing one leaves the other working
  a.close()
  t.is(t.throws(() => a.read('x')).code, 'ERR_STORE_CLOSED')
  b.write('z', 'still open')
  t.is(text(b.read('z')), 'still open')
})

test('different spellings of one path (relative, ./, symlink) share the engine', (t) => {
  const { dir, file } = tmpFile(t)
  const a = DataStore.open(file)
  const spellings = [path.relative(process.cwd(), file), path.join(dir, '.', 'store.bin'), `${dir}${path.sep}..${path.sep}${path.basename(dir)}${path.sep}store.bin`]
  if (process.platform !== 'win32') {
    fs.symlinkSync(file, path.join(dir, 'link.bin'))
    spellings.push(path.join(dir, 'link.bin'))
  }
  const others = spellings.map((p) => DataStore.open(p))
  t.teardown(() => [a, ...others].forEach((s) => s.close()))
  a.write('k', 'v')
  for (const [i, o] of others.entries()) {
    t.is(text(o.read('k')), 'v', spellings[i])
    const err = t.throws(() => a.copy('k', o), undefined, spellings[i])
    t.is(err.code, 'ERR_INVALID_ARG_VALUE', spellings[i])
  }
})

test('a worker_threads Worker opening the same path shares the engine', async (t) => {
  const { file } = tmpFile(t)
  const s = DataStore.open(file)
  t.teardown(() => s.close())
  s.write('main', 'from main')
  const src = `
    const { workerData, parentPort } = require('node:worker_threads')
    const { DataStore } = require(workerData.entry)
    const s = DataStore.open(workerData.file)
    const h = s.read('main')
    parentPort.postMessage({ sawMain: h && Buffer.from(h.bytes).toString(), len: s.len() })
    s.write('worker', 'from worker')
    parentPort.postMessage({ wrote: true, tail: s.fileSize() })
    s.close()
  `
  const { done } = runWorker(src, { file, entry: CJS_ENTRY })
  const messages = await done
  t.deepEqual(messages[0], { sawMain: 'from main', len: 1 })
  t.true(messages[1].wrote)
  // visible here without reopening
  t.is(text(s.read('worker')), 'from worker')
  t.is(s.len(), 2)
  t.true(s.fileSize() >= messages[1].tail)
  t.is(s.fileSize(), fs.statSync(file).size)
})

test('main thread and a worker writing concurrently lose nothing (2000 + 2000 keys)', async (t) => {
  const { file } = tmpFile(t)
  const s = DataStore.open(file)
  t.teardown(() => s.close())
  const N = 2000
  const sab = new SharedArrayBuffer(8)
  const flags = new Int32Array(sab)
  const src = `
    const { workerData } = require('node:worker_threads')
    const { DataStore } = require(workerData.entry)
    const flags = new Int32Array(workerData.sab)
    const s = DataStore.open(workerData.file)
    Atomics.store(flags, 0, 1)
    Atomics.notify(flags, 0)
    Atomics.wait(flags, 1, 0) // start together with the main thread
    for (let i = 0; i < workerData.n; i++) {
      if (i % 3 === 0) s.batchWrite([['w' + i, 'worker value ' + i]])
      else if (i % 3 === 1) s.writeStream('w' + i, [Buffer.from('worker '), Buffer.from('value ' + i)])
      else s.write('w' + i, 'worker value ' + i)
    }
    s.close()
  `
  const { done } = runWorker(src, { file, entry: CJS_ENTRY, sab, n: N })
  // wait until the worker has the store open, then release both
  while (Atomics.load(flags, 0) === 0) await new Promise((r) => setTimeout(r, 1))
  Atomics.store(flags, 1, 1)
  Atomics.notify(flags, 1)
  let sawWorkerWrites = false
  for (let i = 0; i < N; i++) {
    s.write('m' + i, 'main value ' + i)
    if (!sawWorkerWrites && s.len() > i + 1) sawWorkerWrites = true
  }
  await done
  t.is(s.len(), 2 * N)
  for (let i = 0; i < N; i++) {
    t.is(text(s.read('m' + i)), 'main value ' + i)
    t.is(text(s.read('w' + i)), 'worker value ' + i)
  }
  t.is([...s].length, 2 * N)
  t.deepEqual(s.verify(), [])
  t.is(s.fileSize(), fs.statSync(file).size)
  s.close()
  const re = DataStore.open(file)
  t.is(re.len(), 2 * N)
  re.close()
  t.log(sawWorkerWrites ? 'worker writes interleaved with the main thread' : 'no interleaving observed')
})

test('a worker that exits without close() does not keep the file locked', async (t) => {
  const { file } = tmpFile(t)
  const s = DataStore.open(file)
  s.write('a', 'main')
  const src = `
    const { workerData } = require('node:worker_threads')
    const { DataStore } = require(workerData.entry)
    const s = DataStore.open(workerData.file)
    s.write('w', 'worker')
    globalThis.keep = [s, s.read('w')]
  `
  await runWorker(src, { file, entry: CJS_ENTRY }).done
  s.close()
  const r = openInChild(file)
  t.true(r.ok, r.message)
  t.is(r.len, 2)
})

// ---- other processes ---------------------------------------------------------------

const EXCLUSIVE = { exclusive: true }
/** The opens of another process, each of which a store held exclusive keeps out. */
const OTHER_OPENS = [undefined, EXCLUSIVE, { readOnly: true }]

test('a file held open here { exclusive: true }: every open of a second process gets ERR_STORE_LOCKED, and succeeds after close()', (t) => {
  const { file } = tmpFile(t)
  const s = DataStore.open(file, EXCLUSIVE)
  s.write('a', 'held')
  const before = fs.readFileSync(file)
  for (const options of OTHER_OPENS) {
    const r1 = openInChild(file, options)
    t.false(r1.ok, JSON.stringify(options))
    t.is(r1.code, 'ERR_STORE_LOCKED', JSON.stringify(options))
  }
  t.true(fs.readFileSync(file).equals(before), 'the locked-out opens did not touch the file')
  t.false(fs.existsSync(`${file}.shm`), 'nor made a .shm')

  // still locked after a compaction swapped the file
  s.write('a', 'held again')
  s.compact()
  for (const options of OTHER_OPENS) {
    const r2 = openInChild(file, options)
    t.false(r2.ok, JSON.stringify(options))
    t.is(r2.code, 'ERR_STORE_LOCKED', `after compaction: ${JSON.stringify(options)}`)
  }

  // two opens here (the second, without options, shares the exclusive engine): closing one keeps the lock
  const s2 = DataStore.open(file)
  s.close()
  for (const options of OTHER_OPENS) {
    const r3 = openInChild(file, options)
    t.false(r3.ok, JSON.stringify(options))
    t.is(r3.code, 'ERR_STORE_LOCKED', `one of two opens closed: ${JSON.stringify(options)}`)
  }
  s2.close()

  const r4 = openInChild(file, EXCLUSIVE)
  t.true(r4.ok, r4.message)
  t.is(r4.a, 'held again')
  t.is(r4.len, 1)
  // and this process can open it again afterwards
  const s3 = DataStore.open(file, EXCLUSIVE)
  t.is(text(s3.read('a')), 'held again')
  s3.close()
})

test('a file held open here in the default mode: a second process\'s exclusive open gets ERR_STORE_LOCKED; its default open shares it both ways', (t) => {
  const { file } = tmpFile(t)
  const s = DataStore.open(file)
  t.teardown(() => s.close())
  s.write('a', 'held')
  const before = fs.readFileSync(file)
  const locked = openInChild(file, EXCLUSIVE)
  t.deepEqual([locked.ok, locked.code], [false, 'ERR_STORE_LOCKED'], locked.message)
  t.true(fs.readFileSync(file).equals(before), 'the locked-out open did not touch the file')

  // a default open of another process sees this process's writes, and this one sees its write without reopening
  const r = openInChild(file, undefined, ['b', 'from the child'])
  t.true(r.ok, r.message)
  t.is(r.a, 'held')
  t.is(r.len, 1)
  t.is(text(s.read('b')), 'from the child')
  t.is(s.len(), 2)
  t.is(s.fileSize(), r.tail)
  s.write('a', 'written here after')
  const r2 = openInChild(file, { readOnly: true })
  t.deepEqual([r2.ok, r2.a, r2.len], [true, 'written here after', 2], r2.message)

  // still locked for exclusive after a compaction here
  s.compact()
  const r3 = openInChild(file, EXCLUSIVE)
  t.deepEqual([r3.ok, r3.code], [false, 'ERR_STORE_LOCKED'], r3.message)
  const r4 = openInChild(file, undefined, ['c', 'after compaction'])
  t.true(r4.ok, r4.message)
  t.is(text(s.read('c')), 'after compaction')

  s.close()
  const r5 = openInChild(file, EXCLUSIVE)
  t.deepEqual([r5.ok, r5.a, r5.len], [true, 'written here after', 3], r5.message)
})

/** A child holding `file` open with `options`; it writes a = 'from child' and answers each stdin line KEY with the value it reads. */
async function holdInChild(t, file, options) {
  const code = `
    import { DataStore } from ${JSON.stringify(ENTRY)}
    const s = DataStore.open(${JSON.stringify(file)}, ${JSON.stringify(options ?? null)})
    s.write('a', 'from child')
    process.stdout.write('ready\\n')
    let pending = ''
    process.stdin.setEncoding('utf8')
    process.stdin.on('data', (chunk) => {
      pending += chunk
      let nl
      while ((nl = pending.indexOf('\\n')) >= 0) {
        const key = pending.slice(0, nl)
        pending = pending.slice(nl + 1)
        const h = s.read(key)
        process.stdout.write(JSON.stringify(h && Buffer.from(h.bytes).toString()) + '\\n')
      }
    })
    process.stdin.on('end', () => { s.close(); process.exit(0) })
  `
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['pipe', 'pipe', 'inherit'] })
  t.teardown(() => {
    if (child.exitCode === null) child.kill()
  })
  child.stdout.setEncoding('utf8')
  const lines = child.stdout[Symbol.asyncIterator]()
  let buffered = ''
  const nextLine = async () => {
    while (!buffered.includes('\n')) {
      const { value, done } = await lines.next()
      if (done) throw new Error('the child ended')
      buffered += value
    }
    const nl = buffered.indexOf('\n')
    const line = buffered.slice(0, nl)
    buffered = buffered.slice(nl + 1)
    return line
  }
  t.is(await nextLine(), 'ready')
  return {
    read: async (key) => {
      child.stdin.write(`${key}\n`)
      return JSON.parse(await nextLine())
    },
    end: async () => {
      child.stdin.end()
      await once(child, 'exit')
    },
  }
}

test('a file held { exclusive: true } by another process cannot be opened here (ERR_STORE_LOCKED) until that process ends', async (t) => {
  const { file } = tmpFile(t)
  const child = await holdInChild(t, file, EXCLUSIVE)
  const before = fs.readFileSync(file)
  for (const [name, open] of [
    ['open', () => DataStore.open(file)],
    ['openExisting', () => DataStore.openExisting(file)],
    ['open exclusive', () => DataStore.open(file, EXCLUSIVE)],
    ['open readOnly', () => DataStore.open(file, { readOnly: true })],
    ['openExisting readOnly', () => DataStore.openExisting(file, { readOnly: true })],
  ]) {
    const err = t.throws(open, undefined, name)
    t.is(err?.code, 'ERR_STORE_LOCKED', name)
  }
  t.true(fs.readFileSync(file).equals(before))
  t.false(fs.existsSync(`${file}.shm`))

  await child.end()
  const s = DataStore.open(file)
  t.is(text(s.read('a')), 'from child')
  s.close()
})

test('a file held in the default mode by another process: an exclusive open here gets ERR_STORE_LOCKED; a default open here shares it both ways', async (t) => {
  const { file } = tmpFile(t)
  const child = await holdInChild(t, file)
  const before = fs.readFileSync(file)
  t.is(t.throws(() => DataStore.open(file, EXCLUSIVE))?.code, 'ERR_STORE_LOCKED')
  t.is(t.throws(() => DataStore.openExisting(file, EXCLUSIVE))?.code, 'ERR_STORE_LOCKED')
  t.true(fs.readFileSync(file).equals(before), 'the locked-out opens did not touch the file')

  const s = DataStore.open(file)
  t.teardown(() => s.close())
  t.is(text(s.read('a')), 'from child', 'the child\'s write, seen here')
  s.write('b', 'from parent')
  t.is(await child.read('b'), 'from parent', 'this process\'s write, seen by the child without reopening')
  t.is(await child.read('a'), 'from child')
  s.write('a', 'overwritten here')
  t.is(await child.read('a'), 'overwritten here')
  s.compact()
  t.is(await child.read('b'), 'from parent', 'after a compaction here')
  await child.end()
  t.is(text(s.read('b')), 'from parent')
  s.close()
  const e = DataStore.open(file, EXCLUSIVE)
  t.is(e.len(), 2, 'exclusive once the other process ended')
  e.close()
})

// ---- a path whose file was replaced ------------------------------------------------

test('DataStore.open(path) after the file was deleted creates a new file instead of reusing the stale engine', (t) => {
  const { file } = tmpFile(t)
  const s = DataStore.open(file)
  s.write('old', 'data')
  fs.rmSync(file) // e.g. a cleanup step while an old handle is still open
  const fresh = DataStore.open(file)
  t.teardown(() => {
    s.close()
    fresh.close()
  })
  t.true(fs.existsSync(file), 'open() must create the missing file')
  t.is(fresh.len(), 0, 'a new file is empty')
  fresh.write('new', 'data')
  t.true(fs.existsSync(file) && fs.statSync(file).size === fresh.fileSize(), 'writes must reach the file at `path`')
  t.true(fs.readFileSync(file).includes('data'), 'the new entry is in the file at `path`')
})

test('sanity: computeHash is process-independent', (t) => {
  const r = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', `import { computeHash } from ${JSON.stringify(ENTRY)}; process.stdout.write(String(computeHash('key')))`],
    { encoding: 'utf8' },
  )
  t.is(BigInt(r.stdout), computeHash('key'))
})
