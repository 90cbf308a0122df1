// Bad input and damaged files (design.md sections 2 and 4): every rejected
// call throws an Error with a stable `code` and leaves the file byte-for-byte
// unchanged; batches are all-or-nothing; recovery keeps the valid prefix.
import test from 'ava'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { DataStore, computeHash, NamespaceHasher } from '../lib/index.mjs'
import { text, tmpDir, storeDirFiles } from './helpers/store.mjs'

const ENTRY = fileURLToPath(new URL('../lib/index.mjs', import.meta.url))

/** A store with a few entries, and a second store to copy into. */
function fixture(t) {
  const dir = tmpDir(t)
  const file = path.join(dir, 'store.bin')
  const s = DataStore.open(file)
  const otherFile = path.join(dir, 'other.bin')
  const other = DataStore.open(otherFile)
  t.teardown(() => {
    s.close()
    other.close()
  })
  s.write('k', 'value')
  s.write('k2', 'value2')
  s.write('gone', 'x')
  s.delete('gone')
  other.write('o', 'other')
  return { dir, file, s, otherFile, other }
}


/**
 * Asserts `fn` throws an Error with `code` (a TypeError for
 * ERR_INVALID_ARG_TYPE) and that no file in `files` changed.
 */
function rejects(t, files, fn, code, label) {
  const before = files.map((f) => fs.readFileSync(f))
  let err
  try {
    fn()
  } catch (e) {
    err = e
  }
  if (err === undefined) {
    t.fail(`${label}: did not throw`)
    return
  }
  t.true(err instanceof Error, `${label}: ${err}`)
  t.is(err.code, code, `${label}: ${err.message}`)
  if (code === 'ERR_INVALID_ARG_TYPE') t.true(err instanceof TypeError, `${label}: not a TypeError`)
  files.forEach((f, i) => t.true(fs.readFileSync(f).equals(before[i]), `${label}: ${path.basename(f)} changed`))
}

const describe = (v) => {
  if (typeof v === 'bigint') return `${v}n`
  if (typeof v === 'symbol' || typeof v === 'function') return String(v)
  if (v === undefined) return 'undefined'
  if (v !== null && typeof v === 'object') return v.constructor?.name ?? 'object'
  return JSON.stringify(v)
}

const BAD_KEYS = [
  123,
  1.5,
  true,
  null,
  undefined,
  {},
  [1, 2],
  1n,
  Symbol('k'),
  () => 'k',
  new String('k'),
]
const BAD_PAYLOADS = [123, true, null, undefined, {}, [1, 2], 1n, new String('v')]
const BAD_HASHES = [1, 0, '1', null, undefined, {}, 1.5, Buffer.alloc(8), Object(1n), [1n]]

// ---- ERR_INVALID_ARG_TYPE ----------------------------------------------------

test('keys of the wrong type -> TypeError ERR_INVALID_ARG_TYPE, file unchanged', (t) => {
  const { file, s, otherFile, other } = fixture(t)
  const files = [file, otherFile]
  const h = computeHash('k')
  const ns = new NamespaceHasher('p')
  for (const bad of BAD_KEYS) {
    const d = describe(bad)
    const calls = {
      write: () => s.write(bad, 'v'),
      read: () => s.read(bad),
      exists: () => s.exists(bad),
      delete: () => s.delete(bad),
      readMetadata: () => s.readMetadata(bad),
      readStream: () => s.readStream(bad),
      renameOld: () => s.rename(bad, 'n'),
      renameNew: () => s.rename('k', bad),
      copy: () => s.copy(bad, other),
      transfer: () => s.transfer(bad, other),
      batchWrite: () => s.batchWrite([['a', 'v'], [bad, 'v']]),
      batchRead: () => s.batchRead(['k', bad]),
      batchDelete: () => s.batchDelete(['k', bad]),
      batchReadHashedKeysKeys: () => s.batchReadHashedKeys([h], [bad]),
      writeStream: () => s.writeStream(bad, [Buffer.from('v')]),
      computeHash: () => computeHash(bad),
      namespaceHasher: () => new NamespaceHasher(bad),
      namespace: () => ns.namespace(bad),
    }
    for (const [name, fn] of Object.entries(calls)) rejects(t, files, fn, 'ERR_INVALID_ARG_TYPE', `${name}(${d})`)
  }
  t.is(text(s.read('k')), 'value')
  t.is(s.len(), 2)
})

