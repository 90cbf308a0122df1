// The commands of `simd-r-drive <store> <command>`. The Rust tool's commands
// (read, write, copy, move, rename, delete, compact, info, metadata) keep its
// output; verify, import and repair are ours. Each returns its exit code or
// throws (errors.ts prints the error).
import fs = require('node:fs')
import path = require('node:path')
import { once } from 'node:events'
// From the package entry: it loads the async face too (`store.async`).
import { DataStore } from '../index'
import type { EntryHandle } from '../handle'
import { CliError, keyNotFound, usageError } from './errors'
import { FOOTER, RULE, banner, checksumBytes, formatBytesExact, quoted, row, toJson } from './format'
import { bytesProgress } from './progress'

/** What every command gets: the store path, the global flags, and where errors should say they happened. */
export interface Context {
  store: string
  /** Progress bars allowed (a terminal, no CI, no --no-progress). */
  progress: boolean
  /** The file an OS error is about (the store, or a copy/move target). */
  errorPath: string
  /** Aborted on Ctrl-C or SIGTERM, while `interruptible`. */
  signal: AbortSignal
  /**
   * Set by a command while it watches `signal` (a write from stdin, import,
   * verify's progress pass): Ctrl-C then stops it cleanly. Otherwise Ctrl-C
   * ends the process at once, as it would without a handler.
   */
  interruptible: boolean
}

function out(text: string): void {
  process.stdout.write(`${text}\n`)
}

// ---- opening ----

/**
 * Opens the store for a command that only reads: read-only, so it works
 * on a store a server has open, on a file the user may only read, and
 * never creates or cuts anything.
 */
function openForReading(ctx: Context): DataStore {
  ctx.errorPath = ctx.store
  return DataStore.openExisting(ctx.store, { readOnly: true })
}

/** Opens an existing store to change it. */
function openForWriting(ctx: Context): DataStore {
  ctx.errorPath = ctx.store
  return DataStore.openExisting(ctx.store)
}

function withStore<T>(store: DataStore, body: (store: DataStore) => T): T {
  let result: T
  try {
    result = body(store)
  } catch (err) {
    store.close()
    throw err
  }
  if (result instanceof Promise) {
    return result.finally(() => store.close()) as T
  }
  store.close()
  return result
}

// ---- read ----

/** Writes `bytes` to stdout in chunks of `chunk`, waiting for 'drain'. Resolves false if stdout was closed (EPIPE). */
async function writeOut(bytes: Uint8Array, chunk: number): Promise<boolean> {
  const stdout = process.stdout
  let closed = false
  const onError = (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') closed = true
    else throw err
  }
  stdout.on('error', onError)
  try {
    for (let offset = 0; offset < bytes.length && !closed; offset += chunk) {
      const part = bytes.subarray(offset, Math.min(offset + chunk, bytes.length))
      if (!stdout.write(part)) {
        await Promise.race([once(stdout, 'drain'), once(stdout, 'close')])
      }
    }
    if (!closed && stdout.writableNeedDrain) await Promise.race([once(stdout, 'drain'), once(stdout, 'close')])
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPIPE') throw err
    closed = true
  } finally {
    stdout.off('error', onError)
  }
  return !closed
}

export async function read(ctx: Context, key: string, bufferSize: number): Promise<number> {
  const store = openForReading(ctx)
  try {
    const handle = store.read(key)
    if (handle === null) throw keyNotFound(key)
    // The payload is a view of the mapped file: written out in slices, never copied whole.
    const whole = await writeOut(handle.bytes, bufferSize)
    // On a terminal, text with a trailing newline, as the Rust tool prints it.
    if (whole && process.stdout.isTTY === true) process.stdout.write('\n')
    return 0
  } finally {
    store.close()
  }
}

// ---- write ----

/** stdin's size when it is a regular file (`< file`), for the progress bar's total. */
function stdinSize(): number | undefined {
  try {
    const st = fs.fstatSync(0)
    return st.isFile() ? st.size : undefined
  } catch {
    return undefined
  }
}

async function* counted(source: AsyncIterable<Uint8Array>, add: (n: number) => void): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    add(chunk.length)
    yield chunk
  }
}

