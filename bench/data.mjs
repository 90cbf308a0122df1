// Deterministic benchmark data, identical in every worker process (so every
// engine gets the same keys, values and access order).

/** mulberry32: small, fast, seeded 32-bit PRNG. */
export function rng(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (t ^ (t >>> 14)) >>> 0
  }
}

/** `count` random bytes from `seed` (Buffer). */
export function randomBytes(count, seed) {
  const next = rng(seed)
  const buf = Buffer.allocUnsafe(count)
  let i = 0
  for (; i + 4 <= count; i += 4) buf.writeUInt32LE(next(), i)
  for (; i < count; i++) buf[i] = next() & 0xff
  return buf
}

/** Keys `key-<i>` for i in [from, from + n). Short strings, so V8 keeps them flat. */
export function keys(n, from = 0) {
  const out = new Array(n)
  for (let i = 0; i < n; i++) out[i] = 'key-' + (from + i)
  return out
}

/** n random 64-byte values: views into one random buffer (seed fixed). */
export function values(n, size = 64, seed = 0xc0ffee) {
  const all = randomBytes(n * size, seed)
  const out = new Array(n)
  for (let i = 0; i < n; i++) {
    const v = all.subarray(i * size, (i + 1) * size)
    if (v[0] === 0) v[0] = 1 // never the one-byte tombstone pattern, whatever the size
    out[i] = v
  }
  return out
}

/** `count` random indexes in [0, n) (the access order of the random-get rows). */
export function order(count, n, seed = 0xbeef) {
  const next = rng(seed)
  const out = new Uint32Array(count)
  for (let i = 0; i < count; i++) out[i] = next() % n
  return out
}

/** 200 distinct 1 MiB values: windows of one 2 MiB random buffer at 4 KiB steps. */
export function largeValues(count = 200, size = 1 << 20) {
  const base = randomBytes(size + count * 4096, 0x1a46e)
  const out = new Array(count)
  for (let i = 0; i < count; i++) out[i] = base.subarray(i * 4096, i * 4096 + size)
  return out
}