test('payloads of the wrong type -> TypeError ERR_INVALID_ARG_TYPE, file unchanged', (t) => {
  const { file, s } = fixture(t)
  const h = computeHash('k')
  for (const bad of BAD_PAYLOADS) {
    const d = describe(bad)
    const calls = {
      write: () => s.write('k', bad),
      writeWithKeyHash: () => s.writeWithKeyHash(h, bad),
      batchWrite: () => s.batchWrite([['a', 'ok'], ['k', bad]]),
      batchWriteWithKeyHashes: () => s.batchWriteWithKeyHashes([[1n, 'ok'], [h, bad]]),
      batchWriteWithKeyHashesAllowNull: () => s.batchWriteWithKeyHashes([[h, bad]], true),
      writeStreamChunk: () => s.writeStream('k', [Buffer.from('ok'), bad]),
      writeStreamWithKeyHashChunk: () => s.writeStreamWithKeyHash(h, [bad]),
    }
    for (const [name, fn] of Object.entries(calls)) rejects(t, [file], fn, 'ERR_INVALID_ARG_TYPE', `${name}(${d})`)
  }
  t.is(text(s.read('k')), 'value')
})

test('non-bigint key hashes -> TypeError ERR_INVALID_ARG_TYPE, file unchanged', (t) => {
  const { file, s } = fixture(t)
  for (const bad of BAD_HASHES) {
    const d = describe(bad)
    const calls = {
      writeWithKeyHash: () => s.writeWithKeyHash(bad, 'v'),
      readWithKeyHash: () => s.readWithKeyHash(bad),
      existsWithKeyHash: () => s.existsWithKeyHash(bad),
      batchWriteWithKeyHashes: () => s.batchWriteWithKeyHashes([[1n, 'ok'], [bad, 'v']]),
      batchDeleteKeyHashes: () => s.batchDeleteKeyHashes([computeHash('k'), bad]),
      batchReadHashedKeys: () => s.batchReadHashedKeys([computeHash('k'), bad]),
      batchReadHashedKeysWithKeys: () => s.batchReadHashedKeys([bad], ['k']),
      writeStreamWithKeyHash: () => s.writeStreamWithKeyHash(bad, [Buffer.from('v')]),
    }
    for (const [name, fn] of Object.entries(calls)) rejects(t, [file], fn, 'ERR_INVALID_ARG_TYPE', `${name}(${d})`)
  }
  t.true(s.exists('k'))
})

test('non-array batches and non-pair entries -> TypeError ERR_INVALID_ARG_TYPE, file unchanged', (t) => {
  const { file, s } = fixture(t)
  for (const bad of ['k', 5, null, undefined, {}, { length: 1, 0: ['k', 'v'] }, 1n]) {
    const d = describe(bad)
    const calls = {
      batchWrite: () => s.batchWrite(bad),
      batchWriteWithKeyHashes: () => s.batchWriteWithKeyHashes(bad),
      batchDelete: () => s.batchDelete(bad),
      batchDeleteKeyHashes: () => s.batchDeleteKeyHashes(bad),
      batchRead: () => s.batchRead(bad),
      batchReadHashedKeys: () => s.batchReadHashedKeys(bad),
    }
    if (bad !== null && bad !== undefined) calls.batchReadHashedKeysKeys = () => s.batchReadHashedKeys([computeHash('k')], bad)
    for (const [name, fn] of Object.entries(calls)) rejects(t, [file], fn, 'ERR_INVALID_ARG_TYPE', `${name}(${d})`)
  }
  // an entry that is not an array
  for (const bad of ['k', null, 5, { 0: 'k', 1: 'v', length: 2 }]) {
    rejects(t, [file], () => s.batchWrite([['a', 'v'], bad]), 'ERR_INVALID_ARG_TYPE', `batchWrite entry ${describe(bad)}`)
    rejects(t, [file], () => s.batchWriteWithKeyHashes([[1n, 'v'], bad]), 'ERR_INVALID_ARG_TYPE', `batchWriteWithKeyHashes entry ${describe(bad)}`)
  }
})

