// The README's code blocks, shared by readme.test.mjs (run against the repo's
// build) and package.test.mjs (run from a project that installed the tarballs).
//
// Conventions of the README that these helpers rely on:
// - every fenced block has a language: `sh`, `js` or `ts` (anything else fails
//   the tests, so no block escapes being run or checked);
// - `js` blocks are ES modules that import 'simd-r-drive'; they run as `.mjs`,
//   converted to CommonJS as `.cjs`, and typecheck as `.mts` under tsc --strict;
// - `ts` blocks typecheck as `.mts`, then compile (target ES2022) and run;
// - a line `...  // → text` prints exactly `text` as one line of stdout, and the
//   lines without `// →` print nothing: the block's stdout is exactly the list
//   of these texts, in order.
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const execFileP = promisify(execFile)

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
export const tscPath = path.join(repo, 'node_modules', 'typescript', 'bin', 'tsc')
export const typeRoots = path.join(repo, 'node_modules', '@types')
export const resolutions = ['node16', 'nodenext', 'bundler']

/** Every fenced block: `{ lang, code, line }` (line: 1-based line of the opening fence). */
export function codeBlocks(markdown) {
  const blocks = []
  const lines = markdown.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(```+|~~~+)\s*([\w+-]*)/.exec(lines[i])
    if (!open) continue
    const fence = open[2]
    const body = []
    let j = i + 1
    while (j < lines.length && !lines[j].trimStart().startsWith(fence)) body.push(lines[j++])
    blocks.push({ lang: open[3], code: `${body.join('\n')}\n`, line: i + 1 })
    i = j
  }
  return blocks
}

export function readmeBlocks() {
  return codeBlocks(fs.readFileSync(path.join(repo, 'README.md'), 'utf8'))
}

/** What a block prints: the `// → text` of its lines, in order. */
export function expectedOutput(code) {
  const out = []
  for (const line of code.split('\n')) {
    const m = /\/\/ → (.*)$/.exec(line)
    if (m) out.push(m[1].trimEnd())
  }
  return out
}

/**
 * An ES module block as CommonJS: its imports become `require`s and, when it
 * uses top-level `await`, its body runs in an async function.
 */
export function toCommonJS(code) {
  const requires = []
  const body = code.replace(
    /^import\s+(?:(\w+)\s*,\s*)?(?:(\{[^}]*\})|(\w+)|\*\s+as\s+(\w+))?\s*(?:from\s+)?(['"][^'"]+['"])\s*;?\s*$/gm,
    (all, def, named, single, ns, spec) => {
      const names = named ? named.replace(/\s+as\s+/g, ': ') : null
      if (def) requires.push(`const ${def} = require(${spec})`)
      if (names) requires.push(`const ${names} = require(${spec})`)
      if (single) requires.push(`const ${single} = require(${spec})`)
      if (ns) requires.push(`const ${ns} = require(${spec})`)
      if (!def && !names && !single && !ns) requires.push(`require(${spec})`)
      return ''
    },
  )
  if (/^import\s/m.test(body)) throw new Error(`an import this converter does not handle:\n${body}`)
  const head = `'use strict'\n${requires.join('\n')}\n`
  if (!/\bawait\b/.test(body)) return head + body
  return `${head};(async () => {\n${body}\n})().catch((err) => {\n  console.error(err)\n  process.exitCode = 1\n})\n`
}

/** Runs `node file` in `cwd`; resolves to `{ stdout, stderr }`, rejects with them on a failure. */
export async function runNode(file, cwd, args = []) {
  try {
    return await execFileP(process.execPath, [...args, file], { cwd, timeout: 60_000, maxBuffer: 16 << 20 })
  } catch (err) {
    err.message = `node ${file} failed in ${cwd}:\n${err.stdout ?? ''}${err.stderr ?? ''}\n${err.message}`
    throw err
  }
}

/**
 * Runs every example block in its own directory under `project` (a folder
 * whose node_modules holds 'simd-r-drive'): `js` blocks as ESM and as
 * CommonJS, `ts` blocks compiled with tsc. Returns `[{ name, block, stdout, expected }]`.
 */
export async function runExamples(project, blocks) {
  const results = []
  let n = 0
  for (const block of blocks) {
    n++
    if (block.lang === 'js') {
      for (const [kind, ext, code] of [
        ['esm', 'mjs', block.code],
        ['cjs', 'cjs', toCommonJS(block.code)],
      ]) {
        const dir = path.join(project, `example-${n}-${kind}`)
        fs.mkdirSync(dir, { recursive: true })
        fs.writeFileSync(path.join(dir, `example.${ext}`), code)
        const { stdout } = await runNode(`example.${ext}`, dir)
        results.push({ name: `README line ${block.line} (${kind})`, block, stdout, expected: expectedOutput(block.code) })
      }
    } else if (block.lang === 'ts') {
      const dir = path.join(project, `example-${n}-ts`)
      fs.mkdirSync(dir, { recursive: true })
      fs.writeFileSync(path.join(dir, 'example.mts'), block.code)
      await tsc(dir, [
        '--strict', '--target', 'ES2022', '--module', 'nodenext', '--moduleResolution', 'nodenext',
        '--lib', 'ES2022', '--typeRoots', typeRoots, '--types', 'node', 'example.mts',
      ])
      const { stdout } = await runNode('example.mjs', dir)
      results.push({ name: `README line ${block.line} (ts, compiled to ES2022)`, block, stdout, expected: expectedOutput(block.code) })
    }
  }
  return results
}

export async function tsc(cwd, args) {
  try {
    return await execFileP(process.execPath, [tscPath, ...args], { cwd, timeout: 120_000, maxBuffer: 16 << 20 })
  } catch (err) {
    err.message = `tsc ${args.join(' ')} failed in ${cwd}:\n${err.stdout ?? ''}${err.stderr ?? ''}`
    throw err
  }
}

/** compilerOptions for a strict check under one moduleResolution. */
export function tsOptions(resolution) {
  const module = resolution === 'bundler' ? 'esnext' : resolution
  return {
    strict: true,
    noEmit: true,
    target: 'ES2022',
    lib: ['ES2022'],
    module,
    moduleResolution: resolution,
    typeRoots: [typeRoots],
    types: ['node'],
    skipLibCheck: false,
    forceConsistentCasingInFileNames: true,
  }
}

/**
 * Typechecks every js and ts block as an `.mts` file under `project` with
 * tsc --strict for each moduleResolution in `resolutions`. Resolves when all pass.
 */
export async function typecheckExamples(project, blocks, only = resolutions) {
  const dir = path.join(project, 'typecheck')
  fs.mkdirSync(dir, { recursive: true })
  const files = []
  blocks.forEach((block, i) => {
    if (block.lang !== 'js' && block.lang !== 'ts') return
    const file = `readme-line-${block.line}.mts`
    // Each file a module of its own (top-level names do not clash: they are module-scoped).
    fs.writeFileSync(path.join(dir, file), block.code)
    files.push(file)
  })
  const checked = []
  for (const resolution of only) {
    const config = `tsconfig.${resolution}.json`
    fs.writeFileSync(path.join(dir, config), JSON.stringify({ compilerOptions: tsOptions(resolution), files }, null, 2))
    await tsc(dir, ['-p', config])
    checked.push(resolution)
  }
  return { files, checked }
}

/** Splits a shell line into words: plain words, '...' and "..." (no escapes, no variables). */
export function shellWords(line) {
  const words = []
  const re = /'([^']*)'|"([^"]*)"|(\S+)/g
  for (const m of line.matchAll(re)) words.push(m[1] ?? m[2] ?? m[3])
  return words
}

