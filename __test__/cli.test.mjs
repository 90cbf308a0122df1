// The `simd-r-drive` command line (issue 17, src/cli/): every command run as
// a child process (`node lib/cli/index.js <store> <command> ...`), with its
// stdout bytes, stderr text and exit code. Binary-safe pipes both ways (every
// byte 0..255; 64 MiB through stdin and stdout, compared by hash, the child's
// anonymous memory bounded), errors a person reads (exit 1, 2 for usage, no
// stack trace), --json parsed, progress bars only on a terminal, import of a
// tree, Ctrl-C, and the same bytes as the Rust crate's own CLI in both
// directions (helpers/cli-rust.mjs installs it once under target/rust-cli).
import test from 'ava'
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import zlib from 'node:zlib'
import { promisify } from 'node:util'
import { DataStore, computeHash } from '../lib/index.mjs'
import { bin, randomChunks, repo, run, runInTty, tableOf } from './helpers/cli-run.mjs'
import { rustCli } from './helpers/cli-rust.mjs'
import { tmpDir } from './helpers/store.mjs'

const execFileP = promisify(execFile)
const WIN = process.platform === 'win32'
/** npm and npx: .cmd files on Windows, which Node 20 runs only through a shell. */
const npmTool = (name, args, opts) => execFileP(WIN ? `${name}.cmd` : name, args, { ...opts, shell: WIN })
const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
const STACK = /\n\s+at .+\(?.*:\d+:\d+\)?/

// Started at once, so the other tests run while it compiles (first run only).
const rust = rustCli()

/** Runs the CLI and asserts it exited 0 with nothing on stderr. */
async function ok(t, args, opts) {
  const r = await run(args, opts)
  t.is(r.code, 0, `${args.join(' ')}: exit ${r.code}\n${r.stderr}`)
  t.is(r.stderr, '', `${args.join(' ')} printed to stderr`)
  return r
}

function withStore(file, fn) {
  const s = DataStore.openExisting(file)
  try {
    return fn(s)
  } finally {
    s.close()
  }
}

// ---- help, version, usage errors ----

test('--help lists every command with examples; each command has its own --help; --version', async (t) => {
  const help = await ok(t, ['--help'])
  const text = help.stdout.toString()
  t.regex(text, /^Usage: simd-r-drive <store> <command>/)
  const commands = ['read', 'write', 'copy', 'move', 'rename', 'delete', 'compact', 'info', 'metadata', 'verify', 'import', 'repair']
  for (const c of commands) t.regex(text, new RegExp(`\\n  ${c}\\b`), `help lists ${c}`)
  t.regex(text, /Examples:\n/)
  t.regex(text, /simd-r-drive data\.srd write mykey "Hello, world!"/)
  for (const c of commands) {
    const r = await ok(t, ['data.srd', c, '--help'])
    t.regex(r.stdout.toString(), new RegExp(`^Usage: simd-r-drive <store> ${c} `), `${c} --help`)
    t.regex(r.stdout.toString(), /Example/, `${c} --help has an example`)
  }
  t.regex((await ok(t, ['help'])).stdout.toString(), /^Usage: simd-r-drive <store> <command>/)
  t.regex((await ok(t, ['help', 'import'])).stdout.toString(), /^Usage: simd-r-drive <store> import \[options\] <dir>/)
  const pkg = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8'))
  t.is((await ok(t, ['--version'])).stdout.toString(), `simd-r-drive ${pkg.version}\n`)
})

test('usage errors print the usage to stderr and exit 2', async (t) => {
  const dir = tmpDir(t)
  const store = path.join(dir, 's.srd')
  const cases = [
    [[], /Usage: simd-r-drive <store> <command>/],
    [[store], /missing <command>[\s\S]*Usage: simd-r-drive <store> <command>/],
    [[store, 'frobnicate'], /unknown command 'frobnicate'[\s\S]*Usage:/],
    [[store, 'read'], /missing required argument 'key'[\s\S]*Usage: simd-r-drive <store> read \[options\] <key>/],
    [[store, 'read', 'k', '--buffer-size', '12X'], /--buffer-size[\s\S]*12X[\s\S]*Usage:/],
    [[store, 'write', 'k', 'v', 'extra'], /too many arguments|unknown|Usage:/],
    [['read', 'k'], /missing <store>: the store file comes first/],
    [[store, 'info', '--bogus'], /unknown option '--bogus'[\s\S]*Usage:/],
  ]
  for (const [args, re] of cases) {
    const r = await run(args)
    t.is(r.code, 2, `${args.join(' ')}: exit 2\n${r.stderr}`)
    t.regex(r.stderr, re, args.join(' '))
    t.is(r.stdout.length, 0, `${args.join(' ')}: nothing on stdout`)
    t.notRegex(r.stderr, STACK)
  }
  t.false(fs.existsSync(store), 'no usage error created the store')
})

// ---- write and read: bytes in, bytes out ----

