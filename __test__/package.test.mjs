// The package as a user gets it: `npm run pack:local` packs the root package
// and this platform's package (the .node) into tarballs; a fresh project
// installs both, offline (no registry, no Rust), and runs the README's
// examples from them as ESM, as CommonJS and as TypeScript (tsc --strict with
// moduleResolution node16, nodenext and bundler). Without the platform package,
// importing fails with ERR_NATIVE_BINDING_MISSING and a message that says what
// to install. `simd-r-drive/keyv` (the keyv adapter) is imported as ESM and
// CommonJS and typechecked, with keyv installed beside it (its peer
// dependency; packed from the repo's node_modules, so the install stays offline).
//
// It packs the build as it is, the .node at the repo root and lib/ (`npm test`
// builds both first; rebuilding here would rewrite lib/ under other tests),
// into a temp folder.
import test from 'ava'
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { readmeBlocks, repo, runCliExamples, runExamples, runNode, tsOptions, tsc, typecheckExamples } from './helpers/readme-examples.mjs'

const execFileP = promisify(execFile)
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'srd-package-'))
const pkg = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8'))

test.after.always(() => fs.rmSync(work, { recursive: true, force: true }))

/** npm with a quiet, offline, scratch-free setup; resolves to { stdout, stderr }. */
async function npmIn(cwd, args) {
  try {
    return await execFileP(npm, args, {
      cwd,
      timeout: 120_000,
      maxBuffer: 16 << 20,
      env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' },
      shell: process.platform === 'win32',
    })
  } catch (err) {
    err.message = `npm ${args.join(' ')} failed in ${cwd}:\n${err.stdout ?? ''}${err.stderr ?? ''}`
    throw err
  }
}

function listTarball(file) {
  return execFileP('tar', ['tzf', file]).then(({ stdout }) => stdout.split('\n').filter(Boolean).map((f) => f.replace(/^package\//, '')))
}

function newProject(name) {
  const dir = path.join(work, name)
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify({ name, version: '1.0.0', private: true }, null, 2)}\n`)
  return dir
}

// One pack and one install, shared by the tests below.
let packed
let project
let installOutput
let keyvInstallOutput
const ready = (async () => {
  const { stdout } = await execFileP(process.execPath, [path.join(repo, 'scripts', 'pack-local.mjs'), '--reuse-native', '--no-build-ts', '--json', '--out', path.join(work, 'dist')], {
    cwd: repo,
    timeout: 120_000,
  })
  packed = JSON.parse(stdout)
  project = newProject('app')
  installOutput = await npmIn(project, ['install', '--offline', '--no-audit', '--no-fund', packed.root, packed.platform])
  // keyv (the adapter's peer dependency, for the README's keyv example and the
  // adapter's tests below) and its one dependency, packed from the repo's copies.
  const keyvTarballs = JSON.parse(
    (await npmIn(repo, ['pack', path.join(repo, 'node_modules', 'keyv'), path.join(repo, 'node_modules', '@keyv', 'serialize'), '--json', '--ignore-scripts', '--pack-destination', path.join(work, 'dist')])).stdout,
  ).map((info) => path.join(work, 'dist', info.filename))
  keyvInstallOutput = await npmIn(project, ['install', '--offline', '--no-audit', '--no-fund', ...keyvTarballs])
})()
ready.catch(() => {}) // reported by each test that awaits it

test.serial('pack:local packs the root package without the .node, test or bench files, and the platform package with it', async (t) => {
  await ready
  t.is(path.basename(packed.root), `${pkg.name}-${pkg.version}.tgz`)
  t.is(path.basename(packed.platform), `${packed.platformPackage}-${pkg.version}.tgz`)
  const root = await listTarball(packed.root)
  for (const f of ['package.json', 'README.md', 'index.js', 'index.d.ts', 'lib/index.js', 'lib/index.mjs', 'lib/index.d.ts', 'lib/native.js', 'lib/keyv.js', 'lib/keyv.mjs', 'lib/keyv.d.ts', 'lib/keyv.d.mts']) {
    t.true(root.includes(f), `root tarball has ${f}`)
  }
  for (const f of root) {
    t.false(/^(__test__|bench|demo|crates|src|scripts|npm|docs|fuzz|target)\//.test(f), `root tarball has no ${f}`)
    t.false(f.endsWith('.node'), `root tarball carries no binary (${f})`)
  }
  const rootPkg = JSON.parse((await execFileP('tar', ['xzOf', packed.root, 'package/package.json'])).stdout)
  t.is(rootPkg.scripts, undefined, 'no prepare script (npm would warn about it, and a user cannot build)')
  t.deepEqual(rootPkg.optionalDependencies, pkg.optionalDependencies)
  const platform = await listTarball(packed.platform)
  const platPkg = JSON.parse((await execFileP('tar', ['xzOf', packed.platform, 'package/package.json'])).stdout)
  t.true(platform.includes(platPkg.main), `platform tarball has ${platPkg.main}`)
  t.true(platPkg.main.endsWith('.node'))
  t.true(platPkg.os.includes(process.platform) && platPkg.cpu.includes(process.arch))
})

test.serial('optionalDependencies list every npm/<platform> package at the root version', (t) => {
  const names = fs.readdirSync(path.join(repo, 'npm')).map((d) => JSON.parse(fs.readFileSync(path.join(repo, 'npm', d, 'package.json'), 'utf8')))
  t.deepEqual(Object.keys(pkg.optionalDependencies).sort(), names.map((p) => p.name).sort())
  for (const p of names) {
    t.is(pkg.optionalDependencies[p.name], pkg.version, p.name)
    t.is(p.version, pkg.version, `${p.name}'s own version`)
    t.true(Array.isArray(p.os) && Array.isArray(p.cpu), `${p.name} has os and cpu, so npm skips it elsewhere`)
  }
})

