// Floors: the least that rows (c) and (h) can cost under this package's
// design, measured on the same data in the same run as the rows themselves,
// so that a missed target comes with a measured bound, not a guess.
//
// - getFloor: a random get reduced to what any read through the engine's
//   index must do: the native `locate` call (key string -> hash -> index
//   slot) and touching the entry (its metadata, then the payload's first
//   byte), with no EntryHandle and no Buffer. It reaches into the package's
//   internals (`native.fastFunctions()`, `views`) on purpose; users never do.
// - asyncFloor: the Promise-per-write contract alone, with no store at all:
//   each write returns `landed.then(pick)` (resolving to its own number) and
//   one Promise settles them all on the next turn of the event loop, as a
//   flush would; the same loop and Promise.all as row (h).

import path from 'node:path'
import { payloadStart, prevOffsetAt } from '../lib/format.js'
import { openLevel, openLmdb } from './engines.mjs'

/**
 * Microseconds per get, each the median of `rounds` rounds of `idx.length`
 * gets, all in this one process, interleaved round by round so that every
 * loop sees the same spells of the machine: lmdb `getBinaryFast` and
 * classic-level `getSync` (as row (c) calls them), our `read` (the row-(c)
 * loop), `touch` (locate + metadata + first payload byte) and `locate`.
 * The three stores in `dir` hold `keys` (populated by the caller).
 */
export async function getFloor(dir, keys, idx, warm, rounds = 3) {
  const { DataStore } = await import('../lib/index.mjs')
  const s = DataStore.open(path.join(dir, 'store.bin'))
  const { locate } = s.native.fastFunctions()
  s.read(keys[0])
  // The view `locate` answers for (as a read takes it: payload buffer, metadata buffer).
  const [payloadBuffer, metaBuffer] = s.native.view()
  const dv = new DataView(metaBuffer)
  const u8 = new Uint8Array(payloadBuffer)
  const db = await openLmdb(dir)
  const level = await openLevel(dir)
  const loops = {
    lmdb: (n) => {
      let acc = 0
      for (let i = 0; i < n; i++) acc += db.getBinaryFast(keys[idx[i]])[0]
      return acc
    },
    level: (n) => {
      let acc = 0
      for (let i = 0; i < n; i++) acc += level.getSync(keys[idx[i]])[0]
      return acc
    },
    read: (n) => {
      let acc = 0
      for (let i = 0; i < n; i++) acc += s.read(keys[idx[i]]).bytes[0]
      return acc
    },
    touch: (n) => {
      let acc = 0
      for (let i = 0; i < n; i++) {
        const m = locate(keys[idx[i]])
        if (m < 0) throw new Error('floor: a key was not located in the current view')
        acc += u8[payloadStart(prevOffsetAt(dv, m))]
      }
      return acc
    },
    locate: (n) => {
      let acc = 0
      for (let i = 0; i < n; i++) acc += locate(keys[idx[i]])
      return acc
    },
  }
  let acc = 0
  for (const f of Object.values(loops)) acc += f(warm)
  const us = Object.fromEntries(Object.keys(loops).map((k) => [k, []]))
  for (let r = 0; r < rounds; r++) {
    for (const [name, f] of Object.entries(loops)) {
      const t = performance.now()
      acc += f(idx.length)
      us[name].push(((performance.now() - t) * 1e3) / idx.length)
    }
  }
  s.close()
  await db.close()
  await level.close()
  const med = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1]
  return Object.fromEntries([...Object.keys(us).map((k) => [`${k}Us`, med(us[k])]), ['acc', acc]])
}

/** Milliseconds for `keys.length` Promise-per-write "writes" and their Promise.all (no store). */
export async function asyncFloor(keys, vals) {
  let land
  const landed = new Promise((resolve) => {
    land = resolve
  })
  let next = 0
  const pick = () => next++
  // Called as a write is: with the key and payload; returns its own Promise.
  const write = (_key, _payload) => landed.then(pick)
  const n = keys.length
  const t = performance.now()
  const ps = new Array(n)
  for (let i = 0; i < n; i++) ps[i] = write(keys[i], vals[i])
  setImmediate(land)
  const tails = await Promise.all(ps)
  const ms = performance.now() - t
  if (tails[n - 1] !== n - 1) throw new Error('floor: promises settled out of order')
  return ms
}
