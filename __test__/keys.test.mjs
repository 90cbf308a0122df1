// Keys you can list (`DataStore.open(path, { keys: true })`): each write by
// key also appends a "record" entry just before the value, in the same
// append, under the 16-byte key NamespaceHasher(F7 'key' FD).namespace(key),
// whose payload is those 5 bytes and the key's bytes. `keys({ prefix })`
// lists every live key whose record is live, oldest record first; len(),
// iteration and exists show the user's keys only; handles from entries()
// have `key`. Checked here:
//  1. every way of writing by key (sync, async, group commit, streams, batches,
//     every key type, binary and empty keys, the Rust-extension writers) lists
//     the key; every way of removing it unlists it; prefixes; no record ever
//     shown by len/iteration/entries; writes by hash readable but not listed;
//  2. reopen (this process and a new one) and compaction keep the listing; a
//     store opened without keys shows the records as ordinary entries;
//  3. SIGKILL mid-batch, ~15 times (SRD_KEYS_KILLS=N for more): a listed key
//     is always readable, a readable key always listed, acknowledged writes
//     present with their exact bytes, len() = keys listed;
//  4. two processes writing with keys on each list the other's keys without
//     reopening; a third, { readOnly: true, keys: true }, lists them too;
//  5. the bytes on disk, keys on vs off (the exact layout).
//
//   npx ava __test__/keys.test.mjs            (about 12 s on 2 cores)
//   SRD_KEYS_KILLS=200 npx ava __test__/keys.test.mjs
import test from 'ava'
import fs from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { AsyncDataStore, DataStore, NamespaceHasher, computeHash } from '../lib/index.mjs'
import { closer, tmpDir, tmpFile } from './helpers/store.mjs'
import { rng } from './helpers/payload.mjs'
import { startChild } from './helpers/mp-common.mjs'
import { POOL, RECORD_PREFIX, hex, keyPayload, looksLikeRecord, parseKeyPayload, poolIndex, poolKey, recordKeyOf } from './helpers/keys-common.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const WRITER = path.join(here, 'helpers', 'keys-writer.mjs')
const PEER = path.join(here, 'helpers', 'keys-peer.mjs')
const KILLS = Number(process.env.SRD_KEYS_KILLS ?? 15)

const KEYS = { keys: true }
/** The keys a store lists, as Buffers. */
const listed = (store, options) => [...store.keys(options)]
/** ...as strings (text keys). */
const names = (store, options) => listed(store, options).map((k) => k.toString('utf8'))
async function listedAsync(store, options) {
  const out = []
  for await (const k of store.keys(options)) out.push(k)
  return out
}

// ---- the file layout (docs/FORMAT.md) ---------------------------------------------------
const METADATA = 20
const padOf = (tail) => (64 - (tail % 64)) % 64
/** The tail after appending entries of these payload lengths ('tomb': a tombstone, no pre-pad) at `tail`. */
function layout(entries, tail = 0) {
  for (const e of entries) tail = e === 'tomb' ? tail + 1 + METADATA : tail + padOf(tail) + e + METADATA
  return tail
}
/** Payload length of the record of `key`. */
const recordLen = (key) => RECORD_PREFIX.length + Buffer.byteLength(key)

/**
 * What a store shows: len(), entries() and iteration hold exactly the
 * user entries of `expected` (`[keyBytes | null, payload, keyHash?]`; null:
 * written by hash, `keyHash` given), no record's payload, each handle's `key`
 * the key it was written under (null for writes by hash).
 */
function checkShown(t, store, expected, what = '') {
  const want = new Map()
  for (const [key, payload, keyHash] of expected) {
    const h = key === null ? keyHash : computeHash(key)
    want.set(h, { key: key === null ? null : hex(key), payload: hex(Buffer.from(payload)) })
  }
  t.is(store.len(), want.size, `${what} len() counts the user's keys only`)
  const handles = [...store.entries()]
  t.is(handles.length, want.size, `${what} entries() yields the user's entries only`)
  t.is([...store].length, want.size, `${what} for...of too`)
  const bad = []
  for (const h of handles) {
    const w = want.get(h.keyHash)
    if (looksLikeRecord(h.bytes)) bad.push(`a record iterated: ${hex(h.bytes)}`)
    if (w === undefined) bad.push(`unexpected entry ${h.keyHash}: ${hex(h.bytes)}`)
    else {
      if (hex(h.bytes) !== w.payload) bad.push(`${h.keyHash}: payload ${hex(h.bytes)}, want ${w.payload}`)
      const k = h.key === null ? null : hex(h.key)
      if (k !== w.key) bad.push(`${h.keyHash}: key ${k}, want ${w.key}`)
      if (h.key !== null && !Buffer.isBuffer(h.key)) bad.push(`${h.keyHash}: key is no Buffer`)
    }
  }
  t.deepEqual(bad, [], what)
}

// ---- 1. writing lists, removing unlists -------------------------------------------------

test('every sync way of writing by key lists its bytes, oldest record first: write, batchWrite, writeStream; string, Buffer, Uint8Array view, ArrayBuffer, DataView keys; 0x00, non-UTF-8, empty, lone-surrogate, 250-257-byte and 5000-byte keys', (t) => {
  const { file } = tmpFile(t)
  const store = closer(t)(DataStore.open(file, KEYS))
  const ab = new Uint8Array([0x61, 0x62, 0x2d, 0x6b, 0x65, 0x79]).buffer
  const dvBacking = new Uint8Array([0x30, 0x64, 0x76, 0x2d, 0x6b, 0x39]).buffer
  const u8 = new Uint8Array([1, 2, 3, 4, 5, 6])
  // [key as given, its bytes]
  const singles = [
    ['alpha', Buffer.from('alpha')],
    [Buffer.from('beta'), Buffer.from('beta')],
    [u8.subarray(1, 4), Buffer.from([2, 3, 4])],
    [ab, Buffer.from(ab)],
    [new DataView(dvBacking, 1, 4), Buffer.from(dvBacking, 1, 4)],
    [Buffer.from([0x00, 0x6b, 0x00]), Buffer.from([0x00, 0x6b, 0x00])],
    [Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x80]), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x80])],
    ['', Buffer.alloc(0)],
    ['é😀 ключ', Buffer.from('é😀 ключ', 'utf8')],
    ['\uD800-lone', Buffer.from('\uD800-lone', 'utf8')], // U+FFFD, as Node encodes it
    ['L'.repeat(5000), Buffer.from('L'.repeat(5000))],
    // around the 252/256-byte limits of copying a short string key (UTF-8 chars of 2 and 4 bytes across them)
    ...[250, 251, 252, 253, 254, 255, 256, 257].map((n) => ['s'.repeat(n), Buffer.from('s'.repeat(n))]),
    ...[248, 249, 250, 251, 252, 253].map((n) => `${'e'.repeat(n)}😀`).map((k) => [k, Buffer.from(k, 'utf8')]),
    ...[250, 251, 252, 253, 254].map((n) => `${'e'.repeat(n)}é`).map((k) => [k, Buffer.from(k, 'utf8')]),
  ]
  const expected = []
  singles.forEach(([k, bytes], i) => {
    store.write(k, `single-${i}`)
    expected.push([bytes, `single-${i}`])
  })
  // batchWrite: string, Buffer, Uint8Array keys; 'b-str' twice (the later wins, listed once, at its later record)
  store.batchWrite([
    ['b-str', 'B1'],
    [Buffer.from('b-buf'), 'B2'],
    [new Uint8Array([0x62, 0x2d, 0x75, 0x38]), 'B3'],
    [Buffer.from([0x00]), 'B4'],
    ['b-str', 'B1 again'],
  ])
  expected.push([Buffer.from('b-buf'), 'B2'], [Buffer.from('b-u8'), 'B3'], [Buffer.from([0x00]), 'B4'], [Buffer.from('b-str'), 'B1 again'])
  // writeStream from an array of chunks and from a generator
  store.writeStream('s-array', [Buffer.from('st'), new Uint8Array([0x72])])
  store.writeStream(
    Buffer.from([0x00, 0xff]),
    (function* () {
      yield Buffer.from('gen')
      yield Buffer.from('erated')
    })(),
  )
  expected.push([Buffer.from('s-array'), 'str'], [Buffer.from([0x00, 0xff]), 'generated'])

  const keys = listed(store)
  t.true(keys.every((k) => Buffer.isBuffer(k)), 'keys() yields Buffers')
  t.deepEqual(keys.map(hex), expected.map(([k]) => hex(k)), 'every key, once, oldest record first')
  const unreadable = expected.filter(([k, p]) => store.read(k)?.bytes.toString('latin1') !== p || !store.exists(k))
  t.deepEqual(unreadable.map(([k]) => hex(k)), [])
  t.is(store.readLastEntry().bytes.toString(), 'generated', 'the value is the last entry of its append, after its record')
  checkShown(t, store, expected)
})

