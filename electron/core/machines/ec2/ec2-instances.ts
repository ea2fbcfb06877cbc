// Every EC2 and SSM call Onggi makes (docs/ec2.md lists them with the IAM policy that allows
// exactly these): launching an instance with the key pair and security group it needs, all tagged
// `onggi:machine=NAME`; looking it up, starting, stopping, terminating it; reading its console;
// moving its SSH rule to the desktop's new public address.
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DeleteKeyPairCommand,
  DeleteSecurityGroupCommand,
  DescribeImagesCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeVpcsCommand,
  GetConsoleOutputCommand,
  ImportKeyPairCommand,
  RevokeSecurityGroupIngressCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  waitUntilInstanceRunning,
  waitUntilInstanceStopped,
  waitUntilInstanceTerminated,
  type ResourceType,
  type TagSpecification,
} from '@aws-sdk/client-ec2';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { OnggiError } from '../../../../shared/errors.js';
import { ErrorCode } from '../../../../shared/jsonrpc.js';
import type { Ec2Arch, Ec2Image, Ec2Made } from '../../../../shared/machines.js';
import type { AwsClients } from './aws-clients.js';
import { awsError, type AwsErrorContext } from './aws-errors.js';
import { imageParameter } from './ec2-images.js';

/** The tag on everything Onggi makes; the IAM policy's conditions key on it. */
export const TAG_KEY = 'onggi:machine';

/** Waiters poll every 5–15 s and give up after 10 minutes (a launch takes ~30 s, a stop up to minutes). */
const WAIT = { maxWaitTime: 600, minDelay: 5, maxDelay: 15 };

export interface InstanceFacts {
  instanceId: string;
  /** pending, running, stopping, stopped, shutting-down, terminated */
  state: string;
  instanceType: string | undefined;
  /** The public address, else the private one (an instance reached over a VPN), else none (stopped). */
  address: string | undefined;
}

export interface LaunchSpec {
  name: string;
  image: Ec2Image;
  arch: Ec2Arch;
  instanceType: string;
  diskGb: number;
  /** The user's public key line (`ssh-ed25519 AAAA… comment`), imported as the key pair. */
  publicKey: string;
  /** The SSH rule's only source: the desktop's public address as a /32. */
  cidr: string;
}

export function tagged(resourceTypes: ResourceType[], name: string): TagSpecification[] {
  return resourceTypes.map((ResourceType) => ({ ResourceType, Tags: [{ Key: TAG_KEY, Value: name }] }));
}

/** The one ingress rule: 22/tcp from a /32 (described when it is made; a revoke matches without). */
export function sshRule(cidr: string, described = true) {
  const range = described ? { CidrIp: cidr, Description: 'SSH from the Onggi desktop' } : { CidrIp: cidr };
  return [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [range] }];
}

async function call<T>(context: AwsErrorContext, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw awsError(error, context);
  }
}

export async function describeInstance(clients: AwsClients, instanceId: string): Promise<InstanceFacts> {
  const context = { ...clients.target, action: `look up ${instanceId}`, instanceId };
  const output = await call(context, () => clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] })));
  const instance = output.Reservations?.flatMap((reservation) => reservation.Instances ?? []).find(
    (found) => found.InstanceId === instanceId,
  );
  if (!instance) throw awsError({ name: 'InvalidInstanceID.NotFound', message: instanceId }, context);
  return {
    instanceId,
    state: instance.State?.Name ?? 'unknown',
    instanceType: instance.InstanceType,
    address: instance.PublicIpAddress ?? instance.PrivateIpAddress,
  };
}

/** What `shutdown -h now` on the instance does to it: `stop` or `terminate` (auto-stop needs `stop`). */
export async function shutdownBehavior(clients: AwsClients, instanceId: string): Promise<string | undefined> {
  const context = { ...clients.target, action: `read the shutdown behavior of ${instanceId}`, instanceId };
  const output = await call(context, () =>
    clients.ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'instanceInitiatedShutdownBehavior' })),
  );
  return output.InstanceInitiatedShutdownBehavior?.Value;
}

