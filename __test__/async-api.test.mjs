// The public async API (design.md sections 4-5, issue 3): every AsyncDataStore
// method, each result and error compared with its sync twin (DataStore), the
// `store.async` view, group commit (issue order, last write wins, isolation of
// a bad batch), durability, close and Symbol.asyncDispose.
import test from 'ava'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { AsyncDataStore, DataStore, EntryHandle, computeHash } from '../lib/index.mjs'
import { closer, text, tmpDir } from './helpers/store.mjs'

/** Closes every store (sync or async) at teardown, ignoring already-closed ones. */
/** A settled write: its tail, or its error's code. */
const outcome = (r) => (r.status === 'fulfilled' ? r.value : r.reason.code)

/** An AsyncDataStore and a DataStore in fresh files of one temp dir, closed at teardown. */
async function twins(t) {
  const dir = tmpDir(t)
  const keep = closer(t)
  const a = keep(await AsyncDataStore.open(path.join(dir, 'async.bin')))
  const s = keep(DataStore.open(path.join(dir, 'sync.bin')))
  return { dir, a, s }
}
const sha = (bytes) => crypto.createHash('sha256').update(bytes).digest('hex')

/** Everything observable about a handle (bytes by digest), or null. */
function norm(h) {
  if (h === null) return null
  return {
    keyHash: h.keyHash,
    size: h.size,
    fileSize: h.fileSize,
    checksum: h.checksum,
    startOffset: h.startOffset,
    endOffset: h.endOffset,
    prevOffset: h.prevOffset,
    valid: h.isValidChecksum(),
    digest: sha(h.bytes),
  }
}

const isPromise = (v) => v instanceof Promise || (v !== null && typeof v === 'object' && typeof v.then === 'function')

/** Calls an async method, asserting it does not throw synchronously and returns a Promise. */
function callAsync(t, fn, label) {
  let p
  try {
    p = fn()
  } catch (err) {
    t.fail(`${label}: threw synchronously (${err?.code}: ${err?.message}) instead of rejecting`)
    return Promise.reject(err)
  }
  t.true(isPromise(p), `${label}: returns a Promise`)
  return p
}

/** Deterministic payload of `n` bytes derived from `seed`. */
function pattern(n, seed) {
  const b = Buffer.alloc(n)
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7 + 1) & 0xff
  return b
}

/** Splits a buffer into chunks of `size` bytes. */
function chunksOf(buf, size) {
  const out = []
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, Math.min(buf.length, i + size)))
  return out
}

async function* asyncGen(chunks) {
  for (const c of chunks) {
    await new Promise((r) => setImmediate(r))
    yield c
  }
}

function webStream(chunks) {
  let i = 0
  return new ReadableStream({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(new Uint8Array(chunks[i++]))
      else controller.close()
    },
  })
}

const bytesOfReadable = async (r) => {
  const parts = []
  for await (const c of r) parts.push(Buffer.from(c))
  return Buffer.concat(parts)
}

// ---- the twin scenario --------------------------------------------------------

const STREAM_A = pattern(300 * 1024, 1) // in the memory spool
const STREAM_B = pattern(5 * 1024 * 1024 + 17, 2) // past the 4 MiB memory spool (temp file)
const STREAM_C = pattern(70 * 1024, 3)
const STREAM_D = pattern(1000, 4)
const STREAM_E = pattern(130 * 1024 + 3, 5)
const BIG = pattern(200 * 1024, 6)

/**
 * Runs the same sequence of every writer and reader method on `s` (a DataStore
 * or an AsyncDataStore); `t1` and `t2` are copy/transfer targets. Returns the
 * list of [label, result] pairs; with an async store every call must return a
 * Promise. The stream sources differ by kind for the async store (Readable,
 * async generator, array, web ReadableStream) and are arrays for the sync one.
 */
