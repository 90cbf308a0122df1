// The store file as the tests see it: exactly its entries, up to the tail
// (`fileSize()`), also while the store is open.

import fs from 'node:fs'

/** True when `file` is exactly `tail` bytes long (the entries, nothing past them). */
export function holdsTail(file, tail) {
  return fs.statSync(file).size === tail
}

/** The bytes of `file`, checking that it ends at `tail`. */
export function entriesOf(file, tail) {
  if (!holdsTail(file, tail)) throw new Error(`${file} is not ${tail} bytes long`)
  return fs.readFileSync(file)
}
