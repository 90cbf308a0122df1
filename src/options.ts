import { codedError, typeError } from './errors'

/**
 * Checks an options argument: `undefined`/`null` (none), or an object whose
 * own keys are all in `known` and whose boolean options are booleans. A
 * typo (`{ readonly: true }`) or an option this call does not have is an
 * ERR_INVALID_ARG_VALUE naming it, never silently ignored.
 */
export function checkOptionNames<T extends object>(options: unknown, what: string, known: readonly string[], booleans: readonly string[] = []): T | undefined {
  if (options === undefined || options === null) return undefined
  if (typeof options !== 'object' || Array.isArray(options)) throw typeError(`${what} must be an object`)
  for (const name of Object.keys(options)) {
    if (!known.includes(name)) {
      throw codedError('ERR_INVALID_ARG_VALUE', `unknown option ${JSON.stringify(name)} in ${what} (known: ${known.join(', ')})`)
    }
  }
  for (const name of booleans) {
    const v = (options as Record<string, unknown>)[name]
    if (v !== undefined && typeof v !== 'boolean') throw typeError(`option ${JSON.stringify(name)} in ${what} must be a boolean`)
  }
  return options as T
}
