// An EC2 machine deploys the real agent over the loopback sshd (the instance's address mapped
// there, its console printing the sshd's real fingerprint) and hands the agent its idle timeout:
// the setting lands in the agent's state dir, where auto-stop reads it (also after a reboot).
// A desktop folder is shared with it the way it is with an SSH machine: stored with the EC2
// definition (one stored before sharing existed loads with none), mounted by sharefs on the machine.
import { DescribeInstancesCommand, EC2Client, GetConsoleOutputCommand } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stageRuntime } from '../../../../build/runtime.mjs';
import { testHostCore, writeMachinesFile } from '../../../../build/testing/host-machines.js';
import { AGENT_DIR } from '../../../../build/testing/isolated-agent.js';
import { unmountUnder } from '../../../../build/testing/mounts.js';
import { remoteAgentEnv, stopRemoteAgents } from '../../../../build/testing/remote-agent.js';
import { startSshd, type Sshd } from '../../../../build/testing/sshd.js';
import type { z } from 'zod';
import type { Ec2MachineDefinition } from '../../../../shared/machines.js';
import type { ShareResolution } from '../../../../shared/shares.js';
import type { HostCore } from '../../host-core.js';
import type { Terminal } from '../machine.js';

const BUNDLES_DIR = join(AGENT_DIR, '..', 'bundles');
const INSTANCE = 'i-0cccccccccccccccc';
const ADDRESS = '203.0.113.30';
const ec2 = mockClient(EC2Client);
const isolation = remoteAgentEnv();
const savedEnv = { ...process.env };
let sshd: Sshd | undefined;
let core: HostCore | undefined;
let root = '';
let remote: { installRoot: string; runDir: string; stateDir: string; supervisor: 'background' };

beforeAll(async () => {
  await stageRuntime({ arch: 'x64', outDir: BUNDLES_DIR });
  root = await mkdtemp(join(tmpdir(), 'onggi-ec2-deploy-'));
  remote = {
    installRoot: join(root, 'remote/opt'),
    runDir: join(root, 'remote/run'),
    stateDir: join(root, 'remote/state'),
    supervisor: 'background',
  };
  sshd = await startSshd({ env: isolation.env });
  const fingerprint = sshd.hostKeyFingerprint();
  ec2.on(DescribeInstancesCommand).resolves({
    Reservations: [
      { Instances: [{ InstanceId: INSTANCE, InstanceType: 't3.small', State: { Name: 'running' }, PublicIpAddress: ADDRESS }] },
    ],
  });
  ec2.on(GetConsoleOutputCommand).resolves({
    Output: Buffer.from(
      `-----BEGIN SSH HOST KEY FINGERPRINTS-----\n256 ${fingerprint} root@ip (ED25519)\n-----END SSH HOST KEY FINGERPRINTS-----\n`,
    ).toString('base64'),
  });
  await mkdir(join(root, 'aws'), { recursive: true });
  await writeFile(join(root, 'aws/credentials'), '[sandbox]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = secret-example\n');
  process.env.AWS_SHARED_CREDENTIALS_FILE = join(root, 'aws/credentials');
  process.env.AWS_CONFIG_FILE = join(root, 'aws/config');
  // Stored as before sharing: no `shares` (the schema's default reads it).
  const definition: z.input<typeof Ec2MachineDefinition> = {
    provider: 'ec2',
    name: 'cloud',
    region: 'eu-central-1',
    profile: 'sandbox',
    instanceId: INSTANCE,
    user: 'root',
    port: 22,
    identityFile: sshd.userKeyPath,
    idleMinutes: 45,
    remote,
  };
  await mkdir(join(root, 'data'), { recursive: true });
  await writeMachinesFile(join(root, 'data'), [definition]);
  const port = sshd.port;
  core = testHostCore(root, {
    ec2: { env: { ONGGI_PUBLIC_IP: '198.51.100.7' }, reach: (address) => ({ host: '127.0.0.1', port: address === ADDRESS ? port : 1 }) },
  });
}, 300_000);

afterAll(async () => {
  await core?.close();
  if (root) unmountUnder(root); // the share's sharefs mount (this host is the machine)
  if (root) await stopRemoteAgents(remote.runDir, `${root}/remote`, isolation);
  await sshd?.stop();
  if (root) await rm(root, { recursive: true, force: true });
  process.env = savedEnv;
  ec2.restore();
});

describe('an EC2 machine’s agent', () => {
  it('is deployed after the console check and told the idle timeout, which it keeps in its state dir', async () => {
    const report = (await core?.call('machines.deploy', { machine: 'cloud' })) as { arch: string };
    expect(report.arch).toBe('x64');
    expect(ec2.commandCalls(GetConsoleOutputCommand)).toHaveLength(1);
    expect(JSON.parse(await readFile(join(remote.stateDir, 'idle-stop.json'), 'utf8'))).toEqual({ minutes: 45 });
  }, 120_000);

  it('shares a desktop folder: stored with the EC2 definition, mounted on the machine by sharefs, read and written there', async () => {
    const desktop = join(root, 'desktop', 'app');
    await mkdir(desktop, { recursive: true });
    await writeFile(join(desktop, 'hello.txt'), 'hello from the desktop\n');
    expect(await core?.call('machines.shares', { machine: 'cloud' })).toEqual([]); // stored before sharing: none
    expect(await core?.call('machines.share', { machine: 'cloud', path: desktop, readOnly: false })).toEqual([
      { path: desktop, readOnly: false },
    ]);
    const stored = JSON.parse(await readFile(join(root, 'data', 'machines.json'), 'utf8')) as { machines: Array<Record<string, unknown>> };
    expect(stored.machines[0]).toMatchObject({ provider: 'ec2', instanceId: INSTANCE, shares: [{ path: desktop, readOnly: false }] });

    const resolved = (await core?.call('machines.resolveShare', { machine: 'cloud', path: desktop })) as ShareResolution;
    expect(resolved.machinePath).toMatch(new RegExp(`^${remote.runDir}/shares/[0-9a-f]{16}$`));
    const shell = async (script: string) => {
      const terminal = (await core?.openTerminal('cloud', {
        command: ['sh', '-c', script, 'sh', resolved.machinePath],
        tty: false,
      })) as Terminal;
      let out = '';
      terminal.stream.on('data', (chunk: Buffer) => (out += chunk.toString()));
      expect(await terminal.exit).toEqual({ code: 0 });
      return out;
    };
    expect(await shell('grep " $1 fuse.onggi-share " /proc/mounts | wc -l; cat "$1/hello.txt"; echo made > "$1/from-machine"')).toBe(
      '1\nhello from the desktop\n',
    );
    expect(await readFile(join(desktop, 'from-machine'), 'utf8')).toBe('made\n');

    expect(await core?.call('machines.unshare', { machine: 'cloud', path: desktop })).toEqual([]);
    await expect(core?.call('machines.resolveShare', { machine: 'cloud', path: desktop })).rejects.toThrow(
      `onggi machine share cloud ${desktop}`,
    );
    // The local machine sees this computer's folders as they are: nothing to share.
    await expect(core?.call('machines.share', { machine: 'local', path: desktop })).rejects.toThrow(/nothing needs sharing/);
  }, 120_000);
});
