// Checks that no layer has an import cycle between its modules, and prints
// each layer's module graph (`node scripts/layers.mjs`, run by `npm run
// lint`). Written by hand: it only reads `use crate::`/`crate::` paths of
// the two Rust crates and the relative imports of the TypeScript layer,
// which is all this needs (a general tool like madge does not read Rust).
//
// A folder is one module (crates/engine/src/store/*.rs is `store`): files of
// one subsystem may use each other and their parent; cycles are looked for
// between modules.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..')

function files(dir, ext) {
  const out = []
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) out.push(...files(p, ext))
    else if (e.name.endsWith(ext) && !e.name.endsWith('.d.ts')) out.push(p)
  }
  return out
}

/** The module a file belongs to: its first path segment under `src` (without the extension). */
function moduleOf(src, file, ext) {
  return path.relative(src, file).split(path.sep)[0].replace(ext, '')
}

/** Rust: `crate::a` anywhere in the file (use lines and inline paths), minus comments. */
function rustGraph(src) {
  const graph = new Map()
  for (const file of files(src, '.rs')) {
    const from = moduleOf(src, file, '.rs')
    if (from === 'lib' || from === 'main') continue
    const code = fs.readFileSync(file, 'utf8').replace(/\/\/.*$/gm, '')
    const deps = graph.get(from) ?? new Set()
    for (const m of code.matchAll(/crate::([a-z_][a-z0-9_]*)/g)) if (m[1] !== from) deps.add(m[1])
    // `use crate::{a, b::c}`
    for (const m of code.matchAll(/crate::\{([^}]*)\}/g)) {
      for (const part of m[1].split(',')) {
        const name = part.trim().split('::')[0]
        if (name && name !== from && /^[a-z_]/.test(name)) deps.add(name)
      }
    }
    graph.set(from, deps)
  }
  return graph
}

/** TypeScript: `from './x'`, `require('./x')`, `import x = require('./x')`, `import('./x')`. */
function tsGraph(src) {
  const graph = new Map()
  for (const file of files(src, '.ts')) {
    const from = moduleOf(src, file, '.ts')
    const code = fs.readFileSync(file, 'utf8')
    const deps = graph.get(from) ?? new Set()
    for (const m of code.matchAll(/(?:from\s+|require\(|import\()\s*'(\.{1,2}\/[^']+)'/g)) {
      const target = path.resolve(path.dirname(file), m[1])
      if (!target.startsWith(src)) continue
      const to = moduleOf(src, target.endsWith('.ts') ? target : `${target}.ts`, '.ts')
      if (to !== from) deps.add(to)
    }
    graph.set(from, deps)
  }
  return graph
}

/** A cycle in `graph` (as a list of modules), or null. */
function cycle(graph) {
  const state = new Map()
  const stack = []
  const visit = (n) => {
    state.set(n, 1)
    stack.push(n)
    for (const d of graph.get(n) ?? []) {
      if (!graph.has(d)) continue
      if (state.get(d) === 1) return [...stack.slice(stack.indexOf(d)), d]
      if (!state.has(d)) {
        const c = visit(d)
        if (c) return c
      }
    }
    stack.pop()
    state.set(n, 2)
    return null
  }
  for (const n of graph.keys()) {
    if (!state.has(n)) {
      const c = visit(n)
      if (c) return c
    }
  }
  return null
}

let failed = false
for (const [name, graph] of [
  ['engine (crates/engine/src)', rustGraph(path.join(root, 'crates/engine/src'))],
  ['binding (crates/node/src)', rustGraph(path.join(root, 'crates/node/src'))],
  ['TypeScript layer (src)', tsGraph(path.join(root, 'src'))],
]) {
  const c = cycle(graph)
  if (process.argv.includes('--print') || c) {
    console.log(`${name}:`)
    for (const [m, deps] of [...graph].sort()) console.log(`  ${m} -> ${[...deps].filter((d) => graph.has(d)).sort().join(', ')}`)
  }
  if (c) {
    console.error(`import cycle in the ${name}: ${c.join(' -> ')}`)
    failed = true
  } else {
    console.log(`${name}: ${graph.size} modules, no import cycle`)
  }
}
process.exit(failed ? 1 : 0)