test.serial('npm install --offline of the two tarballs succeeds without warnings, and installs the platform package', async (t) => {
  await ready
  const out = `${installOutput.stdout}${installOutput.stderr}`
  t.notRegex(out, /EBADENGINE|npm warn|npm error/i, out)
  const installed = JSON.parse(fs.readFileSync(path.join(project, 'node_modules', pkg.name, 'package.json'), 'utf8'))
  t.is(installed.version, pkg.version)
  t.true(fs.existsSync(path.join(project, 'node_modules', packed.platformPackage, 'package.json')))
  t.false(fs.existsSync(path.join(project, 'node_modules', pkg.name, 'src')), 'no sources installed')
})

test.serial("the README's examples run from the installed package as ESM, CommonJS and compiled TypeScript", async (t) => {
  await ready
  const blocks = readmeBlocks()
  const results = await runExamples(project, blocks)
  t.true(results.length >= 7)
  for (const r of results) {
    const lines = r.stdout.split('\n')
    if (lines.at(-1) === '') lines.pop()
    t.deepEqual(lines, r.expected, r.name)
  }
  // The examples ran against the installed copy, not the repo.
  const { stdout } = await execFileP(process.execPath, ['-p', "require.resolve('simd-r-drive')"], {
    cwd: path.join(project, fs.readdirSync(project).find((d) => d.endsWith('-esm'))),
  })
  t.is(fs.realpathSync(stdout.trim()), fs.realpathSync(path.join(project, 'node_modules', pkg.name, 'lib', 'index.js')))
})

test.serial('simd-r-drive/keyv from the installed package: ESM and CommonJS (default and named export), over keyv 5', async (t) => {
  await ready
  const out = `${keyvInstallOutput.stdout}${keyvInstallOutput.stderr}`
  t.notRegex(out, /npm warn|npm error/i, out)
  const installed = JSON.parse(fs.readFileSync(path.join(project, 'node_modules', pkg.name, 'package.json'), 'utf8'))
  t.deepEqual(installed.peerDependencies, { keyv: pkg.peerDependencies.keyv })
  t.true(installed.peerDependenciesMeta.keyv.optional)
  const dir = path.join(project, 'keyv-probe')
  fs.mkdirSync(dir, { recursive: true })
  const body = (what) => `const keyv = new Keyv({ store: new ${what}('probe.srd'), namespace: 'n' })
  await keyv.set('a', { v: 1 }, 60_000)
  const found = []
  for await (const [k, v] of keyv.iterator()) found.push([k, v])
  console.log(JSON.stringify([await keyv.get('a'), found, keyv.store.opts.path]))
  await keyv.clear()
  console.log(await keyv.has('a'))
  await keyv.disconnect()
`
  fs.writeFileSync(
    path.join(dir, 'probe.mjs'),
    `import KeyvSimdRDrive, { KeyvSimdRDrive as Named } from 'simd-r-drive/keyv'
import Keyv from 'keyv'
console.log(KeyvSimdRDrive === Named, typeof KeyvSimdRDrive)
${body('KeyvSimdRDrive')}`,
  )
  fs.writeFileSync(
    path.join(dir, 'probe.cjs'),
    `const adapter = require('simd-r-drive/keyv')
const { Keyv } = require('keyv')
console.log(adapter.default === adapter.KeyvSimdRDrive, typeof adapter.KeyvSimdRDrive)
;(async () => {
${body('adapter.KeyvSimdRDrive')}})()
`,
  )
  for (const file of ['probe.mjs', 'probe.cjs']) {
    const { stdout } = await runNode(file, dir)
    t.deepEqual(stdout.split('\n'), ['true function', JSON.stringify([{ v: 1 }, [['a', { v: 1 }]], 'probe.srd']), 'false', ''], file)
  }
  // Resolved through the installed package's exports, not the repo.
  const resolved = await execFileP(process.execPath, ['-p', "require.resolve('simd-r-drive/keyv')"], { cwd: dir })
  t.is(fs.realpathSync(resolved.stdout.trim()), fs.realpathSync(path.join(project, 'node_modules', pkg.name, 'lib', 'keyv.js')))
})

