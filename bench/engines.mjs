// Every benchmark scenario, written once over each engine's own calls. The
// clock runs in one place, `timed` (and `timedAwait` for an engine whose
// puts must be awaited one by one); each engine hands it the closure of its
// own call for each row, so no engine pays for another's call shape (one
// engine runs per process: bench/worker.mjs). Every function returns
// milliseconds of the timed part only; opening, data generation and
// population are outside the clock unless the row is about them (reopen).
//
// The multi-process rows (i, j) span several processes, so their loops are
// stamped with `stamp`, a system-wide monotonic clock (process.hrtime: the
// same clock in every process), and the driver takes the span over them.
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
  multiWrite: {
    ours: 'each process: DataStore.open(path) (default: several processes, OS lock per append), then write(key, value) x its share (page cache)',
    lmdb: 'each process: open({path}) of the same env, noSync:true, then db.putSync(key, value) x its share',
    'classic-level': 'n/a (one process per db: LOCK file)',
    'better-sqlite3': 'each process: WAL, synchronous=OFF, busy timeout 5 s (the default), then prepared INSERT OR REPLACE .run() (autocommit) x its share',
  },
  multiGet: {
    ours: 'reader: DataStore.open(path) + store.read(key).bytes (each read checks the shared page, follows the writer); writer: DataStore.open(path).write(key, value), paced to 50,000 writes/s (WRITER_RATE, the same for both)',
    lmdb: 'reader: db.getBinaryFast(key) (lmdb-js keeps one read txn for a synchronous loop: one snapshot); writer: db.putSync(key, value), paced to 50,000 writes/s; both noSync:true',
    'classic-level': 'n/a (one process per db: LOCK file)',
    'better-sqlite3': 'not run (it works, WAL + busy timeout, but its reader did under 100 k/s here while the writer ran: 1,000,000 gets take over 10 s per repetition)',
  },
  reopen: {
    ours: 'DataStore.open(path) + read(key).bytes',
    lmdb: 'open({path}) + getBinaryFast(key)',
    'classic-level': 'new ClassicLevel(path) + await db.open() + getSync(key)',
    'better-sqlite3': 'new Database(path) + prepare(SELECT) + get(key)',
  },
}

// ---------------------------------------------------------------- the timed loop

/** Now on a clock every process on this machine shares (CLOCK_MONOTONIC on Linux), in nanoseconds. */
const stamp = () => Number(process.hrtime.bigint())

/** Milliseconds for `op(i)`, i = 0 .. n-1: the one timed loop of every row. */
function timed(n, op) {
  const t = now()
  for (let i = 0; i < n; i++) op(i)
  return now() - t
}

/** As `timed`, awaiting each `op(i)` before the next (an engine whose calls return Promises). */
async function timedAwait(n, op) {
  const t = now()
  for (let i = 0; i < n; i++) await op(i)
  return now() - t
}

// ---------------------------------------------------------------- the rows
//
// Each engine below gives its own calls:
// - `open(dir, mode)`, mode 'cache' | 'durable' | 'read', resolves to
//   `{ put(key, value), get(key) -> bytes or undefined, close() }`;
//   `awaitPut`: its `put` returns a Promise, awaited one at a time;
// - `openAsync(dir, durable)` (null if the engine has no async API)
//   resolves to `{ put(key, value) -> Promise, settled(), close() }`;
// - `batch(dir, keys, vals)` and `populate(dir, keys, vals)`, as their APIs differ;
// - `reopener()` resolves to `(dir) => ({ get(key), close() })`, the open the reopen row times;
// - `same(bytes, expected)` if a Buffer's `equals` does not compare what `get` returns.
//
// The multi-process rows take `barrier()` (resolves when the driver says go)
// and return the `stamp`s of their loops; an engine whose puts are awaited
// has no multi-process row (classic-level: one process per db).

/** Writes of row (j)'s writer between two pauses. */
const WRITER_CHUNK = 500

/**
 * Row (j)'s write load, writes a second, the same for every engine: below
 * what each writer here sustains (lmdb's reached 65-70 k/s on this machine,
 * ours 470 k/s), so both readers run beside the same stream of writes.
 */
export const WRITER_RATE = 50_000

