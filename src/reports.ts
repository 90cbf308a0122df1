// What `verify()` and `{ repair: true }` report, shared by both stores.

/** What `{ repair: true }` did to a damaged file (see `DataStore.repairReport`). */
export type RepairReport = import('../index').RepairReport

/** A live entry whose checksum does not match its payload. */
export interface CorruptEntry {
  keyHash: bigint
  /** Offset of the entry's metadata in the file. */
  offset: number
}

/** The native `verify` answer, `[keyHash, offset]` pairs, as CorruptEntry objects. */
export function corruptEntries(pairs: Array<[bigint, number]>): CorruptEntry[] {
  return pairs.map(([keyHash, offset]) => ({ keyHash, offset }))
}