test.serial('simd-r-drive/keyv typechecks from the installed declarations: an ES module (node16, nodenext, bundler) and a CommonJS one', async (t) => {
  await ready
  const dir = path.join(project, 'keyv-types')
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(
    path.join(dir, 'esm.mts'),
    `import KeyvSimdRDrive, { KeyvSimdRDrive as Named, type KeyvSimdRDriveOptions } from 'simd-r-drive/keyv'
import Keyv, { type KeyvStoreAdapter } from 'keyv'
import type { DataStore } from 'simd-r-drive'

const options: KeyvSimdRDriveOptions = { path: 'cache.srd', durable: true }
const adapter: KeyvStoreAdapter = new KeyvSimdRDrive(options)
const named: Named = new Named('cache.srd')
const store: DataStore = named.store
const keyv = new Keyv<{ n: number }>({ store: adapter, namespace: 'ns' })
export const value: Promise<{ n: number } | undefined> = keyv.get('k')
export const expired: Promise<number> = named.clearExpired()
export const dialect: 'etcd' = named.opts.dialect
export const records: boolean = store.closed
// @ts-expect-error the adapter always opens with keys on
new KeyvSimdRDrive({ path: 'x', keys: false })
// @ts-expect-error a path is required
new KeyvSimdRDrive({ durable: true })
`,
  )
  fs.writeFileSync(
    path.join(dir, 'cjs.cts'),
    `import adapter = require('simd-r-drive/keyv')
import keyv = require('keyv')

const a: keyv.KeyvStoreAdapter = new adapter.KeyvSimdRDrive('cache.srd')
const b: adapter.KeyvSimdRDrive = new adapter.default({ path: 'cache.srd' })
export const stores = [new keyv.Keyv({ store: a }), new keyv.Keyv(b)]
`,
  )
  for (const resolution of ['node16', 'nodenext', 'bundler']) {
    const files = resolution === 'bundler' ? ['esm.mts'] : ['esm.mts', 'cjs.cts']
    const config = `tsconfig.${resolution}.json`
    fs.writeFileSync(path.join(dir, config), JSON.stringify({ compilerOptions: tsOptions(resolution), files }, null, 2))
    await tsc(dir, ['-p', config])
  }
  // Negative control: a wrong type is caught (the checks above are not vacuous).
  fs.writeFileSync(path.join(dir, 'bad.mts'), "import KeyvSimdRDrive from 'simd-r-drive/keyv'\nexport const n: number = new KeyvSimdRDrive('x').store\n")
  fs.writeFileSync(path.join(dir, 'tsconfig.bad.json'), JSON.stringify({ compilerOptions: tsOptions('nodenext'), files: ['bad.mts'] }))
  const err = await t.throwsAsync(tsc(dir, ['-p', 'tsconfig.bad.json']))
  t.regex(err.message, /TS2322/)
})

test.serial("the installed simd-r-drive command (node_modules/.bin) runs the README's command-line lines", async (t) => {
  await ready
  const bin = path.join(project, 'node_modules', '.bin', process.platform === 'win32' ? 'simd-r-drive.cmd' : 'simd-r-drive')
  t.true(fs.existsSync(bin), 'npm linked the bin')
  const results = await runCliExamples(project, readmeBlocks(), [bin])
  t.true(results.length >= 1)
  for (const r of results) {
    const lines = r.stdout.split('\n')
    if (lines.at(-1) === '') lines.pop()
    t.deepEqual(lines, r.expected, r.name)
  }
})

