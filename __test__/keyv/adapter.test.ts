// The keyv adapter beyond keyv's compliance suite (suite.test.ts): its own
// payload envelope, TTL in milliseconds (expired entries never returned, and
// deleted: gone from the store's key listing), clear() of one namespace only,
// reopening, options, read-only stores, two processes on one file.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import readline from 'node:readline'
import { fileURLToPath } from 'node:url'
import Keyv, { type KeyvStoreAdapter } from 'keyv'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { DataStore } from 'simd-r-drive'
import KeyvSimdRDrive, { KeyvSimdRDrive as Named } from 'simd-r-drive/keyv'

const here = path.dirname(fileURLToPath(import.meta.url))
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'srd-keyv-'))
let n = 0
const opened: KeyvSimdRDrive[] = []

afterAll(async () => {
  for (const a of opened) await a.disconnect()
  fs.rmSync(dir, { recursive: true, force: true })
})

/** A fresh store file. */
function newFile(): string {
  return path.join(dir, `store-${++n}.srd`)
}

function adapter(file = newFile(), options: Record<string, unknown> = {}): KeyvSimdRDrive {
  const a = new KeyvSimdRDrive({ path: file, ...options })
  opened.push(a)
  return a
}

/** The keys the store file lists (what is left in it), as strings, sorted. */
function listed(a: KeyvSimdRDrive, prefix?: string): string[] {
  return [...a.store.keys(prefix === undefined ? undefined : { prefix })].map((k) => k.toString()).sort()
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Date.now() (keyv's clock and the adapter's) stands at `ms` until the test
 * ends: expiry without sleeping, so no test depends on how busy the machine
 * is. Timers stay real. One test per layer also runs on the real clock.
 */
function clockAt(ms: number): void {
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(ms)
}
afterEach(() => {
  vi.useRealTimers()
})
const T0 = 1_800_000_000_000

describe('exports and shape', () => {
  it('the default export is the named class, a keyv store adapter with iteration keyv 5 wires up', () => {
    expect(KeyvSimdRDrive).toBe(Named)
    const a: KeyvStoreAdapter = adapter()
    const keyv = new Keyv({ store: a })
    expect(typeof keyv.iterator).toBe('function')
    expect(a.opts.dialect).toBe('etcd')
    expect(typeof a.on).toBe('function')
    // keyv listens to the adapter's 'error' events.
    expect((a as KeyvSimdRDrive).listenerCount('error')).toBe(1)
    expect(a.namespace).toBe('keyv')
  })

  it('new KeyvSimdRDrive(path) and ({ path, ...openOptions }) open the store with keys on', async () => {
    const file = newFile()
    const a = adapter(file, { durable: true, verifyReads: true })
    expect(a.opts).toMatchObject({ path: file, durable: true, verifyReads: true })
    await a.set('k', 'v')
    expect(listed(a)).toEqual(['k'])
    const b = new KeyvSimdRDrive(file)
    opened.push(b)
    expect(await b.get('k')).toBe('v')
    expect(b.opts.path).toBe(file)
  })

  it('bad options throw as the store throws them; keys: false is refused', () => {
    expect(() => new KeyvSimdRDrive({ path: newFile(), keys: false } as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }))
    expect(() => new KeyvSimdRDrive({ path: newFile(), readonly: true } as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }))
    expect(() => new KeyvSimdRDrive({} as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }))
    // keys: true is what it does anyway.
    const a = adapter(newFile(), { keys: true })
    expect(a.store.closed).toBe(false)
  })
})