async function scenario(t, s, t1, t2, isAsync) {
  const out = []
  const call = async (label, fn) => {
    const v = isAsync ? await callAsync(t, fn, label) : fn()
    out.push([label, v])
    return v
  }
  const src = (kind, buf, size) => {
    const chunks = chunksOf(buf, size)
    if (!isAsync) return chunks
    if (kind === 'readable') return Readable.from(chunks)
    if (kind === 'gen') return asyncGen(chunks)
    if (kind === 'web') return webStream(chunks)
    return chunks
  }
  const h = (k) => computeHash(k)

  await call('isEmpty0', () => s.isEmpty())
  await call('len0', () => s.len())
  await call('fileSize0', () => s.fileSize())
  await call('readLastEntry0', () => s.readLastEntry())
  await call('write alpha', () => s.write('alpha', 'one'))
  await call('write bytes key', () => s.write(new Uint8Array([1, 2, 3]), new Uint8Array([9, 8, 7, 6])))
  await call('write big', () => s.write('big', BIG))
  await call('writeWithKeyHash', () => s.writeWithKeyHash(h('hashed'), 'by hash'))
  await call('batchWrite', () => s.batchWrite([['b1', 'x1'], ['b2', BIG.subarray(0, 100 * 1024)], ['b3', 'x3'], ['b1', 'x1 again']]))
  await call('batchWriteWithKeyHashes', () => s.batchWriteWithKeyHashes([[h('n1'), 'p1'], [h('n2'), 'p2']]))
  await call('batchWriteWithKeyHashes allowNull', () =>
    s.batchWriteWithKeyHashes([[h('n2'), new Uint8Array([0])], [h('n3'), 'p3']], true),
  )
  await call('writeStream readable', () => s.writeStream('sA', src('readable', STREAM_A, 64 * 1024)))
  await call('writeStream gen', () => s.writeStream('sB', src('gen', STREAM_B, 256 * 1024)))
  await call('writeStream array', () => s.writeStream('sC', src('array', STREAM_C, 7000)))
  await call('writeStream web', () => s.writeStream('sD', src('web', STREAM_D, 100)))
  await call('writeStreamWithKeyHash', () => s.writeStreamWithKeyHash(h('sE'), src('web', STREAM_E, 50 * 1024)))
  await call('writeStreamWithKeyHash readable', () => s.writeStreamWithKeyHash(h('sF'), src('readable', STREAM_D, 10)))
  await call('writeStreamWithKeyHash gen', () => s.writeStreamWithKeyHash(h('sG'), src('gen', STREAM_C, 4096)))
  await call('writeStreamWithKeyHash array', () => s.writeStreamWithKeyHash(h('sH'), src('array', STREAM_A, 100 * 1024)))
  await call('rename', () => s.rename('alpha', 'beta'))
  await call('copy t1', () => s.copy('beta', t1))
  await call('copy t2', () => s.copy('big', t2))
  await call('transfer t1', () => s.transfer('b3', t1))
  await call('transfer t2', () => s.transfer('sC', t2))
  await call('delete live', () => s.delete('b2'))
  await call('delete absent', () => s.delete('never-written'))
  await call('batchDelete', () => s.batchDelete(['hashed', 'never', 'hashed']))
  await call('batchDeleteKeyHashes', () => s.batchDeleteKeyHashes([h('n1'), h('nope')]))
  await call('write last', () => s.write('last', 'L'))
  await call('sync', () => s.sync())

  // readers
  await call('exists beta', () => s.exists('beta'))
  await call('exists alpha', () => s.exists('alpha'))
  await call('exists bytes key', () => s.exists(Buffer.from([1, 2, 3])))
  await call('existsWithKeyHash sE', () => s.existsWithKeyHash(h('sE')))
  await call('existsWithKeyHash n2', () => s.existsWithKeyHash(h('n2')))
  const reads = ['beta', 'alpha', 'big', 'b1', 'b2', 'b3', 'sA', 'sB', 'sC', 'sD', 'last', 'hashed', 'never']
  for (const k of reads) out.push([`read ${k}`, norm(await (isAsync ? callAsync(t, () => s.read(k), 'read') : s.read(k)))])
  for (const k of ['sE', 'sF', 'sG', 'sH', 'n1', 'n2', 'n3']) {
    out.push([`readWithKeyHash ${k}`, norm(await (isAsync ? callAsync(t, () => s.readWithKeyHash(h(k)), 'rwkh') : s.readWithKeyHash(h(k))))])
  }
  out.push(['readLastEntry', norm(await call('_rle', () => s.readLastEntry()))])
  out.push(['batchRead', (await call('_br', () => s.batchRead(['beta', 'missing', 'sB', new Uint8Array([1, 2, 3])]))).map(norm)])
  out.push(['batchReadHashedKeys', (await call('_brh', () => s.batchReadHashedKeys([h('n3'), h('sE'), h('zz')]))).map(norm)])
  out.push([
    'batchReadHashedKeys with keys',
    (await call('_brhk', () => s.batchReadHashedKeys([h('beta'), h('last')], ['beta', 'last']))).map(norm),
  ])
  await call('readMetadata beta', () => s.readMetadata('beta'))
  await call('readMetadata missing', () => s.readMetadata('alpha'))
  await call('len', () => s.len())
  await call('isEmpty', () => s.isEmpty())
  await call('fileSize', () => s.fileSize())
  await call('estimateCompactionSavings', () => s.estimateCompactionSavings())
  await call('verify', () => s.verify())

  const rs = await call('_readStream', () => s.readStream('sB'))
  out.push(['readStream sB', sha(await bytesOfReadable(rs))])
  out.push(['readStream missing', await call('_rsm', () => s.readStream('missing'))])

  // iteration: entries() and the iterator protocol
  const listed = []
  if (isAsync) {
    const it = s.entries()
    t.is(typeof it[Symbol.asyncIterator], 'function')
    for await (const e of it) listed.push(norm(e))
    const viaProtocol = []
    for await (const e of s) viaProtocol.push(norm(e))
    t.deepEqual(viaProtocol, listed, 'for await (… of store) equals entries()')
  } else {
    for (const e of s.entries()) listed.push(norm(e))
  }
  out.push(['entries', listed])

  // compaction
  const savings = await call('_savings', () => s.estimateCompactionSavings())
  const before = await call('_before', () => s.fileSize())
  await call('compact', () => s.compact())
  const after = await call('fileSize after compact', () => s.fileSize())
  t.is(before - after, savings, 'the estimate is what compaction frees')
  await call('estimateCompactionSavings after compact', () => s.estimateCompactionSavings())
  out.push(['read sB after compact', norm(await call('_rsb', () => s.read('sB')))])
  out.push(['readLastEntry after compact', norm(await call('_rle2', () => s.readLastEntry()))])
  const listed2 = []
  if (isAsync) for await (const e of s.entries()) listed2.push(norm(e))
  else for (const e of s.entries()) listed2.push(norm(e))
  out.push(['entries after compact', listed2])
  await call('verify after compact', () => s.verify())
  await call('write after compact', () => s.write('post', 'compaction'))
  await call('len end', () => s.len())
  return out.filter(([label]) => !label.startsWith('_'))
}

