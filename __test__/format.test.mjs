// The TS layer reads entries with literals (src/format.ts, src/view.ts): the
// engine's format and the binding's read answers are their source.
import test from 'ava'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const native = require('../lib/native.js')
const format = require('../lib/format.js')
const view = require('../lib/view.js')

test('the format constants and read answers the TS layer holds are the engine and binding ones', (t) => {
  const facts = native.formatFactsForTest()
  t.is(format.PAYLOAD_ALIGNMENT, facts.payloadAlignment)
  t.is(format.METADATA_SIZE, facts.metadataSize)
  t.is(format.KEY_HASH_AT, facts.keyHashAt)
  t.is(format.PREV_OFFSET_AT, facts.prevOffsetAt)
  t.is(format.CHECKSUM_AT, facts.checksumAt)
  t.is(view.ABSENT, facts.absent)
  t.is(view.STALE, facts.stale)
})

test('the TS layer decodes the metadata the engine encodes', (t) => {
  const fields = { keyHash: 0xfedcba9876543210n, prevOffset: 2 ** 40 + 77, checksum: 0xdeadbeef }
  const bytes = native.encodeMetadataForTest(fields.keyHash, fields.prevOffset, fields.checksum)
  t.is(bytes.length, format.METADATA_SIZE)
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length)
  t.deepEqual(
    { keyHash: format.keyHashAt(dv, 0), prevOffset: format.prevOffsetAt(dv, 0), checksum: format.checksumAt(dv, 0) },
    fields,
  )
})