test('non-iterable stream sources -> TypeError ERR_INVALID_ARG_TYPE, file unchanged', (t) => {
  const { dir, file, s } = fixture(t)
  const h = computeHash('k')
  const sources = [123, null, undefined, {}, 1n, true, 'a string', new String('abc'), { [Symbol.iterator]: 5 }, { async *[Symbol.asyncIterator]() {} }]
  for (const bad of sources) {
    const d = describe(bad)
    rejects(t, [file], () => s.writeStream('k', bad), 'ERR_INVALID_ARG_TYPE', `writeStream(${d})`)
    rejects(t, [file], () => s.writeStreamWithKeyHash(h, bad), 'ERR_INVALID_ARG_TYPE', `writeStreamWithKeyHash(${d})`)
  }
  t.deepEqual(storeDirFiles(dir), ['other.bin', 'store.bin'])
})

test('a copy/transfer target that is not a DataStore -> TypeError ERR_INVALID_ARG_TYPE, files unchanged', (t) => {
  const { file, s, otherFile, other } = fixture(t)
  for (const bad of [null, undefined, {}, 'path', 5, otherFile, other.native, { native: other.native }, [other]]) {
    const d = describe(bad)
    rejects(t, [file, otherFile], () => s.copy('k', bad), 'ERR_INVALID_ARG_TYPE', `copy(${d})`)
    rejects(t, [file, otherFile], () => s.transfer('k', bad), 'ERR_INVALID_ARG_TYPE', `transfer(${d})`)
  }
  t.true(s.exists('k'))
})

test('a forged DataStore (Object.create(DataStore.prototype)) as copy target -> ERR_INVALID_ARG_TYPE', (t) => {
  // `instanceof DataStore` is true for it, but it is not a store.
  const { file, s } = fixture(t)
  const forged = Object.create(DataStore.prototype)
  rejects(t, [file], () => s.copy('k', forged), 'ERR_INVALID_ARG_TYPE', 'copy(forged)')
  rejects(t, [file], () => s.transfer('k', forged), 'ERR_INVALID_ARG_TYPE', 'transfer(forged)')
})

test('a non-boolean allowNullBytes -> TypeError ERR_INVALID_ARG_TYPE, file unchanged', (t) => {
  const { file, s } = fixture(t)
  for (const bad of ['yes', 1, {}, 1n]) {
    rejects(t, [file], () => s.batchWriteWithKeyHashes([[1n, 'v']], bad), 'ERR_INVALID_ARG_TYPE', `allowNullBytes ${describe(bad)}`)
  }
})

test('open/openExisting with a bad path or options -> ERR_INVALID_ARG_TYPE / ERR_INVALID_ARG_VALUE', (t) => {
  const dir = tmpDir(t)
  for (const bad of [123, null, undefined, {}, 1n]) {
    for (const open of [DataStore.open, DataStore.openExisting]) {
      const err = t.throws(() => open(bad))
      t.is(err.code, 'ERR_INVALID_ARG_TYPE', describe(bad))
      t.true(err instanceof TypeError)
    }
  }
  const e1 = t.throws(() => DataStore.open(path.join(dir, 'x.bin'), 5))
  t.is(e1.code, 'ERR_INVALID_ARG_TYPE')
  t.false(fs.existsSync(path.join(dir, 'x.bin')))
  const e2 = t.throws(() => DataStore.open(''))
  t.is(e2.code, 'ERR_INVALID_ARG_VALUE')
  const e3 = t.throws(() => new DataStore({}))
  t.is(e3.code, 'ERR_INVALID_ARG_TYPE')
  const e4 = t.throws(() => DataStore.open(dir))
  t.is(e4.code, 'EISDIR')
  t.deepEqual(fs.readdirSync(dir), [], 'a refused open creates nothing, not even a shared page')
})

// ---- ERR_INVALID_ARG_VALUE --------------------------------------------------------

