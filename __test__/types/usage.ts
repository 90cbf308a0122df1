// A typed usage example of the whole public surface, checked by
// `tsc --noEmit -p __test__/types` (see __test__/types.test.mjs). Never run.
// Every `@ts-expect-error` line must fail to type-check: tsc reports an unused
// directive otherwise, so they prove the declarations are enforced.
import { Readable } from 'node:stream'
import {
  AsyncDataStore,
  DataStore,
  EntryHandle,
  NamespaceHasher,
  computeHash,
} from '../../lib/index.js'
import type {
  AsyncDataStoreReader,
  AsyncDataStoreWriter,
  CorruptEntry,
  DataStoreReader,
  DataStoreWriter,
  EntryMetadata,
  ErrorCode,
  Key,
  OpenOptions,
  Payload,
  ReadOptions,
  StoreError,
  StreamSource,
  WriteStreamOptions,
} from '../../lib/index.js'

/** Compile-time type equality. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
function assertType<T extends true>(): void {}
function expectType<T>(_value: T): void {}

// ---- keys, payloads, hashes ------------------------------------------------------

const keys: Key[] = ['text', new Uint8Array([1, 2]), Buffer.from('buf')]
const payloads: Payload[] = ['text', new Uint8Array([1]), Buffer.alloc(3, 1)]
const hash: bigint = computeHash('text')
expectType<bigint>(computeHash(new Uint8Array([1])))
const ns = new NamespaceHasher('users')
const nsKey: Buffer = ns.namespace('alice')
assertType<Equal<ReturnType<typeof computeHash>, bigint>>()

// @ts-expect-error a key is a string or Uint8Array, never a number
computeHash(42)

// ---- the sync store ------------------------------------------------------------------

function syncUsage(path: string): void {
  const options: OpenOptions = { durable: true, repair: false, verifyReads: true }
  const s: DataStore = DataStore.open(path, options)
  const t: DataStore = DataStore.openExisting(path + '.2')

  const tails: number[] = [
    s.write('k', 'v'),
    s.write(nsKey, payloads[1]),
    s.writeWithKeyHash(hash, 'v'),
    s.batchWrite([
      ['a', 'x'],
      [new Uint8Array([1]), Buffer.from('y')],
    ]),
    s.batchWriteWithKeyHashes([[1n, 'x']], true),
    s.writeStream('stream', [Buffer.from('a'), new Uint8Array([2])]),
    s.writeStreamWithKeyHash(2n, new Set([Buffer.from('b')])),
    s.rename('a', 'b'),
    s.copy('k', t),
    s.transfer('k', t),
    s.delete('b'),
    s.batchDelete(keys),
    s.batchDeleteKeyHashes([1n, 2n]),
  ]
  void tails
  s.sync()

  const e: boolean = s.exists('k') && s.existsWithKeyHash(hash)
  const h: EntryHandle | null = s.read('k', { verify: true })
  if (h !== null) handleUsage(h)
  // @ts-expect-error read() may return null
  s.read('k').size
  expectType<EntryHandle | null>(s.readWithKeyHash(hash))
  expectType<EntryHandle | null>(s.readLastEntry())
  expectType<Array<EntryHandle | null>>(s.batchRead(['a', 'b']))
  expectType<Array<EntryHandle | null>>(s.batchReadHashedKeys([hash], ['text']))
  const meta: EntryMetadata | null = s.readMetadata('k')
  const rs: Readable | null = s.readStream('k', { highWaterMark: 1024 })
  const n: number = s.len() + s.fileSize() + s.estimateCompactionSavings()
  const empty: boolean = s.isEmpty()
  for (const entry of s) expectType<EntryHandle>(entry)
  for (const entry of s.entries()) expectType<EntryHandle>(entry)
  s.compact()
  const bad: CorruptEntry[] = s.verify()
  const path2: string = s.path
  const closed: boolean = s.closed
  const asyncView: AsyncDataStore = s.async
  s.close()
  void [e, meta, rs, n, empty, bad, path2, closed, asyncView]

  // @ts-expect-error a key is a string or Uint8Array, never a number
  s.write(42, 'v')
  // @ts-expect-error a key hash is a bigint
  s.writeWithKeyHash(1, 'v')
  // @ts-expect-error a payload is a string or Uint8Array
  s.write('k', { not: 'bytes' })
  // @ts-expect-error the sync writeStream takes a sync Iterable only
  s.writeStream('k', Readable.from([Buffer.from('x')]) as AsyncIterable<Uint8Array>)
  // @ts-expect-error sync writers return a tail number, not a Promise
  const notPromise: Promise<number> = s.write('k', 'v')
  // @ts-expect-error the sync store copies into a DataStore, not an AsyncDataStore
  s.copy('k', asyncView)
  // @ts-expect-error batch entries are [key, payload] pairs
  s.batchWrite([['only-a-key']])
  void notPromise
}

function handleUsage(h: EntryHandle): void {
  const keyHash: bigint = h.keyHash
  const numbers: number[] = [h.size, h.fileSize, h.checksum, h.startOffset, h.endOffset, h.prevOffset]
  const bytes: Buffer = h.bytes
  const ok: boolean = h.isValidChecksum()
  const floats = new Float32Array(h.bytes.buffer, h.bytes.byteOffset, h.size / 4)
  // @ts-expect-error handles are read-only
  h.size = 3
  void [keyHash, numbers, bytes, ok, floats]
}

// ---- the async store -------------------------------------------------------------------

async function* generate(): AsyncGenerator<Uint8Array> {
  yield new Uint8Array([1])
}

async function asyncUsage(path: string): Promise<void> {
  const a: AsyncDataStore = await AsyncDataStore.open(path, { durable: true })
  const b: AsyncDataStore = await AsyncDataStore.openExisting(path + '.2')
  const target = DataStore.open(path + '.3')

  const tails: number[] = await Promise.all([
    a.write('k', 'v'),
    a.writeWithKeyHash(hash, new Uint8Array([1])),
    a.batchWrite([['a', 'x']]),
    a.batchWriteWithKeyHashes([[1n, new Uint8Array([0])]], true),
    a.rename('a', 'b'),
    a.copy('k', b),
    a.copy('k', target),
    a.transfer('k', b),
    a.transfer('k', target),
    a.delete('b'),
    a.batchDelete(['x', new Uint8Array([1])]),
    a.batchDeleteKeyHashes([hash]),
  ])
  void tails

  // every kind of stream source, with and without an AbortSignal
  const ac = new AbortController()
  const opts: WriteStreamOptions = { signal: ac.signal }
  const sources: StreamSource[] = [
    Readable.from([Buffer.from('x')]),
    generate(),
    [new Uint8Array([1]), 'text chunk'],
    new ReadableStream<Uint8Array>(),
  ]
  for (const src of sources) expectType<Promise<number>>(a.writeStream('s', src, opts))
  expectType<Promise<number>>(a.writeStreamWithKeyHash(3n, generate()))
  expectType<Promise<number>>(a.writeStream('s', Readable.from(['x'])))

  await a.sync()
  const e: boolean = (await a.exists('k')) && (await a.existsWithKeyHash(hash))
  const ro: ReadOptions = { verify: true }
  const h: EntryHandle | null = await a.read('k', ro)
  if (h) handleUsage(h)
  expectType<EntryHandle | null>(await a.readWithKeyHash(hash))
  expectType<EntryHandle | null>(await a.readLastEntry())
  expectType<Array<EntryHandle | null>>(await a.batchRead(keys))
  expectType<Array<EntryHandle | null>>(await a.batchReadHashedKeys([hash], ['text']))
  const meta: EntryMetadata | null = await a.readMetadata('k')
  const rs: Readable | null = await a.readStream('k', { highWaterMark: 4096, verify: false })
  const n: number = (await a.len()) + (await a.fileSize()) + (await a.estimateCompactionSavings())
  const empty: boolean = await a.isEmpty()
  for await (const entry of a) expectType<EntryHandle>(entry)
  for await (const entry of a.entries()) expectType<EntryHandle>(entry)
  await a.compact()
  const bad: CorruptEntry[] = await a.verify()
  const closed: boolean = a.closed
  const p: string = a.path
  void [e, meta, rs, n, empty, bad, closed, p]

  // @ts-expect-error a key is a string or Uint8Array, never a number
  await a.write(42, 'v')
  // @ts-expect-error async writers resolve to a number, not a string
  const s: string = await a.write('k', 'v')
  // @ts-expect-error async results are Promises
  const notNumber: number = a.len()
  // @ts-expect-error a stream source is not a plain string
  await a.writeStream('k', 42)
  // @ts-expect-error the signal must be an AbortSignal
  await a.writeStream('k', generate(), { signal: 'stop' })
  // @ts-expect-error read() may resolve to null
  ;(await a.read('k')).bytes
  void [s, notNumber]

  await a.close()
  await b[Symbol.asyncDispose]()
  {
    await using disposable = await AsyncDataStore.open(path + '.4')
    await disposable.write('k', 'v')
  }
}

// ---- the trait interfaces ------------------------------------------------------------------

/** Code written against the traits accepts both faces of a store. */
async function copyAll(
  from: AsyncDataStoreReader,
  to: AsyncDataStoreWriter<AsyncDataStore | DataStore>,
  keysToCopy: readonly Key[],
): Promise<number> {
  const handles = await from.batchRead(keysToCopy)
  const entries = keysToCopy.flatMap((k, i): Array<[Key, Payload]> => {
    const h = handles[i]
    return h === null ? [] : [[k, h.bytes]]
  })
  return to.batchWrite(entries)
}

