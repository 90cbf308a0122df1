// Child of panic.test.mjs: calls the binding's deliberate-panic task twice
// and prints how each call settled as one JSON line. Run in a process of its
// own so that what Rust's panic hook writes to stderr (the message and a
// backtrace) is captured by the test instead of cluttering `npm test`.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const binding = require('../../index.js')

async function settle(p) {
  try {
    return { state: 'resolved', value: await p }
  } catch (err) {
    return { state: 'rejected', code: err?.code, message: err?.message, isError: err instanceof Error }
  }
}

const first = await settle(binding.panicInTaskForTest())
// The worker pool still works afterwards.
const again = await settle(binding.panicInTaskForTest())
process.stdout.write(JSON.stringify({ first, again }) + '\n')
