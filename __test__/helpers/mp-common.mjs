// Shared by multiprocess.test.mjs and its child scripts (helpers/mp-*.mjs):
// self-describing payloads whose bytes are a function of (key, version), a
// line-oriented log of acknowledged writes, and running child processes.
import fs from 'node:fs'
import readline from 'node:readline'
import { spawn } from 'node:child_process'
import { rng, parsePayload, seedOf } from './payload.mjs'
import { onLines } from './lines.mjs'

export { parsePayload }

/**
 * Payload length profiles (bytes after the `key:version:` header):
 * - `small`: mostly tiny, a few medium, 2% past 4 KiB;
 * - `mixed`: 60% under 200 B, 25% under 4 KiB, 15% 4-40 KiB (an append a kill can cut);
 * - `big`: 3% 128-640 KiB, 40% 4-64 KiB, the rest under 2 KiB.
 */
export function mpLength(key, version, profile) {
  const r = rng(seedOf(`${key}#${version}#mp`))
  const a = r() % 100
  if (profile === 'small') {
    if (a < 80) return 1 + (r() % 100)
    if (a < 98) return 100 + (r() % 1900)
    return 4097 + (r() % 8000)
  }
  if (profile === 'big') {
    if (a < 3) return (128 << 10) + (r() % (512 << 10))
    if (a < 43) return 4097 + (r() % 60000)
    return 1 + (r() % 2000)
  }
  if (a < 60) return 1 + (r() % 200)
  if (a < 85) return 200 + (r() % 3800)
  return 4097 + (r() % 36000)
}

const BLOCK = 4093

/** The size profile of a key: keys named `big*` use `big`, `sm*` use `small`, the rest `mixed`. */
export const profileOf = (key) => (key.startsWith('big') ? 'big' : key.startsWith('sm') ? 'small' : 'mixed')

/** The exact bytes of write `version` of `key`: `key:version:` then deterministic noise. */
export function mpPayload(key, version, profile = profileOf(key)) {
  const header = Buffer.from(`${key}:${version}:`, 'latin1')
  const len = header.length + mpLength(key, version, profile)
  const buf = Buffer.allocUnsafe(len)
  header.copy(buf, 0)
  // up to BLOCK bytes of noise, repeated to the end (cheap to make, so a
  // writer spends its time writing; 4093 bytes is no multiple of a page)
  const r = rng(seedOf(`${key}#${version}#bytes`))
  const end = Math.min(len, header.length + BLOCK)
  let i = header.length
  for (; i + 4 <= end; i += 4) buf.writeUInt32LE(r(), i)
  for (; i < end; i++) buf[i] = r() & 0xff
  if (end < len) buf.fill(buf.subarray(header.length, end), end)
  return buf
}

/**
 * Checks `bytes` (a handle's view) against the payload of its own header.
 * Returns `{ key, version }` when the bytes are exactly that write's payload
 * (for `expectKey`, when given), or a string saying what is wrong.
 */
export function checkPayload(bytes, expectKey) {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)
  const h = parsePayload(buf)
  if (h === null) return `no header in ${buf.length} bytes: ${JSON.stringify(buf.toString('latin1', 0, 40))}`
  if (expectKey !== undefined && h.key !== expectKey) return `key ${expectKey} holds the payload of ${h.key}:${h.version}`
  const want = mpPayload(h.key, h.version)
  if (!buf.equals(want)) return `bytes of ${h.key}:${h.version} differ (${buf.length} bytes, want ${want.length})`
  return h
}

/**
 * Follows an append-only log of `key version` lines (one per acknowledged
 * write, written by a child after the write returned). `poll()` reads what
 * was appended since the last poll and returns the newest version per key
 * seen so far (a cut-off last line waits for the next poll).
 */
export class AckLog {
  constructor(path) {
    this.path = path
    this.offset = 0
    this.pending = ''
    this.newest = new Map()
    this.lines = 0
  }

