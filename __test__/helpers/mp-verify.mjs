// Child of multiprocess.test.mjs: a fresh open of a store that other
// processes may be writing. EXPECT is a JSON file `{ key: version }`: each
// key must be present with the exact payload of that version or (with
// `atLeast`) of a newer one. Every entry iteration yields must be an exact
// payload too. Prints one JSON line `{ ok, checked, errors, len, iter }`.
//
//   node mp-verify.mjs FILE EXPECT exact|atLeast
import fs from 'node:fs'
import { DataStore } from '../../lib/index.mjs'
import { checkPayload } from './mp-common.mjs'

const [file, expectPath, mode] = process.argv.slice(2)
const expect = JSON.parse(fs.readFileSync(expectPath, 'utf8'))
const s = DataStore.open(file)
const errors = []
const bad = (m) => errors.length < 20 && errors.push(m)
let checked = 0
for (const [key, version] of Object.entries(expect)) {
  const h = s.read(key)
  checked++
  if (h === null) {
    bad(`${key} missing (acknowledged version ${version})`)
    continue
  }
  const c = checkPayload(h.bytes, key)
  if (typeof c === 'string') bad(c)
  else if (mode === 'exact' ? c.version !== version : c.version < version) bad(`${key}: version ${c.version}, acknowledged ${version}`)
}
let iter = 0
for (const h of s) {
  iter++
  const c = checkPayload(h.bytes)
  if (typeof c === 'string') bad(`iteration: ${c}`)
}
const len = s.len()
s.close()
console.log(JSON.stringify({ ok: errors.length === 0, checked, errors, len, iter }))
