// Child of async-streams.test.mjs (run with --expose-gc): streams
// `<mib>` MiB of fresh 64 KiB chunks from a source of `<kind>` into a fresh
// store through the async writeStream, and prints one JSON line: the peak
// growth of RSS and of process.memoryUsage().arrayBuffers over their values
// just before the stream. A writeStream that kept its chunks reachable until
// the end grows both by the stream's whole length.
//
//   node --expose-gc stream-memory-child.mjs <dir> <kind> <mib>
//   kind: readable | asyncIterable | iterable | webStream
//   (iterable goes through DataStore#async, the others AsyncDataStore.open)

import fs from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'
import { AsyncDataStore, DataStore } from '../../lib/index.mjs'

const [dir, kind, mibArg] = process.argv.slice(2)
const CHUNK = 64 * 1024
const COUNT = (Number(mibArg) * 1024 * 1024) / CHUNK

function chunk(i) {
  const b = Buffer.allocUnsafe(CHUNK)
  b.fill((i % 255) + 1)
  return b
}

function source(count) {
  switch (kind) {
    case 'readable': {
      let i = 0
      return new Readable({
        read() {
          this.push(i < count ? chunk(i++) : null)
        },
      })
    }
    case 'asyncIterable':
      return (async function* () {
        for (let i = 0; i < count; i++) yield chunk(i)
      })()
    case 'iterable':
      return (function* () {
        for (let i = 0; i < count; i++) yield chunk(i)
      })()
    case 'webStream': {
      let i = 0
      return new ReadableStream({
        pull(c) {
          if (i < count) c.enqueue(chunk(i++))
          else c.close()
        },
      })
    }
    default:
      throw new Error(`unknown kind ${kind}`)
  }
}

function vm() {
  try {
    const s = fs.readFileSync('/proc/self/status', 'utf8')
    const kb = (name) => Number(s.match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm'))[1]) * 1024
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') }
  } catch {
    return null
  }
}

const file = path.join(dir, 'store.bin')
let sync
const store = kind === 'iterable' ? (sync = DataStore.open(file)).async : await AsyncDataStore.open(file)
await store.writeStream('warm-up', source(16))
const src = source(COUNT)
for (let i = 0; i < 3; i++) {
  globalThis.gc()
  await new Promise((r) => setTimeout(r, 10))
}
let hwm = false
try {
  fs.writeFileSync('/proc/self/clear_refs', '5') // resets VmHWM to the current RSS
  hwm = vm() !== null
} catch {}
const base = process.memoryUsage()
const baseRss = hwm ? vm().rss : base.rss
let maxRss = base.rss
let maxAb = base.arrayBuffers
const sample = () => {
  const m = process.memoryUsage()
  maxRss = Math.max(maxRss, m.rss)
  maxAb = Math.max(maxAb, m.arrayBuffers)
}
const timer = setInterval(sample, 5)
const started = performance.now()
await store.writeStream('stream', src)
const ms = performance.now() - started
clearInterval(timer)
sample()
if (hwm) maxRss = Math.max(maxRss, vm().hwm)
const h = await store.read('stream')
const size = h === null ? null : h.size
await store.close()
sync?.close()
process.stdout.write(JSON.stringify({ kind, size, ms, rssGrowth: maxRss - baseRss, arrayBuffersGrowth: maxAb - base.arrayBuffers, peak: hwm ? 'VmHWM' : 'sampled' }) + '\n')
