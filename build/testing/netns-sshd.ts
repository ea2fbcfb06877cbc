// An SSH "machine" that is a network namespace of the test's own, joined to this computer by a
// veth pair (a /30 in RFC 2544's benchmark range, routed nowhere): its sshd, the agent a deploy
// starts there and everything that agent makes (bridge, NAT) live in the namespace. blackhole()
// DROPs the sshd's port both ways in that namespace's own iptables — a link that goes silent
// without a reset, as a laptop's Wi-Fi does — never in the machine's main tables. cleanup()
// deletes the namespace (its rules, bridge and both veth ends go with it), even after a failure.
import { spawnSync } from 'node:child_process';
import { startSshd, type Sshd } from './sshd.js';

export interface NetnsSshd {
  netns: string;
  /** The machine's address (where its sshd listens). */
  address: string;
  sshd: Sshd;
  /** Drops the sshd's traffic ('cut') or lets it through again ('restore'). */
  blackhole(action: 'cut' | 'restore'): void;
  cleanup(): Promise<void>;
}

function must(argv: string[]): void {
  const [command, ...args] = argv;
  const run = spawnSync(command ?? 'false', args, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`${argv.join(' ')}: ${run.stderr}`);
}

/** `env`: the sshd sessions' environment (e.g. the agents' cgroup parent); `hide`: as startSshd's. */
export async function startNetnsSshd(env: Record<string, string>, hide?: string): Promise<NetnsSshd> {
  const tag = Math.random().toString(36).slice(2, 7);
  const netns = `onggi-bh-${process.pid}-${tag}`;
  const veth = `obh${tag}`;
  const subnet = `198.19.${1 + Math.floor(Math.random() * 250)}`;
  const address = `${subnet}.2`;
  let sshd: Sshd | undefined;
  let cut = false;
  const rules = (port: number) => [
    ['INPUT', '-p', 'tcp', '--dport', String(port), '-j', 'DROP'],
    ['OUTPUT', '-p', 'tcp', '--sport', String(port), '-j', 'DROP'],
  ];
  const cleanup = async (): Promise<void> => {
    await sshd?.stop();
    spawnSync('ip', ['netns', 'del', netns]);
    spawnSync('ip', ['link', 'del', veth]); // gone with the netns already, unless it never got there
  };
  try {
    must(['ip', 'netns', 'add', netns]);
    must(['ip', '-n', netns, 'link', 'set', 'lo', 'up']);
    must(['ip', 'link', 'add', veth, 'type', 'veth', 'peer', 'name', `${veth}m`, 'netns', netns]);
    must(['ip', 'addr', 'add', `${subnet}.1/30`, 'dev', veth]);
    must(['ip', '-n', netns, 'addr', 'add', `${address}/30`, 'dev', `${veth}m`]);
    must(['ip', 'link', 'set', veth, 'up']);
    must(['ip', '-n', netns, 'link', 'set', `${veth}m`, 'up']);
    sshd = await startSshd({ netns: { name: netns, address }, env, ...(hide ? { hide } : {}) });
    const started = sshd;
    return {
      netns,
      address,
      sshd: started,
      blackhole(action) {
        if ((action === 'cut') === cut) return;
        for (const rule of rules(started.port))
          must(['ip', 'netns', 'exec', netns, 'iptables', '-w', action === 'cut' ? '-I' : '-D', ...rule]);
        cut = action === 'cut';
      },
      cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
