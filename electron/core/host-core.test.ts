// The host core against a real local agent daemon (built bundle, isolated dirs).
import { spawnSync } from 'node:child_process';
import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HostEvent } from '../../shared/host-api.js';
import type { SystemInfo } from '../../shared/system-info.js';
import { AGENT_DIR, isolatedAgent, type IsolatedAgent } from '../../build/testing/isolated-agent.js';
import { makeBusyboxLayer } from '../../build/testing/busybox-layer.js';
import type { ImageSummary } from '../../shared/images.js';
import { UPLOAD_CHUNK_BYTES } from '../../shared/uploads.js';
import { createHostCore, type HostCore } from './host-core.js';

let sandbox: IsolatedAgent;
const cores: HostCore[] = [];

beforeEach(async () => {
  sandbox = await isolatedAgent();
});
afterEach(async () => {
  await Promise.all(cores.splice(0).map((core) => core.close()));
  await sandbox.cleanup();
});

function core(agentDir = AGENT_DIR): HostCore {
  const created = createHostCore({
    dataDir: sandbox.home,
    agentDir,
    nodeRuntime: { command: process.execPath },
    localAgent: { runDir: sandbox.runDir, stateDir: sandbox.stateDir },
    platform: 'linux',
  });
  cores.push(created);
  return created;
}

function nextEvent(host: HostCore, match: (event: HostEvent) => boolean): Promise<HostEvent> {
  return new Promise((resolve) => {
    const off = host.onEvent((event) => {
      if (match(event)) {
        off();
        resolve(event);
      }
    });
  });
}

