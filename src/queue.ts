import type { OpKind } from '../index'
import { perHandle, type Native } from './per-handle'

/** Most groups one append carries (bounds the memory of one flush). */
const MAX_GROUPS_PER_APPEND = 65536

/** What a native flush resolves to (group.rs `Outcomes`): the tail after
 * each group of the batch, in queue order (NaN if it failed), and the failed
 * ones as `[group, error, ...]`, or null. */
type Outcomes = [Float64Array, Array<number | Error> | null]

/**
 * Stands for one batch of groups queued natively, in issue order, and hands
 * each group its Promise: `landed.then(pick)`, registered once per group in
 * the order the groups were queued. A Promise's reactions run in the order
 * they were registered, so the k-th `pick` to run is group k's: it returns
 * that group's tail or throws its error. One Promise per batch is settled;
 * a write's own Promise is a plain `then` (no N-API Promise, no resolve
 * functions, no closure per write).
 */
class Batch {
  /** Groups counted into this batch (bounds one append's memory). */
  groups = 0
  #next = 0
  #tails: Float64Array | undefined
  #failures: Map<number, unknown> | undefined
  #failure: unknown
  #land!: () => void
  readonly landed = new Promise<void>((resolve) => {
    this.#land = resolve
  })

  /** The next group's outcome (see the class comment). */
  readonly pick = (): number => {
    const k = this.#next++
    const tail = this.#tails === undefined ? NaN : this.#tails[k]
    if (tail === tail) return tail
    throw this.#tails === undefined ? this.#failure : this.#failures?.get(k)
  }

  /** The Promise of the group just queued natively into this batch. */
  promise(): Promise<number> {
    return this.landed.then(this.pick)
  }

  settle([tails, failed]: Outcomes): void {
    this.#tails = tails
    if (failed !== null) {
      this.#failures = new Map()
      for (let i = 0; i < failed.length; i += 2) this.#failures.set(failed[i] as number, failed[i + 1])
    }
    this.#land()
  }

  /** Every group of the batch fails with `err` (the flush did not run). */
  fail(err: unknown): void {
    this.#failure = err
    this.#land()
  }
}

const QUEUES = new WeakMap<Native, WriteQueue>()

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
  /** The batch cut last: where the native queue puts a group now. */
  #last: Batch | null = null
  #running = false
  #idle: Array<() => void> = []
  readonly #enqueueWrite: (key: unknown, payload: unknown) => void

  private constructor(private readonly native: Native) {
    this.#enqueueWrite = native.fastFunctions().enqueueWrite
  }

  /** The queue of `native`: one per handle, as the native queue it mirrors. */
  static of(native: Native): WriteQueue {
    return perHandle(QUEUES, native, (handle) => new WriteQueue(handle))
  }

  /** Queues `write(key, payload)` as a group of its own; resolves to the tail
   * after it. Throws (queuing nothing) on a bad argument. */
  write(key: unknown, payload: unknown): Promise<number> {
    // The hot path of a burst of writes, so #join and Batch.promise are
    // written out here: in a fresh process each JS call still runs
    // unoptimized (10k writes: ~1 ms less issuing, measured).
    const open = this.#open
    if (open !== null && open.groups < MAX_GROUPS_PER_APPEND) open.groups++
    else this.#openBatch()
    this.#enqueueWrite(key, payload)
    const last = this.#last as Batch
    return last.landed.then(last.pick)
  }

  /** Queues one group of ops (all or nothing); resolves to the tail after it.
   * Throws (queuing nothing) on a bad argument. */
  group(kind: OpKind, keys: unknown, payloads: unknown, allowNull = false): Promise<number> {
    this.#join()
    this.native.enqueue(kind, keys, payloads, allowNull)
    // Read after the call: a getter of `keys` may have queued writes of its
    // own, in a batch cut meanwhile; the group went into the last one.
    return (this.#last as Batch).promise()
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
    const batch = new Batch()
    batch.groups = 1
    this.#open = this.#last = batch
    this.#items.push(batch)
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
          head.settle((await this.native.flushAsync()) as Outcomes)
        } catch (err) {
          // The store was closed under the batch (ERR_STORE_CLOSED): the
          // native queue dropped it; each of its groups rejects.
          head.fail(err)
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