test('every async method returns a Promise whose value equals its sync twin (same sequence on a DataStore)', async (t) => {
  const dir = tmpDir(t)
  const keep = closer(t)
  const s = keep(DataStore.open(path.join(dir, 'sync.bin')))
  const st1 = keep(DataStore.open(path.join(dir, 'sync-t1.bin')))
  const st2 = keep(DataStore.open(path.join(dir, 'sync-t2.bin')))
  const a = keep(await AsyncDataStore.open(path.join(dir, 'async.bin')))
  const at1 = keep(await AsyncDataStore.open(path.join(dir, 'async-t1.bin'))) // AsyncDataStore target
  const at2 = keep(DataStore.open(path.join(dir, 'async-t2.bin'))) // DataStore target of an async store
  t.true(a instanceof AsyncDataStore)

  const syncOut = await scenario(t, s, st1, st2, false)
  const asyncOut = await scenario(t, a, at1, at2, true)
  t.is(asyncOut.length, syncOut.length)
  for (let i = 0; i < syncOut.length; i++) {
    t.is(asyncOut[i][0], syncOut[i][0])
    t.deepEqual(asyncOut[i][1], syncOut[i][1], `async ${asyncOut[i][0]} equals sync`)
  }

  // spot checks of the values themselves, so the twin comparison is not vacuous
  const res = new Map(asyncOut)
  t.true(res.get('isEmpty0'))
  t.is(res.get('fileSize0'), 0)
  t.is(res.get('readLastEntry0'), null)
  t.is(res.get('read alpha'), null)
  t.is(res.get('read beta').digest, sha(Buffer.from('one')))
  t.is(res.get('read sB').size, STREAM_B.length)
  t.is(res.get('read sB').digest, sha(STREAM_B))
  t.true(res.get('read sB').valid)
  t.is(res.get('read sA').digest, sha(STREAM_A))
  t.is(res.get('read sD').digest, sha(STREAM_D))
  t.is(res.get('readWithKeyHash sE').digest, sha(STREAM_E))
  t.is(res.get('readWithKeyHash sF').digest, sha(STREAM_D))
  t.is(res.get('readWithKeyHash sG').digest, sha(STREAM_C))
  t.is(res.get('readWithKeyHash sH').digest, sha(STREAM_A))
  t.is(res.get('read sC'), null, 'transferred away')
  t.is(res.get('readWithKeyHash n2'), null, 'allowNullBytes wrote a tombstone')
  t.is(res.get('readWithKeyHash n1'), null)
  t.is(res.get('readWithKeyHash n3').digest, sha(Buffer.from('p3')))
  t.is(res.get('read b1').digest, sha(Buffer.from('x1 again')), 'later entry of a batch wins')
  t.is(res.get('delete absent'), res.get('delete live'), 'delete of an absent key writes nothing')
  t.is(res.get('readStream missing'), null)
  t.is(res.get('readStream sB'), sha(STREAM_B))
  t.deepEqual(res.get('verify'), [])
  t.true(res.get('estimateCompactionSavings') > 0)
  t.is(res.get('estimateCompactionSavings after compact'), 0)
  t.is(res.get('sync'), undefined)
  t.false(res.get('isEmpty'))
  t.is(res.get('readLastEntry').digest, sha(Buffer.from('L')))
  t.deepEqual(res.get('readMetadata beta'), {
    keyHash: computeHash('beta'),
    prevOffset: res.get('read beta').prevOffset,
    checksum: res.get('read beta').checksum,
  })
  t.is(res.get('readMetadata missing'), null)
  t.is(res.get('entries').length, res.get('len'))
  t.is(res.get('write after compact'), await a.fileSize())

  // every returned tail is a number equal to the file length at that moment is checked by the twin;
  // the targets hold the same data on both sides
  for (const [st, at] of [
    [st1, at1],
    [st2, at2],
  ]) {
    t.is(await at.fileSize(), st.fileSize())
    t.deepEqual((await at.batchRead(['beta', 'b3', 'big', 'sC'])).map(norm), st.batchRead(['beta', 'b3', 'big', 'sC']).map(norm))
  }
  t.is(text(await at1.read('beta')), 'one')
  t.is(sha(at2.read('sC').bytes), sha(STREAM_C))
})

test('AsyncDataStore.open builds the index of an existing file; openExisting rejects ENOENT without creating the file', async (t) => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'store.bin')
  const s = DataStore.open(file)
  s.write('a', 'alpha')
  s.write('b', 'beta')
  s.delete('a')
  s.close()

  const p = callAsync(t, () => AsyncDataStore.openExisting(file), 'openExisting')
  const a = await p
  t.teardown(() => a.close())
  t.true(a instanceof AsyncDataStore)
  t.is(a.path, fs.realpathSync(file))
  t.false(a.closed)
  t.is(text(await a.read('b')), 'beta')
  t.is(await a.read('a'), null)
  t.is(await a.len(), 1)

  const missing = path.join(dir, 'missing.bin')
  const err = await t.throwsAsync(callAsync(t, () => AsyncDataStore.openExisting(missing), 'openExisting missing'))
  t.is(err.code, 'ENOENT')
  t.false(fs.existsSync(missing), 'openExisting must not create the file')
  t.is(t.throws(() => DataStore.openExisting(missing)).code, 'ENOENT', 'same code as the sync twin')

  // open creates; bad arguments reject (never throw) with the sync twin's code
  const created = path.join(dir, 'created.bin')
  const c = await AsyncDataStore.open(created)
  t.true(fs.existsSync(created))
  t.true(await c.isEmpty())
  await c.close()
  for (const [label, args] of [
    ['number path', [123]],
    ['empty path', ['']],
    ['bad options', [path.join(dir, 'x.bin'), 5]],
  ]) {
    const syncErr = t.throws(() => DataStore.open(...args), undefined, label)
    const asyncErr = await t.throwsAsync(callAsync(t, () => AsyncDataStore.open(...args), label))
    t.is(asyncErr.code, syncErr.code, label)
    t.truthy(asyncErr.code, label)
  }
})

test('store.async on a DataStore shares the engine: async writes are visible to sync reads right after await, and vice versa', async (t) => {
  const dir = tmpDir(t)
  const s = DataStore.open(path.join(dir, 'store.bin'))
  t.teardown(() => s.close())
  const a = s.async
  t.true(a instanceof AsyncDataStore)
  t.is(s.async, a, 'the same async view every time')
  t.is(a.path, s.path)

  for (let i = 0; i < 20; i++) {
    const tail = await a.write(`a${i}`, `async ${i}`)
    t.is(s.fileSize(), tail)
    t.is(text(s.read(`a${i}`)), `async ${i}`)
    const tail2 = s.write(`s${i}`, `sync ${i}`)
    t.is(await a.fileSize(), tail2)
    t.is(text(await a.read(`s${i}`)), `sync ${i}`)
    t.true(await a.exists(`s${i}`))
  }
  // batch, delete and stream through the async view, read through the sync store
  await a.batchWrite([
    ['x', 'X'],
    ['y', 'Y'],
  ])
  t.deepEqual(s.batchRead(['x', 'y']).map(text), ['X', 'Y'])
  await a.delete('x')
  t.false(s.exists('x'))
  await a.writeStream('st', asyncGen([Buffer.from('str'), Buffer.from('eam')]))
  t.is(text(s.read('st')), 'stream')
  s.delete('y')
  t.is(await a.read('y'), null)
  t.is(await a.len(), s.len())
  t.deepEqual(
    (await a.readLastEntry()) === null ? null : norm(await a.readLastEntry()),
    s.readLastEntry() === null ? null : norm(s.readLastEntry()),
  )
  s.compact()
  t.is(text(await a.read('st')), 'stream', 'async reads follow a sync compaction')
  await a.compact()
  t.is(text(s.read('a7')), 'async 7', 'sync reads follow an async compaction')
  t.is(await a.fileSize(), s.fileSize())
})

