// The Rust extensions, proven against the published crates in both
// directions (issue 18, part 1): bitcode 0.6.9's bytes for String, Vec<u8> and
// u64 (ours equal the crate's, and each side decodes the other's), TTL and
// Option entries (the crate reads what our JavaScript wrote, and we read what
// the crate wrote, expiry and its tombstone included), directory import (the
// same entries; each side reads the other's files), and the helpers
// (compute_hash, compute_checksum, compute_hash_batch). The Rust side is
// crates/engine/examples/ext_interop.rs on simd-r-drive-extensions
// 0.17.5-alpha and simd-r-drive 0.17.5-alpha.
import test from 'ava'
import fs from 'node:fs'
import path from 'node:path'
import { DataStore, NamespaceHasher, computeChecksum, computeHash, computeHashBatch } from '../lib/index.mjs'
import { encodeValue, decodeValue } from '../lib/ext/bitcode.js'
import { ttlKey, optionKey } from '../lib/ext/values.js'
import { buildRust, hex, rust, tmpDir, unhex, wire } from './helpers/ext-rust.mjs'

test.before(() => buildRust())

/** Deterministic bytes: xorshift, each byte mapped into `lo..hi`. */
function bytes(n, lo = 0, hi = 255, seed = n + lo * 7 + hi * 13) {
  let x = seed | 1
  const out = Buffer.alloc(n)
  for (let i = 0; i < n; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = lo + ((x >>> 0) % (hi - lo + 1))
  }
  return out
}

// Every packing bitcode has for a Vec<u8> (sizes 0..2 unpacked; 3..255 and
// 256+ in each of 256/16/6/4/3/2 states, with and without the minimum), and
// every width of a u64 and of a length.
const CASES = [
  ...['', 'a', 'héllo ☺ wörld', 'x'.repeat(254), 'y'.repeat(255), 'z'.repeat(256), '☺'.repeat(1000), 'q'.repeat(70000)].map((v) => ['string', v]),
  ...[
    Buffer.alloc(0),
    Buffer.from([0]),
    Buffer.from([0xff]),
    Buffer.from([0xff, 0xfe]),
    Buffer.from([1, 2]),
    Buffer.from([1, 2, 3]), // 4 states
    Buffer.from([0, 0, 0]), // 2 states
    bytes(5, 0, 5), // 6 states, too short for the minimum
    bytes(10, 0, 1), // 2 states
    bytes(11, 0, 2), // 3 states
    bytes(12, 0, 3), // 4 states
    bytes(13, 0, 5), // 6 states
    bytes(14, 0, 15), // 16 states
    bytes(15, 200, 201), // 2 states after subtracting the minimum 200
    bytes(16, 100, 102),
    bytes(17, 50, 53),
    bytes(18, 250, 255),
    bytes(19, 16, 31), // 16 states with the minimum
    bytes(20, 10, 25), // 16 values apart: as they are
    bytes(100), // random: as they are
    bytes(255, 0, 1),
    bytes(256), // 256+
    bytes(300, 0, 15),
    bytes(1000, 240, 255),
    bytes(4097, 7, 9),
    bytes(70000, 0, 1),
    bytes(70001),
  ].map((v) => ['bytes', v]),
  ...[0n, 1n, 255n, 256n, 65535n, 65536n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n + 1n, 2n ** 64n - 1n].map((v) => ['u64', v]),
]

const bufEq = (a, b) => a != null && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), b) === 0
const same = (type, a, b) => (type === 'bytes' ? Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0 : a === b)
const show = (type, v) => (type === 'u64' ? String(v) : `${type} of ${type === 'string' ? Buffer.byteLength(v) : v.length} bytes`)

test('bitcode: our bytes are the crate bitcode::encode bytes, and each side decodes the other', (t) => {
  const crate = rust('encode', undefined, CASES.map(([type, v]) => `${type} ${wire(type, v)}`))
  t.is(crate.length, CASES.length)
  CASES.forEach(([type, v], i) => {
    const ours = encodeValue(v)
    t.is(hex(ours), crate[i], `encode ${show(type, v)}`)
    t.true(same(type, decodeValue(unhex(crate[i]), type), v), `we decode the crate's ${show(type, v)}`)
  })
  const decoded = rust('decode', undefined, CASES.map(([type, v]) => `${type} ${hex(encodeValue(v))}`))
  CASES.forEach(([type, v], i) => t.is(decoded[i], `ok ${wire(type, v)}`, `the crate decodes our ${show(type, v)}`))
  // Not canonical, still bitcode: the empty value in the long length form (what writeOption stores for '').
  t.deepEqual(rust('decode', undefined, ['string ff0600', 'bytes ff0600']), ['ok -', 'ok -'])
})

