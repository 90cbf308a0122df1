// The published simd-r-drive-extensions crate, through the example binary
// crates/engine/examples/ext_interop.rs (its request/answer protocol is at the
// top of that file). Built once in release (`npm test` has built it already,
// since `cargo test` builds the examples).
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const exe = path.join(repo, 'target', 'release', 'examples', `ext_interop${process.platform === 'win32' ? '.exe' : ''}`)

let built = false
/** Builds the example (a no-op when cargo finds it fresh). */
export function buildRust() {
  if (built) return
  execFileSync('cargo', ['build', '--release', '-q', '-p', 'srd-engine', '--example', 'ext_interop'], { cwd: repo, stdio: ['ignore', 'ignore', 'inherit'] })
  built = true
}

/** Runs `ext_interop <command> [store]` with one request per line; its answer lines. */
export function rust(command, store, lines) {
  buildRust()
  const args = store === undefined ? [command] : [command, store]
  const r = spawnSync(exe, args, { input: `${lines.join('\n')}\n`, encoding: 'utf8', maxBuffer: 1 << 30 })
  if (r.status !== 0) throw new Error(`ext_interop ${args.join(' ')} exited ${r.status}: ${r.stderr}`)
  return r.stdout.split('\n').slice(0, -1)
}

/** Bytes or a string as the protocol's hex (`-` for empty). */
export function hex(v) {
  const b = typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v.buffer, v.byteOffset, v.byteLength)
  return b.length === 0 ? '-' : b.toString('hex')
}

export function unhex(s) {
  return s === '-' ? Buffer.alloc(0) : Buffer.from(s, 'hex')
}

/** A value as the protocol writes it for its type. */
export function wire(type, v) {
  return type === 'u64' ? String(v) : hex(v)
}

/** A fresh directory, removed when the test ends. */
export function tmpDir(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'srd-ext-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}
