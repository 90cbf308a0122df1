// Zero-copy reads (design.md section 4, EntryHandle; section 5): `bytes` is a
// view of the mapped file, 64-byte aligned, shared between handles, writable
// in this process only, and valid after later writes, compaction and close.
import test from 'ava'
import fs from 'node:fs'
import path from 'node:path'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { DataStore, computeHash } from '../lib/index.mjs'
import { openTmp } from './helpers/store.mjs'

const ENTRY = fileURLToPath(new URL('../lib/index.mjs', import.meta.url))

/** Reads `key` in a fresh process (the store must be closed here); hex of its payload or null. */
function readInChild(t, file, key) {
  const code = `
    import { DataStore } from ${JSON.stringify(ENTRY)}
    const s = DataStore.openExisting(${JSON.stringify(file)})
    const h = s.read(${JSON.stringify(key)})
    process.stdout.write(JSON.stringify({ hex: h && Buffer.from(h.bytes).toString('hex'), valid: h && h.isValidChecksum() }))
    s.close()
  `
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' })
  t.is(r.status, 0, r.stderr)
  return JSON.parse(r.stdout)
}

function f32bytes(values) {
  const a = new Float32Array(values)
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength)
}

test('bytes is a 64-byte aligned view of one shared mapping, not a copy', (t) => {
  const { store: s } = openTmp(t)
  // odd sizes and a tombstone in between make unaligned tails
  s.write('a', 'x')
  s.write('b', Buffer.alloc(77, 2))
  s.write('gone', 'y')
  s.delete('gone')
  s.write('c', Buffer.alloc(1000, 3))
  s.writeStream('d', [Buffer.alloc(33, 4), Buffer.alloc(5, 5)])
  s.batchWrite([['e', 'e'], ['f', Buffer.alloc(130, 6)]])

  const handles = ['a', 'b', 'c', 'd', 'e', 'f'].map((k) => s.read(k))
  for (const h of handles) {
    t.true(Buffer.isBuffer(h.bytes))
    t.is(h.bytes.byteOffset % 64, 0, `offset ${h.bytes.byteOffset}`)
    t.is(h.bytes.byteOffset, h.startOffset, 'the view is at the entry\'s file offset')
    t.is(h.bytes.length, h.size)
    t.true(h.bytes.buffer.byteLength >= s.fileSize(), 'the buffer maps the whole file')
  }
  // two handles read from the same store share one ArrayBuffer
  const [ha, hb] = [s.read('a'), s.read('f')]
  t.is(ha.bytes.buffer, hb.bytes.buffer)
  t.is(handles[0].bytes.buffer, handles[5].bytes.buffer)
  // so do handles from batchRead, readLastEntry and iteration, aligned as well
  for (const h of [...s.batchRead(['c', 'e']), s.readLastEntry(), ...s]) {
    t.is(h.bytes.byteOffset % 64, 0)
    t.true(h.bytes.buffer.byteLength >= h.endOffset)
  }
  // the mapped buffer holds the file's bytes at the handles' offsets
  const whole = Buffer.from(hb.bytes.buffer, 0, s.fileSize())
  t.true(whole.equals(fs.readFileSync(s.path)))
})

test('a Float32Array over bytes.buffer needs no copy and has the written floats', (t) => {
  const { store: s } = openTmp(t)
  s.write('pad', 'z') // the vector does not start at offset 0
  const values = Array.from({ length: 1024 }, (_, i) => i * 0.5 - 100.25)
  s.write('vec', f32bytes(values))
  s.write('vec64', new Uint8Array(new Float64Array([Math.PI, -Math.E, 1e300]).buffer))
  const h = s.read('vec')
  t.is(h.size, 4096)
  const f = new Float32Array(h.bytes.buffer, h.bytes.byteOffset, h.size / 4)
  t.deepEqual(Array.from(f), values)
  t.is(f.buffer, h.bytes.buffer, 'same memory, no copy')
  const h64 = s.read('vec64')
  t.deepEqual(Array.from(new Float64Array(h64.bytes.buffer, h64.bytes.byteOffset, h64.size / 8)), [Math.PI, -Math.E, 1e300])
  // streamed payloads are aligned as well
  s.writeStream('svec', [f32bytes(values.slice(0, 3)), f32bytes(values.slice(3, 10))])
  const hs = s.read('svec')
  t.deepEqual(Array.from(new Float32Array(hs.bytes.buffer, hs.bytes.byteOffset, hs.size / 4)), values.slice(0, 10))
})