test('bitcode: 2,000 random byte arrays, strings and u64s encode as the crate encodes them (packing thresholds, minimum offsets, length widths)', (t) => {
  let seed = 0x9e3779b9
  const rand = (n) => {
    seed ^= seed << 13
    seed ^= seed >>> 17
    seed ^= seed << 5
    return (seed >>> 0) % n
  }
  const cases = []
  for (let i = 0; i < 1600; i++) {
    const len = [rand(9), 3 + rand(40), rand(600), 250 + rand(10)][i % 4]
    const lo = rand(256)
    const span = [1, 2, 3, 4, 5, 6, 15, 16, 17, 256][rand(10)]
    const hi = Math.min(255, lo + span - 1)
    cases.push(['bytes', bytes(len, lo, hi, i + 1)])
  }
  for (let i = 0; i < 200; i++) cases.push(['string', 'é'.repeat([rand(130), 126 + rand(4), 32766 + rand(4)][i % 3])])
  for (let i = 0; i < 200; i++) cases.push(['u64', BigInt(rand(2 ** 30)) ** BigInt(1 + rand(3)) % 2n ** 64n])
  const crate = rust('encode', undefined, cases.map(([type, v]) => `${type} ${wire(type, v)}`))
  let mismatches = 0
  cases.forEach(([type, v], i) => {
    if (hex(encodeValue(v)) !== crate[i]) {
      mismatches++
      if (mismatches < 5) t.fail(`${show(type, v)}: ${wire(type, v).slice(0, 80)}: ours ${hex(encodeValue(v)).slice(0, 80)} crate ${crate[i].slice(0, 80)}`)
    } else if (!same(type, decodeValue(unhex(crate[i]), type), v)) {
      mismatches++
    }
  })
  t.is(mismatches, 0)
})

test('bitcode: what the crate refuses, we refuse (ERR_INVALID_DATA)', (t) => {
  const bad = [
    ['string', '03616263ff'], // a byte left over
    ['string', '0361'], // too short
    ['string', '02c328'], // invalid UTF-8
    ['u64', '07ff'], // no such header
    ['u64', '04ff'], // too short
    ['bytes', '050c01'], // packing byte 12
  ]
  const crate = rust('decode', undefined, bad.map(([type, h]) => `${type} ${h}`))
  bad.forEach(([type, h], i) => {
    t.is(crate[i], 'err', `the crate refuses ${type} ${h}`)
    t.throws(() => decodeValue(Buffer.from(h, 'hex'), type), { code: 'ERR_INVALID_DATA' }, `we refuse ${type} ${h}`)
  })
})

const KEYS = CASES.map((_, i) => `key-${i}`)

test('Option: the crate reads what we wrote (Some of each value, None), and we read what it wrote', (t) => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'ours.srd')
  const s = DataStore.open(file)
  CASES.forEach(([, v], i) => s.writeOption(KEYS[i], v))
  s.writeOption('none', null)
  t.is(s.readOption('none'), null)
  t.is(s.readOption('never-written'), undefined)
  s.close()
  const read = rust('read-option', file, [...CASES.map(([type], i) => `${type} ${hex(KEYS[i])}`), `u64 ${hex('none')}`, `u64 ${hex('never-written')}`])
  CASES.forEach(([type, v], i) => t.is(read[i], `ok ${wire(type, v)}`, `the crate reads our Some(${show(type, v)})`))
  t.is(read[CASES.length], 'none')
  t.is(read[CASES.length + 1], 'absent')

  const theirs = path.join(dir, 'theirs.srd')
  const wrote = rust('write-option', theirs, [...CASES.map(([type, v], i) => `${type} ${hex(KEYS[i])} ${wire(type, v)}`), `u64 ${hex('none')} none`])
  const r = DataStore.open(theirs)
  t.teardown(() => r.close())
  CASES.forEach(([type, v], i) => {
    if (v.length === 0) {
      // bitcode of '' and of [] is 00, the tombstone byte: the crate cannot write it (we write FF 06 00).
      t.regex(wrote[i], /^err /, `the crate fails to write Some(empty ${type})`)
      t.is(r.readOption(KEYS[i]), undefined)
      return
    }
    t.true(same(type, r.readOption(KEYS[i], { as: type }), v), `we read the crate's Some(${show(type, v)})`)
  })
  t.is(r.readOption('none', { as: 'u64' }), null)
  // The raw payloads are the crate's: the key is namespaced, the value bitcode, None FF FE.
  t.true(bufEq(r.read(optionKey('none')).bytes, Buffer.from([0xff, 0xfe])))
  t.true(bufEq(r.read(new NamespaceHasher(Buffer.from([0xf7, ...Buffer.from('option'), 0xfd])).namespace(KEYS[1])).bytes, encodeValue(CASES[1][1])))
})

