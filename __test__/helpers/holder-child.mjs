// Child process of readonly.test.mjs: holds a store open while the test
// drives it, one JSON command per stdin line, one JSON answer per stdout line.
//
//   node holder-child.mjs FILE [OPTIONS_JSON] [API]
//
// API says how the store is opened: 'open' (DataStore.open, the default),
// 'openExisting', 'async' (AsyncDataStore.open) or 'asyncExisting'.
// The first line is `{"ok":true,"len":N}` once open, or
// `{"ok":false,"code":...,"message":...}` (and the child exits 0).
// Commands, each answered `{"ok":true,...}` or `{"ok":false,"code","message"}`:
//   {"op":"write","key","value"}   -> tail
//   {"op":"read","key"}            -> value (text, or null)
//   {"op":"readKeys","keys"}       -> values: { key: value or null }, and len
//   {"op":"delete","key"}          -> tail
//   {"op":"compact"}
//   {"op":"len"}                   -> len
//   {"op":"close"}
// The end of stdin closes the store and exits 0.
import { AsyncDataStore, DataStore } from '../../lib/index.mjs'
import { onLines } from './lines.mjs'

const [file, optionsJson, api = 'open'] = process.argv.slice(2)
const options = optionsJson ? JSON.parse(optionsJson) : undefined
const say = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`)
const failure = (err) => ({ ok: false, code: err?.code ?? null, message: String(err?.message ?? err) })
const text = (h) => (h === null ? null : Buffer.from(h.bytes).toString('utf8'))

let store
try {
  store =
    api === 'async'
      ? await AsyncDataStore.open(file, options)
      : api === 'asyncExisting'
        ? await AsyncDataStore.openExisting(file, options)
        : api === 'openExisting'
          ? DataStore.openExisting(file, options)
          : DataStore.open(file, options)
  say({ ok: true, len: await store.len() })
} catch (err) {
  say(failure(err))
  process.exit(0)
}

const ops = {
  write: async ({ key, value }) => ({ tail: await store.write(key, value) }),
  read: async ({ key }) => ({ value: text(await store.read(key)) }),
  readKeys: async ({ keys }) => {
    const values = {}
    for (const key of keys) values[key] = text(await store.read(key))
    return { values, len: await store.len() }
  },
  delete: async ({ key }) => ({ tail: await store.delete(key) }),
  compact: async () => {
    await store.compact()
    return {}
  },
  len: async () => ({ len: await store.len() }),
  close: async () => {
    await store.close()
    return {}
  },
}

// One command at a time, answered in order.
let chain = Promise.resolve()
onLines(process.stdin, 'utf8', (line) => {
  if (line.trim() === '') return
  chain = chain.then(async () => {
    const cmd = JSON.parse(line)
    try {
      const op = ops[cmd.op]
      if (op === undefined) throw new Error(`unknown op ${cmd.op}`)
      say({ ok: true, ...(await op(cmd)) })
    } catch (err) {
      say(failure(err))
    }
  })
})
process.stdin.on('end', () => {
  chain.then(async () => {
    try {
      await store.close()
    } catch {
      // already closed
    }
    process.exit(0)
  })
})