  poll() {
    let fd
    try {
      fd = fs.openSync(this.path, 'r')
    } catch (err) {
      if (err.code === 'ENOENT') return this.newest
      throw err
    }
    try {
      const buf = Buffer.alloc(1 << 20)
      for (;;) {
        const n = fs.readSync(fd, buf, 0, buf.length, this.offset)
        if (n === 0) break
        this.offset += n
        this.pending += buf.toString('latin1', 0, n)
      }
    } finally {
      fs.closeSync(fd)
    }
    const nl = this.pending.lastIndexOf('\n')
    if (nl < 0) return this.newest
    const whole = this.pending.slice(0, nl)
    this.pending = this.pending.slice(nl + 1)
    for (const line of whole.split('\n')) {
      const sp = line.indexOf(' ')
      const key = line.slice(0, sp)
      const version = Number(line.slice(sp + 1))
      if (sp <= 0 || !Number.isSafeInteger(version)) throw new Error(`bad ack log line in ${this.path}: ${JSON.stringify(line)}`)
      const prev = this.newest.get(key)
      if (prev !== undefined && version <= prev) throw new Error(`${this.path}: ${key} acknowledged ${version} after ${prev}`)
      this.newest.set(key, version)
      this.lines++
    }
    return this.newest
  }
}

/**
 * Spawns `node script ...args` with piped stdio. Returns the child plus
 * `lines` (stdout lines so far), `stderr()`, `nextLine(pred)` (resolves with
 * the first line, past or future, matching `pred`), and `exited` (resolves
 * `{ code, signal }`). A watchdog SIGKILLs the child after `timeoutMs`.
 */
export function startChild(script, args, { timeoutMs = 90_000, onLine } = {}) {
  const child = spawn(process.execPath, [script, ...args.map(String)], { stdio: ['pipe', 'pipe', 'pipe'] })
  const lines = []
  const waiters = []
  let err = ''
  let timedOut = false
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (d) => (err += d))
  child.stdin.on('error', () => {}) // a killed child's stdin
  onLines(child.stdout, 'utf8', (line) => {
    lines.push(line)
    if (onLine) onLine(line)
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (waiters[i].pred(line)) {
        waiters[i].resolve(line)
        waiters.splice(i, 1)
      }
    }
  })
  const watchdog = setTimeout(() => {
    timedOut = true
    child.kill('SIGKILL')
  }, timeoutMs)
  const exited = new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(watchdog)
      for (const w of waiters) w.reject(new Error(`${script} ${args.join(' ')} exited (${code ?? signal}) before the line awaited${timedOut ? ' (watchdog: hung)' : ''}\n${err}`))
      waiters.length = 0
      resolve({ code, signal, timedOut })
    })
  })
  return {
    child,
    lines,
    exited,
    stderr: () => err,
    send: (line) => child.stdin.write(`${line}\n`),
    nextLine(pred) {
      const seen = lines.find(pred)
      if (seen !== undefined) return Promise.resolve(seen)
      if (child.exitCode !== null || child.signalCode !== null) return Promise.reject(new Error(`${script} already exited\n${err}`))
      return new Promise((resolve, reject) => waiters.push({ pred, resolve, reject }))
    },
  }
}

/** Awaits a child's exit and throws with its stderr unless it exited 0. */
export async function expectClean(c, what) {
  const { code, signal, timedOut } = await c.exited
  if (code !== 0) {
    throw new Error(`${what} ${timedOut ? 'hung (killed by the watchdog)' : `exited with ${code ?? signal}`}\nstderr:\n${c.stderr()}\nstdout tail:\n${c.lines.slice(-5).join('\n')}`)
  }
  return c.lines
}

/** The last stdout line of a child parsed as JSON. */
export function lastJson(lines) {
  for (let i = lines.length - 1; i >= 0; i--) {
    if (lines[i].startsWith('{')) return JSON.parse(lines[i])
  }
  throw new Error(`no JSON line in: ${lines.slice(-5).join('\n')}`)
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** Says 'ready' on stdout, then waits for a line 'go' on stdin (a common start for child processes). */
export async function readyThenGo() {
  console.log('ready')
  const rl = readline.createInterface({ input: process.stdin })
  for await (const line of rl) if (line === 'go') break
  rl.close()
  process.stdin.destroy()
}