/** Makes the key pair, the security group and the instance, and waits until it runs; on failure removes what it made. */
export async function launchInstance(
  clients: AwsClients,
  spec: LaunchSpec,
  onStep: (step: string) => void,
): Promise<{ instanceId: string; made: Ec2Made }> {
  const base = { ...clients.target, image: spec.image, instanceType: spec.instanceType };
  onStep(`finding the current ${spec.image} (${spec.arch}) image`);
  const parameter = await call({ ...base, action: 'find the image' }, () =>
    clients.ssm.send(new GetParameterCommand({ Name: imageParameter(spec.image, spec.arch) })),
  );
  const imageId = parameter.Parameter?.Value;
  if (!imageId) throw awsError({ name: 'ImageNotOffered', message: 'no value' }, { ...base, action: 'find the image' });
  const images = await call({ ...base, action: 'describe the image' }, () =>
    clients.ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] })),
  );
  const rootDevice = images.Images?.[0]?.RootDeviceName;
  if (!rootDevice) throw awsError({ name: 'InvalidAMIID.NotFound', message: imageId }, { ...base, action: 'describe the image' });
  const vpcs = await call({ ...base, action: 'find the default VPC' }, () =>
    clients.ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] })),
  );
  const vpcId = vpcs.Vpcs?.[0]?.VpcId;
  if (!vpcId) throw awsError({ name: 'NoDefaultVpc', message: 'no default VPC' }, { ...base, action: 'find the default VPC' });

  const resourceName = `onggi-${spec.name}`;
  const made: Partial<Ec2Made> & { instanceId?: string } = {};
  try {
    onStep('importing your public key');
    await call({ ...base, action: 'import the key pair' }, () =>
      clients.ec2.send(
        new ImportKeyPairCommand({
          KeyName: resourceName,
          PublicKeyMaterial: new TextEncoder().encode(spec.publicKey.trim()),
          TagSpecifications: tagged(['key-pair'], spec.name),
        }),
      ),
    );
    made.keyName = resourceName;
    onStep(`making a security group that admits only SSH from ${spec.cidr}`);
    const group = await call({ ...base, action: 'create the security group' }, () =>
      clients.ec2.send(
        new CreateSecurityGroupCommand({
          GroupName: resourceName,
          Description: `Onggi machine ${spec.name}: SSH from the desktop only`,
          VpcId: vpcId,
          TagSpecifications: tagged(['security-group'], spec.name),
        }),
      ),
    );
    if (!group.GroupId) throw new OnggiError(ErrorCode.OperationFailed, 'aws_failed', 'CreateSecurityGroup returned no group id');
    made.securityGroupId = group.GroupId;
    await call({ ...base, action: 'open SSH in the security group' }, () =>
      clients.ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: group.GroupId,
          IpPermissions: sshRule(spec.cidr),
          TagSpecifications: tagged(['security-group-rule'], spec.name),
        }),
      ),
    );
    made.ruleCidr = spec.cidr;
    onStep(`launching a ${spec.instanceType}`);
    const run = await call({ ...base, action: 'launch the instance' }, () =>
      clients.ec2.send(
        new RunInstancesCommand({
          ImageId: imageId,
          InstanceType: spec.instanceType as never,
          MinCount: 1,
          MaxCount: 1,
          KeyName: resourceName,
          SecurityGroupIds: [group.GroupId as string],
          // `shutdown -h now` on the instance (auto-stop) stops it rather than terminating it.
          InstanceInitiatedShutdownBehavior: 'stop',
          BlockDeviceMappings: [{ DeviceName: rootDevice, Ebs: { VolumeSize: spec.diskGb, VolumeType: 'gp3', DeleteOnTermination: true } }],
          MetadataOptions: { HttpTokens: 'required' },
          TagSpecifications: tagged(['instance', 'volume', 'network-interface'], spec.name),
        }),
      ),
    );
    const instanceId = run.Instances?.[0]?.InstanceId;
    if (!instanceId) throw new OnggiError(ErrorCode.OperationFailed, 'aws_failed', 'RunInstances returned no instance id');
    made.instanceId = instanceId;
    onStep(`waiting for ${instanceId} to run`);
    await waitRunning(clients, instanceId);
    return { instanceId, made: { securityGroupId: made.securityGroupId, keyName: made.keyName, ruleCidr: made.ruleCidr } };
  } catch (error) {
    // Nothing half-made stays behind (and bills): undo in reverse.
    await undoLaunch(clients, made).catch(() => undefined);
    throw error;
  }
}

