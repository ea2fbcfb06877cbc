// Case 6: deploy over SSH to a loopback sshd (this machine, as root): the first deploy (runtime +
// agent uploaded, daemon started) and a second one (nothing uploaded), bytes and time. The remote
// install, run and state dirs are a temp dir of the bench's own; the daemon runs under the
// background supervisor (no systemd unit) and is stopped by pid after each round.
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AGENT_DIR, CLI } from '../../build/testing/isolated-agent.js';
import { remoteAgentEnv, stopRemoteAgents } from '../../build/testing/remote-agent.js';
import { startSshd, type Sshd } from '../../build/testing/sshd.js';
import { stageRuntime } from '../../build/runtime.mjs';
import { loadNote, record, stats } from '../harness.js';

const RUNS = Number(process.env.BENCH_DEPLOY_RUNS ?? 3);
const BUNDLES_DIR = join(AGENT_DIR, '..', 'bundles');
const isolation = remoteAgentEnv();
let sshd: Sshd;
let root: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  await stageRuntime({ arch: 'x64', outDir: BUNDLES_DIR }); // cached after the first time
  sshd = await startSshd({ env: isolation.env });
  root = await mkdtemp(join(tmpdir(), 'onggi-bench-deploy-'));
  await mkdir(join(root, 'home/.ssh'), { recursive: true });
  env = {
    ...process.env,
    ONGGI_HOME: join(root, 'data'),
    HOME: join(root, 'home'),
    ONGGI_LOCAL_RUN_DIR: join(root, 'local/run'),
    ONGGI_LOCAL_STATE_DIR: join(root, 'local/state'),
    SSH_AUTH_SOCK: '',
  };
}, 600_000);
afterAll(async () => {
  if (root) await stopRemoteAgent();
  await sshd?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

const remote = () => ({ install: join(root, 'remote/opt'), run: join(root, 'remote/run'), state: join(root, 'remote/state') });

/** Ends the supervisor and daemon the deploys started, and removes their cgroup parent. */
function stopRemoteAgent(): Promise<void> {
  return stopRemoteAgents(join(root, 'remote/run'), `${root}/remote`, isolation);
}

function onggi(...args: string[]): string {
  const run = spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8', timeout: 300_000 });
  if (run.status !== 0) throw new Error(`onggi ${args.join(' ')}: ${run.stderr}`);
  return run.stdout;
}

interface DeploySummary {
  uploaded: string[];
  uploadedBytes: number;
  deployMs: number;
  totalMs: number;
}

it('case 6: deploy over SSH to a loopback sshd, first and second', async () => {
  const r = remote();
  onggi(
    'machine', 'add', 'ssh', 'box', '--host', '127.0.0.1', '--port', String(sshd.port), '--user', 'root', '--key', sshd.userKeyPath,
    '--remote-root', r.install, '--remote-run-dir', r.run, '--remote-state-dir', r.state, '--supervisor', 'background', '--accept-new-host-key',
  ); // prettier-ignore
  const first: DeploySummary[] = [];
  const second: DeploySummary[] = [];
  for (let i = 0; i < RUNS; i += 1) {
    await stopRemoteAgent();
    await rm(join(root, 'remote'), { recursive: true, force: true });
    first.push(JSON.parse(onggi('machine', 'deploy', 'box', '--json')) as DeploySummary);
    second.push(JSON.parse(onggi('machine', 'deploy', 'box', '--json')) as DeploySummary);
  }
  expect(first.every((d) => d.uploaded.length === 2)).toBe(true);
  expect(second.every((d) => d.uploadedBytes === 0)).toBe(true);
  record('6-deploy', {
    title: 'Deploy over SSH to a loopback sshd',
    variants: {
      'first deploy (deploy steps)': stats(first.map((d) => d.deployMs)),
      'first deploy (with connect)': stats(first.map((d) => d.totalMs)),
      'second deploy (deploy steps)': stats(second.map((d) => d.deployMs)),
      'second deploy (with connect)': stats(second.map((d) => d.totalMs)),
    },
    extra: {
      'first deploy bytes': first[0]?.uploadedBytes ?? NaN,
      'second deploy bytes': second[0]?.uploadedBytes ?? NaN,
    },
    notes: [loadNote(), 'times reported by `onggi machine deploy --json`'],
  });
}, 1_200_000);