test('transfer into an AsyncDataStore and into a DataStore target: returns the source tail, moves the entry', async (t) => {
  const dir = tmpDir(t)
  const keep = closer(t)
  const a = keep(await AsyncDataStore.open(path.join(dir, 'src.bin')))
  const ta = keep(await AsyncDataStore.open(path.join(dir, 'ta.bin')))
  const ts = keep(DataStore.open(path.join(dir, 'ts.bin')))
  await a.batchWrite([
    ['one', '1'],
    ['two', '2'],
  ])
  const t1 = await a.transfer('one', ta)
  t.is(t1, await a.fileSize())
  t.is(await a.read('one'), null)
  t.is(text(await ta.read('one')), '1')
  const t2 = await a.transfer('two', ts)
  t.is(t2, await a.fileSize())
  t.is(text(ts.read('two')), '2')
  t.true(await a.isEmpty())
  // copy returns the target's tail
  await ta.write('back', 'b')
  t.is(await ta.copy('back', a), await a.fileSize())
  t.is(await ta.copy('back', ts), ts.fileSize())
  t.is(text(await a.read('back')), 'b')
  // into the same file (same engine) is rejected, as for the sync store
  const same = keep(DataStore.open(path.join(dir, 'src.bin')))
  t.is((await t.throwsAsync(a.copy('back', same))).code, 'ERR_INVALID_ARG_VALUE')
  t.is((await t.throwsAsync(a.transfer('back', a))).code, 'ERR_INVALID_ARG_VALUE')
  t.is((await t.throwsAsync(a.transfer('absent', ta))).code, 'ERR_KEY_NOT_FOUND')
})

// ---- errors -------------------------------------------------------------------

/** Error cases: [method, args]; 'T' is replaced by a copy target, 'SELF' by the store itself. */
const ERROR_CASES = [
  ['write', [1, 'x'], 'ERR_INVALID_ARG_TYPE'],
  ['write', ['k', 5], 'ERR_INVALID_ARG_TYPE'],
  ['write', [undefined, 'x'], 'ERR_INVALID_ARG_TYPE'],
  ['write', ['k', null], 'ERR_INVALID_ARG_TYPE'],
  ['write', ['k', ''], 'ERR_INVALID_ARG_VALUE'],
  ['write', ['k', new Uint8Array(0)], 'ERR_INVALID_ARG_VALUE'],
  ['write', ['k', new Uint8Array([0])], 'ERR_INVALID_ARG_VALUE'],
  ['writeWithKeyHash', ['x', 'v'], 'ERR_INVALID_ARG_TYPE'],
  ['writeWithKeyHash', [1, 'v'], 'ERR_INVALID_ARG_TYPE'],
  ['writeWithKeyHash', [-1n, 'v'], 'ERR_INVALID_ARG_VALUE'],
  ['writeWithKeyHash', [2n ** 64n, 'v'], 'ERR_INVALID_ARG_VALUE'],
  ['writeWithKeyHash', [1n, ''], 'ERR_INVALID_ARG_VALUE'],
  ['batchWrite', ['nope'], 'ERR_INVALID_ARG_TYPE'],
  ['batchWrite', [null], 'ERR_INVALID_ARG_TYPE'],
  ['batchWrite', [['k']], 'ERR_INVALID_ARG_TYPE'],
  ['batchWrite', [[[1, 'v']]], 'ERR_INVALID_ARG_TYPE'],
  ['batchWrite', [[['a', 'x'], ['b', '']]], 'ERR_INVALID_ARG_VALUE'],
  ['batchWrite', [[['a', 'x'], ['b', new Uint8Array([0])]]], 'ERR_INVALID_ARG_VALUE'],
  ['batchWriteWithKeyHashes', [[[1n, new Uint8Array([0])]]], 'ERR_INVALID_ARG_VALUE'],
  ['batchWriteWithKeyHashes', [[[1n, '']], true], 'ERR_INVALID_ARG_VALUE'],
  ['batchWriteWithKeyHashes', [[['x', 'v']]], 'ERR_INVALID_ARG_TYPE'],
  ['batchWriteWithKeyHashes', [[[-5n, 'v']]], 'ERR_INVALID_ARG_VALUE'],
  ['writeStream', ['k', 42], 'ERR_INVALID_ARG_TYPE'],
  ['writeStream', ['k', null], 'ERR_INVALID_ARG_TYPE'],
  ['writeStream', ['k', 'abc'], 'ERR_INVALID_ARG_TYPE'],
  ['writeStream', ['k', new String('abc')], 'ERR_INVALID_ARG_TYPE'],
  ['writeStream', [1, [Buffer.from('x')]], 'ERR_INVALID_ARG_TYPE'],
  ['writeStream', ['k', [5]], 'ERR_INVALID_ARG_TYPE'],
  ['writeStream', ['k', []], 'ERR_INVALID_ARG_VALUE'],
  ['writeStream', ['k', [Buffer.alloc(10), Buffer.alloc(3)]], 'ERR_INVALID_ARG_VALUE'],
  ['writeStreamWithKeyHash', ['x', [Buffer.from('x')]], 'ERR_INVALID_ARG_TYPE'],
  ['writeStreamWithKeyHash', [-1n, [Buffer.from('x')]], 'ERR_INVALID_ARG_VALUE'],
  ['writeStreamWithKeyHash', [1n, []], 'ERR_INVALID_ARG_VALUE'],
  ['rename', ['absent', 'x'], 'ERR_KEY_NOT_FOUND'],
  ['rename', ['k', 'k'], 'ERR_INVALID_ARG_VALUE'],
  ['rename', [1, 'x'], 'ERR_INVALID_ARG_TYPE'],
  ['rename', ['k', 1], 'ERR_INVALID_ARG_TYPE'],
  ['copy', ['absent', 'T'], 'ERR_KEY_NOT_FOUND'],
  ['copy', ['k', 'SELF'], 'ERR_INVALID_ARG_VALUE'],
  ['copy', ['k', {}], 'ERR_INVALID_ARG_TYPE'],
  ['copy', ['k', null], 'ERR_INVALID_ARG_TYPE'],
  ['copy', [1, 'T'], 'ERR_INVALID_ARG_TYPE'],
  ['transfer', ['absent', 'T'], 'ERR_KEY_NOT_FOUND'],
  ['transfer', ['k', 'SELF'], 'ERR_INVALID_ARG_VALUE'],
  ['transfer', ['k', {}], 'ERR_INVALID_ARG_TYPE'],
  ['delete', [1], 'ERR_INVALID_ARG_TYPE'],
  ['batchDelete', ['x'], 'ERR_INVALID_ARG_TYPE'],
  ['batchDelete', [[1]], 'ERR_INVALID_ARG_TYPE'],
  ['batchDeleteKeyHashes', ['x'], 'ERR_INVALID_ARG_TYPE'],
  ['batchDeleteKeyHashes', [[1]], 'ERR_INVALID_ARG_TYPE'],
  ['batchDeleteKeyHashes', [[-1n]], 'ERR_INVALID_ARG_VALUE'],
  ['exists', [1], 'ERR_INVALID_ARG_TYPE'],
  ['existsWithKeyHash', [1], 'ERR_INVALID_ARG_TYPE'],
  ['existsWithKeyHash', [-1n], 'ERR_INVALID_ARG_VALUE'],
  ['read', [{}], 'ERR_INVALID_ARG_TYPE'],
  ['readWithKeyHash', ['x'], 'ERR_INVALID_ARG_TYPE'],
  ['readWithKeyHash', [-1n], 'ERR_INVALID_ARG_VALUE'],
  ['batchRead', ['x'], 'ERR_INVALID_ARG_TYPE'],
  ['batchRead', [[1]], 'ERR_INVALID_ARG_TYPE'],
  ['batchReadHashedKeys', [[1n], ['k']], 'ERR_HASH_COLLISION'],
  ['batchReadHashedKeys', [[computeHash('k'), 2n], ['k', 'other']], 'ERR_HASH_COLLISION'],
  ['batchReadHashedKeys', [['x']], 'ERR_INVALID_ARG_TYPE'],
  ['batchReadHashedKeys', [[-1n]], 'ERR_INVALID_ARG_VALUE'],
  ['batchReadHashedKeys', [[1n, 2n], ['k']], 'ERR_INVALID_ARG_VALUE'],
  ['readMetadata', [1], 'ERR_INVALID_ARG_TYPE'],
  ['readStream', [1], 'ERR_INVALID_ARG_TYPE'],
]

