// `onggi machine …`: add, list, remove machines, deploy to them, open a shell on them. Host-key
// and passphrase questions are asked on this terminal (never answered by default when there is
// none); passphrases stay in this process's memory.
import { createInterface } from 'node:readline';
import type { UsernsMode } from '../../../shared/userns.js';
import { usernsMode } from '../run-options.js';
import { Command, InvalidArgumentError, Option } from 'commander';
import { OnggiError, errorMessage } from '../../../shared/errors.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';
import type {
  Ec2MachineView,
  MachineAddEc2Params,
  MachineAddSshParams,
  MachineAddVagrantParams,
  RemoteLayout,
} from '../../../shared/machines.js';
import { UnitError, formatMemory, parseMemory } from '../../../shared/units.js';
import type { HostCore } from '../../core/host-core.js';
import type { Terminal } from '../../core/machines/machine.js';
import { keyTypeLabel } from '../../core/machines/ssh/known-hosts.js';
import type { HostKeyQuestion, MachinePrompts, SecretQuestion } from '../../core/machines/ssh/prompts.js';
import { machineDir } from '../../core/machines/vagrant/vagrant-machine.js';
import { chooseMachine } from '../../../shared/machine-choice.js';
import { printJson, withCore } from '../session.js';
import type { ContainerAttach } from '../../core/machines/agent-container-command.js';

interface AddSshOptions {
  host?: string;
  user?: string;
  port?: number;
  key?: string;
  fromSshConfig?: string;
  acceptNewHostKey?: boolean;
  clock?: 'report' | 'correct';
  remoteRoot?: string;
  remoteRunDir?: string;
  remoteStateDir?: string;
  supervisor?: RemoteLayout['supervisor'];
}

interface AddVagrantOptions {
  box?: string;
  cpus?: number;
  memory?: number;
  disk?: number;
  provider?: string;
  ip?: string;
  syncedFolder?: boolean;
  libvirtDriver?: 'kvm' | 'qemu';
  libvirtUri?: string;
  libvirtKernel?: string;
  libvirtInitrd?: string;
  libvirtCmdline?: string;
  sshSudoCommand?: string;
  sshUser?: string;
  sshKey?: string;
}

interface AddEc2Options {
  region: string;
  profile?: string;
  instance?: string;
  launch?: boolean;
  image?: 'debian-12' | 'ubuntu-24.04' | 'al2023';
  arch?: 'x64' | 'arm64';
  type?: string;
  disk?: number;
  key?: string;
  user?: string;
  idle?: number;
}

/** Where an EC2 machine is, for `machine ls`: its instance, state, type and address. */
function ec2Where(view: Ec2MachineView): string {
  const facts = [view.instanceState, view.instanceType, view.address].filter((fact) => fact !== undefined).join(', ');
  return `${view.instanceId} in ${view.region}${facts ? ` (${facts})` : ''}${view.error ? ` — ${view.error}` : ''}`;
}

/** What to say when the SSH rule no longer admits this desktop. */
function ruleOutdatedNote(view: Ec2MachineView): string | undefined {
  if (!view.ruleOutdated) return undefined;
  return `${view.name}: this computer's public address is now ${view.ruleOutdated.now}, but its SSH rule admits ${view.ruleOutdated.rule}: run \`onggi machine update-rule ${view.name}\``;
}

function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number');
  return Number(value);
}

/** `4g`, `2048m`, `512m` → MiB. */
function memoryMb(value: string): number {
  try {
    return Math.floor(parseMemory(/^\d+$/.test(value) ? `${value}m` : value) / 1024 ** 2);
  } catch (error) {
    throw new InvalidArgumentError(error instanceof UnitError ? error.message : String(error));
  }
}

/** `40g`, `40` → GB. */
function diskGb(value: string): number {
  try {
    return Math.floor(parseMemory(/^\d+$/.test(value) ? `${value}g` : value) / 1024 ** 3);
  } catch (error) {
    throw new InvalidArgumentError(error instanceof UnitError ? error.message : String(error));
  }
}

function port(value: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < 1 || number > 65535) throw new InvalidArgumentError('must be a port number from 1 to 65535');
  return number;
}