test('empty and [0x00] payloads -> ERR_INVALID_ARG_VALUE, file unchanged', (t) => {
  const { file, s } = fixture(t)
  const h = computeHash('k')
  const bads = ['', new Uint8Array(0), Buffer.alloc(0), new Uint8Array([0]), Buffer.from([0]), '\u0000', new Uint8Array(8).subarray(3, 4)]
  for (const bad of bads) {
    const d = `${describe(bad)}[${bad.length}]`
    rejects(t, [file], () => s.write('k', bad), 'ERR_INVALID_ARG_VALUE', `write ${d}`)
    rejects(t, [file], () => s.write('new', bad), 'ERR_INVALID_ARG_VALUE', `write new ${d}`)
    rejects(t, [file], () => s.writeWithKeyHash(h, bad), 'ERR_INVALID_ARG_VALUE', `writeWithKeyHash ${d}`)
    rejects(t, [file], () => s.batchWrite([['a', 'ok'], ['k', bad]]), 'ERR_INVALID_ARG_VALUE', `batchWrite ${d}`)
    rejects(t, [file], () => s.batchWriteWithKeyHashes([[1n, 'ok'], [h, bad]]), 'ERR_INVALID_ARG_VALUE', `batchWriteWithKeyHashes ${d}`)
  }
  // allowNullBytes permits [0x00] (a tombstone), never an empty payload
  rejects(t, [file], () => s.batchWriteWithKeyHashes([[1n, 'ok'], [h, '']], true), 'ERR_INVALID_ARG_VALUE', 'empty with allowNullBytes')
  t.is(text(s.read('k')), 'value')
  t.false(s.exists('new'))
  t.false(s.exists('a'))
})

test('negative or too large bigint hashes -> ERR_INVALID_ARG_VALUE, file unchanged', (t) => {
  const { file, s } = fixture(t)
  for (const bad of [-1n, -(2n ** 63n), 2n ** 64n, 2n ** 64n + 5n, 2n ** 100n]) {
    const d = describe(bad)
    const calls = {
      writeWithKeyHash: () => s.writeWithKeyHash(bad, 'v'),
      readWithKeyHash: () => s.readWithKeyHash(bad),
      existsWithKeyHash: () => s.existsWithKeyHash(bad),
      batchWriteWithKeyHashes: () => s.batchWriteWithKeyHashes([[1n, 'ok'], [bad, 'v']]),
      batchDeleteKeyHashes: () => s.batchDeleteKeyHashes([computeHash('k'), bad]),
      batchReadHashedKeys: () => s.batchReadHashedKeys([bad]),
      writeStreamWithKeyHash: () => s.writeStreamWithKeyHash(bad, [Buffer.from('v')]),
    }
    for (const [name, fn] of Object.entries(calls)) rejects(t, [file], fn, 'ERR_INVALID_ARG_VALUE', `${name}(${d})`)
  }
  // 2^64 - 1 must not alias a truncated larger value
  t.false(s.existsWithKeyHash(2n ** 64n - 1n))
  t.true(s.exists('k'))
})

test('rename(k, k) and copy/transfer into the same store -> ERR_INVALID_ARG_VALUE, file unchanged', (t) => {
  const { file, s } = fixture(t)
  rejects(t, [file], () => s.rename('k', 'k'), 'ERR_INVALID_ARG_VALUE', 'rename(k, k)')
  rejects(t, [file], () => s.rename('k', Buffer.from('k')), 'ERR_INVALID_ARG_VALUE', 'rename(k, bytes of k)')
  rejects(t, [file], () => s.rename('absent', 'absent'), 'ERR_INVALID_ARG_VALUE', 'rename(absent, absent)')
  rejects(t, [file], () => s.copy('k', s), 'ERR_INVALID_ARG_VALUE', 'copy into itself')
  rejects(t, [file], () => s.transfer('k', s), 'ERR_INVALID_ARG_VALUE', 'transfer into itself')
  // DataStore.open twice on one path: two objects, one engine
  const same = DataStore.open(file)
  t.teardown(() => same.close())
  rejects(t, [file], () => s.copy('k', same), 'ERR_INVALID_ARG_VALUE', 'copy into a second open of the same path')
  rejects(t, [file], () => s.transfer('k', same), 'ERR_INVALID_ARG_VALUE', 'transfer into a second open of the same path')
  rejects(t, [file], () => same.copy('k2', s), 'ERR_INVALID_ARG_VALUE', 'copy back')
  t.is(text(s.read('k')), 'value')
  t.is(text(same.read('k')), 'value')
  t.is(s.len(), 2)
})

