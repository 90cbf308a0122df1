// keyv's compliance suite (@keyv/test-suite 2.x, for keyv 5) against the
// adapter, as keyv's own adapters run it: the API, value and namespace tests
// (keyvTestSuite) and the iterator tests. Each `store()` is a new adapter on
// one store file, as @keyv/sqlite's tests open one database file each time.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import keyvTestSuite, { keyvIteratorTests } from '@keyv/test-suite'
import Keyv from 'keyv'
import * as test from 'vitest'
import KeyvSimdRDrive from 'simd-r-drive/keyv'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'srd-keyv-suite-'))
const file = path.join(dir, 'suite.srd')
const opened: KeyvSimdRDrive[] = []

const store = () => {
  const adapter = new KeyvSimdRDrive(file)
  opened.push(adapter)
  return adapter
}

keyvTestSuite(test, Keyv, store)
keyvIteratorTests(test, Keyv, store)

test.afterAll(async () => {
  for (const adapter of opened) await adapter.disconnect()
  fs.rmSync(dir, { recursive: true, force: true })
})
