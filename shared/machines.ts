// Machine definitions (what the host persists in <dataDir>/machines.json) and the host API
// pieces that add, remove and reach remote machines: the host-key question, the secret question
// (key passphrase, sudo password: answered, never stored), deploy progress.
import { ClockPolicy } from './clock.js';
import * as z from 'zod';
import { MachineName, NewMachineName } from './names.js';
import { SharedFolders } from './shares.js';

/** A host name, IPv4 or IPv6 address. No leading `-` (it would read as an option to a tool). */
export const SshHost = z
  .string()
  .min(1, 'must not be empty')
  .max(253, 'must be at most 253 characters')
  .regex(/^[A-Za-z0-9_.:%][A-Za-z0-9_.:%-]*$/, 'must be a host name or an IP address');

/** A POSIX user name (as useradd accepts, plus what EC2 images use). */
export const SshUser = z
  .string()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  .regex(/^[A-Za-z0-9_.][A-Za-z0-9_.@-]*\$?$/, 'must be a user name (letters, digits, . _ - @)');

export const Port = z.number().int('must be a whole number').min(1, 'must be 1 or more').max(65535, 'must be at most 65535');

/** A file on the host (a private key): any absolute or ~ path; it is read, never sent anywhere. */
export const HostFilePath = z.string().min(1).max(4096);

/** An absolute path on the remote machine, of plain characters (it goes into a systemd unit). */
export const RemotePath = z
  .string()
  .max(512)
  .regex(/^(?:\/[A-Za-z0-9._+-]+)+$/, 'must be an absolute path of letters, digits and . _ + - (not / itself, no trailing /)')
  .refine((path) => !path.split('/').includes('..') && !path.split('/').includes('.'), 'must not contain . or .. components');

export const JumpHost = z.strictObject({
  host: SshHost,
  port: Port.default(22),
  user: SshUser,
  identityFile: HostFilePath.optional(),
});
export type JumpHost = z.infer<typeof JumpHost>;

/** Where the agent lives on the remote machine. The defaults are for real machines; tests sandbox all three. */
export const RemoteLayout = z.strictObject({
  installRoot: RemotePath.default('/opt/onggi'),
  runDir: RemotePath.default('/run/onggi'),
  stateDir: RemotePath.default('/var/lib/onggi'),
  /** How the daemon is kept running: systemd where it is PID 1 (`auto`), else a supervised background process. */
  supervisor: z.enum(['auto', 'systemd', 'background']).default('auto'),
});
export type RemoteLayout = z.infer<typeof RemoteLayout>;

export const SshMachineDefinition = z.strictObject({
  provider: z.literal('ssh'),
  name: MachineName,
  host: SshHost,
  port: Port.default(22),
  user: SshUser,
  /** The private key file; when absent, the agent and OpenSSH's default key files are tried. */
  identityFile: HostFilePath.optional(),
  /** Offer the keys of the ssh-agent at SSH_AUTH_SOCK (or this socket). */
  agent: z.union([z.boolean(), HostFilePath]).default(true),
  proxyJump: z.array(JumpHost).max(8).default([]),
  /** The ~/.ssh/config alias the machine was made from, for the record. */
  sshConfigHost: z.string().max(253).optional(),
  remote: RemoteLayout.optional(),
  /** `correct`: Onggi runs this machine (a VM of its own) and steps its clock when it drifts; `report` (an SSH host with its own NTP): only shown. */
  clock: ClockPolicy.default('report'),
  /** Desktop folders this machine may see (shared/shares.ts). */
  shares: SharedFolders.default([]),
});
export type SshMachineDefinition = z.infer<typeof SshMachineDefinition>;
export type SshMachineDefinitionInput = z.input<typeof SshMachineDefinition>;

/** A Vagrant box name (`debian/bookworm64`, `bento/ubuntu-24.04`) or a box URL. */
export const VagrantBox = z
  .string()
  .min(1, 'must not be empty')
  .max(512, 'must be at most 512 characters')
  .regex(/^[A-Za-z0-9_.][A-Za-z0-9_./:@+-]*$/, 'must be a box name like debian/bookworm64 (letters, digits, . _ / : @ + -)');

/** A Vagrant provider plugin's name: virtualbox (the default), libvirt, parallels, vmware_desktop, … */
export const VagrantProviderName = z
  .string()
  .min(1)
  .max(32)
  .regex(/^[a-z][a-z0-9_]*$/, 'must be a Vagrant provider name like virtualbox or libvirt');

export const Ipv4 = z
  .string()
  .max(15)
  .regex(/^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)$/, 'must be an IPv4 address');