export async function write(ctx: Context, key: string, value: string | undefined): Promise<number> {
  if (value === undefined && process.stdin.isTTY === true && process.env.FORCE_NO_TTY === undefined) {
    throw usageError('no value given and stdin is a terminal: pass the value as an argument, or pipe it in (cat file | simd-r-drive <store> write <key>)')
  }
  ctx.errorPath = ctx.store
  // As the Rust tool: `write` creates the store if it is missing.
  const store = DataStore.open(ctx.store)
  try {
    if (value !== undefined) {
      store.write(key, value)
    } else {
      const progress = bytesProgress(ctx.progress, 'write', stdinSize())
      ctx.interruptible = true
      try {
        // Streamed: spooled by the library (bounded memory) and appended as one
        // entry when stdin ends. Ctrl-C aborts it: nothing of it is written.
        await store.async.writeStream(key, counted(process.stdin, (n) => progress.add(n)), { signal: ctx.signal })
      } finally {
        progress.stop()
      }
    }
  } finally {
    store.close()
  }
  out(`Stored '${key}'`)
  return 0
}

// ---- copy, move, rename, delete ----

function transferTo(ctx: Context, key: string, target: string, move: boolean): number {
  const source = openForWriting(ctx)
  return withStore(source, () => {
    // Checked before the target is opened: a missing key creates no empty target file.
    if (!source.exists(key)) throw keyNotFound(key)
    ctx.errorPath = target
    const targetStore = DataStore.open(target)
    withStore(targetStore, () => {
      ctx.errorPath = ctx.store
      if (move) source.transfer(key, targetStore)
      else source.copy(key, targetStore)
    })
    out(`${move ? 'Moved' : 'Copied'} key '${key}' to ${quoted(target)}`)
    return 0
  })
}

export function copy(ctx: Context, key: string, target: string): number {
  return transferTo(ctx, key, target, false)
}

export function move(ctx: Context, key: string, target: string): number {
  return transferTo(ctx, key, target, true)
}

export function rename(ctx: Context, oldKey: string, newKey: string): number {
  const store = openForWriting(ctx)
  return withStore(store, () => {
    if (!store.exists(oldKey)) throw keyNotFound(oldKey)
    store.rename(oldKey, newKey)
    out(`Renamed key '${oldKey}' to ${newKey}`)
    return 0
  })
}

export function del(ctx: Context, key: string, force: boolean): number {
  const store = openForWriting(ctx)
  return withStore(store, () => {
    if (!store.exists(key)) {
      if (force) return 0
      throw keyNotFound(key)
    }
    store.delete(key)
    out(`Deleted key '${key}'`)
    return 0
  })
}

// ---- compact ----

/**
 * The engine writes the compacted file beside the store as `<store>.compact`
 * and renames it over the store at the end; its growing size against the
 * exact size it will have is the progress of `compact`.
 */
function compactTempPath(storePath: string): string {
  return `${storePath}.compact`
}

export async function compact(ctx: Context): Promise<number> {
  const store = openForWriting(ctx)
  try {
    // The library refuses (ERR_CHECKSUM_MISMATCH, nothing changed) when a live
    // payload fails its checksum: the copy would carry a fresh, valid one.
    const before = store.fileSize()
    const frees = store.estimateCompactionSavings()
    out('Starting compaction...')
    const progress = bytesProgress(ctx.progress, 'compact', before - frees)
    const temp = compactTempPath(store.path)
    const timer = setInterval(() => {
      try {
        progress.set(fs.statSync(temp).size)
      } catch {
        // not created yet, or already renamed over the store
      }
    }, 100)
    try {
      await store.async.compact()
      progress.set(before - frees)
    } finally {
      clearInterval(timer)
      progress.stop()
    }
    const after = store.fileSize()
    out('Compaction completed successfully.')
    out(`${formatBytesExact(before)} -> ${formatBytesExact(after)}: freed ${formatBytesExact(before - after)}`)
    return 0
  } finally {
    store.close()
  }
}

// ---- info, metadata ----

export function info(ctx: Context, json: boolean): number {
  const store = openForReading(ctx)
  return withStore(store, () => {
    const fileSize = store.fileSize()
    const liveEntries = store.len()
    const compactionSavings = store.estimateCompactionSavings()
    if (json) {
      out(toJson({ path: ctx.store, fileSize, liveEntries, compactionSavings }))
      return 0
    }
    out('')
    out(banner('STORAGE INFO'))
    out(row('STORAGE FILE:', quoted(ctx.store)))
    out(RULE)
    out(row('TOTAL SIZE:', formatBytesExact(fileSize)))
    out(row('ACTIVE ENTRIES:', String(liveEntries)))
    out(row('COMPACTION SAVINGS:', formatBytesExact(compactionSavings)))
    out(FOOTER)
    return 0
  })
}

