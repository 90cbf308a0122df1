// The Rust extensions (simd-r-drive-extensions 0.17.5-alpha: TTL, Option,
// directory import) and the crate's helpers, as methods of DataStore,
// AsyncDataStore and EntryHandle. They are installed on the classes'
// prototypes here (src/index.ts imports this module) and typed by declaration
// merging below, so the classes' own files stay free of them.

import type { Readable } from 'node:stream'
import fs = require('node:fs')
import { DataStore } from '../store'
import { AsyncDataStore } from '../async'
import { EntryHandle, metadataOf, type EntryMetadata } from '../handle'
import type { Key, ReadOptions } from '../traits'
import type { ExtValue, ValueType } from './bitcode'
import {
  type OptionReadOptions,
  type TtlReadOptions,
  type TtlWriteOptions,
  type ValueOf,
  optionKey,
  optionPayload,
  optionRead,
  ttlKey,
  ttlLeft,
  ttlPayload,
  ttlRead,
} from './values'
import { type FileImportOptions, type ImportReport, fileChunks, fileKey, isRefusedPayload, startImport } from './files'

export { computeChecksum, computeHashBatch } from './helpers'
export type { ExtValue, ValueType } from './bitcode'
export type { OptionReadOptions, TtlReadOptions, TtlWriteOptions } from './values'
export type { FileImportOptions, ImportReport, ImportedFile, SkippedFile } from './files'

type Value = string | Buffer | bigint

declare module '../store' {
  interface DataStore {
    /**
     * Writes `value` (a string, bytes, or a u64 as a bigint or number) to expire
     * `ttlSeconds` from now, as the crate's `write_with_ttl`. Returns the tail.
     */
    writeWithTtl(key: Key, value: ExtValue, ttlSeconds: number | bigint, options?: TtlWriteOptions): number
    /**
     * The value of a TTL entry, read as `options.as` says; null when absent or
     * expired. An expired entry is deleted (a tombstone), as the crate does.
     */
    readWithTtl<T extends ValueType | undefined = undefined>(key: Key, options?: TtlReadOptions & { as?: T }): ValueOf<T> | null
    /** Seconds left before a TTL entry expires (0n: expired), or null when absent. Reads only. */
    ttlRemaining(key: Key, options?: { now?: number | bigint }): bigint | null
    /** Writes `Some(value)`, or None for `null`, as the crate's `write_option`. Returns the tail. */
    writeOption(key: Key, value: ExtValue | null): number
    /** `Some` as its value, None as `null`, an absent key as `undefined`. */
    readOption<T extends ValueType | undefined = undefined>(key: Key, options?: OptionReadOptions & { as?: T }): ValueOf<T> | null | undefined
    /** Imports every regular file under `dir`, keyed by its '/'-separated relative path (see the README). */
    importDir(dir: string, options?: FileImportOptions): ImportReport
    /** The entry of an imported file, by its relative path (and namespace). */
    readFileEntry(path: string, options?: FileImportOptions & ReadOptions): EntryHandle | null
    /** A Readable over an imported file's bytes, or null. */
    openFileStream(path: string, options?: FileImportOptions & ReadOptions): Readable | null
  }
}

declare module '../async' {
  interface AsyncDataStore {
    writeWithTtl(key: Key, value: ExtValue, ttlSeconds: number | bigint, options?: TtlWriteOptions): Promise<number>
    readWithTtl<T extends ValueType | undefined = undefined>(key: Key, options?: TtlReadOptions & { as?: T }): Promise<ValueOf<T> | null>
    ttlRemaining(key: Key, options?: { now?: number | bigint }): Promise<bigint | null>
    writeOption(key: Key, value: ExtValue | null): Promise<number>
    readOption<T extends ValueType | undefined = undefined>(key: Key, options?: OptionReadOptions & { as?: T }): Promise<ValueOf<T> | null | undefined>
    importDir(dir: string, options?: FileImportOptions): Promise<ImportReport>
    readFileEntry(path: string, options?: FileImportOptions & ReadOptions): Promise<EntryHandle | null>
    openFileStream(path: string, options?: FileImportOptions & ReadOptions): Promise<Readable | null>
  }
}

declare module '../handle' {
  interface EntryHandle {
    /** The entry's 20 bytes of metadata: key hash, previous offset, checksum (`EntryHandle::metadata` in Rust). */
    readonly metadata: EntryMetadata
  }
}

function splitReadOptions(options: unknown): [FileImportOptions | undefined, ReadOptions | undefined] {
  if (options === undefined || options === null || typeof options !== 'object') return [options as undefined, undefined]
  const { verify, ...rest } = options as FileImportOptions & ReadOptions
  return [rest, verify === undefined ? undefined : { verify }]
}

/**
 * Deletes an expired TTL entry, as the crate does on read; a store opened
 * read-only cannot, and the read still answers null.
 */
function deleteExpired<T>(del: () => T): T | undefined {
  const readOnly = (err: unknown) => (err as { code?: unknown } | null)?.code === 'ERR_STORE_READ_ONLY'
  try {
    const r = del()
    if (r instanceof Promise) {
      return r.catch((err: unknown) => {
        if (!readOnly(err)) throw err
      }) as T
    }
    return r
  } catch (err) {
    if (!readOnly(err)) throw err
    return undefined
  }
}