function rows(engine) {
  const name = engine.name
  const same = engine.same ?? ((bytes, expected) => bytes.equals(expected))
  const loop = (n, op) => (engine.awaitPut ? timedAwait(n, op) : timed(n, op))
  const syncOnly = () => {
    if (engine.awaitPut) throw new Error(`${name}: no multi-process rows`)
  }
  return {
    name,
    // (i) one of several processes writing its share of the keys, from the barrier on.
    async putShared(dir, keys, vals, barrier) {
      syncOnly()
      const db = await engine.open(dir, 'cache')
      await barrier()
      const start = stamp()
      const ms = timed(keys.length, (i) => db.put(keys[i], vals[i]))
      const end = stamp()
      await db.close()
      return { start, end, ms }
    },
    // After (i), in a fresh process: how many of the keys are missing or wrong.
    async verify(dir, keys, vals) {
      const db = await engine.open(dir, 'read')
      let missing = 0
      let wrong = 0
      for (let i = 0; i < keys.length; i++) {
        const b = db.get(keys[i])
        if (b === undefined || b === null) missing++
        else if (!same(b, vals[i])) wrong++
      }
      await db.close()
      return { missing, wrong }
    },
    // (j) the reader: row (c)'s gets, while another process writes.
    async getsShared(dir, keys, vals, idx, warm, barrier) {
      syncOnly()
      const db = await engine.open(dir, 'cache')
      if (!same(db.get(keys[7]), vals[7])) throw new Error(`${name}: wrong value read back`)
      let acc = 0
      const get = (i) => {
        acc += db.get(keys[idx[i]])[0]
      }
      await barrier()
      timed(warm, get)
      const start = stamp()
      const ms = timed(idx.length, get)
      const end = stamp()
      await db.close()
      return { start, end, ms, acc }
    },
    // (j) the writer: new keys `w-<i>` at WRITER_RATE writes a second (in
    // chunks of WRITER_CHUNK, sleeping between them) until `stopped()`;
    // `started()` once the first chunk is in. Returns [stamp, writes so far]
    // after each chunk. The same paced load for every engine: the row
    // compares readers, not how fast each writer could go.
    async writeUntil(dir, vals, barrier, started, stopped) {
      syncOnly()
      const db = await engine.open(dir, 'cache')
      const n = vals.length
      await barrier()
      const marks = [[stamp(), 0]]
      const t0 = now()
      let done = 0
      while (!stopped()) {
        const from = done
        timed(WRITER_CHUNK, (i) => db.put('w-' + (from + i), vals[(from + i) % n]))
        done += WRITER_CHUNK
        marks.push([stamp(), done])
        if (marks.length === 2) started()
        const ahead = t0 + (done / WRITER_RATE) * 1000 - now()
        await new Promise((resolve) => (ahead > 1 ? setTimeout(resolve, ahead) : setImmediate(resolve)))
      }
      if (!same(db.get('w-' + (done - 1)), vals[(done - 1) % n])) throw new Error(`${name}: wrong value read back after writing`)
      await db.close()
      return marks
    },
    async put(dir, keys, vals, durable) {
      const db = await engine.open(dir, durable ? 'durable' : 'cache')
      const ms = await loop(keys.length, (i) => db.put(keys[i], vals[i]))
      await db.close()
      return ms
    },
    asyncPut:
      engine.openAsync &&
      (async (dir, keys, vals, durable) => {
        const db = await engine.openAsync(dir, durable)
        const n = keys.length
        const ms = await timedAwait(1, async () => {
          const ps = new Array(n)
          for (let i = 0; i < n; i++) ps[i] = db.put(keys[i], vals[i])
          await Promise.all(ps)
          await db.settled()
        })
        await db.close()
        return ms
      }),
    batch: engine.batch,
    populate: engine.populate,
    async reads(dir, keys, vals, idx, absent, warm) {
      const db = await engine.open(dir, 'read')
      if (!same(db.get(keys[7]), vals[7])) throw new Error(`${name}: wrong value read back`)
      let acc = 0
      const get = (i) => {
        acc += db.get(keys[idx[i]])[0]
      }
      timed(warm, get)
      const getMs = timed(idx.length, get)
      let miss = 0
      const absentMs = timed(idx.length, (i) => {
        if (db.get(absent[idx[i]]) === undefined) miss++
      })
      if (miss !== idx.length) throw new Error(`${name}: an absent key was found`)
      await db.close()
      return { getMs, absentMs, acc }
    },
    async large(dir, keys, vals, passes) {
      const db = await engine.open(dir, 'cache')
      const n = keys.length
      const writeMs = await loop(n, (i) => db.put(keys[i], vals[i]))
      if (!same(db.get(keys[3]), vals[3])) throw new Error(`${name}: wrong large value`)
      let acc = 0
      const passMs = []
      const readMs = timed(passes, () => {
        passMs.push(
          timed(n, (i) => {
            const b = db.get(keys[i])
            acc += b[0] + b[b.length - 1]
          }),
        )
      })
      await db.close()
      return { writeMs, readMs, passMs, acc }
    },
    async reopen(dir, key) {
      const reopen = await engine.reopener()
      let db
      let b
      const ms = await timedAwait(1, async () => {
        db = await reopen(dir)
        b = db.get(key)
      })
      if (b.length !== 64) throw new Error(`${name}: wrong value after reopen`)
      await db.close()
      return ms
    },
  }
}