async function openPair(t) {
  const dir = tmpDir(t)
  const keep = closer(t)
  const s = keep(DataStore.open(path.join(dir, 's.bin')))
  const st = keep(DataStore.open(path.join(dir, 'st.bin')))
  const a = keep(await AsyncDataStore.open(path.join(dir, 'a.bin')))
  const at = keep(await AsyncDataStore.open(path.join(dir, 'at.bin')))
  s.write('k', 'v')
  await a.write('k', 'v')
  return { dir, s, st, a, at, keep }
}

test('errors reject (never throw synchronously) with the sync twin\'s code, and change nothing', async (t) => {
  const { s, st, a, at } = await openPair(t)
  const sizeS = s.fileSize()
  const sizeA = await a.fileSize()
  t.is(sizeA, sizeS)
  for (const [method, args, code] of ERROR_CASES) {
    const label = `${method}(${args.map((x) => JSON.stringify(x, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))).join(', ')})`
    const fix = (target, self) => args.map((x) => (x === 'T' ? target : x === 'SELF' ? self : x))
    const syncErr = t.throws(() => s[method](...fix(st, s)), undefined, `sync ${label}`)
    t.is(syncErr?.code, code, `sync ${label}`)
    const asyncErr = await t.throwsAsync(callAsync(t, () => a[method](...fix(at, a)), label), undefined, `async ${label}`)
    t.is(asyncErr?.code, syncErr?.code, `async ${label} rejects with the sync code`)
    t.true(asyncErr instanceof Error, label)
  }
  t.is(await a.fileSize(), sizeA, 'no failed call wrote anything')
  t.is(s.fileSize(), sizeS)
  t.is(text(await a.read('k')), 'v')
  t.is(await a.len(), 1)
  t.is(await at.fileSize(), 0)
  t.deepEqual(await a.verify(), [])
})

// Product bug (reported): a [key, payload] pair of the wrong length is ERR_INVALID_ARG_VALUE
// from the sync batchWrite (native `pair()`), but ERR_INVALID_ARG_TYPE from the async one
// (`checkPairs` in src/async.ts throws typeError for every malformed entry).
test('a batch entry that is not a [key, payload] pair rejects with the sync twin\'s code', async (t) => {
  const { s, a } = await openPair(t)
  for (const entries of [[['k']], [['k', 'v', 'w']], [[]]]) {
    const label = JSON.stringify(entries)
    const syncErr = t.throws(() => s.batchWrite(entries))
    const asyncErr = await t.throwsAsync(callAsync(t, () => a.batchWrite(entries), label))
    t.is(asyncErr?.code, syncErr?.code, `batchWrite(${label}): async ${asyncErr?.code} vs sync ${syncErr?.code}`)
    const hashed = entries.map((e) => e.map((x, i) => (i === 0 ? 1n : x)))
    const syncErr2 = t.throws(() => s.batchWriteWithKeyHashes(hashed))
    const asyncErr2 = await t.throwsAsync(callAsync(t, () => a.batchWriteWithKeyHashes(hashed), label))
    t.is(asyncErr2?.code, syncErr2?.code, `batchWriteWithKeyHashes: async ${asyncErr2?.code} vs sync ${syncErr2?.code}`)
  }
})

