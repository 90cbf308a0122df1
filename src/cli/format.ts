// Text output of the command line: the Rust tool's layouts (the same labels
// and widths, so that a person or a script used to one reads the other) and
// the small parsers it shares with it.

/** Bytes as the Rust tool prints them: `512 bytes`, `10.43 KB`, `1.50 MB`, `2.00 GB` (1,024-based). */
export function formatBytes(bytes: number): string {
  const KB = 1024
  const MB = KB * 1024
  const GB = MB * 1024
  if (bytes >= GB) return `${(bytes / GB).toFixed(2)} GB`
  if (bytes >= MB) return `${(bytes / MB).toFixed(2)} MB`
  if (bytes >= KB) return `${(bytes / KB).toFixed(2)} KB`
  return `${bytes} bytes`
}

/** `formatBytes`, followed by the exact count when it was rounded: `1.21 KB (1,234 bytes)`. */
export function formatBytesExact(bytes: number): string {
  const short = formatBytes(bytes)
  return bytes >= 1024 ? `${short} (${bytes.toLocaleString('en-US')} bytes)` : short
}

/**
 * A buffer size as the Rust tool's `--buffer-size` takes it: digits, then an
 * optional unit `k`/`kb`, `m`/`mb`, `g`/`gb` (any case, 1,024-based).
 * Returns null when the text is not such a size (or is zero).
 */
export function parseSize(text: string): number | null {
  const m = /^(\d+)(k|kb|m|mb|g|gb)?$/.exec(text.trim().toLowerCase())
  if (m === null) return null
  const unit = m[2] === undefined ? 1 : m[2].startsWith('k') ? 1024 : m[2].startsWith('m') ? 1024 ** 2 : 1024 ** 3
  const n = Number(m[1]) * unit
  return Number.isSafeInteger(n) && n > 0 ? n : null
}

/** A line of the Rust tool's tables: the label left-aligned in 25 columns. */
export function row(label: string, value: string): string {
  return `${label.padEnd(25)} ${value}`
}

/** `====== TITLE ======` (50 columns, the title centred as Rust's `{:=^50}` does). */
export function banner(title: string): string {
  const text = ` ${title} `
  const left = Math.floor((50 - text.length) / 2)
  return '='.repeat(Math.max(0, left)) + text + '='.repeat(Math.max(0, 50 - text.length - left))
}

export const RULE = '-'.repeat(50)
export const FOOTER = '='.repeat(50)

/** A path as Rust's `{:?}` prints it (a quoted string). */
export function quoted(text: string): string {
  return JSON.stringify(text)
}

/** The four checksum bytes, little-endian, as Rust prints a `[u8; 4]`. */
export function checksumBytes(checksum: number): string {
  return `[${[0, 8, 16, 24].map((s) => (checksum >>> s) & 0xff).join(', ')}]`
}

/** JSON with bigints as decimal strings (a key hash does not fit a JSON number). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)
}