test('write from stdin and read to stdout are byte-exact: every byte 0..255, no newline added in a pipe', async (t) => {
  const dir = tmpDir(t)
  const store = path.join(dir, 's.srd')
  const w = await ok(t, [store, 'write', 'bytes'], { input: ALL_BYTES })
  t.is(w.stdout.toString(), "Stored 'bytes'\n")
  const r = await ok(t, [store, 'read', 'bytes'])
  t.deepEqual(r.stdout, ALL_BYTES)
  // Every byte value repeated, through a small buffer size (many slices).
  const big = Buffer.concat(Array.from({ length: 300 }, () => ALL_BYTES))
  await ok(t, [store, 'write', 'rep'], { input: big })
  t.deepEqual((await ok(t, [store, 'read', 'rep', '-b', '1000'])).stdout, big)
  t.deepEqual((await ok(t, [store, 'read', 'rep', '--buffer-size', '1K'])).stdout, big)
  // A value argument is its UTF-8 bytes; the key too.
  await ok(t, [store, 'write', 'clé ✓', 'héllo wörld ✓'])
  t.deepEqual((await ok(t, [store, 'read', 'clé ✓'])).stdout, Buffer.from('héllo wörld ✓'))
  withStore(store, (s) => {
    t.deepEqual(Buffer.from(s.read('bytes').bytes), ALL_BYTES)
    t.is(s.read('clé ✓').bytes.toString(), 'héllo wörld ✓')
  })
})

test('64 MiB through stdin and stdout, compared by hash, in bounded memory (peak anonymous RSS < 60 MiB)', async (t) => {
  const dir = tmpDir(t)
  const store = path.join(dir, 's.srd')
  const src = randomChunks(64 << 20, 1 << 20, 7)
  const w = await run([store, 'write', 'big'], { input: src.chunks, sampleMemory: true })
  t.is(w.code, 0, w.stderr)
  const r = await run([store, 'read', 'big'], { hashStdout: true, sampleMemory: true })
  t.is(r.code, 0, r.stderr)
  t.is(r.length, 64 << 20)
  t.is(r.sha256, src.sha256)
  if (process.platform === 'linux') {
    t.log(`peak RssAnon: write ${(w.peakAnonKiB / 1024).toFixed(1)} MiB, read ${(r.peakAnonKiB / 1024).toFixed(1)} MiB`)
    t.true(w.peakAnonKiB < 60 * 1024, `write: peak RssAnon ${w.peakAnonKiB} KiB`)
    t.true(r.peakAnonKiB < 60 * 1024, `read: peak RssAnon ${r.peakAnonKiB} KiB`)
  }
})

test('a read into a pipe closed early (| head -c) ends quietly', async (t) => {
  if (WIN) return t.pass() // bash and head
  const dir = tmpDir(t)
  const store = path.join(dir, 's.srd')
  await ok(t, [store, 'write', 'big'], { input: Buffer.alloc(8 << 20, 'x') })
  const { stdout, stderr } = await execFileP('bash', ['-c', `set -o pipefail; "${process.execPath}" "${bin}" "${store}" read big | head -c 5; echo " rc=\${PIPESTATUS[0]}"`])
  t.regex(stdout, /^xxxxx rc=0\n$/)
  t.is(stderr, '')
})

test('empty values are refused and write nothing; write with no value and an empty stdin likewise', async (t) => {
  const dir = tmpDir(t)
  const store = path.join(dir, 's.srd')
  await ok(t, [store, 'write', 'k', 'v'])
  const before = fs.readFileSync(store)
  for (const [args, input] of [
    [[store, 'write', 'e', ''], undefined],
    [[store, 'write', 'e'], Buffer.alloc(0)],
    [[store, 'write', 'e'], Buffer.alloc(1000)],
  ]) {
    const r = await run(args, { input })
    t.is(r.code, 1, r.stderr)
    t.regex(r.stderr, /^error: .*(empty|0x00)/)
    t.notRegex(r.stderr, STACK)
    t.deepEqual(fs.readFileSync(store), before, 'store unchanged')
  }
})

test('Ctrl-C (SIGINT) or SIGTERM during a write from stdin leaves no partial entry', async (t) => {
  if (WIN) return t.pass() // no POSIX signals: kill() ends the process outright
  const dir = tmpDir(t)
  const store = path.join(dir, 's.srd')
  await ok(t, [store, 'write', 'k', 'v'])
  const before = fs.readFileSync(store)
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]]) {
    let child
    const input = (async function* () {
      yield Buffer.alloc(6 << 20, 7) // past the 4 MiB the library keeps in memory: spooled to a temp file
      await new Promise((resolve) => setTimeout(resolve, 400))
      child.kill(signal)
      await new Promise((resolve) => setTimeout(resolve, 5000)) // stdin stays open
    })()
    const r = await run([store, 'write', 'partial'], { input, onSpawn: (c) => (child = c) })
    t.is(r.code, code, `${signal}: ${r.stderr}`)
    t.regex(r.stderr, /interrupted .*nothing .*written/)
    t.deepEqual(fs.readFileSync(store), before, `${signal}: the store is unchanged`)
  }
  // (s.srd.shm: the page processes share the store through, not a spool file)
  t.deepEqual(fs.readdirSync(dir).filter((n) => !n.endsWith('.shm')), ['s.srd'], 'no spool file left behind')
})

// ---- errors ----

