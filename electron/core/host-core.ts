// The host core: one object behind every front end (Electron IPC, browser-mode WebSocket, CLI).
// Plain Node, no Electron import. Everything arriving here is treated as untrusted and checked
// against the host API contract before any handler runs.
import { basename, join } from 'node:path';
import type { HostApi, HostEvent, HostMethod, HostParams } from '../../shared/host-api.js';
import type { ImageSummary } from '../../shared/images.js';
import { OnggiError } from '../../shared/errors.js';
import { ErrorCode } from '../../shared/jsonrpc.js';
import type { PortForwardState } from '../../shared/machines.js';
import { MACHINE_PASSTHROUGH, checkHostResult, hostMethods, type PassthroughMethod } from '../../shared/host-api.js';
import { callHandler, type Handlers } from '../../shared/rpc-dispatch.js';
import { checkoutRuntimeStager, type RuntimeStager } from './deploy/runtime-staging.js';
import { LocalMachine } from './machines/local/local-machine.js';
import type { AgentEventListener, Machine, StateListener, Terminal, TerminalOptions } from './machines/machine.js';
import type { NodeRuntime } from './machines/local/local-daemon.js';
import { MachineRegistry } from './machines/registry.js';
import type { MachinePrompts } from './machines/ssh/prompts.js';
import { SshMachines } from './machines/ssh/ssh-machines.js';
import { withShare, withoutShare } from './shares/shared-folders.js';
import type { SecretVault } from './machines/ssh/remembered-passphrases.js';
import type { VagrantCli } from './machines/vagrant/vagrant-cli.js';
import { VagrantMachines } from './machines/vagrant/vagrant-machines.js';
import { Ec2Machines, type Ec2MachinesOptions } from './machines/ec2/ec2-machines.js';
import { localAgentDirs } from './paths.js';
import { checkHostSetup } from './platform/host-setup.js';
import {
  currentFacts,
  dockerEndpoint,
  hasLocalMachine,
  type DesktopOs,
  type DockerEndpoint,
  type PlatformFacts,
} from './platform/platform.js';
import { ensureDockerContext } from './docker/docker-context.js';
import { startDockerForward, type DockerForward } from './docker/docker-forward.js';
import { SettingsStore } from './settings-store.js';
import { watchNetworkChanges } from './network-watch.js';
import { createTerminalSessions } from './terminal-sessions.js';
import { Uploads } from './uploads.js';
import { ONGGI_VERSION } from './version.js';

export interface HostCoreOptions {
  /** The data dir shared by the app, the CLI and browser mode (platform/data-dir.ts: prepareDataDir). */
  dataDir: string;
  /** The folder holding the agent bundle (agent.cjs + manifest.json). */
  agentDir: string;
  /** How to run the agent on this host. */
  nodeRuntime: NodeRuntime;
  /** Overrides for the local agent's socket dir and state root (tests). */
  localAgent?: { runDir: string; stateDir: string };
  /** The desktop's OS, architecture, environment and home (default: this process's). */
  facts?: PlatformFacts;
  /** Tests: the desktop's OS only (over `facts`). */
  platform?: DesktopOs;
  /** The staged Node runtimes for remote machines (default: <agentDir>/../bundles). */
  bundlesDir?: string;
  /** Stages a runtime a deploy needs and finds missing (default: the checkout's build/runtime.mjs; none in a packaged app). */
  stageRuntime?: RuntimeStager;
  /** Answers host-key and passphrase questions in-process (the CLI); else they are events (see `ssh`). */
  prompts?: MachinePrompts;
  /** Tests: the known_hosts files read besides Onggi's own, and ~/.ssh/config. */
  ssh?: { userKnownHosts?: string[]; config?: { file?: string; home?: string }; agentSocket?: string };
  /** The Vagrantfile template and provisioning (default: <agentDir>/../vagrant, copied there by the build). */
  vagrantTemplateDir?: string;
  /**
   * Forward remote containers' published ports to this computer's 127.0.0.1 while they run (the
   * app and browser mode: long-lived; a one-shot CLI command leaves it off).
   */
  forwardPublishedPorts?: boolean;
  /**
   * The OS keychain (Electron's safeStorage): key passphrases answered with `remember: true` are
   * kept encrypted by it. Without one (CLI, browser mode) `remember` is refused.
   */
  secretVault?: SecretVault;
  /** Tests: the vagrant command and extra environment (VAGRANT_HOME). */
  vagrant?: VagrantCli;
  /** Check remote links when this computer's addresses change (the app and browser mode: long-lived). */
  watchNetwork?: boolean;
  /** Tests: the AWS clients, where an instance's address is reached, the environment (ONGGI_PUBLIC_IP). */
  ec2?: Pick<Ec2MachinesOptions, 'clients' | 'reach' | 'env'>;
}

