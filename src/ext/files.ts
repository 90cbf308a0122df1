// Directory import (`StorageFileImportExt` of simd-r-drive-extensions): every
// regular file under a directory stored under its path relative to it,
// components joined with '/' on every OS, optionally namespaced with
// NamespaceHasher(namespace). Differences from the crate, on purpose:
// - an empty file (the format has no empty values), or one made only of 0x00
//   bytes, is skipped and listed in the report; the crate's import fails on it
//   and leaves the files before it imported and the rest not;
// - symbolic links are skipped (and listed): the crate does not descend into
//   a linked directory but reads a linked file through its link;
// - the walk is in sorted name order (the crate's follows the OS's readdir).
// Each file is streamed in (memory bounded by one chunk), one entry per file.

import fs = require('node:fs')
import path = require('node:path')
import native = require('../native')
import { codedError } from '../errors'
import { checkOptionNames } from '../options'
import type { Key } from '../traits'

/** Options of `importDir`, `readFileEntry` and `openFileStream`. */
export interface FileImportOptions {
  /** Store each path as `NamespaceHasher(namespace).namespace(path)` (16 bytes), as the crate's `namespace` argument. */
  namespace?: Key
}

/** One imported file. */
export interface ImportedFile {
  /** Its path relative to the directory, '/'-separated: the key, or what the namespace hashes. */
  path: string
  /** The key it is stored under (the path's UTF-8 bytes, or 16 namespaced bytes). */
  key: Buffer
  /** Its size in bytes. */
  size: number
  /** The tail after its entry (the crate's offset). */
  tail: number
}

/** A file not imported, and why. */
export interface SkippedFile {
  path: string
  reason: 'empty' | 'only-zero-bytes' | 'symbolic-link'
}

/** What `importDir` did. */
export interface ImportReport {
  imported: ImportedFile[]
  skipped: SkippedFile[]
}

export interface FoundFile {
  rel: string
  abs: string
  size: number
}

function checkNamespace(options: unknown): Key | undefined {
  if (options === null) throw codedError('ERR_INVALID_ARG_TYPE', 'options must be an object, got null')
  return checkOptionNames<FileImportOptions>(options, 'import options', ['namespace'])?.namespace
}

/** `rel` as the crate keys it: its components joined with '/' ('.' and empty components dropped). */
export function unixPath(rel: string): string {
  if (typeof rel !== 'string') throw codedError('ERR_INVALID_ARG_TYPE', `path must be a string, got ${typeof rel}`)
  const parts = rel.split(path.sep === '\\' ? /[\\/]/ : '/').filter((p) => p !== '' && p !== '.')
  return parts.join('/')
}

/** The stored key of relative path `rel` under `options.namespace`. */
export function fileKey(rel: string, options: unknown): Buffer {
  const ns = checkNamespace(options)
  const key = Buffer.from(unixPath(rel), 'utf8')
  return ns === undefined ? key : new native.NamespaceHasher(ns).namespace(key)
}

/** The regular files under `dir` (sorted, symlinks listed apart), or ENOENT/ENOTDIR as node:fs says. */
export function walk(dir: string): { files: FoundFile[]; links: string[] } {
  if (typeof dir !== 'string') throw codedError('ERR_INVALID_ARG_TYPE', `dir must be a string, got ${typeof dir}`)
  const files: FoundFile[] = []
  const links: string[] = []
  const visit = (abs: string, rel: string) => {
    const entries = fs.readdirSync(abs, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    for (const e of entries) {
      const full = path.join(abs, e.name)
      const r = rel === '' ? e.name : `${rel}/${e.name}`
      if (e.isSymbolicLink()) links.push(r)
      else if (e.isDirectory()) visit(full, r)
      else if (e.isFile()) files.push({ rel: r, abs: full, size: fs.statSync(full).size })
    }
  }
  if (!fs.statSync(dir).isDirectory()) {
    const err = codedError('ENOTDIR', `ENOTDIR: not a directory, scandir '${dir}'`)
    Object.assign(err, { syscall: 'scandir', path: dir })
    throw err
  }
  visit(dir, '')
  return { files, links }
}

/** The report skeleton and the namespace hasher of an import. */
export function startImport(dir: string, options: unknown) {
  const ns = checkNamespace(options)
  const hasher = ns === undefined ? undefined : new native.NamespaceHasher(ns)
  const { files, links } = walk(dir)
  const report: ImportReport = { imported: [], skipped: links.map((p) => ({ path: p, reason: 'symbolic-link' as const })) }
  const keyOf = (rel: string) => {
    const k = Buffer.from(rel, 'utf8')
    return hasher === undefined ? k : hasher.namespace(k)
  }
  return { files, report, keyOf }
}

const CHUNK = 1 << 20

/** The chunks of file `abs`, read synchronously (one 1 MiB buffer at a time). */
export function* fileChunks(abs: string): Generator<Uint8Array> {
  const fd = fs.openSync(abs, 'r')
  try {
    for (;;) {
      const buf = Buffer.allocUnsafe(CHUNK)
      const n = fs.readSync(fd, buf, 0, CHUNK, null)
      if (n === 0) return
      yield buf.subarray(0, n)
    }
  } finally {
    fs.closeSync(fd)
  }
}

/** True when `err` is the store refusing a payload of only 0x00 bytes (or one emptied since the walk). */
export function isRefusedPayload(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'ERR_INVALID_ARG_VALUE'
}
