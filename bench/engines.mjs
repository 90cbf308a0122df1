// One implementation of every benchmark scenario per engine, each with its own
// tight loop (no shared adapter call in the hot path, so no engine pays for
// another's call shape). Every function returns milliseconds of the timed part
// only; opening, data generation and population are outside the clock unless
// the row is about them (reopen).
//
// Like-for-like choices (also printed with the results, see CALLS below):
// - page cache = the write returns once the bytes are in the OS (no fsync);
// - durable    = the write returns after an fsync/fdatasync of its data.

import fs from 'node:fs'
import path from 'node:path'

const now = () => performance.now()

/** What each engine runs for each row: printed next to the figures. */
export const CALLS = {
  putCache: {
    ours: 'DataStore.write(key, value) (page cache, no fsync)',
    lmdb: 'db.putSync(key, value), env noSync:true',
    'classic-level': 'await db.put(key, value) (no putSync in classic-level; sync:false)',
    'better-sqlite3': 'prepared INSERT OR REPLACE .run() (autocommit), journal_mode=WAL, synchronous=OFF',
  },
  putDurable: {
    ours: 'DataStore.open(path, {durable:true}).write(key, value) (fdatasync per write)',
    lmdb: 'db.putSync(key, value), default env (fdatasync per commit)',
    'classic-level': 'await db.put(key, value, {sync:true})',
    'better-sqlite3': 'prepared INSERT OR REPLACE .run() (autocommit), journal_mode=WAL, synchronous=FULL',
  },
  asyncDurable: {
    ours: 'AsyncDataStore.open(path, {durable:true}): N x write() issued at once, Promise.all (group commit)',
    lmdb: 'N x db.put() issued at once, Promise.all, then await db.flushed (default env: batched async txn + fsync)',
    'classic-level': 'N x db.put(key, value, {sync:true}) issued at once, Promise.all',
    'better-sqlite3': 'n/a (no async API)',
  },
  asyncCache: {
    ours: 'AsyncDataStore: N x write() issued at once, Promise.all (group commit, no fsync)',
    lmdb: 'N x db.put() issued at once, Promise.all (batched async txn), env noSync:true',
    'classic-level': 'N x db.put(key, value) issued at once, Promise.all (sync:false)',
    'better-sqlite3': 'n/a (no async API)',
  },
  batch: {
    ours: 'DataStore.batchWrite([[key, value], ...]) (page cache)',
    lmdb: 'db.transactionSync(() => putSync x N), env noSync:true',
    'classic-level': "await db.batch([{type:'put', key, value}, ...]) (sync:false)",
    'better-sqlite3': 'db.transaction(() => INSERT OR REPLACE x N)(), WAL, synchronous=OFF',
  },
  get: {
    ours: 'store.read(key).bytes (Buffer over the mapped file)',
    lmdb: 'db.getBinaryFast(key) (Buffer, valid until the next get)',
    'classic-level': "db.getSync(key) (valueEncoding 'buffer')",
    'better-sqlite3': 'prepared SELECT v .pluck().get(key) (Buffer), mmap_size=1GiB, cache_size=256MiB',
  },
  large: {
    ours: 'DataStore.write / read(key).bytes',
    lmdb: 'putSync (noSync:true) / getBinaryFast',
    'classic-level': 'await put / getSync',
    'better-sqlite3': 'INSERT OR REPLACE (WAL, synchronous=OFF) / SELECT .pluck().get() (mmap_size=1GiB)',
  },
  reopen: {
    ours: 'DataStore.open(path) + read(key).bytes',
    lmdb: 'open({path}) + getBinaryFast(key)',
    'classic-level': 'new ClassicLevel(path) + await db.open() + getSync(key)',
    'better-sqlite3': 'new Database(path) + prepare(SELECT) + get(key)',
  },
}

// ---------------------------------------------------------------- ours

async function loadOurs() {
  return import('../lib/index.mjs')
}

