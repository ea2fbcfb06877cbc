// Machine definitions (what the host persists in <dataDir>/machines.json) and the host API
// pieces that add, remove and reach remote machines: the host-key question, the secret question
// (key passphrase, sudo password: answered, never stored), deploy progress.
import { z } from 'zod';
import { MachineName } from './names.js';

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
});
export type SshMachineDefinition = z.infer<typeof SshMachineDefinition>;
export type SshMachineDefinitionInput = z.input<typeof SshMachineDefinition>;

export const MachineDefinition = z.discriminatedUnion('provider', [SshMachineDefinition]);
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
    name: MachineName,
    host: SshHost.optional(),
    port: Port.optional(),
    user: SshUser.optional(),
    identityFile: HostFilePath.optional(),
    /** Take host, port, user, keys and ProxyJump from this ~/.ssh/config Host. */
    fromSshConfig: z.string().min(1).max(253).optional(),
    /** Accept an unknown host key without asking (once; it is then remembered), like StrictHostKeyChecking=accept-new. */
    acceptNewHostKey: z.boolean().optional(),
    remote: RemoteLayout.partial().optional(),
  })
  .refine((params) => params.host !== undefined || params.fromSshConfig !== undefined, {
    message: 'give host or fromSshConfig',
    path: ['host'],
  });
export type MachineAddSshParams = z.infer<typeof MachineAddSshParams>;

export const MachineRemoveParams = z.strictObject({ machine: MachineName });

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

/** The user's answer to a host-key or secret question. */
export const PromptAnswerParams = z.union([
  z.strictObject({ requestId: z.string().min(1).max(64), accept: z.boolean() }),
  z.strictObject({ requestId: z.string().min(1).max(64), secret: z.string().max(4096).nullable() }),
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

export const DeployPhase = z.enum(['probe', 'upload', 'install', 'start', 'handshake', 'done']);
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
});
export type DeployProgress = z.infer<typeof DeployProgress>;

export const HostKeyPromptEvent = z.strictObject({ type: z.literal('machine.hostKeyPrompt'), ...HostKeyPrompt.shape });
export const SecretPromptEvent = z.strictObject({ type: z.literal('machine.secretPrompt'), ...SecretPrompt.shape });
export const DeployProgressEvent = z.strictObject({ type: z.literal('machine.deploy'), ...DeployProgress.shape });
