// Child process of concurrency.test.mjs: opens a store with one API and
// prints `{"ok":true,...}` or `{"ok":false,"code":...}` as one JSON line.
//
//   node open-child.mjs FILE open|openExisting|async|repair|write
// `write` opens, writes key `from-child` and closes.
import { DataStore, AsyncDataStore } from '../../lib/index.mjs'

const [file, how] = process.argv.slice(2)
try {
  let result = {}
  if (how === 'async') {
    const s = await AsyncDataStore.open(file)
    result = { len: await s.len() }
    await s.close()
  } else {
    const s =
      how === 'openExisting' ? DataStore.openExisting(file) : DataStore.open(file, how === 'repair' ? { repair: true } : undefined)
    result = { len: s.len() }
    if (how === 'write') result.tail = s.write('from-child', 'written by another process')
    s.close()
  }
  console.log(JSON.stringify({ ok: true, ...result }))
} catch (err) {
  console.log(JSON.stringify({ ok: false, code: err?.code ?? null, message: String(err?.message ?? err) }))
}
