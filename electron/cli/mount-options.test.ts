// `-v`, `--mount` and `--tmpfs` as Docker users type them, parsed into ContainerSpec.mounts and
// checked by the same schema the agent uses.
import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { ContainerSpec } from '../../shared/containers.js';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { desktopWritten, mountsFrom, parseMountFlag, parseTmpfsFlag, parseVolumeFlag, volumeSourceText } from './mount-options.js';

const refused = (parse: () => unknown): string => {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError);
    return (error as Error).message;
  }
  throw new Error('accepted');
};

describe('-v / --volume', () => {
  it('reads a folder of this computer written as only the desktop writes it: ~/app, C:\\Users\\me\\app (its colon is no separator)', () => {
    expect(parseVolumeFlag('C:\\Users\\me\\app:/app:ro')).toEqual({
      type: 'bind',
      source: 'C:\\Users\\me\\app',
      target: '/app',
      createSource: true,
      readonly: true,
    });
    expect(parseVolumeFlag('c:/work:/w')).toMatchObject({ type: 'bind', source: 'c:/work', target: '/w' });
    expect(parseVolumeFlag('~/app:/app')).toMatchObject({ type: 'bind', source: join(homedir(), 'app'), target: '/app' });
    expect(volumeSourceText('C:\\Users\\me\\app:/app:ro')).toBe('C:\\Users\\me\\app');
    expect(volumeSourceText('~/app:/app')).toBe('~/app');
    for (const desktop of ['~', '~/app', './app', '../app', 'C:\\x', 'd:/x']) expect(desktopWritten(desktop)).toBe(true);
    for (const other of ['/srv/app', 'data', 'vol~1']) expect(desktopWritten(other)).toBe(false);
  });

  it('reads a bind mount (made when missing), a named volume and an anonymous one, with :ro and :rw', () => {
    expect(parseVolumeFlag('/srv/site:/usr/share/nginx/html:ro')).toEqual({
      type: 'bind',
      source: '/srv/site',
      target: '/usr/share/nginx/html',
      createSource: true,
      readonly: true,
    });
    expect(parseVolumeFlag('/srv/site:/app:rw')).toEqual({ type: 'bind', source: '/srv/site', target: '/app', createSource: true });
    expect(parseVolumeFlag('./data:/data', '/home/me/project')).toEqual({
      type: 'bind',
      source: '/home/me/project/data',
      target: '/data',
      createSource: true,
    });
    expect(parseVolumeFlag('pgdata:/var/lib/postgresql/data')).toEqual({
      type: 'volume',
      source: 'pgdata',
      target: '/var/lib/postgresql/data',
    });
    expect(parseVolumeFlag('cache:/cache:ro')).toEqual({ type: 'volume', source: 'cache', target: '/cache', readonly: true });
    expect(parseVolumeFlag('/scratch')).toEqual({ type: 'volume', target: '/scratch' });
  });

  it('refuses what it cannot read, saying the form', () => {
    expect(refused(() => parseVolumeFlag('/a:/b:ro:extra'))).toMatch(/^-v: expected \[HOST-PATH\|NAME:\]CONTAINER-PATH\[:ro\|rw\]/);
    expect(refused(() => parseVolumeFlag(':/b'))).toMatch(/^-v: expected/);
    expect(refused(() => parseVolumeFlag('/a:/b:z'))).toBe('-v: unsupported mode "z" (ro and rw are supported)');
  });
});

describe('--mount', () => {
  it('reads every type with Docker’s key aliases; the default type is volume', () => {
    expect(parseMountFlag('type=bind,source=/srv,target=/app,readonly')).toEqual({
      type: 'bind',
      source: '/srv',
      target: '/app',
      readonly: true,
    });
    expect(parseMountFlag('type=bind,src=/srv,dst=/app,ro=true')).toEqual({ type: 'bind', source: '/srv', target: '/app', readonly: true });
    expect(parseMountFlag('type=bind,src=/srv,destination=/app,readonly=false')).toEqual({ type: 'bind', source: '/srv', target: '/app' });
    expect(parseMountFlag('source=data,target=/data')).toEqual({ type: 'volume', source: 'data', target: '/data' });
    expect(parseMountFlag('type=volume,dst=/anon')).toEqual({ type: 'volume', target: '/anon' });
    expect(parseMountFlag('type=tmpfs,dst=/run,tmpfs-size=64m,tmpfs-mode=1777')).toEqual({
      type: 'tmpfs',
      target: '/run',
      tmpfsSize: '64m',
      tmpfsMode: 0o1777,
    });
    expect(parseMountFlag('type=bind,"src=/my,dir",dst=/x')).toEqual({ type: 'bind', source: '/my,dir', target: '/x' });
  });

  it('never creates a missing bind source (unlike -v): the agent refuses it', () => {
    expect(parseMountFlag('type=bind,src=/srv,dst=/app')).not.toHaveProperty('createSource');
  });

  it('refuses unknown keys and types, a missing target, bad values', () => {
    expect(refused(() => parseMountFlag('type=bind,src=/a,dst=/b,bind-propagation=shared'))).toBe(
      '--mount: unsupported key "bind-propagation"',
    );
    expect(refused(() => parseMountFlag('type=nfs,dst=/b'))).toBe('--mount: type must be bind, volume or tmpfs: "nfs"');
    expect(refused(() => parseMountFlag('type=bind,src=/a'))).toBe('--mount: target (or dst, destination) is required');
    expect(refused(() => parseMountFlag('type=bind,src=/a,dst=/b,readonly=maybe'))).toBe(
      '--mount: readonly must be true or false: "maybe"',
    );
    expect(refused(() => parseMountFlag('type=tmpfs,dst=/b,tmpfs-mode=999'))).toMatch(/mode must be octal/);
    expect(refused(() => parseMountFlag('type=bind,"src=/a'))).toMatch(/unterminated quote/);
  });
});

describe('--tmpfs', () => {
  it('reads a target with size, mode, ro and the flags every tmpfs has anyway', () => {
    expect(parseTmpfsFlag('/run')).toEqual({ type: 'tmpfs', target: '/run' });
    expect(parseTmpfsFlag('/run:size=64m,mode=755,nosuid,nodev,ro')).toEqual({
      type: 'tmpfs',
      target: '/run',
      tmpfsSize: '64m',
      tmpfsMode: 0o755,
      readonly: true,
    });
    // Docker's own example, as pasted.
    expect(parseTmpfsFlag('/run:rw,noexec,nosuid,size=65536k')).toEqual({
      type: 'tmpfs',
      target: '/run',
      readonly: false,
      tmpfsNoexec: true,
      tmpfsSize: '65536k',
    });
    expect(refused(() => parseTmpfsFlag('/run:uid=1000'))).toMatch(/^--tmpfs: unsupported option "uid=1000"/);
  });
});

describe('the mounts a run sends', () => {
  it('come in Docker’s order (-v, --mount, --tmpfs) and pass the agent’s schema; its errors name the field', () => {
    const mounts = mountsFrom({ volume: ['/srv:/app'], mount: ['type=volume,src=db,dst=/db'], tmpfs: ['/tmp:size=1m'] });
    expect(mounts.map((m) => m.target)).toEqual(['/app', '/db', '/tmp']);
    expect(ContainerSpec.safeParse({ image: 'x', mounts }).success).toBe(true);
    const bad = ContainerSpec.safeParse({ image: 'x', mounts: mountsFrom({ volume: ['a/b:/x', '/x'] }) });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((i) => i.path.join('.'))).toEqual(['mounts.0.source', 'mounts.1.target']);
  });
});