const ours = {
  name: 'ours',
  async put(dir, keys, vals, durable) {
    const { DataStore } = await loadOurs()
    const s = DataStore.open(path.join(dir, 'store.bin'), { durable })
    const n = keys.length
    const t = now()
    for (let i = 0; i < n; i++) s.write(keys[i], vals[i])
    const ms = now() - t
    s.close()
    return ms
  },
  async asyncPut(dir, keys, vals, durable) {
    const { AsyncDataStore } = await loadOurs()
    const s = await AsyncDataStore.open(path.join(dir, 'store.bin'), { durable })
    const n = keys.length
    const t = now()
    const ps = new Array(n)
    for (let i = 0; i < n; i++) ps[i] = s.write(keys[i], vals[i])
    await Promise.all(ps)
    const ms = now() - t
    await s.close()
    return ms
  },
  async batch(dir, keys, vals) {
    const { DataStore } = await loadOurs()
    const s = DataStore.open(path.join(dir, 'store.bin'))
    const pairs = keys.map((k, i) => [k, vals[i]])
    const t = now()
    s.batchWrite(pairs)
    const ms = now() - t
    s.close()
    return ms
  },
  async populate(dir, keys, vals) {
    const { DataStore } = await loadOurs()
    const s = DataStore.open(path.join(dir, 'store.bin'))
    for (let i = 0; i < keys.length; i += 100_000) {
      const end = Math.min(keys.length, i + 100_000)
      const pairs = []
      for (let j = i; j < end; j++) pairs.push([keys[j], vals[j]])
      s.batchWrite(pairs)
    }
    s.close()
  },
  async reads(dir, keys, vals, idx, absent, warm) {
    const { DataStore } = await loadOurs()
    const s = DataStore.open(path.join(dir, 'store.bin'))
    const check = s.read(keys[7]).bytes
    if (!check.equals(vals[7])) throw new Error('ours: wrong value read back')
    let acc = 0
    for (let i = 0; i < warm; i++) acc += s.read(keys[idx[i]]).bytes[0]
    const n = idx.length
    let t = now()
    for (let i = 0; i < n; i++) acc += s.read(keys[idx[i]]).bytes[0]
    const getMs = now() - t
    let miss = 0
    t = now()
    for (let i = 0; i < n; i++) if (s.read(absent[idx[i]]) === null) miss++
    const absentMs = now() - t
    if (miss !== n) throw new Error('ours: an absent key was found')
    s.close()
    return { getMs, absentMs, acc }
  },
  async large(dir, keys, vals, passes) {
    const { DataStore } = await loadOurs()
    const s = DataStore.open(path.join(dir, 'store.bin'))
    const n = keys.length
    let t = now()
    for (let i = 0; i < n; i++) s.write(keys[i], vals[i])
    const writeMs = now() - t
    if (!s.read(keys[3]).bytes.equals(vals[3])) throw new Error('ours: wrong large value')
    let acc = 0
    const passMs = []
    t = now()
    for (let p = 0; p < passes; p++) {
      const tp = now()
      for (let i = 0; i < n; i++) {
        const b = s.read(keys[i]).bytes
        acc += b[0] + b[b.length - 1]
      }
      passMs.push(now() - tp)
    }
    const readMs = now() - t
    s.close()
    return { writeMs, readMs, passMs, acc }
  },
  async reopen(dir, key) {
    const { DataStore } = await loadOurs()
    const t = now()
    const s = DataStore.open(path.join(dir, 'store.bin'))
    const b = s.read(key).bytes
    const ms = now() - t
    if (b.length !== 64) throw new Error('ours: wrong value after reopen')
    s.close()
    return ms
  },
}

// ---------------------------------------------------------------- lmdb

/**
 * getBinaryFast returns a Buffer over lmdb-js's shared read buffer with its
 * `length` property set to the value's size: compare only that many bytes.
 */
function sameBytes(fast, expected) {
  return fast.length === expected.length && Buffer.compare(fast.subarray(0, fast.length), expected) === 0
}