describe('host core with the local machine', () => {
  it('lists the local machine, starts its agent on demand and reports the state changes', async () => {
    const host = core();
    expect(await host.call('machines.list', {})).toEqual([{ name: 'local', provider: 'local', state: 'stopped' }]);
    const states: string[] = [];
    host.onEvent((event) => {
      if (event.type === 'machine.state') states.push(event.state);
    });
    const info = (await host.call('machines.info', { machine: 'local' })) as SystemInfo;
    expect(info.kernelRelease).toBe((await readFile('/proc/sys/kernel/osrelease', 'utf8')).trim());
    expect(states).toEqual(['connecting', 'ready']);
    expect(info.agent.pid).toBe(await sandbox.daemonPid());
  });

  it('reuses a running daemon of the same build: a second app does not restart it', async () => {
    const first = (await core().call('machines.info', { machine: 'local' })) as SystemInfo;
    const second = (await core().call('machines.info', { machine: 'local' })) as SystemInfo;
    expect(second.agent.pid).toBe(first.agent.pid);
  });

  it('replaces a daemon of another build with its own', async () => {
    const first = (await core().call('machines.info', { machine: 'local' })) as SystemInfo;
    const otherDir = join(sandbox.root, 'other-agent');
    await cp(AGENT_DIR, otherDir, { recursive: true });
    const manifestPath = join(otherDir, 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as { buildId: string };
    manifest.buildId = 'f'.repeat(64);
    await writeFile(manifestPath, JSON.stringify(manifest));
    const second = (await core(otherDir).call('machines.info', { machine: 'local' })) as SystemInfo;
    expect(second.agent.buildId).toBe('f'.repeat(64));
    expect(second.agent.pid).not.toBe(first.agent.pid);
    expect(() => process.kill(first.agent.pid, 0)).toThrow(); // the old daemon is gone
  });

  it('notices a killed daemon, says the machine is lost, and comes back by itself', async () => {
    const host = core();
    const first = (await host.call('machines.info', { machine: 'local' })) as SystemInfo;
    const lost = nextEvent(host, (e) => e.type === 'machine.state' && e.state === 'lost');
    const readyAgain = lost.then(() => nextEvent(host, (e) => e.type === 'machine.state' && e.state === 'ready'));
    process.kill(first.agent.pid, 'SIGKILL');
    expect(await lost).toMatchObject({ error: expect.stringMatching(/closed/) });
    await readyAgain;
    const after = (await host.call('machines.info', { machine: 'local' })) as SystemInfo;
    expect(after.agent.pid).not.toBe(first.agent.pid);
  });

  it('refuses bad input naming the field, and unknown machines by name', async () => {
    const host = core();
    await expect(host.call('machines.info', { machine: '../etc' })).rejects.toMatchObject({
      kind: 'invalid_params',
      field: 'params.machine',
    });
    await expect(host.call('machines.info', {})).rejects.toMatchObject({ field: 'params.machine' });
    await expect(host.call('machines.info', { machine: 'elsewhere' })).rejects.toMatchObject({
      kind: 'not_found',
      field: 'params.machine',
    });
    await expect(host.call('no.such', {})).rejects.toMatchObject({ kind: 'method_not_found' });
  });

  it('says clearly when the agent bundle is missing', async () => {
    const host = core(join(sandbox.root, 'no-bundle'));
    await expect(host.call('machines.info', { machine: 'local' })).rejects.toThrow(/agent bundle is missing.*npm run build/);
    expect(await host.call('machines.list', {})).toMatchObject([{ state: 'error', error: expect.stringMatching(/missing/) }]);
  });

  it('has no local machine off Linux', async () => {
    const host = createHostCore({
      dataDir: sandbox.home,
      agentDir: AGENT_DIR,
      nodeRuntime: { command: process.execPath },
      platform: 'darwin',
    });
    cores.push(host);
    expect(await host.call('machines.list', undefined)).toEqual([]);
  });
});

describe('the ~/.ssh/config hosts the add dialog offers', () => {
  /** A host core reading ~/.ssh/config under `home`; no local machine (nothing to start). */
  function coreWithSshHome(home: string): HostCore {
    const host = createHostCore({
      dataDir: sandbox.home,
      agentDir: AGENT_DIR,
      nodeRuntime: { command: process.execPath },
      platform: 'darwin',
      ssh: { config: { home } },
    });
    cores.push(host);
    return host;
  }

  it('lists concrete Host entries (Include followed, patterns left out), resolved as OpenSSH would', async () => {
    const home = join(sandbox.home, 'user');
    await mkdir(join(home, '.ssh/conf.d'), { recursive: true });
    await writeFile(
      join(home, '.ssh/config'),
      [
        'Include conf.d/*.conf',
        'Host ec2 staging',
        '  HostName %h.example.com',
        '  User admin',
        '  IdentityFile ~/.ssh/ec2.pem',
        'Host bastion',
        '  HostName 203.0.113.7',
        '  Port 2222',
        'Host inner',
        '  HostName 10.0.0.5',
        '  ProxyJump bastion',
        'Host *.internal !secret',
        '  User ops',
        'Host *',
        '  User fallback',
        '',
      ].join('\n'),
    );
    await writeFile(join(home, '.ssh/conf.d/lab.conf'), 'Host lab\n  HostName 192.0.2.10\n  Port 2200\n');
    const host = coreWithSshHome(home);
    expect(await host.call('machines.sshConfigHosts', {})).toEqual([
      { alias: 'lab', hostName: '192.0.2.10', port: 2200, user: 'fallback', identityFiles: [], via: [] },
      { alias: 'ec2', hostName: 'ec2.example.com', port: 22, user: 'admin', identityFiles: ['ec2.pem'], via: [] },
      { alias: 'staging', hostName: 'staging.example.com', port: 22, user: 'admin', identityFiles: ['ec2.pem'], via: [] },
      { alias: 'bastion', hostName: '203.0.113.7', port: 2222, user: 'fallback', identityFiles: [], via: [] },
      { alias: 'inner', hostName: '10.0.0.5', port: 22, user: 'fallback', identityFiles: [], via: ['bastion'] },
    ]);
    // A broken line is named by file and line, not skipped.
    await writeFile(join(home, '.ssh/conf.d/lab.conf'), 'Host lab\n  Port "2200\n');
    await expect(host.call('machines.sshConfigHosts', undefined)).rejects.toThrow(/lab\.conf line 2: unterminated double quote/);
  });

  it('is an empty list when there is no ~/.ssh/config', async () => {
    expect(await coreWithSshHome(join(sandbox.home, 'nobody')).call('machines.sshConfigHosts', undefined)).toEqual([]);
  });
});

describe('two app builds on one host', () => {
  it('does not fight: a background reconnect leaves the other build running and says so', async () => {
    const older = core();
    await older.call('machines.info', { machine: 'local' });
    const otherDir = join(sandbox.root, 'newer-agent');
    await cp(AGENT_DIR, otherDir, { recursive: true });
    const manifestPath = join(otherDir, 'manifest.json');
    await writeFile(manifestPath, JSON.stringify({ ...JSON.parse(await readFile(manifestPath, 'utf8')), buildId: 'e'.repeat(64) }));
    const gaveUp = nextEvent(older, (e) => e.type === 'machine.state' && e.state === 'error');
    const newer = (await core(otherDir).call('machines.info', { machine: 'local' })) as SystemInfo;
    expect(await gaveUp).toMatchObject({ error: expect.stringMatching(/another Onggi build/) });
    expect(await sandbox.daemonPid()).toBe(newer.agent.pid);
  });
});

describe('two windows of one build', () => {
  it('start the agent at the same moment and both end up on the one daemon that won', async () => {
    const infos = (await Promise.all([0, 1, 2].map(() => core().call('machines.info', { machine: 'local' })))) as SystemInfo[];
    const pid = await sandbox.daemonPid();
    expect(infos.map((info) => info.agent.pid)).toEqual([pid, pid, pid]);
  });
});

describe('uploading an image file from the window', () => {
  it('takes a busybox tarball in bounded chunks, checks offsets and size, imports it and leaves no temp file', async () => {
    const host = core();
    const layer = await makeBusyboxLayer(join(sandbox.root, 'busybox'));
    const tar = join(sandbox.root, 'busybox.tar');
    expect(spawnSync('tar', ['-C', layer, '-cf', tar, '.']).status).toBe(0);
    const bytes = await readFile(tar);
    expect(bytes.length).toBeGreaterThan(2 * UPLOAD_CHUNK_BYTES); // several chunks

    await expect(host.call('images.upload.begin', { machine: 'nope', size: 10 })).rejects.toThrow(/nope/);
    await expect(host.call('images.upload.begin', { machine: 'local', size: 0 })).rejects.toThrow(/params\.size/);
    const { id } = (await host.call('images.upload.begin', {
      machine: 'local',
      size: bytes.length,
      kind: 'rootfs',
      name: 'busybox:uploaded',
    })) as { id: string };
    const chunk = (offset: number, data: Buffer) => host.call('images.upload.chunk', { id, offset, data: data.toString('base64') });
    await expect(chunk(0, Buffer.alloc(UPLOAD_CHUNK_BYTES + 3))).rejects.toThrow(/params\.data/);
    await expect(chunk(5, bytes.subarray(5, 10))).rejects.toThrow(/params\.offset: expected 0, got 5/);
    await expect(host.call('images.upload.commit', { id })).rejects.toThrow(/0 of \d+ bytes received/);
    for (let offset = 0; offset < bytes.length; offset += UPLOAD_CHUNK_BYTES) {
      expect(await chunk(offset, bytes.subarray(offset, offset + UPLOAD_CHUNK_BYTES))).toEqual({
        received: Math.min(bytes.length, offset + UPLOAD_CHUNK_BYTES),
      });
    }
    await expect(chunk(bytes.length, Buffer.from('x'))).rejects.toThrow(/goes past the \d+ bytes announced/);
    const imported = (await host.call('images.upload.commit', { id })) as ImageSummary[];
    expect(imported.flatMap((image) => image.names)).toContainEqual(expect.stringMatching(/busybox:uploaded$/));
    const listed = (await host.call('images.list', { machine: 'local' })) as ImageSummary[];
    expect(listed.flatMap((image) => image.names)).toContainEqual(expect.stringMatching(/busybox:uploaded$/));
    expect(await readdir(join(sandbox.home, 'uploads'))).toEqual([]);
    await expect(host.call('images.upload.chunk', { id, offset: 0, data: 'AA==' })).rejects.toThrow(/no upload with id/);

    // An aborted upload leaves nothing behind either.
    const second = (await host.call('images.upload.begin', { machine: 'local', size: 4 })) as { id: string };
    await host.call('images.upload.abort', { id: second.id });
    expect(await readdir(join(sandbox.home, 'uploads'))).toEqual([]);
  }, 120_000);
});
