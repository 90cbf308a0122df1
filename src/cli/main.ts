// `simd-r-drive <store> <command> [args]`: the arguments (commander), the
// help texts, and how a run ends (exit codes: 0 done, 1 failed, 2 usage
// error, 130/143 interrupted by SIGINT/SIGTERM).
import fs = require('node:fs')
import path = require('node:path')
import { Command, CommanderError, InvalidArgumentError } from 'commander'
import type { Help } from 'commander'
import type * as Commands from './commands'
import type { Context } from './commands'
import { CliError, describe } from './errors'
import { parseSize } from './format'
import { progressAllowed } from './progress'

const NAME = 'simd-r-drive'

/**
 * The commands, loaded when one runs: they load the native addon, which
 * `--help`, `--version` and usage errors do not need (they work even where
 * the platform's binary is missing; a command then says which package to
 * install, ERR_NATIVE_BINDING_MISSING).
 */
const commands = new Proxy({} as typeof Commands, {
  get: (_target, name: string) => (require('./commands') as typeof Commands)[name as keyof typeof Commands],
})

function version(): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version?: string }
    return pkg.version ?? 'unknown'
  } catch {
    return 'unknown'
  }
}

const EXAMPLES = `
Examples:
  # Writing a value explicitly (creates data.srd if it is missing)
  ${NAME} data.srd write mykey "Hello, world!"

  # Writing a value from stdin (streamed: any size, in bounded memory)
  echo "Hello, world!" | ${NAME} data.srd write mykey
  cat file.bin | ${NAME} data.srd write mykey

  # Reading a value (raw bytes to a pipe or file; text and a newline on a terminal)
  ${NAME} data.srd read mykey
  ${NAME} data.srd read mykey > value.bin

  # Reading a value with a 32KB buffer size
  ${NAME} data.srd read mykey --buffer-size 32K

  # Copying / moving a key to another store file (created if missing)
  ${NAME} data.srd copy mykey target.srd
  ${NAME} data.srd move mykey target.srd

  # Renaming a key, deleting a key
  ${NAME} data.srd rename old_key new_key
  ${NAME} data.srd delete mykey

  # Compacting the store file (e.g. from cron)
  ${NAME} data.srd compact

  # Store info, a key's metadata, a check of every checksum (--json for scripts)
  ${NAME} data.srd info
  ${NAME} data.srd metadata mykey --json
  ${NAME} data.srd verify

  # Importing every file under a folder, keyed by its relative path
  ${NAME} data.srd import ./site --prefix site/
  ${NAME} data.srd read site/css/main.css

Exit codes: 0 done, 1 failed (a missing key, a damaged or locked store, an
I/O error, corrupt entries found by verify), 2 usage error, 130 interrupted.
Progress bars go to stderr, on a terminal only (never in a pipe or when CI is set).
The full reference is docs/cli.md in the repository.`

const COMMAND_NAMES = ['read', 'write', 'copy', 'move', 'rename', 'delete', 'compact', 'info', 'metadata', 'verify', 'import', 'repair']

/** `commandUsage` with `<store>` where it goes: `simd-r-drive <store> read [options] <key>`. */
function commandUsage(cmd: Command): string {
  return cmd.parent === null ? `${NAME} ${cmd.usage()}` : `${NAME} <store> ${cmd.name()} ${cmd.usage()}`
}

function bufferSize(text: string): number {
  const n = parseSize(text)
  if (n === null) throw new InvalidArgumentError('expected a size such as 65536, 64K, 1M or 1G.')
  return n
}

/**
 * Splits the store path off the arguments: the first one that is not an
 * option (`--` makes the next one the store, whatever it looks like).
 */
export function splitStore(argv: string[]): { store: string | undefined; rest: string[] } {
  for (let i = 0; i < argv.length; i++) {
    const t = argv[i]
    if (t === '--') {
      if (i + 1 >= argv.length) return { store: undefined, rest: argv.slice(0, i) }
      return { store: argv[i + 1], rest: [...argv.slice(0, i), ...argv.slice(i + 2)] }
    }
    if (t.startsWith('-') && t !== '-') continue
    return { store: t, rest: [...argv.slice(0, i), ...argv.slice(i + 1)] }
  }
  return { store: undefined, rest: argv }
}

