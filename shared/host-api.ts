// The renderer↔host contract. The window, the CLI and browser mode all go through these methods;
// the host validates params on arrival whichever front end sent them.
import * as z from 'zod';
import { AgentEvent, agentMethods } from './agent-rpc.js';
import { OnggiError, invalidInput } from './errors.js';
import { ErrorCode, JsonRpcErrorObject } from './jsonrpc.js';
import {
  DeployProgressEvent,
  HostKeyPromptEvent,
  MachineAddSshParams,
  MachineAddVagrantParams,
  MachineRemoveParams,
  MachineStartResult,
  PromptAnswerParams,
  SecretPromptEvent,
  SshConfigHostView,
  SshMachineView,
  DeployReport,
  MachineView,
  VagrantMachineAdded,
  PortForwardEvent,
  UploadProgressEvent,
  VagrantProgressEvent,
  Ec2MachineView,
  Ec2ProgressEvent,
  MachineAddEc2Params,
} from './machines.js';
import { MachineClock } from './clock.js';
import { HostSetupReport } from './host-setup.js';
import { MachineName } from './names.js';
import { SystemInfo } from './system-info.js';
import { TerminalExitEvent, TerminalOutputEvent, terminalMethods } from './terminals.js';
import { uploadMethods } from './uploads.js';
import { shareMethods } from './shares.js';

export const MachineProvider = z.enum(['local', 'vagrant', 'ssh', 'ec2']);
export const MachineState = z.enum(['stopped', 'starting', 'connecting', 'deploying', 'ready', 'lost', 'error']);
export type MachineState = z.infer<typeof MachineState>;

const RetryAt = z.number().int().min(0);

export const MachineSummary = z.strictObject({
  name: MachineName,
  provider: MachineProvider,
  state: MachineState,
  /** What went wrong, in words a user can act on, when state is `error` or `lost`. */
  error: z.string().max(4096).optional(),
  /** When the next reconnect attempt is due (epoch ms), while one is scheduled. */
  retryAt: RetryAt.optional(),
});
export type MachineSummary = z.infer<typeof MachineSummary>;

export const HostEvent = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('machine.state'),
    machine: MachineName,
    state: MachineState,
    error: z.string().max(4096).optional(),
    retryAt: RetryAt.optional(),
  }),
  /** The machine's clock was measured again (or stepped): see shared/clock.ts. */
  z.strictObject({ type: z.literal('machine.clock'), machine: MachineName, clock: MachineClock }),
  /** An event a machine's agent sent (activity, pull progress, container state, followed logs). */
  z.strictObject({ type: z.literal('machine.event'), machine: MachineName, event: AgentEvent }),
  /** An SSH host's key needs the user's yes; a key passphrase or sudo password is asked for. */
  HostKeyPromptEvent,
  SecretPromptEvent,
  DeployProgressEvent,
  /** A line of `vagrant up`/`halt`/`destroy` output for a Vagrant machine. */
  VagrantProgressEvent,
  /** A step of an EC2 launch, start or stop (the auto-stop warning comes as the agent's `idle.warning`). */
  Ec2ProgressEvent,
  /** A remote container's published port was forwarded to this computer, closed, or hit a port in use here. */
  PortForwardEvent,
  /** A local file being uploaded to a machine (image import from this computer). */
  UploadProgressEvent,
  /** Output of a terminal session, and its end (see shared/terminals.ts). */
  TerminalOutputEvent,
  TerminalExitEvent,
]);
export type HostEvent = z.infer<typeof HostEvent>;

const MachineRef = z.strictObject({ machine: MachineName });

export const MachineInfo = SystemInfo.extend({ clock: MachineClock.optional() });
export type MachineInfo = z.infer<typeof MachineInfo>;

/** An agent method offered to the front ends with the machine it runs on named. */
function onMachine<Shape extends z.core.$ZodShape, R extends z.ZodType>(spec: {
  params: z.ZodObject<Shape, z.core.$strict> | z.ZodOptional<z.ZodObject<Shape, z.core.$strict>>;
  result: R;
}) {
  const params = spec.params instanceof z.ZodOptional ? spec.params.unwrap() : spec.params;
  return { params: z.strictObject({ ...params.shape, machine: MachineName }), result: spec.result };
}