test('writing into bytes does not crash and never reaches the file (also after reopen in a child process)', (t) => {
  const { dir, file, store: s } = openTmp(t)
  s.write('k', 'original payload')
  s.write('other', 'untouched')
  const before = fs.readFileSync(file)
  const h = s.read('k')

  h.bytes.fill(0x7a)
  h.bytes.write('JS-WRITE', 0)
  new Float32Array(h.bytes.buffer, h.bytes.byteOffset, 4).fill(1.5)
  t.true(fs.readFileSync(file).equals(before), 'the file is unchanged')
  t.deepEqual(s.verify(), [], 'the engine still sees the original bytes')

  // engine-side copies take the file's bytes, not this process's private page
  const dst = DataStore.open(path.join(dir, 'dst.bin'))
  s.copy('k', dst)
  t.is(Buffer.from(dst.read('k').bytes).toString(), 'original payload')
  dst.close()
  s.rename('k', 'k2')
  t.is(Buffer.from(s.read('k2').bytes).toString(), 'original payload')
  t.true(s.read('k2').isValidChecksum())
  t.is(Buffer.from(s.read('other').bytes).toString(), 'untouched')

  s.close()
  // writing after close does not crash either
  h.bytes.fill(0x41)
  t.is(h.bytes[0], 0x41)
  t.true(fs.readFileSync(file).subarray(0, before.length).equals(before))
  const child = readInChild(t, file, 'k2')
  t.is(Buffer.from(child.hex, 'hex').toString(), 'original payload')
  t.true(child.valid)
})

test('writing across the whole mapping (bytes.buffer) changes no later read, iteration, size, checksum or verify()', async (t) => {
  const { store: s } = openTmp(t)
  const want = new Map()
  for (let i = 0; i < 300; i++) {
    const v = `value ${i} `.repeat(1 + (i % 17))
    s.write(`k${i}`, v)
    want.set(`k${i}`, v)
  }
  s.delete('k7')
  want.delete('k7')
  s.write('last', 'the last entry')
  want.set('last', 'the last entry')
  const h = s.read('k1')
  // Scribble over every byte of this process's mapping: payloads and metadata alike.
  const all = new Uint8Array(h.bytes.buffer)
  t.true(all.length >= s.fileSize(), 'bytes.buffer spans the whole file')
  all.fill(0xff)
  new DataView(h.bytes.buffer).setBigUint64(0, 0n)

  // What a read trusts comes from the file, not from the scribbled buffer.
  const again = s.read('k2')
  t.true(again.size > 0 && again.size === Buffer.byteLength(want.get('k2')), `size ${again.size}`)
  t.is(again.fileSize, again.size + 20)
  t.is(again.keyHash, computeHash('k2'))
  t.true(again.isValidChecksum(), 'the stored payload matches its checksum')
  t.is(again.bytes[0], 0xff, 'the handle shows this process\'s (written) bytes')
  t.true(s.read('k2', { verify: true }) !== null, 'a verified read agrees with verify()')
  t.deepEqual(s.verify(), [])
  let n = 0
  for (const e of s.entries()) {
    n++
    t.true(e.size > 0 && e.startOffset < e.endOffset, 'iteration sizes stay positive')
    t.true(e.isValidChecksum())
  }
  t.is(n, want.size)
  for await (const e of s.async.entries()) t.true(e.size > 0)
  t.is(s.batchRead(['k3', 'k7']).map((x) => x?.size ?? null).join(), `${Buffer.byteLength(want.get('k3'))},`)
  t.is((await s.async.read('k4')).size, Buffer.byteLength(want.get('k4')))
  t.is(s.readLastEntry().keyHash, computeHash('last'))
  t.is(s.readLastEntry().size, 14)
})

