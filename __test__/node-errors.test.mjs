// Node-style errors (issue 14, item 4): OS errors look like Node's own fs
// errors (code, negative errno, syscall, path, message), compared with what
// node:fs reports for the same path; ERR_KEY_NOT_FOUND names the key;
// unknown option names are refused; util.inspect shows what a user wants;
// DataStore is disposable.
import test from 'ava'
import fs from 'node:fs'
import path from 'node:path'
import util from 'node:util'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'
import { DataStore, AsyncDataStore } from '../lib/index.mjs'
import { tmpDir } from './helpers/store.mjs'

const require = createRequire(import.meta.url)
const native = require('../index.js')
const ENTRY = fileURLToPath(new URL('../lib/index.mjs', import.meta.url))

const fields = (e) => ({ code: e?.code, errno: e?.errno, syscall: e?.syscall, path: e?.path, message: e?.message })

/** The error node:fs throws for `fn`. */
function nodeError(fn) {
  try {
    fn()
  } catch (e) {
    return fields(e)
  }
  throw new Error('node:fs did not throw')
}

test('the errno table (code, errno, description) is exactly Node\'s own for this platform', (t) => {
  const map = util.getSystemErrorMap()
  const rows = native.errnoTableForTest()
  t.true(rows.length >= 20)
  for (const [errno, code, text] of rows) t.deepEqual(map.get(errno), [code, text], `${code} (${errno})`)
})

test('OS errors of open are Node\'s: the same code, errno, syscall, path and message as node:fs for the same path', async (t) => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'plain.txt')
  fs.writeFileSync(file, 'x')
  const cases = [
    ['a missing file (openExisting)', path.join(dir, 'missing.srd'), 'ENOENT', (p) => DataStore.openExisting(p), (p) => AsyncDataStore.openExisting(p), (p) => fs.openSync(p, 'r+')],
    ['a missing folder', path.join(dir, 'nodir', 's.srd'), 'ENOENT', (p) => DataStore.open(p), (p) => AsyncDataStore.open(p), (p) => fs.openSync(p, 'a+')],
    ['a directory', dir, 'EISDIR', (p) => DataStore.open(p), (p) => AsyncDataStore.open(p), (p) => fs.openSync(p, 'r+')],
    ['a path through a file', path.join(file, 's.srd'), 'ENOTDIR', (p) => DataStore.open(p), (p) => AsyncDataStore.open(p), (p) => fs.openSync(p, 'a+')],
  ]
  for (const [what, p, code, sync, async_, viaFs] of cases) {
    const want = nodeError(() => viaFs(p))
    t.is(want.code, code, `node:fs on ${what}`)
    const got = fields(t.throws(() => sync(p), undefined, what))
    t.deepEqual(got, want, `${what}: DataStore`)
    const gotAsync = fields(await t.throwsAsync(async () => async_(p), undefined, what))
    t.deepEqual(gotAsync, want, `${what}: AsyncDataStore`)
  }
  t.deepEqual(fs.readdirSync(dir), ['plain.txt'], 'no file was created')
})

test('EACCES for a store the user may not write is Node\'s error too (an unprivileged child, via setpriv)', (t) => {
  const setpriv = spawnSync('setpriv', ['--version'])
  if (process.getuid?.() !== 0 || setpriv.status !== 0) {
    t.log('skipped: needs root and setpriv to run a child as nobody')
    return t.pass()
  }
  const dir = fs.mkdtempSync('/tmp/srd-eacces-')
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  fs.chmodSync(dir, 0o755)
  const file = path.join(dir, 's.srd')
  const s = DataStore.open(file)
  s.write('k', 'v')
  s.close()
  fs.chmodSync(file, 0o444)
  const code = `
    import fs from 'node:fs'
    import { DataStore } from ${JSON.stringify(ENTRY)}
    const f = (e) => ({ code: e.code, errno: e.errno, syscall: e.syscall, path: e.path, message: e.message })
    const out = {}
    try { DataStore.open(${JSON.stringify(file)}) } catch (e) { out.ours = f(e) }
    try { fs.openSync(${JSON.stringify(file)}, 'r+') } catch (e) { out.node = f(e) }
    process.stdout.write(JSON.stringify(out))
  `
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--input-type=module', '-e', code], {
    encoding: 'utf8',
  })
  t.is(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout)
  t.is(out.node.code, 'EACCES')
  t.deepEqual(out.ours, out.node)
})

