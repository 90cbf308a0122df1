// Crash safety (issue 5, item 3): a child process writes to ONE store in a
// loop (sync single writes and deletes with the odd compaction, sync batches,
// async group-commit bursts) and is killed with SIGKILL at a random moment,
// many times over. After each kill the store must open and show exactly the
// effect of a prefix of the operations issued, in issue order, that contains
// every acknowledged one: acknowledged writes present with their exact bytes
// (recomputed from key and version) and a valid checksum, acknowledged
// deletes absent, a batch cut by the kill at most a prefix of its entries,
// nothing garbled, verify() empty.
//
// Default: 48 kills (16 per mode), about 25 s. The benchmark machine runs the
// long mode (about 6 minutes; ava's inactivity timeout must allow it):
//   SRD_CRASH_ITERATIONS=1000 npx ava --timeout=30m __test__/crash.test.mjs
import test from 'ava'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { DataStore, computeHash } from '../lib/index.mjs'
import { payloadFor, parsePayload, rng } from './helpers/payload.mjs'
import { onLines } from './helpers/lines.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const WRITER = path.join(here, 'helpers', 'crash-writer.mjs')
const ITERATIONS = Number(process.env.SRD_CRASH_ITERATIONS ?? 48)
const MODES = ['single', 'batch', 'async']
const OPTS = { huge: true }
/** Compact the store in the parent once the file grows past this (keeps long runs bounded). */
const COMPACT_ABOVE = 256 << 20

const next = rng(0x2545f491)
const rand = (n) => next() % n

/**
 * Runs one child until it is killed. Resolves with the operations it issued
 * (in issue order), the ids it acknowledged, and how it ended.
 */
function runChild(file, mode, versionBase, childSeed, killEarly) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, file, mode, String(versionBase), String(childSeed)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const ops = []
    const acked = new Set()
    let compactions = 0
    let ready = false
    let stderr = ''
    let killAt = -1
    const kill = () => {
      killAt = Date.now()
      child.kill('SIGKILL')
    }
    const timers = []
    if (killEarly) timers.push(setTimeout(kill, rand(120)))
    const onLine = (line) => {
      if (line === 'READY') {
        ready = true
        if (!killEarly) timers.push(setTimeout(kill, 10 + rand(191)))
        return
      }
      const parts = line.split(' ')
      if (parts[0] === 'I') {
        const id = Number(parts[1])
        if (id !== ops.length) throw new Error(`op ids out of order: ${line}`)
        ops.push(parts[2] === 'w' ? { kind: 'w', key: parts[3], version: Number(parts[4]) } : { kind: 'd', key: parts[3] })
      } else if (parts[0] === 'A') {
        acked.add(Number(parts[1]))
      } else if (parts[0] === 'c') {
        compactions++
      } else if (parts[0] !== 'C') {
        throw new Error(`unexpected line from the writer: ${JSON.stringify(line)}`)
      }
    }
    const out = onLines(child.stdout, 'latin1', (line) => {
      try {
        onLine(line)
      } catch (err) {
        kill()
        reject(err)
      }
    })
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code, signal) => {
      for (const t of timers) clearTimeout(t)
      const pending = out.rest()
      if (pending.length > 0) {
        // A line cut by the kill: an `I` line cut short is an op never issued.
        if (!pending.startsWith('I ') && !pending.startsWith('A ')) stderr += `\n(partial line ${JSON.stringify(pending)})`
      }
      resolve({ ops, acked, ready, code, signal, stderr, compactions, killedAfterMs: killAt })
    })
  })
}

/** key -> version of every live entry, checking each one is exactly a write's payload. */
function observe(t, store, round) {
  const state = new Map()
  for (const h of store.entries()) {
    const head = parsePayload(h.bytes)
    if (head === null) {
      t.fail(`round ${round}: an entry with no header (key hash ${h.keyHash}, ${h.size} bytes at ${h.startOffset})`)
      continue
    }
    if (computeHash(head.key) !== h.keyHash) t.fail(`round ${round}: entry of ${head.key} stored under another key hash`)
    if (!h.isValidChecksum()) t.fail(`round ${round}: entry ${head.key}:${head.version} fails its checksum`)
    const want = payloadFor(head.key, head.version, OPTS)
    if (Buffer.compare(h.bytes, want) !== 0) t.fail(`round ${round}: entry ${head.key}:${head.version} has wrong bytes`)
    if (state.has(head.key)) t.fail(`round ${round}: ${head.key} iterated twice`)
    state.set(head.key, head.version)
  }
  return state
}