interface Run {
  ctx: Context
  code: number
}

function build(run: Run): Command {
  const program = new Command(NAME)
  const usageHint = (cmd: Command) => `Usage: ${commandUsage(cmd)}\n(${cmd.parent === null ? NAME : `${NAME} <store> ${cmd.name()}`} --help for more)`
  program
    .usage('<store> <command> [args] [options]')
    .description(
      'Look into and change a SIMD R Drive store: a single-file, append-only key/value store ' +
        '(byte-compatible with the Rust crate simd-r-drive 0.16 and its CLI).',
    )
    .version(`${NAME} ${version()}`, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'print this help (and `<store> <command> --help` for a command)')
    .option('--debug', 'print the stack trace of an error')
    .option('--no-progress', 'never draw progress bars (they are drawn on a terminal only, and never when CI is set)')
    .exitOverride()
    .configureHelp({ commandUsage, sortSubcommands: false } as Partial<Help>)
    .addHelpText('after', EXAMPLES)
    .helpCommand(false)

  const ctx = (): Context => run.ctx
  const set = (code: number | Promise<number>) =>
    Promise.resolve(code).then((c) => {
      run.code = c
    })

  program
    .command('read')
    .description('Write the value of a key to stdout, byte for byte (streamed from the mapped file; a newline is added on a terminal)')
    .argument('<key>', 'the key (its UTF-8 bytes)')
    .option('-b, --buffer-size <size>', 'bytes written to stdout at a time: 65536, 64K, 1M... (default: 64K)', bufferSize)
    .addHelpText('after', `\nExamples:\n  ${NAME} data.srd read mykey\n  ${NAME} data.srd read big-blob > blob.bin\n  ${NAME} data.srd read mykey --buffer-size 32K | sha256sum`)
    .action((key: string, opts: { bufferSize?: number }) => set(commands.read(ctx(), key, opts.bufferSize ?? 64 * 1024)))

  program
    .command('write')
    .description('Write a value for a key: the argument, or stdin streamed in bounded memory when the value is omitted (creates the store if missing)')
    .argument('<key>', 'the key')
    .argument('[value]', 'the value (its UTF-8 bytes); omitted: read from stdin until it ends')
    .addHelpText(
      'after',
      `\nA value read from stdin is stored whole or not at all: Ctrl-C (or SIGTERM) before stdin ends writes nothing.\n` +
        `The format has no empty values: an empty value (or stdin of only 0x00 bytes) is refused.\n` +
        `\nExamples:\n  ${NAME} data.srd write greeting "Hello, world!"\n  cat photo.jpg | ${NAME} data.srd write photos/1.jpg\n  ${NAME} data.srd write backup.tar < backup.tar`,
    )
    .action((key: string, value: string | undefined) => set(commands.write(ctx(), key, value)))

  program
    .command('copy')
    .description('Copy a key\'s entry into another store file (created if missing)')
    .argument('<key>', 'the key')
    .argument('<target>', 'the target store file')
    .addHelpText('after', `\nExample:\n  ${NAME} data.srd copy mykey backup.srd`)
    .action((key: string, target: string) => set(commands.copy(ctx(), key, target)))

  program
    .command('move')
    .description('Move a key\'s entry into another store file (copied there, then deleted here)')
    .argument('<key>', 'the key')
    .argument('<target>', 'the target store file')
    .addHelpText('after', `\nExample:\n  ${NAME} data.srd move mykey archive.srd`)
    .action((key: string, target: string) => set(commands.move(ctx(), key, target)))

  program
    .command('rename')
    .description('Rename a key (one append: the entry under the new key and a tombstone for the old)')
    .argument('<old-key>', 'the key to rename')
    .argument('<new-key>', 'its new name')
    .addHelpText('after', `\nExample:\n  ${NAME} data.srd rename old_key new_key`)
    .action((oldKey: string, newKey: string) => set(commands.rename(ctx(), oldKey, newKey)))

  program
    .command('delete')
    .description('Delete a key (appends a tombstone; compact reclaims the space)')
    .argument('<key>', 'the key')
    .option('-f, --force', 'no error when the key is absent (the Rust tool never reports one)')
    .addHelpText('after', `\nExamples:\n  ${NAME} data.srd delete mykey\n  ${NAME} data.srd delete maybe-there --force`)
    .action((key: string, opts: { force?: boolean }) => set(commands.del(ctx(), key, opts.force === true)))

  program
    .command('compact')
    .description('Rewrite the live entries into a new file and swap it in (old versions and deleted keys go)')
    .addHelpText(
      'after',
      `\nIt refuses, changing nothing, when a live entry fails its checksum: compaction writes each value anew\n` +
        `with a checksum of its bytes, which would hide the damage (run repair first: it drops damaged entries).\n` +
        `Safe to interrupt: the store is replaced in one rename at the end.\n\nExample (cron, nightly):\n  0 3 * * * ${NAME} /var/lib/app/data.srd compact`,
    )
    .action(() => set(commands.compact(ctx())))

  program
    .command('info')
    .description('File size, live keys, and what compaction would free')
    .option('--json', 'print { path, fileSize, liveEntries, compactionSavings }')
    .addHelpText(
      'after',
      `\nACTIVE ENTRIES counts live keys only. The Rust tool also counts deleted keys once the store is reopened, and its\n` +
        `COMPACTION SAVINGS leaves out the alignment padding a compacted file still needs; these figures are exact.\n` +
        `\nExamples:\n  ${NAME} data.srd info\n  ${NAME} data.srd info --json | jq .liveEntries`,
    )
    .action((opts: { json?: boolean }) => set(commands.info(ctx(), opts.json === true)))

  program
    .command('metadata')
    .description('Size, total size, offset range, key hash and checksum (and whether it is valid) of a key\'s entry')
    .argument('<key>', 'the key')
    .option('--json', 'print the fields as JSON (keyHash as a decimal string)')
    .addHelpText('after', `\nExamples:\n  ${NAME} data.srd metadata mykey\n  ${NAME} data.srd metadata mykey --json`)
    .action((key: string, opts: { json?: boolean }) => set(commands.metadata(ctx(), key, opts.json === true)))

  program
    .command('verify')
    .description('Check the checksum of every entry in the file (live or superseded) and list the bad ones; exit 1 if any')
    .option('--json', 'print { path, ok, liveEntries, fileSize, corrupt: [{ keyHash, offset, live }] }')
    .addHelpText('after', `\nExamples:\n  ${NAME} data.srd verify\n  ${NAME} data.srd verify --json`)
    .action((opts: { json?: boolean }) => set(commands.verify(ctx(), opts.json === true)))

  program
    .command('import')
    .description('Write every file under a folder, keyed by its path relative to it with / separators (streamed)')
    .argument('<dir>', 'the folder')
    .option('--prefix <prefix>', 'put this text before every key (e.g. site/)', '')
    .option('--json', 'print { store, imported, skipped, failed }')
    .addHelpText(
      'after',
      `\nEmpty files are skipped and listed on stderr: the format stores no empty values (nor values of only 0x00 bytes).\n` +
        `Symbolic links to files are imported; linked folders are not followed.\n` +
        `\nExamples:\n  ${NAME} data.srd import ./public\n  ${NAME} data.srd import ./public --prefix site/ && ${NAME} data.srd read site/index.html`,
    )
    .action((dir: string, opts: { prefix: string; json?: boolean }) => set(commands.importDir(ctx(), dir, opts.prefix, opts.json === true)))

  program
    .command('repair')
    .description('Open a damaged store with { repair: true }: keep a backup of it, salvage every intact entry, report what was lost')
    .option('--json', 'print { path, repaired, report }')
    .addHelpText('after', `\nExample:\n  ${NAME} data.srd repair`)
    .action((opts: { json?: boolean }) => set(commands.repair(ctx(), opts.json === true)))

  program.showHelpAfterError(usageHint(program))
  for (const sub of program.commands) sub.showHelpAfterError(usageHint(sub)).helpOption('-h, --help', 'print this help')
  return program
}

