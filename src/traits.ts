import type { EntryHandle, EntryMetadata } from './handle'

/** A key or payload: a string stands for its UTF-8 bytes. */
/** A key: a string (its UTF-8 bytes), or the bytes any TypedArray, DataView or ArrayBuffer views. */
export type Key = string | ArrayBufferView | ArrayBuffer
/** A payload, likewise (binary payloads are viewed, not copied, on the sync path). */
export type Payload = string | ArrayBufferView | ArrayBuffer

export interface ReadOptions {
  /** Check this payload's checksum (ERR_CHECKSUM_MISMATCH on a mismatch). */
  verify?: boolean
}

/** A source for the async `writeStream`. */
export type StreamSource =
  | AsyncIterable<Uint8Array | string>
  | Iterable<Uint8Array | string>
  | ReadableStream<Uint8Array>

export interface WriteStreamOptions {
  /** Aborting stops the stream: nothing of it is written, the Promise rejects with an AbortError. */
  signal?: AbortSignal
}

/** The writer trait of the Rust crate (`DataStoreWriter`). Every method returns the tail after it. */
export interface DataStoreWriter<Target> {
  write(key: Key, payload: Payload): number
  writeWithKeyHash(keyHash: bigint, payload: Payload): number
  batchWrite(entries: ReadonlyArray<readonly [Key, Payload]>): number
  batchWriteWithKeyHashes(entries: ReadonlyArray<readonly [bigint, Payload]>, allowNullBytes?: boolean): number
  writeStream(key: Key, source: Iterable<Uint8Array>): number
  writeStreamWithKeyHash(keyHash: bigint, source: Iterable<Uint8Array>): number
  rename(oldKey: Key, newKey: Key): number
  copy(key: Key, target: Target): number
  transfer(key: Key, target: Target): number
  delete(key: Key): number
  batchDelete(keys: ReadonlyArray<Key>): number
  batchDeleteKeyHashes(keyHashes: ReadonlyArray<bigint>): number
}

/** The reader trait of the Rust crate (`DataStoreReader`). */
export interface DataStoreReader {
  exists(key: Key): boolean
  existsWithKeyHash(keyHash: bigint): boolean
  read(key: Key, options?: ReadOptions): EntryHandle | null
  readWithKeyHash(keyHash: bigint, options?: ReadOptions): EntryHandle | null
  readLastEntry(): EntryHandle | null
  batchRead(keys: ReadonlyArray<Key>): Array<EntryHandle | null>
  batchReadHashedKeys(keyHashes: ReadonlyArray<bigint>, keys?: ReadonlyArray<Key>): Array<EntryHandle | null>
  readMetadata(key: Key): EntryMetadata | null
  len(): number
  isEmpty(): boolean
  fileSize(): number
}

/** The async writer trait (`AsyncDataStoreWriter`): the same methods, each returning a Promise. */
export interface AsyncDataStoreWriter<Target> {
  write(key: Key, payload: Payload): Promise<number>
  writeWithKeyHash(keyHash: bigint, payload: Payload): Promise<number>
  batchWrite(entries: ReadonlyArray<readonly [Key, Payload]>): Promise<number>
  batchWriteWithKeyHashes(entries: ReadonlyArray<readonly [bigint, Payload]>, allowNullBytes?: boolean): Promise<number>
  writeStream(key: Key, source: StreamSource, options?: WriteStreamOptions): Promise<number>
  writeStreamWithKeyHash(keyHash: bigint, source: StreamSource, options?: WriteStreamOptions): Promise<number>
  rename(oldKey: Key, newKey: Key): Promise<number>
  copy(key: Key, target: Target): Promise<number>
  transfer(key: Key, target: Target): Promise<number>
  delete(key: Key): Promise<number>
  batchDelete(keys: ReadonlyArray<Key>): Promise<number>
  batchDeleteKeyHashes(keyHashes: ReadonlyArray<bigint>): Promise<number>
}

/** The async reader trait (`AsyncDataStoreReader`). */
export interface AsyncDataStoreReader {
  exists(key: Key): Promise<boolean>
  existsWithKeyHash(keyHash: bigint): Promise<boolean>
  read(key: Key, options?: ReadOptions): Promise<EntryHandle | null>
  readWithKeyHash(keyHash: bigint, options?: ReadOptions): Promise<EntryHandle | null>
  readLastEntry(): Promise<EntryHandle | null>
  batchRead(keys: ReadonlyArray<Key>): Promise<Array<EntryHandle | null>>
  batchReadHashedKeys(keyHashes: ReadonlyArray<bigint>, keys?: ReadonlyArray<Key>): Promise<Array<EntryHandle | null>>
  readMetadata(key: Key): Promise<EntryMetadata | null>
  len(): Promise<number>
  isEmpty(): Promise<boolean>
  fileSize(): Promise<number>
}