/**
 * The `npx simd-r-drive ...` lines of the sh blocks: `{ args, expected, line }`,
 * `expected` the stdout a `# → text` comment promises (null: not shown, only
 * exit status 0 is required). Lines of one block run in order, in one folder.
 */
export function cliBlocks(blocks) {
  const out = []
  for (const block of blocks.filter((b) => b.lang === 'sh')) {
    const commands = []
    for (const raw of block.code.split('\n')) {
      const m = /^npx simd-r-drive\s+(.*?)(?:\s+#\s*(?:→ (.*))?.*)?$/.exec(raw.trim())
      if (!m) continue
      commands.push({ args: shellWords(m[1]), expected: m[2] === undefined ? null : m[2].trimEnd() })
    }
    if (commands.length > 0) out.push({ line: block.line, commands })
  }
  return out
}

/**
 * Runs the README's CLI lines in folders under `project`, each through
 * `command` (argv prefix: the installed bin, or node + lib/cli/index.js).
 * Returns `[{ name, stdout, expected }]` for the lines that promise an output.
 */
export async function runCliExamples(project, blocks, command) {
  const results = []
  for (const { line, commands } of cliBlocks(blocks)) {
    const dir = path.join(project, `cli-${line}`)
    fs.mkdirSync(dir, { recursive: true })
    for (const c of commands) {
      let stdout
      try {
        ;({ stdout } = await execFileP(command[0], [...command.slice(1), ...c.args], { cwd: dir, timeout: 60_000 }))
      } catch (err) {
        err.message = `simd-r-drive ${c.args.join(' ')} (README line ${line}) failed:\n${err.stdout ?? ''}${err.stderr ?? ''}`
        throw err
      }
      if (c.expected !== null) results.push({ name: `README line ${line}: simd-r-drive ${c.args.join(' ')}`, stdout, expected: [c.expected] })
    }
  }
  return results
}
