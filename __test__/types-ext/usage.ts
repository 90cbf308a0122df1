// Typed usage of the extensions' methods (declaration merging in
// src/ext/index.ts), checked by `tsc --noEmit -p __test__/types-ext` from
// __test__/ext.test.mjs. Never run. Each `@ts-expect-error` must fail to type-check.
import { AsyncDataStore, DataStore, EntryMetadata, ImportReport, computeChecksum, computeHashBatch } from '../../lib/index.js'

export async function usage(s: DataStore, a: AsyncDataStore): Promise<void> {
  const tail: number = s.writeWithTtl('k', 'v', 60)
  s.writeWithTtl('k', new Uint8Array([1]), 60n, { now: 1_700_000_000 })
  s.writeWithTtl('k', 42n, 60)
  const str: string | null = s.readWithTtl('k', { as: 'string' })
  const num: bigint | null = s.readWithTtl('k', { as: 'u64', now: 1 })
  const buf: Buffer | null = s.readWithTtl('k')
  const left: bigint | null = s.ttlRemaining('k')
  s.writeOption('o', null)
  s.writeOption('o', 'x')
  const opt: string | null | undefined = s.readOption('o', { as: 'string' })
  const report: ImportReport = s.importDir('dir', { namespace: 'ns' })
  const h = s.readFileEntry('a/b.txt', { namespace: 'ns', verify: true })
  const meta: EntryMetadata | undefined = h?.metadata
  const stream = s.openFileStream('a/b.txt')
  const asyncStr: string | null = await a.readWithTtl('k', { as: 'string' })
  const asyncTail: number = await a.writeOption('o', 1n)
  const asyncReport: ImportReport = await a.importDir('dir')
  const sum: number = computeChecksum(new Uint8Array(4))
  const hashes: bigint[] = computeHashBatch(['a', new Uint8Array(1)])
  void [tail, str, num, buf, left, opt, report, meta, stream, asyncStr, asyncTail, asyncReport, sum, hashes]

  // @ts-expect-error a value is a string, bytes or an integer
  s.writeWithTtl('k', { a: 1 }, 60)
  // @ts-expect-error the TTL is a number of seconds
  s.writeWithTtl('k', 'v', '60')
  // @ts-expect-error as 'string' reads a string, not a Buffer
  const wrong: Buffer | null = s.readWithTtl('k', { as: 'string' })
  // @ts-expect-error no such value type
  s.readOption('o', { as: 'json' })
  // @ts-expect-error undefined is not None (null is)
  s.writeOption('o', undefined)
  // @ts-expect-error the async store returns Promises
  const notAwaited: number = a.writeWithTtl('k', 'v', 1)
  void [wrong, notAwaited]
}
