// EC2 machines through the host API, with AWS mocked at the SDK boundary (aws-sdk-client-mock:
// every command's input is asserted) and the SSH side real: the instance's addresses are mapped to
// a loopback sshd, whose real host key fingerprint is what the mocked console prints.
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DeleteKeyPairCommand,
  DeleteSecurityGroupCommand,
  DescribeImagesCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeVpcsCommand,
  EC2Client,
  GetConsoleOutputCommand,
  ImportKeyPairCommand,
  RevokeSecurityGroupIngressCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AGENT_DIR } from '../../../../build/testing/isolated-agent.js';
import { startSshd, type Sshd } from '../../../../build/testing/sshd.js';
import type { Ec2MachineView } from '../../../../shared/machines.js';
import { createHostCore, type HostCore } from '../../host-core.js';
import type { Terminal } from '../machine.js';
import { parseConsoleFingerprints } from './console-fingerprints.js';
import { TAG_KEY } from './ec2-instances.js';

const ec2 = mockClient(EC2Client);
const ssm = mockClient(SSMClient);

const FIRST_ADDRESS = '203.0.113.10';
const SECOND_ADDRESS = '203.0.113.20';
const DESKTOP = '198.51.100.7';
const AMI = 'ami-0123456789abcdef0';
const GROUP = 'sg-0123456789abcdef0';
const LAUNCHED = 'i-0aaaaaaaaaaaaaaaa';
const ADOPTED = 'i-0bbbbbbbbbbbbbbbb';

let sshd: Sshd;
let dir: string;
let userKey: string;
const savedEnv = { ...process.env };
const cores: HostCore[] = [];

/** The instances AWS would have, as the mocked commands change them. */
let world: Map<string, { state: string; address: string | undefined; console: string }>;
/** Where each instance address is reached here: the loopback sshd, or a closed port. */
let reachable: Map<string, number>;
const reached: string[] = [];

function consoleWith(fingerprint: string): string {
  return Buffer.from(
    [
      '[    9.1] cloud-init[612]: Cloud-init v. 23.4 running modules:config',
      '-----BEGIN SSH HOST KEY FINGERPRINTS-----',
      `ec2: 256 ${fingerprint} root@ip-172-31-7-9 (ED25519)`,
      '-----END SSH HOST KEY FINGERPRINTS-----',
      '',
    ].join('\n'),
  ).toString('base64');
}

function fakeAws(): void {
  ec2.reset();
  ssm.reset();
  ssm.on(GetParameterCommand).resolves({ Parameter: { Value: AMI } });
  ec2.on(DescribeImagesCommand).resolves({ Images: [{ ImageId: AMI, RootDeviceName: '/dev/xvda' }] });
  ec2.on(DescribeInstanceAttributeCommand).resolves({ InstanceInitiatedShutdownBehavior: { Value: 'stop' } });
  ec2.on(DescribeVpcsCommand).resolves({ Vpcs: [{ VpcId: 'vpc-0123abcd', IsDefault: true }] });
  ec2.on(ImportKeyPairCommand).callsFake((input: { KeyName: string }) => ({ KeyName: input.KeyName, KeyPairId: 'key-0123abcd' }));
  ec2.on(CreateSecurityGroupCommand).resolves({ GroupId: GROUP });
  ec2.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true });
  ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
  ec2.on(RunInstancesCommand).callsFake(() => {
    world.set(LAUNCHED, { state: 'running', address: FIRST_ADDRESS, console: consoleWith(sshd.hostKeyFingerprint()) });
    return { Instances: [{ InstanceId: LAUNCHED }] };
  });
  ec2.on(DescribeInstancesCommand).callsFake((input: { InstanceIds: string[] }) => ({
    Reservations: [
      {
        Instances: input.InstanceIds.flatMap((id) => {
          const instance = world.get(id);
          return instance
            ? [{ InstanceId: id, InstanceType: 't3.small', State: { Name: instance.state }, PublicIpAddress: instance.address }]
            : [];
        }),
      },
    ],
  }));
  const setState = (state: string, address?: string) => (input: { InstanceIds: string[] }) => {
    for (const id of input.InstanceIds) {
      const instance = world.get(id);
      if (instance) world.set(id, { ...instance, state, address });
    }
    return {};
  };
  ec2.on(StopInstancesCommand).callsFake(setState('stopped'));
  ec2.on(StartInstancesCommand).callsFake(setState('running', SECOND_ADDRESS));
  ec2.on(TerminateInstancesCommand).callsFake(setState('terminated'));
  ec2.on(GetConsoleOutputCommand).callsFake((input: { InstanceId: string }) => ({ Output: world.get(input.InstanceId)?.console }));
  ec2.on(DeleteSecurityGroupCommand).resolves({});
  ec2.on(DeleteKeyPairCommand).resolves({});
}