test('empty and all-zero streams -> ERR_INVALID_ARG_VALUE, nothing written, no spool left', (t) => {
  const { dir, file, s } = fixture(t)
  const h = computeHash('k')
  function* bigZeros() {
    for (let i = 0; i < 5; i++) yield Buffer.alloc(1 << 20)
  }
  const sources = {
    'no chunks': () => [],
    'one empty chunk': () => [Buffer.alloc(0)],
    'empty chunks': () => [new Uint8Array(0), '', new Uint8Array(0)],
    '[0x00]': () => [Buffer.from([0])],
    'ten zeros': () => [Buffer.alloc(10)],
    'zeros in chunks': () => [Buffer.alloc(3), Buffer.alloc(0), Buffer.alloc(4)],
    '5 MiB of zeros (spooled to disk)': bigZeros,
  }
  for (const [name, src] of Object.entries(sources)) {
    rejects(t, [file], () => s.writeStream('k', src()), 'ERR_INVALID_ARG_VALUE', `writeStream ${name}`)
    rejects(t, [file], () => s.writeStreamWithKeyHash(h, src()), 'ERR_INVALID_ARG_VALUE', `writeStreamWithKeyHash ${name}`)
  }
  t.deepEqual(storeDirFiles(dir), ['other.bin', 'store.bin'])
  t.is(text(s.read('k')), 'value')
  // a stream that has a non-zero byte anywhere is fine
  s.writeStream('z', [Buffer.alloc(100), Buffer.from([0, 0, 1])])
  t.is(s.read('z').size, 103)
})

test('malformed batch pairs and mismatched key lists -> ERR_INVALID_ARG_VALUE, file unchanged', (t) => {
  const { file, s } = fixture(t)
  rejects(t, [file], () => s.batchWrite([['a', 'v'], ['k']]), 'ERR_INVALID_ARG_VALUE', 'pair of 1')
  rejects(t, [file], () => s.batchWrite([['a', 'v'], ['k', 'v', 'x']]), 'ERR_INVALID_ARG_VALUE', 'pair of 3')
  rejects(t, [file], () => s.batchWrite([[]]), 'ERR_INVALID_ARG_VALUE', 'pair of 0')
  rejects(t, [file], () => s.batchWriteWithKeyHashes([[1n]]), 'ERR_INVALID_ARG_VALUE', 'hashed pair of 1')
  rejects(t, [file], () => s.batchReadHashedKeys([computeHash('k'), computeHash('k2')], ['k']), 'ERR_INVALID_ARG_VALUE', 'fewer keys than hashes')
})

// ---- ERR_KEY_NOT_FOUND ------------------------------------------------------------

test('rename/copy/transfer of an absent or deleted key -> ERR_KEY_NOT_FOUND, files unchanged', (t) => {
  const { file, s, otherFile, other } = fixture(t)
  const files = [file, otherFile]
  for (const key of ['absent', 'gone', Buffer.from('absent')]) {
    rejects(t, files, () => s.rename(key, 'new'), 'ERR_KEY_NOT_FOUND', `rename ${key}`)
    rejects(t, files, () => s.copy(key, other), 'ERR_KEY_NOT_FOUND', `copy ${key}`)
    rejects(t, files, () => s.transfer(key, other), 'ERR_KEY_NOT_FOUND', `transfer ${key}`)
  }
  t.false(s.exists('new'))
  t.is(other.len(), 1)
})

// ---- batches are all-or-nothing ---------------------------------------------------