export function registerMachineCommands(program: Command): void {
  const machine = program.command('machine').description('add, list and remove machines; open a shell on one');
  const add = machine.command('add').description('add a machine');

  add
    .command('ssh')
    .description('add a Linux host reached over SSH (EC2 and any other); checks its host key and your key now, deploys on first use')
    .argument('<name>', 'a name for the machine')
    .option('--host <host>', 'host name or address')
    .option('--user <user>', 'user to log in as (root, or one with sudo: a password is asked for once when it needs one)')
    .option('--port <port>', 'SSH port', port)
    .option('--key <file>', 'private key file (a passphrase is asked for here when it has one)')
    .option('--from-ssh-config <host>', 'take host, user, port, key and ProxyJump from this Host in ~/.ssh/config')
    .option('--accept-new-host-key', "trust the host's key without asking if it is not known yet (like StrictHostKeyChecking=accept-new)")
    .addOption(
      new Option(
        '--clock <policy>',
        "correct: step the machine's clock to this computer's when it drifts over 1 s (a VM you run here); report: only show the offset",
      )
        .choices(['report', 'correct'])
        .default('report'),
    )
    .addOption(new Option('--remote-root <dir>', 'install root on the machine').hideHelp())
    .addOption(new Option('--remote-run-dir <dir>', "the agent's socket dir on the machine").hideHelp())
    .addOption(new Option('--remote-state-dir <dir>', "the agent's state dir on the machine").hideHelp())
    .addOption(new Option('--supervisor <how>', 'how the daemon is kept running').choices(['auto', 'systemd', 'background']).hideHelp())
    .action((name: string, options: AddSshOptions) =>
      withCore(async ({ api }) => {
        if (options.host === undefined && options.fromSshConfig === undefined) {
          throw new OnggiError(ErrorCode.InvalidParams, 'invalid_params', 'give --host or --from-ssh-config', 'params.host');
        }
        const remote = {
          ...(options.remoteRoot ? { installRoot: options.remoteRoot } : {}),
          ...(options.remoteRunDir ? { runDir: options.remoteRunDir } : {}),
          ...(options.remoteStateDir ? { stateDir: options.remoteStateDir } : {}),
          ...(options.supervisor ? { supervisor: options.supervisor } : {}),
        };
        const params: MachineAddSshParams = {
          provider: 'ssh',
          name,
          ...(options.host !== undefined ? { host: options.host } : {}),
          ...(options.user !== undefined ? { user: options.user } : {}),
          ...(options.port !== undefined ? { port: options.port } : {}),
          ...(options.key !== undefined ? { identityFile: options.key } : {}),
          ...(options.fromSshConfig !== undefined ? { fromSshConfig: options.fromSshConfig } : {}),
          ...(options.acceptNewHostKey ? { acceptNewHostKey: true } : {}),
          ...(options.clock ? { clock: options.clock } : {}),
          ...(Object.keys(remote).length > 0 ? { remote } : {}),
        };
        const view = await api.call('machines.add', params);
        const via = view.via.length > 0 ? ` via ${view.via.join(', ')}` : '';
        process.stdout.write(`added ${view.name}: ${view.user}@${view.host}:${view.port}${via}\n`);
      }),
    );

  add
    .command('vagrant')
    .description(
      'add a VM made by Vagrant from a Vagrantfile Onggi writes (box and provider: this computer’s defaults); `machine start` creates it',
    )
    .argument('<name>', 'a name for the machine')
    .option('--box <box>', 'the Vagrant box (default: debian/bookworm64 on x64; an arm64 box on Apple Silicon and Windows on ARM)')
    .option('--cpus <n>', 'virtual CPUs (default 2)', wholeNumber)
    .option('--memory <size>', 'memory, e.g. 4g or 2048m (default 2g)', memoryMb)
    .option('--disk <size>', 'disk size, e.g. 40g (default: the box’s)', diskGb)
    .option(
      '--provider <provider>',
      'the Vagrant provider: virtualbox (default on x64), parallels or vmware_desktop (Apple Silicon, where installed), hyperv (Windows on ARM), libvirt, …',
    )
    .option('--ip <address>', 'a private (host-only) network address for the VM')
    .option('--synced-folder', "share the machine's directory as /vagrant (off by default)")
    .addOption(new Option('--libvirt-driver <driver>', 'libvirt domain type').choices(['kvm', 'qemu']).hideHelp())
    .addOption(new Option('--libvirt-uri <uri>', 'libvirt connection URI').hideHelp())
    .addOption(new Option('--ssh-sudo-command <cmd>', "Vagrant's config.ssh.sudo_command").hideHelp())
    .addOption(new Option('--libvirt-kernel <file>', 'libvirt direct kernel boot: the kernel').hideHelp())
    .addOption(new Option('--libvirt-initrd <file>', 'libvirt direct kernel boot: the initrd').hideHelp())
    .addOption(new Option('--libvirt-cmdline <line>', 'libvirt direct kernel boot: the command line').hideHelp())
    .addOption(new Option('--ssh-user <user>', "log in as this user instead of the box's vagrant").hideHelp())
    .addOption(new Option('--ssh-key <file>', "log in with this key instead of Vagrant's").hideHelp())
    .action((name: string, options: AddVagrantOptions) =>
      withCore(async ({ api, dataDir }) => {
        const libvirt = {
          ...(options.libvirtDriver ? { driver: options.libvirtDriver } : {}),
          ...(options.libvirtUri ? { uri: options.libvirtUri } : {}),
          ...(options.libvirtKernel ? { kernel: options.libvirtKernel } : {}),
          ...(options.libvirtInitrd ? { initrd: options.libvirtInitrd } : {}),
          ...(options.libvirtCmdline ? { cmdLine: options.libvirtCmdline } : {}),
        };
        const params: MachineAddVagrantParams = {
          provider: 'vagrant',
          name,
          ...(options.box !== undefined ? { box: options.box } : {}),
          ...(options.cpus !== undefined ? { cpus: options.cpus } : {}),
          ...(options.memory !== undefined ? { memoryMb: options.memory } : {}),
          ...(options.disk !== undefined ? { diskGb: options.disk } : {}),
          ...(options.provider !== undefined ? { vagrantProvider: options.provider } : {}),
          ...(options.ip !== undefined ? { privateNetworkIp: options.ip } : {}),
          ...(options.syncedFolder ? { syncedFolder: true } : {}),
          ...(Object.keys(libvirt).length > 0 ? { libvirt } : {}),
          ...(options.sshSudoCommand !== undefined ? { sshSudoCommand: options.sshSudoCommand } : {}),
          ...(options.sshUser !== undefined ? { sshUsername: options.sshUser } : {}),
          ...(options.sshKey !== undefined ? { sshPrivateKey: options.sshKey } : {}),
        };
        const d = await api.call('machines.addVagrant', params);
        process.stdout.write(
          `added ${d.name}: ${d.box}${d.boxArchitecture ? ` (${d.boxArchitecture})` : ''} on ${d.vagrantProvider}, ${d.cpus} CPUs, ${d.memoryMb} MiB (Vagrantfile in ${machineDir(dataDir, d.name)}); start it with \`onggi machine start ${d.name}\`\n`,
        );
        if (d.note) process.stdout.write(`note: ${d.note}\n`);
      }),
    );

  add
    .command('ec2')
    .description(
      'add an EC2 instance: adopt one (--instance) or launch one (--launch); credentials come from your AWS profiles, never stored by Onggi',
    )
    .argument('<name>', 'a name for the machine')
    .requiredOption('--region <region>', 'the AWS region, e.g. eu-central-1')
    .option('--profile <profile>', 'the profile of ~/.aws/config to use (default: AWS_PROFILE or the default chain)')
    .option('--instance <id>', 'adopt this instance (i-…)')
    .option('--launch', 'launch a new instance (a key pair and a security group admitting only SSH from your public address are made)')
    .addOption(new Option('--image <image>', 'the image to launch').choices(['debian-12', 'ubuntu-24.04', 'al2023']))
    .addOption(new Option('--arch <arch>', 'the architecture to launch').choices(['x64', 'arm64']))
    .option('--type <type>', 'the instance type (default t3.small; t4g.small for arm64)')
    .option('--disk <size>', 'root disk size, e.g. 20 or 40g (default 20 GB)', diskGb)
    .option('--key <file>', 'your private key (its .pub is imported on launch; default ~/.ssh/id_ed25519, then ~/.ssh/id_rsa)')
    .option('--user <user>', 'the user to log in as on an adopted instance (default ec2-user)')
    .option('--idle <minutes>', 'stop the instance after this many idle minutes (0: never; default 60)', wholeNumber)
    .action((name: string, options: AddEc2Options) =>
      withCore(async ({ api }) => {
        if ((options.instance === undefined) === !options.launch) {
          throw new OnggiError(
            ErrorCode.InvalidParams,
            'invalid_params',
            'give either --instance i-… (adopt) or --launch',
            'params.instance',
          );
        }
        const launchOnly = { image: options.image, arch: options.arch, type: options.type, disk: options.disk };
        if (!options.launch && Object.values(launchOnly).some((value) => value !== undefined)) {
          throw new OnggiError(
            ErrorCode.InvalidParams,
            'invalid_params',
            '--image, --arch, --type and --disk go with --launch',
            'params.launch',
          );
        }
        const params: MachineAddEc2Params = {
          provider: 'ec2',
          name,
          region: options.region,
          ...(options.profile !== undefined ? { profile: options.profile } : {}),
          ...(options.instance !== undefined ? { instance: options.instance } : {}),
          ...(options.launch
            ? {
                launch: {
                  ...(options.image ? { image: options.image } : {}),
                  ...(options.arch ? { arch: options.arch } : {}),
                  ...(options.type ? { instanceType: options.type } : {}),
                  ...(options.disk !== undefined ? { diskGb: options.disk } : {}),
                },
              }
            : {}),
          ...(options.key !== undefined ? { identityFile: options.key } : {}),
          ...(options.user !== undefined ? { user: options.user } : {}),
          ...(options.idle !== undefined ? { idleMinutes: options.idle } : {}),
        };
        const off = api.onEvent((event) => {
          if (event.type === 'machine.ec2' && event.machine === name) process.stderr.write(`${event.step}\n`);
        });
        try {
          const view = await api.call('machines.addEc2', params);
          process.stdout.write(
            `added ${view.name}: ${view.launched ? 'launched' : 'adopted'} ${ec2Where(view)}, ${view.user}@; it connects on first use (or \`onggi machine deploy ${view.name}\`)\n`,
          );
        } finally {
          off();
        }
      }),
    );

  machine
    .command('update-rule')
    .description("point an EC2 machine's SSH rule at this computer's public address now (the old address is revoked)")
    .argument('<name>')
    .action((name: string) =>
      withCore(async ({ api }) => {
        const { cidr } = await api.call('machines.updateEc2Rule', { machine: name });
        process.stdout.write(`${name}: SSH admitted from ${cidr} only\n`);
      }),
    );

  machine
    .command('start')
    .description('start a Vagrant machine (`vagrant up`: created and provisioned the first time) or an EC2 instance')
    .argument('<name>')
    .action((name: string) =>
      withCore(async ({ api }) => {
        const off = api.onEvent((event) => {
          if (event.type === 'machine.vagrant' && event.machine === name && event.kind !== 'action') {
            process.stderr.write(`${event.text}\n`);
          }
          if (event.type === 'machine.ec2' && event.machine === name) process.stderr.write(`${event.step}\n`);
        });
        try {
          const { state } = await api.call('machines.start', { machine: name });
          process.stdout.write(`${name}: ${state}\n`);
        } finally {
          off();
        }
      }),
    );

  machine
    .command('stop')
    .description('stop a Vagrant machine (`vagrant halt`) or an EC2 instance (its disk stays; it no longer bills for compute)')
    .argument('<name>')
    .action((name: string) =>
      withCore(async ({ api }) => {
        await api.call('machines.stop', { machine: name });
        process.stdout.write(`${name}: stopped\n`);
      }),
    );

  machine
    .command('ls')
    .description('list machines')
    .option('--json', 'print JSON')
    .action((options: { json?: boolean }) =>
      withCore(async ({ api, dataDir }) => {
        const summaries = await api.call('machines.list', {});
        // An unreadable machines.json: the machines that could be read are still listed, then why the others are not.
        let problem: unknown;
        const described = await api.call('machines.describe', {}).catch((error: unknown) => {
          problem = error;
          return [];
        });
        const views = new Map(described.map((view) => [view.name, view]));
        // The machine a command without --machine would act on here (shared/machine-choice.ts), marked as Docker marks its context.
        const { machine: lastUsed } = await api.call('machines.lastUsed', {});
        const current = chooseMachine({ env: process.env.ONGGI_MACHINE, lastUsed, machines: summaries }).machine;
        if (options.json) {
          const ssh = (name: string) => {
            const view = views.get(name);
            return view?.provider === 'ssh' || view?.provider === 'ec2' ? view : {};
          };
          printJson(summaries.map((summary) => ({ ...summary, ...ssh(summary.name), current: summary.name === current })));
          return;
        }
        const rows = summaries.map((summary) => {
          const view = views.get(summary.name);
          const where =
            view?.provider === 'ssh'
              ? `${view.user}@${view.host}:${view.port}${view.via.length ? ` via ${view.via.join(',')}` : ''}`
              : view?.provider === 'vagrant'
                ? `${view.box} (${view.vagrantProvider}) in ${machineDir(dataDir, view.name)}`
                : view?.provider === 'ec2'
                  ? ec2Where(view)
                  : 'this host';
          return [summary.name, summary.provider, summary.state, where, summary.name === current ? '*' : ''];
        });
        process.stdout.write(table([['NAME', 'PROVIDER', 'STATE', 'WHERE', 'CURRENT'], ...rows]));
        for (const view of described) {
          const note = view.provider === 'ec2' ? ruleOutdatedNote(view) : undefined;
          if (note) process.stderr.write(`note: ${note}\n`);
        }
        if (problem !== undefined) process.stderr.write(`onggi: ${errorMessage(problem)}\n`);
      }),
    );

  machine
    .command('use')
    .description('act on this machine from now on when a command has no --machine (the window’s picker remembers the same choice)')
    .argument('<name>')
    .action((name: string) =>
      withCore(async ({ api }) => {
        await api.call('machines.use', { machine: name });
        process.stdout.write(`using ${name}\n`);
      }),
    );

  machine
    .command('share')
    .description(
      'let a machine see a folder of this computer (containers there bind it with -v FOLDER:PATH); only shared folders are reachable',
    )
    .argument('<name>', 'the machine')
    .argument('<path>', 'a folder of this computer (~/app, C:\\Users\\me\\app)')
    .option('--read-only', 'the machine may read it, never write')
    .action((name: string, path: string, options: { readOnly?: boolean }) =>
      withCore(async ({ api }) =>
        printShares(await api.call('machines.share', { machine: name, path, readOnly: options.readOnly === true })),
      ),
    );

  machine
    .command('unshare')
    .description('stop sharing a folder of this computer with a machine (a container using it sees it go)')
    .argument('<name>', 'the machine')
    .argument('<path>', 'a shared folder')
    .action((name: string, path: string) =>
      withCore(async ({ api }) => printShares(await api.call('machines.unshare', { machine: name, path }))),
    );

  machine
    .command('shares')
    .description('the folders of this computer a machine may see')
    .argument('<name>', 'the machine')
    .option('--json', 'print JSON')
    .action((name: string, options: { json?: boolean }) =>
      withCore(async ({ api }) => {
        const shares = await api.call('machines.shares', { machine: name });
        if (options.json) printJson(shares);
        else printShares(shares);
      }),
    );

  machine
    .command('config')
    .description(
      "a machine's settings: the default log rotation and --userns for containers created from now on (without options: show them)",
    )
    .argument('<name>')
    .option('--log-max-size <size>', 'rotate a container log past this size, e.g. 10m')
    .option('--log-max-files <n>', 'log files kept per container, the current one included')
    .option('--userns <mode>', 'the default --userns for containers created from now on: auto or host', usernsMode)
    .action((name: string, options: { logMaxSize?: string; logMaxFiles?: string; userns?: UsernsMode }) =>
      withCore(async ({ api }) => {
        const change = {
          ...(options.logMaxSize !== undefined ? { maxSize: options.logMaxSize } : {}),
          ...(options.logMaxFiles !== undefined
            ? { maxFiles: /^\d+$/.test(options.logMaxFiles) ? Number(options.logMaxFiles) : Number.NaN }
            : {}),
        };
        const now = await api.call('containers.logDefaults', { machine: name, ...change });
        process.stdout.write(`log-max-size ${formatMemory(now.maxSize)}\nlog-max-files ${now.maxFiles}\n`);
        const userns = await api.call('containers.usernsDefault', { machine: name, ...(options.userns ? { mode: options.userns } : {}) });
        process.stdout.write(`userns ${userns.mode}\n`);
      }),
    );

  machine
    .command('rm')
    .description(
      'forget a machine (an SSH host keeps its agent and containers; a Vagrant VM is destroyed; an EC2 instance Onggi launched is terminated with its security group and key pair)',
    )
    .argument('<name>')
    .option('--terminate', 'EC2: terminate an adopted instance too')
    .action((name: string, options: { terminate?: boolean }) =>
      withCore(async ({ api }) => {
        await api.call('machines.remove', { machine: name, ...(options.terminate ? { terminate: true } : {}) });
        process.stdout.write(`${name}\n`);
      }),
    );

  machine
    .command('deploy')
    .description('connect to a machine and make sure it runs this build of the agent (uploading only what it lacks)')
    .argument('<name>')
    .option('--json', 'print what the deploy did as JSON')
    .action((name: string, options: { json?: boolean }) =>
      withCore(async ({ api }) => {
        const off = api.onEvent((event) => {
          // Staging a runtime takes minutes the first time: each step on a line of its own, terminal or not.
          if (event.type === 'machine.deploy' && event.machine === name && !options.json && event.phase === 'stage' && event.detail) {
            process.stderr.write(`${event.detail}\n`);
            return;
          }
          if (event.type === 'machine.deploy' && event.machine === name && !options.json && process.stderr.isTTY) {
            process.stderr.write(
              `\r${event.phase.padEnd(9)} ${event.percent.toFixed(0).padStart(3)}%${event.total ? ` ${(event.bytes / 1e6).toFixed(1)}/${(event.total / 1e6).toFixed(1)} MB` : ''}   `,
            );
          }
        });
        const started = performance.now();
        let deployed;
        try {
          deployed = await api.call('machines.deploy', { machine: name });
        } finally {
          off();
          if (!options.json && process.stderr.isTTY) process.stderr.write('\n');
        }
        const summary = { ...deployed, totalMs: Math.round(performance.now() - started) };
        if (options.json) printJson(summary);
        else
          process.stdout.write(
            `${name}: agent ${deployed.buildId.slice(0, 12)} on ${deployed.arch}; uploaded ${summary.uploaded.join(' + ') || 'nothing'} (${summary.uploadedBytes} bytes); ${deployed.restarted ? 'daemon (re)started' : 'daemon already current'}; ${summary.totalMs} ms\n`,
          );
      }),
    );

  machine
    .command('ssh')
    .description('open a shell on the machine (or run a command there), in this terminal')
    .argument('<name>')
    .argument('[command...]', 'a command to run instead of the login shell')
    .passThroughOptions()
    .action((name: string, commandWords: string[]) =>
      withCore(async ({ core }) => {
        const tty = Boolean(process.stdin.isTTY && process.stdout.isTTY);
        const terminal = await core.openTerminal(name, {
          tty: tty || commandWords.length === 0,
          ...(commandWords.length > 0 ? { command: commandWords } : {}),
          cols: process.stdout.columns ?? 80,
          rows: process.stdout.rows ?? 24,
          ...(process.env.TERM ? { term: process.env.TERM } : {}),
        });
        process.exitCode = await attachTerminal(terminal, { interactive: true });
      }),
    );

  machine
    .command('hosts')
    .description('the hosts ~/.ssh/config names (add one with `machine add ssh NAME --from-ssh-config HOST`)')
    .action(() =>
      withCore(async ({ api }) => {
        for (const host of await api.call('machines.sshConfigHosts', {})) process.stdout.write(`${host.alias}\n`);
      }),
    );

  for (const sub of [machine, add, ...machine.commands, ...add.commands]) sub.exitOverride().showHelpAfterError();
}