describe('values: the envelope stores any value', () => {
  it("strings ('' included), bytes and other values (as JSON) read back as written", async () => {
    const a = adapter()
    await a.set('empty', '')
    await a.set('nul', '\0')
    await a.set('text', 'héllo ✓')
    await a.set('bytes', Buffer.from([0, 1, 2, 255]))
    await a.set('obj', { value: [1, 'two'], expires: null })
    expect(await a.get('empty')).toBe('')
    expect(await a.get('nul')).toBe('\0')
    expect(await a.get('text')).toBe('héllo ✓')
    expect(await a.get('bytes')).toEqual(Buffer.from([0, 1, 2, 255]))
    expect(await a.get('obj')).toEqual({ value: [1, 'two'], expires: null })
    expect(await a.getMany(['empty', 'missing', 'bytes'])).toEqual(['', undefined, Buffer.from([0, 1, 2, 255])])
    // The payload: 8 bytes of expiry (0: never), a kind byte (0: string), the value.
    const payload = (key: string) => Buffer.from(a.store.read(key)?.bytes ?? [])
    expect(payload('empty')).toEqual(Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0]))
    expect(payload('bytes')).toEqual(Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 2, 255]))
    expect(payload('obj').subarray(8).toString()).toBe('\x02{"value":[1,"two"],"expires":null}')
    const before = Date.now()
    await a.set('ttl', 'v', 1000)
    const expiry = payload('ttl').readBigUInt64LE(0)
    expect(expiry >= BigInt(before + 1000) && expiry <= BigInt(Date.now() + 1000)).toBe(true)
    await expect(a.set('fn', () => 1)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' })
  })

  it("a value read is a copy: it survives later writes and the adapter's disconnect", async () => {
    const a = adapter()
    await a.set('k', Buffer.from('first'))
    const v = (await a.get('k')) as Buffer
    await a.set('k', Buffer.from('second'))
    await a.disconnect()
    expect(v.toString()).toBe('first')
  })

  it('an entry that is not an envelope (written by other code): get and has reject ERR_INVALID_DATA, keyv reads it as absent, the iterator skips it, delete deletes it', async () => {
    const file = newFile()
    const a = adapter(file)
    const raw = DataStore.open(file, { keys: true })
    raw.write('keyv:foreign', 'x')
    raw.write('keyv:short', 'y')
    raw.close()
    await a.set('keyv:mine', 'v')
    await expect(a.get('keyv:foreign')).rejects.toMatchObject({ code: 'ERR_INVALID_DATA' })
    await expect(a.getMany(['keyv:mine', 'keyv:foreign'])).rejects.toMatchObject({ code: 'ERR_INVALID_DATA' })
    await expect(a.has('keyv:foreign')).rejects.toMatchObject({ code: 'ERR_INVALID_DATA' })
    expect(await new Keyv({ store: a }).get('foreign')).toBeUndefined()
    const seen = []
    for await (const [k] of a.iterator('keyv')) seen.push(k)
    expect(seen).toEqual(['keyv:mine'])
    expect(await a.clearExpired()).toBe(0)
    expect(await a.delete('keyv:foreign')).toBe(true)
    expect(await a.deleteMany(['keyv:short'])).toBe(true)
    expect(listed(a)).toEqual(['keyv:mine'])
  })
})