function syncCount(r: DataStoreReader, w: DataStoreWriter<DataStore>): number {
  return r.len() + w.write('k', 'v')
}

async function traits(s: DataStore, a: AsyncDataStore): Promise<void> {
  expectType<number>(await copyAll(a, a, ['k']))
  expectType<number>(await copyAll(s.async, a, ['k']))
  expectType<number>(syncCount(s, s))
  // @ts-expect-error a sync DataStore is not an async reader
  await copyAll(s, a, ['k'])
  // @ts-expect-error an AsyncDataStore is not a sync writer
  syncCount(s, a)
  assertType<Equal<ReturnType<AsyncDataStore['write']>, Promise<number>>>()
  assertType<Equal<ReturnType<DataStore['write']>, number>>()
  assertType<Equal<Awaited<ReturnType<AsyncDataStore['read']>>, ReturnType<DataStore['read']>>>()
  assertType<Equal<Awaited<ReturnType<AsyncDataStore['batchRead']>>, ReturnType<DataStore['batchRead']>>>()
  assertType<Equal<Awaited<ReturnType<AsyncDataStore['readMetadata']>>, ReturnType<DataStore['readMetadata']>>>()
  assertType<Equal<Awaited<ReturnType<AsyncDataStore['verify']>>, ReturnType<DataStore['verify']>>>()
  assertType<Equal<Awaited<ReturnType<AsyncDataStore['readStream']>>, ReturnType<DataStore['readStream']>>>()
}