/** Runs the command line; resolves to the exit code. Prints everything itself. */
export async function main(argv: string[]): Promise<number> {
  const controller = new AbortController()
  const run: Run = {
    ctx: { store: '', progress: false, errorPath: '', signal: controller.signal, interruptible: false },
    code: 0,
  }
  const program = build(run)
  const { store, rest } = splitStore(argv)
  const wantsHelp = argv.some((a) => a === '-h' || a === '--help' || a === '-V' || a === '--version')
  let interrupted: NodeJS.Signals | undefined
  const onSignal = (signal: NodeJS.Signals) => {
    // Not watched by the command (or a second Ctrl-C): end now, as without a handler.
    if (interrupted !== undefined || !run.ctx.interruptible) process.exit(signal === 'SIGINT' ? 130 : 143)
    interrupted = signal
    controller.abort()
  }
  try {
    if (store === undefined) {
      if (argv.length === 0) {
        // As the Rust tool (clap): the help, to stderr, as a usage error.
        process.stderr.write(program.helpInformation())
        return 2
      }
      if (wantsHelp) {
        await program.parseAsync(argv, { from: 'user' })
        return 0
      }
      process.stderr.write(`error: missing <store>\n${`Usage: ${commandUsage(program)}`}\n(${NAME} --help for more)\n`)
      return 2
    }
    const firstArg = rest.find((a) => !a.startsWith('-'))
    // `simd-r-drive help [command]`, as clap offers it.
    if (store === 'help' && (firstArg === undefined || COMMAND_NAMES.includes(firstArg))) {
      const target = firstArg === undefined ? program : program.commands.find((c) => c.name() === firstArg)
      process.stdout.write((target ?? program).helpInformation())
      return 0
    }
    if (COMMAND_NAMES.includes(store) && firstArg !== undefined && !COMMAND_NAMES.includes(firstArg) && !wantsHelp) {
      process.stderr.write(`error: missing <store>: the store file comes first: ${NAME} <store> ${store} ...\n(${NAME} --help for more)\n`)
      return 2
    }
    if (firstArg === undefined && !wantsHelp) {
      process.stderr.write(`error: missing <command> after the store ${JSON.stringify(store)}\nUsage: ${commandUsage(program)}\n(${NAME} --help for the commands)\n`)
      return 2
    }
    run.ctx.store = store
    run.ctx.errorPath = store
    // Global options may come before or after the command.
    program.hook('preAction', () => {
      const opts = program.opts<{ progress?: boolean }>()
      run.ctx.progress = progressAllowed(opts.progress !== false)
    })
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    await program.parseAsync(rest, { from: 'user' })
    if (interrupted !== undefined) return interrupted === 'SIGINT' ? 130 : 143
    return run.code
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') {
        return err.code === 'commander.help' && err.exitCode !== 0 ? 2 : 0
      }
      return 2
    }
    if (interrupted !== undefined && (err as { code?: unknown }).code === 'ABORT_ERR') {
      process.stderr.write(`interrupted (${interrupted}): nothing of the value in progress was written\n`)
      return interrupted === 'SIGINT' ? 130 : 143
    }
    const debug = program.opts<{ debug?: boolean }>().debug === true || argv.includes('--debug')
    const { text, exitCode } = describe(err, run.ctx.errorPath || undefined)
    process.stderr.write(`${text}\n`)
    if (debug && err instanceof Error && err.stack !== undefined) process.stderr.write(`${err.stack}\n`)
    return err instanceof CliError ? err.exitCode : exitCode
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}