test('a missing key: key not found: <key> on stderr, exit 1, for read, metadata, rename, copy, move and delete', async (t) => {
  const dir = tmpDir(t)
  const store = path.join(dir, 's.srd')
  const target = path.join(dir, 't.srd')
  await ok(t, [store, 'write', 'k', 'v'])
  const before = fs.readFileSync(store)
  for (const args of [['read', 'nope'], ['metadata', 'nope'], ['metadata', 'nope', '--json'], ['rename', 'nope', 'x'], ['copy', 'nope', target], ['move', 'nope', target], ['delete', 'nope']]) {
    const r = await run([store, ...args])
    t.is(r.code, 1, args.join(' '))
    t.is(r.stderr, 'key not found: nope\n', args.join(' '))
    t.is(r.stdout.length, 0)
  }
  t.deepEqual(fs.readFileSync(store), before)
  t.false(fs.existsSync(target), 'copy/move of a missing key creates no target')
  await ok(t, [store, 'delete', 'nope', '--force'])
})

test('a file that is not a store, a missing file, a folder: the library or Node message, exit 1, no stack trace unless --debug', async (t) => {
  const dir = tmpDir(t)
  const junk = path.join(dir, 'junk.txt')
  fs.writeFileSync(junk, 'this is not a store, just some text in a file\n')
  const before = fs.readFileSync(junk)
  for (const args of [['read', 'k'], ['info'], ['compact'], ['write', 'k', 'v']]) {
    const r = await run([junk, ...args])
    t.is(r.code, 1, args.join(' '))
    t.regex(r.stderr, /^error: .*junk\.txt is not a SIMD R Drive store/, args.join(' '))
    t.regex(r.stderr, /repair/)
    t.notRegex(r.stderr, STACK)
  }
  t.deepEqual(fs.readFileSync(junk), before, 'left untouched')
  const missing = path.join(dir, 'missing.srd')
  for (const args of [['read', 'k'], ['verify'], ['rename', 'a', 'b']]) {
    const r = await run([missing, ...args])
    t.is(r.code, 1)
    t.is(r.stderr, `error: ENOENT: no such file or directory, open '${missing}'\n`, args.join(' '))
  }
  t.false(fs.existsSync(missing), 'commands that only read (and compact, rename) never create the store')
  const r = await run([dir, 'info'])
  t.is(r.code, 1)
  t.regex(r.stderr, WIN ? /^error: E[A-Z]+: / : new RegExp(`^error: EISDIR: .*'${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}'\n$`))
  const d = await run(['--debug', junk, 'info'])
  t.is(d.code, 1)
  t.regex(d.stderr, STACK, '--debug prints the stack')
  const d2 = await run([junk, 'info', '--debug'])
  t.regex(d2.stderr, STACK, '--debug after the command too')
})

test('a store another process has open: ERR_STORE_LOCKED explained (stop it, or work on a copy), exit 1', async (t) => {
  const dir = tmpDir(t)
  const store = path.join(dir, 's.srd')
  await ok(t, [store, 'write', 'k', 'v'])
  const holder = execFile(process.execPath, [
    '-e',
    // exclusive: keeps every other process out, readers too.
    `const { DataStore } = require(${JSON.stringify(repo)})
    const s = DataStore.open(${JSON.stringify(store)}, { exclusive: true })
    console.log('open')
    setInterval(() => {}, 1000)`,
  ])
  t.teardown(() => holder.kill())
  await new Promise((resolve, reject) => {
    holder.stdout.once('data', resolve)
    holder.once('exit', (code) => reject(new Error(`the process holding the store exited (${code})`)))
  })
  for (const args of [['read', 'k'], ['info'], ['write', 'k2', 'v']]) {
    const r = await run([store, ...args])
    t.is(r.code, 1, args.join(' '))
    t.regex(r.stderr, /ERR_STORE_LOCKED/)
    t.regex(r.stderr, /Stop that process/)
    t.regex(r.stderr, /copy of the file/)
    t.notRegex(r.stderr, STACK)
  }
})

test('a store a server has open (the default mode): read commands see its latest writes, writes reach it; a pipe closed early ends quietly', async (t) => {
  const dir = tmpDir(t)
  const store = path.join(dir, 's.srd')
  const server = execFile(process.execPath, [
    '-e',
    `const { DataStore } = require(${JSON.stringify(repo)})
    const s = DataStore.open(${JSON.stringify(store)})
    s.write('greeting', 'hello')
    let n = 0
    setInterval(() => s.write('tick', String(++n)), 2)
    process.stdin.on('data', () => process.stdout.write(String(s.read('from-cli')?.bytes ?? 'none') + '\\n'))
    console.log('open')`,
  ])
  t.teardown(() => server.kill())
  await new Promise((resolve, reject) => {
    server.stdout.once('data', resolve)
    server.once('exit', (code) => reject(new Error(`the server exited (${code})`)))
  })
  const r1 = Number(String((await ok(t, [store, 'read', 'tick'])).stdout))
  const r2 = Number(String((await ok(t, [store, 'read', 'tick'])).stdout))
  t.true(r1 > 0 && r2 > r1, `${r1} then ${r2}: the server's latest tick, each time`)
  t.is(String((await ok(t, [store, 'read', 'greeting'])).stdout), 'hello')
  await ok(t, [store, 'write', 'from-cli', 'yes'])
  const seen = new Promise((resolve) => server.stdout.once('data', (d) => resolve(String(d).trim())))
  server.stdin.write('?\n')
  t.is(await seen, 'yes', 'the server reads what the command wrote, without reopening')
  // repair rebuilds the file: it needs the server to close the store first.
  const rep = await run([store, 'repair'])
  t.is(rep.code, 1)
  t.regex(rep.stderr, /ERR_STORE_LOCKED/)
  t.regex(rep.stderr, /needs the store closed everywhere else/)
  t.notRegex(rep.stderr, STACK)
  // `info | true`: the reader has closed the pipe before the command writes.
  for (const args of ['info', 'metadata greeting', 'read greeting']) {
    const piped = await new Promise((resolve) => {
      execFile('sh', ['-c', `"${process.execPath}" "${bin}" "${store}" ${args} | true`], (err, stdout, stderr) => resolve({ err, stderr }))
    })
    t.is(piped.err, null, args)
    t.is(piped.stderr, '', `${args}: no EPIPE error, no stack`)
  }
})