// ---------------------------------------------------------------- ours

async function loadOurs() {
  return import('../lib/index.mjs')
}

/**
 * Our engine, opened with `base` options besides the row's own: `ours` is the
 * default open (any number of processes, a shared page, an OS lock per
 * append), `ours-exclusive` the single-process open ({exclusive: true}),
 * `ours-keys` the default open recording keys ({keys: true}: each write by
 * key also appends, in the same append just before the value, an entry
 * holding the key's bytes, so that `keys()` lists them).
 */
function oursEngine(name, base) {
  const options = (own) => {
    const o = { ...base, ...own }
    return Object.keys(o).length ? o : undefined
  }
  return rows({
    name,
    async open(dir, mode) {
      const { DataStore } = await loadOurs()
      const s = DataStore.open(path.join(dir, 'store.bin'), options(mode === 'durable' ? { durable: true } : {}))
      return { put: (k, v) => s.write(k, v), get: (k) => s.read(k)?.bytes, close: () => s.close() }
    },
    async openAsync(dir, durable) {
      const { AsyncDataStore } = await loadOurs()
      const s = await AsyncDataStore.open(path.join(dir, 'store.bin'), options({ durable }))
      return { put: (k, v) => s.write(k, v), settled: () => {}, close: () => s.close() }
    },
    async batch(dir, keys, vals) {
      const { DataStore } = await loadOurs()
      const s = DataStore.open(path.join(dir, 'store.bin'), options({}))
      const pairs = keys.map((k, i) => [k, vals[i]])
      const ms = timed(1, () => s.batchWrite(pairs))
      s.close()
      return ms
    },
    async populate(dir, keys, vals) {
      const { DataStore } = await loadOurs()
      const s = DataStore.open(path.join(dir, 'store.bin'), options({}))
      for (let i = 0; i < keys.length; i += 100_000) {
        const end = Math.min(keys.length, i + 100_000)
        const pairs = []
        for (let j = i; j < end; j++) pairs.push([keys[j], vals[j]])
        s.batchWrite(pairs)
      }
      s.close()
    },
    async reopener() {
      const { DataStore } = await loadOurs()
      return (dir) => {
        const s = DataStore.open(path.join(dir, 'store.bin'), options({}))
        return { get: (k) => s.read(k).bytes, close: () => s.close() }
      }
    },
  })
}

const ours = oursEngine('ours', {})
const oursExclusive = oursEngine('ours-exclusive', { exclusive: true })
const oursKeys = oursEngine('ours-keys', { keys: true })

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

