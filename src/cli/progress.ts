// Progress bars (cli-progress) on stderr: bytes done, rate and time left.
// Shown only when stderr is a terminal, `CI` is not set and `--no-progress`
// was not given: never in a pipe, a log file or a CI job.
import cliProgress = require('cli-progress')
import { formatBytes } from './format'

export interface Progress {
  /** `n` more bytes done. */
  add(n: number): void
  /** Sets the bytes done. */
  set(done: number): void
  /** Ends the bar (it stays on screen, complete or where it stopped). */
  stop(): void
}

const NONE: Progress = { add() {}, set() {}, stop() {} }

/** Whether progress bars may be drawn in this process. */
export function progressAllowed(wanted: boolean): boolean {
  const ci = process.env.CI
  return wanted && process.stderr.isTTY === true && (ci === undefined || ci === '' || ci === 'false' || ci === '0')
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--'
  const s = Math.round(seconds)
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
}

/**
 * A byte progress bar labelled `label`. `total` in bytes, or `undefined`
 * when it is not known (a pipe): then bytes and rate only. A no-op when
 * `enabled` is false.
 */
export function bytesProgress(enabled: boolean, label: string, total?: number): Progress {
  if (!enabled) return NONE
  const known = total !== undefined && total > 0
  const started = Date.now()
  let done = 0
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: known
        ? `${label} {bar} {percentage}% | {doneText} / {totalText} | {rateText} | {leftText} left`
        : `${label} {doneText} | {rateText}`,
      barsize: 24,
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  )
  const payload = () => {
    const seconds = (Date.now() - started) / 1000
    const rate = seconds > 0 ? done / seconds : 0
    const left = known && rate > 0 ? (total - done) / rate : NaN
    return {
      doneText: formatBytes(done),
      totalText: known ? formatBytes(total) : '',
      rateText: `${formatBytes(Math.round(rate))}/s`,
      leftText: duration(left),
    }
  }
  bar.start(known ? total : 1, 0, payload())
  return {
    add(n) {
      done += n
      bar.update(known ? Math.min(done, total) : 0, payload())
    },
    set(value) {
      done = value
      bar.update(known ? Math.min(done, total) : 0, payload())
    },
    stop() {
      bar.update(known ? Math.min(done, total) : 0, payload())
      bar.stop()
    },
  }
}