test('after close() every async method rejects ERR_STORE_CLOSED (as the sync twin throws it); close is idempotent', async (t) => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'store.bin')
  const a = await AsyncDataStore.open(file)
  const other = await AsyncDataStore.open(path.join(dir, 'other.bin'))
  t.teardown(() => other.close())
  await a.batchWrite([
    ['a', 'alpha'],
    ['b', 'beta'],
  ])
  await other.write('o', 'other')
  const h = await a.read('a')
  const ha = computeHash('a')
  const closing = callAsync(t, () => a.close(), 'close')
  t.true(a.closed, 'closed as soon as close() is called')
  await closing
  t.true(a.closed)
  await t.notThrowsAsync(a.close(), 'closing twice is harmless')

  const calls = {
    write: () => a.write('c', 'x'),
    writeWithKeyHash: () => a.writeWithKeyHash(1n, 'x'),
    batchWrite: () => a.batchWrite([['c', 'x']]),
    batchWriteWithKeyHashes: () => a.batchWriteWithKeyHashes([[1n, 'x']]),
    writeStream: () => a.writeStream('c', [Buffer.from('x')]),
    writeStreamWithKeyHash: () => a.writeStreamWithKeyHash(1n, Readable.from([Buffer.from('x')])),
    rename: () => a.rename('a', 'z'),
    copy: () => a.copy('a', other),
    transfer: () => a.transfer('a', other),
    copyIntoClosedTarget: () => other.copy('o', a),
    transferIntoClosedTarget: () => other.transfer('o', a),
    delete: () => a.delete('a'),
    batchDelete: () => a.batchDelete(['a']),
    batchDeleteKeyHashes: () => a.batchDeleteKeyHashes([ha]),
    sync: () => a.sync(),
    exists: () => a.exists('a'),
    existsWithKeyHash: () => a.existsWithKeyHash(ha),
    read: () => a.read('a'),
    readWithKeyHash: () => a.readWithKeyHash(ha),
    readLastEntry: () => a.readLastEntry(),
    batchRead: () => a.batchRead(['a']),
    batchReadHashedKeys: () => a.batchReadHashedKeys([ha]),
    batchReadHashedKeysWithKeys: () => a.batchReadHashedKeys([ha], ['a']),
    readMetadata: () => a.readMetadata('a'),
    readStream: () => a.readStream('a'),
    len: () => a.len(),
    isEmpty: () => a.isEmpty(),
    fileSize: () => a.fileSize(),
    entries: () => a.entries().next(),
    asyncIterator: () => a[Symbol.asyncIterator]().next(),
    compact: () => a.compact(),
    estimateCompactionSavings: () => a.estimateCompactionSavings(),
    verify: () => a.verify(),
  }
  for (const [name, fn] of Object.entries(calls)) {
    const err = await t.throwsAsync(callAsync(t, fn, name), undefined, name)
    t.is(err?.code, 'ERR_STORE_CLOSED', name)
  }
  // the sync twin throws the same code
  const s = DataStore.open(path.join(dir, 'sync.bin'))
  s.close()
  t.is(t.throws(() => s.write('c', 'x')).code, 'ERR_STORE_CLOSED')
  // the async view of a closed DataStore rejects too
  t.is((await t.throwsAsync(s.async.write('c', 'x'))).code, 'ERR_STORE_CLOSED')
  t.is((await t.throwsAsync(s.async.read('c'))).code, 'ERR_STORE_CLOSED')

  t.is(text(h), 'alpha', 'handles read before close stay readable')
  t.is(text(await other.read('o')), 'other')
  t.false(await other.exists('a'))
  const re = await AsyncDataStore.openExisting(file)
  t.is(text(await re.read('b')), 'beta')
  await re.close()
})

test('Symbol.asyncDispose closes the store (after in-flight writes land)', async (t) => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'store.bin')
  const a = await AsyncDataStore.open(file)
  t.is(typeof a[Symbol.asyncDispose], 'function')
  const w = a.write('k', 'v')
  const d = a[Symbol.asyncDispose]()
  t.true(isPromise(d))
  await d
  t.is(await w, 1 + 20, 'the write issued before dispose resolved to its tail')
  t.true(a.closed)
  t.is((await t.throwsAsync(a.write('x', 'y'))).code, 'ERR_STORE_CLOSED')
  const s = DataStore.openExisting(file)
  t.is(text(s.read('k')), 'v')
  s.close()
})

// ---- readStream ---------------------------------------------------------------

test('readStream is a Node Readable with backpressure: a slow Writable with a small highWaterMark gets every byte', async (t) => {
  const dir = tmpDir(t)
  const a = await AsyncDataStore.open(path.join(dir, 'store.bin'))
  t.teardown(() => a.close())
  const payload = pattern(2 * 1024 * 1024 + 123, 9)
  await a.write('big', payload)
  const hwm = 16 * 1024
  const rs = await a.readStream('big', { highWaterMark: hwm })
  t.true(rs instanceof Readable)
  const got = []
  let maxBuffered = 0
  let writes = 0
  const slow = new Writable({
    highWaterMark: 1024,
    write(chunk, _enc, cb) {
      got.push(Buffer.from(chunk))
      writes++
      maxBuffered = Math.max(maxBuffered, rs.readableLength)
      // slow consumer: every 8th chunk waits for a timer
      if (writes % 8 === 0) setTimeout(cb, 1)
      else setImmediate(cb)
    },
  })
  await pipeline(rs, slow)
  const all = Buffer.concat(got)
  t.is(all.length, payload.length)
  t.true(all.equals(payload), 'content is intact')
  t.true(writes >= payload.length / hwm, 'delivered in highWaterMark-sized chunks')
  t.true(maxBuffered <= 2 * hwm, `the Readable buffered at most ${maxBuffered} bytes (backpressure; hwm ${hwm})`)

  // default options, and the zero-copy chunks equal the sync twin's stream
  const s = DataStore.open(path.join(dir, 'store.bin'))
  t.teardown(() => s.close())
  t.true((await bytesOfReadable(await a.readStream('big'))).equals(await bytesOfReadable(s.readStream('big'))))
  t.is(await a.readStream('absent'), null)
})

// ---- group commit ---------------------------------------------------------------

test('group commit: 10,000 concurrent write() Promises resolve to distinct tails increasing in issue order, equal to sequential sync writes', async (t) => {
  const { a, s } = await twins(t)
  const N = 10000
  const payload = (i) => (i % 97 === 0 ? pattern(70 * 1024, i) : `value-${i}-${'x'.repeat(i % 50)}`)
  const promises = []
  for (let i = 0; i < N; i++) promises.push(a.write(`key-${i}`, payload(i)))
  const tails = await Promise.all(promises)
  t.is(tails.length, N)
  let increasing = true
  for (let i = 1; i < N; i++) if (!(tails[i] > tails[i - 1])) increasing = false
  t.true(increasing, 'each tail is larger than the one of the write issued before it')
  t.is(new Set(tails).size, N, 'distinct tails')
  t.is(tails[N - 1], await a.fileSize())
  t.is(await a.len(), N)

  const syncTails = []
  for (let i = 0; i < N; i++) syncTails.push(s.write(`key-${i}`, payload(i)))
  t.deepEqual(tails, syncTails, 'the same tails as the same writes done one by one with the sync store')

  const keys = Array.from({ length: N }, (_, i) => `key-${i}`)
  const handles = await a.batchRead(keys)
  let ok = 0
  for (let i = 0; i < N; i++) {
    const p = payload(i)
    if (handles[i] !== null && Buffer.from(handles[i].bytes).equals(Buffer.from(p))) ok++
  }
  t.is(ok, N, 'every write reads back')
  t.deepEqual(await a.verify(), [])
})