// ---- copy, move, rename, delete: the Rust tool's messages ----

test('copy, move, rename and delete change the stores and print what the Rust tool prints', async (t) => {
  const dir = tmpDir(t)
  const store = path.join(dir, 's.srd')
  const target = path.join(dir, 't.srd')
  await ok(t, [store, 'write', 'a', 'alpha'])
  await ok(t, [store, 'write', 'b', 'beta'])
  t.is((await ok(t, [store, 'copy', 'a', target])).stdout.toString(), `Copied key 'a' to ${JSON.stringify(target)}\n`)
  t.is((await ok(t, [target, 'read', 'a'])).stdout.toString(), 'alpha')
  t.is((await ok(t, [store, 'read', 'a'])).stdout.toString(), 'alpha', 'copy keeps the source')
  t.is((await ok(t, [store, 'move', 'b', target])).stdout.toString(), `Moved key 'b' to ${JSON.stringify(target)}\n`)
  t.is((await ok(t, [target, 'read', 'b'])).stdout.toString(), 'beta')
  t.is((await run([store, 'read', 'b'])).code, 1, 'move deletes from the source')
  t.is((await ok(t, [store, 'rename', 'a', 'c'])).stdout.toString(), "Renamed key 'a' to c\n")
  t.is((await ok(t, [store, 'read', 'c'])).stdout.toString(), 'alpha')
  t.is((await ok(t, [store, 'delete', 'c'])).stdout.toString(), "Deleted key 'c'\n")
  t.is((await run([store, 'read', 'c'])).code, 1)
  const same = await run([store, 'write', 'x', 'y']).then(() => run([store, 'copy', 'x', store]))
  t.is(same.code, 1, 'copy into the same file is refused')
  t.regex(same.stderr, /^error: /)
})

// ---- info, metadata, verify, compact (and --json) ----

