// Child process of readonly.test.mjs (run as root, or as user nobody through
// setpriv): opens one store every way there is and prints what happened as
// one JSON line. The store is on a read-only mount, or a file this user may
// not write, so its mappings live and die with this process.
//
//   node readonly-child.mjs CONFIG_JSON
//
// CONFIG: { file, keys: [key...], bigStream?: bytes }. For each opener
// (open, openExisting, async, asyncExisting):
// - readOnly[opener]: { values: { key: text or null }, len, verify (corrupt
//   entries found), write (the code `write` failed with), bigStream (the code
//   a `writeStream` of that many bytes failed with) } or { code, message };
// - readWrite['<opener> default' | '<opener> exclusive']: { opened: true } or
//   { code, message, syscall }.
// `listing`: the names in the store's directory at the end.
import fs from 'node:fs'
import path from 'node:path'
import { AsyncDataStore, DataStore } from '../../lib/index.mjs'

const { file, keys, bigStream } = JSON.parse(process.argv[2])
const coded = (e) => ({ code: e?.code ?? null, message: String(e?.message ?? e), syscall: e?.syscall })
const text = (h) => (h === null ? null : Buffer.from(h.bytes).toString('utf8'))
const openers = {
  open: (o) => DataStore.open(file, o),
  openExisting: (o) => DataStore.openExisting(file, o),
  async: (o) => AsyncDataStore.open(file, o),
  asyncExisting: (o) => AsyncDataStore.openExisting(file, o),
}
const out = { uid: process.getuid?.(), readOnly: {}, readWrite: {} }
for (const [name, open] of Object.entries(openers)) {
  try {
    const s = await open({ readOnly: true })
    const r = { values: {}, len: await s.len(), verify: (await s.verify()).length }
    for (const k of keys) r.values[k] = text(await s.read(k))
    try {
      await s.write('written', 'by a read-only store')
      r.write = 'wrote'
    } catch (e) {
      r.write = e.code ?? String(e)
    }
    if (bigStream) {
      try {
        await s.writeStream('big', [Buffer.alloc(bigStream, 1)])
        r.bigStream = 'wrote'
      } catch (e) {
        r.bigStream = e.code ?? String(e)
        r.bigStreamMessage = e.message
      }
    }
    await s.close()
    out.readOnly[name] = r
  } catch (e) {
    out.readOnly[name] = coded(e)
  }
  for (const [mode, o] of [
    ['default', undefined],
    ['exclusive', { exclusive: true }],
  ]) {
    try {
      const s = await open(o)
      out.readWrite[`${name} ${mode}`] = { opened: true }
      await s.close()
    } catch (e) {
      out.readWrite[`${name} ${mode}`] = coded(e)
    }
  }
}
out.listing = fs.readdirSync(path.dirname(file)).sort()
process.stdout.write(`${JSON.stringify(out)}\n`)