/** Vagrant's name for the box's CPU architecture (`config.vm.box_architecture`). */
export const VagrantBoxArchitecture = z.enum(['amd64', 'arm64']);

export const VagrantResources = {
  // Machines stored before per-host defaults always carry a box; this default only reads them.
  box: VagrantBox.default('debian/bookworm64'),
  /** Which build of the box (Vagrant ≥ 2.4); absent: Vagrant's own choice. */
  boxArchitecture: VagrantBoxArchitecture.optional(),
  cpus: z.number().int('must be a whole number').min(1, 'must be 1 or more').max(256, 'must be at most 256').default(2),
  memoryMb: z
    .number()
    .int('must be a whole number')
    .min(256, 'must be 256 MiB or more')
    .max(1_048_576, 'must be at most 1 TiB')
    .default(2048),
  diskGb: z.number().int('must be a whole number').min(4, 'must be 4 GB or more').max(65_536, 'must be at most 64 TB').optional(),
  vagrantProvider: VagrantProviderName.default('virtualbox'),
  /** A host-only network address for the VM (Vagrant's private_network); none by default. */
  privateNetworkIp: Ipv4.optional(),
  /** Share the machine's directory as /vagrant (off: the agent never needs the host's files). */
  syncedFolder: z.boolean().default(false),
  /** Libvirt provider settings (driver `qemu` where there is no KVM, a non-default URI). */
  libvirt: z
    .strictObject({
      driver: z.enum(['kvm', 'qemu']).optional(),
      uri: z.string().max(1024).optional(),
      managementNetworkName: z
        .string()
        .max(64)
        .regex(/^[A-Za-z0-9_.-]+$/)
        .optional(),
      managementNetworkAddress: z
        .string()
        .max(64)
        .regex(/^[0-9./]+$/)
        .optional(),
      /** Direct kernel boot, for a box whose disk has no boot loader (a bare root filesystem). */
      kernel: HostFilePath.optional(),
      initrd: HostFilePath.optional(),
      cmdLine: z.string().max(1024).optional(),
    })
    .optional(),
  /** Log in as this user with this key instead of Vagrant's (a box of one's own, e.g. root only). */
  sshUsername: SshUser.optional(),
  sshPrivateKey: HostFilePath.optional(),
  /** How Vagrant runs commands as root in the box (`sudo -E -H %c` by default; `%c` for a box without sudo). */
  sshSudoCommand: z.string().max(256).optional(),
};

export const VagrantMachineDefinition = z.strictObject({
  provider: z.literal('vagrant'),
  name: MachineName,
  ...VagrantResources,
  remote: RemoteLayout.optional(),
  /** Desktop folders this machine may see (shared/shares.ts); machines stored before sharing have none. */
  shares: SharedFolders.default([]),
});
export type VagrantMachineDefinition = z.infer<typeof VagrantMachineDefinition>;
export type VagrantMachineDefinitionInput = z.input<typeof VagrantMachineDefinition>;

// ── EC2 ───────────────────────────────────────────────────────────────────────────────────────
// An EC2 machine is an SSH machine whose address, user and host key come from EC2. Credentials
// are never stored here: only the profile name the SDK's provider chain reads them by.

export const AwsRegion = z
  .string()
  .max(32)
  .regex(/^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/, 'must be an AWS region like eu-central-1');

/** A profile of ~/.aws/config (SSO, assume-role and static keys all resolved by the SDK). */
export const AwsProfile = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.+@-]+$/, 'must be a profile name of ~/.aws/config (letters, digits, . _ + @ -)');

export const Ec2InstanceId = z.string().regex(/^i-[0-9a-f]{8,17}$/, 'must be an instance id like i-0123456789abcdef0');
export const Ec2Image = z.enum(['debian-12', 'ubuntu-24.04', 'al2023']);
export type Ec2Image = z.infer<typeof Ec2Image>;
export const Ec2Arch = z.enum(['x64', 'arm64']);
export type Ec2Arch = z.infer<typeof Ec2Arch>;
export const Ec2InstanceType = z
  .string()
  .max(32)
  .regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, 'must be an instance type like t3.small');
/** Minutes without activity before the instance stops itself; 0: never. */
export const Ec2IdleMinutes = z
  .number()
  .int('must be a whole number')
  .min(0)
  .max(24 * 60, 'must be at most 1440 (a day)');

