// /containers/{id}/exec, /exec/{id}/start, /exec/{id}/json, /exec/{id}/resize: the same entry as
// `agent exec` (the runtime's execSpec, run by the init helper with the container's own security
// settings), its stdio relayed over the client's hijacked connection.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { DockerExecCreate, DockerExecStart } from '../../../shared/docker-api.js';
import { ttyArgs } from '../runtime/helper-protocol.js';
import { DockerError, badRequest, notFound, unsupportedOption } from './errors.js';
import { parseJson, queryInt, sendJson } from './http-io.js';
import type { Exchange, Router } from './router.js';
import { hijackSink, responseSink } from './streams.js';

interface ExecRecord {
  id: string;
  containerId: string;
  config: DockerExecCreate;
  running: boolean;
  exitCode: number | null;
  pid: number;
  ttySize: { rows: number; cols: number } | undefined;
  /** While an attached TTY exec runs: resizes its pty (through the helper's --resize-fd). */
  resize?: (size: { rows: number; cols: number }) => void;
}

/** The helper's fd that carries resizes of an attached TTY exec (after stdin, stdout, stderr). */
const RESIZE_FD = 3;

/** Execs are remembered for inspection after they end (Docker keeps them until the container goes); bounded. */
const MAX_EXECS = 1000;
const execs = new Map<string, ExecRecord>();

function find(id: string): ExecRecord {
  const record = execs.get(id);
  if (!record) throw notFound(`No such exec instance: ${id}`);
  return record;
}

async function create(ex: Exchange): Promise<void> {
  const config = parseJson(DockerExecCreate, await ex.body());
  for (const field of ['Env', 'User', 'WorkingDir'] as const)
    if (config[field] && config[field].length)
      throw unsupportedOption(`exec ${field}`, "an exec runs with the container's own environment, user and directory");
  if (config.Privileged) throw unsupportedOption('exec Privileged');
  const container = await ex.backend.call('containers.inspect', { container: ex.params.id ?? '' });
  if (container.state !== 'running') throw new DockerError(409, `Container ${container.id} is not running`);
  const id = randomBytes(32).toString('hex');
  const [rows = 0, cols = 0] = config.ConsoleSize ?? [];
  if (execs.size >= MAX_EXECS)
    for (const [old, record] of execs)
      if (!record.running) {
        execs.delete(old);
        break;
      }
  execs.set(id, {
    id,
    containerId: container.id,
    config,
    running: false,
    exitCode: null,
    pid: 0,
    ttySize: rows && cols ? { rows, cols } : undefined,
  });
  sendJson(ex.res, 201, { Id: id });
}

async function start(ex: Exchange): Promise<void> {
  const record = find(ex.params.id ?? '');
  const body = parseJson(DockerExecStart, await ex.body());
  if (record.running || record.exitCode !== null) throw new DockerError(409, `exec ${record.id} has already been started`);
  const { helperArgs } = await ex.backend.call('containers.execSpec', { container: record.containerId });
  const tty = record.config.Tty ?? false;
  const ttySize = record.ttySize ?? { rows: 24, cols: 80 };
  const args = (resizable: boolean) => [
    ...helperArgs,
    ...ttyArgs(tty ? { tty, ttySize, ...(resizable ? { resizeFd: RESIZE_FD } : {}) } : {}),
    '--',
    ...record.config.Cmd,
  ];
  const attachStdin = record.config.AttachStdin ?? false;
  if (body.Detach) {
    const child = spawn(ex.backend.deps.helper, args(false), { stdio: 'ignore' });
    record.running = true;
    record.pid = child.pid ?? 0;
    child.once('close', (code) => Object.assign(record, { running: false, exitCode: code ?? 126 }));
    child.once('error', () => Object.assign(record, { running: false, exitCode: 126 }));
    return void ex.res.writeHead(200).end();
  }
  const sink = ex.upgrade ? hijackSink(ex.upgrade.socket, tty, ex.upgrade.pendingInput) : responseSink(ex.res, tty);
  const child = spawn(ex.backend.deps.helper, args(tty), {
    stdio: [attachStdin ? 'pipe' : 'ignore', 'pipe', 'pipe', tty ? 'pipe' : 'ignore'],
  });
  record.running = true;
  record.pid = child.pid ?? 0;
  const sizes = child.stdio[RESIZE_FD];
  if (tty && sizes && 'write' in sizes) {
    sizes.on('error', () => undefined); // the helper gone: the exec is over, nothing left to size
    record.resize = ({ rows, cols }) => void sizes.write(`${rows}x${cols}\n`);
  }
  child.stdout?.on('data', (chunk: Buffer) => sink.write('stdout', chunk));
  child.stderr?.on('data', (chunk: Buffer) => sink.write('stderr', chunk));
  if (child.stdin && sink.input) {
    const stdin = child.stdin;
    stdin.on('error', () => undefined);
    if (sink.pendingInput.length) stdin.write(sink.pendingInput);
    sink.input.on('data', (chunk: Buffer) => stdin.write(chunk));
    sink.input.once('end', () => stdin.end());
    sink.input.resume();
  }
  // The client going away ends what it started (dockerd does the same for an attached exec).
  sink.onClose(() => {
    if (record.running) child.kill('SIGKILL');
  });
  await new Promise<void>((resolve) => {
    child.once('error', () => {
      Object.assign(record, { running: false, exitCode: 126 });
      resolve();
    });
    child.once('close', (code, signal) => {
      Object.assign(record, { running: false, exitCode: code ?? (signal ? 128 + 9 : 126), resize: undefined });
      resolve();
    });
  });
  sink.end();
}

function inspect(ex: Exchange): void {
  const record = find(ex.params.id ?? '');
  const [entrypoint = '', ...args] = record.config.Cmd;
  sendJson(ex.res, 200, {
    ID: record.id,
    ContainerID: record.containerId,
    Running: record.running,
    ExitCode: record.exitCode,
    Pid: record.pid,
    OpenStdin: record.config.AttachStdin ?? false,
    OpenStdout: record.config.AttachStdout ?? false,
    OpenStderr: record.config.AttachStderr ?? false,
    CanRemove: false,
    DetachKeys: '',
    ProcessConfig: { tty: record.config.Tty ?? false, entrypoint, arguments: args, privileged: false, user: '' },
  });
}

/**
 * Before the start a resize is kept for the pty's first size; while an attached TTY exec runs it
 * goes to the helper, which resizes the pty (docker 20.10 sends the client's size only this way,
 * right after the start).
 */
function resize(ex: Exchange): void {
  const record = find(ex.params.id ?? '');
  const rows = queryInt(ex.query, 'h');
  const cols = queryInt(ex.query, 'w');
  if (!rows || !cols || rows < 1 || cols < 1 || rows > 0xffff || cols > 0xffff) throw badRequest('h and w must be positive sizes');
  if (record.exitCode !== null) throw new DockerError(409, `exec ${record.id} is not running`);
  if (record.running && !record.resize)
    throw new DockerError(
      501,
      record.config.Tty
        ? 'resizing a detached exec is not supported by Onggi (its size is set when it starts: ConsoleSize)'
        : `exec ${record.id} has no terminal to resize`,
    );
  record.ttySize = { rows, cols };
  record.resize?.(record.ttySize);
  ex.res.writeHead(200).end();
}

export function execRoutes(router: Router): void {
  router
    .add('POST', '/containers/{id}/exec', create)
    .add('POST', '/exec/{id}/start', start)
    .add('GET', '/exec/{id}/json', inspect)
    .add('POST', '/exec/{id}/resize', resize);
}