test('info, metadata and verify: Rust-style tables, and --json that matches the library', async (t) => {
  const dir = tmpDir(t)
  const store = path.join(dir, 's.srd')
  await ok(t, [store, 'write', 'k', 'hello'])
  await ok(t, [store, 'write', 'k', 'hello again'])
  await ok(t, [store, 'write', 'other'], { input: ALL_BYTES })
  await ok(t, [store, 'write', 'gone', 'x'])
  await ok(t, [store, 'delete', 'gone'])
  const lib = withStore(store, (s) => ({
    fileSize: s.fileSize(),
    len: s.len(),
    savings: s.estimateCompactionSavings(),
    h: (({ size, fileSize, startOffset, endOffset, prevOffset, keyHash, checksum }) => ({ size, fileSize, startOffset, endOffset, prevOffset, keyHash, checksum }))(s.read('k')),
  }))
  const info = JSON.parse((await ok(t, [store, 'info', '--json'])).stdout)
  t.deepEqual(info, { path: store, fileSize: lib.fileSize, liveEntries: 2, compactionSavings: lib.savings })
  const table = tableOf((await ok(t, [store, 'info'])).stdout.toString())
  t.is(table.get('STORAGE FILE:'), JSON.stringify(store))
  t.is(table.get('ACTIVE ENTRIES:'), '2')
  t.is(table.get('TOTAL SIZE:'), lib.fileSize < 1024 ? `${lib.fileSize} bytes` : `${(lib.fileSize / 1024).toFixed(2)} KB (${lib.fileSize.toLocaleString('en-US')} bytes)`)
  const meta = JSON.parse((await ok(t, [store, 'metadata', 'k', '--json'])).stdout)
  t.deepEqual(meta, {
    key: 'k',
    ...lib.h,
    keyHash: computeHash('k').toString(),
    keyHashHex: `0x${computeHash('k').toString(16).padStart(16, '0')}`,
    checksumValid: true,
  })
  const m = tableOf((await ok(t, [store, 'metadata', 'k'])).stdout.toString())
  t.is(m.get('PAYLOAD SIZE:'), '11 bytes')
  t.is(m.get('TOTAL SIZE (W/ METADATA):'), '31 bytes')
  t.is(m.get('OFFSET RANGE:'), `${lib.h.startOffset}..${lib.h.endOffset}`)
  t.is(m.get('KEY HASH:'), computeHash('k').toString())
  t.is(m.get('CHECKSUM:'), String(lib.h.checksum))
  t.is(m.get('CHECKSUM VALIDITY:'), 'VALID')
  const v = await ok(t, [store, 'verify'])
  t.regex(v.stdout.toString(), /^OK: every checksum is valid \(2 live entries/)
  t.deepEqual(JSON.parse((await ok(t, [store, 'verify', '--json'])).stdout), {
    path: store,
    ok: true,
    liveEntries: 2,
    fileSize: lib.fileSize,
    corrupt: [],
  })
})

test('verify lists damaged entries (live and superseded) and exits 1; compact refuses a damaged live entry until repair drops it', async (t) => {
  const dir = tmpDir(t)
  const store = path.join(dir, 's.srd')
  // Open checksums the first and the last entry: the damage goes between them.
  await ok(t, [store, 'write', 'first', 'the first entry, intact'])
  await ok(t, [store, 'write', 'old', 'first version of old'])
  await ok(t, [store, 'write', 'live', 'the live value'])
  await ok(t, [store, 'write', 'old', 'second version of old'])
  await ok(t, [store, 'write', 'tail', 'last entry, intact'])
  const [old, live] = withStore(store, (s) => [s.read('old'), s.read('live')])
  const b = fs.readFileSync(store)
  const oldV1Start = live.prevOffset - 20 - 'first version of old'.length // the superseded version ends where 'live' begins its pre-pad
  b[oldV1Start + 1] ^= 0xff
  b[live.startOffset + 2] ^= 0xff
  fs.writeFileSync(store, b)
  t.true(old.startOffset > live.startOffset)
  const r = await run([store, 'verify'])
  t.is(r.code, 1, r.stderr)
  t.regex(r.stdout.toString(), /^CORRUPT: 2 entries whose checksum does not match \(1 live\)/)
  t.regex(r.stdout.toString(), new RegExp(`offset ${live.endOffset}  key hash ${computeHash('live')}  live`))
  t.regex(r.stdout.toString(), new RegExp(`key hash ${computeHash('old')}  superseded`))
  const j = await run([store, 'verify', '--json'])
  t.is(j.code, 1)
  const parsed = JSON.parse(j.stdout)
  t.false(parsed.ok)
  t.deepEqual(
    parsed.corrupt.map((c) => [c.keyHash, c.live]).sort(),
    [[computeHash('live').toString(), true], [computeHash('old').toString(), false]].sort(),
  )
  const m = JSON.parse((await ok(t, [store, 'metadata', 'live', '--json'])).stdout)
  t.false(m.checksumValid)
  t.is(tableOf((await ok(t, [store, 'metadata', 'live'])).stdout.toString()).get('CHECKSUM VALIDITY:'), 'INVALID')
  // compact refuses: it would store the damaged live value with a fresh, valid checksum.
  const before = fs.readFileSync(store)
  const refused = await run([store, 'compact'])
  t.is(refused.code, 1)
  t.regex(refused.stderr.toString(), new RegExp(`^error: .*s.srd: checksum mismatch for key hash 0x${computeHash('live').toString(16).padStart(16, '0')}`))
  t.regex(refused.stderr.toString(), /repair drops them/)
  t.deepEqual(fs.readFileSync(store), before, 'nothing changed')
  // repair drops the damaged entries (keeping a backup); compact then works and hides nothing.
  await ok(t, [store, 'repair'])
  t.deepEqual(JSON.parse((await ok(t, [store, 'verify', '--json'])).stdout).corrupt, [])
  const c = await ok(t, [store, 'compact'])
  t.regex(c.stdout.toString(), /^Starting compaction\.\.\.\nCompaction completed successfully\.\n.* -> .*: freed /)
  t.is((await ok(t, [store, 'read', 'tail'])).stdout.toString(), 'last entry, intact')
})

test('compact frees what info said it would, and every key reads the same after it', async (t) => {
  const dir = tmpDir(t)
  const store = path.join(dir, 's.srd')
  for (let i = 0; i < 10; i++) await ok(t, [store, 'write', `k${i % 5}`, `value ${i} `.repeat(i + 1)])
  await ok(t, [store, 'delete', 'k4'])
  const before = JSON.parse((await ok(t, [store, 'info', '--json'])).stdout)
  t.true(before.compactionSavings > 0)
  await ok(t, [store, 'compact'])
  const after = JSON.parse((await ok(t, [store, 'info', '--json'])).stdout)
  t.is(after.fileSize, before.fileSize - before.compactionSavings)
  t.is(after.liveEntries, 4)
  t.is(after.compactionSavings, 0)
  t.is(fs.statSync(store).size, after.fileSize)
  for (let k = 0; k < 4; k++) {
    const i = 5 + k
    t.is((await ok(t, [store, 'read', `k${k}`])).stdout.toString(), `value ${i} `.repeat(i + 1))
  }
})

// ---- import ----

test('import: nested folders keyed by relative path with / separators, --prefix, empty and all-zero files skipped and listed', async (t) => {
  const dir = tmpDir(t)
  const tree = path.join(dir, 'tree')
  const files = {
    'index.html': '<h1>hi</h1>',
    'css/main.css': 'body{}',
    'css/deep/er/x.bin': ALL_BYTES,
    'js/app.js': 'console.log(1)',
    'empty.txt': '',
    'css/deep/empty2': '',
    'zeros.bin': Buffer.alloc(100),
  }
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(tree, rel)), { recursive: true })
    fs.writeFileSync(path.join(tree, rel), content)
  }
  fs.mkdirSync(path.join(tree, 'empty-folder'))
  const store = path.join(dir, 's.srd')
  const r = await run([store, 'import', tree, '--prefix', 'site/'])
  t.is(r.code, 0, r.stderr)
  t.regex(r.stdout.toString(), /^Imported 4 files \(.*\) into .*; skipped 3\n$/)
  t.regex(r.stderr, /skipped .*empty\.txt: empty file/)
  t.regex(r.stderr, /skipped .*empty2: empty file/)
  t.regex(r.stderr, /skipped .*zeros\.bin: .*0x00/)
  for (const [rel, content] of Object.entries(files)) {
    const got = await run([store, 'read', `site/${rel}`])
    if (Buffer.from(content).length === 0 || rel === 'zeros.bin') {
      t.is(got.code, 1, rel)
      continue
    }
    t.is(got.code, 0, rel)
    t.deepEqual(got.stdout, Buffer.from(content), rel)
  }
  const meta = JSON.parse((await ok(t, [store, 'metadata', 'site/css/deep/er/x.bin', '--json'])).stdout)
  t.is(meta.size, 256)
  t.is(meta.keyHash, computeHash('site/css/deep/er/x.bin').toString())
  // --json, no prefix: keys are the bare relative paths.
  const store2 = path.join(dir, 's2.srd')
  const j = JSON.parse((await ok(t, [store2, 'import', tree, '--json'])).stdout)
  t.deepEqual(j.imported.map((f) => f.key).sort(), ['css/deep/er/x.bin', 'css/main.css', 'index.html', 'js/app.js'])
  t.deepEqual(j.skipped.map((f) => f.key).sort(), ['css/deep/empty2', 'empty.txt', 'zeros.bin'])
  t.deepEqual(j.failed, [])
  t.is((await ok(t, [store2, 'read', 'css/main.css'])).stdout.toString(), 'body{}')
  const notDir = await run([store2, 'import', path.join(tree, 'index.html')])
  t.is(notDir.code, 1)
  t.regex(notDir.stderr, /is not a directory/)
})