/** A user's own implementation of the async reader trait (e.g. a cache in front of a store). */
class CachedReader implements AsyncDataStoreReader {
  constructor(private readonly inner: AsyncDataStore) {}
  exists(key: Key) {
    return this.inner.exists(key)
  }
  existsWithKeyHash(keyHash: bigint) {
    return this.inner.existsWithKeyHash(keyHash)
  }
  read(key: Key, options?: ReadOptions) {
    return this.inner.read(key, options)
  }
  readWithKeyHash(keyHash: bigint, options?: ReadOptions) {
    return this.inner.readWithKeyHash(keyHash, options)
  }
  readLastEntry() {
    return this.inner.readLastEntry()
  }
  batchRead(k: ReadonlyArray<Key>) {
    return this.inner.batchRead(k)
  }
  batchReadHashedKeys(hashes: ReadonlyArray<bigint>, k?: ReadonlyArray<Key>) {
    return this.inner.batchReadHashedKeys(hashes, k)
  }
  readMetadata(key: Key) {
    return this.inner.readMetadata(key)
  }
  len() {
    return this.inner.len()
  }
  isEmpty() {
    return this.inner.isEmpty()
  }
  fileSize() {
    return this.inner.fileSize()
  }
}

// ---- errors -------------------------------------------------------------------------------------

const codes: ErrorCode[] = [
  'ENOENT',
  'ERR_INVALID_ARG_TYPE',
  'ERR_INVALID_ARG_VALUE',
  'ERR_KEY_NOT_FOUND',
  'ERR_STORE_CLOSED',
  'ERR_STORE_LOCKED',
  'ERR_HASH_COLLISION',
  'ERR_NOT_A_STORE',
  'ERR_CHECKSUM_MISMATCH',
]

async function errors(a: AsyncDataStore): Promise<ErrorCode | undefined> {
  try {
    await a.rename('absent', 'x')
  } catch (e) {
    const err = e as StoreError
    const code: ErrorCode = err.code
    const message: string = err.message
    if (code === 'ERR_KEY_NOT_FOUND') return code
    void message
  }
  return codes[0]
}

void [syncUsage, asyncUsage, traits, CachedReader, errors]