export async function openLmdb(dir, opts = {}) {
  const { open } = await import('lmdb')
  return open({ path: path.join(dir, 'db'), encoding: 'binary', ...opts })
}

const lmdb = {
  name: 'lmdb',
  async put(dir, keys, vals, durable) {
    const db = await openLmdb(dir, durable ? {} : { noSync: true })
    const n = keys.length
    const t = now()
    for (let i = 0; i < n; i++) db.putSync(keys[i], vals[i])
    const ms = now() - t
    await db.close()
    return ms
  },
  async asyncPut(dir, keys, vals, durable) {
    const db = await openLmdb(dir, durable ? {} : { noSync: true })
    const n = keys.length
    const t = now()
    const ps = new Array(n)
    for (let i = 0; i < n; i++) ps[i] = db.put(keys[i], vals[i])
    await Promise.all(ps)
    if (durable) await db.flushed
    const ms = now() - t
    await db.close()
    return ms
  },
  async batch(dir, keys, vals) {
    const db = await openLmdb(dir, { noSync: true })
    const n = keys.length
    const t = now()
    db.transactionSync(() => {
      for (let i = 0; i < n; i++) db.putSync(keys[i], vals[i])
    })
    const ms = now() - t
    await db.close()
    return ms
  },
  async populate(dir, keys, vals) {
    const db = await openLmdb(dir, { noSync: true })
    for (let i = 0; i < keys.length; i += 100_000) {
      const end = Math.min(keys.length, i + 100_000)
      db.transactionSync(() => {
        for (let j = i; j < end; j++) db.putSync(keys[j], vals[j])
      })
    }
    await db.close()
  },
  async reads(dir, keys, vals, idx, absent, warm) {
    const db = await openLmdb(dir)
    if (!sameBytes(db.getBinaryFast(keys[7]), vals[7])) throw new Error('lmdb: wrong value read back')
    let acc = 0
    for (let i = 0; i < warm; i++) acc += db.getBinaryFast(keys[idx[i]])[0]
    const n = idx.length
    let t = now()
    for (let i = 0; i < n; i++) acc += db.getBinaryFast(keys[idx[i]])[0]
    const getMs = now() - t
    let miss = 0
    t = now()
    for (let i = 0; i < n; i++) if (db.getBinaryFast(absent[idx[i]]) === undefined) miss++
    const absentMs = now() - t
    if (miss !== n) throw new Error('lmdb: an absent key was found')
    await db.close()
    return { getMs, absentMs, acc }
  },
  async large(dir, keys, vals, passes) {
    const db = await openLmdb(dir, { noSync: true })
    const n = keys.length
    let t = now()
    for (let i = 0; i < n; i++) db.putSync(keys[i], vals[i])
    const writeMs = now() - t
    if (!sameBytes(db.getBinaryFast(keys[3]), vals[3])) throw new Error('lmdb: wrong large value')
    let acc = 0
    const passMs = []
    t = now()
    for (let p = 0; p < passes; p++) {
      const tp = now()
      for (let i = 0; i < n; i++) {
        const b = db.getBinaryFast(keys[i])
        acc += b[0] + b[b.length - 1]
      }
      passMs.push(now() - tp)
    }
    const readMs = now() - t
    await db.close()
    return { writeMs, readMs, passMs, acc }
  },
  async reopen(dir, key) {
    const { open } = await import('lmdb')
    const t = now()
    const db = open({ path: path.join(dir, 'db'), encoding: 'binary' })
    const b = db.getBinaryFast(key)
    const ms = now() - t
    if (b.length !== 64) throw new Error('lmdb: wrong value after reopen')
    await db.close()
    return ms
  },
}

// ---------------------------------------------------------------- classic-level

export async function openLevel(dir) {
  const { ClassicLevel } = await import('classic-level')
  const db = new ClassicLevel(path.join(dir, 'level'), { keyEncoding: 'utf8', valueEncoding: 'buffer' })
  await db.open()
  return db
}

