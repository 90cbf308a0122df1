import { codedError, typeError } from './errors'
import type { NativeOpenOptions } from '../index'
import type { ReadOptions } from './traits'

/**
 * Checks an options argument: `undefined`/`null` (none), or an object whose
 * own keys are all in `known` and whose boolean options are booleans. A
 * typo (`{ readonly: true }`) or an option this call does not have is an
 * ERR_INVALID_ARG_VALUE naming it, never silently ignored.
 */
export function checkOptionNames<T extends object>(options: unknown, what: string, known: readonly string[], booleans: readonly string[] = []): T | undefined {
  if (options === undefined || options === null) return undefined
  if (typeof options !== 'object' || Array.isArray(options)) throw typeError(`${what} must be an object`)
  for (const name of Object.keys(options)) {
    if (!known.includes(name)) {
      throw codedError('ERR_INVALID_ARG_VALUE', `unknown option ${JSON.stringify(name)} in ${what} (known: ${known.join(', ')})`)
    }
  }
  for (const name of booleans) {
    const v = (options as Record<string, unknown>)[name]
    if (v !== undefined && typeof v !== 'boolean') throw typeError(`option ${JSON.stringify(name)} in ${what} must be a boolean`)
  }
  return options as T
}

export interface OpenOptions {
  /**
   * Rebuild a damaged file instead of failing with ERR_CORRUPT_STORE (damage
   * in the middle) or ERR_NOT_A_STORE (no valid entry at all): every entry
   * before the damage and every entry past it that proves itself whole
   * (checksum) is kept, the damaged file is kept beside the store as
   * `<file>.corrupt-<ms>`, and `store.repairReport` says what was dropped.
   */
  repair?: boolean
  /** fsync every write or batch before it returns. */
  durable?: boolean
  /** Check the checksum of every payload read (ERR_CHECKSUM_MISMATCH on a mismatch). */
  verifyReads?: boolean
  /**
   * Open without asking for write access (a file mode 0444, owned by
   * another user, on read-only media): nothing is created or cut, every
   * writer method throws or rejects ERR_STORE_READ_ONLY, and the writes of
   * other processes are followed where the store's `.shm` page can be read.
   */
  readOnly?: boolean
  /**
   * Keep every other process out while open (they get ERR_STORE_LOCKED),
   * as a single-process store: no shared page, no lock per write.
   */
  exclusive?: boolean
  /**
   * Record the bytes of every key written by key (in the store file, in the
   * same append as the value), so that `keys()` lists them and `entries()`
   * gives each entry's `key`. The records are hidden from `len()`,
   * iteration and `exists`; the Rust crate reads them as ordinary entries.
   */
  keys?: boolean
}

const OPEN_OPTIONS = ['repair', 'durable', 'verifyReads', 'readOnly', 'exclusive', 'keys'] as const

export function checkPath(path: unknown): string {
  if (typeof path !== 'string') throw typeError('path must be a string')
  if (path.length === 0) throw codedError('ERR_INVALID_ARG_VALUE', 'path must not be empty')
  return path
}

export function checkOptions(options: unknown): OpenOptions {
  return checkOptionNames<OpenOptions>(options, 'open options', OPEN_OPTIONS, OPEN_OPTIONS) ?? {}
}

/** What the engine is opened with (`verifyReads` is this layer's own). */
export function nativeOptions(options: OpenOptions, create: boolean): NativeOpenOptions {
  const readOnly = options.readOnly === true
  return {
    create: create && !readOnly,
    repair: options.repair === true,
    durable: options.durable === true,
    exclusive: options.exclusive === true,
    readOnly,
    keys: options.keys === true,
  }
}

/** Options of `keys()`: a byte prefix the keys listed start with. */
export interface KeysOptions {
  prefix?: string | ArrayBufferView | ArrayBuffer
}

export function checkKeysOptions(options: unknown): KeysOptions {
  return checkOptionNames<KeysOptions>(options, 'keys options', ['prefix']) ?? {}
}

export function checkReadOptions(options: unknown): ReadOptions | undefined {
  return checkOptionNames<ReadOptions>(options, 'read options', ['verify'], ['verify'])
}

export function checkReadStreamOptions(options: unknown): (ReadOptions & { highWaterMark?: number }) | undefined {
  return checkOptionNames(options, 'readStream options', ['verify', 'highWaterMark'], ['verify'])
}
