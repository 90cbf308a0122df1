// The README cannot rot: every fenced block in it is executed or checked here,
// against the repo's build (lib/ and the .node at the root, which `npm test`
// builds first). The examples run in a temporary project whose
// node_modules/simd-r-drive is a link to this repo, so `import ... from
// 'simd-r-drive'` resolves through package.json `exports` as a user's would.
// package.test.mjs runs the same examples from the installed tarballs.
//
// Shell blocks: `npx simd-r-drive ...` lines run through lib/cli/index.js
// (a `# → text` comment is the stdout they must print); the other lines are
// checked, not run (see below).
//
// Also checked: the names in the API tables exist (and every public method of
// the classes is in a table), every error code the sources throw is in the
// error table, and the benchmark rows are those of bench/results.md.
import test from 'ava'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createRequire } from 'node:module'
import {
  codeBlocks,
  expectedOutput,
  readmeBlocks,
  repo,
  cliBlocks,
  runCliExamples,
  runExamples,
  runNode,
  toCommonJS,
  typecheckExamples,
} from './helpers/readme-examples.mjs'

const require = createRequire(import.meta.url)
const readme = fs.readFileSync(path.join(repo, 'README.md'), 'utf8')
const blocks = readmeBlocks()
const pkg = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8'))

function tempProject(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'srd-readme-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  fs.mkdirSync(path.join(dir, 'node_modules'))
  fs.symlinkSync(repo, path.join(dir, 'node_modules', pkg.name), 'dir')
  // keyv, for the keyv adapter's example (a peer dependency a user installs beside it).
  fs.symlinkSync(path.join(repo, 'node_modules', 'keyv'), path.join(dir, 'node_modules', 'keyv'), 'dir')
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'readme-examples', private: true }))
  return dir
}

test('every code block has a language this test runs or checks (sh, js, ts), and there are examples of each', (t) => {
  t.true(blocks.length >= 5)
  for (const b of blocks) t.true(['sh', 'js', 'ts'].includes(b.lang), `README line ${b.line}: block language '${b.lang}'`)
  t.true(blocks.filter((b) => b.lang === 'js').length >= 3, 'a sync, an async and an error example')
  t.true(blocks.filter((b) => b.lang === 'ts').length >= 1, 'the await using example')
  for (const b of blocks.filter((b) => b.lang !== 'sh')) {
    t.true(expectedOutput(b.code).length >= 1, `README line ${b.line}: the block shows what it prints (// → ...)`)
  }
})