/**
 * Connects this process's terminal to a Terminal: raw mode on a TTY, window size changes
 * forwarded, stdin piped when interactive. Resolves with the exit code.
 */
export async function attachTerminal(terminal: Terminal, options: { interactive: boolean }): Promise<number> {
  const stdin = process.stdin;
  const raw = options.interactive && stdin.isTTY && process.stdout.isTTY;
  const onResize = (): void => terminal.resize(process.stdout.columns ?? 80, process.stdout.rows ?? 24);
  if (raw) {
    stdin.setRawMode(true);
    process.stdout.on('resize', onResize);
  }
  terminal.stream.pipe(process.stdout, { end: false });
  terminal.stderr?.pipe(process.stderr, { end: false });
  if (options.interactive) {
    stdin.pipe(terminal.stream);
    stdin.resume();
  } else terminal.stream.end();
  try {
    const exit = await terminal.exit;
    return exit.code ?? 1;
  } finally {
    if (options.interactive) {
      stdin.unpipe(terminal.stream);
      stdin.pause();
    }
    if (raw) {
      stdin.setRawMode(false);
      process.stdout.off('resize', onResize);
    }
  }
}

/** Runs `exec` (or `attach`) on a machine that is reached by a terminal channel rather than a local process (SSH). */
export async function execOverTerminal(
  core: HostCore,
  machine: string,
  container: string,
  command: string[],
  options: { interactive?: boolean; tty?: boolean; attach?: ContainerAttach },
): Promise<number> {
  const tty = Boolean(options.tty && process.stdout.isTTY);
  const terminal = await core.openTerminal(machine, {
    container,
    command,
    ...(options.attach ? { attach: options.attach } : {}),
    tty,
    cols: process.stdout.columns ?? 80,
    rows: process.stdout.rows ?? 24,
    ...(process.env.TERM ? { term: process.env.TERM } : {}),
  });
  return attachTerminal(terminal, { interactive: Boolean(options.interactive || options.tty) });
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows
    .map(
      (row) =>
        `${row
          .map((cell, column) => cell.padEnd(widths[column] ?? 0))
          .join('  ')
          .trimEnd()}\n`,
    )
    .join('');
}