describe('TTL in milliseconds', () => {
  it('an entry lives ttl ms: then get, has, getMany and the iterator no longer return it, and the first to meet it deletes it', async () => {
    clockAt(T0)
    const a = adapter()
    await a.set('keyv:get', 'v', 40)
    await a.set('keyv:has', 'v', 40)
    await a.set('keyv:many', 'v', 40)
    await a.set('keyv:iter', 'v', 40)
    await a.set('keyv:stays', 'v', 60_000)
    await a.set('keyv:forever', 'v')
    vi.setSystemTime(T0 + 39)
    expect(await a.get('keyv:get')).toBe('v')
    expect(await a.has('keyv:has')).toBe(true)
    expect(await a.getMany(['keyv:many'])).toEqual(['v'])
    vi.setSystemTime(T0 + 40)
    const all = ['keyv:forever', 'keyv:get', 'keyv:has', 'keyv:iter', 'keyv:many', 'keyv:stays']
    expect(listed(a)).toEqual(all)
    expect(await a.get('keyv:get')).toBeUndefined()
    expect(listed(a)).toEqual(all.filter((k) => k !== 'keyv:get'))
    expect(await a.has('keyv:has')).toBe(false)
    expect(await a.getMany(['keyv:many', 'keyv:stays'])).toEqual([undefined, 'v'])
    const seen = []
    for await (const [k] of a.iterator('keyv')) seen.push(k)
    expect(seen.sort()).toEqual(['keyv:forever', 'keyv:stays'])
    // All four met, all four deleted from the file.
    expect(listed(a)).toEqual(['keyv:forever', 'keyv:stays'])
    expect(a.store.exists('keyv:iter')).toBe(false)
  })

  it('through keyv: set(key, value, ttl) expires after ttl ms, and keyv.get deletes it from the file', async () => {
    clockAt(T0)
    const a = adapter()
    const keyv = new Keyv({ store: a })
    await keyv.set('session', { user: 1 }, 30)
    await keyv.set('config', 'kept')
    vi.setSystemTime(T0 + 29)
    expect(await keyv.get('session')).toEqual({ user: 1 })
    vi.setSystemTime(T0 + 31)
    expect(await a.has('keyv:session')).toBe(false) // the adapter's own expiry, not keyv's
    expect(await keyv.get('session')).toBeUndefined()
    expect(await keyv.has('session')).toBe(false)
    expect(listed(a)).toEqual(['keyv:config'])
    // keyv's default ttl reaches the adapter too.
    const short = new Keyv({ store: a, ttl: 20, namespace: 'short' })
    await short.set('x', 1)
    vi.setSystemTime(T0 + 60)
    expect(await a.get('short:x')).toBeUndefined()
    expect(listed(a, 'short:')).toEqual([])
  })

  it('on the real clock: an entry set with a ttl of 30 ms is gone 80 ms later, and deleted from the file', async () => {
    const a = adapter()
    const keyv = new Keyv({ store: a })
    await keyv.set('brief', 'v', 30)
    expect(listed(a)).toEqual(['keyv:brief'])
    await sleep(80)
    expect(await keyv.get('brief')).toBeUndefined()
    expect(listed(a)).toEqual([])
  })

  it('the expiry is absolute, in the file: it holds across a reopen', async () => {
    clockAt(T0)
    const file = newFile()
    const a = adapter(file)
    await a.set('k', 'v', 50)
    await a.disconnect()
    const b = adapter(file)
    vi.setSystemTime(T0 + 49)
    expect(await b.get('k')).toBe('v')
    vi.setSystemTime(T0 + 50)
    expect(await b.get('k')).toBeUndefined()
  })

  it('clearExpired() deletes the expired entries no one reads again (of its namespace only) and says how many', async () => {
    clockAt(T0)
    const a = adapter()
    a.namespace = 'ns'
    await a.set('ns:a', '1', 20)
    await a.set('ns:b', '2', 20)
    await a.set('ns:c', '3')
    await a.set('other:a', '1', 20)
    vi.setSystemTime(T0 + 20)
    expect(await a.clearExpired()).toBe(2)
    expect(listed(a)).toEqual(['ns:c', 'other:a'])
    expect(await a.clearExpired()).toBe(0)
  })

  it('ttl 0, undefined or Infinity: no expiry; a negative ttl deletes the key', async () => {
    clockAt(T0)
    const a = adapter()
    await a.set('zero', 'v', 0)
    await a.set('inf', 'v', Number.POSITIVE_INFINITY)
    await a.set('huge', 'v', Number.MAX_VALUE) // the expiry saturates (2^53 - 1 ms)
    await a.set('gone', 'v')
    await a.set('gone', 'w', -1)
    vi.setSystemTime(T0 + 365 * 24 * 3600 * 1000)
    expect(await a.get('zero')).toBe('v')
    expect(await a.get('inf')).toBe('v')
    expect(await a.get('huge')).toBe('v')
    expect(Buffer.from(a.store.read('huge')?.bytes ?? []).readBigUInt64LE(0)).toBe(BigInt(Number.MAX_SAFE_INTEGER))
    expect(await a.get('gone')).toBeUndefined()
    expect(listed(a)).toEqual(['huge', 'inf', 'zero'])
  })
})

