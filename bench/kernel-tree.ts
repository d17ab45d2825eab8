/**
 * A synthetic tree shaped like linux.git: about 90,000 small files spread over top-level directories in
 * roughly the kernel's proportions, several thousand directories deep. Contents are small so the tree is
 * realistic in file count (what checkout and the index pay for) without being hundreds of megabytes.
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

/** A small, unique, C-looking file (about 300 bytes). */
export function fileContent(file: string, revision = 0): string {
  const lines = [
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
  return lines.join('\n')
}
