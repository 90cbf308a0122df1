// The Rust crate's own CLI (the `simd-r-drive` binary target of the published
// crate simd-r-drive 0.16.3-alpha), for the compatibility cases of
// __test__/cli.test.mjs. Installed once with
//   cargo install simd-r-drive --version 0.16.3-alpha --locked --debug --root target/rust-cli
// and reused while target/rust-cli/bin/simd-r-drive exists (reruns cost nothing).
// A debug build: ~47 s on the 2-core machine here (a release build took
// ~100 s); it is the same code, only unoptimized, which these small stores
// do not notice.
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { repo } from './cli-run.mjs'

export const RUST_VERSION = '0.16.3-alpha'
export const rustRoot = path.join(repo, 'target', 'rust-cli')
export const rustBin = path.join(rustRoot, 'bin', process.platform === 'win32' ? 'simd-r-drive.exe' : 'simd-r-drive')

function exec(cmd, args, opts) {
  return new Promise((resolve) => {
    execFile(cmd, args, { maxBuffer: 64 << 20, ...opts }, (err, stdout, stderr) => resolve({ err, stdout, stderr }))
  })
}

async function installedVersion() {
  if (!fs.existsSync(rustBin)) return null
  const { err, stdout } = await exec(rustBin, ['--version'])
  return err ? null : stdout.trim()
}

/**
 * Resolves `{ bin, installSeconds }` (installSeconds null when it was already
 * installed), or `{ skip: reason }` when it cannot be built here (no cargo,
 * no network for crates.io, a compile error).
 */
export async function rustCli() {
  const want = `simd-r-drive ${RUST_VERSION}`
  if ((await installedVersion()) === want) return { bin: rustBin, installSeconds: null }
  const cargo = await exec('cargo', ['--version'])
  if (cargo.err) return { skip: `cargo is not installed (${cargo.err.code ?? cargo.err.message})` }
  const started = Date.now()
  const r = await exec(
    'cargo',
    ['install', 'simd-r-drive', '--version', RUST_VERSION, '--locked', '--debug', '--root', rustRoot],
    { timeout: 15 * 60_000 },
  )
  if (r.err) {
    const tail = r.stderr.trim().split('\n').slice(-3).join(' | ')
    return { skip: `cargo install simd-r-drive ${RUST_VERSION} failed: ${tail || r.err.message}` }
  }
  const got = await installedVersion()
  if (got !== want) return { skip: `the installed Rust CLI reports '${got}', not '${want}'` }
  return { bin: rustBin, installSeconds: (Date.now() - started) / 1000 }
}
