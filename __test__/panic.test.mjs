// A Rust panic inside an async task rejects its Promise (ERR_INTERNAL) and the
// process keeps running. The calls run in a child process whose stderr is
// captured: Rust's panic hook prints the panic and a backtrace there, which
// would otherwise land in the middle of `npm test`'s output. The test checks
// that output too: the panic's own message and nothing worse (no abort).
import test from 'ava'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const CHILD = fileURLToPath(new URL('./helpers/panic-child.mjs', import.meta.url))

function runChild() {
  return new Promise((resolve) => {
    execFile(process.execPath, [CHILD], { maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? err.code : 0, signal: err ? err.signal : null, stdout, stderr })
    })
  })
}

test('a Rust panic inside an async task rejects its Promise and the process keeps running', async (t) => {
  const { code, signal, stdout, stderr } = await runChild()
  t.is(signal, null, `the child died by a signal; stderr:\n${stderr}`)
  t.is(code, 0, `the child exited with ${code}; stderr:\n${stderr}`)
  const { first, again } = JSON.parse(stdout.trim().split('\n').pop())
  t.is(first.state, 'rejected')
  t.true(first.isError)
  t.is(first.code, 'ERR_INTERNAL')
  t.regex(first.message, /deliberate panic/)
  // The worker pool still works afterwards.
  t.is(again.state, 'rejected')
  t.is(again.code, 'ERR_INTERNAL')
  // What the child printed to stderr: at most the panic hook's report of the
  // deliberate panic, never a crash of the process.
  t.notRegex(stderr, /fatal runtime error|Aborted|core dumped|Segmentation fault|Bus error|FATAL ERROR/i)
  if (stderr.trim() !== '') t.regex(stderr, /deliberate panic from panicInTaskForTest/)
})
