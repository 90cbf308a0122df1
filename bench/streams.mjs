// Memory of AsyncDataStore.writeStream (issue 14, part 5): one stream of
// `total` bytes from a Node Readable, an async generator or a web
// ReadableStream, in a fresh process (bench/worker.mjs, op 'streamMemory',
// run with --expose-gc), measured as the peak RSS growth over the RSS just
// before the stream starts. The contract: memory bounded by a fixed buffer
// whatever the stream's length, so 1 GiB must grow RSS by at most 64 MiB.
//
// Every chunk is a fresh Buffer (filled, so its pages are resident): a
// stream that kept its chunks reachable would show their whole size. The
// peak is the kernel's high-water mark (VmHWM, reset through
// /proc/self/clear_refs just before the stream), so a spike between two
// samples of a timer is not missed; where /proc is not there, a 5 ms
// sampler of process.memoryUsage() stands in. The store's spool file and
// the appended entry are page cache (written, not mapped), not RSS.

import fs from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'

const MiB = 1024 * 1024

export const STREAM_KINDS = {
  readable: 'a Node Readable',
  asyncIterable: 'an async generator (AsyncIterable)',
  webStream: 'a web ReadableStream',
}

/** A fresh, filled chunk (never 0x00 only). */
function chunk(i, size) {
  const b = Buffer.allocUnsafe(size)
  b.fill((i % 255) + 1)
  b.writeUInt32LE(i, 0)
  return b
}

/** A source of `count` fresh chunks of `size` bytes. */
export function streamSource(kind, count, size) {
  switch (kind) {
    case 'readable': {
      let i = 0
      return new Readable({
        read() {
          this.push(i < count ? chunk(i++, size) : null)
        },
      })
    }
    case 'asyncIterable':
      return (async function* () {
        for (let i = 0; i < count; i++) yield chunk(i, size)
      })()
    case 'webStream': {
      let i = 0
      return new ReadableStream({
        pull(c) {
          if (i < count) c.enqueue(chunk(i++, size))
          else c.close()
        },
      })
    }
    default:
      throw new Error(`unknown stream kind ${kind}`)
  }
}

function procStatus() {
  try {
    const s = fs.readFileSync('/proc/self/status', 'utf8')
    const kb = (name) => Number((s.match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm')) || [0, NaN])[1]) * 1024
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') }
  } catch {
    return null
  }
}

/** Resets the kernel's RSS high-water mark to the current RSS (Linux >= 4.0). */
function resetPeak() {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5')
    return true
  } catch {
    return false
  }
}

async function settle() {
  for (let i = 0; i < 3; i++) {
    globalThis.gc?.()
    await new Promise((r) => setTimeout(r, 10))
  }
}

/**
 * Streams `total` bytes (chunks of `chunkSize`) of `kind` into a fresh store
 * in `dir`; returns the peak RSS and arrayBuffers growth in bytes.
 */
export async function streamMemory({ dir, kind, total, chunkSize, lib }) {
  const { AsyncDataStore } = await import(lib ?? '../lib/index.mjs')
  const count = Math.ceil(total / chunkSize)
  const store = await AsyncDataStore.open(path.join(dir, 'store.bin'))
  try {
    // Warm-up: the same path once, small, so lazily loaded code is not counted.
    await store.writeStream('warm-up', streamSource(kind, 16, chunkSize))
    const source = streamSource(kind, count, chunkSize)
    await settle()
    const hwm = resetPeak() && procStatus() !== null
    const base = process.memoryUsage()
    const baseRss = hwm ? procStatus().rss : base.rss
    let maxRss = base.rss
    let maxAb = base.arrayBuffers
    const sample = () => {
      const m = process.memoryUsage()
      if (m.rss > maxRss) maxRss = m.rss
      if (m.arrayBuffers > maxAb) maxAb = m.arrayBuffers
    }
    const sampler = setInterval(sample, 5)
    const t = performance.now()
    let tail
    try {
      tail = await store.writeStream('stream', source)
    } finally {
      clearInterval(sampler)
    }
    const ms = performance.now() - t
    sample()
    const peakRss = hwm ? Math.max(procStatus().hwm, maxRss) : maxRss
    const h = await store.read('stream')
    if (h === null || h.size !== count * chunkSize || tail !== (await store.fileSize())) {
      throw new Error(`the streamed entry did not land whole (${h?.size} of ${count * chunkSize} bytes)`)
    }
    return {
      kind,
      total: count * chunkSize,
      chunkSize,
      ms,
      MBps: (count * chunkSize) / 1e6 / (ms / 1e3),
      peakSource: hwm ? 'VmHWM' : 'sampled',
      baseRss,
      peakRss,
      rssGrowth: peakRss - baseRss,
      arrayBuffersGrowth: maxAb - base.arrayBuffers,
      rssGrowthMiB: (peakRss - baseRss) / MiB,
      arrayBuffersGrowthMiB: (maxAb - base.arrayBuffers) / MiB,
    }
  } finally {
    await store.close()
  }
}