const same = (a, b) => (a === undefined ? b === undefined : a === b)

/**
 * Finds K such that applying ops[0..K) to `before` gives `after`, with K past
 * every acknowledged op. Returns K, or -1 with a description.
 */
function prefixExplaining(before, ops, acked, after) {
  let lastAck = -1
  for (const id of acked) lastAck = Math.max(lastAck, id)
  const state = new Map(before)
  // Keys whose modelled state differs from what the store shows.
  const diff = new Set()
  for (const k of new Set([...before.keys(), ...after.keys()])) if (!same(state.get(k), after.get(k))) diff.add(k)
  const found = []
  if (diff.size === 0) found.push(0)
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]
    if (op.kind === 'w') state.set(op.key, op.version)
    else state.delete(op.key)
    if (same(state.get(op.key), after.get(op.key))) diff.delete(op.key)
    else diff.add(op.key)
    if (diff.size === 0) found.push(i + 1)
  }
  const ok = found.filter((k) => k > lastAck)
  if (ok.length > 0) return { k: ok[ok.length - 1], lastAck }
  // Describe the mismatch at K = every op (what a lossless store would show).
  const detail = [...diff].slice(0, 5).map((k) => `${k}: store ${after.get(k)}, expected ${state.get(k)}`)
  return { k: -1, lastAck, found, detail }
}

test('SIGKILL at random moments never loses an acknowledged write nor shows a partial one', async (t) => {
  t.timeout(Math.max(120_000, ITERATIONS * 2_000))
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'srd-crash-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'crash.srd')
  let model = new Map()
  let versionBase = 1
  const stats = { kills: 0, early: 0, ops: 0, acked: 0, lostUnacked: 0, compactionsStarted: 0, parentCompactions: 0, failed: 0 }
  const perMode = Object.fromEntries(MODES.map((m) => [m, 0]))

  for (let round = 0; round < ITERATIONS; round++) {
    const mode = MODES[round % MODES.length]
    const killEarly = round % 10 === 9 // now and then during start-up / recovery
    const res = await runChild(file, mode, versionBase, 1 + rand(0xfffffff), killEarly)
    if (res.signal !== 'SIGKILL') {
      t.fail(`round ${round} (${mode}): the writer ended by itself (code ${res.code}, signal ${res.signal}): ${res.stderr}`)
      break
    }
    if (res.stderr.trim() !== '') t.fail(`round ${round} (${mode}): writer stderr: ${res.stderr}`)
    versionBase += res.ops.length + 1

    let store
    try {
      store = DataStore.open(file)
    } catch (err) {
      t.fail(`round ${round} (${mode}): the store does not open after the kill: ${err.code} ${err.message}`)
      break
    }
    try {
      t.deepEqual(store.verify(), [], `round ${round}: verify() after the kill`)
      const after = observe(t, store, round)
      t.is(store.len(), after.size, `round ${round}: len() matches iteration`)
      for (const [k, v] of after) {
        const h = store.read(k)
        if (h === null || parsePayload(h.bytes)?.version !== v) t.fail(`round ${round}: read(${k}) disagrees with iteration`)
      }
      const m = prefixExplaining(model, res.ops, res.acked, after)
      if (m.k < 0) {
        stats.failed++
        t.fail(
          `round ${round} (${mode}): no prefix of the ${res.ops.length} issued ops (last acknowledged #${m.lastAck}) ` +
            `explains the store; prefixes that do: [${m.found.slice(-5)}]; ${m.detail.join('; ')}`,
        )
        break
      }
      stats.kills++
      perMode[mode]++
      if (killEarly) stats.early++
      stats.ops += res.ops.length
      stats.acked += res.acked.size
      stats.lostUnacked += res.ops.length - m.k
      stats.compactionsStarted += res.compactions
      model = after
      if (store.fileSize() > COMPACT_ABOVE) {
        store.compact()
        stats.parentCompactions++
      }
    } finally {
      store.close()
    }
  }
  t.log(
    `kills survived: ${stats.kills}/${ITERATIONS} (${Object.entries(perMode)
      .map(([m, n]) => `${m} ${n}`)
      .join(', ')}; ${stats.early} during start-up); ops issued ${stats.ops}, acknowledged ${stats.acked}, ` +
      `unacknowledged ops lost ${stats.lostUnacked}; child compactions completed ${stats.compactionsStarted}, ` +
      `parent compactions ${stats.parentCompactions}; live keys at the end ${model.size}; ` +
      `kills after which the store did not match a prefix holding every acknowledged op: ${stats.failed}`,
  )
  t.is(stats.kills, ITERATIONS)
})
