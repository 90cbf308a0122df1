import test from 'ava'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const binding = require('../index.js')

test('a Rust panic inside an async task rejects its Promise and the process keeps running', async (t) => {
  const err = await t.throwsAsync(binding.panicInTaskForTest())
  t.is(err.code, 'ERR_INTERNAL')
  t.regex(err.message, /deliberate panic/)
  // The worker pool still works afterwards.
  const again = await t.throwsAsync(binding.panicInTaskForTest())
  t.is(again.code, 'ERR_INTERNAL')
})
