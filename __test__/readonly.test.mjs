// Read-only opens ({ readOnly: true }) and how they meet exclusive ones.
// A read-only open asks for no write access and creates nothing: it reads a
// store whose file this user may not write (mode 0444, another owner: a
// child run as user nobody through setpriv) or that lies on a read-only
// mount (a bind mount remounted ro), reads a torn tail's valid prefix
// without cutting it, refuses damage in the middle, and follows the writes of
// other processes through the store's `.shm` page when it can read it. Every
// writer method throws (sync) or rejects (async) ERR_STORE_READ_ONLY and
// changes nothing. A store held `exclusive` keeps read-only opens out too,
// and a read-only open keeps exclusive opens out.
//
// The parts that need root (setpriv, mount) log why they did not run and
// pass only that part where they cannot.
import test from 'ava'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { AsyncDataStore, DataStore, computeChecksum, computeHash } from '../lib/index.mjs'
import { onLines } from './helpers/lines.mjs'
import { closer, text, tmpDir, tmpFile } from './helpers/store.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const HOLDER = path.join(here, 'helpers', 'holder-child.mjs')
const PROBE = path.join(here, 'helpers', 'readonly-child.mjs')
const NOBODY = ['--reuid=65534', '--regid=65534', '--clear-groups']
const RO = { readOnly: true }
const LINUX = process.platform === 'linux'

// ---- the store every test reads ---------------------------------------------------

const HASHED = 0x1234_5678_9abc_def0n
/** The plain keys `fill` leaves live, and their values. */
const EXPECTED = {
  alpha: 'first',
  beta: 'second, overwritten',
  gamma: 'streamed payload',
  renamed: 'was delta',
  b1: 'batch one',
  b2: 'batch two',
  last: 'final',
}
const ABSENT = ['delta', 'gone', 'never']
/** Live entries: the plain keys, one by hash, two TTL, two Option and one imported file. */
const LEN = Object.keys(EXPECTED).length + 6

/** Writes the entries above (every kind of write) into `store`. */
function fill(store, importFrom) {
  store.write('alpha', 'first')
  store.write('beta', 'second')
  store.write('beta', 'second, overwritten')
  store.writeStream('gamma', [Buffer.from('streamed '), Buffer.from('payload')])
  store.write('delta', 'was delta')
  store.rename('delta', 'renamed')
  store.write('gone', 'deleted')
  store.delete('gone')
  store.batchWrite([
    ['b1', 'batch one'],
    ['b2', 'batch two'],
  ])
  store.writeWithKeyHash(HASHED, 'by hash')
  store.writeWithTtl('session', 'token', 10, { now: 1000 }) // expired long ago
  store.writeWithTtl('fresh', 'live', 1_000_000)
  store.writeOption('opt', 'some')
  store.writeOption('none', null)
  fs.writeFileSync(path.join(importFrom, 'doc.txt'), 'imported file')
  store.importDir(importFrom)
  store.write('last', 'final')
}

/**
 * `{ dir, file }`: a new store filled as above and closed. Made `exclusive`,
 * it has no `.shm` beside it; made in the default mode, it has one.
 */
function makeStore(t, { exclusive = false, name = 'store.srd' } = {}) {
  const { dir, file } = tmpFile(t, name, 'srd-ro-')
  const s = DataStore.open(file, { exclusive })
  fill(s, tmpDir(t, 'srd-ro-import-'))
  s.close()
  t.is(fs.existsSync(`${file}.shm`), !exclusive, 'a .shm beside the store exactly when made in the default mode')
  return { dir, file }
}

/** Every name in `dir` with a hash of its bytes: compared before and after, nothing may change. */
function snapshot(dir) {
  return Object.fromEntries(
    fs
      .readdirSync(dir)
      .sort()
      .map((name) => [name, crypto.createHash('sha256').update(fs.readFileSync(path.join(dir, name))).digest('hex')]),
  )
}

async function collect(readable) {
  const chunks = []
  for await (const c of readable) chunks.push(Buffer.from(c))
  return Buffer.concat(chunks).toString('utf8')
}

/** Every reader of a sync store sees the filled store. */
async function checkReads(t, s, file, what) {
  for (const [k, v] of Object.entries(EXPECTED)) {
    t.is(text(s.read(k)), v, `${what}: read ${k}`)
    t.true(s.exists(k), `${what}: exists ${k}`)
  }
  for (const k of ABSENT) {
    t.is(s.read(k), null, `${what}: ${k} absent`)
    t.false(s.exists(k), `${what}: ${k} absent`)
  }
  t.is(s.len(), LEN, `${what}: len`)
  t.false(s.isEmpty())
  t.is(s.fileSize(), fs.statSync(file).size, `${what}: fileSize`)
  t.true(s.existsWithKeyHash(HASHED))
  t.is(text(s.readWithKeyHash(HASHED)), 'by hash')
  t.is(text(s.readLastEntry()), 'final')
  t.deepEqual(s.batchRead(['alpha', 'gone', 'b2']).map(text), ['first', null, 'batch two'])
  t.deepEqual(s.batchReadHashedKeys([computeHash('alpha'), HASHED]).map(text), ['first', 'by hash'])
  t.is(s.readMetadata('alpha').checksum, computeChecksum(Buffer.from('first')))
  t.is(s.read('beta', { verify: true }).bytes.toString(), 'second, overwritten')
  t.is([...s].length, LEN, `${what}: iteration`)
  t.deepEqual(s.verify(), [], `${what}: verify()`)
  t.true(s.estimateCompactionSavings() > 0, `${what}: estimateCompactionSavings`)
  t.is(await collect(s.readStream('gamma')), 'streamed payload')
  t.is(s.readStream('never'), null)
  // the extensions' readers
  t.is(s.readOption('opt', { as: 'string' }), 'some')
  t.is(s.readOption('none'), null)
  t.is(s.readOption('never'), undefined)
  t.is(s.readWithTtl('fresh', { as: 'string' }), 'live')
  t.is(s.readWithTtl('session', { as: 'string', now: 1005 }), 'token')
  t.is(s.ttlRemaining('session'), 0n)
  t.is(text(s.readFileEntry('doc.txt')), 'imported file')
  t.is(await collect(s.openFileStream('doc.txt')), 'imported file')
}

