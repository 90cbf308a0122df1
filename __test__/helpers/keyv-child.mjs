// A second process for __test__/keyv/adapter.test.ts: a keyv over the same
// store file as the test's. Reads commands from stdin, one JSON line each
// ({ op, ... }), and answers each with one JSON line on stdout.
import readline from 'node:readline'
import Keyv from 'keyv'
import KeyvSimdRDrive from 'simd-r-drive/keyv'

const [file, namespace] = process.argv.slice(2)
const keyv = new Keyv({ store: new KeyvSimdRDrive(file), namespace })

const ops = {
  set: ({ key, value, ttl }) => keyv.set(key, value, ttl),
  get: ({ key }) => keyv.get(key),
  has: ({ key }) => keyv.has(key),
  clear: () => keyv.clear(),
  entries: async () => {
    const out = []
    for await (const [key, value] of keyv.iterator()) out.push([key, value])
    return out.sort()
  },
}

for await (const line of readline.createInterface({ input: process.stdin })) {
  const cmd = JSON.parse(line)
  if (cmd.op === 'exit') break
  const result = await ops[cmd.op](cmd)
  process.stdout.write(`${JSON.stringify({ result: result ?? null })}\n`)
}
await keyv.disconnect()
