// How the agent daemon's Node is started, by every launcher alike (the local machine, the systemd
// unit and the background supervisor deploy writes, the tests' and the bench's daemons). The
// daemon idles most of its life beside the user's containers, so its resident memory is what a
// machine pays for it (issue 12: ≤ 60 MiB idle, bench case 5). Each setting was measured on an
// idle daemon (Node 20, agent bundle of 2026-12-07, RSS):
// - MALLOC_TRIM_THRESHOLD_: glibc keeps the memory V8's parser and compiler freed after start-up
//   at the top of its heap (a dynamic threshold that grows to 64 MiB): ~10 MiB stay resident.
//   A fixed 128 KiB threshold gives it back (-10 MiB); its cost is a trim syscall now and then.
// - --max-semi-space-size=1 (MiB): V8's young generation, 2 × 4 MiB committed after start-up,
//   stays at 2 × 1 MiB (-4.5 MiB); objects that live longer than two scavenges move to the old
//   space a little sooner.
// Not used: --lite-mode (-13 MiB, but no optimizing compiler: every request runs interpreted);
// --jitless (-6 MiB, same and no WebAssembly); --single-threaded (-2 MiB, GC on the main thread).

/** Node's options, before the agent's script on the command line. */
export const AGENT_DAEMON_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];

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