function install(proto: object, methods: Record<string, (...args: never[]) => unknown>): void {
  for (const [name, fn] of Object.entries(methods)) {
    Object.defineProperty(proto, name, { value: fn, writable: true, configurable: true, enumerable: false })
  }
}

install(DataStore.prototype, {
  writeWithTtl(this: DataStore, key: Key, value: ExtValue, ttlSeconds: number | bigint, options?: TtlWriteOptions): number {
    return this.write(ttlKey(key), ttlPayload(value, ttlSeconds, options))
  },
  readWithTtl(this: DataStore, key: Key, options?: TtlReadOptions): Value | null {
    const k = ttlKey(key)
    const h = this.read(k)
    if (h === null) return null
    const r = ttlRead(h, options)
    if (!r.expired) return r.value
    deleteExpired(() => this.delete(k))
    return null
  },
  ttlRemaining(this: DataStore, key: Key, options?: { now?: number | bigint }): bigint | null {
    const h = this.read(ttlKey(key))
    return h === null ? null : ttlLeft(h, options?.now)
  },
  writeOption(this: DataStore, key: Key, value: ExtValue | null): number {
    return this.write(optionKey(key), optionPayload(value))
  },
  readOption(this: DataStore, key: Key, options?: OptionReadOptions): Value | null | undefined {
    const h = this.read(optionKey(key))
    return h === null ? undefined : optionRead(h, options)
  },
  importDir(this: DataStore, dir: string, options?: FileImportOptions): ImportReport {
    const { files, report, keyOf } = startImport(dir, options)
    for (const f of files) {
      if (f.size === 0) {
        report.skipped.push({ path: f.rel, reason: 'empty' })
        continue
      }
      const key = keyOf(f.rel)
      try {
        const tail = this.writeStream(key, fileChunks(f.abs))
        report.imported.push({ path: f.rel, key, size: f.size, tail })
      } catch (err) {
        if (!isRefusedPayload(err)) throw err
        report.skipped.push({ path: f.rel, reason: fs.statSync(f.abs).size === 0 ? 'empty' : 'only-zero-bytes' })
      }
    }
    return report
  },
  readFileEntry(this: DataStore, path: string, options?: FileImportOptions & ReadOptions): EntryHandle | null {
    const [ns, read] = splitReadOptions(options)
    return this.read(fileKey(path, ns), read)
  },
  openFileStream(this: DataStore, path: string, options?: FileImportOptions & ReadOptions): Readable | null {
    const [ns, read] = splitReadOptions(options)
    return this.readStream(fileKey(path, ns), read)
  },
})

install(AsyncDataStore.prototype, {
  writeWithTtl(this: AsyncDataStore, key: Key, value: ExtValue, ttlSeconds: number | bigint, options?: TtlWriteOptions): Promise<number> {
    try {
      return this.write(ttlKey(key), ttlPayload(value, ttlSeconds, options))
    } catch (err) {
      return Promise.reject(err)
    }
  },
  async readWithTtl(this: AsyncDataStore, key: Key, options?: TtlReadOptions): Promise<Value | null> {
    const k = ttlKey(key)
    const h = await this.read(k)
    if (h === null) return null
    const r = ttlRead(h, options)
    if (!r.expired) return r.value
    await deleteExpired(() => this.delete(k))
    return null
  },
  async ttlRemaining(this: AsyncDataStore, key: Key, options?: { now?: number | bigint }): Promise<bigint | null> {
    const h = await this.read(ttlKey(key))
    return h === null ? null : ttlLeft(h, options?.now)
  },
  writeOption(this: AsyncDataStore, key: Key, value: ExtValue | null): Promise<number> {
    try {
      return this.write(optionKey(key), optionPayload(value))
    } catch (err) {
      return Promise.reject(err)
    }
  },
  async readOption(this: AsyncDataStore, key: Key, options?: OptionReadOptions): Promise<Value | null | undefined> {
    const h = await this.read(optionKey(key))
    return h === null ? undefined : optionRead(h, options)
  },
  async importDir(this: AsyncDataStore, dir: string, options?: FileImportOptions): Promise<ImportReport> {
    const { files, report, keyOf } = startImport(dir, options)
    for (const f of files) {
      if (f.size === 0) {
        report.skipped.push({ path: f.rel, reason: 'empty' })
        continue
      }
      const key = keyOf(f.rel)
      try {
        const tail = await this.writeStream(key, fs.createReadStream(f.abs, { highWaterMark: 1 << 20 }))
        report.imported.push({ path: f.rel, key, size: f.size, tail })
      } catch (err) {
        if (!isRefusedPayload(err)) throw err
        report.skipped.push({ path: f.rel, reason: (await fs.promises.stat(f.abs)).size === 0 ? 'empty' : 'only-zero-bytes' })
      }
    }
    return report
  },
  async readFileEntry(this: AsyncDataStore, path: string, options?: FileImportOptions & ReadOptions): Promise<EntryHandle | null> {
    const [ns, read] = splitReadOptions(options)
    return this.read(fileKey(path, ns), read)
  },
  async openFileStream(this: AsyncDataStore, path: string, options?: FileImportOptions & ReadOptions): Promise<Readable | null> {
    const [ns, read] = splitReadOptions(options)
    return this.readStream(fileKey(path, ns), read)
  },
})

Object.defineProperty(EntryHandle.prototype, 'metadata', {
  get(this: EntryHandle): EntryMetadata {
    return metadataOf(this) as EntryMetadata
  },
  configurable: true,
  enumerable: false,
})
