// Damage in the middle of a file (issue 13, item 2). A store of a few
// thousand entries is damaged the ways a bad disk, a bad copy or another
// program damage a file: zeroed runs of 20 B to 64 KiB at many offsets,
// single-byte flips in each metadata field of many entries, and links
// rewritten to 0, to a random earlier offset and to a later offset. Each
// damaged copy must either open with every key intact, or be refused with
// ERR_CORRUPT_STORE and left byte-identical; `repair: true` then keeps every
// entry outside the damaged range (compared with the original key by key)
// and a backup equal to the damaged file.
//
// Known limits of the format, asserted as such (docs/FORMAT.md): open reads
// no payload but the first and the last, so zeroed payload bytes with the
// metadata around them intact open, and verify() reports the entry; a flipped
// key-hash byte moves that entry to another key (its key then reads its
// previous version; every other key stays intact); a flipped checksum byte
// leaves the bytes intact (verify() reports the entry); a link rewritten to
// exactly another entry's end is a valid chain whose phantom entry spans the
// entries it skips (verify() checks every entry, live or not, and reports
// it). Whatever verify() reports, `repair: true` drops, keeping every key
// whose newest entry lies outside the damage.
import test from 'ava'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { DataStore, AsyncDataStore } from '../lib/index.mjs'
import { payloadFor, parsePayload, rng } from './helpers/payload.mjs'
import { parseEntries } from './helpers/damage.mjs'
import { tmpDir } from './helpers/store.mjs'

const OPTS = { small: true }

/** A scratch directory in memory where there is one (many small files are written). */
const scratch = (t) => tmpDir(t, 'srd-mid-', fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir())

/** A store of ~3,000 entries over 800 keys with overwrites and deletes; returns its bytes and final state. */
function buildStore(file) {
  const r = rng(4242)
  const s = DataStore.open(file)
  const state = new Map()
  let version = 1
  for (let i = 0; i < 3300; i++) {
    const k = `m${r() % 800}`
    if (r() % 25 === 0) {
      s.delete(k)
      state.delete(k)
    } else {
      const v = version++
      s.write(k, payloadFor(k, v, OPTS))
      state.set(k, v)
    }
  }
  for (const k of ['big0', 'big1']) {
    const v = version++
    s.write(k, payloadFor(k, v, OPTS))
    state.set(k, v)
  }
  s.close()
  return { bytes: fs.readFileSync(file), state }
}

/** The version a key reads (null if absent), or 'foreign' for bytes that are no write of it. */
function readState(store, key) {
  const h = store.read(key)
  if (h === null) return null
  const head = parsePayload(h.bytes)
  if (head === null || head.key !== key || Buffer.compare(h.bytes, payloadFor(key, head.version, OPTS)) !== 0) return 'foreign'
  return head.version
}

