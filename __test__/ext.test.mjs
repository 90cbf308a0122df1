// The extensions' API (issue 18, parts 1 and 4), on the sync and the async
// store: TTL expiry with an injected clock (`now`, whole Unix seconds; no
// sleeps), expiry on read deleting the entry, Option round trips (None, Some
// of each value type, absent), directory import of a nested tree (namespace,
// skipped files, streams), argument errors, EntryHandle.metadata,
// computeChecksum/computeHashBatch, and the TypeScript declarations
// (__test__/types-ext). Interop with the Rust crates: ext-interop.test.mjs.
import test from 'ava'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { text } from 'node:stream/consumers'
import { fileURLToPath } from 'node:url'
import zlib from 'node:zlib'
import { AsyncDataStore, DataStore, NamespaceHasher, computeChecksum, computeHash, computeHashBatch } from '../lib/index.mjs'
import { tmpDir } from './helpers/ext-rust.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const T0 = 1_700_000_000

function open(t, name = 'store.srd') {
  const s = DataStore.open(path.join(tmpDir(t), name))
  t.teardown(() => s.close())
  return s
}

async function openAsync(t) {
  const s = await AsyncDataStore.open(path.join(tmpDir(t), 'store.srd'))
  t.teardown(() => s.close())
  return s
}

test('TTL: readable until its expiry second, then null and deleted (a tombstone), with an injected clock', (t) => {
  const s = open(t)
  s.writeWithTtl('session', 'token-1', 30, { now: T0 })
  t.is(s.readWithTtl('session', { as: 'string', now: T0 }), 'token-1')
  t.is(s.readWithTtl('session', { as: 'string', now: T0 + 29 }), 'token-1')
  t.is(s.ttlRemaining('session', { now: T0 + 29 }), 1n)
  t.is(s.len(), 1)
  const tail = s.fileSize()
  t.is(s.readWithTtl('session', { as: 'string', now: T0 + 30 }), null)
  t.is(s.fileSize(), tail + 21, 'the expired read appended a tombstone')
  t.is(s.len(), 0)
  t.is(s.readWithTtl('session', { now: T0 }), null, 'deleted: gone even for an earlier clock')
  t.is(s.ttlRemaining('session'), null)
  t.is(s.readWithTtl('never-written'), null)
  // An overwrite moves the expiry; bigint clocks and TTLs; u64 and bytes values.
  s.writeWithTtl('n', 7n, 10n, { now: BigInt(T0) })
  s.writeWithTtl('n', 8, 100, { now: T0 })
  t.is(s.readWithTtl('n', { as: 'u64', now: T0 + 50 }), 8n)
  s.writeWithTtl('b', Buffer.from([1, 2, 3]), 1, { now: T0 })
  t.deepEqual([...s.readWithTtl('b', { now: T0 })], [1, 2, 3])
  // Bytes stored unpacked read back as a view of the mapping (no copy); packed ones as a new Buffer.
  const random = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 97) & 0xff))
  s.writeWithTtl('view', random, 100, { now: T0 })
  const view = s.readWithTtl('view', { now: T0 })
  t.true(view.equals(random))
  t.is(view.buffer, s.read(new NamespaceHasher(Buffer.from([0xf7, 0x74, 0x74, 0x6c, 0xfd])).namespace('view')).bytes.buffer)
  // TTL keys are namespaced: the plain key is untouched.
  t.false(s.exists('n'))
  // Without a clock: the system's, in whole seconds.
  s.writeWithTtl('now', 'x', 3600)
  const left = s.ttlRemaining('now')
  t.true(left > 3590n && left <= 3600n, String(left))
  s.writeWithTtl('zero', 'x', 0)
  t.is(s.readWithTtl('zero'), null, 'a TTL of 0 is expired at once')
})

test('TTL on the async store: the same expiry and delete', async (t) => {
  const s = await openAsync(t)
  await s.writeWithTtl('k', 'v', 5, { now: T0 })
  t.is(await s.readWithTtl('k', { as: 'string', now: T0 + 4 }), 'v')
  t.is(await s.ttlRemaining('k', { now: T0 + 4 }), 1n)
  t.is(await s.readWithTtl('k', { as: 'string', now: T0 + 5 }), null)
  t.false(await s.exists(new NamespaceHasher(Buffer.from([0xf7, 0x74, 0x74, 0x6c, 0xfd])).namespace('k')))
  t.is(await s.len(), 0)
  await t.throwsAsync(s.writeWithTtl('k', 'v', -1), { code: 'ERR_INVALID_ARG_VALUE' })
})