/** The same through an AsyncDataStore. */
async function checkReadsAsync(t, s, file, what) {
  for (const [k, v] of Object.entries(EXPECTED)) {
    t.is(text(await s.read(k)), v, `${what}: read ${k}`)
    t.true(await s.exists(k), `${what}: exists ${k}`)
  }
  for (const k of ABSENT) {
    t.is(await s.read(k), null, `${what}: ${k} absent`)
    t.false(await s.exists(k), `${what}: ${k} absent`)
  }
  t.is(await s.len(), LEN, `${what}: len`)
  t.false(await s.isEmpty())
  t.is(await s.fileSize(), fs.statSync(file).size, `${what}: fileSize`)
  t.true(await s.existsWithKeyHash(HASHED))
  t.is(text(await s.readWithKeyHash(HASHED)), 'by hash')
  t.is(text(await s.readLastEntry()), 'final')
  t.deepEqual((await s.batchRead(['alpha', 'gone', 'b2'])).map(text), ['first', null, 'batch two'])
  t.deepEqual((await s.batchReadHashedKeys([computeHash('alpha'), HASHED])).map(text), ['first', 'by hash'])
  t.is((await s.readMetadata('alpha')).checksum, computeChecksum(Buffer.from('first')))
  let n = 0
  for await (const h of s) if (h.size > 0) n++
  t.is(n, LEN, `${what}: iteration`)
  t.deepEqual(await s.verify(), [], `${what}: verify()`)
  t.true((await s.estimateCompactionSavings()) > 0)
  t.is(await collect(await s.readStream('gamma')), 'streamed payload')
  t.is(await s.readOption('opt', { as: 'string' }), 'some')
  t.is(await s.readWithTtl('fresh', { as: 'string' }), 'live')
  t.is(await s.ttlRemaining('session'), 0n)
  t.is(text(await s.readFileEntry('doc.txt')), 'imported file')
  t.is(await collect(await s.openFileStream('doc.txt')), 'imported file')
}

// ---- child processes -----------------------------------------------------------------

/** Why the parts run as user nobody cannot run here, or null. */
function nobodyUnavailable() {
  if (!LINUX) return 'setpriv and user nobody are Linux-only here'
  if (process.getuid?.() !== 0) return `needs root to run a child as nobody (uid ${process.getuid?.()})`
  if (spawnSync('setpriv', ['--version']).status !== 0) return 'setpriv is not installed'
  return null
}

/**
 * A child holding `file` open (helpers/holder-child.mjs), driven by JSON
 * commands: `opened` (its first answer), `send(cmd)`, `end()` (closes, exits).
 */
function holder(t, file, options, { api = 'open', nobody = false } = {}) {
  const args = [HOLDER, file, JSON.stringify(options ?? null), api]
  const child = nobody
    ? spawn('setpriv', [...NOBODY, process.execPath, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
    : spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d) => (stderr += d))
  const answers = []
  const waiting = []
  onLines(child.stdout, 'utf8', (line) => {
    const answer = JSON.parse(line)
    const w = waiting.shift()
    if (w) w(answer)
    else answers.push(answer)
  })
  const exited = once(child, 'exit')
  exited.then(() => {
    for (const w of waiting.splice(0)) w({ ok: false, code: 'CHILD_EXITED', message: stderr })
  })
  const next = () => (answers.length > 0 ? Promise.resolve(answers.shift()) : new Promise((resolve) => waiting.push(resolve)))
  t.teardown(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.stdin.end()
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(timer)
  })
  return {
    opened: next(),
    send(cmd) {
      child.stdin.write(`${JSON.stringify(cmd)}\n`)
      return next()
    },
    async end() {
      child.stdin.end()
      const [code, signal] = await exited
      return { code, signal, stderr }
    },
  }
}

/** Opens `file` in a one-shot child with `options`, optionally writes one key; `{ ok, len, values, tail }` or `{ ok: false, code }`. */
function openOnce(file, options, { write = null, keys = [] } = {}) {
  const code = `
    import { DataStore } from ${JSON.stringify(path.join(here, '..', 'lib', 'index.mjs'))}
    const [file, optionsJson, writeJson, keysJson] = process.argv.slice(1)
    let out
    try {
      const s = DataStore.open(file, JSON.parse(optionsJson))
      out = { ok: true }
      const w = JSON.parse(writeJson)
      if (w !== null) out.tail = s.write(w[0], w[1])
      out.values = {}
      for (const k of JSON.parse(keysJson)) { const h = s.read(k); out.values[k] = h && Buffer.from(h.bytes).toString() }
      out.len = s.len()
      s.close()
    } catch (e) {
      out = { ok: false, code: e.code, message: e.message }
    }
    process.stdout.write(JSON.stringify(out))
  `
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code, file, JSON.stringify(options ?? null), JSON.stringify(write), JSON.stringify(keys)], {
    encoding: 'utf8',
  })
  if (r.status !== 0) throw new Error(`child failed (${r.status} ${r.signal}): ${r.stderr}`)
  return JSON.parse(r.stdout)
}

