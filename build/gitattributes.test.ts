// A Windows checkout (core.autocrlf=true is Git for Windows' default) must keep LF where a CR
// breaks things: the scripts bash runs (build/test.sh, .ci/run), what runs inside the Linux VM
// (provision.sh, the Vagrantfile), and every file `prettier --check` reads. .gitattributes says so.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' });

/** `git check-attr ATTR -- FILES` as { file: value }. */
function attribute(name: string, files: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of git('check-attr', name, '--', ...files)
    .trim()
    .split('\n')) {
    const [file = '', , value = ''] = line.split(': ');
    out[file] = value;
  }
  return out;
}

describe('.gitattributes', () => {
  it('checks out the shell scripts, the VM files and every tracked script with LF, whatever core.autocrlf says', () => {
    const tracked = git('ls-files', '-z').split('\0').filter(Boolean);
    const scripts = tracked.filter(
      (file) => /\.(sh|mjs|cjs|js|ts|tsx|json|yml|md)$/.test(file) || readFileSync(join(ROOT, file), 'latin1').startsWith('#!'),
    );
    for (const required of ['build/test.sh', '.ci/run', 'vm-assets/vagrant/provision.sh', 'vm-assets/vagrant/Vagrantfile']) {
      expect(tracked).toContain(required);
      if (!scripts.includes(required)) scripts.push(required);
    }
    const eol = attribute('eol', scripts);
    expect(Object.entries(eol).filter(([, value]) => value !== 'lf')).toEqual([]);
    expect(eol['build/test.sh']).toBe('lf');
    expect(eol['.ci/run']).toBe('lf');
  });

  it('marks images and archives binary (never converted)', () => {
    const attrs = attribute('binary', ['build/icon.png', 'x.ico', 'x.icns', 'bundle.tar.gz', 'node.exe']);
    expect(Object.values(attrs)).toEqual(['set', 'set', 'set', 'set', 'set']);
    expect(attribute('text', ['build/icon.png'])['build/icon.png']).toBe('unset');
  });
});
