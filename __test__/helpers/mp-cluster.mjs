// Child of multiprocess.test.mjs: a node:cluster primary forking WORKERS
// workers on one store. Each worker writes PER_WORKER keys of its own
// (`c<id>-<i>`; sync write, sync batchWrite with Buffer keys, async write,
// async batchWrite), checking on the way that whatever it reads of the
// others' keys is exact. Barrier: each worker reports `done`, the primary
// broadcasts `check`, and each worker then reads every key of every worker
// from its own still-open store (no reopen): exact bytes, exists, len(),
// iteration count, fileSize(). The primary prints one JSON line.
//
//   node mp-cluster.mjs FILE WORKERS PER_WORKER
import cluster from 'node:cluster'
import { DataStore, AsyncDataStore } from '../../lib/index.mjs'
import { mpPayload, checkPayload } from './mp-common.mjs'

const [file, workersArg, perArg] = process.argv.slice(2)
const WORKERS = Number(workersArg)
const PER = Number(perArg)
const keyOf = (id, i) => `c${id}-${i}`
const CHUNK = 10

if (cluster.isPrimary) {
  const started = Date.now()
  const results = new Map()
  const done = new Map()
  const exits = new Map()
  const errors = []
  let checkSent = false
  const finish = (ok) => {
    process.stdout.write(
      `${JSON.stringify({ ok, workers: WORKERS, results: [...results.values()], done: [...done.values()], exits: Object.fromEntries(exits), errors, ms: Date.now() - started })}\n`,
    )
    process.exitCode = ok ? 0 : 1
  }
  for (let id = 1; id <= WORKERS; id++) {
    const w = cluster.fork({ MP_ID: String(id) })
    w.on('message', (m) => {
      if (m.type === 'done') {
        done.set(m.id, m)
        if (done.size === WORKERS && !checkSent) {
          checkSent = true
          for (const x of Object.values(cluster.workers)) x.send({ type: 'check' })
        }
      } else if (m.type === 'result') {
        results.set(m.id, m)
        if (results.size === WORKERS) for (const x of Object.values(cluster.workers)) x.send({ type: 'exit' })
      } else if (m.type === 'error') {
        errors.push(m)
      }
    })
    w.on('exit', (code, signal) => {
      exits.set(id, code ?? signal)
      if (code !== 0 && results.size < WORKERS) {
        // a worker died before the barrier completed: stop the others, report
        errors.push({ id, message: `worker exited with ${code ?? signal} before reporting` })
        for (const x of Object.values(cluster.workers)) x.process.kill('SIGKILL')
      }
      if (exits.size === WORKERS) finish(errors.length === 0 && results.size === WORKERS && [...exits.values()].every((c) => c === 0))
    })
  }
} else {
  const id = Number(process.env.MP_ID)
  const fail = (err) => {
    process.send({ type: 'error', id, message: String(err?.stack ?? err) }, () => process.exit(1))
  }
  process.on('uncaughtException', fail)
  process.on('unhandledRejection', fail)

  const s = DataStore.open(file)
  const as = await AsyncDataStore.open(file)
  const others = []
  for (let j = 1; j <= WORKERS; j++) if (j !== id) others.push(j)
  let lastTail = 0
  let tailsIncreasing = true
  let crossSeen = 0
  let crossMissing = 0
  const midErrors = []
  const noteTail = (tail) => {
    if (!(typeof tail === 'number' && tail > lastTail)) tailsIncreasing = false
    lastTail = tail
  }
  let rand = (id * 2654435761) >>> 0 || 1
  const next = () => {
    rand ^= rand << 13
    rand >>>= 0
    rand ^= rand >>> 17
    rand ^= rand << 5
    rand >>>= 0
    return rand
  }
  for (let i = 0; i < PER; i += CHUNK) {
    const ks = []
    for (let k = i; k < Math.min(PER, i + CHUNK); k++) ks.push(keyOf(id, k))
    const mode = (i / CHUNK) % 4
    if (mode === 0) {
      for (const k of ks) noteTail(s.write(k, mpPayload(k, id)))
    } else if (mode === 1) {
      noteTail(s.batchWrite(ks.map((k) => [Buffer.from(k), mpPayload(k, id)])))
    } else if (mode === 2) {
      // several in flight at once; each resolves with its own tail
      const tails = await Promise.all(ks.map((k) => as.write(k, mpPayload(k, id))))
      for (const t of tails) if (!(t > lastTail)) tailsIncreasing = false
      lastTail = Math.max(lastTail, ...tails)
    } else {
      noteTail(await as.batchWrite(ks.map((k) => [k, mpPayload(k, id)])))
    }
    // while everyone writes: whatever of the others is visible is exact
    const j = others[next() % others.length]
    const k = keyOf(j, next() % PER)
    const h = s.read(k)
    if (h === null) crossMissing++
    else {
      crossSeen++
      const c = checkPayload(h.bytes, k)
      if (typeof c === 'string') midErrors.push(c)
      else if (c.version !== j) midErrors.push(`${k}: version ${c.version}`)
    }
  }
  process.send({ type: 'done', id, lastTail, tailsIncreasing })

  process.on('message', async (m) => {
    if (m.type === 'check') {
      const errors = [...midErrors]
      const bad = (msg) => errors.length < 20 && errors.push(msg)
      let checked = 0
      for (let j = 1; j <= WORKERS; j++) {
        for (let i = 0; i < PER; i++) {
          const k = keyOf(j, i)
          // alternate string and Buffer keys
          const h = i % 2 ? s.read(k) : s.read(Buffer.from(k))
          if (h === null) {
            bad(`${k} missing`)
            continue
          }
          const c = checkPayload(h.bytes, k)
          if (typeof c === 'string') bad(c)
          else if (c.version !== j) bad(`${k}: version ${c.version}, want ${j}`)
          if (!s.exists(k)) bad(`${k}: exists() false after read() found it`)
          checked++
        }
      }
      // the async object of this process agrees
      for (const j of others) {
        const k = keyOf(j, PER - 1)
        const h = await as.read(k)
        if (h === null) bad(`async read of ${k} missing`)
        else if (typeof checkPayload(h.bytes, k) === 'string') bad(`async read of ${k} wrong`)
      }
      let iter = 0
      const iterKeys = new Set()
      for (const h of s) {
        iter++
        const c = checkPayload(h.bytes)
        if (typeof c === 'string') bad(`iteration: ${c}`)
        else iterKeys.add(c.key)
      }
      process.send({
        type: 'result',
        id,
        checked,
        len: s.len(),
        asyncLen: await as.len(),
        iter,
        iterDistinct: iterKeys.size,
        fileSize: s.fileSize(),
        errors,
        crossSeen,
        crossMissing,
      })
    } else if (m.type === 'exit') {
      await as.close()
      s.close()
      process.disconnect()
    }
  })
}