test('every async way of writing by key lists it: 1,000 concurrent writes (one group commit, listed in issue order), batchWrite, writeStream (array, Readable, async generator), writes through DataStore.async; for await over keys()', async (t) => {
  const track = closer(t)
  const { file } = tmpFile(t)
  const as = track(await AsyncDataStore.open(file, KEYS))
  const N = 1000
  await Promise.all(Array.from({ length: N }, (_, i) => as.write(`g-${i}`, `gv-${i}`)))
  const expected = Array.from({ length: N }, (_, i) => [Buffer.from(`g-${i}`), `gv-${i}`])
  // a mixed group: batchWrite, writes and streams in flight together
  await Promise.all([
    as.batchWrite([
      ['ab-str', 'x'],
      [Buffer.from([0, 1, 0xff]), 'y'],
      [new Uint8Array([0x75, 0x38]), 'z'],
    ]),
    as.write('', 'empty key'),
    as.write(Buffer.from([0xc3, 0x28]), 'bad utf-8'),
    as.writeStream('as-array', [Buffer.from('a1'), Buffer.from('a2')]),
    as.writeStream('as-readable', Readable.from([Buffer.from('r1'), Buffer.from('r2')])),
    as.writeStream(
      Buffer.from([0x00, 0x73]),
      (async function* () {
        yield Buffer.from('async ')
        yield Buffer.from('gen')
      })(),
    ),
  ])
  const rest = [
    [Buffer.from('ab-str'), 'x'],
    [Buffer.from([0, 1, 0xff]), 'y'],
    [Buffer.from('u8'), 'z'],
    [Buffer.alloc(0), 'empty key'],
    [Buffer.from([0xc3, 0x28]), 'bad utf-8'],
    [Buffer.from('as-array'), 'a1a2'],
    [Buffer.from('as-readable'), 'r1r2'],
    [Buffer.from([0x00, 0x73]), 'async gen'],
  ]
  expected.push(...rest)
  const keys = await listedAsync(as)
  t.true(keys.every((k) => Buffer.isBuffer(k)))
  t.deepEqual(
    keys.slice(0, N).map((k) => k.toString()),
    expected.slice(0, N).map(([k]) => k.toString()),
    'the group commit recorded the 1,000 keys in the order the writes were issued',
  )
  t.deepEqual(keys.slice(N).map(hex).sort(), rest.map(([k]) => hex(k)).sort())
  t.is(await as.len(), expected.length)
  const reads = await Promise.all(expected.map(([k]) => as.read(k)))
  t.deepEqual(
    expected.filter(([, p], i) => reads[i]?.bytes.toString('latin1') !== p).map(([k]) => hex(k)),
    [],
    'every listed key reads its value',
  )
  let n = 0
  const bad = []
  for await (const h of as.entries()) {
    n++
    if (looksLikeRecord(h.bytes)) bad.push(`record iterated: ${hex(h.bytes)}`)
    if (h.key === null || computeHash(h.key) !== h.keyHash) bad.push(`entry ${h.keyHash}: key ${h.key && hex(h.key)}`)
  }
  t.is(n, expected.length)
  t.deepEqual(bad, [])

  // DataStore.async shares the engine: what it writes the sync store lists
  const { file: f2 } = tmpFile(t)
  const s = track(DataStore.open(f2, KEYS))
  await Promise.all([s.async.write('via-async', '1'), s.async.batchWrite([['via-async-batch', '2']]), s.async.writeStream('via-async-stream', [Buffer.from('3')])])
  t.deepEqual(names(s).sort(), ['via-async', 'via-async-batch', 'via-async-stream'])
  t.deepEqual((await listedAsync(s.async)).map(String).sort(), ['via-async', 'via-async-batch', 'via-async-stream'])
  checkShown(t, s, [
    [Buffer.from('via-async'), '1'],
    [Buffer.from('via-async-batch'), '2'],
    [Buffer.from('via-async-stream'), '3'],
  ])
})