test('a write into bytes before compaction does not reach the compacted file', (t) => {
  const { file, store: s } = openTmp(t)
  s.write('k', 'keep me')
  s.write('k0', 'dead')
  s.delete('k0')
  const h = s.read('k')
  h.bytes.fill(0x21)
  s.compact()
  t.is(Buffer.from(s.read('k').bytes).toString(), 'keep me')
  t.true(s.read('k').isValidChecksum())
  s.close()
  t.is(Buffer.from(readInChild(t, file, 'k').hex, 'hex').toString(), 'keep me')
})

test('handles stay readable after later writes, deletes, overwrites, compaction and close', async (t) => {
  const { file, store: s } = openTmp(t)
  const payload = Buffer.alloc(5000)
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 13) & 0xff
  s.write('k', payload)
  const h = s.read('k')
  const viaIter = [...s][0]
  const check = (label) => {
    t.true(Buffer.from(h.bytes).equals(payload), label)
    t.true(Buffer.from(viaIter.bytes).equals(payload), label)
    t.is(h.keyHash, computeHash('k'), label)
    t.true(h.isValidChecksum(), label)
  }
  // many later writes (the mapping grows several times)
  for (let i = 0; i < 200; i++) s.write(`fill${i}`, Buffer.alloc(64 * 1024, i & 0xff))
  check('after writes')
  const afterWrites = s.read('k')
  t.true(afterWrites.bytes.equals(payload))
  t.true(afterWrites.bytes.buffer.byteLength >= afterWrites.endOffset + 20)
  s.write('k', 'overwritten')
  s.delete('k')
  check('after overwrite and delete')
  s.compact()
  check('after compaction')
  t.is(s.read('k'), null)
  const hf = s.read('fill7')
  s.close()
  check('after close')
  t.deepEqual(Buffer.from(hf.bytes), Buffer.alloc(64 * 1024, 7))
  await new Promise((r) => setTimeout(r, 10))
  check('later, after close')
  // the file is reusable while old handles are alive
  const re = DataStore.open(file)
  t.deepEqual(Buffer.from(re.read('fill7').bytes), Buffer.alloc(64 * 1024, 7))
  re.close()
  check('after reopen and close')
})

test('a handle\'s bytes (a view of the mapping) can be written back as a payload, small and large', (t) => {
  const { file, store: s } = openTmp(t)
  const big = Buffer.alloc((2 << 20) + 17)
  for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff
  s.write('small', 'small payload')
  s.write('big', big)
  const hs = s.read('small')
  const hb = s.read('big')
  s.write('small-copy', hs.bytes)
  s.write('big-copy', hb.bytes)
  s.batchWrite([['both-small', hs.bytes], ['both-big', hb.bytes]])
  s.writeStream('streamed-big', [hb.bytes.subarray(0, 1000), hb.bytes.subarray(1000)])
  t.is(Buffer.from(s.read('small-copy').bytes).toString(), 'small payload')
  t.is(Buffer.from(s.read('both-small').bytes).toString(), 'small payload')
  for (const k of ['big-copy', 'both-big', 'streamed-big']) t.true(Buffer.from(s.read(k).bytes).equals(big), k)
  t.deepEqual(s.verify(), [])
  t.is(s.fileSize(), fs.statSync(file).size)
})

test('readStream chunks are views of the mapping', async (t) => {
  const { store: s } = openTmp(t)
  s.write('k', Buffer.alloc(200_000, 9))
  const h = s.read('k')
  const chunks = []
  for await (const c of s.readStream('k')) chunks.push(c)
  t.true(chunks.length > 1)
  t.is(chunks[0].buffer, h.bytes.buffer)
  t.is(chunks[0].byteOffset, h.startOffset)
  t.true(Buffer.concat(chunks).equals(Buffer.alloc(200_000, 9)))
})