test('TTL arguments: ttl and now are non-negative integers, the value a string, bytes or integer, options known', (t) => {
  const s = open(t)
  t.throws(() => s.writeWithTtl('k', 'v', -1), { code: 'ERR_INVALID_ARG_VALUE' })
  t.throws(() => s.writeWithTtl('k', 'v', 1.5), { code: 'ERR_INVALID_ARG_VALUE' })
  t.throws(() => s.writeWithTtl('k', 'v', '1'), { code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => s.writeWithTtl('k', { a: 1 }, 1), { code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => s.writeWithTtl('k', -1, 1), { code: 'ERR_INVALID_ARG_VALUE' })
  t.throws(() => s.writeWithTtl('k', 2n ** 64n, 1), { code: 'ERR_INVALID_ARG_VALUE' })
  t.throws(() => s.writeWithTtl('k', 'v', 1, { clock: 1 }), { code: 'ERR_INVALID_ARG_VALUE' })
  t.throws(() => s.writeWithTtl('k', 'v', 1, { now: -5 }), { code: 'ERR_INVALID_ARG_VALUE' })
  s.writeWithTtl('k', 'v', 1, { now: T0 })
  t.throws(() => s.readWithTtl('k', { as: 'json' }), { code: 'ERR_INVALID_ARG_VALUE' })
  t.throws(() => s.readWithTtl('k', { as: 'u64', now: T0 }), { code: 'ERR_INVALID_DATA' }, 'a string is not a u64')
  t.is(s.fileSize() > 0, true)
  t.is(s.len(), 1, 'failed calls wrote nothing')
})

test('Option: None, Some of each type (empty values too) and absent are told apart, sync and async', async (t) => {
  const s = open(t)
  s.writeOption('none', null)
  s.writeOption('empty', '')
  s.writeOption('no-bytes', new Uint8Array(0))
  s.writeOption('text', 'héllo')
  s.writeOption('bytes', Buffer.from([0xff, 0xfe]))
  s.writeOption('n', 2n ** 64n - 1n)
  s.writeOption('small', 0)
  t.is(s.readOption('none'), null)
  t.is(s.readOption('empty', { as: 'string' }), '')
  t.is(s.readOption('no-bytes').length, 0)
  t.is(s.readOption('text', { as: 'string' }), 'héllo')
  t.deepEqual([...s.readOption('bytes')], [0xff, 0xfe], 'Some([FF, FE]) is not None')
  t.is(s.readOption('n', { as: 'u64' }), 2n ** 64n - 1n)
  t.is(s.readOption('small', { as: 'u64' }), 0n)
  t.is(s.readOption('absent'), undefined)
  t.throws(() => s.writeOption('k', undefined), { code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => s.readOption('text', { as: 'u64' }), { code: 'ERR_INVALID_DATA' })
  // Overwriting Some with None and back.
  s.writeOption('text', null)
  t.is(s.readOption('text', { as: 'string' }), null)
  const a = s.async
  await a.writeOption('text', 'again')
  t.is(await a.readOption('text', { as: 'string' }), 'again')
  await a.writeOption('text', null)
  t.is(await a.readOption('text'), null)
  t.is(await a.readOption('absent'), undefined)
  await t.throwsAsync(a.writeOption('k', Symbol('x')), { code: 'ERR_INVALID_ARG_TYPE' })
})

/** A nested tree: returns relative path -> bytes. */
function makeTree(dir) {
  const files = {
    'index.html': '<h1>hi</h1>',
    'css/site.css': 'body{}',
    'img/logo.bin': Buffer.alloc(200_000, 7),
    'img/icons/a.svg': '<svg/>',
    'docs/deep/er/than/that.md': '# deep',
  }
  for (const [rel, data] of Object.entries(files)) {
    fs.mkdirSync(path.join(dir, path.dirname(rel)), { recursive: true })
    fs.writeFileSync(path.join(dir, rel), data)
  }
  fs.writeFileSync(path.join(dir, 'empty.txt'), '')
  return files
}

const sorted = (files) => Object.keys(files).sort()

test('importDir: a nested tree under / paths, empty files skipped and reported, read back by path (entry and stream)', (t) => {
  const dir = tmpDir(t)
  const files = makeTree(path.join(dir, 'site'))
  const s = open(t)
  const report = s.importDir(path.join(dir, 'site'))
  t.deepEqual(report.imported.map((f) => f.path), sorted(files))
  t.deepEqual(report.skipped, [{ path: 'empty.txt', reason: 'empty' }])
  for (const f of report.imported) {
    t.deepEqual(f.key, Buffer.from(f.path))
    t.is(f.size, Buffer.byteLength(files[f.path]))
    t.true(f.tail > 0 && f.tail <= s.fileSize())
  }
  t.is(s.len(), Object.keys(files).length)
  t.is(s.readFileEntry('img/icons/a.svg').bytes.toString(), '<svg/>')
  t.is(s.readFileEntry('./img//icons/a.svg').bytes.toString(), '<svg/>', 'empty and . components are dropped')
  t.is(s.read('css/site.css').bytes.toString(), 'body{}', 'the key is the plain path')
  t.is(s.readFileEntry('empty.txt'), null)
  t.is(s.readFileEntry('img/logo.bin', { verify: true }).size, 200_000)
  t.is(s.openFileStream('nope'), null)
  t.throws(() => s.importDir(path.join(dir, 'missing')), { code: 'ENOENT' })
  t.throws(() => s.importDir(path.join(dir, 'site', 'index.html')), { code: 'ENOTDIR' })
  t.throws(() => s.importDir(path.join(dir, 'site'), { prefix: 'x' }), { code: 'ERR_INVALID_ARG_VALUE' })
})

test('importDir with a namespace: 16-byte NamespaceHasher keys, read back only with the namespace', async (t) => {
  const dir = tmpDir(t)
  const files = makeTree(path.join(dir, 'site'))
  const s = open(t)
  const report = s.importDir(path.join(dir, 'site'), { namespace: 'v1' })
  for (const f of report.imported) t.deepEqual(f.key, new NamespaceHasher('v1').namespace(f.path))
  t.is(s.readFileEntry('index.html'), null)
  t.is(s.readFileEntry('index.html', { namespace: 'v1' }).bytes.toString(), files['index.html'])
  t.is(await text(s.openFileStream('docs/deep/er/than/that.md', { namespace: 'v1' })), '# deep')
})

test('importDir on the async store: streamed files, the same report and keys', async (t) => {
  const dir = tmpDir(t)
  const files = makeTree(path.join(dir, 'site'))
  fs.writeFileSync(path.join(dir, 'site', 'zeros.bin'), Buffer.alloc(5))
  const s = await openAsync(t)
  const report = await s.importDir(path.join(dir, 'site'), { namespace: Buffer.from('ns') })
  t.deepEqual(report.imported.map((f) => f.path), sorted(files))
  t.deepEqual(report.skipped, [
    { path: 'empty.txt', reason: 'empty' },
    { path: 'zeros.bin', reason: 'only-zero-bytes' },
  ])
  const h = await s.readFileEntry('img/logo.bin', { namespace: 'ns' })
  t.true(h.bytes.equals(files['img/logo.bin']))
  t.is(await text(await s.openFileStream('index.html', { namespace: 'ns' })), files['index.html'])
  t.is(await s.openFileStream('index.html'), null)
})

test('EntryHandle.metadata, computeChecksum and computeHashBatch', (t) => {
  const s = open(t)
  s.write('a', 'payload')
  s.write('b', 'other')
  const h = s.read('b')
  t.deepEqual(h.metadata, { keyHash: computeHash('b'), prevOffset: h.prevOffset, checksum: h.checksum })
  t.deepEqual(h.metadata, s.readMetadata('b'))
  t.is(computeChecksum(h.bytes), h.checksum)
  t.is(computeChecksum(Buffer.from('123456789')), 0xcbf43926, 'the CRC32 (IEEE) check value')
  if (zlib.crc32) t.is(computeChecksum(Buffer.from('hello')), zlib.crc32('hello'))
  const u16 = new Uint16Array([1, 2, 3])
  t.is(computeChecksum(u16), computeChecksum(Buffer.from(u16.buffer)))
  t.is(computeChecksum(u16.buffer), computeChecksum(new DataView(u16.buffer)))
  t.throws(() => computeChecksum('text'), { code: 'ERR_INVALID_ARG_TYPE' })
  t.deepEqual(computeHashBatch(['a', Buffer.from('b'), new Uint8Array(0)]), [computeHash('a'), computeHash('b'), computeHash(new Uint8Array(0))])
  t.deepEqual(computeHashBatch([]), [])
  t.throws(() => computeHashBatch('a'), { code: 'ERR_INVALID_ARG_TYPE' })
  t.false(Object.keys(h).includes('metadata'), 'a getter on the prototype, like the others')
})

test('types: the methods are declared on DataStore, AsyncDataStore and EntryHandle (tsc over __test__/types-ext)', (t) => {
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc')
  const r = spawnSync(process.execPath, [tsc, '--noEmit', '-p', path.join(root, '__test__', 'types-ext')], { encoding: 'utf8' })
  t.is(r.status, 0, r.stdout + r.stderr)
})