async function undoLaunch(clients: AwsClients, made: Partial<Ec2Made> & { instanceId?: string }): Promise<void> {
  if (made.instanceId) await terminateInstance(clients, made.instanceId);
  await deleteMade(clients, made);
}

export async function waitRunning(clients: AwsClients, instanceId: string): Promise<void> {
  await call({ ...clients.target, action: `wait for ${instanceId} to run`, instanceId }, () =>
    waitUntilInstanceRunning({ client: clients.ec2, ...WAIT }, { InstanceIds: [instanceId] }),
  );
}

export async function startInstance(clients: AwsClients, instanceId: string): Promise<void> {
  const context = { ...clients.target, action: `start ${instanceId}`, instanceId };
  await call(context, () => clients.ec2.send(new StartInstancesCommand({ InstanceIds: [instanceId] })));
  await waitRunning(clients, instanceId);
}

export async function stopInstance(clients: AwsClients, instanceId: string): Promise<void> {
  const context = { ...clients.target, action: `stop ${instanceId}`, instanceId };
  await call(context, () => clients.ec2.send(new StopInstancesCommand({ InstanceIds: [instanceId] })));
  await call(context, () => waitUntilInstanceStopped({ client: clients.ec2, ...WAIT }, { InstanceIds: [instanceId] }));
}

export async function terminateInstance(clients: AwsClients, instanceId: string): Promise<void> {
  const context = { ...clients.target, action: `terminate ${instanceId}`, instanceId };
  await call(context, () => clients.ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] })));
  // The security group cannot be deleted while a (terminating) instance still uses it.
  await call(context, () => waitUntilInstanceTerminated({ client: clients.ec2, ...WAIT }, { InstanceIds: [instanceId] }));
}

/** Deletes the security group and key pair Onggi made (after the instance is gone). */
export async function deleteMade(clients: AwsClients, made: Partial<Ec2Made>): Promise<void> {
  if (made.securityGroupId) {
    const groupId = made.securityGroupId;
    await call({ ...clients.target, action: `delete the security group ${groupId}` }, () =>
      clients.ec2.send(new DeleteSecurityGroupCommand({ GroupId: groupId })),
    );
  }
  if (made.keyName) {
    const keyName = made.keyName;
    await call({ ...clients.target, action: `delete the key pair ${keyName}` }, () =>
      clients.ec2.send(new DeleteKeyPairCommand({ KeyName: keyName })),
    );
  }
}

/** Moves the SSH rule to a new source: authorizes the new /32 first, then revokes the old one. */
export async function replaceSshRule(clients: AwsClients, name: string, made: Ec2Made, cidr: string): Promise<void> {
  const groupId = made.securityGroupId;
  await call({ ...clients.target, action: 'open SSH from the new address' }, () =>
    clients.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: groupId,
        IpPermissions: sshRule(cidr),
        TagSpecifications: tagged(['security-group-rule'], name),
      }),
    ),
  );
  await call({ ...clients.target, action: 'close SSH from the old address' }, () =>
    clients.ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: sshRule(made.ruleCidr, false) })),
  );
}

/** The instance's serial console as text (the latest the hypervisor kept). */
export async function consoleText(clients: AwsClients, instanceId: string): Promise<string> {
  const output = await call({ ...clients.target, action: `read the console of ${instanceId}`, instanceId }, () =>
    clients.ec2.send(new GetConsoleOutputCommand({ InstanceId: instanceId })),
  );
  return output.Output ? Buffer.from(output.Output, 'base64').toString('utf8') : '';
}
