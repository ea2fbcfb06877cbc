// The init helpers are static Linux executables: only a Linux host compiles them. On macOS (whose
// `gcc` is Apple clang) and Windows they come from a Linux build, and a missing one is named.
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildInit } from './init.mjs';

let dir = '';
let compilerRan = '';
const savedPath = process.env.PATH;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'onggi-init-platform-'));
  // A `gcc` (and cross gcc) that answers --version, as Apple's does, and records any compile.
  const bin = join(dir, 'bin');
  compilerRan = join(dir, 'compiler-ran');
  await mkdir(bin);
  for (const cc of ['gcc', 'aarch64-linux-gnu-gcc', 'x86_64-linux-gnu-gcc']) {
    await writeFile(join(bin, cc), `#!/bin/sh\n[ "$1" = --version ] && exit 0\necho "$@" >> '${compilerRan}'\nexit 1\n`);
    await chmod(join(bin, cc), 0o755);
  }
  process.env.PATH = `${bin}${delimiter}${savedPath ?? ''}`;
});

afterAll(async () => {
  process.env.PATH = savedPath;
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.each(['darwin', 'win32'] as const)('on %s', (platform) => {
  it('compiles nothing, and names each missing helper and how to get it', async () => {
    const warnings: string[] = [];
    const outDir = join(dir, `${platform}-none`);
    const results = await buildInit({ outDir, platform, prebuiltDir: undefined, log: { warn: (line: string) => warnings.push(line) } });
    expect(results.map((r) => [r.name, r.status])).toEqual([
      ['onggi-init-amd64', 'missing'],
      ['onggi-init-arm64', 'missing'],
    ]);
    expect(existsSync(compilerRan)).toBe(false);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/onggi-init-amd64.*built only on Linux.*ONGGI_INIT_PREBUILT/);
    expect(warnings[1]).toMatch(/onggi-init-arm64.*built only on Linux/);
  });

  it('takes the helpers from a Linux build (ONGGI_INIT_PREBUILT)', async () => {
    const prebuilt = join(dir, `${platform}-prebuilt`);
    await mkdir(prebuilt);
    await writeFile(join(prebuilt, 'onggi-init-amd64'), 'amd64 helper');
    await writeFile(join(prebuilt, 'onggi-init-arm64'), 'arm64 helper');
    const outDir = join(dir, `${platform}-copied`);
    const results = await buildInit({ outDir, platform, prebuiltDir: prebuilt, log: { warn: () => undefined } });
    expect(results.map((r) => r.status)).toEqual(['copied', 'copied']);
    expect(await readFile(join(outDir, 'onggi-init-arm64'), 'utf8')).toBe('arm64 helper');
    expect(existsSync(compilerRan)).toBe(false);
  });
});
