// `onggi image import FILE`: a desktop file (uploaded) is read with the desktop's path rules, a
// path on the machine with POSIX rules — with Windows facts on this Linux machine.
import { describe, expect, it } from 'vitest';
import { factsFor } from '../core/platform/test-facts.js';
import { importSource } from './import-source.js';

const windows = { facts: factsFor('win32'), cwd: 'C:\\Users\\John Doe\\work', machine: 'vm' };
const files = (...paths: string[]) => ({ isFile: (file: string) => Promise.resolve(paths.includes(file)) });

describe('where an imported tarball is', () => {
  it('Windows: `/srv/x.tar` that is no desktop file is the machine’s /srv/x.tar, not C:\\srv\\x.tar', async () => {
    const checked: string[] = [];
    const source = await importSource('/srv/x.tar', {
      ...windows,
      isFile: (file) => {
        checked.push(file);
        return Promise.resolve(false);
      },
    });
    expect(source).toEqual({ where: 'machine', path: '/srv/x.tar' });
    expect(checked).toEqual(['C:\\srv\\x.tar']); // looked for on the desktop first, by the desktop's rules
    expect(await importSource('/srv//images/../x.tar', { ...windows, ...files() })).toEqual({ where: 'machine', path: '/srv/x.tar' });
  });

  it('Windows: a desktop file, absolute or relative to the current folder, is uploaded from its Windows path', async () => {
    expect(await importSource('C:\\images\\app 1.tar', { ...windows, ...files('C:\\images\\app 1.tar') })).toEqual({
      where: 'desktop',
      path: 'C:\\images\\app 1.tar',
    });
    expect(await importSource('..\\app.tar', { ...windows, ...files('C:\\Users\\John Doe\\app.tar') })).toEqual({
      where: 'desktop',
      path: 'C:\\Users\\John Doe\\app.tar',
    });
  });

  it('a relative path that is no desktop file is refused (the machine has no current folder of ours), naming the argument', async () => {
    await expect(importSource('app.tar', { ...windows, ...files() })).rejects.toMatchObject({
      message:
        'C:\\Users\\John Doe\\work\\app.tar is not a file on this computer, and a path on the machine must be absolute (e.g. /srv/image.tar)',
      field: 'file',
    });
    await expect(
      importSource('app.tar', { facts: factsFor('darwin', 'arm64'), cwd: '/Users/jo', machine: 'vm', ...files() }),
    ).rejects.toThrow('/Users/jo/app.tar is not a file on this computer');
  });

  it('the local machine (Linux) shares the desktop’s files: its paths are resolved as the desktop’s', async () => {
    expect(await importSource('x.tar', { facts: factsFor('linux'), cwd: '/home/jo', machine: 'local', ...files() })).toEqual({
      where: 'machine',
      path: '/home/jo/x.tar',
    });
  });
});