test('removing a key unlists it: delete and batchDelete (two tombstones: the value\'s, then the record\'s), rename (old out, new in), transfer (out of the source, into the target), copy (listed in both); across stores with and without keys', (t) => {
  const dir = tmpDir(t)
  const track = closer(t)
  const a = track(DataStore.open(path.join(dir, 'a.bin'), KEYS))
  const b = track(DataStore.open(path.join(dir, 'b.bin'), KEYS))
  const plain = track(DataStore.open(path.join(dir, 'plain.bin')))
  for (let i = 1; i <= 8; i++) a.write(`k${i}`, `v-k${i}`)
  const read = (s, k) => s.read(k)?.bytes.toString() ?? null

  let tail = a.fileSize()
  a.delete('k1')
  t.is(a.fileSize(), layout(['tomb', 'tomb'], tail), 'a delete appends the value\'s tombstone and the record\'s')
  t.deepEqual(names(a), ['k2', 'k3', 'k4', 'k5', 'k6', 'k7', 'k8'])
  t.is(read(a, 'k1'), null)
  tail = a.fileSize()
  a.delete('k1')
  t.is(a.fileSize(), tail, 'deleting a missing key writes nothing')

  a.batchDelete(['k2', Buffer.from('k3'), 'missing', 'k2'])
  t.deepEqual(names(a), ['k4', 'k5', 'k6', 'k7', 'k8'])

  a.rename('k4', 'k4-renamed')
  t.deepEqual(names(a), ['k5', 'k6', 'k7', 'k8', 'k4-renamed'])
  t.is(read(a, 'k4'), null)
  t.is(read(a, 'k4-renamed'), 'v-k4')
  a.rename(Buffer.from('k5'), 'k6') // onto a live key
  t.deepEqual(names(a), ['k7', 'k8', 'k4-renamed', 'k6'])
  t.is(read(a, 'k6'), 'v-k5')

  a.copy('k7', b)
  t.deepEqual(names(a), ['k7', 'k8', 'k4-renamed', 'k6'], 'copy leaves the source listed')
  t.deepEqual(names(b), ['k7'], 'and lists the key in the target')
  t.is(read(b, 'k7'), 'v-k7')

  a.transfer('k8', b)
  t.deepEqual(names(a), ['k7', 'k4-renamed', 'k6'])
  t.deepEqual(names(b), ['k7', 'k8'])
  t.is(read(b, 'k8'), 'v-k8')

  // into a store opened without keys: nothing recorded there, the source unlists it
  a.transfer('k7', plain)
  t.deepEqual(names(a), ['k4-renamed', 'k6'])
  t.deepEqual(names(plain), [])
  t.is(read(plain, 'k7'), 'v-k7')
  // from a store without keys into one with keys: the target records the key given
  plain.write('from-plain', 'p')
  plain.copy('from-plain', b)
  plain.transfer('k7', b) // b already had k7: overwritten, listed once, now newest
  t.deepEqual(names(b), ['k8', 'from-plain', 'k7'])

  checkShown(t, a, [
    [Buffer.from('k4-renamed'), 'v-k4'],
    [Buffer.from('k6'), 'v-k5'],
  ], 'a:')
  checkShown(t, b, [
    [Buffer.from('k7'), 'v-k7'],
    [Buffer.from('k8'), 'v-k8'],
    [Buffer.from('from-plain'), 'p'],
  ], 'b:')
})

test('removing unlists, async: delete, batchDelete, rename, copy, transfer, and deletes in the same group commit as writes', async (t) => {
  const dir = tmpDir(t)
  const track = closer(t)
  const a = track(await AsyncDataStore.open(path.join(dir, 'a.bin'), KEYS))
  const b = track(await AsyncDataStore.open(path.join(dir, 'b.bin'), KEYS))
  const L = async (s) => (await listedAsync(s)).map(String)
  await Promise.all(Array.from({ length: 8 }, (_, i) => a.write(`k${i + 1}`, `v-k${i + 1}`)))
  await a.delete('k1')
  await a.batchDelete(['k2', 'k3'])
  t.deepEqual(await L(a), ['k4', 'k5', 'k6', 'k7', 'k8'])
  await a.rename('k4', 'k4b')
  t.deepEqual(await L(a), ['k5', 'k6', 'k7', 'k8', 'k4b'])
  await a.copy('k5', b)
  await a.transfer('k6', b)
  t.deepEqual(await L(a), ['k5', 'k7', 'k8', 'k4b'])
  t.deepEqual(await L(b), ['k5', 'k6'])
  // one group: a write, a delete of it, a write of another, a delete of a third
  await Promise.all([a.write('x', '1'), a.delete('x'), a.write('y', '2'), a.delete('k7')])
  t.deepEqual(await L(a), ['k5', 'k8', 'k4b', 'y'])
  t.is(await a.read('x'), null)
  t.is(await a.read('k7'), null)
  t.is(await a.len(), 4)
  t.is(await b.len(), 2)
})

test('writes by hash are readable but not listed (there is no key to record), entries() gives them key null; a delete by hash unlists a recorded key; an overwrite by hash keeps it listed', async (t) => {
  const { file } = tmpFile(t)
  const s = closer(t)(DataStore.open(file, KEYS))
  const H = (k) => computeHash(k)
  s.write('named', 'n')
  let tail = s.fileSize()
  s.writeWithKeyHash(H('h1'), 'H1')
  t.is(s.fileSize(), layout([2], tail), 'a write by hash is one entry: no record')
  s.batchWriteWithKeyHashes([
    [H('h2'), 'H2'],
    [H('h3'), 'H3'],
  ])
  s.writeStreamWithKeyHash(H('h4'), [Buffer.from('H4')])
  await s.async.writeWithKeyHash(H('h5'), 'H5')
  await s.async.batchWriteWithKeyHashes([[H('h6'), 'H6']])
  await s.async.writeStreamWithKeyHash(H('h7'), [Buffer.from('H7')])
  const byHash = [1, 2, 3, 4, 5, 6, 7].map((i) => [`h${i}`, `H${i}`])
  t.deepEqual(
    byHash.filter(([k, p]) => s.read(k)?.bytes.toString() !== p).map(([k]) => k),
    [],
    'readable by key (its hash is the same)',
  )
  t.deepEqual(names(s), ['named'], 'only the key written by key is listed')
  t.deepEqual((await listedAsync(s.async)).map(String), ['named'])
  checkShown(t, s, [[Buffer.from('named'), 'n'], ...byHash.map(([k, p]) => [null, p, H(k)])])

  // an overwrite of a recorded key by hash: its record stays, it stays listed and readable
  s.writeWithKeyHash(H('named'), 'n2')
  t.deepEqual(names(s), ['named'])
  t.is(s.read('named').bytes.toString(), 'n2')
  // deletes by hash drop the record too
  s.write('del-by-hash', 'x')
  tail = s.fileSize()
  s.batchDeleteKeyHashes([H('del-by-hash')])
  t.is(s.fileSize(), layout(['tomb', 'tomb'], tail))
  s.write('tomb-by-hash', 'x')
  tail = s.fileSize()
  s.batchWriteWithKeyHashes([[H('tomb-by-hash'), Buffer.from([0])]], true)
  t.is(s.fileSize(), layout(['tomb', 'tomb'], tail), 'a tombstone written by hash drops the record too')
  s.write('async-del-by-hash', 'x')
  await s.async.batchDeleteKeyHashes([H('async-del-by-hash')])
  t.deepEqual(names(s), ['named'])
  // deleting a key written by hash: one tombstone (no record to drop)
  tail = s.fileSize()
  s.delete('h1')
  t.is(s.fileSize(), layout(['tomb'], tail))
  t.is(s.len(), 7)
})

