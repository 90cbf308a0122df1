// Deterministic payloads for the crash, damage and concurrency tests: the
// bytes of a value are a function of (key, version) alone, and start with a
// readable header `key:version:` so a reader can tell which write an entry
// came from and recompute its exact bytes.

/** FNV-1a of a string, as a uint32 seed. */
export function seedOf(text) {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h || 1
}

/** A xorshift32 generator. */
export function rng(seed) {
  let x = seed >>> 0 || 1
  return () => {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    return x
  }
}

/**
 * Payload length for (key, version): mostly small, some medium, a few past
 * the 4 KiB direct-checksum limit of recovery; with `huge`, rarely past the
 * engine's 1 MiB direct-write threshold (an entry written in several syscalls);
 * with `small`, lengths for compact stores (mostly under 30 bytes).
 */
export function payloadLength(key, version, { huge = false, small = false } = {}) {
  const r = rng(seedOf(`${key}#${version}#len`))
  const a = r() % 10000
  if (small) {
    // Compact stores (damage tests): mostly tiny; keys named big* past 4 KiB.
    if (key.startsWith('big')) return 4097 + (r() % 1500)
    if (a < 8800) return 1 + (r() % 30)
    return 31 + (r() % 270)
  }
  if (huge && a < 2) return (1 << 20) + (r() % 300000)
  if (a < 7000) return 1 + (r() % 100)
  if (a < 9500) return 100 + (r() % 1900)
  return 2000 + (r() % 68000)
}

/** The exact payload of write `version` of `key`. */
export function payloadFor(key, version, opts) {
  const header = Buffer.from(`${key}:${version}:`, 'latin1')
  const len = header.length + payloadLength(key, version, opts)
  const buf = Buffer.allocUnsafe(len)
  header.copy(buf, 0)
  const r = rng(seedOf(`${key}#${version}`))
  let i = header.length
  for (; i + 4 <= len; i += 4) buf.writeUInt32LE(r(), i)
  for (; i < len; i++) buf[i] = r() & 0xff
  return buf
}

/**
 * Parses the header of a payload: `{ key, version }`, or null if it has none.
 */
export function parsePayload(bytes) {
  const max = Math.min(bytes.length, 200)
  const first = bytes.indexOf(0x3a) // ':'
  if (first <= 0 || first >= max) return null
  const second = bytes.indexOf(0x3a, first + 1)
  if (second <= first + 1 || second >= max) return null
  const key = bytes.toString('latin1', 0, first)
  const version = Number(bytes.toString('latin1', first + 1, second))
  if (!Number.isSafeInteger(version)) return null
  return { key, version }
}

/** True when `bytes` is exactly the payload of its own header's write. */
export function isExactPayload(bytes, opts) {
  const h = parsePayload(bytes)
  if (h === null) return false
  return Buffer.compare(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length), payloadFor(h.key, h.version, opts)) === 0
}