describe('delete, deleteMany, clear', () => {
  it('delete and deleteMany say whether a live value was there; an expired one is deleted but counts as absent', async () => {
    clockAt(T0)
    const a = adapter()
    await a.set('a', '1')
    await a.set('b', '2')
    await a.set('old', '3', 10)
    vi.setSystemTime(T0 + 10)
    expect(await a.delete('old')).toBe(false)
    expect(listed(a)).toEqual(['a', 'b'])
    expect(await a.delete('a')).toBe(true)
    expect(await a.delete('a')).toBe(false)
    await a.set('old', '3', 10)
    vi.setSystemTime(T0 + 20)
    expect(await a.deleteMany(['old', 'missing'])).toBe(false)
    expect(listed(a)).toEqual(['b'])
    expect(await a.deleteMany(['b', 'b', 'missing'])).toBe(true)
    expect(listed(a)).toEqual([])
  })

  it('clear() deletes its namespace only: other namespaces, and keys outside any, stay', async () => {
    const file = newFile()
    const shared = adapter(file)
    const users = new Keyv({ store: adapter(file), namespace: 'users' })
    const user = new Keyv({ store: adapter(file), namespace: 'user' })
    const sessions = new Keyv({ store: adapter(file), namespace: 'sessions' })
    await users.set('1', 'ada')
    await users.set('2', 'grace')
    await user.set('1', 'prefix of users, not cleared with it')
    await sessions.set('s', 'token')
    await shared.set('plain', 'no namespace')
    await users.clear()
    expect(await users.get('1')).toBeUndefined()
    expect(await user.get('1')).toBe('prefix of users, not cleared with it')
    expect(await sessions.get('s')).toBe('token')
    expect(listed(shared)).toEqual(['plain', 'sessions:s', 'user:1'])
    // Without a namespace, clear() deletes every key the store lists.
    const all = new Keyv({ store: adapter(file), namespace: '' })
    expect(all.store.namespace).toBeUndefined()
    await all.clear()
    expect(listed(shared)).toEqual([])
  })
})

describe('iterator', () => {
  it("yields [key, value] of its namespace with the keys as stored; keyv's iterator strips the prefix", async () => {
    const file = newFile()
    const a = adapter(file)
    const keyv = new Keyv({ store: a, namespace: 'ns' })
    await keyv.set('x', 1)
    await keyv.set('y:z', 2)
    await new Keyv({ store: adapter(file), namespace: 'nsx' }).set('x', 3)
    const raw = []
    for await (const entry of a.iterator('ns')) raw.push(entry)
    expect(raw.sort()).toEqual([
      ['ns:x', JSON.stringify({ value: 1 })],
      ['ns:y:z', JSON.stringify({ value: 2 })],
    ])
    const through = []
    for await (const entry of keyv.iterator!({})) through.push(entry)
    expect(through.sort()).toEqual([
      ['x', 1],
      ['y:z', 2],
    ])
  })

  it('a key deleted while iterating is skipped', async () => {
    const a = adapter()
    for (const k of ['a', 'b', 'c']) await a.set(`ns:${k}`, k)
    const seen = []
    for await (const [k] of a.iterator('ns')) {
      seen.push(k)
      if (seen.length === 1) for (const other of ['ns:a', 'ns:b', 'ns:c']) if (other !== k) await a.delete(other)
    }
    expect(seen).toHaveLength(1)
  })
})