// ---- progress bars ----

const BAR = /[█░\r\u001b]/

test('progress bars: none when stderr is not a terminal (write from stdin, import, verify, compact)', async (t) => {
  const dir = tmpDir(t)
  const store = path.join(dir, 's.srd')
  fs.mkdirSync(path.join(dir, 'tree'))
  fs.writeFileSync(path.join(dir, 'tree', 'f'), Buffer.alloc(1 << 20, 1))
  for (const [args, input] of [
    [[store, 'write', 'k'], Buffer.alloc(2 << 20, 3)],
    [[store, 'import', path.join(dir, 'tree')], undefined],
    [[store, 'write', 'k'], Buffer.alloc(1 << 20, 4)],
    [[store, 'verify'], undefined],
    [[store, 'compact'], undefined],
  ]) {
    const r = await run(args, { input }) // CI unset: only the missing TTY keeps the bar away
    t.is(r.code, 0, r.stderr)
    t.is(r.stderr, '', `${args[1]}: nothing on stderr`)
    t.notRegex(r.stdout.toString(), BAR)
  }
})

test('progress bars: drawn on a terminal (bytes, rate, time left), not when CI is set or with --no-progress', async (t) => {
  const dir = tmpDir(t)
  const store = path.join(dir, 's.srd')
  const big = path.join(dir, 'big.bin')
  fs.writeFileSync(big, Buffer.alloc(8 << 20, 9))
  const cmd = (extra = '') => `"${process.execPath}" "${bin}" ${extra} "${store}" write k < "${big}"`
  const tty = await runInTty(cmd())
  if (tty === null) {
    t.log('skipped: no `script` command to make a pseudo-terminal')
    t.pass()
    return
  }
  t.is(tty.code, 0, tty.output)
  t.regex(tty.output, /write [█░]+ 100% \| 8\.00 MB \/ 8\.00 MB \| [\d.]+ [KMG]?B(ytes)?\/s \| \d+s left/)
  t.regex(tty.output, /Stored 'k'/)
  const ci = await runInTty(cmd(), { CI: 'true' })
  t.notRegex(ci.output, /[█░]/)
  const off = await runInTty(cmd('--no-progress'))
  t.notRegex(off.output, /[█░]/)
  const read = await runInTty(`"${process.execPath}" "${bin}" "${store}" write t hello && "${process.execPath}" "${bin}" "${store}" read t`)
  t.regex(read.output, /hello\r?\n$/, 'read on a terminal ends with a newline')
  const noValue = await runInTty(`"${process.execPath}" "${bin}" "${store}" write k2; echo "rc=$?"`)
  t.regex(noValue.output, /no value given and stdin is a terminal[\s\S]*rc=2/)
})

// ---- repair ----

