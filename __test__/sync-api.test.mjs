// The public synchronous API (design.md sections 2 and 4): every DataStore
// method and EntryHandle property, asserting what a user relies on.
import test from 'ava'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import zlib from 'node:zlib'
import { Readable } from 'node:stream'
import { DataStore, EntryHandle, computeHash, NamespaceHasher } from '../lib/index.mjs'
import { openTmp, text, tmpFile, storeDirFiles } from './helpers/store.mjs'

/** A Map with its entries ordered by key (ava's deepEqual compares Map order). */
const sortedMap = (entries) => new Map([...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
const osSize = (file) => fs.statSync(file).size
const u64le = (n) => {
  const b = Buffer.alloc(8)
  b.writeBigUInt64LE(n)
  return b
}

/** Asserts a writer's return value is the tail: fileSize() and the OS length. */
function assertTail(t, store, file, tail) {
  t.is(typeof tail, 'number')
  t.is(tail, store.fileSize())
  t.is(tail, osSize(file))
}

// ---- open / openExisting / close ------------------------------------------

test('open creates the file; openExisting opens it and throws ENOENT when it is missing', (t) => {
  const { dir, file } = tmpFile(t)
  t.false(fs.existsSync(file))
  const s = DataStore.open(file)
  t.true(fs.existsSync(file))
  t.is(osSize(file), 0)
  t.true(s.isEmpty())
  t.is(s.len(), 0)
  t.is(s.fileSize(), 0)
  t.false(s.closed)
  t.is(s.path, fs.realpathSync(file))
  s.write('k', 'v')
  s.close()
  t.true(s.closed)

  const again = DataStore.openExisting(file)
  t.is(text(again.read('k')), 'v')
  again.close()

  const missing = path.join(dir, 'missing.bin')
  const err = t.throws(() => DataStore.openExisting(missing))
  t.is(err.code, 'ENOENT')
  t.false(fs.existsSync(missing), 'openExisting must not create the file')
})

test('after close() every method throws ERR_STORE_CLOSED; handles read before close still read', async (t) => {
  const { dir, file } = tmpFile(t)
  const s = DataStore.open(file)
  s.write('a', 'alpha')
  s.write('b', 'beta')
  const h = s.read('a')
  const last = s.readLastEntry()
  const fromIter = [...s]
  const other = DataStore.open(path.join(dir, 'other.bin'))
  t.teardown(() => other.close())
  other.write('o', 'other')
  const ha = computeHash('a')
  s.close()
  s.close() // closing twice is harmless

  const calls = {
    write: () => s.write('c', 'x'),
    writeWithKeyHash: () => s.writeWithKeyHash(1n, 'x'),
    batchWrite: () => s.batchWrite([['c', 'x']]),
    batchWriteWithKeyHashes: () => s.batchWriteWithKeyHashes([[1n, 'x']]),
    writeStream: () => s.writeStream('c', [Buffer.from('x')]),
    writeStreamWithKeyHash: () => s.writeStreamWithKeyHash(1n, [Buffer.from('x')]),
    rename: () => s.rename('a', 'z'),
    copy: () => s.copy('a', other),
    transfer: () => s.transfer('a', other),
    copyIntoClosedTarget: () => other.copy('o', s),
    transferIntoClosedTarget: () => other.transfer('o', s),
    delete: () => s.delete('a'),
    batchDelete: () => s.batchDelete(['a']),
    batchDeleteKeyHashes: () => s.batchDeleteKeyHashes([ha]),
    sync: () => s.sync(),
    exists: () => s.exists('a'),
    existsWithKeyHash: () => s.existsWithKeyHash(ha),
    read: () => s.read('a'),
    readWithKeyHash: () => s.readWithKeyHash(ha),
    readLastEntry: () => s.readLastEntry(),
    batchRead: () => s.batchRead(['a']),
    batchReadHashedKeys: () => s.batchReadHashedKeys([ha]),
    batchReadHashedKeysWithKeys: () => s.batchReadHashedKeys([ha], ['a']),
    readMetadata: () => s.readMetadata('a'),
    readStream: () => s.readStream('a'),
    len: () => s.len(),
    isEmpty: () => s.isEmpty(),
    fileSize: () => s.fileSize(),
    entries: () => [...s.entries()],
    iterator: () => [...s],
    compact: () => s.compact(),
    estimateCompactionSavings: () => s.estimateCompactionSavings(),
    verify: () => s.verify(),
  }
  for (const [name, fn] of Object.entries(calls)) {
    const err = t.throws(fn, undefined, name)
    t.is(err?.code, 'ERR_STORE_CLOSED', name)
  }
  // the other store was not touched by the rejected copies
  t.is(text(other.read('o')), 'other')
  t.false(other.exists('a'))

  // handles taken before close keep working
  t.is(text(h), 'alpha')
  t.is(h.keyHash, ha)
  t.true(h.isValidChecksum())
  t.is(text(last), 'beta')
  t.deepEqual(fromIter.map(text).sort(), ['alpha', 'beta'])
  await new Promise((r) => setImmediate(r))
  t.is(text(h), 'alpha')

  // the file is released: a new open sees the data
  const re = DataStore.open(file)
  t.is(text(re.read('a')), 'alpha')
  re.close()
})

// ---- keys and payloads --------------------------------------------------------

test('write/read: string and Uint8Array keys and payloads; a string key is its UTF-8 bytes', (t) => {
  const { file, store: s } = openTmp(t)
  const long = 'ü'.repeat(300) // 600 UTF-8 bytes: past any short-key fast path
  const keys = ['plain', 'héllo wörld ✓', 'a\u0000b', long, 'x'.repeat(255), 'y'.repeat(256), '']
  for (const [i, k] of keys.entries()) {
    const tail = s.write(k, `payload ${i}`)
    assertTail(t, s, file, tail)
  }
  for (const [i, k] of keys.entries()) {
    t.is(text(s.read(k)), `payload ${i}`, `string key ${JSON.stringify(k.slice(0, 10))}`)
    t.is(text(s.read(Buffer.from(k, 'utf8'))), `payload ${i}`)
    t.is(text(s.read(new TextEncoder().encode(k))), `payload ${i}`)
    t.true(s.exists(new TextEncoder().encode(k)))
  }

  // Uint8Array key and payload, including a view at an offset into a larger buffer
  const backing = new Uint8Array(64)
  backing.set([1, 2, 3, 4, 5], 10)
  const keyView = backing.subarray(10, 15)
  const payload = new Uint8Array([9, 8, 7, 6, 5, 4, 3, 2, 1])
  assertTail(t, s, file, s.write(keyView, payload))
  t.deepEqual([...s.read(new Uint8Array([1, 2, 3, 4, 5])).bytes], [...payload])
  t.deepEqual([...s.read(Buffer.from([1, 2, 3, 4, 5])).bytes], [...payload])
  t.is(s.read(new Uint8Array([1, 2, 3, 4])), null)

  // a string payload is stored as its UTF-8 bytes
  s.write('utf8', 'héllo ✓')
  t.deepEqual(Buffer.from(s.read('utf8').bytes), Buffer.from('héllo ✓', 'utf8'))

  // binary payloads with every byte value survive, and a payload may be a Buffer
  const all = Buffer.alloc(256)
  for (let i = 0; i < 256; i++) all[i] = i
  s.write('bin', all)
  t.deepEqual(Buffer.from(s.read('bin').bytes), all)

  // a later write of the same key wins
  s.write('plain', 'second')
  t.is(text(s.read('plain')), 'second')
  t.is(s.read('absent'), null)
  t.is(s.len(), keys.length + 3)
})

test('on-disk layout: 64-byte aligned payloads, 20-byte metadata, tombstones with no pad (section 2)', (t) => {
  const { file, store: s } = openTmp(t)
  s.write('a', 'abc')
  s.write('b', 'xy')
  s.delete('a')
  s.write('c', 'z')
  const f = fs.readFileSync(file)
  // entry 1 at 0: payload 0..3, metadata 3..23
  t.deepEqual(f.subarray(0, 3), Buffer.from('abc'))
  t.deepEqual(f.subarray(3, 11), u64le(computeHash('a')))
  t.deepEqual(f.subarray(11, 19), u64le(0n))
  t.is(f.readUInt32LE(19), zlib.crc32(Buffer.from('abc')))
  // entry 2: pad 23..64 zeros, payload 64..66, metadata 66..86 (prev = 23)
  t.true(f.subarray(23, 64).every((b) => b === 0))
  t.deepEqual(f.subarray(64, 66), Buffer.from('xy'))
  t.deepEqual(f.subarray(66, 74), u64le(computeHash('b')))
  t.deepEqual(f.subarray(74, 82), u64le(23n))
  t.is(f.readUInt32LE(82), zlib.crc32(Buffer.from('xy')))
  // tombstone at 86: one 0x00 byte, no pad, metadata 87..107 (prev = 86)
  t.is(f[86], 0)
  t.deepEqual(f.subarray(87, 95), u64le(computeHash('a')))
  t.deepEqual(f.subarray(95, 103), u64le(86n))
  t.is(f.readUInt32LE(103), zlib.crc32(Buffer.from([0])))
  // entry 4: pad 107..128, payload at 128
  t.is(f[128], 'z'.charCodeAt(0))
  t.deepEqual(f.subarray(129, 137), u64le(computeHash('c')))
  t.deepEqual(f.subarray(137, 145), u64le(107n))
  t.is(f.length, 149)
  t.is(s.fileSize(), 149)
  const hc = s.read('c')
  t.is(hc.startOffset, 128)
  t.is(hc.endOffset, 129)
})

// ---- hashed-key writers and readers ---------------------------------------------

test('writeWithKeyHash / readWithKeyHash / existsWithKeyHash agree with computeHash(key)', (t) => {
  const { file, store: s } = openTmp(t)
  const h = computeHash('user:1')
  assertTail(t, s, file, s.writeWithKeyHash(h, 'one'))
  t.is(text(s.read('user:1')), 'one')
  t.is(text(s.readWithKeyHash(h)), 'one')
  t.true(s.existsWithKeyHash(h))
  t.true(s.exists('user:1'))
  t.is(s.readWithKeyHash(h).keyHash, h)

  s.write('user:2', 'two')
  t.is(text(s.readWithKeyHash(computeHash('user:2'))), 'two')
  t.true(s.existsWithKeyHash(computeHash('user:2')))

  // any full 64-bit hash works, including 0 and 2^64 - 1
  for (const hash of [0n, 1n, 2n ** 63n, 2n ** 64n - 1n]) {
    s.writeWithKeyHash(hash, `h${hash}`)
    t.is(text(s.readWithKeyHash(hash)), `h${hash}`)
    t.is(s.readWithKeyHash(hash).keyHash, hash)
    t.true(s.existsWithKeyHash(hash))
  }
  t.false(s.existsWithKeyHash(12345n))
  t.is(s.readWithKeyHash(12345n), null)
  t.is(s.len(), 6)
})

test('batchWrite writes every entry in one call and returns the tail', (t) => {
  const { file, store: s } = openTmp(t)
  const entries = []
  for (let i = 0; i < 100; i++) entries.push([`k${i}`, `v${i}`])
  entries.push([Buffer.from('bytes-key'), new Uint8Array([1, 2, 3])])
  entries.push(['k5', 'v5-again']) // same key twice in a batch: the later one wins
  const tail = s.batchWrite(entries)
  assertTail(t, s, file, tail)
  t.is(s.len(), 101)
  for (let i = 0; i < 100; i++) if (i !== 5) t.is(text(s.read(`k${i}`)), `v${i}`)
  t.is(text(s.read('k5')), 'v5-again')
  t.deepEqual([...s.read('bytes-key').bytes], [1, 2, 3])
  for (const h of s.batchRead(entries.map(([k]) => k))) t.is(h.startOffset % 64, 0)

  // an empty batch writes nothing and returns the tail
  t.is(s.batchWrite([]), tail)
  t.is(osSize(file), tail)

  // large payloads (>= 1 MiB) mixed with small ones in one batch
  const big = Buffer.alloc((1 << 20) + 333, 0xab)
  const tail2 = s.batchWrite([['s1', 'small'], ['big', big], ['s2', 'x'], ['big2', big.subarray(1)], ['s3', 'yz']])
  assertTail(t, s, file, tail2)
  t.is(text(s.read('s1')), 'small')
  t.deepEqual(Buffer.from(s.read('big').bytes), big)
  t.is(text(s.read('s2')), 'x')
  t.deepEqual(Buffer.from(s.read('big2').bytes), big.subarray(1))
  t.is(text(s.read('s3')), 'yz')
  t.deepEqual(s.verify(), [])
})

test('a batch of 30,000 (converted and appended in parts) writes the same bytes as the same entries in batches of 1,000', (t) => {
  const { file, store: big } = openTmp(t, 'big.bin')
  const { file: file2, store: small } = openTmp(t, 'small.bin')
  const entries = []
  for (let i = 0; i < 30_000; i++) {
    const payload = i % 3 === 0 ? `v${i}` : Buffer.alloc(1 + (i % 200), i % 251)
    entries.push([i % 5 === 0 ? Buffer.from(`k${i % 29_000}`) : `k${i % 29_000}`, payload])
  }
  const tail = big.batchWrite(entries)
  let tail2
  for (let i = 0; i < entries.length; i += 1000) tail2 = small.batchWrite(entries.slice(i, i + 1000))
  t.is(tail, tail2)
  assertTail(t, big, file, tail)
  t.true(fs.readFileSync(file).equals(fs.readFileSync(file2)))
  t.is(big.len(), 29_000)
  t.is(text(big.read('k1002')), 'v1002')
  t.is(text(big.read('k29001')), null)
  t.deepEqual(Buffer.from(big.read('k28999').bytes), Buffer.alloc(1 + (28_999 % 200), 28_999 % 251))
  t.deepEqual(Buffer.from(big.read('k5').bytes), Buffer.alloc(1 + (29_005 % 200), 29_005 % 251), 'the later write of a key wins')
  t.deepEqual(big.verify(), [])
})

// The native handle checks each located offset against the view it last
// handed out; every JS object wrapping one handle must read through that view.
test('two DataStore objects over one native handle read the right bytes through growth and compaction', (t) => {
  const { store: a } = openTmp(t)
  const b = new DataStore(a.native)
  a.write('k1', 'one')
  t.is(text(b.read('k1')), 'one')
  for (let i = 0; i < 2000; i++) a.write(`x${i}`, Buffer.alloc(100, i % 256))
  t.deepEqual(Buffer.from(b.read('x1999').bytes), Buffer.alloc(100, 1999 % 256))
  t.deepEqual(Buffer.from(a.read('x1999').bytes), Buffer.alloc(100, 1999 % 256))
  t.is(text(a.read('k1')), 'one')
  a.write('x7', 'late')
  a.compact()
  t.is(text(b.read('x7')), 'late')
  t.deepEqual(Buffer.from(a.read('x5').bytes), Buffer.alloc(100, 5))
  t.true(b.exists('x1999'))
  t.false(a.exists('nope'))
})

test('batchWriteWithKeyHashes, and allowNullBytes = true writing a tombstone', (t) => {
  const { file, store: s } = openTmp(t)
  const ha = computeHash('a')
  const hb = computeHash('b')
  const tail = s.batchWriteWithKeyHashes([
    [ha, 'A'],
    [hb, Buffer.from('B')],
    [7n, 'seven'],
  ])
  assertTail(t, s, file, tail)
  t.is(text(s.read('a')), 'A')
  t.is(text(s.read('b')), 'B')
  t.is(text(s.readWithKeyHash(7n)), 'seven')
  t.is(s.len(), 3)

  // without allowNullBytes a [0x00] payload is rejected, nothing is written
  const err = t.throws(() => s.batchWriteWithKeyHashes([[hb, 'B2'], [ha, new Uint8Array([0])]]))
  t.is(err.code, 'ERR_INVALID_ARG_VALUE')
  t.is(text(s.read('b')), 'B')
  t.is(osSize(file), tail)

  // with allowNullBytes it writes a tombstone: the key then reads null
  const before = s.fileSize()
  const tail2 = s.batchWriteWithKeyHashes([[hb, 'B3'], [ha, new Uint8Array([0])]], true)
  assertTail(t, s, file, tail2)
  t.is(tail2, before + (64 - (before % 64)) % 64 + 2 + 20 + 1 + 20, 'a tombstone is 21 bytes with no pad')
  t.is(s.read('a'), null)
  t.false(s.exists('a'))
  t.is(text(s.read('b')), 'B3')
  t.is(s.len(), 2)
  t.is(s.readLastEntry(), null, 'the last entry is a tombstone')
  t.false([...s].some((h) => h.keyHash === ha))

  // still deleted after a reopen
  s.close()
  const re = DataStore.open(file)
  t.is(re.read('a'), null)
  t.is(re.len(), 2)
  re.close()
})

// ---- streams ---------------------------------------------------------------

test('writeStream from an array and from a generator, including more than 4 MiB', (t) => {
  const { file, store: s } = openTmp(t)
  const tail = s.writeStream('arr', [Buffer.from('hello '), new Uint8Array([119, 111]), Buffer.from('rld')])
  assertTail(t, s, file, tail)
  t.is(text(s.read('arr')), 'hello world')

  const CHUNK = 64 * 1024
  const N = 81 // 5.06 MiB: past the in-memory spool
  function* gen() {
    for (let i = 0; i < N; i++) {
      const c = Buffer.alloc(CHUNK)
      for (let j = 0; j < CHUNK; j += 4) c.writeUInt32LE((i * CHUNK + j) >>> 0, j)
      yield c
    }
  }
  const tail2 = s.writeStream(Buffer.from('gen'), gen())
  assertTail(t, s, file, tail2)
  const h = s.read('gen')
  t.is(h.size, N * CHUNK)
  t.is(h.startOffset % 64, 0)
  const expected = Buffer.concat([...gen()])
  t.true(Buffer.from(h.bytes).equals(expected))
  t.true(h.isValidChecksum())
  t.is(h.checksum, zlib.crc32(expected))
  t.deepEqual(storeDirFiles(path.dirname(file)), ['store.bin'], 'no spool file is left behind')

  // any sync Iterable works (a Set here); a later stream of the same key wins
  s.writeStream('arr', new Set([Buffer.from('again')]))
  t.is(text(s.read('arr')), 'again')
  t.is(s.len(), 2)
})

test('writeStreamWithKeyHash', (t) => {
  const { file, store: s } = openTmp(t)
  const h = computeHash('streamed')
  const tail = s.writeStreamWithKeyHash(h, [Buffer.from('part1-'), Buffer.from('part2')])
  assertTail(t, s, file, tail)
  t.is(text(s.read('streamed')), 'part1-part2')
  t.is(s.read('streamed').keyHash, h)
  function* big() {
    for (let i = 0; i < 5; i++) yield Buffer.alloc(1 << 20, i + 1)
  }
  s.writeStreamWithKeyHash(99n, big())
  const hb = s.readWithKeyHash(99n)
  t.is(hb.size, 5 << 20)
  t.is(hb.bytes[0], 1)
  t.is(hb.bytes[(5 << 20) - 1], 5)
  t.true(hb.isValidChecksum())
})

// ---- rename / copy / transfer ------------------------------------------------

test('rename moves the payload to the new key and removes the old one', (t) => {
  const { file, store: s } = openTmp(t)
  s.write('old', 'payload')
  s.write('other', 'x')
  const tail = s.rename('old', 'new')
  assertTail(t, s, file, tail)
  t.is(s.read('old'), null)
  t.false(s.exists('old'))
  t.is(text(s.read('new')), 'payload')
  t.is(s.read('new').keyHash, computeHash('new'))
  t.is(s.len(), 2)
  // Uint8Array keys work too, and the rename survives a reopen
  s.rename(Buffer.from('new'), new TextEncoder().encode('newer'))
  s.close()
  const re = DataStore.open(file)
  t.is(re.read('new'), null)
  t.is(text(re.read('newer')), 'payload')
  t.is(re.len(), 2)
  re.close()
})

test('copy and transfer between two stores; copy returns the target tail, transfer the source tail', (t) => {
  const { dir, file: srcFile, store: src } = openTmp(t, 'src.bin')
  const dstFile = path.join(dir, 'dst.bin')
  const dst = DataStore.open(dstFile)
  t.teardown(() => dst.close())
  dst.write('pre', 'existing')
  src.write('c', 'copied')
  src.write('m', 'moved')
  src.writeWithKeyHash(42n, 'by-hash')

  const srcBefore = src.fileSize()
  const r1 = src.copy('c', dst)
  t.is(r1, dst.fileSize())
  t.is(r1, osSize(dstFile))
  t.is(src.fileSize(), srcBefore, 'copy does not write to the source')
  t.is(text(src.read('c')), 'copied')
  t.is(text(dst.read('c')), 'copied')
  t.is(dst.read('c').keyHash, computeHash('c'))
  t.is(text(dst.read('pre')), 'existing')

  const r2 = src.transfer('m', dst)
  t.is(r2, src.fileSize())
  t.is(r2, osSize(srcFile))
  t.true(r2 > srcBefore, 'transfer writes a tombstone in the source')
  t.is(src.read('m'), null)
  t.is(text(dst.read('m')), 'moved')
  t.is(src.len(), 2)
  t.is(dst.len(), 3)

  // Uint8Array keys
  src.copy(Buffer.from('c'), dst)
  t.is(text(dst.read('c')), 'copied')
})

// ---- deletes ------------------------------------------------------------------

test('delete, batchDelete and batchDeleteKeyHashes; deleting an absent key writes nothing', (t) => {
  const { file, store: s } = openTmp(t)
  s.batchWrite([['a', '1'], ['b', '2'], ['c', '3'], ['d', '4'], ['e', '5'], ['f', '6']])

  const t1 = s.delete('a')
  assertTail(t, s, file, t1)
  t.is(s.read('a'), null)
  t.false(s.exists('a'))
  t.is(s.len(), 5)

  // absent key (never written, or already deleted): unchanged tail, no growth
  const size = osSize(file)
  const bytes = fs.readFileSync(file)
  t.is(s.delete('zzz'), t1)
  t.is(s.delete('a'), t1)
  t.is(s.delete(Buffer.from('a')), t1)
  t.is(s.batchDelete(['zzz', 'a']), t1)
  t.is(s.batchDeleteKeyHashes([computeHash('zzz'), 5n]), t1)
  t.is(s.batchDelete([]), t1)
  t.is(osSize(file), size)
  t.true(fs.readFileSync(file).equals(bytes))
  t.is(s.fileSize(), size)

  const t2 = s.batchDelete(['b', Buffer.from('c'), 'nope', 'b'])
  assertTail(t, s, file, t2)
  t.is(t2, t1 + 2 * 21, 'one tombstone per live key, duplicates and absent keys skipped')
  t.is(s.read('b'), null)
  t.is(s.read('c'), null)
  t.is(s.len(), 3)

  const t3 = s.batchDeleteKeyHashes([computeHash('d'), computeHash('e')])
  assertTail(t, s, file, t3)
  t.is(s.read('d'), null)
  t.is(s.read('e'), null)
  t.is(text(s.read('f')), '6')
  t.is(s.len(), 1)

  // a deleted key can be written again
  s.write('a', 'back')
  t.is(text(s.read('a')), 'back')
  t.is(s.len(), 2)
})

test('exists', (t) => {
  const { store: s } = openTmp(t)
  t.false(s.exists('k'))
  s.write('k', 'v')
  t.true(s.exists('k'))
  t.true(s.exists(Buffer.from('k')))
  t.false(s.exists('K'))
  s.delete('k')
  t.false(s.exists('k'))
})

test('readLastEntry: null when empty, null after a delete as last op, the last entry otherwise', (t) => {
  const { store: s } = openTmp(t)
  t.is(s.readLastEntry(), null)
  s.write('a', 'first')
  t.is(text(s.readLastEntry()), 'first')
  s.write('b', 'second')
  const last = s.readLastEntry()
  t.true(last instanceof EntryHandle)
  t.is(text(last), 'second')
  t.is(last.keyHash, computeHash('b'))
  t.is(last.endOffset + 20, s.fileSize())
  s.delete('a')
  t.is(s.readLastEntry(), null)
  s.delete('absent') // writes nothing: the tombstone of 'a' is still last
  t.is(s.readLastEntry(), null)
  s.write('a', 'third')
  t.is(text(s.readLastEntry()), 'third')
  s.batchWrite([['x', 'bx'], ['y', 'by']])
  t.is(text(s.readLastEntry()), 'by')
})

test('batchRead and batchReadHashedKeys (a key that does not hash to its hash -> ERR_HASH_COLLISION)', (t) => {
  const { store: s } = openTmp(t)
  s.batchWrite([['a', 'A'], ['b', 'B'], ['c', 'C']])
  s.delete('b')
  const out = s.batchRead(['a', 'b', Buffer.from('c'), 'missing'])
  t.is(out.length, 4)
  t.deepEqual(out.map(text), ['A', null, 'C', null])
  t.true(out[0] instanceof EntryHandle)
  t.deepEqual(s.batchRead([]), [])

  const hashes = ['a', 'b', 'c', 'missing'].map((k) => computeHash(k))
  t.deepEqual(s.batchReadHashedKeys(hashes).map(text), ['A', null, 'C', null])
  t.deepEqual(s.batchReadHashedKeys(hashes, ['a', 'b', Buffer.from('c'), 'missing']).map(text), ['A', null, 'C', null])

  const err = t.throws(() => s.batchReadHashedKeys([computeHash('a'), computeHash('c')], ['a', 'not-c']))
  t.is(err.code, 'ERR_HASH_COLLISION')
})

test('readMetadata', (t) => {
  const { store: s } = openTmp(t)
  s.write('a', 'abc')
  const tailA = s.fileSize()
  s.write('b', 'hello')
  const m = s.readMetadata('b')
  t.deepEqual(m, { keyHash: computeHash('b'), prevOffset: tailA, checksum: zlib.crc32(Buffer.from('hello')) })
  t.deepEqual(s.readMetadata(Buffer.from('a')), { keyHash: computeHash('a'), prevOffset: 0, checksum: zlib.crc32(Buffer.from('abc')) })
  t.is(s.readMetadata('missing'), null)
  s.delete('a')
  t.is(s.readMetadata('a'), null)
})

test('len / isEmpty / fileSize, also after a reopen (len counts live keys only)', (t) => {
  const { file, store: s } = openTmp(t)
  t.true(s.isEmpty())
  t.is(s.len(), 0)
  t.is(s.fileSize(), 0)
  s.write('a', '1')
  t.false(s.isEmpty())
  s.write('b', '2')
  s.write('a', '3')
  t.is(s.len(), 2)
  s.delete('b')
  t.is(s.len(), 1)
  t.is(s.fileSize(), osSize(file))
  s.delete('a')
  t.true(s.isEmpty())
  t.is(s.len(), 0)
  t.true(s.fileSize() > 0)
  t.is(s.fileSize(), osSize(file))
  s.write('c', '4')
  s.close()
  const re = DataStore.open(file)
  t.is(re.len(), 1)
  t.false(re.isEmpty())
  t.is(re.fileSize(), osSize(file))
  re.close()
})

// ---- EntryHandle ------------------------------------------------------------

test('EntryHandle properties: keyHash, size, fileSize, checksum, startOffset, endOffset, isValidChecksum, bytes', (t) => {
  const { file, store: s } = openTmp(t)
  s.write('first', 'x')
  const payload = Buffer.from('the quick brown fox')
  s.write('k', payload)
  const h = s.read('k')
  t.true(h instanceof EntryHandle)
  t.is(typeof h.keyHash, 'bigint')
  t.is(h.keyHash, computeHash('k'))
  t.is(h.size, payload.length)
  t.is(h.fileSize, payload.length + 20)
  t.is(h.checksum, zlib.crc32(payload))
  t.is(h.startOffset, 64)
  t.is(h.endOffset, 64 + payload.length)
  t.is(h.endOffset - h.startOffset, h.size)
  t.true(h.isValidChecksum())
  t.true(Buffer.isBuffer(h.bytes))
  t.deepEqual(Buffer.from(h.bytes), payload)
  t.is(h.bytes, h.bytes, 'bytes is stable')
  // the offsets point into the file
  const f = fs.readFileSync(file)
  t.deepEqual(f.subarray(h.startOffset, h.endOffset), payload)
  t.is(h.endOffset + 20, s.fileSize())
  t.is(h.prevOffset, 21)
})

// ---- iteration --------------------------------------------------------------

test('entries() and [Symbol.iterator] yield only the newest version of each live key, no tombstones', (t) => {
  const { store: s } = openTmp(t)
  s.write('a', 'a1')
  s.write('b', 'b1')
  s.write('c', 'c1')
  s.write('a', 'a2')
  s.delete('b')
  s.write('d', 'd1')
  s.write('a', 'a3')
  s.writeWithKeyHash(5n, 'five')
  s.batchWriteWithKeyHashes([[5n, new Uint8Array([0])]], true) // tombstone via the low-level batch
  const expected = new Map([
    [computeHash('a'), 'a3'],
    [computeHash('c'), 'c1'],
    [computeHash('d'), 'd1'],
  ])
  const viaEntries = [...s.entries()]
  const viaIter = []
  for (const h of s) viaIter.push(h)
  for (const list of [viaEntries, viaIter]) {
    t.is(list.length, 3)
    t.true(list.every((h) => h instanceof EntryHandle))
    t.deepEqual(sortedMap(list.map((h) => [h.keyHash, text(h)])), sortedMap(expected))
    t.true(list.every((h) => h.isValidChecksum()))
  }
  t.is(typeof s.entries().next, 'function')
  t.is(s.len(), 3)

  // an empty store iterates nothing
  s.batchDelete(['a', 'c', 'd'])
  t.deepEqual([...s], [])
})

test('a million overwrites of one key iterate without stack overflow and yield one entry', (t) => {
  const { store: s } = openTmp(t)
  const chunk = new Array(10_000)
  for (let round = 0; round < 100; round++) {
    const p = Buffer.from([(round % 255) + 1])
    chunk.fill(['k', p])
    s.batchWrite(chunk)
  }
  s.write('other', 'o')
  t.is(s.len(), 2)
  const all = [...s]
  t.is(all.length, 2)
  const k = all.find((h) => h.keyHash === computeHash('k'))
  t.deepEqual([...k.bytes], [(99 % 255) + 1])
  t.true(s.estimateCompactionSavings() > 0)
})

// ---- compaction -------------------------------------------------------------

test('compact shrinks the file, keeps live data, old handles still read; savings > 0 before and 0 after', (t) => {
  const { dir, file, store: s } = openTmp(t)
  const big = Buffer.alloc(100_000, 0x11)
  for (let i = 0; i < 20; i++) s.write(`k${i}`, Buffer.alloc(10_000, i + 1))
  for (let i = 0; i < 20; i += 2) s.write(`k${i}`, `v${i}-new`)
  s.write('big', big)
  s.delete('big')
  s.batchDelete(['k1', 'k3'])
  const old0 = s.read('k0')
  const old5 = s.read('k5')
  const live = new Map([...s].map((h) => [h.keyHash, Buffer.from(h.bytes)]))
  const savings = s.estimateCompactionSavings()
  t.true(savings > 0)
  const before = osSize(file)

  s.compact()
  const after = osSize(file)
  t.true(after < before, `${after} < ${before}`)
  t.is(s.fileSize(), after)
  t.is(before - after, savings, 'the estimate is what compaction frees')
  t.is(s.estimateCompactionSavings(), 0)
  t.deepEqual(storeDirFiles(dir), ['store.bin'], 'no temporary file is left behind')

  t.is(s.len(), 18)
  t.deepEqual(sortedMap([...s].map((h) => [h.keyHash, Buffer.from(h.bytes)])), sortedMap(live))
  t.is(text(s.read('k0')), 'v0-new')
  t.deepEqual(Buffer.from(s.read('k5').bytes), Buffer.alloc(10_000, 6))
  t.is(s.read('k1'), null)
  t.is(s.read('big'), null)
  t.deepEqual(s.verify(), [])

  // handles from before the compaction still read their old bytes
  t.is(text(old0), 'v0-new')
  t.deepEqual(Buffer.from(old5.bytes), Buffer.alloc(10_000, 6))
  t.true(old5.isValidChecksum())

  // the store keeps working after compaction, and the compacted file reopens
  s.write('post', 'compaction')
  t.is(text(s.read('post')), 'compaction')
  t.is(s.fileSize(), osSize(file))
  s.close()
  const re = DataStore.open(file)
  t.is(re.len(), 19)
  t.is(text(re.read('post')), 'compaction')
  t.is(text(re.read('k0')), 'v0-new')
  re.close()
})

test('compact of a store whose keys are all deleted leaves an empty, usable file', (t) => {
  const { file, store: s } = openTmp(t)
  s.write('a', 'x')
  s.delete('a')
  t.true(s.estimateCompactionSavings() > 0)
  s.compact()
  t.is(s.fileSize(), 0)
  t.is(osSize(file), 0)
  t.true(s.isEmpty())
  t.is(s.readLastEntry(), null)
  s.write('b', 'y')
  t.is(text(s.read('b')), 'y')
})

// ---- readStream -------------------------------------------------------------

async function collect(readable) {
  const chunks = []
  for await (const c of readable) chunks.push(c)
  return Buffer.concat(chunks)
}

test('readStream returns a Node Readable of the payload, or null for absent keys', async (t) => {
  const { store: s } = openTmp(t)
  const payload = Buffer.alloc(300_000)
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) & 0xff
  s.write('big', payload)
  s.write('small', 'tiny')
  const r = s.readStream('big')
  t.true(r instanceof Readable)
  t.true((await collect(r)).equals(payload))
  t.is((await collect(s.readStream(Buffer.from('small')))).toString(), 'tiny')
  t.true((await collect(s.readStream('big', { highWaterMark: 1000 }))).equals(payload))
  t.is(s.readStream('missing'), null)
  s.delete('small')
  t.is(s.readStream('small'), null)
})

test('readStream with highWaterMark 0 still delivers the payload', async (t) => {
  // A highWaterMark of 0 is valid for a Node Readable.
  const { store: s } = openTmp(t)
  s.write('k', 'hello world')
  const r = s.readStream('k', { highWaterMark: 0 })
  const timeout = new Promise((resolve) => setTimeout(() => resolve('timeout'), 2000))
  const result = await Promise.race([collect(r), timeout])
  r.destroy()
  t.not(result, 'timeout', 'the stream never ended')
  t.is(result.toString(), 'hello world')
})

// ---- hashing ----------------------------------------------------------------

test('computeHash returns a bigint, equal for a string and its UTF-8 bytes', (t) => {
  t.is(typeof computeHash('k'), 'bigint')
  t.is(computeHash(''), 0x2d06800538d394c2n, 'XXH3-64 of the empty input, seed 0')
  t.is(computeHash(new Uint8Array(0)), 0x2d06800538d394c2n)
  for (const s of ['k', 'héllo ✓', 'a\u0000b', 'é'.repeat(127), 'é'.repeat(128), 'z'.repeat(1000)]) {
    const h = computeHash(s)
    t.is(h, computeHash(Buffer.from(s, 'utf8')))
    t.is(h, computeHash(new TextEncoder().encode(s)))
    t.true(h >= 0n && h < 2n ** 64n)
  }
  t.not(computeHash('a'), computeHash('b'))
  t.is(computeHash('a'), computeHash('a'))
})

test('NamespaceHasher(prefix).namespace(key) is 16 bytes: hash(prefix) LE ++ hash(key) LE', (t) => {
  const ns = new NamespaceHasher('p')
  const out = ns.namespace('k')
  t.true(out instanceof Uint8Array)
  t.is(out.length, 16)
  t.deepEqual(Buffer.from(out), Buffer.concat([u64le(computeHash('p')), u64le(computeHash('k'))]))
  t.deepEqual(Buffer.from(new NamespaceHasher(Buffer.from('p')).namespace(Buffer.from('k'))), Buffer.from(out))
  t.notDeepEqual(Buffer.from(new NamespaceHasher('q').namespace('k')), Buffer.from(out))
  // usable as a key
  const { store: s } = openTmp(t)
  s.write(out, 'namespaced')
  t.is(text(s.read(ns.namespace('k'))), 'namespaced')
})

// ---- verification ----------------------------------------------------------

test('verify() returns [] on a healthy store; read(key, {verify: true}) works on healthy data', (t) => {
  const { file, store: s } = openTmp(t)
  t.deepEqual(s.verify(), [])
  for (let i = 0; i < 50; i++) s.write(`k${i}`, `value ${i}`)
  s.delete('k3')
  t.deepEqual(s.verify(), [])
  const h = s.read('k7', { verify: true })
  t.is(text(h), 'value 7')
  t.is(s.read('k3', { verify: true }), null)
  t.is(text(s.readWithKeyHash(computeHash('k8'), { verify: true })), 'value 8')
  s.close()
  const v = DataStore.open(file, { verifyReads: true })
  t.is(text(v.read('k9')), 'value 9')
  t.deepEqual(v.batchRead(['k1', 'k3']).map(text), ['value 1', null])
  v.close()
})