describe('the store underneath', () => {
  it('reopening keeps the data (namespaces, values, TTLs)', async () => {
    const file = newFile()
    const keyv = new Keyv({ store: new KeyvSimdRDrive(file), namespace: 'app' })
    await keyv.set('a', { deep: [1, 2] })
    await keyv.set('b', 'later', 60_000)
    await keyv.disconnect()
    const again = new Keyv({ store: adapter(file), namespace: 'app' })
    expect(await again.get('a')).toEqual({ deep: [1, 2] })
    expect(await again.get('b')).toBe('later')
    expect(await again.get('missing')).toBeUndefined()
  })

  it('disconnect() closes the store: calls after it reject with ERR_STORE_CLOSED (keyv emits the error)', async () => {
    const a = new KeyvSimdRDrive(newFile())
    const keyv = new Keyv({ store: a })
    await keyv.set('k', 'v')
    await keyv.disconnect()
    expect(a.store.closed).toBe(true)
    await expect(a.get('k')).rejects.toMatchObject({ code: 'ERR_STORE_CLOSED' })
    const errors: unknown[] = []
    keyv.on('error', (err) => errors.push(err))
    expect(await keyv.set('k', 'w')).toBe(false)
    expect(errors).toEqual([expect.objectContaining({ code: 'ERR_STORE_CLOSED' })])
    await a.disconnect() // twice is fine
  })

  it('a read-only adapter reads; writes reject ERR_STORE_READ_ONLY; an expired entry reads as absent and stays', async () => {
    clockAt(T0)
    const file = newFile()
    const writer = adapter(file)
    await writer.set('k', 'v')
    await writer.set('brief', 'v', 10)
    const reader = adapter(file, { readOnly: true })
    expect(await reader.get('k')).toBe('v')
    await expect(reader.set('k', 'w')).rejects.toMatchObject({ code: 'ERR_STORE_READ_ONLY' })
    vi.setSystemTime(T0 + 10)
    expect(await reader.get('brief')).toBeUndefined()
    expect(listed(writer)).toEqual(['brief', 'k'])
  })

  it('the store counts the entries, not the key records; compact() keeps everything readable', async () => {
    const a = adapter()
    const keyv = new Keyv({ store: a })
    for (let i = 0; i < 10; i++) await keyv.set(`k${i}`, i)
    for (let i = 0; i < 10; i++) await keyv.set(`k${i}`, i * 2)
    expect(a.store.len()).toBe(10)
    a.store.compact()
    expect(await keyv.get('k9')).toBe(18)
    expect(listed(a)).toHaveLength(10)
  })
})

describe('two processes on one file', () => {
  /** A child process with a keyv on `file` in `namespace`; `ask` sends one command and resolves to its answer. */
  function child(file: string, namespace: string) {
    const proc = spawn(process.execPath, [path.join(here, '..', 'helpers', 'keyv-child.mjs'), file, namespace], {
      stdio: ['pipe', 'pipe', 'inherit'],
    })
    const lines = readline.createInterface({ input: proc.stdout })[Symbol.asyncIterator]()
    const exited = new Promise<number | null>((resolve) => proc.on('exit', resolve))
    return {
      async ask(cmd: Record<string, unknown>): Promise<unknown> {
        proc.stdin.write(`${JSON.stringify(cmd)}\n`)
        const { value } = await lines.next()
        return JSON.parse(value as string).result
      },
      async exit(): Promise<number | null> {
        proc.stdin.end(`${JSON.stringify({ op: 'exit' })}\n`)
        return exited
      },
    }
  }

  it('each sees the other at once; clear() in one process clears its namespace only; TTLs hold across them', async () => {
    const file = newFile()
    const mine = new Keyv({ store: adapter(file), namespace: 'parent' })
    const theirs = new Keyv({ store: adapter(file), namespace: 'child' })
    const other = child(file, 'child')
    try {
      expect(await other.ask({ op: 'set', key: 'a', value: { from: 'child' } })).toBe(true)
      expect(await other.ask({ op: 'set', key: 'brief', value: 1, ttl: 300 })).toBe(true)
      expect(await theirs.get('a')).toEqual({ from: 'child' })
      await mine.set('a', 'parent')
      await mine.set('b', 'parent')
      await theirs.set('b', 'written here, in the child namespace')
      const entries = (await other.ask({ op: 'entries' })) as unknown[]
      expect(entries.filter((e) => (e as string[])[0] !== 'brief')).toEqual([
        ['a', { from: 'child' }],
        ['b', 'written here, in the child namespace'],
      ])
      expect(listed(adapter(file), 'child:')).toEqual(['child:a', 'child:b', 'child:brief'])
      await sleep(350)
      expect(await theirs.get('brief')).toBeUndefined()
      expect(await other.ask({ op: 'has', key: 'brief' })).toBe(false)
      expect(await other.ask({ op: 'clear' })).toBe(null)
      expect(await theirs.get('a')).toBeUndefined()
      expect(await mine.get('a')).toBe('parent')
      expect(await mine.get('b')).toBe('parent')
      expect(await other.ask({ op: 'entries' })).toEqual([])
      expect(listed(adapter(file))).toEqual(['parent:a', 'parent:b'])
    } finally {
      expect(await other.exit()).toBe(0)
    }
  })
})