test('damage in the middle: commands refuse with the library message and a repair hint; repair salvages it (--json)', async (t) => {
  const dir = tmpDir(t)
  const store = path.join(dir, 's.srd')
  const s = DataStore.open(store)
  for (let i = 0; i < 200; i++) s.write(`k${i}`, `value ${i}`.repeat(3))
  s.close()
  const b = fs.readFileSync(store)
  b.fill(0, 3000, 3200)
  fs.writeFileSync(store, b)
  const r = await run([store, 'read', 'k150'])
  t.is(r.code, 1)
  t.regex(r.stderr, /damaged at offset \d+/)
  t.regex(r.stderr, /simd-r-drive .* repair rebuilds it/)
  t.deepEqual(fs.readFileSync(store), b, 'left byte-identical')
  const rep = JSON.parse((await ok(t, [store, 'repair', '--json'])).stdout)
  t.true(rep.repaired)
  t.true(rep.report.salvagedEntries > 0)
  t.deepEqual(fs.readFileSync(rep.report.backup), b)
  t.is((await ok(t, [store, 'read', 'k199'])).stdout.toString(), 'value 199'.repeat(3))
  t.regex((await ok(t, [store, 'repair'])).stdout.toString(), /^Nothing to repair/)
})

// ---- installed forms ----

test('--help, --version and usage errors work without the native binary; a command then names the package to install', async (t) => {
  const dir = tmpDir(t)
  const pkgDir = path.join(dir, 'pkg')
  fs.mkdirSync(pkgDir)
  for (const f of ['package.json', 'index.js']) fs.copyFileSync(path.join(repo, f), path.join(pkgDir, f))
  fs.cpSync(path.join(repo, 'lib'), path.join(pkgDir, 'lib'), { recursive: true })
  // Its dependencies, and no platform package (nor a .node beside index.js).
  fs.mkdirSync(path.join(pkgDir, 'node_modules'))
  for (const dep of ['commander', 'cli-progress']) {
    fs.symlinkSync(path.join(repo, 'node_modules', dep), path.join(pkgDir, 'node_modules', dep), 'dir')
  }
  const cli = path.join(pkgDir, 'lib', 'cli', 'index.js')
  const help = await run([cli, '--help'], { command: process.execPath })
  t.is(help.code, 0)
  t.regex(help.stdout.toString(), /^Usage: simd-r-drive <store> <command>/)
  t.is((await run([cli, 'x.srd', 'frobnicate'], { command: process.execPath })).code, 2)
  const r = await run([cli, path.join(dir, 'x.srd'), 'info'], { command: process.execPath })
  t.is(r.code, 1)
  t.regex(r.stderr, /^error: .*native binary .* is missing[\s\S]*npm install simd-r-drive-/)
  t.notRegex(r.stderr, STACK)
})