/** What Onggi made for a launched instance (removed with it), and the SSH rule's source. */
export const Ec2Made = z.strictObject({
  securityGroupId: z.string().regex(/^sg-[0-9a-f]{8,17}$/),
  keyName: z.string().min(1).max(255),
  /** The one ingress rule's source: the desktop's public address when it was made, as a /32. */
  ruleCidr: z.string().regex(/^(?:\d{1,3}\.){3}\d{1,3}\/32$/),
});
export type Ec2Made = z.infer<typeof Ec2Made>;

export const Ec2MachineDefinition = z.strictObject({
  provider: z.literal('ec2'),
  name: MachineName,
  region: AwsRegion,
  profile: AwsProfile.optional(),
  instanceId: Ec2InstanceId,
  user: SshUser,
  /** sshd's port on the instance (22 on every image we launch). */
  port: Port.default(22),
  /** The private key; its .pub was imported as the instance's key pair (launch). */
  identityFile: HostFilePath,
  /** Present when Onggi launched the instance: what `rm` deletes with it. Adopted: absent. */
  made: Ec2Made.optional(),
  image: Ec2Image.optional(),
  arch: Ec2Arch.optional(),
  idleMinutes: Ec2IdleMinutes.default(60),
  remote: RemoteLayout.optional(),
  /** Desktop folders this machine may see (shared/shares.ts); machines stored before sharing have none. */
  shares: SharedFolders.default([]),
});
export type Ec2MachineDefinition = z.infer<typeof Ec2MachineDefinition>;

export const MachineDefinition = z.discriminatedUnion('provider', [SshMachineDefinition, VagrantMachineDefinition, Ec2MachineDefinition]);
export type MachineDefinition = z.infer<typeof MachineDefinition>;

export const MachinesFile = z.strictObject({
  version: z.literal(1),
  machines: z.array(MachineDefinition).max(1024),
});
export type MachinesFile = z.infer<typeof MachinesFile>;

// ── host API: params and results ─────────────────────────────────────────────────────────────

export const MachineAddSshParams = z
  .strictObject({
    provider: z.literal('ssh'),
    name: NewMachineName,
    host: SshHost.optional(),
    port: Port.optional(),
    user: SshUser.optional(),
    identityFile: HostFilePath.optional(),
    /** Take host, port, user, keys and ProxyJump from this ~/.ssh/config Host. */
    fromSshConfig: z.string().min(1).max(253).optional(),
    /** Accept an unknown host key without asking (once; it is then remembered), like StrictHostKeyChecking=accept-new. */
    acceptNewHostKey: z.boolean().optional(),
    remote: RemoteLayout.partial().optional(),
    clock: ClockPolicy.optional(),
  })
  .refine((params) => params.host !== undefined || params.fromSshConfig !== undefined, {
    message: 'give host or fromSshConfig',
    path: ['host'],
  });
export type MachineAddSshParams = z.infer<typeof MachineAddSshParams>;

/** Box, provider and architecture left out get this desktop's defaults (the platform layer's: x64, Apple Silicon, Windows on ARM differ). */
export const MachineAddVagrantParams = VagrantMachineDefinition.omit({ shares: true }).extend({
  name: NewMachineName,
  box: VagrantBox.optional(),
  vagrantProvider: VagrantProviderName.optional(),
});
export type MachineAddVagrantParams = z.input<typeof MachineAddVagrantParams>;

/** `machines.addEc2`: adopt an instance (`instance`) or launch one (`launch`), never both. */
export const MachineAddEc2Params = z
  .strictObject({
    provider: z.literal('ec2'),
    name: NewMachineName,
    region: AwsRegion,
    profile: AwsProfile.optional(),
    instance: Ec2InstanceId.optional(),
    launch: z
      .strictObject({
        image: Ec2Image.default('debian-12'),
        arch: Ec2Arch.default('x64'),
        /** Default: t3.small (x64), t4g.small (arm64). */
        instanceType: Ec2InstanceType.optional(),
        diskGb: z.number().int('must be a whole number').min(8, 'must be 8 GB or more').max(16_384).default(20),
      })
      .optional(),
    /** The private key (its .pub is imported on launch); default ~/.ssh/id_ed25519, then ~/.ssh/id_rsa. */
    identityFile: HostFilePath.optional(),
    /** Who to log in as on an adopted instance (launched: the image's user). */
    user: SshUser.optional(),
    idleMinutes: Ec2IdleMinutes.optional(),
  })
  .refine((params) => (params.instance === undefined) !== (params.launch === undefined), {
    message: 'give either instance (adopt) or launch',
    path: ['instance'],
  });
export type MachineAddEc2Params = z.input<typeof MachineAddEc2Params>;

