// A tour of simd-r-drive: write, read (zero-copy), stream, iterate, compact.
// Run with `npm run demo` (after `npm install`, which builds the addon).
import { DataStore, computeHash } from '../lib/index.mjs'
import { mkdtempSync, statSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const dir = mkdtempSync(join(tmpdir(), 'simd-r-drive-demo-'))
const file = join(dir, 'demo.srd')
const say = (...args) => console.log(...args)

const store = DataStore.open(file)
say(`opened ${file}`)

// Writes return the tail offset (the end of the last entry).
say('write  greeting        -> tail', store.write('greeting', 'hello, world'))
const floats = new Float32Array([1.5, 2.5, 3.5, 4.5])
say('write  vector (floats) -> tail', store.write('vector', new Uint8Array(floats.buffer)))
say('batch  3 users         -> tail', store.batchWrite([['user:1', 'ada'], ['user:2', 'grace'], ['user:3', 'linus']]))

// Reads are views of the memory-mapped file: no copy, 64-byte aligned.
const greeting = store.read('greeting')
say(`read   greeting = "${greeting.bytes.toString()}" (${greeting.size} bytes at offset ${greeting.startOffset}, checksum ok: ${greeting.isValidChecksum()})`)
const v = store.read('vector')
const view = new Float32Array(v.bytes.buffer, v.bytes.byteOffset, v.size / 4)
say(`read   vector as Float32Array without copying: [${[...view].join(', ')}] (address % 64 = ${v.bytes.byteOffset % 64})`)
say(`hash   computeHash('greeting') = 0x${computeHash('greeting').toString(16)}`)

// Streams: a payload from chunks, spooled so memory stays bounded.
function* chunks() {
  for (let i = 0; i < 16; i++) yield Buffer.alloc(64 * 1024, 65 + i)
}
say('stream 1 MiB in 16 chunks -> tail', store.writeStream('big', chunks()))
let streamed = 0
for await (const part of store.readStream('big')) streamed += part.length
say(`stream read back ${streamed} bytes through a Node Readable`)

// Overwrites and deletes append; the index keeps the newest version.
store.write('greeting', 'hello again')
store.delete('user:2')
store.rename('user:3', 'user:3:renamed')
say(`live keys: ${store.len()}, file: ${store.fileSize()} bytes, last entry: "${store.readLastEntry()?.bytes.toString() ?? '(tombstone)'}"`)
say('entries, newest first:')
for (const e of store) say(`  0x${e.keyHash.toString(16).padStart(16, '0')}  ${e.size} bytes`)

// Compaction rewrites only live entries; old handles stay readable.
const savings = store.estimateCompactionSavings()
const before = store.fileSize()
store.compact()
say(`compact: ${before} -> ${store.fileSize()} bytes (estimated savings ${savings}); old handle still reads "${greeting.bytes.toString()}"`)
say(`verify: ${store.verify().length} corrupt entries`)

store.close()
const again = DataStore.openExisting(file)
say(`reopened: ${again.len()} live keys, greeting = "${again.read('greeting').bytes.toString()}", size on disk ${statSync(file).size}`)
again.close()
rmSync(dir, { recursive: true, force: true })
say('done')
