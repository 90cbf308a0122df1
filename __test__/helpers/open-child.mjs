// Child process of concurrency.test.mjs: opens a store with one API and
// prints `{"ok":true,...}` or `{"ok":false,"code":...}` as one JSON line.
//
//   node open-child.mjs FILE open|openExisting|async|repair|write [OPTIONS_JSON]
// `write` opens, writes key `from-child` and closes. OPTIONS_JSON (e.g.
// '{"exclusive":true}' or '{"readOnly":true}') are the open options (with
// `repair: true` added for `repair`). The answer has the store's `len` and
// the text of key `a` (null when absent).
import { DataStore, AsyncDataStore } from '../../lib/index.mjs'

const [file, how, optionsJson] = process.argv.slice(2)
const options = optionsJson ? JSON.parse(optionsJson) : undefined
const text = (h) => (h === null ? null : Buffer.from(h.bytes).toString('utf8'))
try {
  let result = {}
  if (how === 'async') {
    const s = await AsyncDataStore.open(file, options)
    result = { len: await s.len(), a: text(await s.read('a')) }
    await s.close()
  } else {
    const s =
      how === 'openExisting'
        ? DataStore.openExisting(file, options)
        : DataStore.open(file, how === 'repair' ? { ...options, repair: true } : options)
    result = { len: s.len(), a: text(s.read('a')) }
    if (how === 'write') result.tail = s.write('from-child', 'written by another process')
    s.close()
  }
  console.log(JSON.stringify({ ok: true, ...result }))
} catch (err) {
  console.log(JSON.stringify({ ok: false, code: err?.code ?? null, message: String(err?.message ?? err) }))
}