test('group commit: 70,000 writes issued in one tick span two appends (65,536 groups each at most): every Promise gets its own tail, in issue order', async (t) => {
  const { dir, a, s } = await twins(t)
  const N = 70000
  const ps = new Array(N)
  for (let i = 0; i < N; i++) ps[i] = a.write(`k${i % 50000}`, i % 9999 === 0 ? '' : `v${i}`)
  const settled = await Promise.allSettled(ps)
  const expected = []
  for (let i = 0; i < N; i++) expected.push(i % 9999 === 0 ? 'ERR_INVALID_ARG_VALUE' : s.write(`k${i % 50000}`, `v${i}`))
  t.deepEqual(
    settled.map(outcome),
    expected,
  )
  t.true(fs.readFileSync(path.join(dir, 'async.bin')).equals(fs.readFileSync(path.join(dir, 'sync.bin'))))
})

test('group commit: of 1000 concurrent writes to one key the last one issued wins; mixed ops keep issue order', async (t) => {
  const dir = tmpDir(t)
  const a = await AsyncDataStore.open(path.join(dir, 'store.bin'))
  t.teardown(() => a.close())
  const ps = []
  for (let i = 0; i < 1000; i++) ps.push(a.write('same', `v${i}`))
  const tails = await Promise.all(ps)
  for (let i = 1; i < tails.length; i++) t.true(tails[i] > tails[i - 1])
  t.is(text(await a.read('same')), 'v999')
  t.is(await a.len(), 1)
  t.is(await a.estimateCompactionSavings() > 0, true)

  // writes, deletes, renames, batches and streams issued in one tick land in that order
  const order = [
    a.write('m', 'first'),
    a.rename('m', 'm2'), // a task: runs after the write before it
    a.write('m', 'second'),
    a.delete('m2'),
    a.write('m2', 'third'),
    a.batchWrite([
      ['b', 'batch'],
      ['m', 'from batch'],
    ]),
    a.batchDelete(['b']),
    a.writeWithKeyHash(computeHash('h'), 'hash 1'),
    a.batchWriteWithKeyHashes([[computeHash('h'), 'hash 2']]),
  ]
  const results = await Promise.all(order)
  for (let i = 1; i < results.length; i++) t.true(results[i] >= results[i - 1], `op ${i} landed after op ${i - 1}`)
  t.is(text(await a.read('m')), 'from batch')
  t.is(text(await a.read('m2')), 'third')
  t.is(await a.read('b'), null)
  t.is(text(await a.read('h')), 'hash 2')
})

test('group commit: a batch with an invalid payload among concurrent valid writes rejects alone, the others land', async (t) => {
  const dir = tmpDir(t)
  const a = await AsyncDataStore.open(path.join(dir, 'store.bin'))
  t.teardown(() => a.close())
  const before = []
  for (let i = 0; i < 200; i++) before.push(a.write(`pre-${i}`, `p${i}`))
  const bad = a.batchWrite([
    ['bad-1', 'fine'],
    ['bad-2', ''], // invalid: empty payload
    ['bad-3', 'fine'],
  ])
  const bad2 = a.batchWriteWithKeyHashes([
    [computeHash('bad-4'), 'fine'],
    [computeHash('bad-5'), new Uint8Array([0])], // a tombstone without allowNullBytes
  ])
  const bad3 = a.write('bad-6', new Uint8Array(0))
  const after = []
  for (let i = 0; i < 200; i++) after.push(a.write(`post-${i}`, `q${i}`))
  const settled = await Promise.allSettled([...before, bad, bad2, bad3, ...after])
  const errs = settled.filter((r) => r.status === 'rejected')
  t.is(errs.length, 3)
  t.is((await t.throwsAsync(bad)).code, 'ERR_INVALID_ARG_VALUE')
  t.is((await t.throwsAsync(bad2)).code, 'ERR_INVALID_ARG_VALUE')
  t.is((await t.throwsAsync(bad3)).code, 'ERR_INVALID_ARG_VALUE')
  const tails = settled.filter((r) => r.status === 'fulfilled').map((r) => r.value)
  t.is(tails.length, 400)
  for (let i = 1; i < tails.length; i++) t.true(tails[i] > tails[i - 1])
  t.is(await a.len(), 400)
  for (const k of ['bad-1', 'bad-2', 'bad-3', 'bad-4', 'bad-5', 'bad-6']) t.false(await a.exists(k), `${k} was not written`)
  t.is(text(await a.read('pre-199')), 'p199')
  t.is(text(await a.read('post-0')), 'q0')
  t.is(tails[tails.length - 1], await a.fileSize())
})

test('group commit: the async views of two DataStores over one native handle share one queue: interleaved writes, bad ones included, each get their own outcome', async (t) => {
  const dir = tmpDir(t)
  const keep = closer(t)
  const a = keep(DataStore.open(path.join(dir, 'store.bin')))
  const b = new DataStore(a.native)
  const s = keep(DataStore.open(path.join(dir, 'sync.bin')))
  const ps = []
  const expected = []
  for (let i = 0; i < 3000; i++) {
    const via = i % 2 === 0 ? a.async : b.async
    const bad = i % 101 === 0
    ps.push(via.write(`k${i}`, bad ? '' : `v${i}`))
    expected.push(bad ? 'ERR_INVALID_ARG_VALUE' : s.write(`k${i}`, `v${i}`))
    if (i % 500 === 0) ps.push(via.batchWrite([[`b${i}`, 'x'], [`c${i}`, `y${i}`]])), expected.push(s.batchWrite([[`b${i}`, 'x'], [`c${i}`, `y${i}`]]))
  }
  const settled = await Promise.allSettled(ps)
  t.deepEqual(
    settled.map(outcome),
    expected,
    'each write resolves to the tail the same sequence gives a sync store, or rejects alone',
  )
  t.is(a.fileSize(), s.fileSize())
  t.true(fs.readFileSync(path.join(dir, 'store.bin')).equals(fs.readFileSync(path.join(dir, 'sync.bin'))))
})

// Product bug (reported): a key hash that is a bigint but out of the u64 range is
// rejected by the native conversion of the WHOLE flush (applyGroupsAsync throws on
// the JS thread), so every valid write coalesced into the same group commit
// rejects with that write's error.
test('group commit: an out-of-range key hash among concurrent valid writes rejects alone', async (t) => {
  const dir = tmpDir(t)
  const a = await AsyncDataStore.open(path.join(dir, 'store.bin'))
  t.teardown(() => a.close())
  const ok1 = a.write('x1', 'v1')
  const bad = a.writeWithKeyHash(-1n, 'bad')
  const ok2 = a.write('x2', 'v2')
  const [r1, rb, r2] = await Promise.allSettled([ok1, bad, ok2])
  t.is(rb.status, 'rejected')
  t.is(rb.reason?.code, 'ERR_INVALID_ARG_VALUE')
  t.is(r1.status, 'fulfilled', `write('x1') issued before it: ${r1.reason?.code} ${r1.reason?.message ?? ''}`)
  t.is(r2.status, 'fulfilled', `write('x2') issued after it: ${r2.reason?.code} ${r2.reason?.message ?? ''}`)
  t.is(text(await a.read('x1')), 'v1')
  t.is(text(await a.read('x2')), 'v2')
})