test('npx simd-r-drive in the clone, and the packed bin: a #!/usr/bin/env node script, executable, listed in package.json', async (t) => {
  const pkg = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8'))
  t.is(pkg.bin['simd-r-drive'], 'lib/cli/index.js')
  t.true(pkg.files.includes('lib/'))
  t.true(fs.readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node\n'))
  const npx = await npmTool('npx', ['--offline', 'simd-r-drive', '--version'], { cwd: repo })
  t.is(npx.stdout, `simd-r-drive ${pkg.version}\n`)
  const dir = tmpDir(t)
  await npmTool('npm', ['pack', '--ignore-scripts', '--pack-destination', dir, '--silent'], { cwd: repo })
  const tgz = fs.readdirSync(dir).find((f) => f.endsWith('.tgz'))
  const tar = zlib.gunzipSync(fs.readFileSync(path.join(dir, tgz)))
  let mode = null
  for (let off = 0; off + 512 <= tar.length; ) {
    const name = tar.subarray(off, off + 100).toString().replace(/\0.*$/s, '')
    if (name === '') break
    const size = parseInt(tar.subarray(off + 124, off + 136).toString().replace(/\0.*$/s, '').trim() || '0', 8)
    if (name === 'package/lib/cli/index.js') mode = parseInt(tar.subarray(off + 100, off + 108).toString().replace(/\0.*$/s, '').trim(), 8)
    off += 512 + Math.ceil(size / 512) * 512
  }
  t.not(mode, null, 'lib/cli/index.js is in the tarball')
  if (!WIN) t.is(mode & 0o111, 0o111, `executable in the tarball (mode ${mode?.toString(8)})`) // no file modes on Windows: npm's bin shims run it
})

// ---- the Rust crate's own CLI ----

async function rustOrSkip(t) {
  const r = await rust
  if (r.skip) {
    t.log(`skipped: ${r.skip}`)
    return null
  }
  if (r.installSeconds !== null) t.log(`installed the Rust CLI in ${r.installSeconds.toFixed(0)} s (once; reused from target/rust-cli)`)
  return r.bin
}

/** The Rust tool's metadata table without its MEMORY ADDRESS line (an address in that process). */
function metadataLines(text) {
  return text.split('\n').filter((l) => !l.startsWith('MEMORY ADDRESS:'))
}

test('Rust compatibility: a store written by the Rust CLI reads the same with ours (read bytes, info, metadata)', async (t) => {
  const rustBin = await rustOrSkip(t)
  if (rustBin === null) return t.pass()
  const dir = tmpDir(t)
  const store = path.join(dir, 'rust.bin')
  const rs = (args, opts) => run([store, ...args], { ...opts, command: rustBin })
  const big = Buffer.concat(Array.from({ length: 4096 }, () => ALL_BYTES)) // 1 MiB, every byte value
  t.is((await rs(['write', 'text', 'Hello, world!'])).code, 0)
  t.is((await rs(['write', 'bytes'], { input: ALL_BYTES })).code, 0)
  t.is((await rs(['write', 'big'], { input: big })).code, 0)
  t.is((await rs(['write', 'text', 'Hello again'])).code, 0)
  t.is((await rs(['write', 'ünï ✓', 'utf-8 key'])).code, 0)
  for (const key of ['text', 'bytes', 'big', 'ünï ✓']) {
    const theirs = await rs(['read', key])
    const ours = await ok(t, [store, 'read', key])
    t.is(theirs.code, 0)
    t.deepEqual(ours.stdout, theirs.stdout, `read ${key}: the same bytes`)
    const tm = await rs(['metadata', key])
    const om = await ok(t, [store, 'metadata', key])
    t.deepEqual(metadataLines(om.stdout.toString()), metadataLines(tm.stdout.toString()), `metadata ${key}: the same table`)
  }
  const ti = tableOf((await rs(['info'])).stdout.toString())
  const oi = tableOf((await ok(t, [store, 'info'])).stdout.toString())
  t.true(oi.get('TOTAL SIZE:').startsWith(ti.get('TOTAL SIZE:')), `TOTAL SIZE ${oi.get('TOTAL SIZE:')} vs ${ti.get('TOTAL SIZE:')}`)
  t.is(oi.get('ACTIVE ENTRIES:'), ti.get('ACTIVE ENTRIES:'))
  t.is(oi.get('STORAGE FILE:'), ti.get('STORAGE FILE:'))
  // A missing key: both exit 1 (the messages differ: "Error: Key 'x' not found" / "key not found: x").
  t.is((await rs(['read', 'nope'])).code, 1)
  t.is((await run([store, 'read', 'nope'])).code, 1)
  // After a delete the Rust tool still counts the deleted key once reopened; ours counts live keys.
  t.is((await rs(['delete', 'bytes'])).code, 0)
  t.is(tableOf((await rs(['info'])).stdout.toString()).get('ACTIVE ENTRIES:'), '4')
  t.is(tableOf((await ok(t, [store, 'info'])).stdout.toString()).get('ACTIVE ENTRIES:'), '3')
  t.is((await run([store, 'read', 'bytes'])).code, 1)
})

test('Rust compatibility: a store written by our CLI (stdin, import, rename, delete, compact) reads the same with the Rust CLI', async (t) => {
  const rustBin = await rustOrSkip(t)
  if (rustBin === null) return t.pass()
  const dir = tmpDir(t)
  const store = path.join(dir, 'ours.srd')
  const rs = (args, opts) => run([store, ...args], { ...opts, command: rustBin })
  const big = Buffer.concat(Array.from({ length: 4096 }, () => ALL_BYTES))
  await ok(t, [store, 'write', 'text', 'Hello, world!'])
  await ok(t, [store, 'write', 'bytes'], { input: ALL_BYTES })
  await ok(t, [store, 'write', 'big'], { input: big })
  fs.mkdirSync(path.join(dir, 'tree', 'a', 'b'), { recursive: true })
  fs.writeFileSync(path.join(dir, 'tree', 'a', 'b', 'c.txt'), 'nested file')
  await ok(t, [store, 'import', path.join(dir, 'tree'), '--prefix', 'files/'])
  await ok(t, [store, 'write', 'tmp', 'to be renamed'])
  await ok(t, [store, 'rename', 'tmp', 'renamed'])
  await ok(t, [store, 'write', 'gone', 'to be deleted'])
  await ok(t, [store, 'delete', 'gone'])
  const expected = { text: Buffer.from('Hello, world!'), bytes: ALL_BYTES, big, 'files/a/b/c.txt': Buffer.from('nested file'), renamed: Buffer.from('to be renamed') }
  const check = async (when) => {
    for (const [key, value] of Object.entries(expected)) {
      const theirs = await rs(['read', key])
      t.is(theirs.code, 0, `${when}: Rust read ${key}: ${theirs.stderr}`)
      t.deepEqual(theirs.stdout, value, `${when}: Rust read ${key}`)
      const tm = await rs(['metadata', key])
      const om = await ok(t, [store, 'metadata', key])
      t.deepEqual(metadataLines(om.stdout.toString()), metadataLines(tm.stdout.toString()), `${when}: metadata ${key}`)
    }
    for (const key of ['tmp', 'gone']) t.is((await rs(['read', key])).code, 1, `${when}: ${key} is gone for the Rust CLI`)
    const ti = tableOf((await rs(['info'])).stdout.toString())
    const oi = tableOf((await ok(t, [store, 'info'])).stdout.toString())
    t.true(oi.get('TOTAL SIZE:').startsWith(ti.get('TOTAL SIZE:')), `${when}: TOTAL SIZE`)
  }
  await check('before compaction')
  await ok(t, [store, 'compact'])
  await check('after our compaction')
  t.is(tableOf((await rs(['info'])).stdout.toString()).get('ACTIVE ENTRIES:'), '5', 'no deleted key left to count')
  // And the other way round: the Rust tool compacts, ours reads.
  t.is((await rs(['write', 'text', 'Hello, Rust'])).code, 0)
  t.is((await rs(['compact'])).code, 0)
  t.is((await ok(t, [store, 'read', 'text'])).stdout.toString(), 'Hello, Rust')
  t.deepEqual((await ok(t, [store, 'read', 'big'])).stdout, big)
  t.is((await ok(t, [store, 'verify'])).code, 0)
})