test('keys({ prefix }) filters by bytes: string, Buffer, Uint8Array, ArrayBuffer prefixes, binary, part of a UTF-8 character, a whole key, a prefix that matches nothing or is longer than every key, the empty prefix; sync and for await; bad options refused', async (t) => {
  const { file } = tmpFile(t)
  const s = closer(t)(DataStore.open(file, KEYS))
  const all = ['user:1', 'user:2', 'user:10', 'usex', 'item:1', Buffer.from([0x00, 0xff, 1]), Buffer.from([0x00, 0xff, 2]), Buffer.from([0x00, 0x01]), '', 'é-key', 'user:gone']
  for (const k of all) s.write(k, 'v')
  s.delete('user:gone')
  const H = (ks) => ks.map((k) => hex(Buffer.from(k)))
  const cases = [
    ['user:', ['user:1', 'user:2', 'user:10']],
    [Buffer.from('user:1'), ['user:1', 'user:10']],
    ['us', ['user:1', 'user:2', 'user:10', 'usex']],
    ['usex', ['usex']],
    [new Uint8Array([0x00, 0xff]), [Buffer.from([0x00, 0xff, 1]), Buffer.from([0x00, 0xff, 2])]],
    [new Uint8Array([0x00]).buffer, [Buffer.from([0x00, 0xff, 1]), Buffer.from([0x00, 0xff, 2]), Buffer.from([0x00, 0x01])]],
    [Buffer.from([0xc3]), ['é-key']], // the first byte of 'é': a byte prefix, not a character one
    ['zzz', []],
    ['user:10000000000', []],
    ['user:gone', []],
  ]
  const everything = all.filter((k) => k !== 'user:gone')
  for (const [prefix, want] of cases) {
    const what = `prefix ${hex(Buffer.from(prefix instanceof ArrayBuffer ? new Uint8Array(prefix) : prefix))}`
    t.deepEqual(H(listed(s, { prefix })), H(want), what)
    t.deepEqual(H(await listedAsync(s.async, { prefix })), H(want), `${what} (async)`)
  }
  for (const opts of [{ prefix: '' }, { prefix: Buffer.alloc(0) }, {}, undefined]) {
    t.deepEqual(H(listed(s, opts)), H(everything), `all keys with ${JSON.stringify(opts)}`)
    t.deepEqual(H(await listedAsync(s.async, opts)), H(everything))
  }
  t.throws(() => listed(s, { prefix: 5 }), { code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => listed(s, { prefx: 'u' }), { code: 'ERR_INVALID_ARG_VALUE' })
  await t.throwsAsync(listedAsync(s.async, { prefix: 5 }), { code: 'ERR_INVALID_ARG_TYPE' })
})

test('len(), exists, iteration and entries() never show a record: many writes, overwrites, deletes and renames', (t) => {
  const { file } = tmpFile(t)
  const s = closer(t)(DataStore.open(file, KEYS))
  const next = rng(0x6b657973)
  const model = new Map()
  for (let i = 0; i < 2000; i++) {
    const r = next() % 10
    const k = `m${next() % 300}`
    if (r < 6) {
      s.write(k, `${k}@${i}`)
      model.set(k, `${k}@${i}`)
    } else if (r < 8) {
      s.delete(k)
      model.delete(k)
    } else if (model.has(k)) {
      const to = `m${next() % 300}`
      if (to === k) continue
      s.rename(k, to)
      model.set(to, model.get(k))
      model.delete(k)
    }
  }
  t.deepEqual(names(s).sort(), [...model.keys()].sort())
  t.is(s.len(), model.size)
  t.is(s.isEmpty(), model.size === 0)
  checkShown(
    t,
    s,
    [...model].map(([k, p]) => [Buffer.from(k), p]),
  )
  t.false([...model.keys()].some((k) => !s.exists(k)))
  t.true(Array.from({ length: 300 }, (_, i) => `m${i}`).every((k) => s.exists(k) === model.has(k)), 'exists() agrees with the listing')
})

test('only real records are hidden: a value whose bytes start with the record prefix (even 0xF7 "key" 0xFD and another key) is an ordinary entry, counted and iterated, and lists no key; a key starting with the prefix is listed as it is', (t) => {
  const { file } = tmpFile(t)
  const s = closer(t)(DataStore.open(file, KEYS))
  const lookalike = Buffer.concat([RECORD_PREFIX, Buffer.from('ghost')])
  s.write('x', lookalike)
  s.write('y', RECORD_PREFIX)
  const prefixed = Buffer.concat([RECORD_PREFIX, Buffer.from('k')])
  s.write(prefixed, 'v')
  t.deepEqual(listed(s).map(hex), ['x', 'y', prefixed].map((k) => hex(Buffer.from(k))))
  t.is(s.len(), 3)
  const hs = [...s.entries()]
  t.is(hs.length, 3)
  t.deepEqual(hs.map((h) => hex(h.key)).sort(), ['x', 'y', prefixed].map((k) => hex(Buffer.from(k))).sort())
  t.is(hex(s.read('x').bytes), hex(lookalike))
  t.false(s.exists('ghost'))
})

test('exists() never shows the bookkeeping: a record\'s own 16-byte key is not reported as existing (OpenOptions.keys: "hidden from len(), iteration and exists")', async (t) => {
  const { file } = tmpFile(t)
  const s = closer(t)(DataStore.open(file, KEYS))
  s.write('k', 'v')
  const rk = recordKeyOf('k')
  const r = s.read(rk)
  t.log(`read(recordKey('k')) in a keys store: ${r === null ? 'null' : hex(r.bytes)} (the record, readable as any entry)`)
  t.false(s.exists(rk), 'exists(record key)')
  t.false(await s.async.exists(rk), 'async exists(record key)')
  t.false(s.existsWithKeyHash(computeHash(rk)), 'existsWithKeyHash(hash of the record key)')
})

test('the Rust-extension writers list the keys they store: writeWithTtl and writeOption (their 16-byte namespaced keys), importDir (each file\'s relative path, or its namespaced key); sync and async; an expired TTL entry deleted on read is unlisted', async (t) => {
  const dir = tmpDir(t)
  const track = closer(t)
  const ttlKey = (k) => new NamespaceHasher(Buffer.from([0xf7, ...Buffer.from('ttl'), 0xfd])).namespace(k)
  const optionKey = (k) => new NamespaceHasher(Buffer.from([0xf7, ...Buffer.from('option'), 0xfd])).namespace(k)
  const files = path.join(dir, 'files')
  fs.mkdirSync(path.join(files, 'sub'), { recursive: true })
  fs.writeFileSync(path.join(files, 'a.txt'), 'A')
  fs.writeFileSync(path.join(files, 'sub', 'b.bin'), Buffer.from([1, 2, 3]))
  fs.writeFileSync(path.join(files, 'empty.txt'), '')
  fs.writeFileSync(path.join(files, 'zeros.bin'), Buffer.alloc(10))

  for (const mode of ['sync', 'async']) {
    const file = path.join(dir, `${mode}.bin`)
    const s = track(mode === 'sync' ? DataStore.open(file, KEYS) : await AsyncDataStore.open(file, KEYS))
    await s.writeWithTtl('session', 'tok', 3600)
    await s.writeWithTtl('short', 'x', 10, { now: 1000 })
    await s.writeOption('maybe', 'some')
    await s.writeOption('none', null)
    const plainImport = await s.importDir(files)
    const nsImport = await s.importDir(files, { namespace: 'files' })
    t.deepEqual(plainImport.imported.map((f) => f.key.toString()), ['a.txt', 'sub/b.bin'])
    t.deepEqual(plainImport.skipped.map((f) => f.path).sort(), ['empty.txt', 'zeros.bin'])
    const want = [ttlKey('session'), ttlKey('short'), optionKey('maybe'), optionKey('none'), ...plainImport.imported.map((f) => f.key), ...nsImport.imported.map((f) => f.key)]
    t.deepEqual(nsImport.imported.map((f) => hex(f.key)), ['a.txt', 'sub/b.bin'].map((p) => hex(new NamespaceHasher('files').namespace(p))))
    t.deepEqual((await listedAsync(mode === 'sync' ? s.async : s)).map(hex), want.map(hex), `${mode}: the keys the store wrote, in order`)
    if (mode === 'sync') t.deepEqual(listed(s).map(hex), want.map(hex))
    t.is(await s.len(), want.length)
    t.is(await s.readWithTtl('session', { as: 'string' }), 'tok')
    t.is(await s.readOption('none'), null)
    t.is((await s.readFileEntry('sub/b.bin')).bytes.toString('hex'), '010203')
    // expired: read deletes it, and with it its record
    t.is(await s.readWithTtl('short', { now: 2000 }), null)
    t.false((await listedAsync(mode === 'sync' ? s.async : s)).some((k) => k.equals(ttlKey('short'))))
    t.is(await s.len(), want.length - 1)
  }
})

test('the listing is oldest record first: an overwrite moves a key to the end, a batch lists in batch order, a rename lists the new key last', (t) => {
  const { file } = tmpFile(t)
  const s = closer(t)(DataStore.open(file, KEYS))
  s.write('a', '1')
  s.write('b', '1')
  s.write('c', '1')
  t.deepEqual(names(s), ['a', 'b', 'c'])
  s.write('a', '2')
  t.deepEqual(names(s), ['b', 'c', 'a'])
  s.batchWrite([
    ['d', '1'],
    ['b', '2'],
    ['e', '1'],
  ])
  t.deepEqual(names(s), ['c', 'a', 'd', 'b', 'e'])
  s.rename('c', 'f')
  t.deepEqual(names(s), ['a', 'd', 'b', 'e', 'f'])
  s.writeStream('d', [Buffer.from('3')])
  t.deepEqual(names(s), ['a', 'b', 'e', 'f', 'd'])
})

test('failed writes list nothing and write nothing: a batch with a bad payload, an empty payload, a stream whose source throws, an aborted async stream, a stream of only 0x00 bytes; a read-only store refuses writes and lists', async (t) => {
  const { file } = tmpFile(t)
  const track = closer(t)
  const s = track(DataStore.open(file, KEYS))
  s.write('kept', 'k')
  const tail = s.fileSize()
  t.throws(() => s.batchWrite([['b1', 'x'], ['b2', Buffer.alloc(0)]]), { code: 'ERR_INVALID_ARG_VALUE' })
  t.throws(() => s.write('e', Buffer.alloc(0)), { code: 'ERR_INVALID_ARG_VALUE' })
  t.throws(() =>
    s.writeStream(
      's-throws',
      (function* () {
        yield Buffer.from('part')
        throw new Error('source failed')
      })(),
    ),
  )
  t.throws(() => s.writeStream('s-zero', [Buffer.alloc(100)]), { code: 'ERR_INVALID_ARG_VALUE' })
  const ac = new AbortController()
  const aborted = s.async.writeStream(
    'as-aborted',
    (async function* () {
      yield Buffer.from('part')
      ac.abort()
      yield Buffer.from('more')
    })(),
    { signal: ac.signal },
  )
  await t.throwsAsync(aborted, { name: 'AbortError' })
  await t.throwsAsync(s.async.batchWrite([['ab1', 'x'], ['ab2', Buffer.alloc(0)]]))
  t.is(s.fileSize(), tail, 'nothing appended')
  t.deepEqual(names(s), ['kept'])
  t.is(s.len(), 1)
  // a failing group among others in one group commit: only its keys are missing
  const group = await Promise.allSettled([s.async.write('g-ok1', '1'), s.async.batchWrite([['g-bad1', 'x'], ['g-bad2', Buffer.alloc(0)]]), s.async.write('g-ok2', '2')])
  t.deepEqual(group.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled'])
  t.deepEqual(names(s), ['kept', 'g-ok1', 'g-ok2'])
  s.batchDelete(['g-ok1', 'g-ok2'])
  s.close()

  const ro = track(DataStore.open(file, { readOnly: true, keys: true }))
  t.deepEqual(names(ro), ['kept'])
  t.is(ro.len(), 1)
  t.throws(() => ro.write('ro', 'x'), { code: 'ERR_STORE_READ_ONLY' })
  t.deepEqual(names(ro), ['kept'])
  checkShown(t, ro, [[Buffer.from('kept'), 'k']], 'read-only:')
})

test('in one process { keys } is a property of the engine: a plain open of a path a keys open also has open records its writes (and hides records), as the engine documents; once all are closed a plain open sees the records', (t) => {
  const { file } = tmpFile(t)
  const plain = DataStore.open(file)
  plain.write('p1', 'x')
  const keyed = DataStore.open(file, KEYS)
  keyed.write('k1', 'y')
  plain.write('p2', 'z') // through the same engine: recorded
  t.deepEqual(names(keyed), ['k1', 'p2'])
  t.is(plain.len(), 3)
  t.is(keyed.len(), 3)
  t.true([...plain.entries()].every((h) => h.key === null && !looksLikeRecord(h.bytes)), 'the plain handle hides records but gives no keys')
  keyed.close()
  plain.close()
  const again = DataStore.open(file)
  t.teardown(() => again.close())
  t.is(again.len(), 5, '3 values and 2 records')
})

// ---- 2. reopen, compaction, opened without keys -----------------------------------------

/** A keys-peer.mjs child; `ask(cmd)` sends a command and resolves with its answer. */
function peer(t, file, options) {
  const queued = []
  const waiting = []
  const c = startChild(PEER, [file, JSON.stringify(options)], {
    timeoutMs: 60_000,
    onLine: (line) => {
      let msg
      try {
        msg = JSON.parse(line)
      } catch {
        return
      }
      const w = waiting.shift()
      if (w) w.resolve(msg)
      else queued.push(msg)
    },
  })
  t.teardown(async () => {
    if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL')
    await c.exited
  })
  void c.exited.then(() => {
    for (const w of waiting.splice(0)) w.reject(new Error(`keys-peer exited (${c.child.exitCode ?? c.child.signalCode})\n${c.stderr()}`))
  })
  const next = () => (queued.length > 0 ? Promise.resolve(queued.shift()) : new Promise((resolve, reject) => waiting.push({ resolve, reject })))
  const ready = next()
  return {
    c,
    ready,
    async ask(cmd) {
      await ready
      c.send(JSON.stringify(cmd))
      const r = await next()
      if (!r.ok) throw new Error(`keys-peer ${JSON.stringify(cmd)} failed: ${r.error}`)
      return r
    },
  }
}

test.serial('the listing survives reopen (this process and a new one) and compaction, in order; compaction keeps each live record and drops superseded ones', async (t) => {
  const { file } = tmpFile(t)
  let s = DataStore.open(file, KEYS)
  t.teardown(() => s.close())
  const next = rng(0x2f1e)
  for (let i = 0; i < 300; i++) s.write(`r${i}`, `v${i}`)
  for (let i = 0; i < 60; i++) s.write(`r${next() % 300}`, `over${i}`)
  s.batchDelete(Array.from({ length: 30 }, (_, i) => `r${i * 7}`))
  for (let i = 0; i < 10; i++) s.rename(`r${i * 7 + 1}`, `renamed-${i}`)
  for (let i = 0; i < 5; i++) s.writeWithKeyHash(computeHash(`hashed-${i}`), `h${i}`)
  const before = listed(s).map(hex)
  const len = s.len()
  t.is(len, before.length + 5)
  s.close()

  s = DataStore.open(file, KEYS)
  t.deepEqual(listed(s).map(hex), before, 'reopened in this process')
  t.is(s.len(), len)

  const p = peer(t, file, KEYS)
  const r = await p.ask({ op: 'list' })
  t.deepEqual(r.keys, before, 'opened in a new process')
  t.true(r.asyncSame)
  t.deepEqual(r.unreadable, [])
  t.is(r.len, len)
  t.is(r.asyncLen, len)
  t.is(r.entries, len)
  t.is(r.recordPayloads, 0)
  t.is(r.keyed, len - 5, 'entries() gives a key for each entry written by key')
  t.is(r.wrongKey, 0)

  const size = s.fileSize()
  s.compact()
  t.true(s.fileSize() < size)
  t.is(s.estimateCompactionSavings(), 0)
  t.deepEqual(listed(s).map(hex), before, 'after compaction, same keys, same order')
  t.is(s.len(), len)
  const r2 = await p.ask({ op: 'list' })
  t.deepEqual(r2.keys, before, 'the other process, after this one compacted')
  t.is(r2.len, len)
  await p.ask({ op: 'exit' })
  s.close()

  // the compacted file, opened without keys in a new process: exactly one record per listed key
  const q = peer(t, file, {})
  const r3 = await q.ask({ op: 'list' })
  t.is(r3.len, len + before.length, 'user entries + one live record per listed key')
  t.is(r3.recordPayloads, before.length)
  await q.ask({ op: 'exit' })

  s = DataStore.open(file, KEYS)
  t.deepEqual(listed(s).map(hex), before, 'reopened after compaction')
  checkShown(
    t,
    s,
    [...listed(s).map((k) => [k, s.read(k).bytes.toString('latin1')]), ...Array.from({ length: 5 }, (_, i) => [null, `h${i}`, computeHash(`hashed-${i}`)])],
  )
})

test.serial('a store opened without keys over a file with records shows each live record as an ordinary entry (len, iteration, exists, read), and keys() still lists; its writes record nothing, its deletes leave the record behind (unlisted); reopened with keys the records are hidden again', async (t) => {
  const { file } = tmpFile(t)
  const s = DataStore.open(file, KEYS)
  s.write('a', 'va')
  s.write('b', 'vb')
  s.write('c', 'vc')
  s.writeWithKeyHash(computeHash('h'), 'vh')
  s.close()
  const record = (k) => hex(Buffer.concat([RECORD_PREFIX, Buffer.from(k)]))

  // this process, every handle closed: the engine is opened anew, without keys
  const plain = DataStore.open(file)
  t.teardown(() => plain.close())
  t.is(plain.len(), 7, '4 values + 3 records')
  const hs = [...plain.entries()]
  t.is(hs.length, 7)
  const recs = hs.filter((h) => looksLikeRecord(h.bytes))
  t.deepEqual(recs.map((h) => hex(h.bytes)).sort(), ['a', 'b', 'c'].map(record).sort(), 'each record: 0xF7 "key" 0xFD and the key')
  t.deepEqual(
    recs.map((h) => h.keyHash).sort(),
    ['a', 'b', 'c'].map((k) => computeHash(recordKeyOf(k))).sort(),
    'under the namespaced key NamespaceHasher(F7 "key" FD).namespace(key)',
  )
  t.true(hs.every((h) => h.key === null), 'no keys without { keys: true }')
  t.true(plain.exists(recordKeyOf('a')))
  t.is(hex(plain.read(recordKeyOf('a')).bytes), record('a'))
  t.deepEqual(names(plain), ['a', 'b', 'c'], 'keys() lists the recorded keys whatever the open option')

  let tail = plain.fileSize()
  plain.write('d', 'vd')
  t.is(plain.fileSize(), layout([2], tail), 'a write without keys: no record')
  tail = plain.fileSize()
  plain.delete('a')
  t.is(plain.fileSize(), layout(['tomb'], tail), 'a delete without keys: one tombstone, the record stays')
  plain.write('b', 'vb2')
  t.is(plain.len(), 7, 'b c h d, and the records of a (its key gone), b and c')
  t.deepEqual(names(plain), ['b', 'c'], 'a is not listed (its key is gone), d was not recorded')
  plain.close()

  // a new process, without keys: the same
  const q = peer(t, file, {})
  const r = await q.ask({ op: 'list' })
  t.is(r.len, 7)
  t.is(r.entries, 7)
  t.is(r.recordPayloads, 3)
  t.is(r.keyed, 0)
  t.deepEqual(r.keys, ['b', 'c'].map((k) => hex(Buffer.from(k))))
  await q.ask({ op: 'exit' })

  // reopened with keys: records hidden again
  const k = DataStore.open(file, KEYS)
  t.teardown(() => k.close())
  t.deepEqual(names(k), ['b', 'c'])
  checkShown(t, k, [
    [Buffer.from('b'), 'vb2'],
    [Buffer.from('c'), 'vc'],
    [null, 'vh', computeHash('h')],
    [null, 'vd', computeHash('d')],
  ])
  k.write('d', 'vd2')
  t.deepEqual(names(k), ['b', 'c', 'd'], 'written again with keys on, d is recorded')
  k.write('a', 'va2')
  t.deepEqual(names(k), ['b', 'c', 'd', 'a'])
  t.is(k.len(), 5)
  k.compact()
  t.deepEqual(names(k), ['b', 'c', 'd', 'a'])
  t.is(k.len(), 5)
})

// ---- 3. SIGKILL mid-batch ---------------------------------------------------------------

/** The ops a keys-writer issued (`{ id, op }`, in order) and which it acknowledged. */
function parseLog(text) {
  const whole = text.slice(0, text.lastIndexOf('\n') + 1)
  const issued = []
  const acked = new Set()
  for (const line of whole.split('\n')) {
    if (line === '') continue
    if (line.startsWith('I ')) {
      const sp = line.indexOf(' ', 2)
      const id = Number(line.slice(2, sp))
      if (id !== issued.length) throw new Error(`keys-writer log: op ${id} after ${issued.length - 1}`)
      issued.push(JSON.parse(line.slice(sp + 1)))
    } else if (line.startsWith('A ')) acked.add(Number(line.slice(2)))
    else throw new Error(`keys-writer log: bad line ${JSON.stringify(line)}`)
  }
  return { issued, acked }
}

/** The states (Maps pool index -> { src, version }) a prefix of `op`'s entries leaves, from none to all. */
function prefixStates(state, op) {
  const out = [new Map(state)]
  const s = new Map(state)
  if (op.t === 'w') {
    for (const [k, v] of op.e) {
      s.set(k, { src: k, version: v })
      out.push(new Map(s))
    }
  } else if (op.t === 'd') {
    for (const k of op.k) {
      s.delete(k)
      out.push(new Map(s))
    }
  } else if (op.t === 'r') {
    s.set(op.n, s.get(op.o))
    out.push(new Map(s))
    s.delete(op.o)
    out.push(new Map(s))
  }
  return out
}

const sameState = (a, b) => a.size === b.size && [...a].every(([k, v]) => b.get(k)?.src === v.src && b.get(k)?.version === v.version)

function stateDiff(want, got) {
  const diffs = []
  for (let i = 0; i < POOL && diffs.length < 8; i++) {
    const w = want.get(i)
    const g = got.get(i)
    if (w?.src !== g?.src || w?.version !== g?.version) diffs.push(`key ${i} (${hex(poolKey(i))}): want ${w ? `${w.src}:${w.version}` : 'absent'}, got ${g ? `${g.src}:${g.version}` : 'absent'}`)
  }
  return diffs
}

/**
 * Opens the store (keys on) and checks what a kill left: every listed key
 * readable, every readable key listed, len() = keys listed, iteration holds
 * no record, payloads exact. Returns `{ observed, problems }`.
 */
function inspectStore(file) {
  const problems = []
  const observed = new Map()
  const s = DataStore.open(file, KEYS)
  try {
    const keys = listed(s).map(hex)
    const set = new Set(keys)
    if (set.size !== keys.length) problems.push(`keys() lists ${keys.length - set.size} key(s) twice`)
    for (let i = 0; i < POOL; i++) {
      const h = s.read(poolKey(i))
      if (h === null) continue
      const p = parseKeyPayload(h.bytes)
      if (p === null || !keyPayload(p.src, p.version).equals(h.bytes)) {
        problems.push(`key ${i}: bytes are no payload of ours (${h.bytes.length} bytes)`)
        continue
      }
      observed.set(i, p)
      if (!set.has(hex(poolKey(i)))) problems.push(`key ${i} (${hex(poolKey(i))}) is readable (${p.src}:${p.version}) but not listed`)
    }
    for (const k of keys) {
      const i = poolIndex.get(k)
      if (i === undefined) problems.push(`listed key ${k} is none of the pool's`)
      else if (!observed.has(i)) problems.push(`listed key ${i} (${k}) is not readable`)
    }
    const len = s.len()
    if (len !== keys.length) problems.push(`len() ${len}, keys listed ${keys.length}`)
    let n = 0
    for (const h of s.entries()) {
      n++
      if (looksLikeRecord(h.bytes)) problems.push(`a record iterated: ${hex(h.bytes).slice(0, 40)}`)
      if (h.key === null) problems.push(`entries(): key null for ${h.keyHash}`)
    }
    if (n !== len) problems.push(`entries() yields ${n}, len() ${len}`)
    return { observed, problems, keys, fileSize: s.fileSize() }
  } finally {
    s.close()
  }
}

test.serial(`SIGKILL mid-batch (${KILLS} kills): a listed key is always readable, a readable key always listed, acknowledged writes present with their bytes, len() = keys listed`, async (t) => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'store.bin')
  const next = rng(0x4b494c4c)
  const started = Date.now()
  let model = new Map()
  const stats = { acked: 0, cutMidOp: 0, cuts: [], inFlight: { w: 0, d: 0, r: 0, c: 0, none: 0 }, compactions: 0 }
  for (let iter = 0; iter < KILLS; iter++) {
    const log = path.join(dir, `log-${iter}`)
    const early = iter % 5 === 4
    const c = startChild(WRITER, [file, log, 1 + (next() % 0x7ffffffe), (iter + 1) * 10_000_000], { timeoutMs: 30_000 })
    t.teardown(() => c.child.kill('SIGKILL'))
    if (early) {
      await new Promise((r) => setTimeout(r, next() % 150))
    } else {
      await c.nextLine((l) => l === 'READY')
      await new Promise((r) => setTimeout(r, 30 + (next() % 300)))
    }
    c.child.kill('SIGKILL')
    const { signal, code } = await c.exited
    if (signal !== 'SIGKILL') return t.fail(`keys-writer exited with ${code ?? signal} before the kill\n${c.stderr()}`)

    const { issued, acked } = parseLog(fs.existsSync(log) ? fs.readFileSync(log, 'latin1') : '')
    for (let id = 0; id < issued.length; id++) {
      if (!acked.has(id)) {
        if (id !== issued.length - 1) return t.fail(`op ${id} unacknowledged but not the last`)
        break
      }
      model = prefixStates(model, issued[id]).at(-1)
      stats.acked++
      if (issued[id].t === 'c') stats.compactions++
    }
    const last = issued.length > 0 && !acked.has(issued.length - 1) ? issued.at(-1) : null
    stats.inFlight[last === null ? 'none' : last.t]++

    const { observed, problems, keys, fileSize } = inspectStore(file)
    const candidates = last === null ? [model] : prefixStates(model, last)
    const at = candidates.findIndex((st) => sameState(st, observed))
    if (at < 0) {
      problems.push(
        `the store is no prefix of the op in flight (${last ? JSON.stringify(last).slice(0, 120) : 'none'}) over the acknowledged ones; vs all acknowledged: ${stateDiff(model, observed).join('; ')}`,
      )
    } else if (last !== null) {
      if (at > 0 && at < candidates.length - 1) stats.cutMidOp++
      stats.cuts.push(`${last.t}${at}/${candidates.length - 1}`)
    }
    if (problems.length > 0) {
      t.log(`kill ${iter}: ${keys.length} keys listed, file ${fileSize} bytes`)
      return t.fail(`after kill ${iter}:\n${problems.slice(0, 20).join('\n')}`)
    }
    model = observed

    if (iter === Math.floor(KILLS / 2)) {
      // compaction after a kill keeps the listing
      const s = DataStore.open(file, KEYS)
      const before = listed(s).map(hex)
      s.compact()
      t.deepEqual(listed(s).map(hex), before, 'compaction after a kill keeps the listing')
      t.is(s.len(), before.length)
      s.close()
    }
  }
  const end = inspectStore(file)
  t.deepEqual(end.problems, [])
  const s = DataStore.open(file, KEYS)
  t.deepEqual(s.verify(), [])
  s.close()
  t.log(
    `${KILLS} kills in ${Date.now() - started} ms: ${stats.acked} ops acknowledged (${stats.compactions} compactions by the writer), in flight at the kill ${JSON.stringify(stats.inFlight)}, ${stats.cutMidOp} of them found cut midway (entries of the op in flight found / in all: ${stats.cuts.join(' ')}); ${end.keys.length} keys listed at the end`,
  )
  t.true(stats.acked > 0)
})

