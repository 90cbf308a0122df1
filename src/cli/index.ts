#!/usr/bin/env node
// The `simd-r-drive` command (package.json `bin`). See docs/cli.md.
import { main } from './main'

function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return stream.writableLength > 0 && !stream.destroyed ? new Promise((resolve) => stream.once('drain', () => resolve())) : Promise.resolve()
}

// A reader that stops early (`... info | head -3`) closes the pipe: the rest
// of the output is not wanted, as for any Unix tool. Not an error, and never
// a crash (an 'error' event on stdout with no listener would be one).
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0)
  process.stderr.write(`error: writing the output: ${err.message}\n`)
  process.exit(1)
})

main(process.argv.slice(2)).then(
  async (code) => {
    await Promise.all([flushed(process.stdout), flushed(process.stderr)])
    // Exit now: stdin may still be open (a `write` interrupted before stdin ended).
    process.exit(code)
  },
  (err: unknown) => {
    process.stderr.write(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
    process.exit(1)
  },
)