test('ERR_KEY_NOT_FOUND says which key: printable keys as text, others as hex, long ones shortened; sync and async', async (t) => {
  const dir = tmpDir(t)
  const s = DataStore.open(path.join(dir, 'a.srd'))
  const other = DataStore.open(path.join(dir, 'b.srd'))
  t.teardown(() => {
    s.close()
    other.close()
  })
  const cases = [
    ['user:42', 'key not found: "user:42"'],
    [Buffer.from([0, 1, 0xfe, 0xff]), 'key not found: <hex 0001feff>'],
    ['x'.repeat(100), `key not found: "${'x'.repeat(64)}"... (100 characters)`],
    [Buffer.alloc(40, 0xab), `key not found: <hex ${'ab'.repeat(32)}...> (40 bytes)`],
  ]
  for (const [key, message] of cases) {
    for (const [name, call] of [
      ['rename', () => s.rename(key, 'new')],
      ['copy', () => s.copy(key, other)],
      ['transfer', () => s.transfer(key, other)],
    ]) {
      const e = t.throws(call, undefined, name)
      t.is(e.code, 'ERR_KEY_NOT_FOUND')
      t.is(e.message, message, name)
    }
    for (const [name, call] of [
      ['async rename', () => s.async.rename(key, 'new')],
      ['async copy', () => s.async.copy(key, other)],
      ['async transfer', () => s.async.transfer(key, other)],
    ]) {
      const e = await t.throwsAsync(call, undefined, name)
      t.is(e.code, 'ERR_KEY_NOT_FOUND')
      t.is(e.message, message, name)
    }
  }
})

test('unknown option names are ERR_INVALID_ARG_VALUE naming the option; non-boolean flags ERR_INVALID_ARG_TYPE', async (t) => {
  const dir = tmpDir(t)
  const file = path.join(dir, 's.srd')
  const s = DataStore.open(file)
  t.teardown(() => s.close())
  s.write('k', 'v')
  const unknown = [
    ['DataStore.open({ readonly })', () => DataStore.open(file, { readonly: true }), 'readonly'],
    ['DataStore.openExisting({ ttl })', () => DataStore.openExisting(file, { ttl: 5 }), 'ttl'],
    ['read({ verfy })', () => s.read('k', { verfy: true }), 'verfy'],
    ['readWithKeyHash({ ttl })', () => s.readWithKeyHash(1n, { ttl: 1 }), 'ttl'],
    ['readStream({ highWatermark })', () => s.readStream('k', { highWatermark: 10 }), 'highWatermark'],
  ]
  for (const [what, call, name] of unknown) {
    const e = t.throws(call, undefined, what)
    t.is(e.code, 'ERR_INVALID_ARG_VALUE', what)
    t.true(e.message.includes(`"${name}"`), `${what}: ${e.message}`)
  }
  for (const [what, call, name] of [
    ['AsyncDataStore.open({ readonly })', () => AsyncDataStore.open(file, { readonly: true }), 'readonly'],
    ['async read({ verfy })', () => s.async.read('k', { verfy: true }), 'verfy'],
    ['async writeStream({ sigal })', () => s.async.writeStream('w', [Buffer.from('x')], { sigal: null }), 'sigal'],
  ]) {
    const e = await t.throwsAsync(call, undefined, what)
    t.is(e.code, 'ERR_INVALID_ARG_VALUE', what)
    t.true(e.message.includes(`"${name}"`), `${what}: ${e.message}`)
  }
  for (const opts of [{ repair: 'yes' }, { durable: 1 }, { verifyReads: null }, { readOnly: 'yes' }, { exclusive: 1 }, { keys: 'on' }]) {
    t.is(t.throws(() => DataStore.open(file, opts)).code, 'ERR_INVALID_ARG_TYPE', JSON.stringify(opts))
  }
  t.is(t.throws(() => s.read('k', { verify: 'no' })).code, 'ERR_INVALID_ARG_TYPE')
  // Known options still work.
  t.is(s.read('k', { verify: true }).bytes.toString(), 'v')
  t.is(await s.async.read('w'), null, 'the refused writeStream wrote nothing')
})

test('util.inspect shows a store\'s path, live keys and size, and a handle\'s key hash, size and offsets; no internals', async (t) => {
  const dir = tmpDir(t)
  const file = path.join(dir, 's.srd')
  const s = DataStore.open(file)
  s.write('a', 'hello')
  s.write('b', 'world!')
  const shown = util.inspect(s)
  t.is(shown, `DataStore { path: '${s.path}', keys: 2, fileSize: ${s.fileSize()} }`)
  const a = await AsyncDataStore.open(file)
  t.is(util.inspect(a), `AsyncDataStore { path: '${s.path}', keys: 2, fileSize: ${s.fileSize()} }`)
  const h = s.read('b')
  t.is(util.inspect(h, { breakLength: Infinity }), `EntryHandle { keyHash: ${h.keyHash}n, size: 6, startOffset: ${h.startOffset}, endOffset: ${h.endOffset} }`)
  for (const text of [shown, util.inspect(h), util.inspect(a)]) t.false(/native|views|ArrayBuffer|DataView/.test(text), text)
  await a.close()
  s.close()
  t.is(util.inspect(s), `DataStore { path: '${fs.realpathSync(file)}', closed: true }`)
})

test('DataStore[Symbol.dispose] closes the store (what `using` calls)', (t) => {
  const dir = tmpDir(t)
  const s = DataStore.open(path.join(dir, 's.srd'))
  t.is(typeof s[Symbol.dispose], 'function')
  s.write('k', 'v')
  s[Symbol.dispose]()
  t.true(s.closed)
  t.is(t.throws(() => s.write('k', 'v')).code, 'ERR_STORE_CLOSED')
})
