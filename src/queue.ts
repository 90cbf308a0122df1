import { codedError } from './errors'
import type { Native } from './store'

/** Op kinds understood by the native `applyOpsAsync`. */
export const enum OpKind {
  PutKey = 0,
  PutHash = 1,
  DeleteKey = 2,
  DeleteHash = 3,
}

/** Most groups one append carries (bounds the memory of one flush). */
const MAX_GROUPS_PER_APPEND = 65536

/** Groups waiting for the next flush, as flat arrays (no object per write). */
class Groups {
  readonly kinds: number[] = []
  readonly keys: unknown[] = []
  readonly payloads: unknown[] = []
  readonly ends: number[] = []
  readonly allowNull: number[] = []
  readonly resolves: Array<(tail: number) => void> = []
  readonly rejects: Array<(err: unknown) => void> = []
}

type Task = {
  run: () => Promise<unknown>
  resolve: (value: unknown) => void
  reject: (err: unknown) => void
}

/**
 * The async writer queue of one store (group commit).
 *
 * Writes issued in the same tick are queued and flushed together as ONE
 * native task: one append, one index update, one fsync when durable. One
 * flush is in flight at a time, so writes land in the order they were
 * issued (the last one issued for a key wins). Operations that cannot join
 * a group (rename, copy, stream finish, compaction) are queued as tasks and
 * keep their place in that order. Each group (a write, a batch) is
 * validated on its own: a bad one fails alone.
 */
export class WriteQueue {
  #items: Array<Groups | Task> = []
  #running = false
  #idle: Array<() => void> = []

  constructor(private readonly native: Native) {}

  /** Queues a group of one op (a single write or delete); resolves to the tail after it. */
  one(kind: OpKind, key: unknown, payload: unknown): Promise<number> {
    const g = this.#open()
    g.kinds.push(kind)
    g.keys.push(key)
    g.payloads.push(payload)
    return this.#close(g, false)
  }

  /** Queues one group of ops (all or nothing); resolves to the tail after it. */
  group(kind: OpKind, keys: ArrayLike<unknown>, payloads: ArrayLike<unknown> | null, allowNull = false): Promise<number> {
    const g = this.#open()
    for (let i = 0; i < keys.length; i++) {
      g.kinds.push(kind)
      g.keys.push(keys[i])
      g.payloads.push(payloads === null ? undefined : payloads[i])
    }
    return this.#close(g, allowNull)
  }

  /** The Groups collecting the next flush. */
  #open(): Groups {
    const last = this.#items[this.#items.length - 1]
    if (last instanceof Groups && last.ends.length < MAX_GROUPS_PER_APPEND) return last
    const g = new Groups()
    this.#items.push(g)
    return g
  }

  /** Ends the group just pushed into `g` and returns its Promise. */
  #close(g: Groups, allowNull: boolean): Promise<number> {
    g.ends.push(g.kinds.length)
    g.allowNull.push(allowNull ? 1 : 0)
    const promise = new Promise<number>((resolve, reject) => {
      g.resolves.push(resolve)
      g.rejects.push(reject)
    })
    this.#kick()
    return promise
  }

  /** Queues an operation that runs alone, in order with the groups. */
  task<T>(run: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#items.push({ run, resolve: resolve as (v: unknown) => void, reject })
      this.#kick()
    })
  }

  /** Resolves once everything queued so far has landed (or failed). */
  whenIdle(): Promise<void> {
    if (!this.#running && this.#items.length === 0) return Promise.resolve()
    return new Promise((resolve) => this.#idle.push(resolve))
  }

  #kick(): void {
    if (this.#running) return
    this.#running = true
    // A microtask: every write issued synchronously in this tick joins the flush.
    queueMicrotask(() => void this.#drain())
  }

  async #drain(): Promise<void> {
    while (this.#items.length > 0) {
      const head = this.#items.shift() as Groups | Task
      if (head instanceof Groups) await this.#flush(head)
      else {
        try {
          head.resolve(await head.run())
        } catch (err) {
          head.reject(err)
        }
      }
    }
    this.#running = false
    for (const resolve of this.#idle.splice(0)) resolve()
  }

  async #flush(g: Groups): Promise<void> {
    try {
      const [tails, errors] = await this.native.applyOpsAsync(
        Uint8Array.from(g.kinds),
        g.keys,
        g.payloads,
        Uint32Array.from(g.ends),
        Uint8Array.from(g.allowNull),
      )
      for (const [i, code, message] of errors) g.rejects[i](codedError(code, message))
      for (let i = 0; i < tails.length; i++) if (!Number.isNaN(tails[i])) g.resolves[i](tails[i])
    } catch (err) {
      for (const reject of g.rejects) reject(err)
    }
  }
}
