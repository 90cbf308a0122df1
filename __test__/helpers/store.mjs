// Setup shared by the test files: scratch directories removed after the
// test, fresh stores closed after it, and reading a handle as text.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { AsyncDataStore, DataStore } from '../../lib/index.mjs'

/** A new empty directory, removed when the test ends. */
export function tmpDir(t, prefix = 'srd-', base = os.tmpdir()) {
  const dir = fs.mkdtempSync(path.join(base, prefix))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** `{ dir, file }`: a path for a store file in a new directory (see `tmpDir`). */
export function tmpFile(t, name = 'store.bin', prefix = 'srd-') {
  const dir = tmpDir(t, prefix)
  return { dir, file: path.join(dir, name) }
}

/** `{ dir, file, store }`: a new DataStore, closed when the test ends. */
export function openTmp(t, name = 'store.bin') {
  const { dir, file } = tmpFile(t, name)
  const store = DataStore.open(file)
  t.teardown(() => store.close())
  return { dir, file, store }
}

/** `{ dir, file, store }`: a new AsyncDataStore, closed when the test ends. */
export async function openTmpAsync(t, prefix = 'srd-') {
  const { dir, file } = tmpFile(t, 'store.bin', prefix)
  const store = closer(t)(await AsyncDataStore.open(file))
  return { dir, file, store }
}

/** `track(store)`: closes each tracked store when the test ends, newest first. */
export function closer(t) {
  const stores = []
  t.teardown(async () => {
    for (const s of stores.reverse()) {
      try {
        await s.close()
      } catch {
        // already closed
      }
    }
  })
  return (s) => {
    stores.push(s)
    return s
  }
}

/** A handle's payload as UTF-8 text (null stays null). */
export const text = (h) => (h === null ? null : Buffer.from(h.bytes).toString('utf8'))

/**
 * The files in `dir`, sorted, less the shared pages (`<store>.shm`) that a
 * store opened in the default (multi-process) mode keeps beside its file:
 * what a test that no temporary file is left behind compares.
 */
export function storeDirFiles(dir) {
  return fs.readdirSync(dir).filter((n) => !n.endsWith('.shm')).sort()
}