test('damage in the middle is refused byte-identical or opens intact; repair keeps every entry outside it', (t) => {
  const dir = scratch(t)
  const orig = path.join(dir, 'orig.srd')
  const { bytes, state } = buildStore(orig)
  const entries = parseEntries(bytes)
  t.true(entries.length > 3000)
  const keyOf = new Map()
  const versionOf = new Map()
  for (const e of entries) {
    if (e.tombstone) continue
    const head = parsePayload(bytes.subarray(e.start, e.meta))
    keyOf.set(e.hash, head.key)
    versionOf.set(e.meta, head.version)
  }
  const keys = [...new Set(keyOf.values())]
  const boundaries = new Set(entries.map((e) => e.tail))
  const r = rng(99)
  const middle = () => Math.floor(bytes.length * 0.05) + (r() % Math.floor(bytes.length * 0.8))
  const newest = new Map() // key -> its newest entry
  for (const e of entries) newest.set(keyOf.get(e.hash), e)

  const jobs = []
  for (const len of [20, 64, 100, 500, 4096, 20000, 65536]) {
    for (let n = 0; n < 12; n++) jobs.push({ kind: 'zero', at: middle(), len })
  }
  // Entries in the middle, away from the last few (damage to the last entry is a torn tail).
  const pickEntry = () => {
    for (;;) {
      const e = entries[Math.floor(entries.length * 0.02) + (r() % Math.floor(entries.length * 0.9))]
      if (e.meta > 0) return e
    }
  }
  for (let n = 0; n < 40; n++) {
    const e = pickEntry()
    for (const [field, width] of [['hash', 8], ['prev', 8], ['crc', 4]]) {
      const off = { hash: 0, prev: 8, crc: 16 }[field] + (r() % width)
      jobs.push({ kind: 'flip', field, e, at: e.meta + off, xor: 1 + (r() % 255) })
    }
  }
  for (let n = 0; n < 30; n++) {
    const e = pickEntry()
    jobs.push({ kind: 'link', to: 'zero', e, value: 0 })
    jobs.push({ kind: 'link', to: 'earlier', e, value: r() % e.prev })
    jobs.push({ kind: 'link', to: 'later', e, value: e.prev + 1 + (r() % (bytes.length - e.prev)) })
  }

  const file = path.join(dir, 'damaged.srd')
  const counts = { tried: 0, opened: 0, refused: 0, repaired: 0, keysRecovered: 0, keysInDamage: 0, phantom: 0, hashMoved: 0, payloadFlagged: 0, repairedAfterVerify: 0 }
  const fail = (job, msg) => t.fail(`${job.kind} ${job.field ?? job.to ?? ''} at ${job.at ?? job.e?.meta}+${job.len ?? job.value ?? ''}: ${msg}`)
  for (const job of jobs) {
    counts.tried++
    const b = Buffer.from(bytes)
    let first
    let end
    if (job.kind === 'zero') {
      b.fill(0, job.at, job.at + job.len)
      ;[first, end] = [job.at, Math.min(b.length, job.at + job.len)]
    } else if (job.kind === 'flip') {
      b[job.at] ^= job.xor
      ;[first, end] = [job.at, job.at + 1]
    } else {
      b.writeBigUInt64LE(BigInt(job.value), job.e.meta + 8)
      ;[first, end] = [job.e.meta + 8, job.e.meta + 16]
    }
    if (Buffer.compare(b, bytes) === 0) continue
    fs.rmSync(file, { force: true })
    fs.writeFileSync(file, b)
    const touched = (e) => e.prev < end && e.tail > first
    // The original entry whose metadata was changed, for the format's known limits.
    const hit = job.e ?? null
    const phantom = job.kind === 'link' && boundaries.has(job.value) && job.value < hit.prev
    let store
    try {
      store = DataStore.open(file)
    } catch (err) {
      counts.refused++
      if (err.code !== 'ERR_CORRUPT_STORE') fail(job, `refused with ${err.code}: ${err.message}`)
      if (Buffer.compare(fs.readFileSync(file), b) !== 0) fail(job, 'the refused file changed')
      const s = DataStore.open(file, { repair: true })
      counts.repaired++
      const report = s.repairReport
      if (Buffer.compare(fs.readFileSync(report.backup), b) !== 0) fail(job, 'the backup is not the damaged file')
      for (const key of keys) {
        const got = readState(s, key)
        const e = newest.get(key)
        if (!touched(e)) {
          // Outside the damage: exactly as written.
          const want = state.get(key) ?? null
          if (got !== want) fail(job, `after repair ${key} reads ${got}, expected ${want}`)
          else counts.keysRecovered++
        } else {
          counts.keysInDamage++
          // Inside: an older version, or absent; never bytes of another write.
          if (got === 'foreign') fail(job, `after repair ${key} reads foreign bytes`)
        }
      }
      if (s.verify().length !== 0) fail(job, 'verify() after repair reports entries')
      s.close()
      fs.rmSync(report.backup)
      continue
    }
    counts.opened++
    if (store.fileSize() !== bytes.length) fail(job, `opened with ${store.fileSize()} of ${bytes.length} bytes`)
    if (phantom) counts.phantom++
    const bad = store.verify()
    let moved = false
    for (const key of keys) {
      const got = readState(store, key)
      const want = state.get(key) ?? null
      if (got === want) continue
      const e = newest.get(key)
      if (touched(e) && bad.some((c) => c.offset === e.meta)) {
        counts.payloadFlagged++ // damaged payload bytes: open does not read payloads, verify() does
        continue
      }
      if (job.field === 'hash' && e === hit) {
        moved = true // the format's limit: its key hash was changed
        continue
      }
      if (phantom && bad.length > 0) continue // a phantom link, reported by verify()
      fail(job, `opened, but ${key} reads ${got}, expected ${want}`)
    }
    if (moved) counts.hashMoved++
    if (job.field === 'crc' && newest.get(keyOf.get(hit.hash)) === hit && !bad.some((c) => c.offset === hit.meta)) {
      fail(job, 'a live entry with a changed checksum is not reported by verify()')
    }
    store.close()
    if (bad.length > 0) {
      // What open accepted but verify() reports, repair drops: every key
      // whose newest entry lies outside the damage then reads as written.
      const s = DataStore.open(file, { repair: true })
      counts.repairedAfterVerify++
      if (s.repairReport === null) fail(job, 'verify() reported entries but repair found nothing to do')
      else fs.rmSync(s.repairReport.backup)
      for (const key of keys) {
        if (touched(newest.get(key))) continue
        const got = readState(s, key)
        if (got !== (state.get(key) ?? null)) fail(job, `after repair of what verify() reported, ${key} reads ${got}`)
      }
      if (s.verify().length !== 0) fail(job, 'verify() after repair reports entries')
      s.close()
    }
  }
  t.log(
    `${counts.tried} damaged copies of a ${bytes.length}-byte store of ${entries.length} entries: opened intact ${counts.opened}, ` +
      `refused with ERR_CORRUPT_STORE ${counts.refused} (repaired ${counts.repaired}: ${counts.keysRecovered} keys outside the damage ` +
      `read back exactly, ${counts.keysInDamage} keys had their newest entry in the damage); key-hash flips that moved an entry ` +
      `${counts.hashMoved}; damaged payloads that open accepted and verify() reported ${counts.payloadFlagged}; links rewritten onto another entry's end (phantoms, reported by verify()) ${counts.phantom}; ` +
      `opened stores whose verify() findings repair then dropped ${counts.repairedAfterVerify}`,
  )
  t.true(counts.refused > 100, 'most damage in the middle is refused')
})