const machinePassthrough = {
  'containers.create': onMachine(agentMethods['containers.create']),
  'containers.start': onMachine(agentMethods['containers.start']),
  'containers.stop': onMachine(agentMethods['containers.stop']),
  'containers.kill': onMachine(agentMethods['containers.kill']),
  'containers.remove': onMachine(agentMethods['containers.remove']),
  'containers.list': onMachine(agentMethods['containers.list']),
  'containers.inspect': onMachine(agentMethods['containers.inspect']),
  'containers.logs': onMachine(agentMethods['containers.logs']),
  'containers.wait': onMachine(agentMethods['containers.wait']),
  'containers.logDefaults': onMachine(agentMethods['containers.logDefaults']),
  'containers.usernsDefault': onMachine(agentMethods['containers.usernsDefault']),
  'containers.stats': onMachine(agentMethods['containers.stats']),
  'containers.pause': onMachine(agentMethods['containers.pause']),
  'containers.unpause': onMachine(agentMethods['containers.unpause']),
  'containers.update': onMachine(agentMethods['containers.update']),
  'containers.top': onMachine(agentMethods['containers.top']),
  'containers.diff': onMachine(agentMethods['containers.diff']),
  'containers.rename': onMachine(agentMethods['containers.rename']),
  'containers.copyFrom': onMachine(agentMethods['containers.copyFrom']),
  'containers.copyTo': onMachine(agentMethods['containers.copyTo']),
  'containers.export': onMachine(agentMethods['containers.export']),
  'images.commit': onMachine(agentMethods['images.commit']),
  'images.save': onMachine(agentMethods['images.save']),
  'activity.list': onMachine(agentMethods['activity.list']),
  'images.pull': onMachine(agentMethods['images.pull']),
  'images.import': onMachine(agentMethods['images.import']),
  'images.list': onMachine(agentMethods['images.list']),
  'images.inspect': onMachine(agentMethods['images.inspect']),
  'images.remove': onMachine(agentMethods['images.remove']),
  'images.tag': onMachine(agentMethods['images.tag']),
  'networks.create': onMachine(agentMethods['networks.create']),
  'networks.list': onMachine(agentMethods['networks.list']),
  'networks.inspect': onMachine(agentMethods['networks.inspect']),
  'networks.remove': onMachine(agentMethods['networks.remove']),
  'networks.connect': onMachine(agentMethods['networks.connect']),
  'networks.disconnect': onMachine(agentMethods['networks.disconnect']),
  'networks.probe': onMachine(agentMethods['networks.probe']),
  'topology.snapshot': onMachine(agentMethods['topology.snapshot']),
  'topology.counters': onMachine(agentMethods['topology.counters']),
  'system.df': onMachine(agentMethods['system.df']),
  'containers.prune': onMachine(agentMethods['containers.prune']),
  'images.prune': onMachine(agentMethods['images.prune']),
  'system.prune': onMachine(agentMethods['system.prune']),
  'volumes.create': onMachine(agentMethods['volumes.create']),
  'volumes.list': onMachine(agentMethods['volumes.list']),
  'volumes.inspect': onMachine(agentMethods['volumes.inspect']),
  'volumes.remove': onMachine(agentMethods['volumes.remove']),
  'volumes.prune': onMachine(agentMethods['volumes.prune']),
} as const;

/** Host methods that are the agent's own, forwarded to the named machine. */
export const MACHINE_PASSTHROUGH = Object.keys(machinePassthrough) as Array<keyof typeof machinePassthrough>;
export type PassthroughMethod = keyof typeof machinePassthrough;