test('a batch with one invalid entry writes nothing', (t) => {
  const { file, s } = fixture(t)
  const big = Buffer.alloc(2 << 20, 0x5a) // large payloads take a separate write path
  const good = [['n1', 'one'], ['big', big], ['k', 'overwrite'], ['n2', 'two']]
  const cases = {
    'empty payload last': [...good, ['n3', '']],
    'null byte payload last': [...good, ['n3', new Uint8Array([0])]],
    'wrong payload type last': [...good, ['n3', 5]],
    'wrong key type last': [...good, [5, 'x']],
    'bad pair last': [...good, ['n3']],
    'invalid first': [['n3', ''], ...good],
  }
  for (const [name, entries] of Object.entries(cases)) {
    const before = fs.readFileSync(file)
    t.throws(() => s.batchWrite(entries), undefined, name)
    t.true(fs.readFileSync(file).equals(before), name)
    t.false(s.exists('n1'), name)
    t.false(s.exists('big'), name)
    t.is(text(s.read('k')), 'value', name)
  }
  const hashed = [[1n, 'one'], [2n, big], [computeHash('k'), 'overwrite']]
  for (const bad of [[3n, ''], [3n, new Uint8Array([0])], [-3n, 'x'], [3, 'x'], [3n, 5]]) {
    const before = fs.readFileSync(file)
    t.throws(() => s.batchWriteWithKeyHashes([...hashed, bad]))
    t.true(fs.readFileSync(file).equals(before))
    t.false(s.existsWithKeyHash(1n))
    t.false(s.existsWithKeyHash(2n))
  }
  // batches of more than one part (converted and appended part by part): a bad
  // entry in any part, first to last, leaves the file as it was
  const many = []
  for (let i = 0; i < 20_000; i++) many.push([`m${i}`, i % 3 === 0 ? Buffer.from(`v${i}`) : `v${i}`])
  const bigCases = [
    ['empty payload', ['n3', ''], 15_000, 'ERR_INVALID_ARG_VALUE'],
    ['null byte payload', ['n3', new Uint8Array([0])], 4097, 'ERR_INVALID_ARG_VALUE'],
    ['wrong payload type', ['n3', 5], 9000, 'ERR_INVALID_ARG_TYPE'],
    ['wrong key type', [5, 'x'], 20_000, 'ERR_INVALID_ARG_TYPE'],
    ['invalid first', ['n3', ''], 0, 'ERR_INVALID_ARG_VALUE'],
  ]
  const live = s.len()
  for (const [name, bad, at, code] of bigCases) {
    const entries = many.slice()
    entries.splice(at, 0, bad)
    const before = fs.readFileSync(file)
    t.is(t.throws(() => s.batchWrite(entries), undefined, name).code, code, name)
    t.true(fs.readFileSync(file).equals(before), name)
    t.false(s.exists('m0'), name)
    t.false(s.exists('m19999'), name)
    t.is(s.len(), live, name)
  }
  // batch deletes too
  const before = fs.readFileSync(file)
  t.throws(() => s.batchDelete(['k', 'k2', 5]))
  t.throws(() => s.batchDeleteKeyHashes([computeHash('k'), -1n]))
  t.true(fs.readFileSync(file).equals(before))
  t.true(s.exists('k'))
  t.true(s.exists('k2'))
  t.is(s.len(), 2)
})

test('a stream source that throws or yields a bad chunk midway writes nothing', (t) => {
  const { file, s } = fixture(t)
  const before = fs.readFileSync(file)
  const boom = new Error('source failed')
  function* failing() {
    yield Buffer.alloc(3 << 20, 1)
    yield Buffer.alloc(3 << 20, 2) // past the in-memory spool
    throw boom
  }
  t.is(t.throws(() => s.writeStream('k', failing())), boom)
  t.true(fs.readFileSync(file).equals(before))
  t.is(text(s.read('k')), 'value')
  function* badChunk() {
    yield Buffer.from('good')
    yield 42
  }
  const err = t.throws(() => s.writeStream('k', badChunk()))
  t.is(err.code, 'ERR_INVALID_ARG_TYPE')
  t.true(fs.readFileSync(file).equals(before))
  // the store still works afterwards
  s.writeStream('k', [Buffer.from('new')])
  t.is(text(s.read('k')), 'new')
})

test('a rejected stream chunk closes the source iterator (its finally block runs), as for...of would', (t) => {
  const { s } = fixture(t)
  let closed = false
  function* source() {
    try {
      yield Buffer.from('a')
      yield 42 // rejected: ERR_INVALID_ARG_TYPE
      yield Buffer.from('b')
    } finally {
      closed = true
    }
  }
  const err = t.throws(() => s.writeStream('k', source()))
  t.is(err.code, 'ERR_INVALID_ARG_TYPE')
  t.true(closed, 'iterator.return() was not called: the source\'s cleanup never ran')
})