test.serial("the README's examples typecheck against the installed declarations: tsc --strict, node16, nodenext and bundler", async (t) => {
  await ready
  const { checked } = await typecheckExamples(project, readmeBlocks())
  t.deepEqual(checked, ['node16', 'nodenext', 'bundler'])
})

const missingMessage = (t, text, platformPackage) => {
  t.regex(text, new RegExp(`the native binary for this platform \\(${platformPackage.replace(`${pkg.name}-`, '')}\\) is missing`))
  t.regex(text, new RegExp(`it comes in the package ${platformPackage}, which is not installed`))
  t.regex(text, /Prebuilt binaries exist for: .*linux-x64-gnu.*darwin|Prebuilt binaries exist for: .*darwin.*linux-x64-gnu/)
  t.true(text.includes(`npm install ${platformPackage}`), 'says how to install it')
  t.regex(text, /--omit=optional/)
  t.regex(text, /--no-optional/)
  t.regex(text, /build it from source with Rust.*npm run build/)
  t.notRegex(text, /npm has a bug/, "not the loader's misleading advice")
}

test.serial('without the platform package, importing throws ERR_NATIVE_BINDING_MISSING saying which package to install (CJS and ESM)', async (t) => {
  await ready
  const bare = newProject('no-binary')
  // Only the root tarball: npm cannot fetch the platform package offline and skips it, as it is optional.
  const install = await npmIn(bare, ['install', '--offline', '--no-audit', '--no-fund', packed.root])
  t.false(fs.existsSync(path.join(bare, 'node_modules', packed.platformPackage)), `${install.stdout}${install.stderr}`)

  fs.writeFileSync(
    path.join(bare, 'probe.cjs'),
    `try { require('simd-r-drive'); console.log('loaded') } catch (err) {
  console.log(JSON.stringify({ code: err.code, message: err.message, cause: err.cause instanceof Error ? err.cause.message : null, isError: err instanceof Error }))
}\n`,
  )
  const { stdout } = await runNode('probe.cjs', bare)
  const err = JSON.parse(stdout)
  t.is(err.code, 'ERR_NATIVE_BINDING_MISSING')
  t.true(err.isError)
  missingMessage(t, err.message, packed.platformPackage)
  t.regex(err.cause, /Cannot find native binding/, "the loader's own error is the cause")

  // ESM: a static import fails the module with the same error (uncaught: printed on stderr).
  fs.writeFileSync(path.join(bare, 'probe.mjs'), "import { DataStore } from 'simd-r-drive'\nconsole.log(typeof DataStore)\n")
  const esm = await runNode('probe.mjs', bare).then(
    () => null,
    (e) => e,
  )
  t.truthy(esm, 'the import fails')
  t.regex(esm.stderr, /code: 'ERR_NATIVE_BINDING_MISSING'/)
  missingMessage(t, esm.stderr.split('[cause]')[0], packed.platformPackage)
})

test.serial('with the platform package installed but its binary damaged, the error says it did not load, and why', async (t) => {
  await ready
  const broken = newProject('broken-binary')
  fs.cpSync(path.join(project, 'node_modules'), path.join(broken, 'node_modules'), { recursive: true })
  const platDir = path.join(broken, 'node_modules', packed.platformPackage)
  const main = JSON.parse(fs.readFileSync(path.join(platDir, 'package.json'), 'utf8')).main
  fs.writeFileSync(path.join(platDir, main), 'not a shared library')
  fs.writeFileSync(
    path.join(broken, 'probe.cjs'),
    "try { require('simd-r-drive') } catch (err) { console.log(JSON.stringify({ code: err.code, message: err.message })) }\n",
  )
  const { stdout } = await runNode('probe.cjs', broken)
  const err = JSON.parse(stdout)
  t.is(err.code, 'ERR_NATIVE_BINDING_MISSING')
  t.regex(err.message, new RegExp(`the package ${packed.platformPackage} is installed but its native binary did not load: .*${main.replace(/\./g, '\\.')}`))
  t.true(err.message.includes(`npm install ${packed.platformPackage}`))
})