test('TTL: the crate reads what we wrote and expires what we wrote expired (a tombstone we see)', (t) => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'ours.srd')
  const s = DataStore.open(file)
  CASES.forEach(([, v], i) => s.writeWithTtl(KEYS[i], v, 3600))
  s.writeWithTtl('expired', 'old', 10, { now: 1_000_000 }) // expired in 1970
  s.writeWithTtl('forever', 'x', 2n ** 64n - 1n) // saturates at u64::MAX, as the crate does
  t.is(s.read(ttlKey('forever')).bytes.readBigUInt64LE(0), 2n ** 64n - 1n)
  s.close()
  const lines = [...CASES.map(([type], i) => `${type} ${hex(KEYS[i])}`), `string ${hex('expired')}`, `string ${hex('forever')}`, `string ${hex('never')}`]
  const read = rust('read-ttl', file, lines)
  CASES.forEach(([type, v], i) => t.is(read[i], `ok ${wire(type, v)}`, `the crate reads our ${show(type, v)} with a TTL`))
  t.deepEqual(read.slice(CASES.length), ['none', `ok ${hex('x')}`, 'absent'])
  // The crate's expiry on read wrote a tombstone: the entry is gone for us too.
  const after = DataStore.open(file)
  t.teardown(() => after.close())
  t.false(after.exists(ttlKey('expired')))
  t.is(after.readWithTtl('expired'), null)
  t.is(after.readWithTtl(KEYS[0], { as: 'string' }), CASES[0][1])
})

test('TTL: we read what the crate wrote, expire it at its expiry (whole Unix seconds), and the crate sees our tombstone', (t) => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'theirs.srd')
  const before = Math.floor(Date.now() / 1000)
  const lines = [...CASES.map(([type, v], i) => `${type} ${hex(KEYS[i])} ${wire(type, v)} 3600`), `u64 ${hex('short')} 7 0`, `u64 ${hex('max')} 8 18446744073709551615`]
  rust('write-ttl', file, lines)
  const after = Math.floor(Date.now() / 1000)
  const s = DataStore.open(file)
  CASES.forEach(([type, v], i) => t.true(same(type, s.readWithTtl(KEYS[i], { as: type }), v), `we read the crate's ${show(type, v)} with a TTL`))
  const expiry = s.read(ttlKey(KEYS[0])).bytes.readBigUInt64LE(0)
  t.true(expiry >= BigInt(before + 3600) && expiry <= BigInt(after + 3600), `expiry ${expiry} is now + 3600 s`)
  t.true(s.ttlRemaining(KEYS[0]) <= 3600n)
  // One second before the expiry it reads; at the expiry it is gone (and deleted).
  t.is(s.readWithTtl(KEYS[0], { as: 'string', now: expiry - 1n }), CASES[0][1])
  t.is(s.ttlRemaining(KEYS[0], { now: expiry - 1n }), 1n)
  t.true(s.exists(ttlKey(KEYS[0])))
  t.is(s.readWithTtl(KEYS[0], { as: 'string', now: expiry }), null)
  t.false(s.exists(ttlKey(KEYS[0])))
  // ttl 0: expired as written.
  t.is(s.readWithTtl('short', { as: 'u64' }), null)
  t.is(s.read(ttlKey('max')).bytes.readBigUInt64LE(0), 2n ** 64n - 1n)
  t.is(s.readWithTtl('max', { as: 'u64' }), 8n)
  s.close()
  t.deepEqual(rust('read-ttl', file, [`string ${hex(KEYS[0])}`, `u64 ${hex('short')}`, `u64 ${hex('max')}`]), ['absent', 'absent', 'ok 8'])
})

/** A tree with nested folders, non-ASCII names, files from 1 byte to past the 1 MiB read chunk. */
function makeTree(dir) {
  const files = {
    'a.txt': Buffer.from('alpha'),
    'one-byte': Buffer.from([7]),
    'sub/b.bin': bytes(5000),
    'sub/deeper/c.bin': bytes(3 * 1024 * 1024 + 17),
    'sub/deeper/ünï cödé.txt': Buffer.from('☺'),
    'z/y/x/w.txt': Buffer.from('deep'),
  }
  for (const [rel, data] of Object.entries(files)) {
    fs.mkdirSync(path.join(dir, path.dirname(rel)), { recursive: true })
    fs.writeFileSync(path.join(dir, rel), data)
  }
  fs.mkdirSync(path.join(dir, 'empty-dir'))
  return files
}

