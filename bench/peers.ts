// The peers: an OCI bundle of the same busybox rootfs Onggi runs, and runc / crun / a bare
// unshare run on it. crun runs through bench/peer-runner.mjs in a private mount namespace.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { makeBusyboxLayer } from '../build/testing/busybox-layer.js';

export function version(argv: string[]): string {
  const run = spawnSync(argv[0] ?? 'false', argv.slice(1), { encoding: 'utf8' });
  return (run.stdout || run.stderr).split('\n')[0]?.trim() ?? 'unknown';
}

/**
 * An OCI bundle running `args` on a busybox rootfs, with the namespaces Onggi gives a container; in
 * the cgroup `cgroupParent`/peer, or without one, each container in one named for its id (crun's
 * default), for containers of the bundle running side by side.
 */
export async function makeBundle(dir: string, args: string[], cgroupParent?: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  await makeBusyboxLayer(join(dir, 'rootfs'));
  const spec = spawnSync('runc', ['spec'], { cwd: dir, encoding: 'utf8' });
  if (spec.status !== 0) throw new Error(`runc spec: ${spec.stderr}`);
  const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as {
    process: { args: string[]; terminal: boolean };
    linux: { namespaces: Array<{ type: string }>; cgroupsPath?: string };
  };
  config.process.args = args;
  config.process.terminal = false;
  const types = new Set(config.linux.namespaces.map((n) => n.type));
  for (const type of ['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup']) if (!types.has(type)) config.linux.namespaces.push({ type });
  if (cgroupParent !== undefined) config.linux.cgroupsPath = `/${cgroupParent}/peer`;
  await writeFile(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  return dir;
}

export interface PeerRunner {
  run(argv: string[]): Promise<number>;
  /** Every argv started at once; the milliseconds until the last has ended. */
  runAll(argvs: string[][]): Promise<number>;
  close(): void;
}

/** A long-lived runner inside a private mount namespace (for crun), so each run pays no unshare. */
export async function startPeerRunner(): Promise<PeerRunner> {
  const child: ChildProcessWithoutNullStreams = spawn(
    'unshare',
    ['--mount', '--propagation', 'private', process.execPath, join(__dirname, 'peer-runner.mjs')],
    { stdio: 'pipe' },
  );
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<string> => {
    const line = await lines.next();
    if (line.done) throw new Error('the peer runner ended');
    return line.value;
  };
  const first = await next();
  if (first !== 'ready') throw new Error(`peer runner: ${first}`);
  const ask = async (request: string[] | { all: string[][] }, what: string): Promise<number> => {
    child.stdin.write(`${JSON.stringify(request)}\n`);
    const answer = await next();
    if (answer.startsWith('error')) throw new Error(`${what}: ${answer}`);
    return Number(answer);
  };
  return {
    run: (argv) => ask(argv, argv.join(' ')),
    runAll: (argvs) => ask({ all: argvs }, `${argvs.length} × ${argvs[0]?.join(' ') ?? ''}`),
    close() {
      child.stdin.end();
    },
  };
}