// ---- 4. several processes ---------------------------------------------------------------

test.serial('two processes with keys on write distinct keys at once; each lists all keys of both without reopening, a third opened { readOnly: true, keys: true } too (and while they write); deletes, renames and a compaction in one are seen by the others', async (t) => {
  const { file } = tmpFile(t)
  const N = 10_000
  const a = peer(t, file, KEYS)
  const b = peer(t, file, KEYS)
  await Promise.all([a.ready, b.ready])
  const ro = peer(t, file, { readOnly: true, keys: true })
  await ro.ready
  const started = Date.now()
  const writing = Promise.all([a.ask({ op: 'write', prefix: 'a-', n: N, paceMs: 15 }), b.ask({ op: 'write', prefix: 'b-', n: N, paceMs: 15 })])
  let writingDone = false
  void writing.then(
    () => (writingDone = true),
    () => (writingDone = true),
  )
  // the reader lists while both write: every key it lists is readable, none goes away
  const during = []
  let seen = 0
  while (!writingDone) {
    const r = await ro.ask({ op: 'list' })
    if (r.unreadable.length > 0) during.push(`listed but unreadable: ${r.unreadable.slice(0, 5).join(', ')}`)
    if (r.keys.length < seen) during.push(`${r.keys.length} keys listed after ${seen}`)
    if (r.recordPayloads > 0) during.push(`${r.recordPayloads} records iterated`)
    seen = Math.max(seen, r.keys.length)
    during.push(r.keys.length)
  }
  await writing
  const writeMs = Date.now() - started
  t.deepEqual(during.filter((d) => typeof d === 'string'), [], 'the reader, while both wrote')
  const all = (ks) => ks.map((k) => hex(Buffer.from(k))).sort()
  const want = all([...Array.from({ length: N }, (_, i) => `a-${i}`), ...Array.from({ length: N }, (_, i) => `b-${i}`)])

  const check = (r, keys, what) => {
    t.deepEqual([...r.keys].sort(), keys, `${what}: keys()`)
    t.true(r.asyncSame, `${what}: for await lists the same`)
    t.deepEqual(r.unreadable, [], `${what}: every listed key readable`)
    t.is(r.len, keys.length, `${what}: len()`)
    t.is(r.asyncLen, keys.length, `${what}: async len()`)
    t.is(r.entries, keys.length, `${what}: entries()`)
    t.is(r.recordPayloads, 0, `${what}: no record iterated`)
    t.is(r.keyed, keys.length, `${what}: every entry has its key`)
    t.is(r.wrongKey, 0)
  }
  check(await a.ask({ op: 'list' }), want, 'A')
  check(await b.ask({ op: 'list' }), want, 'B')
  const aPrefix = await b.ask({ op: 'list', prefix: 'a-' })
  t.is(aPrefix.keys.length, N, 'B lists A\'s keys by prefix')

  check(await ro.ask({ op: 'list' }), want, 'read-only')

  // A deletes and renames B's keys, and writes more; B and the reader see it without reopening
  await a.ask({ op: 'delete', keys: Array.from({ length: 10 }, (_, i) => `b-${i}`) })
  await a.ask({ op: 'rename', from: 'b-10', to: 'moved-b-10' })
  await a.ask({ op: 'write', prefix: 'late-a-', n: 100 })
  const want2 = all([
    ...Array.from({ length: N }, (_, i) => `a-${i}`),
    ...Array.from({ length: N - 11 }, (_, i) => `b-${i + 11}`),
    'moved-b-10',
    ...Array.from({ length: 100 }, (_, i) => `late-a-${i}`),
  ])
  check(await b.ask({ op: 'list' }), want2, 'B after A deleted, renamed and wrote')
  check(await ro.ask({ op: 'list' }), want2, 'read-only after A deleted, renamed and wrote')

  // B compacts; A and the reader follow to the new file
  await b.ask({ op: 'compact' })
  check(await a.ask({ op: 'list' }), want2, 'A after B compacted')
  check(await ro.ask({ op: 'list' }), want2, 'read-only after B compacted')
  await b.ask({ op: 'write', prefix: 'after-compact-b-', n: 10 })
  const want3 = [...want2, ...all(Array.from({ length: 10 }, (_, i) => `after-compact-b-${i}`))].sort()
  check(await a.ask({ op: 'list' }), want3, 'A after B wrote on the compacted file')
  check(await ro.ask({ op: 'list' }), want3, 'read-only after B wrote on the compacted file')
  await Promise.all([a, b, ro].map((p) => p.ask({ op: 'exit' })))
  t.log(`2 x ${N} keys written concurrently in ${writeMs} ms, the reader listing meanwhile ${during.length} times (keys seen: ${during.join(' ')}); ${Date.now() - started} ms in all`)
})

