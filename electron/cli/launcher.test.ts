// bin/onggi.js (the `onggi` launcher) must find the CLI bundle wherever the checkout is: a folder
// with a space and Korean characters, as many of our users have (and `Z:\…` under Windows, where
// a URL's pathname `/Z:/…` is no file at all).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const launcher = join(import.meta.dirname, '..', '..', 'bin', 'onggi.js');

describe('bin/onggi.js', () => {
  const roots: string[] = [];
  afterEach(() => {
    for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
  });

  it('loads dist/electron/cli.cjs from a checkout whose path holds a space and Korean characters', () => {
    const root = mkdtempSync(join(tmpdir(), 'onggi-launcher-'));
    roots.push(root);
    const checkout = join(root, '내 프로젝트', 'onggi app');
    mkdirSync(join(checkout, 'bin'), { recursive: true });
    mkdirSync(join(checkout, 'dist', 'electron'), { recursive: true });
    copyFileSync(launcher, join(checkout, 'bin', 'onggi.js'));
    writeFileSync(join(checkout, 'package.json'), '{"type":"module"}\n');
    // A stand-in for the built CLI: it proves it was loaded, with the arguments the launcher got.
    writeFileSync(
      join(checkout, 'dist', 'electron', 'cli.cjs'),
      "process.stdout.write('cli loaded ' + process.argv.slice(2).join(' '));\n",
    );

    const out = execFileSync(process.execPath, [join(checkout, 'bin', 'onggi.js'), '--version'], { encoding: 'utf8' });
    expect(out).toBe('cli loaded --version');
  });
});