/** Runs helpers/readonly-child.mjs (as nobody when asked); its JSON answer. */
function probe(config, { nobody = false } = {}) {
  const args = [PROBE, JSON.stringify(config)]
  const r = nobody ? spawnSync('setpriv', [...NOBODY, process.execPath, ...args], { encoding: 'utf8' }) : spawnSync(process.execPath, args, { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`probe failed (${r.status} ${r.signal}): ${r.stderr}`)
  return JSON.parse(r.stdout.trim().split('\n').pop())
}

/**
 * Bind-mounts `dir` read-only at a new directory; `{ mnt }`, or `{ why }`
 * when this system does not let us mount (not root, EPERM in a container).
 */
function readOnlyMount(t, dir) {
  if (!LINUX) return { why: 'bind mounts are Linux-only here' }
  if (process.getuid?.() !== 0) return { why: `mounting needs root (uid ${process.getuid?.()})` }
  const mnt = tmpDir(t, 'srd-ro-mnt-')
  try {
    execFileSync('mount', ['--bind', dir, mnt], { stdio: 'pipe' })
  } catch (err) {
    return { why: `mount --bind failed: ${String(err.stderr || err.message).trim()}` }
  }
  t.teardown(() => {
    try {
      execFileSync('umount', [mnt], { stdio: 'pipe' })
    } catch {
      execFileSync('umount', ['-l', mnt], { stdio: 'pipe' })
    }
  })
  try {
    execFileSync('mount', ['-o', 'remount,bind,ro', mnt], { stdio: 'pipe' })
  } catch (err) {
    return { why: `remount read-only failed: ${String(err.stderr || err.message).trim()}` }
  }
  try {
    fs.writeFileSync(path.join(mnt, 'probe'), 'x')
    return { why: 'the mount was still writable after remount,ro' }
  } catch (err) {
    if (err.code !== 'EROFS') return { why: `writing on the mount failed with ${err.code}, not EROFS` }
  }
  return { mnt }
}

// A sync source that counts how much of it was pulled.
function countingSource(chunks) {
  const source = {
    pulled: 0,
    *[Symbol.iterator]() {
      for (const c of chunks) {
        source.pulled++
        yield Buffer.from(c)
      }
    },
  }
  return source
}

// ---- readers -------------------------------------------------------------------------

test('a read-only DataStore (open and openExisting) and its .async view read everything', async (t) => {
  const { dir, file } = makeStore(t)
  const before = snapshot(dir)
  const track = closer(t)
  for (const [name, open] of [
    ['DataStore.open', () => DataStore.open(file, RO)],
    ['DataStore.openExisting', () => DataStore.openExisting(file, RO)],
  ]) {
    const s = track(open())
    await checkReads(t, s, file, name)
    await checkReadsAsync(t, s.async, file, `${name} .async`)
    t.is(s.path, fs.realpathSync(file))
    s.close()
    t.true(s.closed)
  }
  t.deepEqual(snapshot(dir), before, 'nothing in the directory changed')
})

test('a read-only AsyncDataStore (open and openExisting) reads everything', async (t) => {
  const { dir, file } = makeStore(t)
  const before = snapshot(dir)
  const track = closer(t)
  for (const [name, open] of [
    ['AsyncDataStore.open', () => AsyncDataStore.open(file, RO)],
    ['AsyncDataStore.openExisting', () => AsyncDataStore.openExisting(file, RO)],
  ]) {
    const s = track(await open())
    await checkReadsAsync(t, s, file, name)
    await s.close()
    t.true(s.closed)
  }
  t.deepEqual(snapshot(dir), before, 'nothing in the directory changed')
})

test('a read-only open of a store without a .shm (made exclusive) creates none, nor anything else', async (t) => {
  const { dir, file } = makeStore(t, { exclusive: true })
  const before = snapshot(dir)
  t.deepEqual(Object.keys(before), ['store.srd'])
  const s = DataStore.open(file, RO)
  await checkReads(t, s, file, 'no .shm')
  t.deepEqual(snapshot(dir), before, 'nothing created while open')
  s.close()
  const a = await AsyncDataStore.openExisting(file, RO)
  await checkReadsAsync(t, a, file, 'no .shm, async')
  await a.close()
  t.deepEqual(snapshot(dir), before)
})

// ---- writers -------------------------------------------------------------------------

test('every writer method of a read-only DataStore throws ERR_STORE_READ_ONLY and changes nothing', async (t) => {
  const { dir, file } = makeStore(t)
  const importSrc = tmpDir(t, 'srd-ro-src-')
  fs.writeFileSync(path.join(importSrc, 'new.txt'), 'new file')
  const { dir: otherDir, file: otherFile } = tmpFile(t, 'other.srd', 'srd-ro-other-')
  const track = closer(t)
  const w = track(DataStore.open(otherFile))
  w.write('wkey', 'writable value')
  const otherBefore = fs.readFileSync(otherFile)
  const before = snapshot(dir)
  const s = track(DataStore.open(file, RO))
  const stream = countingSource(['streamed ', 'in ', 'three'])
  const writers = [
    ['write', () => s.write('new', 'x')],
    ['write over a live key', () => s.write('alpha', 'changed')],
    ['writeWithKeyHash', () => s.writeWithKeyHash(7n, 'x')],
    ['batchWrite', () => s.batchWrite([['new', 'x'], ['alpha', 'y']])],
    ['batchWriteWithKeyHashes', () => s.batchWriteWithKeyHashes([[7n, 'x']])],
    ['batchWriteWithKeyHashes (a tombstone)', () => s.batchWriteWithKeyHashes([[HASHED, new Uint8Array([0])]], true)],
    ['writeStream', () => s.writeStream('new', stream)],
    ['writeStreamWithKeyHash', () => s.writeStreamWithKeyHash(7n, [Buffer.from('x')])],
    ['rename', () => s.rename('alpha', 'omega')],
    ['copy into the read-only store', () => w.copy('wkey', s)],
    ['transfer out of the read-only store', () => s.transfer('alpha', w)],
    ['transfer into the read-only store', () => w.transfer('wkey', s)],
    ['delete', () => s.delete('alpha')],
    ['batchDelete', () => s.batchDelete(['alpha', 'beta'])],
    ['batchDeleteKeyHashes', () => s.batchDeleteKeyHashes([HASHED])],
    ['sync', () => s.sync()],
    ['compact', () => s.compact()],
    ['writeWithTtl', () => s.writeWithTtl('t2', 'v', 60)],
    ['writeOption', () => s.writeOption('opt', 'other')],
    ['writeOption (None)', () => s.writeOption('opt', null)],
    ['importDir', () => s.importDir(importSrc)],
  ]
  for (const [name, call] of writers) {
    const err = t.throws(call, undefined, name)
    t.is(err?.code, 'ERR_STORE_READ_ONLY', `${name}: ${err?.message}`)
  }
  t.log(`writeStream on a read-only store pulled ${stream.pulled} of 3 chunks from its source before refusing`)
  t.deepEqual(snapshot(dir), before, 'the read-only store\'s directory is unchanged')
  t.is(text(w.read('wkey')), 'writable value', 'a refused transfer into the read-only store kept its source')
  t.is(text(w.read('alpha')), null, 'a refused transfer out of the read-only store left no copy in its target')
  t.is(w.len(), 1)
  t.true(fs.readFileSync(otherFile).equals(otherBefore), 'the writable store is unchanged (no half copy or transfer)')
  t.deepEqual(fs.readdirSync(otherDir).sort(), ['other.srd', 'other.srd.shm'])
  await checkReads(t, s, file, 'after the refused writes')
})

test('every writer method of a read-only AsyncDataStore rejects with ERR_STORE_READ_ONLY and changes nothing', async (t) => {
  const { dir, file } = makeStore(t)
  const importSrc = tmpDir(t, 'srd-ro-src-')
  fs.writeFileSync(path.join(importSrc, 'new.txt'), 'new file')
  const { file: otherFile } = tmpFile(t, 'other.srd', 'srd-ro-other-')
  const track = closer(t)
  const w = track(await AsyncDataStore.open(otherFile))
  await w.write('wkey', 'writable value')
  const otherBefore = fs.readFileSync(otherFile)
  const before = snapshot(dir)
  for (const [how, open] of [
    ['AsyncDataStore.open', () => AsyncDataStore.open(file, RO)],
    ['AsyncDataStore.openExisting', () => AsyncDataStore.openExisting(file, RO)],
    ['DataStore.openExisting(...).async', async () => DataStore.openExisting(file, RO).async],
  ]) {
    const s = track(await open())
    const writers = [
      ['write', () => s.write('new', 'x')],
      ['writeWithKeyHash', () => s.writeWithKeyHash(7n, 'x')],
      ['batchWrite', () => s.batchWrite([['new', 'x']])],
      ['batchWriteWithKeyHashes', () => s.batchWriteWithKeyHashes([[7n, 'x']])],
      ['writeStream (Readable)', () => s.writeStream('new', Readable.from([Buffer.from('a'), Buffer.from('b')]))],
      [
        'writeStream (async generator)',
        () =>
          s.writeStream(
            'new',
            (async function* () {
              yield Buffer.from('x')
            })(),
          ),
      ],
      ['writeStream (web ReadableStream)', () => s.writeStream('new', new Blob(['web']).stream())],
      ['writeStreamWithKeyHash', () => s.writeStreamWithKeyHash(7n, [Buffer.from('x')])],
      ['rename', () => s.rename('alpha', 'omega')],
      ['copy into the read-only store', () => w.copy('wkey', s)],
      ['transfer out of the read-only store', () => s.transfer('alpha', w)],
      ['transfer into the read-only store', () => w.transfer('wkey', s)],
      ['delete', () => s.delete('alpha')],
      ['batchDelete', () => s.batchDelete(['alpha'])],
      ['batchDeleteKeyHashes', () => s.batchDeleteKeyHashes([HASHED])],
      ['sync', () => s.sync()],
      ['compact', () => s.compact()],
      ['writeWithTtl', () => s.writeWithTtl('t2', 'v', 60)],
      ['writeOption', () => s.writeOption('opt', null)],
      ['importDir', () => s.importDir(importSrc)],
    ]
    for (const [name, call] of writers) {
      // throwsAsync fails on a synchronous throw: each must return a rejected Promise.
      const err = await t.throwsAsync(call, undefined, `${how}: ${name}`)
      t.is(err?.code, 'ERR_STORE_READ_ONLY', `${how}: ${name}: ${err?.message}`)
    }
    // Several at once, as the write queue groups them.
    const many = await Promise.allSettled([s.write('p', '1'), s.write('q', '2'), s.delete('alpha'), s.batchWrite([['r', '3']])])
    t.deepEqual(
      many.map((r) => r.reason?.code),
      Array(4).fill('ERR_STORE_READ_ONLY'),
      `${how}: grouped writes`,
    )
    await checkReadsAsync(t, s, file, `${how}: after the refused writes`)
    await s.close()
  }
  t.deepEqual(snapshot(dir), before, 'the read-only store\'s directory is unchanged')
  t.is(text(await w.read('wkey')), 'writable value', 'a refused transfer into the read-only store kept its source')
  t.is(text(await w.read('alpha')), null, 'a refused transfer out of the read-only store left no copy in its target')
  t.true(fs.readFileSync(otherFile).equals(otherBefore), 'the writable store is unchanged')
})

test('writer methods of a read-only store refuse with ERR_STORE_READ_ONLY whatever their arguments (absent keys, empty batches)', (t) => {
  const { dir, file } = makeStore(t)
  const { file: otherFile } = tmpFile(t, 'other.srd', 'srd-ro-other-')
  const track = closer(t)
  const w = track(DataStore.open(otherFile))
  const before = snapshot(dir)
  const s = track(DataStore.open(file, RO))
  const got = {}
  const want = {}
  for (const [name, call] of [
    ['delete of an absent key', () => s.delete('never')],
    ['batchDelete of absent keys', () => s.batchDelete(['never'])],
    ['batchDelete([])', () => s.batchDelete([])],
    ['batchWrite([])', () => s.batchWrite([])],
    ['batchDeleteKeyHashes([])', () => s.batchDeleteKeyHashes([])],
    ['batchWriteWithKeyHashes([])', () => s.batchWriteWithKeyHashes([])],
    ['rename of an absent key', () => s.rename('never', 'x')],
    ['transfer of an absent key', () => s.transfer('never', w)],
  ]) {
    const err = t.throws(call, undefined, name)
    got[name] = err?.code === 'ERR_STORE_READ_ONLY' ? err.code : `${err?.code} (${err?.message})`
    want[name] = 'ERR_STORE_READ_ONLY'
  }
  t.deepEqual(got, want)
  t.deepEqual(snapshot(dir), before)
  t.is(w.len(), 0)
})

test('copy from a read-only store into a writable one works (it only reads the source)', async (t) => {
  const { dir, file } = makeStore(t)
  const before = snapshot(dir)
  const { file: otherFile } = tmpFile(t, 'other.srd', 'srd-ro-other-')
  const track = closer(t)
  const s = track(DataStore.open(file, RO))
  const w = track(DataStore.open(otherFile))
  const tail = s.copy('alpha', w)
  t.is(tail, w.fileSize(), 'copy returns the target\'s tail')
  t.is(text(w.read('alpha')), 'first')
  const a = track(await AsyncDataStore.open(file, RO))
  const aw = w.async
  t.is(await a.copy('beta', aw), w.fileSize())
  t.is(await a.copy('gamma', w), w.fileSize())
  t.is(text(w.read('beta')), 'second, overwritten')
  t.is(text(w.read('gamma')), 'streamed payload')
  t.is(w.len(), 3)
  t.deepEqual(w.verify(), [])
  t.is(t.throws(() => s.copy('never', w)).code, 'ERR_KEY_NOT_FOUND')
  t.deepEqual(snapshot(dir), before, 'the source is unchanged')
  await checkReads(t, s, file, 'source after the copies')
})

test('readWithTtl of an expired entry on a read-only store answers null, throws nothing and deletes nothing', async (t) => {
  const { dir, file } = makeStore(t)
  const before = snapshot(dir)
  const track = closer(t)
  const s = track(DataStore.open(file, RO))
  t.is(s.readWithTtl('session'), null, 'expired: null (a writable store would delete it)')
  t.is(s.readWithTtl('session', { as: 'string' }), null)
  t.is(s.ttlRemaining('session'), 0n)
  t.is(s.readWithTtl('session', { as: 'string', now: 1005 }), 'token', 'the entry is still there')
  t.is(s.len(), LEN)
  const a = track(await AsyncDataStore.openExisting(file, RO))
  t.is(await a.readWithTtl('session'), null)
  t.is(await s.async.readWithTtl('session'), null)
  t.is(await a.readWithTtl('session', { as: 'string', now: 1005 }), 'token')
  t.is(await a.len(), LEN)
  t.deepEqual(snapshot(dir), before)
  // For contrast: a writable store deletes it on the same read.
  s.close()
  await a.close()
  const rw = track(DataStore.open(file))
  t.is(rw.readWithTtl('session'), null)
  t.is(rw.readWithTtl('session', { now: 1005 }), null, 'a writable store deleted the expired entry')
  t.is(rw.len(), LEN - 1)
})

// ---- opening -------------------------------------------------------------------------

test('read-only opens of a missing file: ENOENT from every opener, and neither the file nor a .shm is created', async (t) => {
  const dir = tmpDir(t, 'srd-ro-')
  const file = path.join(dir, 'missing.srd')
  const inMissingDir = path.join(dir, 'no-such-dir', 'missing.srd')
  for (const p of [file, inMissingDir]) {
    for (const [name, open] of [
      ['DataStore.open', () => DataStore.open(p, RO)],
      ['DataStore.openExisting', () => DataStore.openExisting(p, RO)],
    ]) {
      const err = t.throws(open, undefined, name)
      t.is(err?.code, 'ENOENT', `${name} ${p}: ${err?.message}`)
    }
    for (const [name, open] of [
      ['AsyncDataStore.open', () => AsyncDataStore.open(p, RO)],
      ['AsyncDataStore.openExisting', () => AsyncDataStore.openExisting(p, RO)],
    ]) {
      const err = await t.throwsAsync(open, undefined, name)
      t.is(err?.code, 'ENOENT', `${name} ${p}: ${err?.message}`)
    }
  }
  t.deepEqual(fs.readdirSync(dir), [], 'nothing created')
})

test('{ readOnly: true, repair: true } is ERR_INVALID_ARG_VALUE from every opener and touches nothing', async (t) => {
  const { dir, file } = makeStore(t)
  const before = snapshot(dir)
  const missing = path.join(dir, 'missing.srd')
  const opts = { readOnly: true, repair: true }
  for (const p of [file, missing]) {
    for (const [name, open] of [
      ['DataStore.open', () => DataStore.open(p, opts)],
      ['DataStore.openExisting', () => DataStore.openExisting(p, opts)],
    ]) {
      const err = t.throws(open, undefined, name)
      t.is(err?.code, 'ERR_INVALID_ARG_VALUE', `${name}: ${err?.message}`)
    }
    for (const [name, open] of [
      ['AsyncDataStore.open', () => AsyncDataStore.open(p, opts)],
      ['AsyncDataStore.openExisting', () => AsyncDataStore.openExisting(p, opts)],
    ]) {
      const err = await t.throwsAsync(open, undefined, name)
      t.is(err?.code, 'ERR_INVALID_ARG_VALUE', `${name}: ${err?.message}`)
    }
  }
  t.deepEqual(snapshot(dir), before, 'no file, backup or .shm created, the store unchanged')
})

test('{ readOnly: true, exclusive: true } is refused, or keeps other processes out: never silently ignored', (t) => {
  const { dir, file } = makeStore(t)
  const before = snapshot(dir)
  let s
  try {
    s = DataStore.open(file, { readOnly: true, exclusive: true })
  } catch (err) {
    t.is(err.code, 'ERR_INVALID_ARG_VALUE', err.message)
    t.deepEqual(snapshot(dir), before)
    t.log('refused with ERR_INVALID_ARG_VALUE')
    return
  }
  t.teardown(() => s.close())
  t.is(s.len(), LEN)
  // Accepted: then it must keep the other processes out, as exclusive says.
  const got = {}
  for (const [name, options] of [
    ['default (and write)', {}],
    ['exclusive', { exclusive: true }],
    ['readOnly', RO],
  ]) {
    const r = openOnce(file, options, { write: name === 'default (and write)' ? ['intruder', 'x'] : null })
    got[name] = r.ok ? 'opened' : r.code
  }
  t.deepEqual(
    got,
    { 'default (and write)': 'ERR_STORE_LOCKED', exclusive: 'ERR_STORE_LOCKED', readOnly: 'ERR_STORE_LOCKED' },
    'opens of another process while this one holds the store { readOnly: true, exclusive: true }',
  )
  t.deepEqual(snapshot(dir), before, 'no other process wrote')
})

// ---- damaged files ------------------------------------------------------------------

/** A store of 20 entries, the last an overwrite of `k5`; made exclusive (no .shm). Its bytes and the offsets of each entry's end. */
function smallStore(t) {
  const { dir, file } = tmpFile(t, 'store.srd', 'srd-ro-torn-')
  const s = DataStore.open(file, { exclusive: true })
  const ends = []
  for (let i = 0; i < 20; i++) ends.push(s.write(`k${i}`, `value ${i} `.padEnd(20 + i * 7, '.')))
  ends.push(s.write('k5', 'newest k5'))
  s.close()
  return { dir, file, bytes: fs.readFileSync(file), ends }
}

test('torn tails: a read-only open reads the valid prefix and leaves the file byte-identical (every opener)', async (t) => {
  const { dir, file, bytes, ends } = smallStore(t)
  const whole = bytes.length
  const prev = ends[ends.length - 2]
  const cases = [
    ['7 junk bytes appended', Buffer.concat([bytes, Buffer.from([1, 2, 3, 4, 5, 6, 7])]), whole],
    ['4 KiB of junk appended', Buffer.concat([bytes, Buffer.alloc(4096, 0xab)]), whole],
    ['100 zero bytes appended', Buffer.concat([bytes, Buffer.alloc(100)]), whole],
    ['the last entry cut by 5 bytes', bytes.subarray(0, whole - 5), prev],
    ['the last entry cut by 20 bytes (its metadata)', bytes.subarray(0, whole - 20), prev],
    ['the last entry cut to its padding', bytes.subarray(0, prev + 3), prev],
  ]
  for (const [what, damaged, valid] of cases) {
    fs.writeFileSync(file, damaged)
    const k5 = valid === whole ? 'newest k5' : 'value 5 '.padEnd(55, '.')
    const check = async (s, how) => {
      const msg = `${what}, ${how}`
      t.is(await s.len(), 20, msg)
      t.is(await s.fileSize(), valid, `${msg}: fileSize is the valid prefix`)
      t.is(text(await s.read('k5')), k5, `${msg}: k5`)
      t.is(text(await s.read('k19')), 'value 19 '.padEnd(153, '.'), `${msg}: k19`)
      t.deepEqual(await s.verify(), [], msg)
      let n = 0
      for await (const h of s) if (h) n++
      t.is(n, 20, `${msg}: iteration`)
      const err = await t.throwsAsync(async () => s.write('x', 'y'))
      t.is(err.code, 'ERR_STORE_READ_ONLY')
      await s.close()
    }
    await check(DataStore.open(file, RO), 'DataStore.open')
    await check(DataStore.openExisting(file, RO), 'DataStore.openExisting')
    await check(await AsyncDataStore.open(file, RO), 'AsyncDataStore.open')
    await check(await AsyncDataStore.openExisting(file, RO), 'AsyncDataStore.openExisting')
    t.true(fs.readFileSync(file).equals(damaged), `${what}: the file is byte-identical (not cut)`)
    t.deepEqual(fs.readdirSync(dir), ['store.srd'], `${what}: nothing created`)
  }
})

test('damage in the middle: every read-only opener fails with ERR_CORRUPT_STORE and leaves the file byte-identical', async (t) => {
  const { dir, file, bytes, ends } = smallStore(t)
  const zeroed = Buffer.from(bytes)
  zeroed.fill(0, ends[8] - 20, ends[8]) // the metadata of entry 8
  const flipped = Buffer.from(bytes)
  for (let i = ends[8] - 20; i < ends[8]; i++) flipped[i] ^= 0x55
  for (const [what, damaged] of [
    ['metadata zeroed', zeroed],
    ['metadata flipped', flipped],
  ]) {
    fs.writeFileSync(file, damaged)
    for (const [name, open] of [
      ['DataStore.open', async () => DataStore.open(file, RO)],
      ['DataStore.openExisting', async () => DataStore.openExisting(file, RO)],
      ['AsyncDataStore.open', () => AsyncDataStore.open(file, RO)],
      ['AsyncDataStore.openExisting', () => AsyncDataStore.openExisting(file, RO)],
    ]) {
      const err = await t.throwsAsync(open, undefined, `${what}: ${name}`)
      t.is(err?.code, 'ERR_CORRUPT_STORE', `${what}: ${name}: ${err?.message}`)
    }
    t.true(fs.readFileSync(file).equals(damaged), `${what}: byte-identical`)
    t.deepEqual(fs.readdirSync(dir), ['store.srd'], `${what}: no backup, no .shm`)
  }
})

// ---- other processes ----------------------------------------------------------------

test('a read-only open beside a writer in another process follows its writes, deletes and compaction without reopening', async (t) => {
  const { dir, file } = makeStore(t)
  const writer = holder(t, file)
  t.deepEqual(await writer.opened, { ok: true, len: LEN })
  const track = closer(t)
  const s = track(DataStore.open(file, RO))
  const a = track(await AsyncDataStore.openExisting(file, RO))
  t.is(s.len(), LEN)
  const held = s.read('alpha')

  t.true((await writer.send({ op: 'write', key: 'child', value: 'from the writer' })).ok)
  t.is(text(s.read('child')), 'from the writer', 'sync: a later write seen without reopening')
  t.is(text(await a.read('child')), 'from the writer', 'async: a later write seen without reopening')
  t.is(s.len(), LEN + 1)
  t.is(await a.len(), LEN + 1)
  t.is(s.fileSize(), fs.statSync(file).size)

  t.true((await writer.send({ op: 'write', key: 'alpha', value: 'overwritten by the writer' })).ok)
  t.true((await writer.send({ op: 'delete', key: 'beta' })).ok)
  t.is(text(s.read('alpha')), 'overwritten by the writer')
  t.is(s.read('beta'), null)
  t.false(await a.exists('beta'))
  t.is(s.len(), LEN)

  t.true((await writer.send({ op: 'compact' })).ok)
  t.is(text(s.read('alpha')), 'overwritten by the writer', 'after the writer compacted')
  t.is(text(await a.read('gamma')), 'streamed payload')
  t.is(s.fileSize(), fs.statSync(file).size, 'the compacted file')
  t.is([...s].length, LEN)
  t.deepEqual(s.verify(), [])
  t.is(text(held), 'first', 'a handle taken before still reads its bytes')
  t.true((await writer.send({ op: 'write', key: 'after', value: 'after compaction' })).ok)
  t.is(text(s.read('after')), 'after compaction')

  t.is(t.throws(() => s.write('x', 'y')).code, 'ERR_STORE_READ_ONLY', 'still read-only beside the writer')
  t.is((await t.throwsAsync(() => a.delete('alpha'))).code, 'ERR_STORE_READ_ONLY')
  const r = await writer.send({ op: 'readKeys', keys: ['x', 'alpha'] })
  t.deepEqual(r.values, { x: null, alpha: 'overwritten by the writer' })

  t.deepEqual(await writer.end(), { code: 0, signal: null, stderr: '' })
  t.is(text(s.read('after')), 'after compaction', 'readable after the writer left')
  t.deepEqual(fs.readdirSync(dir).sort(), ['store.srd', 'store.srd.shm'])
})

test('a store held exclusive by another process: every read-only open gets ERR_STORE_LOCKED and changes nothing; opens once it is closed', async (t) => {
  const { dir, file } = makeStore(t, { exclusive: true })
  const held = holder(t, file, { exclusive: true })
  t.deepEqual(await held.opened, { ok: true, len: LEN })
  t.true((await held.send({ op: 'write', key: 'child', value: 'exclusive writer' })).ok)
  const before = snapshot(dir)
  t.deepEqual(Object.keys(before), ['store.srd'], 'an exclusive store has no .shm')
  for (const [name, open] of [
    ['DataStore.open', async () => DataStore.open(file, RO)],
    ['DataStore.openExisting', async () => DataStore.openExisting(file, RO)],
    ['AsyncDataStore.open', () => AsyncDataStore.open(file, RO)],
    ['AsyncDataStore.openExisting', () => AsyncDataStore.openExisting(file, RO)],
  ]) {
    const err = await t.throwsAsync(open, undefined, name)
    t.is(err?.code, 'ERR_STORE_LOCKED', `${name}: ${err?.message}`)
  }
  t.deepEqual(snapshot(dir), before, 'the locked-out opens created and changed nothing')
  t.deepEqual(await held.end(), { code: 0, signal: null, stderr: '' })
  const s = DataStore.open(file, RO)
  t.teardown(() => s.close())
  t.is(text(s.read('child')), 'exclusive writer')
  t.is(s.len(), LEN + 1)
})

test('a read-only open keeps exclusive opens of other processes out; their default and read-only opens work, and it sees their writes', async (t) => {
  const { dir, file } = makeStore(t)
  const s = DataStore.open(file, RO)
  t.teardown(() => s.close())
  const before = snapshot(dir)
  const excl = openOnce(file, { exclusive: true })
  t.deepEqual([excl.ok, excl.code], [false, 'ERR_STORE_LOCKED'], JSON.stringify(excl))
  t.deepEqual(snapshot(dir), before, 'the locked-out exclusive open changed nothing')

  const ro = openOnce(file, RO, { keys: ['alpha', 'last'] })
  t.true(ro.ok, JSON.stringify(ro))
  t.deepEqual(ro.values, { alpha: 'first', last: 'final' })

  const rw = openOnce(file, {}, { write: ['from-child', 'a default open in another process'], keys: ['alpha'] })
  t.true(rw.ok, JSON.stringify(rw))
  t.is(rw.values.alpha, 'first')
  t.is(text(s.read('from-child')), 'a default open in another process', 'seen here without reopening')
  t.is(s.len(), LEN + 1)

  // Also through a read-only holder in a child: an exclusive open here is kept out.
  s.close()
  const child = holder(t, file, RO, { api: 'async' })
  t.deepEqual(await child.opened, { ok: true, len: LEN + 1 })
  t.is(t.throws(() => DataStore.open(file, { exclusive: true })).code, 'ERR_STORE_LOCKED')
  await child.end()
  const e = DataStore.open(file, { exclusive: true })
  t.is(e.len(), LEN + 1, 'exclusive once no other process has it open')
  e.close()
})

// ---- one process, several opens ------------------------------------------------------

test('in one process: a read-only open beside default opens of the same path stays read-only and sees their writes', (t) => {
  const { file } = makeStore(t)
  const track = closer(t)
  const w = track(DataStore.open(file))
  const s = track(DataStore.open(file, RO))
  t.is(t.throws(() => s.write('x', 'y')).code, 'ERR_STORE_READ_ONLY', 'read-only although this process has the store open for writing')
  t.is(t.throws(() => s.delete('alpha')).code, 'ERR_STORE_READ_ONLY')
  t.is(s.read('x'), null)
  w.write('w', 'from the writable open')
  t.is(text(s.read('w')), 'from the writable open')
  // A default open made after the read-only one writes, and the read-only one sees it.
  const w2 = track(DataStore.open(file))
  w2.write('w2', 'second writable open')
  t.is(text(s.read('w2')), 'second writable open')
  t.is(text(w.read('w2')), 'second writable open')
  w.compact()
  t.is(text(s.read('w')), 'from the writable open')
  t.is(s.len(), LEN + 2)
})

test('in one process: a read-only open of a path this process holds exclusive is ERR_STORE_LOCKED, saying why; the exclusive store is unharmed', (t) => {
  const { file } = makeStore(t, { exclusive: true })
  const track = closer(t)
  const e = track(DataStore.open(file, { exclusive: true }))
  e.write('e', 'exclusive writer')
  // A read-only open gets an engine of its own (no write access), which
  // exclusive keeps out as it keeps out other processes.
  const err = t.throws(() => DataStore.open(file, RO))
  t.is(err.code, 'ERR_STORE_LOCKED')
  t.regex(err.message, /exclusive/)
  t.regex(err.message, /in this one for a read-only open/)
  t.is(text(e.read('e')), 'exclusive writer')
  t.is(e.len(), LEN + 1)
  e.close()
  const s = track(DataStore.open(file, RO))
  t.is(text(s.read('e')), 'exclusive writer', 'opens once the exclusive store is closed')
})

test('a read-only open made while the store had no .shm follows a writer that came later: at once for a new open, within 256 reads for the first', (t) => {
  const { file } = makeStore(t, { exclusive: true }) // no .shm
  const track = closer(t)
  const first = track(DataStore.open(file, RO))
  t.is(first.len(), LEN)
  t.false(fs.existsSync(`${file}.shm`))
  const w = openOnce(file, {}, { write: ['late', 'written after the read-only open'] })
  t.true(w.ok, JSON.stringify(w))
  let reads = 0
  while (first.read('late') === null && reads < 300) reads++
  t.true(reads <= 256, `the first read-only open found the page within 256 reads (took ${reads})`)
  t.is(text(first.read('late')), 'written after the read-only open')
  const again = track(DataStore.open(file, RO))
  t.is(text(again.read('late')), 'written after the read-only open', 'a new read-only open reads the file as it is now')
  const w2 = openOnce(file, {}, { write: ['later', 'followed through the page'] })
  t.true(w2.ok, JSON.stringify(w2))
  t.is(text(first.read('later')), 'followed through the page', 'from then on, at once')
  t.is(text(again.read('later')), 'followed through the page')
  t.is(first.len(), LEN + 2)
})

// ---- another user, read-only media ---------------------------------------------------

/** A store in a directory mode 0755 and file mode `mode`, both owned by root. */
function storeForNobody(t, { exclusive, mode = 0o444 }) {
  const { dir, file } = makeStore(t, { exclusive })
  fs.chmodSync(dir, 0o755)
  fs.chmodSync(file, mode)
  return { dir, file }
}

test('as user nobody: a mode-0444 store owned by root opens read-only with every opener and reads every key; read-write opens are EACCES', (t) => {
  const why = nobodyUnavailable()
  if (why) {
    t.log(`skipped: ${why}`)
    return t.pass()
  }
  for (const exclusive of [false, true]) {
    const what = exclusive ? 'no .shm' : 'with its .shm (mode 0644)'
    const { dir, file } = storeForNobody(t, { exclusive })
    const before = snapshot(dir)
    const out = probe({ file, keys: [...Object.keys(EXPECTED), ...ABSENT] }, { nobody: true })
    t.is(out.uid, 65534)
    const values = { ...EXPECTED, ...Object.fromEntries(ABSENT.map((k) => [k, null])) }
    for (const [name, r] of Object.entries(out.readOnly)) {
      t.deepEqual(r, { values, len: LEN, verify: 0, write: 'ERR_STORE_READ_ONLY' }, `${what}: ${name} { readOnly: true }`)
    }
    t.is(Object.keys(out.readOnly).length, 4)
    for (const [name, r] of Object.entries(out.readWrite)) {
      t.is(r.code, 'EACCES', `${what}: ${name}: ${JSON.stringify(r)}`)
    }
    t.is(Object.keys(out.readWrite).length, 8)
    t.deepEqual(snapshot(dir), before, `${what}: nothing changed or created`)
  }
})

test('as user nobody: a read-only holder follows the writes of this (root) process through the .shm it can only read', async (t) => {
  const why = nobodyUnavailable()
  if (why) {
    t.log(`skipped: ${why}`)
    return t.pass()
  }
  const { dir, file } = storeForNobody(t, { exclusive: false, mode: 0o644 })
  const w = DataStore.open(file)
  t.teardown(() => w.close())
  const child = holder(t, file, RO, { nobody: true })
  t.deepEqual(await child.opened, { ok: true, len: LEN })
  const denied = await child.send({ op: 'write', key: 'x', value: 'y' })
  t.is(denied.code, 'ERR_STORE_READ_ONLY')
  w.write('late', 'written by root after nobody opened')
  w.delete('alpha')
  let r = await child.send({ op: 'readKeys', keys: ['late', 'alpha', 'beta'] })
  t.deepEqual(r, { ok: true, values: { late: 'written by root after nobody opened', alpha: null, beta: 'second, overwritten' }, len: LEN })
  w.compact()
  w.write('after', 'after compaction')
  r = await child.send({ op: 'readKeys', keys: ['late', 'after', 'gamma'] })
  t.deepEqual(r, { ok: true, values: { late: 'written by root after nobody opened', after: 'after compaction', gamma: 'streamed payload' }, len: LEN + 1 })
  t.deepEqual(await child.end(), { code: 0, signal: null, stderr: '' })
  t.deepEqual(fs.readdirSync(dir).sort(), ['store.srd', 'store.srd.shm'])
})

test('on a read-only bind mount: read-only opens work and create nothing; read-write opens fail with EROFS', (t) => {
  const base = tmpDir(t, 'srd-ro-media-')
  // Two stores: one with its .shm (default mode), one without (exclusive).
  for (const [name, exclusive] of [
    ['shared.srd', false],
    ['alone.srd', true],
  ]) {
    const s = DataStore.open(path.join(base, name), { exclusive })
    fill(s, tmpDir(t, 'srd-ro-import-'))
    s.close()
  }
  const before = snapshot(base)
  t.deepEqual(Object.keys(before), ['alone.srd', 'shared.srd', 'shared.srd.shm'])
  const { mnt, why } = readOnlyMount(t, base)
  if (why) {
    t.log(`skipped: ${why}`)
    return t.pass()
  }
  const values = { ...EXPECTED, ...Object.fromEntries(ABSENT.map((k) => [k, null])) }
  for (const name of ['shared.srd', 'alone.srd']) {
    // In a child: its mappings end with it, so the mount can be unmounted.
    const out = probe({ file: path.join(mnt, name), keys: [...Object.keys(EXPECTED), ...ABSENT] })
    for (const [opener, r] of Object.entries(out.readOnly)) {
      t.deepEqual(r, { values, len: LEN, verify: 0, write: 'ERR_STORE_READ_ONLY' }, `${name}: ${opener} { readOnly: true }`)
    }
    t.is(Object.keys(out.readOnly).length, 4)
    for (const [opener, r] of Object.entries(out.readWrite)) {
      t.is(typeof r.code, 'string', `${name}: ${opener}: a coded error: ${JSON.stringify(r)}`)
      t.is(r.code, 'EROFS', `${name}: ${opener}: ${JSON.stringify(r)}`)
    }
    t.is(Object.keys(out.readWrite).length, 8)
    t.deepEqual(out.listing, ['alone.srd', 'shared.srd', 'shared.srd.shm'], `${name}: nothing created on the mount`)
  }
  t.deepEqual(snapshot(base), before)
})

test('a writeStream larger than the in-memory spool (4 MiB) on a read-only store is ERR_STORE_READ_ONLY, not an error of its spool file', (t) => {
  const BIG = 5 << 20
  const keys = ['alpha']
  const got = {}
  const want = {}
  const record = (where, out) => {
    for (const [opener, r] of Object.entries(out.readOnly)) {
      got[`${where}: ${opener}`] = r.bigStream === 'ERR_STORE_READ_ONLY' ? r.bigStream : `${r.bigStream} (${r.bigStreamMessage})`
      want[`${where}: ${opener}`] = 'ERR_STORE_READ_ONLY'
    }
  }
  // Where the store's directory is writable (root, here): the spool file can be made.
  record('writable directory', probe({ file: makeStore(t).file, keys, bigStream: BIG }))
  // As nobody, in a directory nobody may not write.
  const noNobody = nobodyUnavailable()
  if (noNobody) t.log(`skipped (as nobody): ${noNobody}`)
  else record('as nobody', probe({ file: storeForNobody(t, { exclusive: false }).file, keys, bigStream: BIG }, { nobody: true }))
  // On a read-only mount.
  const { dir, file } = makeStore(t)
  const { mnt, why } = readOnlyMount(t, dir)
  if (why) t.log(`skipped (read-only mount): ${why}`)
  else record('read-only mount', probe({ file: path.join(mnt, path.basename(file)), keys, bigStream: BIG }))
  t.deepEqual(got, want)
})