function metadataJson(key: string, h: EntryHandle) {
  return {
    key,
    size: h.size,
    fileSize: h.fileSize,
    startOffset: h.startOffset,
    endOffset: h.endOffset,
    prevOffset: h.prevOffset,
    keyHash: h.keyHash,
    keyHashHex: `0x${h.keyHash.toString(16).padStart(16, '0')}`,
    checksum: h.checksum,
    checksumValid: h.isValidChecksum(),
  }
}

export function metadata(ctx: Context, key: string, json: boolean): number {
  const store = openForReading(ctx)
  return withStore(store, () => {
    const h = store.read(key)
    if (h === null) throw keyNotFound(key)
    if (json) {
      out(toJson(metadataJson(key, h)))
      return 0
    }
    // The Rust tool's summary, less its MEMORY ADDRESS line (an address in that process only).
    out('')
    out(banner('METADATA SUMMARY'))
    out(row('ENTRY FOR:', `"${key}"`))
    out(RULE)
    out(row('PAYLOAD SIZE:', `${h.size} bytes`))
    out(row('TOTAL SIZE (W/ METADATA):', `${h.fileSize} bytes`))
    out(row('OFFSET RANGE:', `${h.startOffset}..${h.endOffset}`))
    out(row('KEY HASH:', h.keyHash.toString()))
    out(row('CHECKSUM:', String(h.checksum)))
    out(row('CHECKSUM VALIDITY:', h.isValidChecksum() ? 'VALID' : 'INVALID'))
    out(RULE)
    out(
      row(
        'STORED METADATA:',
        `EntryMetadata { key_hash: ${h.keyHash}, prev_offset: ${h.prevOffset}, checksum: ${checksumBytes(h.checksum)} }`,
      ),
    )
    out(FOOTER)
    return 0
  })
}

// ---- verify ----

/**
 * Checks every entry of the file, live or superseded (the library's
 * `verify()`, in parallel on a worker thread). On a terminal the live
 * entries are first checked one by one here, to draw a progress bar (the
 * library's verify reports none); the result is the library's either way.
 */
export async function verify(ctx: Context, json: boolean): Promise<number> {
  const store = openForReading(ctx)
  try {
    if (ctx.progress) {
      let total = 0
      for (const e of store.entries()) total += e.size
      const progress = bytesProgress(true, 'verify', total)
      ctx.interruptible = true
      let sinceYield = 0
      try {
        for (const e of store.entries()) {
          if (ctx.signal.aborted) break
          e.isValidChecksum()
          progress.add(e.size)
          sinceYield += e.size
          if (sinceYield >= 16 << 20) {
            sinceYield = 0
            await new Promise((resolve) => setImmediate(resolve))
          }
        }
      } finally {
        progress.stop()
        ctx.interruptible = false
      }
      if (ctx.signal.aborted) return 130
    }
    const bad = (await store.async.verify()).map(({ keyHash, offset }) => {
      const live = store.readWithKeyHash(keyHash)
      return { keyHash, offset, live: live !== null && live.endOffset === offset }
    })
    const liveEntries = store.len()
    if (json) {
      out(toJson({ path: ctx.store, ok: bad.length === 0, liveEntries, fileSize: store.fileSize(), corrupt: bad }))
    } else if (bad.length === 0) {
      out(`OK: every checksum is valid (${liveEntries} live entr${liveEntries === 1 ? 'y' : 'ies'}, ${formatBytesExact(store.fileSize())})`)
    } else {
      const liveBad = bad.filter((b) => b.live).length
      out(`CORRUPT: ${bad.length} entr${bad.length === 1 ? 'y' : 'ies'} whose checksum does not match (${liveBad} live)`)
      for (const b of bad) {
        out(`  offset ${b.offset}  key hash ${b.keyHash}  ${b.live ? 'live: reading it gives damaged bytes' : 'superseded: compact drops it'}`)
      }
    }
    return bad.length === 0 ? 0 : 1
  } finally {
    store.close()
  }
}

// ---- import ----

interface FileToImport {
  file: string
  key: string
  size: number
}