/** Questions asked on this process's terminal; refused (with the reason printed) when there is none. */
export function terminalPrompts(): MachinePrompts {
  return {
    async hostKey(question: HostKeyQuestion) {
      const where = question.port === 22 ? question.host : `[${question.host}]:${question.port}`;
      const known =
        question.otherKnownTypes.length > 0 ? `\nOther keys are known for this host (${question.otherKnownTypes.join(', ')}).` : '';
      process.stderr.write(
        `The authenticity of host '${where}' can't be established.\n${keyTypeLabel(question.keyType)} key fingerprint is ${question.fingerprint}.${known}\n`,
      );
      if (!process.stdin.isTTY) {
        process.stderr.write('No terminal to ask on: pass --accept-new-host-key to `onggi machine add` to trust this key.\n');
        return false;
      }
      for (;;) {
        const answer = (await askLine('Are you sure you want to continue connecting (yes/no)? ')).trim().toLowerCase();
        if (answer === 'yes') return true;
        if (answer === 'no' || answer === '') return false;
        process.stderr.write('Please type yes or no.\n');
      }
    },
    async secret(question: SecretQuestion) {
      const sudo = question.kind === 'sudo-password';
      if (!process.stdin.isTTY) {
        process.stderr.write(
          sudo
            ? `No terminal to ask for the sudo password of ${question.subject} on; log in as root or allow passwordless sudo instead.\n`
            : `No terminal to ask for the passphrase of ${question.subject} on; add the key to an ssh-agent instead.\n`,
        );
        return undefined;
      }
      if (question.attempt > 1) process.stderr.write(sudo ? 'Sorry, try again.\n' : 'Wrong passphrase, try again.\n');
      const label =
        question.kind === 'key-passphrase'
          ? `Enter passphrase for key '${question.subject}': `
          : `[sudo] password for ${question.subject}: `;
      return askHidden(label);
    },
  };
}

function askLine(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  return new Promise((resolve) => {
    rl.question(question, (answer) => {
      rl.close();
      resolve(answer);
    });
    rl.once('SIGINT', () => {
      rl.close();
      resolve('');
    });
  });
}

/** Reads a line without echoing it. Ctrl-C or Ctrl-D declines. */
function askHidden(question: string): Promise<string | undefined> {
  const stdin = process.stdin;
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.resume();
  let value = '';
  return new Promise((resolve) => {
    const done = (result: string | undefined): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      for (const char of chunk.toString('utf8')) {
        if (char === '\r' || char === '\n') return done(value);
        if (char === '\u0003' || char === '\u0004') return done(undefined);
        if (char === '\u007f' || char === '\b') value = value.slice(0, -1);
        else value += char;
      }
    };
    stdin.on('data', onData);
  });
}

function printShares(shares: ReadonlyArray<{ path: string; readOnly: boolean }>): void {
  if (shares.length === 0) process.stdout.write('no shared folders\n');
  for (const share of shares) process.stdout.write(`${share.path}${share.readOnly ? ' (read-only)' : ''}\n`);
}
