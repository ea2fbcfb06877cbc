// How the agent daemon's Node is started, by every launcher alike (the local machine, the systemd
// unit and the background supervisor deploy writes, the tests' and the bench's daemons). The
// daemon idles most of its life beside the user's containers, so its resident memory is what a
// machine pays for it (issue 12: <= 60 MiB idle, bench case 5). Measured on an idle daemon, RSS
// at ready, Node 20 (the bench's) / Node 24 (the runtime deploy ships):
// - MALLOC_TRIM_THRESHOLD_: glibc keeps what V8's parser and compiler freed after start-up at the
//   top of its heap (its dynamic threshold grows to 64 MiB). A fixed 128 KiB gives it back:
//   -10 / -1 MiB (Node 24's ~10 MiB malloc heap is live, not free). Cost: a trim syscall now and then.
// - --max-semi-space-size=1 (MiB): V8's young generation stays at 2 x 1 MiB instead of growing to
//   2 x 4 MiB at start-up and 2 x 16 under load: -4.5 / -4.8 MiB idle, ~-30 MiB with 100
//   containers starting. Cost: more scavenges, ~0.1-0.25 s of GC in 100 concurrent starts
//   (profiles on a loaded machine), about what the cheaper forks of a smaller process save.
// - --expose-gc: the daemon settles its heap 3 s after its last request
//   (vm-assets/agent/daemon/memory-settle.ts): -4 MiB on Node 24, where V8's own memory reducer
//   did it 16-20 s later or, once, not within 90 s. Cost: `gc` is a global of the agent's own
//   process, which runs no code but ours.
// Not used: --no-opt (-4.5 MiB, but following a log flood took 52 % of a core instead of 20 %);
// --lite-mode (-13 MiB, everything interpreted); --jitless (-6.6 MiB, same);
// --optimize-for-size (-1 MiB idle).

/** Node's options, before the agent's script on the command line. */
export const AGENT_DAEMON_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--expose-gc'];

/** Environment the daemon's Node starts with (glibc reads it before any code of ours runs). */
export const AGENT_DAEMON_ENV: Readonly<Record<string, string>> = { MALLOC_TRIM_THRESHOLD_: '131072' };

/** `NAME=VALUE` words and flags for a shell script or a systemd unit: constants, checked to need no quoting. */
export function agentDaemonLaunchWords(): { env: string[]; flags: string[] } {
  const env = Object.entries(AGENT_DAEMON_ENV).map(([name, value]) => `${name}=${value}`);
  const words = [...env, ...AGENT_DAEMON_NODE_FLAGS];
  const unsafe = words.find((word) => !/^[A-Za-z0-9_=.-]+$/.test(word));
  if (unsafe !== undefined) throw new Error(`agent launch word needs quoting: ${unsafe}`);
  return { env, flags: [...AGENT_DAEMON_NODE_FLAGS] };
}