/** What the window may show about an EC2 machine (no credentials, no key paths). */
export const Ec2MachineView = z.strictObject({
  name: MachineName,
  provider: z.literal('ec2'),
  region: AwsRegion,
  profile: AwsProfile.optional(),
  instanceId: Ec2InstanceId,
  launched: z.boolean(),
  user: SshUser,
  idleMinutes: Ec2IdleMinutes,
  /** As last seen (DescribeInstances): pending, running, stopping, stopped, … */
  instanceState: z.string().max(32).optional(),
  instanceType: z.string().max(32).optional(),
  address: z.string().max(253).optional(),
  /** The SSH rule admits `rule` but this desktop's public address is now `now` (`machines.updateEc2Rule` fixes it). */
  ruleOutdated: z.strictObject({ rule: z.string().max(64), now: z.string().max(64) }).optional(),
  /** Why the instance could not be looked up just now, in the user's words. */
  error: z.string().max(4096).optional(),
});
export type Ec2MachineView = z.infer<typeof Ec2MachineView>;

export const MachineRemoveParams = z.strictObject({
  machine: MachineName,
  /** EC2: terminate an adopted instance too (a launched one always is). */
  terminate: z.boolean().optional(),
});

/** What the window may show about a Vagrant machine (its resources; no host paths). */
export const VagrantMachineView = z.strictObject({
  name: MachineName,
  provider: z.literal('vagrant'),
  box: VagrantBox,
  cpus: z.number().int().min(1).max(256),
  memoryMb: z.number().int().min(0).max(1_048_576),
  vagrantProvider: VagrantProviderName,
  /** The box's architecture when Onggi chose the box for this computer (e.g. arm64 on Apple Silicon). */
  boxArchitecture: VagrantBoxArchitecture.optional(),
});
export type VagrantMachineView = z.infer<typeof VagrantMachineView>;

/** What `machines.addVagrant` reports: the view, and why the defaults were chosen when the user left box and provider out. */
export const VagrantMachineAdded = z.strictObject({ ...VagrantMachineView.shape, note: z.string().max(2000).optional() });
export type VagrantMachineAdded = z.infer<typeof VagrantMachineAdded>;

/** What `machines.start` reports: Vagrant's state name once `vagrant up` is done (`running`). */
export const MachineStartResult = z.strictObject({ state: z.string().max(64) });

/** What the window may show about a remote machine (no key paths: those stay on the host). */
export const SshMachineView = z.strictObject({
  name: MachineName,
  provider: z.literal('ssh'),
  host: SshHost,
  port: Port,
  user: SshUser,
  via: z.array(z.string().max(300)).max(8),
  sshConfigHost: z.string().max(253).optional(),
});
export type SshMachineView = z.infer<typeof SshMachineView>;

/** A machine as `machines.describe` shows it, per kind (the local machine has nothing to describe). */
export const MachineView = z.discriminatedUnion('provider', [SshMachineView, VagrantMachineView, Ec2MachineView]);
export type MachineView = z.infer<typeof MachineView>;

/**
 * A Host entry of ~/.ssh/config as the add dialog shows it: what OpenSSH would connect to. Key
 * files by base name only (their paths stay on the host); none when the config names none.
 */
export const SshConfigHostView = z.strictObject({
  alias: z.string().min(1).max(253),
  hostName: z.string().max(253),
  port: Port,
  user: z.string().max(64),
  identityFiles: z.array(z.string().max(255)).max(32),
  via: z.array(z.string().max(300)).max(8),
});
export type SshConfigHostView = z.infer<typeof SshConfigHostView>;

/** The user's answer to a host-key or secret question. */
export const PromptAnswerParams = z.union([
  z.strictObject({ requestId: z.string().min(1).max(64), accept: z.boolean() }),
  z.strictObject({
    requestId: z.string().min(1).max(64),
    secret: z.string().max(4096).nullable(),
    /** Keep a key passphrase in the OS keychain (only where `app.version` says `secretVault`). */
    remember: z.boolean().optional(),
  }),
]);
export type PromptAnswerParams = z.infer<typeof PromptAnswerParams>;

// ── host API: events ─────────────────────────────────────────────────────────────────────────

export const HostKeyPrompt = z.strictObject({
  requestId: z.string().min(1).max(64),
  machine: MachineName,
  host: SshHost,
  port: Port,
  /** `ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`, … */
  keyType: z.string().max(64),
  /** `SHA256:<base64>`, as OpenSSH prints it. */
  fingerprint: z.string().max(128),
  /** Key types already known for this host (of another type than the one offered). */
  otherKnownTypes: z.array(z.string().max(64)).max(16),
});
export type HostKeyPrompt = z.infer<typeof HostKeyPrompt>;