const level = {
  name: 'classic-level',
  async put(dir, keys, vals, durable) {
    const db = await openLevel(dir)
    const n = keys.length
    const opts = { sync: durable }
    const t = now()
    for (let i = 0; i < n; i++) await db.put(keys[i], vals[i], opts)
    const ms = now() - t
    await db.close()
    return ms
  },
  async asyncPut(dir, keys, vals, durable) {
    const db = await openLevel(dir)
    const n = keys.length
    const opts = { sync: durable }
    const t = now()
    const ps = new Array(n)
    for (let i = 0; i < n; i++) ps[i] = db.put(keys[i], vals[i], opts)
    await Promise.all(ps)
    const ms = now() - t
    await db.close()
    return ms
  },
  async batch(dir, keys, vals) {
    const db = await openLevel(dir)
    const ops = keys.map((key, i) => ({ type: 'put', key, value: vals[i] }))
    const t = now()
    await db.batch(ops)
    const ms = now() - t
    await db.close()
    return ms
  },
  async populate(dir, keys, vals) {
    const db = await openLevel(dir)
    for (let i = 0; i < keys.length; i += 100_000) {
      const end = Math.min(keys.length, i + 100_000)
      const ops = []
      for (let j = i; j < end; j++) ops.push({ type: 'put', key: keys[j], value: vals[j] })
      await db.batch(ops)
    }
    await db.close()
  },
  async reads(dir, keys, vals, idx, absent, warm) {
    const db = await openLevel(dir)
    if (!db.getSync(keys[7]).equals(vals[7])) throw new Error('classic-level: wrong value read back')
    let acc = 0
    for (let i = 0; i < warm; i++) acc += db.getSync(keys[idx[i]])[0]
    const n = idx.length
    let t = now()
    for (let i = 0; i < n; i++) acc += db.getSync(keys[idx[i]])[0]
    const getMs = now() - t
    let miss = 0
    t = now()
    for (let i = 0; i < n; i++) if (db.getSync(absent[idx[i]]) === undefined) miss++
    const absentMs = now() - t
    if (miss !== n) throw new Error('classic-level: an absent key was found')
    await db.close()
    return { getMs, absentMs, acc }
  },
  async large(dir, keys, vals, passes) {
    const db = await openLevel(dir)
    const n = keys.length
    let t = now()
    for (let i = 0; i < n; i++) await db.put(keys[i], vals[i])
    const writeMs = now() - t
    if (!db.getSync(keys[3]).equals(vals[3])) throw new Error('classic-level: wrong large value')
    let acc = 0
    const passMs = []
    t = now()
    for (let p = 0; p < passes; p++) {
      const tp = now()
      for (let i = 0; i < n; i++) {
        const b = db.getSync(keys[i])
        acc += b[0] + b[b.length - 1]
      }
      passMs.push(now() - tp)
    }
    const readMs = now() - t
    await db.close()
    return { writeMs, readMs, passMs, acc }
  },
  async reopen(dir, key) {
    const { ClassicLevel } = await import('classic-level')
    const t = now()
    const db = new ClassicLevel(path.join(dir, 'level'), { keyEncoding: 'utf8', valueEncoding: 'buffer' })
    await db.open()
    const b = db.getSync(key)
    const ms = now() - t
    if (b.length !== 64) throw new Error('classic-level: wrong value after reopen')
    await db.close()
    return ms
  },
}

// ---------------------------------------------------------------- better-sqlite3

async function openSqlite(dir, synchronous) {
  const { default: Database } = await import('better-sqlite3')
  const db = new Database(path.join(dir, 'kv.sqlite'))
  db.pragma('journal_mode = WAL')
  db.pragma(`synchronous = ${synchronous}`)
  // Read tuning in sqlite's favour: map the file and keep every page cached
  // (the default 2 MB page cache makes random gets pread() from the OS).
  db.pragma('mmap_size = 1073741824')
  db.pragma('cache_size = -262144')
  db.exec('CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID')
  return db
}