export interface HostCore {
  /** The untrusted entry point: any method name, any params, validated here. */
  call(method: string, params: unknown): Promise<unknown>;
  onEvent(listener: (event: HostEvent) => void): () => void;
  /** The process that runs a command inside a container on a machine (see Machine.execCommand). */
  execCommand(
    machine: string,
    container: string,
    command: readonly string[],
    options?: Parameters<Machine['execCommand']>[2],
  ): ReturnType<Machine['execCommand']>;
  /**
   * `image import` of a tarball on this computer: on a remote machine it is uploaded first (SFTP,
   * `machine.upload` progress events), imported there, and the remote copy removed.
   */
  importImageFile(
    machine: string,
    file: string,
    options: { kind?: 'auto' | 'docker-archive' | 'oci-archive' | 'rootfs'; name?: string },
  ): Promise<ImageSummary[]>;
  /**
   * A file the agent writes (`export`, `image save`) at `localPath` on this computer: the local
   * agent writes it there; a remote one writes a temporary file on its machine, copied here over
   * SFTP and removed. `produce` makes the agent write at the path it is given.
   */
  fileFromMachine(machine: string, localPath: string, produce: (path: string) => Promise<unknown>): Promise<void>;
  /** A terminal on a machine: a container command or the machine's shell (see Machine.openTerminal). */
  openTerminal(machine: string, options: TerminalOptions): Promise<Terminal>;
  /**
   * Checks every remote machine's link now and redials the dead ones: after this computer woke
   * from sleep (Electron's powerMonitor) or its network changed (network-watch.ts does that itself
   * with `watchNetwork`).
   */
  checkLinks(): Promise<void>;
  /** A machine by name, for tests that look inside one (front ends go through `call`). */
  machine(name: string): Machine;
  /** Where the machine's Docker API is offered on this desktop (whether or not it is forwarded now). */
  dockerEndpoint(machine: string): DockerEndpoint;
  /** Offers the machine's Docker API at dockerEndpoint until close (the machine is dialed per docker connection). */
  forwardDocker(machine: string, onError?: (error: unknown) => void): Promise<DockerForward>;
  close(): Promise<void>;
}

