// `npm run pack:local`: the two tarballs a user of this platform installs.
//
//   1. this platform's binary: `npm run build:native` unless the .node at the
//      repo root is newer than every Rust source (or `--reuse-native` is given
//      and a .node exists: the tarball test uses it, `npm test` builds first);
//   2. copies it into its `npm/<platform>/` package (what `napi artifacts` does
//      with CI artifacts);
//   3. `npm run build:ts`;
//   4. stages the root package in `dist/package/`: the entries of its `files`
//      (lib/ only with files compiled from a src/ file that still exists, so a
//      stale lib/ file never ships) and its package.json without `scripts` and
//      the ava config (a clone needs `prepare` to build; an installed tarball
//      must not carry it: npm 11 warns about every dependency with a `prepare`
//      script), then `npm pack`s it and the platform package into `dist/`
//      (git-ignored), without lifecycle scripts. `npm publish dist/package`
//      publishes what was tested.
//
// `--no-build-ts` packs lib/ as it is (when `npm run build` just ran).
// Prints the two tarball paths, one a line (root first). `--json` prints
// `{ root, platform, platformPackage }` instead. `--out <dir>` packs elsewhere.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)
const flag = (name) => args.includes(name)
const option = (name) => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : undefined
}
const json = flag('--json')
const out = path.resolve(option('--out') ?? path.join(repo, 'dist'))
const log = (msg) => process.stderr.write(`pack:local: ${msg}\n`)
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
const run = (cmd, argv, opts = {}) =>
  execFileSync(cmd, argv, { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', ...opts })

/** The libc of this Linux process: 'glibc' or 'musl' (null elsewhere). */
function libc() {
  if (process.platform !== 'linux') return null
  const report = process.report?.getReport?.()
  return report?.header?.glibcVersionRuntime ? 'glibc' : 'musl'
}

/** The npm/<dir> package whose os, cpu and libc fields match this process. */
function platformPackage() {
  const here = libc()
  for (const dir of fs.readdirSync(path.join(repo, 'npm')).sort()) {
    const pkg = JSON.parse(fs.readFileSync(path.join(repo, 'npm', dir, 'package.json'), 'utf8'))
    if (!pkg.os?.includes(process.platform) || !pkg.cpu?.includes(process.arch)) continue
    if (pkg.libc && !pkg.libc.includes(here)) continue
    return { dir: path.join(repo, 'npm', dir), name: pkg.name, node: pkg.main }
  }
  throw new Error(`no npm/<platform> package matches ${process.platform}-${process.arch}${here ? `-${here}` : ''}`)
}

/** Newest modification time among the Rust sources the binary is built from. */
function newestSource() {
  let newest = 0
  const visit = (p) => {
    const st = fs.statSync(p)
    if (st.isDirectory()) {
      for (const name of fs.readdirSync(p)) {
        if (name === 'target' || name === 'tests' || name === 'benches' || name === 'examples') continue
        visit(path.join(p, name))
      }
    } else if (/\.(rs|toml)$/.test(p) || path.basename(p) === 'Cargo.lock') {
      newest = Math.max(newest, st.mtimeMs)
    }
  }
  for (const p of ['Cargo.toml', 'Cargo.lock', 'crates']) visit(path.join(repo, p))
  return newest
}

const platform = platformPackage()
const built = path.join(repo, platform.node)
const builtAt = fs.existsSync(built) ? fs.statSync(built).mtimeMs : -1
if (builtAt >= 0 && (flag('--reuse-native') || builtAt >= newestSource())) {
  log(`reusing ${platform.node}${flag('--reuse-native') ? ' (--reuse-native)' : ' (newer than the Rust sources)'}`)
} else {
  log(`building ${platform.node} (npm run build:native)`)
  run(npm, ['run', 'build:native'], { stdio: ['ignore', 'inherit', 'inherit'] })
}
fs.copyFileSync(built, path.join(platform.dir, platform.node))

if (flag('--no-build-ts')) {
  log('using lib/ as it is (--no-build-ts)')
} else {
  log('npm run build:ts')
  run(npm, ['run', 'build:ts'], { stdio: ['ignore', 'ignore', 'inherit'] })
}

fs.mkdirSync(out, { recursive: true })

/** dist/package: what the root tarball holds. */
function stage() {
  const pkg = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8'))
  const dir = path.join(out, 'package')
  fs.rmSync(dir, { recursive: true, force: true })
  fs.mkdirSync(dir, { recursive: true })
  const compiled = /\.(js|mjs|cjs|d\.ts|d\.mts|d\.cts)$/
  const fromSource = (rel) => {
    const base = rel.replace(/^lib\//, '').replace(compiled, '')
    return ['.ts', '.mts', '.cts'].some((ext) => fs.existsSync(path.join(repo, 'src', base + ext)))
  }
  const copy = (rel) => {
    const from = path.join(repo, rel)
    if (fs.statSync(from).isDirectory()) {
      for (const name of fs.readdirSync(from)) copy(path.join(rel, name))
      return
    }
    if (rel.startsWith(`lib${path.sep}`) && !fromSource(rel.split(path.sep).join('/'))) {
      log(`not packed: ${rel} (no src/ file compiles to it)`)
      return
    }
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true })
    fs.copyFileSync(from, path.join(dir, rel))
  }
  for (const entry of pkg.files) copy(entry.replace(/\/$/, ''))
  for (const name of fs.readdirSync(repo)) {
    if (/^(licen[cs]e|notice)(\..*)?$/i.test(name)) copy(name)
  }
  delete pkg.scripts
  delete pkg.ava
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`)
  return dir
}

/** `npm pack <dir>` into `out`; returns the tarball's absolute path. */
function pack(dir) {
  const [info] = JSON.parse(run(npm, ['pack', dir, '--json', '--ignore-scripts', '--pack-destination', out]))
  return path.join(out, info.filename)
}
const root = pack(stage())
const plat = pack(platform.dir)

if (json) {
  process.stdout.write(`${JSON.stringify({ root, platform: plat, platformPackage: platform.name })}\n`)
} else {
  process.stdout.write(`${root}\n${plat}\n`)
}