test('AsyncDataStore.open refuses damage in the middle the same way, and reports a repair', async (t) => {
  const dir = scratch(t)
  const file = path.join(dir, 'a.srd')
  const s = DataStore.open(file)
  for (let i = 0; i < 200; i++) s.write(`k${i}`, `value ${i}`.repeat(3))
  s.close()
  const b = fs.readFileSync(file)
  b.fill(0, 3000, 3200)
  fs.writeFileSync(file, b)
  const err = await t.throwsAsync(AsyncDataStore.open(file))
  t.is(err.code, 'ERR_CORRUPT_STORE')
  t.regex(err.message, /damaged at offset \d+/)
  t.deepEqual(fs.readFileSync(file), b, 'left byte-identical')
  const a = await AsyncDataStore.open(file, { repair: true })
  t.teardown(() => a.close())
  const report = a.repairReport
  t.truthy(report)
  t.true(report.salvagedEntries > 0 && report.lostRanges.length === 1)
  t.deepEqual(fs.readFileSync(report.backup), b)
  let intact = 0
  for (let i = 0; i < 200; i++) if ((await a.read(`k${i}`))?.bytes.toString() === `value ${i}`.repeat(3)) intact++
  t.true(intact >= 190, `${intact} of 200 keys intact`)
  t.deepEqual(await a.verify(), [])
  const plain = await AsyncDataStore.open(path.join(dir, 'b.srd'))
  t.is(plain.repairReport, null)
  await plain.close()
})
