import { codedError } from './errors'
import type { Native } from './store'

/** Group kinds understood by the native `applyGroupsAsync`. */
export const enum GroupKind {
  PutKey = 0,
  PutHash = 1,
  DeleteKey = 2,
  DeleteHash = 3,
  AllowNull = 16,
}

type Group = {
  kind: 'group'
  group: [number, unknown[]]
  resolve: (tail: number) => void
  reject: (err: unknown) => void
}
type Task = {
  kind: 'task'
  run: () => Promise<unknown>
  resolve: (value: unknown) => void
  reject: (err: unknown) => void
}

/** Most groups one append carries (bounds the memory of one flush). */
const MAX_GROUPS_PER_APPEND = 65536

/**
 * The async writer queue of one store (group commit).
 *
 * Writes issued in the same tick are queued and flushed together as ONE
 * native task: one append, one index update, one fsync when durable. One
 * flush is in flight at a time, so writes land in the order they were
 * issued (the last one issued for a key wins). Operations that cannot join
 * a group (rename, copy, stream finish, compaction) are queued as tasks and
 * keep their place in that order.
 */
export class WriteQueue {
  #items: Array<Group | Task> = []
  #running = false
  #idle: Array<() => void> = []

  constructor(private readonly native: Native) {}

  /** Queues one batch (all-or-nothing); resolves to the tail after it. */
  group(kind: number, entries: unknown[]): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#items.push({ kind: 'group', group: [kind, entries], resolve, reject })
      this.#kick()
    })
  }

  /** Queues an operation that runs alone, in order with the groups. */
  task<T>(run: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#items.push({ kind: 'task', run, resolve: resolve as (v: unknown) => void, reject })
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
      const head = this.#items[0]
      if (head.kind === 'task') {
        this.#items.shift()
        try {
          head.resolve(await head.run())
        } catch (err) {
          head.reject(err)
        }
        continue
      }
      const groups: Group[] = []
      while (groups.length < MAX_GROUPS_PER_APPEND && this.#items.length > 0 && this.#items[0].kind === 'group') {
        groups.push(this.#items.shift() as Group)
      }
      try {
        const results = await this.native.applyGroupsAsync(groups.map((g) => g.group))
        results.forEach((r, i) => {
          if (typeof r[0] === 'string') groups[i].reject(codedError(r[0], r[1] as string))
          else groups[i].resolve(r[r.length - 1] as number)
        })
      } catch (err) {
        for (const g of groups) g.reject(err)
      }
    }
    this.#running = false
    for (const resolve of this.#idle.splice(0)) resolve()
  }
}
