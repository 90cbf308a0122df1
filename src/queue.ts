import type { Native } from './store'

/** Op kinds understood by the native `enqueue` (group.rs). */
export const enum OpKind {
  PutKey = 0,
  PutHash = 1,
  DeleteKey = 2,
  DeleteHash = 3,
}

/** Most groups one append carries (bounds the memory of one flush). */
const MAX_GROUPS_PER_APPEND = 65536

/** Stands for one batch of groups queued natively (group.rs), in issue order. */
class Batch {
  groups = 1
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
  #items: Array<Batch | Task> = []
  /** The batch new groups join: the last item, unless a task follows it or it left. */
  #open: Batch | null = null
  #running = false
  #idle: Array<() => void> = []
  readonly #enqueueWrite: (key: unknown, payload: unknown) => Promise<number>

  constructor(private readonly native: Native) {
    this.#enqueueWrite = native.fastFunctions()[3]
  }

  /** Queues `write(key, payload)` as a group of its own; resolves to the tail
   * after it. Throws (queuing nothing) on a bad argument. */
  write(key: unknown, payload: unknown): Promise<number> {
    this.#join()
    return this.#enqueueWrite(key, payload)
  }

  /** Queues one group of ops (all or nothing); resolves to the tail after it.
   * Throws (queuing nothing) on a bad argument. */
  group(kind: OpKind, keys: unknown, payloads: unknown, allowNull = false): Promise<number> {
    this.#join()
    return this.native.enqueue(kind, keys, payloads, allowNull)
  }

  /** Counts one more group in the open batch, or opens one. */
  #join(): void {
    const open = this.#open
    if (open !== null && open.groups < MAX_GROUPS_PER_APPEND) open.groups++
    else this.#openBatch()
  }

  /** Starts a batch (natively too) for the next groups; a queued batch is
   * always flushed, so only a new one needs a drain kicked. */
  #openBatch(): void {
    this.native.cutBatch()
    this.#open = new Batch()
    this.#items.push(this.#open)
    this.#kick()
  }

  /** Queues an operation that runs alone, in order with the groups. */
  task<T>(run: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#items.push({ run, resolve: resolve as (v: unknown) => void, reject })
      this.#open = null
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
      const head = this.#items.shift() as Batch | Task
      if (head instanceof Batch) {
        if (head === this.#open) this.#open = null
        try {
          await this.native.flushAsync()
        } catch {
          // The store was closed under the batch: its groups' Promises were
          // rejected natively (ERR_STORE_CLOSED), nothing is left to settle.
        }
      } else {
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
}