/** keyHash (hex) -> payload (hex) of every live entry. */
function entriesOf(file) {
  const s = DataStore.open(file)
  try {
    const out = {}
    for (const e of s) out[e.keyHash.toString(16)] = hex(e.bytes)
    return out
  } finally {
    s.close()
  }
}

test('directory import: the same entries as the crate import_dir_recursively (with and without a namespace), each side reading the other', (t) => {
  const dir = tmpDir(t)
  const tree = path.join(dir, 'tree')
  const files = makeTree(tree)
  const rels = Object.keys(files)
  for (const ns of [undefined, 'assets']) {
    const theirs = path.join(dir, `theirs-${ns ?? 'plain'}.srd`)
    const ours = path.join(dir, `ours-${ns ?? 'plain'}.srd`)
    const out = rust('import', theirs, [`${ns ?? '-'} ${tree}`])
    t.is(out.at(-1), 'end', out.join('\n'))
    t.is(out.length, rels.length + 1)
    const s = DataStore.open(ours)
    const report = ns === undefined ? s.importDir(tree) : s.importDir(tree, { namespace: ns })
    t.deepEqual(report.imported.map((f) => f.path), rels, 'every file, in sorted order, under its / path')
    t.deepEqual(report.skipped, [])
    // The crate's list of keys is ours (in its own walk order).
    t.deepEqual(out.slice(0, -1).map((l) => l.split(' ')[0]).sort(), report.imported.map((f) => hex(f.key)).sort())
    for (const rel of rels) {
      t.true(bufEq(s.readFileEntry(rel, { namespace: ns })?.bytes, files[rel]), rel)
    }
    s.close()
    t.deepEqual(entriesOf(ours), entriesOf(theirs), 'the same key hashes and payloads')
    // Each side reads the other's import by path.
    const r = DataStore.open(theirs)
    for (const rel of rels) t.true(bufEq(r.readFileEntry(rel, ns === undefined ? undefined : { namespace: ns })?.bytes, files[rel]), rel)
    r.close()
    const read = rust('read-file', ours, rels.map((rel) => `${ns ?? '-'} ${rel}`))
    rels.forEach((rel, i) => t.is(read[i], `ok ${hex(files[rel])}`, rel))
  }
})

test('directory import: an empty file aborts the crate import half-done; ours skips it and says so', (t) => {
  const dir = tmpDir(t)
  const tree = path.join(dir, 'tree')
  fs.mkdirSync(path.join(tree, 'd'), { recursive: true })
  fs.writeFileSync(path.join(tree, 'a'), 'first')
  fs.writeFileSync(path.join(tree, 'b-empty'), '')
  fs.writeFileSync(path.join(tree, 'c-zeros'), Buffer.alloc(10))
  fs.writeFileSync(path.join(tree, 'd', 'e'), 'last')
  let linked = true
  try {
    fs.symlinkSync(path.join(tree, 'a'), path.join(tree, 'link'))
  } catch {
    linked = false // Windows without the privilege
  }
  const theirs = path.join(dir, 'theirs.srd')
  const out = rust('import', theirs, [`- ${tree}`])
  t.regex(out.at(-1), /^err /, 'the crate import fails on the empty or all-zero file')
  // ... half-done: the files its walk (in the OS's directory order) met before
  // the failure are in, the rest are not.
  const left = rust('raw', theirs, [hex('a'), hex('d/e')])
  t.true(left.includes('absent'), left.join(' '))
  const s = DataStore.open(path.join(dir, 'ours.srd'))
  t.teardown(() => s.close())
  const report = s.importDir(tree)
  t.deepEqual(report.imported.map((f) => f.path), ['a', 'd/e'])
  t.deepEqual(
    report.skipped,
    [
      ...(linked ? [{ path: 'link', reason: 'symbolic-link' }] : []),
      { path: 'b-empty', reason: 'empty' },
      { path: 'c-zeros', reason: 'only-zero-bytes' },
    ],
  )
  t.is(s.readFileEntry('d/e').bytes.toString(), 'last')
  t.is(s.readFileEntry('b-empty'), null)
})

test('helpers: computeHash, computeChecksum and computeHashBatch equal the crate compute_hash, compute_checksum and compute_hash_batch', (t) => {
  const inputs = [Buffer.from('a'), Buffer.from('hello world'), bytes(1000), bytes(1 << 16, 0, 3), Buffer.from([0])]
  const out = rust('helpers', undefined, inputs.map(hex))
  inputs.forEach((b, i) => t.is(out[i], `${computeHash(b)} ${computeChecksum(b)}`))
  t.is(out.at(-1), computeHashBatch(inputs).join(' '))
})