test('a write failing with an OS error (EFBIG) midway through a batch leaves the file as it was', (t) => {
  if (process.platform !== 'linux') return t.pass()
  const dir = tmpDir(t)
  const file = path.join(dir, 'store.bin')
  const s = DataStore.open(file)
  s.write('a', 'before')
  s.close()
  const before = fs.readFileSync(file)
  // 1 MiB file size limit; SIGXFSZ is ignored so the write fails with EFBIG
  const code = `
    import { DataStore } from ${JSON.stringify(ENTRY)}
    const s = DataStore.open(${JSON.stringify(file)})
    const out = {}
    try { s.batchWrite([['b', Buffer.alloc(100000, 1)], ['c', Buffer.alloc(3 << 20, 2)]]) } catch (e) { Object.assign(out, { code: e.code, errno: e.errno, syscall: e.syscall, path: e.path, message: e.message }) }
    out.len = s.len(); out.tail = s.fileSize(); out.b = s.exists('b')
    out.after = s.write('d', 'small')
    s.close()
    process.stdout.write(JSON.stringify(out))
  `
  const r = spawnSync('bash', ['-c', `trap '' XFSZ; ulimit -f 1024; exec "$0" --input-type=module -e "$1"`, process.execPath, code], {
    encoding: 'utf8',
  })
  t.is(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout)
  t.is(out.code, 'EFBIG')
  // As Node's own fs errors: negative errno, the call, the path, and the message shape.
  t.is(out.errno, -27)
  t.is(out.syscall, 'write')
  t.is(out.path, file)
  t.is(out.message, `EFBIG: file too large, write '${file}'`)
  t.is(out.len, 1)
  t.false(out.b)
  t.is(out.tail, before.length)
  // only the later small write was appended
  const after = fs.readFileSync(file)
  t.true(after.subarray(0, before.length).equals(before))
  t.is(after.length, out.after)
  const re = DataStore.open(file)
  t.is(text(re.read('a')), 'before')
  t.is(text(re.read('d')), 'small')
  t.false(re.exists('b'))
  t.false(re.exists('c'))
  re.close()
})

// ---- files that are not (entirely) stores ------------------------------------------

test('a non-empty junk file -> ERR_NOT_A_STORE, untouched; {repair: true} opens it empty', (t) => {
  const dir = tmpDir(t)
  const junks = {
    'text.bin': Buffer.from('this is definitely not a SIMD R Drive store\n'.repeat(20)),
    'zeros.bin': Buffer.alloc(4096),
    'short.bin': Buffer.from('tiny'),
    'one-zero.bin': Buffer.from([0]),
    'random.bin': Buffer.from(Array.from({ length: 777 }, (_, i) => (i * 2654435761) >>> 24)),
  }
  for (const [name, bytes] of Object.entries(junks)) {
    const file = path.join(dir, name)
    fs.writeFileSync(file, bytes)
    const mtime = fs.statSync(file).mtimeMs
    for (const open of [() => DataStore.open(file), () => DataStore.openExisting(file), () => DataStore.open(file, { repair: false })]) {
      const err = t.throws(open, undefined, name)
      t.is(err?.code, 'ERR_NOT_A_STORE', name)
      t.true(fs.readFileSync(file).equals(bytes), `${name} was modified`)
    }
    t.is(fs.statSync(file).mtimeMs, mtime)
    const s = DataStore.open(file, { repair: true })
    t.is(s.len(), 0, name)
    t.is(s.fileSize(), 0, name)
    t.is(fs.statSync(file).size, 0, name)
    s.write('k', 'v')
    s.close()
    const re = DataStore.openExisting(file)
    t.is(text(re.read('k')), 'v')
    re.close()
  }
})

test('a torn tail is cut on reopen and every earlier entry survives', (t) => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'store.bin')
  const s = DataStore.open(file)
  s.write('a', 'first')
  s.write('b', Buffer.alloc(1000, 2))
  const tailB = s.fileSize()
  s.write('c', Buffer.alloc(500, 3))
  const tailC = s.fileSize()
  s.close()

  // cut into the last entry's metadata, then into its payload, then into its pad
  for (const cut of [3, 19, 25, 400]) {
    fs.truncateSync(file, tailC - cut)
    const r = DataStore.open(file)
    t.is(r.fileSize(), tailB, `cut ${cut}`)
    t.is(fs.statSync(file).size, tailB, `cut ${cut}`)
    t.is(text(r.read('a')), 'first')
    t.deepEqual(Buffer.from(r.read('b').bytes), Buffer.alloc(1000, 2))
    t.is(r.read('c'), null)
    t.is(r.len(), 2)
    t.deepEqual(r.verify(), [])
    r.write('c', Buffer.alloc(500, 3)) // rewrite for the next cut
    t.is(r.fileSize(), tailC)
    r.close()
  }

  // a zero-filled or garbage tail (e.g. preallocation, torn append) is cut too
  for (const tail of [Buffer.alloc(5000), Buffer.from('garbage after the last entry'), Buffer.alloc(1)]) {
    fs.appendFileSync(file, tail)
    const r = DataStore.open(file)
    t.is(r.fileSize(), tailC)
    t.is(fs.statSync(file).size, tailC)
    t.is(r.len(), 3)
    t.deepEqual(Buffer.from(r.read('c').bytes), Buffer.alloc(500, 3))
    r.close()
  }
})