function core(name: string, env: NodeJS.ProcessEnv = { ONGGI_PUBLIC_IP: DESKTOP }): HostCore {
  const created = createHostCore({
    dataDir: join(dir, name),
    agentDir: AGENT_DIR,
    nodeRuntime: { command: process.execPath },
    platform: 'linux',
    ssh: { userKnownHosts: [], agentSocket: '' },
    ec2: {
      env,
      reach: (address) => {
        reached.push(address);
        return { host: '127.0.0.1', port: reachable.get(address) ?? 1 };
      },
    },
  });
  cores.push(created);
  return created;
}

async function run(terminal: Terminal): Promise<string> {
  let out = '';
  terminal.stream.on('data', (chunk: Buffer) => (out += chunk.toString()));
  expect(await terminal.exit).toEqual({ code: 0 });
  return out;
}

/** The inputs every call of this command was sent with, in order. */
function inputs<C extends new (...args: never[]) => { input: unknown }>(command: C): NonNullable<InstanceType<C>['input']>[] {
  return [...ec2.commandCalls(command as never), ...ssm.commandCalls(command as never)].map(
    (call) => call.args[0].input as NonNullable<InstanceType<C>['input']>,
  );
}

beforeAll(async () => {
  sshd = await startSshd();
  dir = await mkdtemp(join(tmpdir(), 'onggi-ec2-'));
  userKey = sshd.userKeyPath;
  // Credentials the standard way: a profile in the shared files (static keys; SSO works the same through fromIni).
  await writeFile(join(dir, 'config'), '[profile sandbox]\nregion = eu-central-1\n');
  await writeFile(join(dir, 'credentials'), '[sandbox]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = secret-example\n');
  process.env.AWS_CONFIG_FILE = join(dir, 'config');
  process.env.AWS_SHARED_CREDENTIALS_FILE = join(dir, 'credentials');
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  for (const name of ['AWS_PROFILE', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) delete process.env[name];
});
afterAll(async () => {
  await Promise.all(cores.map((created) => created.close()));
  await sshd?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
  process.env = savedEnv;
  ec2.restore();
  ssm.restore();
});
beforeEach(() => {
  world = new Map();
  reachable = new Map();
  reached.length = 0;
  fakeAws();
});

describe('EC2 machines', () => {
  it('launches with one SSH rule from the desktop /32, the user key, tags on everything; rm terminates and deletes what it made', async () => {
    const host = core('launch');
    const steps: string[] = [];
    host.onEvent((event) => {
      if (event.type === 'machine.ec2') steps.push(event.step);
    });
    const view = (await host.call('machines.addEc2', {
      provider: 'ec2',
      name: 'box',
      region: 'eu-central-1',
      profile: 'sandbox',
      launch: { image: 'debian-12', arch: 'arm64', diskGb: 30 },
      identityFile: userKey,
      idleMinutes: 45,
    })) as Ec2MachineView;
    expect(view).toMatchObject({
      name: 'box',
      instanceId: LAUNCHED,
      launched: true,
      user: 'admin',
      instanceState: 'running',
      address: FIRST_ADDRESS,
    });
    expect(steps.length).toBeGreaterThan(2);

    expect(inputs(GetParameterCommand)).toEqual([{ Name: '/aws/service/debian/release/12/latest/arm64' }]);
    const [importKey] = inputs(ImportKeyPairCommand);
    expect(Buffer.from(importKey?.PublicKeyMaterial ?? []).toString()).toBe((await readFile(`${userKey}.pub`, 'utf8')).trim());
    const [group] = inputs(CreateSecurityGroupCommand);
    expect(group).toMatchObject({ GroupName: 'onggi-box', VpcId: 'vpc-0123abcd' });
    const rules = inputs(AuthorizeSecurityGroupIngressCommand);
    expect(rules).toHaveLength(1);
    expect(rules[0]?.GroupId).toBe(GROUP);
    expect(rules[0]?.IpPermissions).toHaveLength(1);
    expect(rules[0]?.IpPermissions?.[0]).toMatchObject({
      IpProtocol: 'tcp',
      FromPort: 22,
      ToPort: 22,
      IpRanges: [{ CidrIp: `${DESKTOP}/32` }],
    });
    expect(rules[0]?.IpPermissions?.[0]?.IpRanges).toHaveLength(1);
    const [launch] = inputs(RunInstancesCommand);
    expect(launch).toMatchObject({
      ImageId: AMI,
      InstanceType: 't4g.small',
      MinCount: 1,
      MaxCount: 1,
      KeyName: 'onggi-box',
      SecurityGroupIds: [GROUP],
      InstanceInitiatedShutdownBehavior: 'stop',
      BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 30 } }],
    });
    // Every resource made carries the tag.
    const specs = [importKey, group, rules[0], launch].flatMap((input) => input?.TagSpecifications ?? []);
    expect(specs.map((spec) => spec.ResourceType).sort()).toEqual(
      ['instance', 'key-pair', 'network-interface', 'security-group', 'security-group-rule', 'volume'].sort(),
    );
    for (const spec of specs) expect(spec.Tags).toEqual([{ Key: TAG_KEY, Value: 'box' }]);
    // Nothing secret is stored: only the profile's name.
    const stored = await readFile(join(dir, 'launch/machines.json'), 'utf8');
    expect(stored).toContain('"profile": "sandbox"');
    expect(stored).not.toMatch(/AKIAEXAMPLE|secret-example/);

    // The desktop moved: the view says so; updating the rule authorizes the new /32 and revokes the old.
    const moved = core('launch', { ONGGI_PUBLIC_IP: '192.0.2.44' });
    const described = (await moved.call('machines.describe', {})) as Ec2MachineView[];
    expect(described.find((machine) => machine.name === 'box')?.ruleOutdated).toEqual({ rule: `${DESKTOP}/32`, now: '192.0.2.44/32' });
    await expect(moved.call('machines.updateEc2Rule', { machine: 'box' })).resolves.toEqual({ cidr: '192.0.2.44/32' });
    expect(inputs(AuthorizeSecurityGroupIngressCommand)[1]?.IpPermissions?.[0]?.IpRanges).toMatchObject([{ CidrIp: '192.0.2.44/32' }]);
    expect(inputs(RevokeSecurityGroupIngressCommand)).toMatchObject([
      { GroupId: GROUP, IpPermissions: [{ FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: `${DESKTOP}/32` }] }] },
    ]);
    expect(await readFile(join(dir, 'launch/machines.json'), 'utf8')).toContain('192.0.2.44/32');

    await moved.call('machines.remove', { machine: 'box' });
    expect(inputs(TerminateInstancesCommand)).toEqual([{ InstanceIds: [LAUNCHED] }]);
    expect(inputs(DeleteSecurityGroupCommand)).toEqual([{ GroupId: GROUP }]);
    expect(inputs(DeleteKeyPairCommand)).toEqual([{ KeyName: 'onggi-box' }]);
    expect(JSON.parse(await readFile(join(dir, 'launch/machines.json'), 'utf8'))).toEqual({ version: 1, machines: [] });
  });

  it('adopts an instance; connects after the console fingerprint check; stop stops; start reconnects to the new address; rm only forgets', async () => {
    world.set(ADOPTED, { state: 'running', address: FIRST_ADDRESS, console: consoleWith(sshd.hostKeyFingerprint()) });
    reachable.set(FIRST_ADDRESS, sshd.port);
    const host = core('adopt');
    const view = (await host.call('machines.addEc2', {
      provider: 'ec2',
      name: 'mine',
      region: 'eu-central-1',
      profile: 'sandbox',
      instance: ADOPTED,
      user: 'root',
      identityFile: userKey,
    })) as Ec2MachineView;
    expect(view).toMatchObject({
      instanceId: ADOPTED,
      launched: false,
      instanceState: 'running',
      instanceType: 't3.small',
      address: FIRST_ADDRESS,
    });
    expect(inputs(RunInstancesCommand)).toEqual([]);

    const shell = async () => run(await host.openTerminal('mine', { command: ['sh', '-c', 'echo "$SSH_CONNECTION"'], tty: false }));
    expect(await shell()).toMatch(/^127\.0\.0\.1 /);
    expect(inputs(GetConsoleOutputCommand)).toEqual([{ InstanceId: ADOPTED }]);
    expect(reached).toEqual([FIRST_ADDRESS]);

    await host.call('machines.stop', { machine: 'mine' });
    expect(inputs(StopInstancesCommand)).toEqual([{ InstanceIds: [ADOPTED] }]);
    await expect(host.openTerminal('mine', { command: ['true'], tty: false })).rejects.toThrow(/is stopped: start it/);

    // After a start the instance has another address; the old one no longer answers.
    reachable.delete(FIRST_ADDRESS);
    reachable.set(SECOND_ADDRESS, sshd.port);
    await expect(host.call('machines.start', { machine: 'mine' })).resolves.toEqual({ state: 'running' });
    expect(inputs(StartInstancesCommand)).toEqual([{ InstanceIds: [ADOPTED] }]);
    expect(await shell()).toMatch(/^127\.0\.0\.1 /);
    expect(reached).toEqual([FIRST_ADDRESS, SECOND_ADDRESS]);
    const listed = (await host.call('machines.describe', {})) as Ec2MachineView[];
    expect(listed.find((machine) => machine.name === 'mine')).toMatchObject({ address: SECOND_ADDRESS, instanceState: 'running' });

    await host.call('machines.remove', { machine: 'mine' });
    expect(inputs(TerminateInstancesCommand)).toEqual([]);
    // An instance that terminates at shutdown: auto-stop would destroy it, so it is refused (or off).
    ec2.on(DescribeInstanceAttributeCommand).resolves({ InstanceInitiatedShutdownBehavior: { Value: 'terminate' } });
    const adopt = { provider: 'ec2', name: 'mine', region: 'eu-central-1', profile: 'sandbox', instance: ADOPTED, identityFile: userKey };
    await expect(host.call('machines.addEc2', { ...adopt, idleMinutes: 30 })).rejects.toThrow(/auto-stop would destroy it/);
    await expect(host.call('machines.addEc2', adopt)).resolves.toMatchObject({ idleMinutes: 0 });
    await host.call('machines.remove', { machine: 'mine' });
    expect(inputs(DeleteSecurityGroupCommand)).toEqual([]);
    expect(world.get(ADOPTED)?.state).toBe('running');
  });

  it('refuses a host key that is not among the fingerprints the instance printed', async () => {
    world.set(ADOPTED, { state: 'running', address: FIRST_ADDRESS, console: consoleWith(`SHA256:${'A'.repeat(43)}`) });
    reachable.set(FIRST_ADDRESS, sshd.port);
    const host = core('mismatch');
    await host.call('machines.addEc2', {
      provider: 'ec2',
      name: 'other',
      region: 'eu-central-1',
      profile: 'sandbox',
      instance: ADOPTED,
      user: 'root',
      identityFile: userKey,
    });
    await expect(host.openTerminal('other', { command: ['true'], tty: false })).rejects.toThrow(
      new RegExp(`${sshd.hostKeyFingerprint().replace(/[+/]/g, '\\$&')}\\) is none of those ${ADOPTED} printed on its console`),
    );
    await expect(readFile(join(dir, 'mismatch/ec2/other/known_hosts'), 'utf8')).rejects.toThrow(/ENOENT/);
    // A console that printed nothing yet: not trusted either.
    world.set(ADOPTED, { state: 'running', address: FIRST_ADDRESS, console: '' });
    await expect(host.openTerminal('other', { command: ['true'], tty: false })).rejects.toThrow(/has not printed its SSH host key/);
  });

  it('says clearly when the profile has no credentials, the region is wrong, there is no default VPC or the limit is reached', async () => {
    const host = core('errors');
    const params = { provider: 'ec2', name: 'x', region: 'eu-central-1', identityFile: userKey, launch: {} };
    await expect(host.call('machines.addEc2', { ...params, profile: 'nobody' })).rejects.toThrow(
      /no AWS credentials for profile "nobody".*aws configure --profile nobody/,
    );
    await expect(host.call('machines.addEc2', { ...params, profile: 'sandbox', region: 'moon' })).rejects.toThrow(
      /params\.region: must be an AWS region/,
    );
    ec2
      .on(DescribeInstancesCommand)
      .rejects(Object.assign(new Error('getaddrinfo ENOTFOUND ec2.xx-nowhere-9.amazonaws.com'), { code: 'ENOTFOUND' }));
    await expect(
      host.call('machines.addEc2', { ...params, launch: undefined, instance: ADOPTED, profile: 'sandbox', region: 'xx-nowhere-9' }),
    ).rejects.toThrow(/no AWS endpoint answers for region "xx-nowhere-9"/);
    ec2.on(DescribeInstanceAttributeCommand).resolves({ InstanceInitiatedShutdownBehavior: { Value: 'stop' } });
    ec2.on(DescribeVpcsCommand).resolves({ Vpcs: [] });
    await expect(host.call('machines.addEc2', { ...params, profile: 'sandbox' })).rejects.toThrow(
      /no default VPC in region eu-central-1.*create-default-vpc/,
    );
    fakeAws();
    ec2
      .on(RunInstancesCommand)
      .rejects(Object.assign(new Error('You have requested more instances than allowed'), { name: 'InstanceLimitExceeded' }));
    await expect(host.call('machines.addEc2', { ...params, profile: 'sandbox' })).rejects.toThrow(
      /instance limit in region eu-central-1 is reached/,
    );
    // What was made before the refusal is removed again, and nothing is stored.
    expect(inputs(DeleteSecurityGroupCommand)).toEqual([{ GroupId: GROUP }]);
    expect(inputs(DeleteKeyPairCommand)).toEqual([{ KeyName: 'onggi-x' }]);
    fakeAws();
    ssm.on(GetParameterCommand).rejects(Object.assign(new Error('not found'), { name: 'ParameterNotFound' }));
    await expect(host.call('machines.addEc2', { ...params, profile: 'sandbox', launch: { image: 'al2023' } })).rejects.toThrow(
      /image al2023 is not offered in region eu-central-1/,
    );
    expect(await host.call('machines.list', {})).toEqual([{ name: 'local', provider: 'local', state: 'stopped' }]);
  });

  it('reads the fingerprint block of a console, with or without the ec2: prefix', () => {
    const fingerprint = `SHA256:${'b'.repeat(43)}`;
    const text = `noise SHA256:${'c'.repeat(43)} (RSA)\n-----BEGIN SSH HOST KEY FINGERPRINTS-----\r\n256 ${fingerprint} root@h (ED25519)\r\n3072 SHA256:${'d'.repeat(43)} root@h (RSA)\n-----END SSH HOST KEY FINGERPRINTS-----\n`;
    expect(parseConsoleFingerprints(text)).toEqual([
      { fingerprint, type: 'ED25519' },
      { fingerprint: `SHA256:${'d'.repeat(43)}`, type: 'RSA' },
    ]);
  });
});
