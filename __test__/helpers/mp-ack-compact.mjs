// Child of multiprocess.test.mjs: writes `k` (version 1) and a new key
// `fresh`, prints `acked TAIL` once both writes returned, then compacts the
// store (a large one, so the compaction takes a while) and prints
// `compacted`.
//
//   node mp-ack-compact.mjs FILE
import { DataStore } from '../../lib/index.mjs'
import { mpPayload } from './mp-common.mjs'

const [file] = process.argv.slice(2)
const s = DataStore.open(file)
s.write('k', mpPayload('k', 1))
const tail = s.write('fresh', mpPayload('fresh', 1))
console.log(`acked ${tail}`)
const t0 = Date.now()
s.compact()
console.log(`compacted ${Date.now() - t0}`)
s.close()