/** Regular files under `dir` (and symlinks to files; symlinked folders are not followed), sorted, with their keys. */
function walk(dir: string, prefix: string): FileToImport[] {
  const found: FileToImport[] = []
  const visit = (abs: string, rel: string[]) => {
    const names = fs.readdirSync(abs).sort()
    for (const name of names) {
      const full = path.join(abs, name)
      const lst = fs.lstatSync(full)
      if (lst.isDirectory()) {
        visit(full, [...rel, name])
        continue
      }
      let st = lst
      if (lst.isSymbolicLink()) {
        try {
          st = fs.statSync(full)
        } catch {
          continue // a dangling link
        }
      }
      if (!st.isFile()) continue
      found.push({ file: full, key: prefix + [...rel, name].join('/'), size: st.size })
    }
  }
  const st = fs.statSync(dir)
  if (!st.isDirectory()) throw new CliError(`${dir} is not a directory`)
  visit(dir, [])
  return found
}

export async function importDir(ctx: Context, dir: string, prefix: string, json: boolean): Promise<number> {
  ctx.errorPath = ctx.store
  const files = walk(dir, prefix)
  const store = DataStore.open(ctx.store)
  const imported: Array<{ key: string; file: string; size: number }> = []
  const skipped: Array<{ key: string; file: string; reason: string }> = []
  const failed: Array<{ key: string; file: string; error: string }> = []
  const progress = bytesProgress(ctx.progress, 'import', files.reduce((t, f) => t + f.size, 0))
  ctx.interruptible = true
  try {
    for (const f of files) {
      if (ctx.signal.aborted) break
      if (f.size === 0) {
        // The format has no empty values (an empty payload is rejected): an empty file is skipped, and said so.
        skipped.push({ key: f.key, file: f.file, reason: 'empty file (the format stores no empty values)' })
        continue
      }
      try {
        await store.async.writeStream(f.key, counted(fs.createReadStream(f.file), (n) => progress.add(n)), { signal: ctx.signal })
        imported.push({ key: f.key, file: f.file, size: f.size })
      } catch (err) {
        const code = (err as { code?: unknown }).code
        if (code === 'ABORT_ERR') throw err
        if (code === 'ERR_INVALID_ARG_VALUE') {
          // Only 0x00 bytes (or a file emptied since the walk): the format cannot store it.
          skipped.push({ key: f.key, file: f.file, reason: (err as Error).message })
        } else {
          failed.push({ key: f.key, file: f.file, error: (err as Error).message })
        }
      }
    }
  } finally {
    progress.stop()
    store.close()
  }
  const bytes = imported.reduce((t, f) => t + f.size, 0)
  if (json) {
    out(toJson({ store: ctx.store, imported, skipped, failed }))
  } else {
    for (const s of skipped) process.stderr.write(`skipped ${s.file}: ${s.reason}\n`)
    for (const f of failed) process.stderr.write(`failed ${f.file}: ${f.error}\n`)
    out(
      `Imported ${imported.length} file${imported.length === 1 ? '' : 's'} (${formatBytesExact(bytes)}) into ${quoted(ctx.store)}` +
        (skipped.length > 0 ? `; skipped ${skipped.length}` : '') +
        (failed.length > 0 ? `; ${failed.length} failed` : ''),
    )
  }
  return failed.length === 0 ? 0 : 1
}

// ---- repair ----

export function repair(ctx: Context, json: boolean): number {
  ctx.errorPath = ctx.store
  const store = DataStore.openExisting(ctx.store, { repair: true })
  return withStore(store, () => {
    const report = store.repairReport
    if (json) {
      out(toJson({ path: ctx.store, repaired: report !== null, report }))
      return 0
    }
    if (report === null) {
      out(`Nothing to repair: ${quoted(ctx.store)} opens as it is (${store.len()} live entr${store.len() === 1 ? 'y' : 'ies'}).`)
      return 0
    }
    out(`Repaired ${quoted(ctx.store)}.`)
    out(row('BACKUP OF THE DAMAGED FILE:', report.backup))
    out(row('KEPT AS IT WAS:', `${formatBytesExact(report.keptPrefix)} (every entry before the damage)`))
    out(row('SALVAGED PAST THE DAMAGE:', `${report.salvagedEntries} entries`))
    out(row('DROPPED BYTE RANGES:', report.lostRanges.map((r) => `${r.start}..${r.end}`).join(', ') || 'none'))
    out(row('LOST ENTRIES (METADATA READABLE):', String(report.lostEntries.length)))
    out(row('NEW SIZE:', formatBytesExact(report.newSize)))
    return 0
  })
}