// ---- 5. cost ------------------------------------------------------------------------------

test('cost: 1,000 keys with 64-byte values, keys on vs off: each write by key adds one record entry (64-byte-aligned pre-pad, 5 + key bytes of payload, 20 bytes of metadata); each delete two tombstones instead of one', (t) => {
  const dir = tmpDir(t)
  const N = 1000
  const value = Buffer.alloc(64, 0x61)
  const sizes = {}
  for (const keys of [false, true]) {
    const file = path.join(dir, `${keys}.bin`)
    const s = DataStore.open(file, { keys })
    const expect = []
    for (let i = 0; i < N; i++) {
      s.write(`key-${i}`, value)
      if (keys) expect.push(recordLen(`key-${i}`))
      expect.push(64)
    }
    const written = layout(expect)
    t.is(s.fileSize(), written, `keys ${keys}: the layout of ${expect.length} entries`)
    t.is(fs.statSync(file).size, written)
    for (let i = 0; i < 100; i++) s.delete(`key-${i}`)
    const deleted = written + 100 * (keys ? 2 : 1) * (1 + METADATA)
    t.is(s.fileSize(), deleted, `keys ${keys}: 100 deletes`)
    t.is(s.len(), N - 100)
    s.close()
    sizes[keys] = { written, deleted }
  }
  const per = (b) => (b / N).toFixed(1)
  t.log(`${N} writes of 64-byte values under 'key-<i>': keys off ${sizes.false.written} bytes (${per(sizes.false.written)} per entry), keys on ${sizes.true.written} (${per(sizes.true.written)} per entry, ${(sizes.true.written / sizes.false.written).toFixed(2)}x)`)
  t.log(`after 100 deletes: keys off ${sizes.false.deleted}, keys on ${sizes.true.deleted} bytes`)
  t.true(sizes.true.written > sizes.false.written)
})