test('the helpers: block extraction, expected output and the CommonJS conversion', (t) => {
  const md = 'text\n```js\nimport { a, b as c } from \'x\'\nimport d from "y"\nconsole.log(1) // → 1\nawait 0\n```\n\n```sh\nls\n```\n'
  const got = codeBlocks(md)
  t.deepEqual(got.map((b) => [b.lang, b.line]), [['js', 2], ['sh', 9]])
  t.deepEqual(expectedOutput(got[0].code), ['1'])
  const cjs = toCommonJS(got[0].code)
  t.regex(cjs, /const \{ a, b: c \} = require\('x'\)/)
  t.regex(cjs, /const d = require\("y"\)/)
  t.regex(cjs, /\(async \(\) => \{/)
  t.notRegex(cjs, /^import /m)
})

// The shell blocks are not executed: `npm install simd-r-drive` needs the
// registry (package.test.mjs installs the same package from its tarballs,
// offline), and `npm install && npm run demo` / `npm test` build everything and
// run this very suite. Instead each line must be exactly one of the commands
// below, each tied to what it runs: package.json scripts and .ci/run.
test('the shell blocks are exactly the documented commands, and those commands exist (not executed: too slow or recursive)', (t) => {
  const ci = fs.readFileSync(path.join(repo, '.ci', 'run'), 'utf8')
  const ciCommands = ci.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#') && !/^(set|cd) /.test(l))
  t.deepEqual(ciCommands, ['npm install', 'npm test'], '.ci/run runs exactly npm install, then npm test')
  const allowed = new Map([
    [`npm install ${pkg.name}`, () => t.is(pkg.name, 'simd-r-drive')],
    ['npm install && npm run demo', () => t.truthy(pkg.scripts.demo && pkg.scripts.prepare, 'demo and prepare (build) scripts')],
    ['npm test', () => t.truthy(pkg.scripts.test)],
  ])
  const seen = new Set()
  for (const b of blocks.filter((b) => b.lang === 'sh')) {
    for (const raw of b.code.split('\n')) {
      const line = raw.replace(/\s+#.*$/, '').trim()
      if (!line || line.startsWith('npx simd-r-drive ')) continue // the CLI lines: run by the next test
      t.true(allowed.has(line), `README line ${b.line}: '${line}' is not a known command`)
      allowed.get(line)?.()
      seen.add(line)
    }
  }
  t.deepEqual([...seen].sort(), [...allowed.keys()].sort(), 'the install line and both clone commands are shown')
  t.true(fs.existsSync(path.join(repo, pkg.scripts.demo.replace(/^node /, ''))), 'the demo script exists')
})

test('the command-line lines run (lib/cli/index.js) and print what their # → comments say', async (t) => {
  const dir = tempProject(t)
  t.true(cliBlocks(blocks).length >= 1, 'the README shows the command line')
  const results = await runCliExamples(dir, blocks, [process.execPath, path.join(repo, pkg.bin['simd-r-drive'])])
  t.true(results.length >= 1)
  for (const r of results) t.deepEqual(r.stdout.split('\n').filter((l, i, a) => i < a.length - 1 || l !== ''), r.expected, r.name)
})

test('the js examples run as ESM and as CommonJS, the ts example compiled by tsc, and print what the README says', async (t) => {
  const dir = tempProject(t)
  const results = await runExamples(dir, blocks)
  t.is(results.length, blocks.filter((b) => b.lang === 'js').length * 2 + blocks.filter((b) => b.lang === 'ts').length)
  for (const r of results) {
    t.deepEqual(r.stdout.split('\n').filter((l, i, a) => i < a.length - 1 || l !== ''), r.expected, r.name)
  }
})

test('the js and ts examples typecheck under tsc --strict with moduleResolution node16, nodenext and bundler', async (t) => {
  const dir = tempProject(t)
  const { files, checked } = await typecheckExamples(dir, blocks)
  t.is(files.length, blocks.filter((b) => b.lang !== 'sh').length)
  t.deepEqual(checked, ['node16', 'nodenext', 'bundler'])
})

test('negative control: a strict-mode error in an example (a possibly-null handle) fails the typecheck', async (t) => {
  const dir = tempProject(t)
  const bad = { lang: 'js', line: 0, code: "import { DataStore } from 'simd-r-drive'\nconst s = DataStore.open('x.srd')\nconsole.log(s.read('k').size) // → 1\n" }
  const err = await t.throwsAsync(typecheckExamples(dir, [bad], ['nodenext']))
  t.regex(err.message, /TS18047|possibly 'null'/)
})

// ---- the API tables are true ----

/** The backticked names in the first column of the tables under `### heading`, until the next heading. */
function tableNames(heading) {
  const start = readme.indexOf(`\n### ${heading}\n`)
  if (start < 0) throw new Error(`README has no section ### ${heading}`)
  const rest = readme.slice(start + heading.length + 6)
  const section = rest.slice(0, rest.search(/\n#{2,3} /) >>> 0)
  const names = []
  for (const line of section.split('\n')) {
    if (!line.startsWith('| `')) continue
    const first = line.split(' | ')[0]
    for (const m of first.matchAll(/`([^`]+)`/g)) {
      const text = m[1].replace(/^new /, '')
      const name = /^\[Symbol\.\w+\]/.test(text) ? text.match(/^\[(Symbol\.\w+)\]/)[1] : text.match(/^[\w.]+/)[0]
      names.push(name)
    }
  }
  return names
}

function has(obj, name) {
  if (name.startsWith('Symbol.')) return Symbol[name.slice(7)] in obj
  return name in obj
}

/** Public names of an instance: its own fields, its prototype's members (methods, getters, symbols), its class's statics. */
function publicNames(cls, instance) {
  const symbolName = (k) => `Symbol.${k.description.replace(/^(nodejs\.)?(Symbol\.)?/, '')}`
  // Protocol symbols that are no API of their own: util.inspect's (a registered
  // Symbol.for) and Symbol.toStringTag.
  const protocol = (k) => typeof k === 'symbol' && (Symbol.keyFor(k) !== undefined || k === Symbol.toStringTag)
  const proto = Reflect.ownKeys(cls.prototype)
    .filter((k) => k !== 'constructor' && !protocol(k))
    .map((k) => (typeof k === 'symbol' ? symbolName(k) : k))
  const statics = Object.getOwnPropertyNames(cls)
    .filter((k) => !['length', 'name', 'prototype'].includes(k))
    .map((k) => `${cls.name}.${k}`)
  return [...Object.keys(instance), ...proto, ...statics]
}

/** Members marked `@internal` in the TypeScript sources (not part of the API). */
function internalNames() {
  const names = new Set()
  for (const file of fs.readdirSync(path.join(repo, 'src')).filter((f) => f.endsWith('.ts'))) {
    const src = fs.readFileSync(path.join(repo, 'src', file), 'utf8')
    for (const m of src.matchAll(/@internal[^\n]*\*\/\s*\n\s*(?:readonly\s+|static\s+|get\s+|async\s+)*(\w+)/g)) names.add(m[1])
  }
  return names
}

test('the API tables name only what exists, and every public member of DataStore, AsyncDataStore and EntryHandle is in them', async (t) => {
  const api = require(repo)
  const internal = internalNames()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'srd-readme-api-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const store = api.DataStore.open(path.join(dir, 'api.srd'))
  store.write('k', 'v')
  const handle = store.read('k')
  const db = await api.AsyncDataStore.open(path.join(dir, 'api2.srd'))
  t.teardown(async () => {
    store.close()
    await db.close()
  })
  const covered = (cls, instance, names) => {
    t.true(instance instanceof cls)
    for (const name of names) {
      const [owner, member] = name.includes('.') && !name.startsWith('Symbol.') ? name.split('.') : [null, name]
      if (owner !== null) {
        t.is(owner, cls.name, `README table of ${cls.name} lists ${name}`)
        t.true(member in cls, `${name} exists`)
      } else {
        t.true(has(instance, member), `a ${cls.name} has ${member} (README)`)
      }
    }
    const listed = new Set(names)
    for (const name of publicNames(cls, instance)) {
      const bare = name.startsWith(`${cls.name}.`) ? name.slice(cls.name.length + 1) : name
      if (internal.has(bare)) continue
      t.true(listed.has(name), `${cls.name}: ${name} is public but not in the README's tables`)
    }
  }
  const storeNames = tableNames('`DataStore`')
  covered(api.DataStore, store, storeNames)
  covered(api.EntryHandle, handle, tableNames('`EntryHandle`'))
  // AsyncDataStore: "the same methods and properties as DataStore except ...",
  // plus the rows of its own table.
  const sentence = /The same methods and properties as `DataStore` except (.*?), each/s.exec(readme)
  t.truthy(sentence, 'the AsyncDataStore section says which DataStore members it lacks')
  const except = [...sentence[1].matchAll(/`\[?([\w.]+)\]?`/g)].map((m) => m[1])
  const sameAsSync = storeNames.filter((n) => !n.startsWith('DataStore.') && !except.includes(n))
  covered(api.AsyncDataStore, db, [...new Set([...tableNames('`AsyncDataStore`'), ...sameAsSync])])
  for (const fn of tableNames('Functions')) t.true(fn in api, `${fn} is exported`)
  for (const name of Object.keys(api)) t.true(readme.includes(`\`${name}`), `the export ${name} is in the README`)
})

test('the options tables name the options the sources read', (t) => {
  const options = fs.readFileSync(path.join(repo, 'src', 'options.ts'), 'utf8')
  const open = /export interface OpenOptions \{([\s\S]*?)\n\}/.exec(options)[1]
  const declared = [...open.matchAll(/^\s+(\w+)\?:/gm)].map((m) => m[1]).sort()
  const documented = tableNames('Options').filter((n) => !['verify', 'highWaterMark'].includes(n)).sort()
  t.deepEqual(documented, declared)
})

test('the error table lists every error code the sources throw', (t) => {
  // What the library throws: in the TypeScript layer, codes given to codedError()
  // or assigned as `.code =` / `code:` (not codes it only compares with, such as
  // Node's own); in the Rust crates, every ERR_ string (they build errors).
  // src/cli/ is the command line: its failures are exit codes and messages.
  const codes = new Set()
  const ts = /(?:codedError\(\s*|\.code\s*=\s*|\bcode:\s*)["'](ERR_[A-Z_]+|ABORT_ERR)["']/g
  const rs = /"(ERR_[A-Z_]+|ABORT_ERR)"/g
  const visit = (p) => {
    for (const e of fs.readdirSync(p, { withFileTypes: true })) {
      const f = path.join(p, e.name)
      if (e.isDirectory()) {
        if (f !== path.join(repo, 'src', 'cli')) visit(f)
      } else if (/\.(ts|rs)$/.test(e.name)) {
        for (const m of fs.readFileSync(f, 'utf8').matchAll(e.name.endsWith('.rs') ? rs : ts)) codes.add(m[1])
      }
    }
  }
  visit(path.join(repo, 'src'))
  visit(path.join(repo, 'crates', 'node', 'src'))
  visit(path.join(repo, 'crates', 'engine', 'src'))
  t.true(codes.size >= 5, [...codes].join(' '))
  const section = readme.slice(readme.indexOf('\n## Errors\n'), readme.indexOf('\n## Durability\n'))
  for (const code of codes) t.true(section.includes(`| \`${code}\``), `${code} is in the README's error table`)
  for (const code of ['ABORT_ERR', 'ERR_CORRUPT_STORE', 'ERR_NOT_A_STORE', 'ERR_NATIVE_BINDING_MISSING']) {
    t.true(section.includes(`| \`${code}\``), code)
  }
})

test('the benchmark rows are those of bench/results.md (the last full run)', (t) => {
  const results = fs.readFileSync(path.join(repo, 'bench', 'results.md'), 'utf8')
  const section = readme.slice(readme.indexOf('\n## Benchmarks\n'))
  const rows = section.split('\n').filter((l) => /^\| \(/.test(l))
  t.true(rows.length >= 5)
  const cells = (line) => line.split('|').slice(1, -1).map((c) => c.trim())
  // The first table of results.md is the results; later ones (what each engine runs) reuse the labels.
  const full = new Map()
  for (const l of results.split('\n').filter((l) => /^\| \(/.test(l))) if (!full.has(cells(l)[0])) full.set(cells(l)[0], cells(l))
  for (const row of rows) {
    const [label, ours, ...ratios] = cells(row)
    const source = full.get(label)
    t.truthy(source, `bench/results.md has the row '${label}' (run npm run bench, then copy the new figures)`)
    if (!source) continue
    // results.md: row | unit | ours | lmdb | classic-level | better-sqlite3 | ours/lmdb | ours/classic-level | ours/better-sqlite3
    // (then the columns of ours opened exclusive and with keys, which the headline leaves out)
    t.deepEqual([ours, ...ratios], [source[2], ...source.slice(6, 9)], `the README row '${label}' matches bench/results.md`)
  }
  t.true(section.includes('](bench/results.md)') && section.includes('](docs/performance.md)'), 'links to the full results')
  t.true(fs.existsSync(path.join(repo, 'docs', 'performance.md')))
})

test('relative links in the README point at files that exist', (t) => {
  for (const m of readme.matchAll(/\]\((?!https?:|#)([^)#]+)(#[^)]*)?\)/g)) {
    t.true(fs.existsSync(path.join(repo, m[1])), `README links to ${m[1]}`)
  }
})

test("the README's statement on `await using`: a SyntaxError in plain JS before Node 24, native from 24", async (t) => {
  t.regex(readme, /Node 24 and later run it natively/)
  t.regex(readme, /On Node 20 the syntax is a\s+`SyntaxError`/)
  const dir = tempProject(t)
  fs.writeFileSync(path.join(dir, 'using.mjs'), "await using x = { async [Symbol.asyncDispose]() { console.log('disposed') } }\n")
  const major = Number(process.versions.node.split('.')[0])
  const run = runNode('using.mjs', dir)
  if (major < 24) {
    const err = await t.throwsAsync(run)
    t.regex(err.stderr, /SyntaxError/)
  } else {
    t.is((await run).stdout, 'disposed\n')
  }
  t.true(typeof Symbol.asyncDispose === 'symbol' && typeof Symbol.dispose === 'symbol', 'what the compiled TypeScript needs')
})

test('the Install section names every platform package of optionalDependencies, and the missing-binary error code', (t) => {
  const section = readme.slice(readme.indexOf('\n## Install\n'), readme.indexOf('\n## Working on it'))
  for (const name of Object.keys(pkg.optionalDependencies ?? {})) t.true(section.includes(`\`${name}\``), `${name} is named`)
  t.true(Object.keys(pkg.optionalDependencies ?? {}).length >= 7)
  t.regex(section, /ERR_NATIVE_BINDING_MISSING/)
  t.regex(section, /--omit=optional/)
})