export function createHostCore(options: HostCoreOptions): HostCore {
  const listeners = new Set<(event: HostEvent) => void>();
  const emit = (event: HostEvent): void => {
    for (const listener of listeners) listener(event);
  };
  const emitState: StateListener = (machine, state, error, retryAt) =>
    emit({ type: 'machine.state', machine, state, ...(error ? { error } : {}), ...(retryAt !== undefined ? { retryAt } : {}) });
  const emitAgentEvent: AgentEventListener = (machine, event) => emit({ type: 'machine.event', machine, event });
  const baseFacts = options.facts ?? currentFacts();
  const facts: PlatformFacts = options.platform ? { ...baseFacts, os: options.platform } : baseFacts;
  const registry = new MachineRegistry();
  if (hasLocalMachine(facts)) {
    registry.add(
      new LocalMachine(
        { ...(options.localAgent ?? localAgentDirs()), agentDir: options.agentDir, nodeRuntime: options.nodeRuntime },
        emitState,
        emitAgentEvent,
      ),
    );
  }
  const bundlesDir = options.bundlesDir ?? join(options.agentDir, '..', 'bundles');
  const stageRuntime = options.stageRuntime ?? checkoutRuntimeStager(options.agentDir);
  const onPortForward = options.forwardPublishedPorts
    ? (state: PortForwardState) => emit({ type: 'machine.portForward', ...state })
    : undefined;
  // What every provider of stored machines is given alike.
  const provided = {
    facts,
    dataDir: options.dataDir,
    agentDir: options.agentDir,
    bundlesDir,
    ...(stageRuntime ? { stageRuntime } : {}),
    registry,
    onState: emitState,
    onAgentEvent: emitAgentEvent,
    ...(onPortForward ? { onPortForward } : {}),
  };
  const ssh = new SshMachines({
    ...provided,
    ...(options.prompts ? { prompts: options.prompts } : {}),
    ...(options.ssh?.userKnownHosts ? { userKnownHosts: options.ssh.userKnownHosts } : {}),
    ...(options.ssh?.config ? { sshConfig: options.ssh.config } : {}),
    // '' means no ssh-agent at all (tests), not the platform layer's candidates.
    ...(options.ssh?.agentSocket !== undefined ? { agentSocket: options.ssh.agentSocket } : {}),
    ...(options.secretVault ? { secretVault: options.secretVault } : {}),
  });
  ssh.onEvent((event) => emit(event));
  const vagrant = new VagrantMachines({
    ...provided,
    templateDir: options.vagrantTemplateDir ?? join(options.agentDir, '..', 'vagrant'),
    prompts: ssh.questions,
    onProgress: (progress) => emit({ type: 'machine.vagrant', ...progress }),
    onDeploy: (progress) => emit({ type: 'machine.deploy', ...progress }),
    onClock: (machine, clock) => emit({ type: 'machine.clock', machine, clock }),
    ...(options.vagrant ? { cli: options.vagrant } : {}),
  });
  const ec2 = new Ec2Machines({
    ...provided,
    prompts: ssh.questions,
    onProgress: (machine, step) => emit({ type: 'machine.ec2', machine, step }),
    onDeploy: (progress) => emit({ type: 'machine.deploy', ...progress }),
    onClock: (machine, clock) => emit({ type: 'machine.clock', machine, clock }),
    ...options.ec2,
  });
  /** A machine by name; an unreadable machines.json explains a name we do not know. */
  const machineNamed = (name: string): Machine => {
    if (!registry.has(name) && ssh.loadError) throw ssh.loadError;
    return registry.get(name);
  };

  /** A machine that desktop folders are shared with (any SSH-reached one; the local machine sees this computer's folders as they are). */
  const sharing = (name: string): Machine & Required<Pick<Machine, 'sharedFolders' | 'setShares' | 'resolveShare'>> => {
    const machine = machineNamed(name);
    if (machine.sharedFolders && machine.setShares && machine.resolveShare)
      return machine as Machine & Required<Pick<Machine, 'sharedFolders' | 'setShares' | 'resolveShare'>>;
    throw new OnggiError(
      ErrorCode.InvalidParams,
      'not_shareable',
      machine.provider === 'local'
        ? `"${name}" is this computer: its containers bind this computer's folders as they are, nothing needs sharing`
        : `"${name}" is a ${machine.provider} machine: it cannot share desktop folders`,
      'params.machine',
    );
  };

  /** A machine that can be started and stopped (a Vagrant VM, an EC2 instance; local and SSH hosts have nothing to start). */
  const startable = (name: string): Machine & Required<Pick<Machine, 'start' | 'stop'>> => {
    const machine = registry.has(name) ? registry.get(name) : undefined;
    if (machine?.start && machine.stop) return machine as Machine & Required<Pick<Machine, 'start' | 'stop'>>;
    if (!machine && vagrant.loadError) throw vagrant.loadError;
    const other = machine ? ` ("${name}" is neither a Vagrant nor an EC2 machine: there is nothing to start or stop)` : '';
    throw new OnggiError(ErrorCode.NotFound, 'not_found', `no Vagrant or EC2 machine named "${name}"${other}`, 'params.machine');
  };

  // The agent's own methods: the host checked the params against the same contract on arrival,
  // drops the machine name and forwards the rest; the agent checks again (it trusts no one).
  const passthrough = Object.fromEntries(
    MACHINE_PASSTHROUGH.map((method) => [
      method,
      async ({ machine, ...params }: { machine: string }) => (await machineNamed(machine).agent()).callUnchecked(method, params),
    ]),
  ) as unknown as Handlers<Pick<typeof hostMethods, PassthroughMethod>, undefined>;

  const importImageFile: HostCore['importImageFile'] = async (machine, file, importOptions) => {
    const target = machineNamed(machine);
    const params = {
      ...(importOptions.kind ? { kind: importOptions.kind } : {}),
      ...(importOptions.name ? { name: importOptions.name } : {}),
    };
    const link = await target.agent(); // deployed and answering before anything is uploaded
    // A machine that reads this computer's files in place (local) has nothing to upload.
    if (!target.upload) return link.call('images.import', { path: file, ...params });
    const uploaded = await target.upload(file, (bytes, total) =>
      emit({ type: 'machine.upload', machine, file: basename(file), bytes, total }),
    );
    try {
      return await link.call('images.import', { path: uploaded.remotePath, ...params });
    } finally {
      await uploaded.remove();
    }
  };
  const uploads = new Uploads(join(options.dataDir, 'uploads'), (machine, file, { kind, name }) =>
    importImageFile(machine, file, { ...(kind ? { kind } : {}), ...(name ? { name } : {}) }),
  );
  void uploads.reapOnce(); // what a killed host core left half-uploaded

  const settings = new SettingsStore(options.dataDir, facts);

  const terminals = createTerminalSessions((machine, terminal) => machineNamed(machine).openTerminal(terminal), emit);

  const handlers: Handlers<typeof hostMethods, undefined> = {
    'app.version': () => ({ version: ONGGI_VERSION, platform: facts.os, secretVault: ssh.remembered.available }),
    'machines.list': () => registry.list(),
    'machines.info': async ({ machine }) => {
      const named = machineNamed(machine);
      const info = await (await named.agent()).call('system.info', undefined);
      const clock = await named.clock?.();
      return clock ? { ...info, clock } : info;
    },
    'machines.add': async (params) => (await ssh.add(params)).view,
    'machines.addVagrant': async (params) => {
      const added = await vagrant.add(params);
      const chosen = vagrant.defaults(params);
      // Why this box and provider, when the user named neither.
      const note = chosen.note && params.box === undefined && params.vagrantProvider === undefined ? { note: chosen.note } : {};
      return { ...added.view(), ...note };
    },
    'machines.addEc2': async (params) => (await ec2.add(params)).view(),
    'machines.updateEc2Rule': async ({ machine }) => {
      const named = ec2.get(machine);
      if (!named) throw new OnggiError(ErrorCode.NotFound, 'not_found', `no EC2 machine named "${machine}"`, 'params.machine');
      return { cidr: await named.updateRule() };
    },
    'machines.start': async ({ machine }) => ({ state: (await startable(machine).start()).state }),
    'machines.stop': async ({ machine }) => {
      await startable(machine).stop();
      return {};
    },
    'machines.remove': async ({ machine, terminate }) => {
      if (terminate && !ec2.get(machine))
        throw new OnggiError(
          ErrorCode.InvalidParams,
          'invalid_params',
          `"${machine}" is not an EC2 machine: there is no instance to terminate`,
          'params.terminate',
        );
      if (ec2.get(machine)) {
        await ec2.remove(machine, terminate);
        await ssh.remembered.forget(machine);
      } else if (vagrant.get(machine)) {
        await vagrant.remove(machine);
        await ssh.remembered.forget(machine);
      } else await ssh.remove(machine);
      return {};
    },
    'machines.describe': async () => {
      if (ssh.loadError) throw ssh.loadError; // the machines it could not read would be missing without a word
      // What the providers say now (EC2: instance state, type, address); a failed look-up is in the view.
      await Promise.all(registry.all().map((machine) => machine.refresh?.()));
      return registry.all().flatMap((machine) => (machine.view ? [machine.view()] : []));
    },
    'machines.deploy': async ({ machine }) => {
      const target = machineNamed(machine);
      if (!target.deploy) {
        throw new OnggiError(
          ErrorCode.InvalidParams,
          'not_deployed',
          `"${machine}" runs the agent of this app in place: there is nothing to deploy`,
          'params.machine',
        );
      }
      return { machine, ...(await target.deploy()) };
    },
    'machines.answerPrompt': (params) => {
      ssh.answer(params);
      return {};
    },
    'machines.sshConfigHosts': () => ssh.configHosts(),
    'machines.lastUsed': async () => {
      const { lastMachine } = await settings.readOrDefaults();
      return lastMachine ? { machine: lastMachine } : {};
    },
    'machines.use': async ({ machine }) => {
      machineNamed(machine); // only a machine that exists is remembered
      await settings.update({ lastMachine: machine });
      return {};
    },
    'setup.check': () => checkHostSetup(facts),
    'machines.share': async ({ machine, path, readOnly }) => {
      const target = sharing(machine);
      const shares = await withShare(target.sharedFolders(), path, readOnly ?? false, facts);
      await target.setShares(shares);
      return shares;
    },
    'machines.unshare': async ({ machine, path }) => {
      const target = sharing(machine);
      const shares = withoutShare(target.sharedFolders(), path, facts, machine);
      await target.setShares(shares);
      return shares;
    },
    'machines.shares': ({ machine }) => sharing(machine).sharedFolders(),
    'machines.resolveShare': ({ machine, path }) => sharing(machine).resolveShare(path),
    'terminals.open': (params) => terminals.open(params),
    'terminals.input': ({ id, data }) => {
      terminals.input(id, data);
      return {};
    },
    'terminals.resize': ({ id, cols, rows }) => {
      terminals.resize(id, cols, rows);
      return {};
    },
    'terminals.close': ({ id }) => {
      terminals.close(id);
      return {};
    },
    'terminals.list': () => terminals.list(),
    'images.upload.begin': async ({ machine, size, kind, name }) => {
      machineNamed(machine); // an unknown machine is refused before anything is written
      return uploads.begin({ machine, size, kind, name });
    },
    'images.upload.chunk': ({ id, offset, data }) => uploads.chunk(id, offset, data),
    'images.upload.commit': ({ id }) => uploads.commit(id),
    'images.upload.abort': async ({ id }) => {
      await uploads.abort(id);
      return {};
    },
    ...passthrough,
  };

  const dockerForwards = new Set<DockerForward>();
  const checkLinks = async (): Promise<void> => {
    await Promise.all(registry.all().map((machine) => machine.verifyLink?.()));
  };
  const stopWatching = options.watchNetwork ? watchNetworkChanges(() => void checkLinks()) : undefined;
  return {
    call: (method, params) => callHandler(hostMethods, handlers, method, params, undefined),
    checkLinks,
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    execCommand: (machine, container, command, options) => machineNamed(machine).execCommand(container, command, options),
    openTerminal: (machine, terminal) => machineNamed(machine).openTerminal(terminal),
    importImageFile,
    fileFromMachine: async (machine, localPath, produce) => {
      const target = machineNamed(machine);
      await target.agent(); // deployed and answering before anything is asked of it
      if (target.download) await target.download(localPath, produce);
      else await produce(localPath);
    },
    machine: machineNamed,
    dockerEndpoint: (machine) => dockerEndpoint(facts, options.dataDir, machineNamed(machine).name),
    forwardDocker: async (machine, onError) => {
      const target = machineNamed(machine);
      const forward = await startDockerForward(target, dockerEndpoint(facts, options.dataDir, target.name), onError);
      dockerForwards.add(forward);
      // `docker context use onggi-NAME` works while it is offered (a failure there only is reported, the forward stays).
      await ensureDockerContext(facts, target.name, forward.endpoint.dockerHost).catch((error: unknown) => onError?.(error));
      return {
        endpoint: forward.endpoint,
        close: async () => {
          dockerForwards.delete(forward);
          await forward.close();
        },
      };
    },
    close: async () => {
      stopWatching?.();
      await Promise.all([...dockerForwards].map((forward) => forward.close()));
      terminals.closeAll();
      await uploads.closeAll();
      await ssh.close();
      await registry.closeAll();
    },
  };
}

/**
 * The in-process client (the CLI): the same host API the window calls, checked by the same
 * schemas — params on arrival in `call`, results here, as the window's clients check them.
 */
export function asHostApi(core: HostCore): HostApi {
  return {
    call: async <M extends HostMethod>(method: M, params: HostParams<M>) => checkHostResult(method, await core.call(method, params)),
    onEvent: (listener) => core.onEvent(listener),
  };
}
