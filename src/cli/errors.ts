import util = require('node:util')

// What the command line prints when something fails, and with which exit code:
// 1 for a failure (a missing key, a file that is not a store, an I/O error,
// damaged entries found by `verify`), 2 for a usage error, 128 + the signal
// for an interrupted command. No stack trace unless --debug.

/** A failure the command line reports by itself: its message and exit code. */
export class CliError extends Error {
  readonly exitCode: number
  /** Printed as it is (no `error: ` prefix). */
  readonly bare: boolean
  constructor(message: string, exitCode = 1, bare = false) {
    super(message)
    this.exitCode = exitCode
    this.bare = bare
  }
}

/** `key not found: <key>` (exit 1). */
export function keyNotFound(key: string): CliError {
  return new CliError(`key not found: ${key}`, 1, true)
}

/** A usage mistake the argument parser cannot see (exit 2). */
export function usageError(message: string): CliError {
  return new CliError(message, 2)
}

function codeOf(err: unknown): string | undefined {
  const code = err !== null && typeof err === 'object' ? (err as { code?: unknown }).code : undefined
  return typeof code === 'string' ? code : undefined
}

/**
 * An OS error as Node's fs prints it, `ENOENT: no such file or directory, open
 * '<path>'`: as it is when it came from Node's fs (it has `syscall`), else
 * made from its code and the store's path (the engine's own text, e.g. `Is a
 * directory (os error 21)`, does not name the file). Null for other errors.
 */
function osMessage(err: unknown, storePath: string | undefined): string | null {
  const code = codeOf(err)
  if (code === undefined || !/^E[A-Z0-9]+$/.test(code)) return null
  const e = err as { syscall?: unknown; message?: unknown }
  if (typeof e.syscall === 'string' && typeof e.message === 'string') return e.message
  let description: string | undefined
  for (const [name, text] of util.getSystemErrorMap().values()) {
    if (name === code) description = text
  }
  if (description === undefined) return null
  return storePath === undefined ? `${code}: ${description}` : `${code}: ${description}, open '${storePath}'`
}

/**
 * The text printed for an error of the library or of Node (the store's path
 * named where the message alone would not say which file), and its exit code.
 */
export function describe(err: unknown, storePath: string | undefined): { text: string; exitCode: number } {
  if (err instanceof CliError) return { text: err.bare ? err.message : `error: ${err.message}`, exitCode: err.exitCode }
  const message = err instanceof Error ? err.message : String(err)
  const where = storePath === undefined ? '' : `${storePath}: `
  switch (codeOf(err)) {
    case 'ERR_STORE_LOCKED':
      return {
        text:
          `error: ${where}${message} (ERR_STORE_LOCKED).\n` +
          'Another process has the store open in a way that keeps this command out: { exclusive: true } keeps ' +
          'every other process out, readers too, and a repair needs the store closed everywhere else.\n' +
          `Stop that process (or have it open the store without exclusive) and run the command again, ` +
          `or run it on a copy of the file (cp ${storePath ?? '<store>'} copy.srd).`,
        exitCode: 1,
      }
    case 'ERR_CHECKSUM_MISMATCH':
      return {
        text:
          `error: ${where}${message}; nothing was changed.\n` +
          `simd-r-drive ${storePath ?? '<store>'} verify lists the damaged entries; repair drops them (keeping a backup ` +
          `of the file beside it first), or rewrite or delete their keys.`,
        exitCode: 1,
      }
    case 'ERR_CORRUPT_STORE':
    case 'ERR_NOT_A_STORE':
      return {
        text:
          `error: ${where}${message}\n` +
          `simd-r-drive ${storePath ?? '<store>'} repair rebuilds it (it keeps a backup of the damaged file beside it first).`,
        exitCode: 1,
      }
    default: {
      const os = osMessage(err, storePath)
      return { text: `error: ${os ?? message}`, exitCode: 1 }
    }
  }
}
