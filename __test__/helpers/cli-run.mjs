// Runs the `simd-r-drive` command line (lib/cli/index.js) in child processes,
// for __test__/cli.test.mjs: stdout as bytes (or only its hash and length),
// stderr as text, the exit code, and optionally the child's peak anonymous
// memory (RssAnon, sampled from /proc on Linux: heap and buffers, not the
// pages of the mapped store file, which the kernel can drop at will).
import { spawn, execFile } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

export const execFileP = promisify(execFile)
export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
export const bin = path.join(repo, 'lib', 'cli', 'index.js')

/** The environment of a child: this one without CI (so a progress bar would show if the CLI drew one on a pipe). */
export function childEnv(extra = {}) {
  const env = { ...process.env, ...extra }
  if (!('CI' in extra)) delete env.CI
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k]
  return env
}

function rssAnonKiB(pid) {
  try {
    const m = /RssAnon:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) : null
  } catch {
    return null
  }
}

/**
 * `node lib/cli/index.js ...args`. Options: `input` (a Buffer or string
 * written to stdin then closed, or an async iterable of chunks; default: stdin
 * closed at once), `cwd`, `env` (added to childEnv()), `hashStdout` (keep only
 * sha256 and length of stdout), `sampleMemory` (peak RssAnon in KiB), `command`
 * (another executable instead of node + the CLI, e.g. the Rust tool),
 * `onSpawn(child)`. Resolves `{ code, signal, stdout, stderr, sha256, length, peakAnonKiB }`.
 */
export function run(args, opts = {}) {
  const [cmd, argv] = opts.command ? [opts.command, args] : [process.execPath, [bin, ...args]]
  const child = spawn(cmd, argv, {
    cwd: opts.cwd ?? repo,
    env: childEnv(opts.env ?? {}),
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  const chunks = []
  const hash = crypto.createHash('sha256')
  let length = 0
  child.stdout.on('data', (c) => {
    length += c.length
    if (opts.hashStdout) hash.update(c)
    else chunks.push(c)
  })
  let stderr = ''
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (c) => {
    stderr += c
  })
  let peak = null
  const sampler = opts.sampleMemory
    ? setInterval(() => {
        const kib = rssAnonKiB(child.pid)
        if (kib !== null) peak = Math.max(peak ?? 0, kib)
      }, 5)
    : null
  child.stdin.on('error', () => {}) // the child may exit before reading all of it
  const feed = async () => {
    const input = opts.input
    if (input === undefined) return child.stdin.end()
    if (typeof input === 'string' || Buffer.isBuffer(input) || input instanceof Uint8Array) return child.stdin.end(input)
    for await (const chunk of input) {
      if (!child.stdin.write(chunk)) await new Promise((resolve) => child.stdin.once('drain', resolve))
      if (child.exitCode !== null || child.signalCode !== null) return
    }
    child.stdin.end()
  }
  opts.onSpawn?.(child)
  const fed = feed().catch(() => {})
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', async (code, signal) => {
      if (sampler) clearInterval(sampler)
      await fed
      resolve({
        code,
        signal,
        stdout: Buffer.concat(chunks),
        stderr,
        sha256: opts.hashStdout ? hash.digest('hex') : crypto.createHash('sha256').update(Buffer.concat(chunks)).digest('hex'),
        length,
        peakAnonKiB: peak,
      })
    })
  })
}

/** Deterministic pseudo-random chunks: `total` bytes in chunks of `size`, and their sha256 once consumed. */
export function randomChunks(total, size, seed = 1) {
  const hash = crypto.createHash('sha256')
  let x = seed >>> 0 || 1
  const result = { sha256: null }
  result.chunks = (async function* () {
    for (let done = 0; done < total; done += size) {
      const n = Math.min(size, total - done)
      const b = Buffer.allocUnsafe(n)
      for (let i = 0; i < n; i += 4) {
        x ^= x << 13
        x ^= x >>> 17
        x ^= x << 5
        b.writeUInt32LE(x >>> 0, i)
      }
      hash.update(b)
      yield b
    }
    result.sha256 = hash.digest('hex')
  })()
  return result
}

/** Runs `cmd` in a pseudo-terminal with `script` (util-linux), so the child's stdout and stderr are a TTY. Null if `script` is missing. */
export async function runInTty(commandLine, env = {}) {
  try {
    await execFileP('script', ['--version'])
  } catch {
    return null
  }
  const r = await execFileP('script', ['-qec', commandLine, '/dev/null'], { env: childEnv(env), cwd: repo, maxBuffer: 64 << 20 }).catch((err) => err)
  return { code: r.code ?? 0, output: r.stdout ?? '' }
}

/** Lines of a Rust-style table (`LABEL:   value`) as a Map, with the lines that are not in that form dropped. */
export function tableOf(text) {
  const rows = new Map()
  for (const line of text.split('\n')) {
    const m = /^([A-Z][A-Z ()/]+:)\s+(.*)$/.exec(line)
    if (m) rows.set(m[1], m[2])
  }
  return rows
}
