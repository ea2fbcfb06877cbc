// The `vagrant` CLI, spawned with argv arrays in the machine's directory (never through a shell).
// `--machine-readable` output is parsed into rows (timestamp, target, type, data…) as Vagrant
// documents it: commas inside data are written `%!(VAGRANT_COMMA)`, newlines `\n`.
import { spawn } from 'node:child_process';
import { OnggiError } from '../../../../shared/errors.js';
import { ErrorCode } from '../../../../shared/jsonrpc.js';
import { currentFacts, findTool, toolEnv, virtualboxMissingHint, type PlatformFacts } from '../../platform/platform.js';

export interface MachineReadableRow {
  timestamp: number;
  /** The machine the row is about (`default`), or '' for the whole run. */
  target: string;
  type: string;
  data: string[];
}

/** Parses `vagrant … --machine-readable` output; lines that are not rows are skipped. */
export function parseMachineReadable(text: string): MachineReadableRow[] {
  const rows: MachineReadableRow[] = [];
  for (const line of text.split('\n')) {
    const row = parseMachineReadableLine(line);
    if (row) rows.push(row);
  }
  return rows;
}

export function parseMachineReadableLine(line: string): MachineReadableRow | undefined {
  const fields = line.replace(/\r$/, '').split(',');
  if (fields.length < 3 || !/^\d+$/.test(fields[0] ?? '')) return undefined;
  const [timestamp, target = '', type = '', ...data] = fields;
  return { timestamp: Number(timestamp), target, type, data: data.map(unescapeField) };
}

function unescapeField(field: string): string {
  return field.replaceAll('%!(VAGRANT_COMMA)', ',').replaceAll('\\n', '\n').replaceAll('\\r', '\r');
}

export interface VagrantStatus {
  /** Vagrant's state name: not_created, running, poweroff (virtualbox), shutoff (libvirt), saved, … */
  state: string;
  provider: string | undefined;
  /** Vagrant's one-line description of the state. */
  description: string | undefined;
}

/** The first machine's state from `vagrant status --machine-readable`. */
export function statusFromRows(rows: readonly MachineReadableRow[]): VagrantStatus {
  const state = rows.find((row) => row.type === 'state' && row.target !== '');
  if (!state?.data[0]) throw new Error('vagrant status printed no state row');
  const target = state.target;
  const field = (type: string): string | undefined => rows.find((row) => row.target === target && row.type === type)?.data[0];
  return { state: state.data[0], provider: field('provider-name'), description: field('state-human-long') };
}

/** Whether a Vagrant state means the machine is up and reachable over SSH. */
export function isRunning(state: string): boolean {
  return state === 'running';
}

/** The error Vagrant ended with (`error-exit` row): its class and message. */
export function errorFromRows(rows: readonly MachineReadableRow[]): { kind: string; message: string } | undefined {
  const row = rows.find((candidate) => candidate.type === 'error-exit');
  if (!row) return undefined;
  return { kind: row.data[0] ?? 'unknown', message: (row.data[1] ?? '').trim() };
}

export interface VagrantCli {
  /** The command (default `vagrant` on PATH). */
  command: string;
  /** Extra environment (VAGRANT_HOME for tests, …). */
  env: Record<string, string>;
}

export const INSTALL_VAGRANT_HINT =
  'install Vagrant (https://developer.hashicorp.com/vagrant/install; Debian/Ubuntu: apt install vagrant, macOS: brew install --cask vagrant, Windows: winget install Hashicorp.Vagrant)';

export interface VagrantRun {
  code: number | null;
  stdout: string;
  stderr: string;
  rows: MachineReadableRow[];
}

export interface RunVagrantOptions {
  cwd: string;
  /** A configured vagrant (and environment); default: found by the platform layer. */
  cli?: VagrantCli;
  /** The desktop's facts (default: this process's): where vagrant and the hypervisors are. */
  facts?: PlatformFacts;
  /** Called with each machine-readable row as it arrives (for progress). */
  onRow?: (row: MachineReadableRow) => void;
  timeoutMs?: number;
  /** Turn on Vagrant's experimental `disks` feature (config.vm.disk: the disk size on VirtualBox). */
  experimentalDisks?: boolean;
}

/**
 * Runs `vagrant ARGS` in `cwd`. Resolves with its output whatever the exit code; rejects with a
 * clear error when vagrant itself is not installed.
 */
export function runVagrant(args: readonly string[], options: RunVagrantOptions): Promise<VagrantRun> {
  const facts = options.facts ?? currentFacts();
  // A configured path wins; else PATH plus the usual install places (an app started from Finder
  // has no Homebrew on its PATH). Vagrant itself then finds VBoxManage, vmrun… on the same PATH.
  const cli = options.cli ?? { command: findTool(facts, 'vagrant') ?? 'vagrant', env: {} };
  return new Promise((resolve, reject) => {
    const child = spawn(cli.command, [...args], {
      cwd: options.cwd,
      windowsHide: true,
      env: {
        ...toolEnv(facts),
        ...(options.experimentalDisks ? { VAGRANT_EXPERIMENTAL: 'disks' } : {}),
        VAGRANT_CHECKPOINT_DISABLE: '1',
        VAGRANT_NO_COLOR: '1',
        ...cli.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let pending = '';
    const rows: MachineReadableRow[] = [];
    const timer = options.timeoutMs ? setTimeout(() => child.kill('SIGTERM'), options.timeoutMs) : undefined;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const row = parseMachineReadableLine(line);
        if (!row) continue;
        rows.push(row);
        options.onRow?.(row);
      }
    });
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    child.once('error', (error: NodeJS.ErrnoException) => {
      if (timer) clearTimeout(timer);
      reject(
        error.code === 'ENOENT'
          ? new OnggiError(ErrorCode.Unavailable, 'vagrant_missing', `vagrant was not found (${cli.command}): ${INSTALL_VAGRANT_HINT}`)
          : error,
      );
    });
    child.once('close', (code) => {
      if (timer) clearTimeout(timer);
      const last = parseMachineReadableLine(pending);
      if (last) {
        rows.push(last);
        options.onRow?.(last);
      }
      resolve({ code, stdout, stderr, rows });
    });
  });
}

/** The error to throw for a failed vagrant command: Vagrant's own message, with what to install when it is about that. */
export function vagrantFailure(action: string, run: VagrantRun, provider: string, facts: PlatformFacts = currentFacts()): OnggiError {
  const error = errorFromRows(run.rows);
  const message = error?.message || run.stderr.trim() || run.stdout.trim().split('\n').slice(-5).join('\n') || `exit ${run.code}`;
  if (/could not detect VirtualBox/i.test(message) || (provider === 'virtualbox' && error?.kind.endsWith('ProviderNotUsable'))) {
    return new OnggiError(
      ErrorCode.Unavailable,
      'virtualbox_missing',
      `vagrant ${action}: VirtualBox is not usable here: ${virtualboxMissingHint(facts)}`,
    );
  }
  if (error?.kind.endsWith('ProviderNotFound')) {
    return new OnggiError(
      ErrorCode.Unavailable,
      'vagrant_provider_missing',
      `vagrant ${action}: the provider "${provider}" is not installed (vagrant plugin install vagrant-${provider}): ${message}`,
    );
  }
  return new OnggiError(ErrorCode.OperationFailed, 'vagrant_failed', `vagrant ${action} failed: ${message}`);
}
