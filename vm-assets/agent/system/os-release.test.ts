import { describe, expect, it } from 'vitest';
import { parseOsRelease } from './os-release.js';
import { normalizeArch, parseMemTotal } from './system-info.js';

describe('os-release', () => {
  it('reads quoted, unquoted and escaped values', () => {
    const parsed = parseOsRelease(
      'NAME="Debian GNU/Linux"\nID=debian\nVERSION_ID=\'12\'\nPRETTY_NAME="A \\"quoted\\" name"\n# comment\nbad line\n',
    );
    expect(parsed).toEqual({ NAME: 'Debian GNU/Linux', ID: 'debian', VERSION_ID: '12', PRETTY_NAME: 'A "quoted" name' });
  });

  it('normalises architectures and memory', () => {
    expect(normalizeArch('x86_64')).toBe('amd64');
    expect(normalizeArch('aarch64')).toBe('arm64');
    expect(normalizeArch('s390x')).toBe('s390x');
    expect(parseMemTotal('MemTotal:       24683656 kB\nMemFree: 1 kB\n')).toBe(24683656 * 1024);
  });
});