// Product bug (reported): WriteQueue#drain resolves a group whose native result is
// empty (an empty batchWrite/batchDelete) with `this.native.fileSize()`. If the
// DataStore behind `store.async` was closed while the flush was in flight, that call
// throws ERR_STORE_CLOSED inside results.forEach, and the catch rejects every group
// of the flush that was not settled yet, although they were written.
test('closing the DataStore during an in-flight store.async flush: a write that landed does not reject', async (t) => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'store.bin')
  const s = DataStore.open(file)
  const A = s.async.write('A', 'a')
  const E = s.async.batchWrite([]) // nothing to write: resolves to the tail
  const B = s.async.write('B', 'b')
  await Promise.resolve() // the flush (one native task with all three groups) is now in flight
  s.close()
  const [ra, re, rb] = await Promise.allSettled([A, E, B])
  const reopened = DataStore.open(file)
  t.teardown(() => reopened.close())
  t.true(reopened.exists('A'))
  t.true(reopened.exists('B'), 'B was written')
  t.is(ra.status, 'fulfilled')
  t.is(rb.status, 'fulfilled', `B landed in the file but its Promise ${rb.status}: ${rb.reason?.code}`)
  t.true(re.status === 'fulfilled' || re.reason?.code === 'ERR_STORE_CLOSED')
})

// Async writes are converted the moment they are issued, into a native queue.
// An array element getter runs JS in the middle of that conversion: a write it
// issues must be queued too (not crash, not be lost, not corrupt the group).
test('group commit: an async write issued by an array getter during a batchDelete\'s conversion lands, and so does the batch', async (t) => {
  const dir = tmpDir(t)
  const a = await AsyncDataStore.open(path.join(dir, 'store.bin'))
  t.teardown(() => a.close())
  await a.batchWrite([
    ['gone-1', 'x'],
    ['gone-2', 'y'],
  ])
  let inner
  const keys = ['gone-1']
  Object.defineProperty(keys, 1, {
    enumerable: true,
    get() {
      inner = a.write('from-getter', 'g')
      return 'gone-2'
    },
  })
  const outer = a.batchDelete(keys)
  const [ri, ro] = await Promise.allSettled([inner, outer])
  t.is(ri.status, 'fulfilled', `${ri.reason?.code} ${ri.reason?.message ?? ''}`)
  t.is(ro.status, 'fulfilled', `${ro.reason?.code} ${ro.reason?.message ?? ''}`)
  t.true(ri.value < ro.value, 'the getter\'s write lands first: it was queued before the batch finished converting')
  t.is(text(await a.read('from-getter')), 'g')
  t.false(await a.exists('gone-1'))
  t.false(await a.exists('gone-2'))
  t.is(ro.value, await a.fileSize())
})

test('closing the DataStore while store.async writes are queued (not yet flushed): they reject ERR_STORE_CLOSED and write nothing', async (t) => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'store.bin')
  const s = DataStore.open(file)
  s.write('before', 'b')
  const tail = s.fileSize()
  const pending = [s.async.write('A', 'a'), s.async.batchWrite([['B', 'b']]), s.async.delete('before')]
  s.close() // synchronously, before the microtask that flushes them
  const settled = await Promise.allSettled(pending)
  for (const r of settled) t.is(r.reason?.code, 'ERR_STORE_CLOSED', `${r.status} ${r.value ?? ''}`)
  const reopened = DataStore.open(file)
  t.teardown(() => reopened.close())
  t.is(reopened.fileSize(), tail)
  t.is(fs.statSync(file).size, tail)
  t.true(reopened.exists('before'))
  t.false(reopened.exists('A'))
})

test('a small payload buffer may be reused as soon as an async write returns its Promise (it was copied)', async (t) => {
  const dir = tmpDir(t)
  const a = await AsyncDataStore.open(path.join(dir, 'store.bin'))
  t.teardown(() => a.close())
  const buf = Buffer.from('first')
  const key = Buffer.from('key-1')
  const p1 = a.write(key, buf)
  buf.write('XXXXX')
  key.write('key-2')
  const p2 = a.batchWrite([[key, buf]])
  buf.write('YYYYY')
  await Promise.all([p1, p2])
  t.is(text(await a.read('key-1')), 'first')
  t.is(text(await a.read('key-2')), 'XXXXX')
})

// ---- durability -----------------------------------------------------------------

test('durable: AsyncDataStore.open(path, {durable: true}) writes, batches and streams land and read back after reopen', async (t) => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'durable.bin')
  const a = await AsyncDataStore.open(file, { durable: true })
  const ps = []
  for (let i = 0; i < 200; i++) ps.push(a.write(`d${i}`, `durable ${i}`))
  ps.push(a.batchWrite([
    ['b1', 'one'],
    ['b2', 'two'],
  ]))
  ps.push(a.writeStream('s', asyncGen(chunksOf(pattern(6 * 1024 * 1024, 3), 1 << 20))))
  ps.push(a.delete('d0'))
  const tails = await Promise.all(ps)
  // a stream takes its place in the write order when its source ends
  t.is(Math.max(...tails), await a.fileSize())
  t.is(text(await a.read('d199')), 'durable 199')
  t.is(await a.read('d0'), null)
  await a.sync()
  t.is(fs.statSync(file).size, await a.fileSize())
  await a.close()

  const re = await AsyncDataStore.openExisting(file, { durable: true })
  t.is(await re.len(), 199 + 2 + 1)
  t.is(text(await re.read('b2')), 'two')
  const h = await re.read('s')
  t.is(h.size, 6 * 1024 * 1024)
  t.true(h.isValidChecksum())
  t.true(h instanceof EntryHandle)
  await re.write('after', 'reopen')
  t.is(text(await re.read('after')), 'reopen')
  await re.close()
  // the sync twin reads the same file with the durable option too
  const s = DataStore.open(file, { durable: true })
  t.is(text(s.read('after')), 'reopen')
  s.close()
})
