// Type-level test (issue 3, point 6): `tsc --noEmit -p __test__/types` over a
// typed usage example of the whole public surface (__test__/types/usage.ts).
// Its `@ts-expect-error` lines must each fail to type-check (tsc reports an
// unused directive otherwise), so exit 0 proves the types are enforced.
import test from 'ava'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const tsc = path.join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'tsc.cmd' : 'tsc')

function runTsc(args, cwd = root) {
  const r = spawnSync(tsc, args, { cwd, encoding: 'utf8', timeout: 120_000, shell: process.platform === 'win32' })
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}`, error: r.error }
}

test('tsc --noEmit -p __test__/types: the typed usage example of the public surface type-checks', (t) => {
  t.true(fs.existsSync(tsc), `${tsc} is installed`)
  t.true(fs.existsSync(path.join(root, 'lib', 'index.d.ts')), 'lib/ is built (npx tsc -p tsconfig.json)')
  const usage = fs.readFileSync(path.join(root, '__test__', 'types', 'usage.ts'), 'utf8')
  const directives = usage.match(/@ts-expect-error/g) ?? []
  t.true(directives.length >= 10, 'the example has deliberate type errors')
  t.regex(usage, /@ts-expect-error a key is a string or Uint8Array, never a number\n\s+s\.write\(42, 'v'\)/)

  const r = runTsc(['--noEmit', '-p', path.join('__test__', 'types')])
  t.is(r.error, undefined)
  t.is(r.status, 0, r.output)
  t.is(r.output.trim(), '', 'no diagnostics')
})

test('negative control: the same declarations reject a number key (TS2345) when it is not marked as expected', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'srd-types-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const lib = path.join(root, 'lib', 'index.js').split(path.sep).join('/')
  fs.writeFileSync(
    path.join(dir, 'bad.ts'),
    `import { DataStore, AsyncDataStore } from ${JSON.stringify(lib)}\n` +
      `const s = DataStore.open('x.bin')\n` +
      `s.write(42, 'v')\n` +
      `async function f(a: AsyncDataStore) { const n: number = a.len(); return n }\n` +
      `void f\n`,
  )
  fs.writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'commonjs',
        moduleResolution: 'node',
        lib: ['ES2022', 'ESNext.Disposable'],
        types: ['node'],
        typeRoots: [path.join(root, 'node_modules', '@types')],
        strict: true,
        noEmit: true,
        skipLibCheck: true,
      },
      files: ['bad.ts'],
    }),
  )
  const r = runTsc(['--noEmit', '-p', dir], dir)
  t.not(r.status, 0, r.output)
  t.regex(r.output, /bad\.ts\(3,9\): error TS2345/)
  t.regex(r.output, /bad\.ts\(4,\d+\): error TS2322/)
})