const lmdb = rows({
  name: 'lmdb',
  same: sameBytes,
  async open(dir, mode) {
    const db = await openLmdb(dir, mode === 'cache' ? { noSync: true } : {})
    return {
      put: (k, v) => db.putSync(k, v),
      get: (k) => db.getBinaryFast(k),
      close: () => db.close(),
    }
  },
  async openAsync(dir, durable) {
    const db = await openLmdb(dir, durable ? {} : { noSync: true })
    return { put: (k, v) => db.put(k, v), settled: () => (durable ? db.flushed : undefined), close: () => db.close() }
  },
  async batch(dir, keys, vals) {
    const db = await openLmdb(dir, { noSync: true })
    const n = keys.length
    const ms = timed(1, () =>
      db.transactionSync(() => {
        for (let i = 0; i < n; i++) db.putSync(keys[i], vals[i])
      }),
    )
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
  async reopener() {
    const { open } = await import('lmdb')
    return (dir) => {
      const db = open({ path: path.join(dir, 'db'), encoding: 'binary' })
      return { get: (k) => db.getBinaryFast(k), close: () => db.close() }
    }
  },
})

// ---------------------------------------------------------------- classic-level

export async function openLevel(dir) {
  const { ClassicLevel } = await import('classic-level')
  const db = new ClassicLevel(path.join(dir, 'level'), { keyEncoding: 'utf8', valueEncoding: 'buffer' })
  await db.open()
  return db
}

const level = rows({
  name: 'classic-level',
  // No putSync in classic-level: each put is awaited before the next.
  awaitPut: true,
  async open(dir, mode) {
    const db = await openLevel(dir)
    const opts = { sync: mode === 'durable' }
    return { put: (k, v) => db.put(k, v, opts), get: (k) => db.getSync(k), close: () => db.close() }
  },
  async openAsync(dir, durable) {
    const db = await openLevel(dir)
    const opts = { sync: durable }
    return { put: (k, v) => db.put(k, v, opts), settled: () => {}, close: () => db.close() }
  },
  async batch(dir, keys, vals) {
    const db = await openLevel(dir)
    const ops = keys.map((key, i) => ({ type: 'put', key, value: vals[i] }))
    const ms = await timedAwait(1, () => db.batch(ops))
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
  async reopener() {
    const { ClassicLevel } = await import('classic-level')
    return async (dir) => {
      const db = new ClassicLevel(path.join(dir, 'level'), { keyEncoding: 'utf8', valueEncoding: 'buffer' })
      await db.open()
      return { get: (k) => db.getSync(k), close: () => db.close() }
    }
  },
})

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

const sqlite = rows({
  name: 'better-sqlite3',
  async open(dir, mode) {
    const db = await openSqlite(dir, mode === 'durable' ? 'FULL' : 'OFF')
    const put = db.prepare('INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)')
    const get = db.prepare('SELECT v FROM kv WHERE k = ?').pluck()
    return { put: (k, v) => put.run(k, v), get: (k) => get.get(k), close: () => db.close() }
  },
  openAsync: null,
  async batch(dir, keys, vals) {
    const db = await openSqlite(dir, 'OFF')
    const put = db.prepare('INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)')
    const n = keys.length
    const all = db.transaction(() => {
      for (let i = 0; i < n; i++) put.run(keys[i], vals[i])
    })
    const ms = timed(1, all)
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
  async reopener() {
    const { default: Database } = await import('better-sqlite3')
    return (dir) => {
      const db = new Database(path.join(dir, 'kv.sqlite'))
      return { get: (k) => db.prepare('SELECT v FROM kv WHERE k = ?').pluck().get(k), close: () => db.close() }
    }
  },
})

export const ENGINES = { ours, 'ours-exclusive': oursExclusive, 'ours-keys': oursKeys, lmdb, 'classic-level': level, 'better-sqlite3': sqlite }
export const PEERS = ['lmdb', 'classic-level', 'better-sqlite3']
/** Ours opened with {exclusive: true}: measured beside ours in the rows marked `exclusive` (bench/run.mjs). */
export const EXCLUSIVE = 'ours-exclusive'
export const EXCLUSIVE_CALLS = 'the same calls as ours, on a store opened with {exclusive: true} (single-process mode: no shared page, no lock per write)'
/** Ours opened with {keys: true}: measured beside ours in the rows marked `keys` (bench/run.mjs). */
export const KEYS = 'ours-keys'
export const KEYS_CALLS =
  "the same calls as ours, on a store opened with {keys: true} (each key's bytes recorded in an entry of their own, written in the same append just before the value, so that store.keys() lists them)"

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
