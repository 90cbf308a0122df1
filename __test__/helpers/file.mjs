// The store file while a store is open: its entries up to the tail
// (`fileSize()`), then zeros (space allocated ahead of the tail, trimmed
// away when the store closes).

import fs from 'node:fs'

/** True when `file` holds `tail` bytes of entries followed only by zeros. */
export function holdsTail(file, tail) {
  const bytes = fs.readFileSync(file)
  if (bytes.length < tail) return false
  for (let i = tail; i < bytes.length; i++) if (bytes[i] !== 0) return false
  return true
}

/** The first `tail` bytes of `file` (the entries), checking that only zeros follow. */
export function entriesOf(file, tail) {
  if (!holdsTail(file, tail)) throw new Error(`${file} does not hold ${tail} bytes of entries followed by zeros`)
  return fs.readFileSync(file).subarray(0, tail)
}