const sqlite = {
  name: 'better-sqlite3',
  async put(dir, keys, vals, durable) {
    const db = await openSqlite(dir, durable ? 'FULL' : 'OFF')
    const put = db.prepare('INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)')
    const n = keys.length
    const t = now()
    for (let i = 0; i < n; i++) put.run(keys[i], vals[i])
    const ms = now() - t
    db.close()
    return ms
  },
  asyncPut: null,
  async batch(dir, keys, vals) {
    const db = await openSqlite(dir, 'OFF')
    const put = db.prepare('INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)')
    const n = keys.length
    const all = db.transaction(() => {
      for (let i = 0; i < n; i++) put.run(keys[i], vals[i])
    })
    const t = now()
    all()
    const ms = now() - t
    db.close()
    return ms
  },
  async populate(dir, keys, vals) {
    const db = await openSqlite(dir, 'OFF')
    const put = db.prepare('INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)')
    for (let i = 0; i < keys.length; i += 100_000) {
      const end = Math.min(keys.length, i + 100_000)
      db.transaction(() => {
        for (let j = i; j < end; j++) put.run(keys[j], vals[j])
      })()
    }
    db.close()
  },
  async reads(dir, keys, vals, idx, absent, warm) {
    const db = await openSqlite(dir, 'OFF')
    const get = db.prepare('SELECT v FROM kv WHERE k = ?').pluck()
    if (!get.get(keys[7]).equals(vals[7])) throw new Error('better-sqlite3: wrong value read back')
    let acc = 0
    for (let i = 0; i < warm; i++) acc += get.get(keys[idx[i]])[0]
    const n = idx.length
    let t = now()
    for (let i = 0; i < n; i++) acc += get.get(keys[idx[i]])[0]
    const getMs = now() - t
    let miss = 0
    t = now()
    for (let i = 0; i < n; i++) if (get.get(absent[idx[i]]) === undefined) miss++
    const absentMs = now() - t
    if (miss !== n) throw new Error('better-sqlite3: an absent key was found')
    db.close()
    return { getMs, absentMs, acc }
  },
  async large(dir, keys, vals, passes) {
    const db = await openSqlite(dir, 'OFF')
    const put = db.prepare('INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)')
    const get = db.prepare('SELECT v FROM kv WHERE k = ?').pluck()
    const n = keys.length
    let t = now()
    for (let i = 0; i < n; i++) put.run(keys[i], vals[i])
    const writeMs = now() - t
    if (!get.get(keys[3]).equals(vals[3])) throw new Error('better-sqlite3: wrong large value')
    let acc = 0
    const passMs = []
    t = now()
    for (let p = 0; p < passes; p++) {
      const tp = now()
      for (let i = 0; i < n; i++) {
        const b = get.get(keys[i])
        acc += b[0] + b[b.length - 1]
      }
      passMs.push(now() - tp)
    }
    const readMs = now() - t
    db.close()
    return { writeMs, readMs, passMs, acc }
  },
  async reopen(dir, key) {
    const { default: Database } = await import('better-sqlite3')
    const t = now()
    const db = new Database(path.join(dir, 'kv.sqlite'))
    const b = db.prepare('SELECT v FROM kv WHERE k = ?').pluck().get(key)
    const ms = now() - t
    if (b.length !== 64) throw new Error('better-sqlite3: wrong value after reopen')
    db.close()
    return ms
  },
}

export const ENGINES = { ours, lmdb, 'classic-level': level, 'better-sqlite3': sqlite }
export const PEERS = ['lmdb', 'classic-level', 'better-sqlite3']

/** Bytes the files under `dir` take: apparent (st_size) and allocated (st_blocks * 512). */
export function diskUsage(dir) {
  let apparent = 0
  let allocated = 0
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name)
      if (e.isDirectory()) walk(p)
      else {
        const st = fs.statSync(p)
        apparent += st.size
        allocated += st.blocks * 512
      }
    }
  }
  walk(dir)
  return { apparent, allocated }
}
