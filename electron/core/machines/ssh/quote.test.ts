// The quoting function and the checks on values that go into remote commands (the real-shell
// property test lives in ssh-connection.test.ts, where a real sshd parses the words).
import { describe, expect, it } from 'vitest';
import { RemotePath } from '../../../../shared/machines.js';
import { checkHash, checkRemotePath, shellCommand, shellQuote } from './quote.js';

describe('quoting for the remote shell', () => {
  it('single-quotes every word and writes a quote as a closed-escaped-reopened quote', () => {
    expect(shellQuote('')).toBe("''");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellCommand(['printf', '%s', '$(id)'])).toBe("'printf' '%s' '$(id)'");
    expect(() => shellQuote('a\0b')).toThrow(/NUL/);
    expect(() => shellCommand([])).toThrow(/empty command/);
  });

  it('accepts plain absolute paths only, quickly, whatever the input', () => {
    for (const good of ['/opt/onggi', '/run/onggi', '/tmp/onggi-test-x1/remote/run', '/a+b/c_d.e-f'])
      expect(checkRemotePath(good, 'f')).toBe(good);
    for (const bad of [
      '',
      '/',
      'opt/onggi',
      '/opt/onggi/',
      '/opt/../etc',
      '/opt/./x',
      '/opt//x',
      '/opt/on ggi',
      "/opt/'x",
      '/opt/$x',
      '/opt/x\n',
      '-x',
    ]) {
      expect(() => checkRemotePath(bad, 'remote.installRoot')).toThrow(/remote\.installRoot must be an absolute path/);
      expect(RemotePath.safeParse(bad).success).toBe(false);
    }
    const started = performance.now();
    expect(() => checkRemotePath(`/${'a'.repeat(500)}!`, 'f')).toThrow();
    expect(RemotePath.safeParse(`/${'a/'.repeat(250)}!`).success).toBe(false);
    expect(performance.now() - started).toBeLessThan(50);
    expect(checkHash('a'.repeat(64))).toBe('a'.repeat(64));
    expect(() => checkHash('A'.repeat(64))).toThrow(/64 lowercase hex/);
    expect(() => checkHash('../../etc')).toThrow();
  });
});
