// Detached and resized buffers (issue 13, items 1 and 3). Whatever a caller
// does with the ArrayBuffer behind a key or payload — transfer it through
// structuredClone or postMessage, shrink a resizable one — before the call,
// right after it, or while the worker runs, with GC pressure freeing the
// memory it moved to, every outcome is either the exact original bytes
// stored or a coded error with nothing stored. Before the fix, a 64 KiB+
// async payload transferred after the call stored bytes of a later
// allocation with a valid checksum, and a detached key was the empty key.
import test from 'ava'
import v8 from 'node:v8'
import vm from 'node:vm'
import { MessageChannel } from 'node:worker_threads'
import { DataStore, AsyncDataStore } from '../lib/index.mjs'
import { tmpFile } from './helpers/store.mjs'

v8.setFlagsFromString('--expose_gc')
const gc = vm.runInNewContext('gc')

/** A payload of `n` bytes that no allocation repeats by chance. */
function pattern(n, seed) {
  const b = new Uint8Array(new ArrayBuffer(n))
  let x = seed * 2654435761 || 1
  for (let i = 0; i < n; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    b[i] = x & 0xff
  }
  return b
}

/** Frees what a transfer moved the memory to, and reuses it. */
function pressure() {
  const junk = []
  for (let i = 0; i < 16; i++) junk.push(new Uint8Array(256 * 1024).fill(0xee))
  gc()
  return junk.length
}

const ports = new MessageChannel()
ports.port2.on('message', () => {})
ports.port2.unref()

const detachers = {
  structuredClone: (ab) => void structuredClone(ab, { transfer: [ab] }),
  postMessage: (ab) => ports.port1.postMessage(ab, [ab]),
}

/**
 * Checks one outcome: the call either resolved with the exact bytes stored,
 * or failed with a code and `key` still reads `before`.
 */
async function outcome(t, s, key, call, original, before, what) {
  let result
  try {
    await call()
    result = 'stored'
  } catch (err) {
    result = 'rejected'
    t.true(typeof err.code === 'string' && err.code.length > 0, `${what}: an error without a code: ${err.stack}`)
  }
  const h = s.read(key)
  if (result === 'stored') {
    t.true(h !== null && Buffer.compare(h.bytes, Buffer.from(original)) === 0, `${what}: resolved but the stored bytes differ`)
    t.true(h.isValidChecksum(), `${what}: checksum`)
  } else {
    t.is(h === null ? null : Buffer.from(h.bytes).toString('hex'), before, `${what}: rejected but the key changed`)
  }
  return result
}

for (const [name, detach] of Object.entries(detachers)) {
  test(`async writes of 64 KiB+ payloads transferred (${name}) around the call store the original bytes or reject with a code`, async (t) => {
    const file = tmpFile(t, 's.srd').file
    const s = DataStore.open(file)
    const a = await AsyncDataStore.open(file)
    t.teardown(() => {
      s.close()
      return a.close()
    })
    const tally = { stored: 0, rejected: 0 }
    const writers = {
      'store.async.write': (k, p) => s.async.write(k, p),
      'AsyncDataStore.write': (k, p) => a.write(k, p),
      'AsyncDataStore.batchWrite': (k, p) => a.batchWrite([[`${k}-other`, 'x'], [k, p]]),
      'store.async.batchWrite': (k, p) => s.async.batchWrite([[k, p]]),
    }
    let round = 0
    for (const [wname, write] of Object.entries(writers)) {
      for (const size of [64 * 1024, 1 << 20]) {
        for (const when of ['after the call', 'in a microtask', 'in setImmediate (worker running)']) {
          for (let rep = 0; rep < 5; rep++) {
            round++
            const key = `k${round}`
            const original = pattern(size, round)
            const payload = new Uint8Array(original.buffer.slice(0))
            const before = null
            const what = `${wname} ${size} B, detached ${when}`
            const res = await outcome(
              t,
              s,
              key,
              async () => {
                const p = write(key, payload)
                if (when === 'after the call') detach(payload.buffer)
                else if (when === 'in a microtask') queueMicrotask(() => detach(payload.buffer))
                else setImmediate(() => detach(payload.buffer))
                pressure()
                await p
              },
              original,
              before,
              what,
            )
            tally[res]++
            t.is(payload.byteLength, 0, `${what}: the buffer was detached`)
          }
        }
      }
    }
    t.log(`${round} rounds: ${tally.stored} stored the original bytes, ${tally.rejected} rejected with a code`)
  })
}

