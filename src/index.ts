import native = require('./native')
import type { Key } from './traits'

export { DataStore } from './store'
export { AsyncDataStore } from './async'
export type { OpenOptions } from './options'
export type { CorruptEntry, RepairReport } from './reports'
export type {
  Key,
  Payload,
  ReadOptions,
  StreamSource,
  WriteStreamOptions,
  DataStoreWriter,
  DataStoreReader,
  AsyncDataStoreWriter,
  AsyncDataStoreReader,
} from './traits'
export { EntryHandle } from './handle'
export type { EntryMetadata } from './handle'
export type { ErrorCode, StoreError } from './errors'
// The Rust extensions (TTL, Option, directory import) and helpers: importing
// ./ext installs their methods on DataStore, AsyncDataStore and EntryHandle.
export { computeChecksum, computeHashBatch } from './ext'
export type {
  ExtValue,
  ValueType,
  TtlReadOptions,
  TtlWriteOptions,
  OptionReadOptions,
  FileImportOptions,
  ImportReport,
  ImportedFile,
  SkippedFile,
} from './ext'

/** XXH3-64 (seed 0) of a key's bytes, equal to the Rust crate's `compute_hash`. */
export function computeHash(key: Key): bigint {
  return native.computeHash(key)
}

/** Namespaced keys: `hash(prefix) ++ hash(key)`, 16 bytes, as the Rust crate's `NamespaceHasher`. */
export const NamespaceHasher = native.NamespaceHasher as unknown as {
  new (prefix: Key): { namespace(key: Key): Buffer }
}