test('len() after reopen counts only live keys', (t) => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'store.bin')
  const s = DataStore.open(file)
  s.batchWrite([['a', '1'], ['b', '2'], ['c', '3'], ['d', '4']])
  s.delete('b')
  s.write('a', '5')
  s.batchDelete(['c', 'never'])
  s.write('c', '6')
  s.delete('d')
  s.writeWithKeyHash(9n, 'x')
  s.batchWriteWithKeyHashes([[9n, new Uint8Array([0])]], true)
  t.is(s.len(), 2)
  s.close()
  const re = DataStore.open(file)
  t.is(re.len(), 2)
  t.deepEqual([...re].map(text).sort(), ['5', '6'])
  t.false(re.exists('b'))
  t.false(re.exists('d'))
  t.false(re.existsWithKeyHash(9n))
  re.close()
})

test('a corrupted earlier payload: the store opens, verify() reports it, verified reads throw ERR_CHECKSUM_MISMATCH', (t) => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'store.bin')
  const s = DataStore.open(file)
  s.write('z', 'zzzzzzzz')
  s.write('a', 'aaaaaaaa')
  s.write('b', 'bbbbbbbb')
  const ha = s.read('a')
  const meta = ha.endOffset
  s.close()
  const bytes = fs.readFileSync(file)
  // A payload between the first and the last entry (open checksums those two).
  bytes[ha.startOffset + 2] ^= 0xff
  fs.writeFileSync(file, bytes)

  const r = DataStore.open(file)
  t.is(r.len(), 3)
  t.deepEqual(r.verify(), [{ keyHash: computeHash('a'), offset: meta }])
  t.false(r.read('a').isValidChecksum())
  t.true(r.read('b').isValidChecksum())
  t.is(t.throws(() => r.read('a', { verify: true })).code, 'ERR_CHECKSUM_MISMATCH')
  t.is(text(r.read('b', { verify: true })), 'bbbbbbbb')
  r.close()
  const v = DataStore.open(file, { verifyReads: true })
  t.is(t.throws(() => v.read('a')).code, 'ERR_CHECKSUM_MISMATCH')
  t.is(t.throws(() => v.batchRead(['b', 'a'])).code, 'ERR_CHECKSUM_MISMATCH')
  t.is(text(v.read('b')), 'bbbbbbbb')
  v.close()
  t.true(fs.readFileSync(file).equals(bytes), 'opening and verifying does not repair or change the file')
})

test('any TypedArray, DataView or ArrayBuffer is a key or payload: the bytes it views', (t) => {
  const { s } = fixture(t)
  const f32 = new Float32Array([1.5, -2, 3.25])
  const bytesOf = (v) => Buffer.from(v.buffer ?? v, v.byteOffset ?? 0, v.byteLength)
  const backing = new ArrayBuffer(64)
  new Uint8Array(backing).set([9, 8, 7, 6, 5, 4, 3, 2, 1], 10)
  const cases = [
    f32,
    new Float64Array([Math.PI]),
    new Int16Array([-1, 2, -3]),
    new Uint16Array([65535, 1]),
    new Int32Array([-5]),
    new BigUint64Array([2n ** 63n]),
    new Int8Array([-1, -2]),
    new Uint8ClampedArray([255, 0]),
    new DataView(backing, 10, 9),
    new Uint32Array(backing, 12, 2),
    backing.slice(10, 19),
  ]
  for (const v of cases) {
    const d = `${v.constructor.name}(${v.byteLength})`
    s.write(v, v)
    const h = s.read(bytesOf(v))
    t.truthy(h, `${d}: readable by its bytes as a key`)
    t.true(h.bytes.equals(bytesOf(v)), `${d}: stored its bytes`)
    t.is(computeHash(v), computeHash(bytesOf(v)), `${d}: hashed by its bytes`)
    t.true(s.exists(v), d)
  }
  // A Float32Array payload reads back as a Float32Array without a copy (64-byte aligned).
  s.write('vec', f32)
  const h = s.read('vec')
  t.deepEqual(Array.from(new Float32Array(h.bytes.buffer, h.bytes.byteOffset, h.size / 4)), [1.5, -2, 3.25])
})