test('a payload or key whose buffer is detached before the call is rejected with a code, nothing stored', async (t) => {
  const file = tmpFile(t, 's.srd').file
  const s = DataStore.open(file)
  t.teardown(() => s.close())
  const detached = () => {
    const u = new Uint8Array(100000).fill(7)
    structuredClone(u.buffer, { transfer: [u.buffer] })
    return u
  }
  const tail = s.fileSize()
  for (const [what, call] of [
    ['write payload', () => s.write('k', detached())],
    ['write key', () => s.write(detached(), 'v')],
    ['read key', () => s.read(detached())],
    ['exists key', () => s.exists(detached())],
    ['delete key', () => s.delete(detached())],
    ['batchWrite payload', () => s.batchWrite([['a', 'x'], ['b', detached()]])],
    [
      'write DataView of a detached buffer',
      () => {
        const u = new Uint8Array(100000).fill(7)
        const dv = new DataView(u.buffer)
        structuredClone(u.buffer, { transfer: [u.buffer] })
        return s.write('k', dv)
      },
    ],
    ['write detached ArrayBuffer', () => s.write('k', detached().buffer)],
  ]) {
    const err = t.throws(call, undefined, what)
    t.true(['ERR_INVALID_ARG_VALUE', 'ERR_INVALID_ARG_TYPE'].includes(err?.code), `${what}: ${err?.code} ${err?.message}`)
  }
  for (const [what, call] of [
    ['async write payload', () => s.async.write('k', detached())],
    ['async write key', () => s.async.write(detached(), 'v')],
    ['async batchWrite', () => s.async.batchWrite([['a', 'x'], ['b', detached()]])],
  ]) {
    const err = await t.throwsAsync(async () => call(), undefined, what)
    t.true(['ERR_INVALID_ARG_VALUE', 'ERR_INVALID_ARG_TYPE'].includes(err?.code), `${what}: ${err?.code} ${err?.message}`)
  }
  t.is(s.fileSize(), tail, 'nothing was written')
  t.is(s.read('a'), null)
  t.is(s.read(''), null, 'no empty key was written')
})

test('a resizable ArrayBuffer shrunk while an async write is pending stores the original bytes or rejects with a code', async (t) => {
  const file = tmpFile(t, 's.srd').file
  const s = DataStore.open(file)
  t.teardown(() => s.close())
  const tally = { stored: 0, rejected: 0 }
  for (let round = 0; round < 40; round++) {
    const size = round % 2 === 0 ? 64 * 1024 : 1 << 20
    const rab = new ArrayBuffer(size, { maxByteLength: 2 << 20 })
    const view = new Uint8Array(rab) // length-tracking
    const original = pattern(size, 1000 + round)
    view.set(original)
    const key = `r${round}`
    const res = await outcome(
      t,
      s,
      key,
      async () => {
        const p = s.async.write(key, view)
        if (round % 3 === 0) rab.resize(0)
        else if (round % 3 === 1) queueMicrotask(() => rab.resize(16))
        else setImmediate(() => rab.resize(0))
        pressure()
        await p
      },
      original,
      null,
      `resizable ${size} B, round ${round}`,
    )
    tally[res]++
  }
  t.log(`40 rounds: ${tally.stored} stored the original bytes, ${tally.rejected} rejected with a code`)
})

test('a streamed chunk transferred after it is written stores the original bytes', async (t) => {
  const file = tmpFile(t, 's.srd').file
  const a = await AsyncDataStore.open(file)
  t.teardown(() => a.close())
  const chunks = Array.from({ length: 8 }, (_, i) => pattern(128 * 1024, 500 + i))
  const whole = Buffer.concat(chunks.map((c) => Buffer.from(c)))
  async function* source() {
    for (const c of chunks) {
      const u = new Uint8Array(c.buffer.slice(0))
      yield u
      structuredClone(u.buffer, { transfer: [u.buffer] })
      pressure()
    }
  }
  await a.writeStream('streamed', source())
  const h = await a.read('streamed')
  t.true(h !== null && Buffer.compare(h.bytes, whole) === 0)
})
