/**
 * A synthetic tree shaped like linux.git: about 90,000 files spread over top-level directories in roughly the
 * kernel's proportions, several thousand directories deep, with kernel-like file sizes and compressibility.
 */

/** Share of files per top-level directory (linux v6.x, rounded). */
const TOP_LEVEL: [string, number, number][] = [
  // [directory, share of files, second-level directories]
  ['drivers', 0.4, 140],
  ['arch', 0.2, 24],
  ['Documentation', 0.1, 60],
  ['tools', 0.07, 40],
  ['include', 0.065, 24],
  ['sound', 0.04, 24],
  ['fs', 0.03, 80],
  ['net', 0.025, 60],
  ['samples', 0.01, 20],
  ['scripts', 0.01, 20],
  ['kernel', 0.008, 16],
  ['lib', 0.008, 12],
  ['security', 0.006, 12],
  ['crypto', 0.005, 6],
  ['mm', 0.004, 4],
  ['rust', 0.004, 6],
  ['block', 0.003, 4],
  ['virt', 0.002, 4]
]

const EXTENSIONS: Record<string, string[]> = {
  Documentation: ['.rst', '.rst', '.txt', '.yaml'],
  tools: ['.c', '.h', '.sh', '.py'],
  scripts: ['.sh', '.py', '.c', '.pl'],
  rust: ['.rs'],
  default: ['.c', '.c', '.c', '.h', '.h', '.S']
}

/** Deterministic PRNG (mulberry32): the same tree on every machine. */
export function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** File paths, sorted, `count` of them. */
export function kernelPaths(count: number, seed = 1): string[] {
  const rand = random(seed)
  const paths = new Set<string>(['MAINTAINERS', 'Makefile', 'README', 'COPYING', 'Kconfig'])
  for (const [top, share, subdirs] of TOP_LEVEL) {
    const n = Math.round((count - 5) * share)
    const exts = EXTENSIONS[top] ?? EXTENSIONS.default ?? ['.c']
    for (let i = 0; paths.size < count && i < n; i++) {
      // Skewed: a few directories (drivers/gpu, arch/arm64 ...) hold most files.
      const second = Math.floor(subdirs * rand() * rand())
      const third = rand() < 0.7 ? `/sub${Math.floor(12 * rand() * rand())}` : ''
      const fourth = third && rand() < 0.3 ? `/part${Math.floor(6 * rand())}` : ''
      const ext = exts[Math.floor(rand() * exts.length)] ?? '.c'
      paths.add(`${top}/${top.toLowerCase()}${second}${third}${fourth}/file${i}${ext}`)
    }
  }
  let extra = 0
  while (paths.size < count) paths.add(`drivers/misc/extra/file${extra++}.c`)
  return [...paths].sort()
}

const WORDS = [
  'static',
  'int',
  'struct',
  'return',
  'if',
  'else',
  'for',
  'while',
  'unsigned',
  'long',
  'void',
  'const',
  'inode',
  'dentry',
  'page',
  'folio',
  'mutex_lock',
  'spin_unlock',
  'kfree',
  'kmalloc',
  'GFP_KERNEL',
  'err',
  'ret',
  'dev',
  'priv',
  'buf',
  'len',
  'offset',
  'flags',
  'count',
  'NULL',
  'sizeof',
  'list_for_each_entry',
  'EINVAL',
  'ENOMEM',
  'goto out;',
  '->',
  '&',
  '*',
  '(',
  ')',
  '==',
  '!=',
  '+=',
  '0x1f',
  '4096',
  'u32',
  'u64'
]

/** A fixed pool of C-looking lines: files draw from it, so they compress like source (about 4x), not 100x. */
const LINES: string[] = (() => {
  const rand = random(42)
  const out: string[] = []
  for (let i = 0; i < 8192; i++) {
    const n = 2 + Math.floor(rand() * 10)
    const words: string[] = []
    for (let w = 0; w < n; w++) words.push(WORDS[Math.floor(rand() * WORDS.length)] ?? 'x')
    const indent = '\t'.repeat(Math.floor(rand() * 3))
    out.push(`${indent}${words.join(' ')}${rand() < 0.3 ? ` /* ${i.toString(36)} */` : ''};`)
  }
  return out
})()

function hash(text: string): number {
  let h = 2166136261
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619)
  return h >>> 0
}

/**
 * Size of a file in bytes: log-normal around 4 KiB (median), mean about 9 KiB, capped at 256 KiB, as
 * linux.git's sources are (90,000 files, some 900 MB checked out).
 */
export function fileSize(file: string): number {
  const rand = random(hash(file))
  const gauss = Math.sqrt(-2 * Math.log(rand() || 1e-9)) * Math.cos(2 * Math.PI * rand())
  return Math.min(256 * 1024, Math.max(200, Math.round(4096 * Math.exp(1.25 * gauss))))
}

/**
 * A deterministic C-looking file of fileSize(file) bytes. `revision` changes one line near the top (what a
 * patch or a history commit changes), the rest stays the same.
 */
export function fileContent(file: string, revision = 0): string {
  const rand = random(hash(file) ^ 0x9e3779b9)
  const head = [
    '// SPDX-License-Identifier: GPL-2.0',
    `/* ${file} */`,
    '',
    '#include <linux/kernel.h>',
    '#include <linux/module.h>',
    '',
    `static int ${file.replace(/[^A-Za-z0-9]/g, '_')}_init(void)`,
    '{',
    `\treturn ${revision};`,
    '}',
    ''
  ]
  const target = fileSize(file)
  let size = head.reduce((n, l) => n + l.length + 1, 0)
  const lines = head
  while (size < target) {
    const line = LINES[Math.floor(rand() * LINES.length)] ?? ''
    lines.push(line)
    size += line.length + 1
  }
  lines.push('')
  return lines.join('\n')
}