export const hostMethods = {
  'app.version': {
    params: z.strictObject({}).optional(),
    result: z.strictObject({
      version: z.string().max(64),
      platform: z.string().max(32),
      /** The OS keychain can keep key passphrases (`machines.answerPrompt` with `remember`). */
      secretVault: z.boolean(),
    }),
  },
  'machines.list': { params: z.strictObject({}).optional(), result: z.array(MachineSummary).max(1024) },
  /** What the agent reads of its machine, and the machine's clock as the desktop measured it. */
  'machines.info': { params: MachineRef, result: MachineInfo },
  'machines.add': { params: MachineAddSshParams, result: SshMachineView },
  /** Stores a Vagrant machine and writes its Vagrantfile; nothing boots until `machines.start`. */
  'machines.addVagrant': { params: MachineAddVagrantParams, result: VagrantMachineAdded },
  /**
   * Adopts an EC2 instance, or launches one (key pair, a security group admitting only SSH from this
   * desktop's public address, the instance; all tagged `onggi:machine=NAME`) and waits until it runs.
   */
  'machines.addEc2': { params: MachineAddEc2Params, result: Ec2MachineView },
  /** Points the EC2 machine's SSH rule at this desktop's public address now (revokes the old /32, authorizes the new). */
  'machines.updateEc2Rule': { params: MachineRef, result: z.strictObject({ cidr: z.string().max(64) }) },
  /** `vagrant up` (created and provisioned the first time), streamed as `machine.vagrant` events; EC2: StartInstances. */
  'machines.start': { params: MachineRef, result: MachineStartResult },
  /** `vagrant halt`; EC2: StopInstances. */
  'machines.stop': { params: MachineRef, result: z.strictObject({}) },
  'machines.remove': { params: MachineRemoveParams, result: z.strictObject({}) },
  /** Where each added machine is (SSH: user, host, port, hops; Vagrant: box, provider, resources). */
  'machines.describe': { params: z.strictObject({}).optional(), result: z.array(MachineView).max(1024) },
  /** Connects and makes sure the machine runs this build of the agent (uploading only what it lacks), as `machine.deploy` events; what it did. */
  'machines.deploy': { params: MachineRef, result: DeployReport },
  'machines.answerPrompt': { params: PromptAnswerParams, result: z.strictObject({}) },
  /** The concrete Host entries of the user's ~/.ssh/config, resolved, for the add-machine dialog. */
  'machines.sshConfigHosts': { params: z.strictObject({}).optional(), result: z.array(SshConfigHostView).max(1024) },
  /**
   * The machine used last (the window's picker, `onggi machine use`), as remembered in the data
   * folder; it may name a machine removed since (see shared/machine-choice.ts).
   */
  'machines.lastUsed': { params: z.strictObject({}).optional(), result: z.strictObject({ machine: MachineName.optional() }) },
  /** Remembers a machine as the one used last; an unknown machine is refused. */
  'machines.use': { params: MachineRef, result: z.strictObject({}) },
  /** What this computer has for running a Linux VM (Vagrant, hypervisors) and what to install: the first-run welcome. */
  'setup.check': { params: z.strictObject({}).optional(), result: HostSetupReport },
  ...terminalMethods,
  ...uploadMethods,
  ...shareMethods,
  ...machinePassthrough,
} as const;

export type HostMethod = keyof typeof hostMethods;
export type HostParams<M extends HostMethod> = z.input<(typeof hostMethods)[M]['params']>;
export type HostResult<M extends HostMethod> = z.infer<(typeof hostMethods)[M]['result']>;

/** The notification method that carries a HostEvent over the browser-mode WebSocket. */
export const HOST_EVENT_METHOD = 'event';

/** A host method's result, checked against the contract by every client (the window's, the CLI's in-process one). */
export function checkHostResult<M extends HostMethod>(method: M, raw: unknown): HostResult<M> {
  const result = hostMethods[method].result.safeParse(raw);
  if (!result.success) {
    const error = invalidInput(`${method} result`, result.error, ErrorCode.InternalError);
    throw new OnggiError(
      ErrorCode.InternalError,
      'bad_result',
      `host answered ${method} with an invalid result: ${error.message}`,
      error.field,
    );
  }
  return result.data as HostResult<M>;
}

export function isHostMethod(name: string): name is HostMethod {
  return Object.hasOwn(hostMethods, name);
}

/** What every front end talks to: the Electron preload bridge, the WebSocket client, the CLI's in-process core. */
export interface HostApi {
  call<M extends HostMethod>(method: M, params: HostParams<M>): Promise<HostResult<M>>;
  onEvent(listener: (event: HostEvent) => void): () => void;
}

/**
 * What the Electron preload exposes as `window.onggi` (and nothing else). Replies are plain
 * data, not thrown errors, because Electron's IPC flattens Error objects into strings.
 */
export const BridgeReply = z.union([
  z.strictObject({ ok: z.literal(true), result: z.unknown() }),
  z.strictObject({ ok: z.literal(false), error: JsonRpcErrorObject }),
]);
export type BridgeReply = z.infer<typeof BridgeReply>;

export interface PreloadBridge {
  call(method: string, params: unknown): Promise<BridgeReply>;
  onEvent(listener: (event: unknown) => void): () => void;
  /** The native folder dialog (shared/folder-picker.ts): a BridgeReply whose result is a PickFolderResult. */
  pickFolder(request: unknown): Promise<BridgeReply>;
}

/** IPC channel names shared by electron/main and electron/preload. */
export const IPC_CALL_CHANNEL = 'onggi:call';
export const IPC_EVENT_CHANNEL = 'onggi:event';