export const SecretPrompt = z.strictObject({
  requestId: z.string().min(1).max(64),
  machine: MachineName,
  kind: z.enum(['key-passphrase', 'sudo-password']),
  /** What the secret unlocks: the key file, or `user@host`. */
  subject: z.string().max(4096),
  /** 1 on the first ask; more after a wrong answer. */
  attempt: z.number().int().min(1).max(10),
});
export type SecretPrompt = z.infer<typeof SecretPrompt>;

/** `stage`: the Node runtime for the machine's architecture is being staged here first (a checkout's first deploy). */
export const DeployPhase = z.enum(['probe', 'upload', 'install', 'start', 'handshake', 'done', 'stage']);
export type DeployPhase = z.infer<typeof DeployPhase>;

export const DeployProgress = z.strictObject({
  machine: MachineName,
  phase: DeployPhase,
  /** What is being uploaded (runtime or agent) during `upload`. */
  part: z.enum(['runtime', 'agent']).optional(),
  /** Bytes uploaded so far in this deploy, and the total to upload (0 when nothing needs uploading). */
  bytes: z.number().int().min(0),
  total: z.number().int().min(0),
  /** 0–100 over the whole deploy. */
  percent: z.number().min(0).max(100),
  /** What the `stage` step is doing now (its log line). */
  detail: z.string().max(1000).optional(),
});
export type DeployProgress = z.infer<typeof DeployProgress>;

/** What `machines.deploy` did: the agent the machine runs now, and what it cost (uploads, restarts, time). */
export const DeployReport = z.strictObject({
  machine: MachineName,
  arch: z.enum(['x64', 'arm64']),
  buildId: z.string().max(128),
  runtimeId: z.string().max(128),
  agentId: z.string().max(128),
  uploaded: z.array(z.enum(['runtime', 'agent'])).max(2),
  uploadedBytes: z.number().int().nonnegative(),
  restarted: z.boolean(),
  removed: z.array(z.string().max(4096)).max(1024),
  deployMs: z.number().nonnegative(),
  timings: z.record(z.string().max(64), z.number()),
});
export type DeployReport = z.infer<typeof DeployReport>;

/** A line of `vagrant up`/`halt`/`destroy` output, as it comes (`vagrant --machine-readable` ui lines). */
export const VagrantProgress = z.strictObject({
  machine: MachineName,
  action: z.enum(['up', 'halt', 'destroy', 'box']),
  /** `info`, `output`, `detail`, `error` (Vagrant's ui kinds), or `action` for its step markers. */
  kind: z.string().max(32),
  text: z.string().max(16_384),
});
export type VagrantProgress = z.infer<typeof VagrantProgress>;

/** A container's published port forwarded to this computer's 127.0.0.1, or why it could not be. */
export const PortForwardState = z.strictObject({
  machine: MachineName,
  container: z.string().max(128),
  hostPort: z.number().int().min(1).max(65535),
  containerPort: z.number().int().min(1).max(65535),
  /** Where it answers on this computer. */
  localAddress: z.string().max(64),
  state: z.enum(['open', 'closed', 'conflict']),
  error: z.string().max(4096).optional(),
});
export type PortForwardState = z.infer<typeof PortForwardState>;

/** A file from this computer being copied onto a machine (e.g. for `image import`). */
export const UploadProgress = z.strictObject({
  machine: MachineName,
  /** The file's base name here. */
  file: z.string().max(4096),
  bytes: z.number().int().min(0),
  total: z.number().int().min(0),
});
export type UploadProgress = z.infer<typeof UploadProgress>;

export const HostKeyPromptEvent = z.strictObject({ type: z.literal('machine.hostKeyPrompt'), ...HostKeyPrompt.shape });
export const SecretPromptEvent = z.strictObject({ type: z.literal('machine.secretPrompt'), ...SecretPrompt.shape });
export const DeployProgressEvent = z.strictObject({ type: z.literal('machine.deploy'), ...DeployProgress.shape });
export const PortForwardEvent = z.strictObject({ type: z.literal('machine.portForward'), ...PortForwardState.shape });
export const UploadProgressEvent = z.strictObject({ type: z.literal('machine.upload'), ...UploadProgress.shape });
export const VagrantProgressEvent = z.strictObject({ type: z.literal('machine.vagrant'), ...VagrantProgress.shape });

/** A step of launching, starting or stopping an EC2 instance (`importing key pair`, `waiting for running`, …). */
export const Ec2Progress = z.strictObject({ machine: MachineName, step: z.string().max(200) });
export const Ec2ProgressEvent = z.strictObject({ type: z.literal('machine.ec2'), ...Ec2Progress.shape });
