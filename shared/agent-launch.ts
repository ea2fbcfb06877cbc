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
// - --single-threaded: V8 does its compile and GC jobs on the main thread instead of handing them to
//   its worker threads: -1 to -3 MiB anonymous (both Nodes). Cost: none seen in CPU time
//   (sequential starts, a followed log flood); a GC or compile pauses the daemon a few ms at most
//   on a heap this small.
// - From Node 22 on (V8 tiers up through Maglev; Electron's Node too), Maglev is the top tier:
//   --no-opt keeps Turbofan's ~5 MiB of machine code in the Node binary from ever being paged in
//   (file-backed 48.3 -> 43.0 MiB; two functions optimized at start-up paged it all in), and
//   --no-sparkplug drops the baseline tier's code (-1.1 MiB anonymous): hot code goes from the
//   interpreter to Maglev. Measured on the shipped Node 24, idle settled as bench case 5 does:
//   67.4 -> 62.4 (--no-opt) -> 60.6 (+ --single-threaded) -> 59.8 (+ --no-sparkplug; medians, that
//   last one 59.6-61.0 over 9 runs) MiB. Cost: a tight numeric loop runs 13 % slower than under
//   Turbofan; 100 concurrent starts took 0-15 % more agent CPU, a followed 320 MB log flood none
//   (less, within the noise of a loaded machine).
//   On Node 20 (no Maglev) the same flags would leave only the interpreter and baseline code (a
//   hot loop 10x slower): not used there.
// Not used: --lite-mode (-13 MiB, everything interpreted); --jitless (-6.6 MiB, same);
// --optimize-for-size, --v8-pool-size=1, MALLOC_ARENA_MAX=1, --max-lazy (no gain measured on top of
// the above); MALLOC_MMAP_THRESHOLD_=32768 (-1 MiB, but reading a file as a stream took 3x the CPU:
// every 64 KiB buffer became an mmap); a minified bundle (-0.3 MiB, unreadable stack traces).
// Also measured without a gain, on the shipped Node 24, idle settled as bench case 5 (A/B in one
// run, load 3-7): --minor-ms, --no-compilation-cache, UV_THREADPOOL_SIZE=2, --no-short-builtin-calls
// (its 2 MiB remap of the builtins is paid in the binary's text instead), GLIBC_TUNABLES
// tcache_count=0 / mxfast=0 (-0.2 to -1.0, noise-sized); --memory-saver-mode +0.2 to +1.6. These
// flags make Node reject its built-in code cache, but setting them at run time after the bundle's
// requires (v8.setFlagsFromString; gc through vm.runInNewContext), which keeps the cache accepted,
// cost +1.6-2.0 MiB settled: the cache's eagerly compiled functions outweigh compiling from source.
// What is left is in glibc's heap: malloc_trim(0) on a settled daemon gives back 1.5 MiB of free
// pages inside it (measured with gdb), which no trim threshold reaches and Node cannot call.

/** Node's options for every daemon, whichever its Node. */
const COMMON_FLAGS = ['--max-semi-space-size=1', '--expose-gc', '--single-threaded'];
/** Node's options for a daemon whose V8 tiers up through Maglev (Node >= 22). */
const MAGLEV_TOP_TIER_FLAGS = ['--no-opt', '--no-sparkplug'];
const MAGLEV_FROM_NODE_MAJOR = 22;

/** The Node major version deploy ships to machines (build/runtime.mjs; build/agent-launch.test.ts checks they agree). */
export const SHIPPED_NODE_MAJOR = 24;

/**
 * Node's options, before the agent's script on the command line, for a daemon on Node `nodeVersion`
 * (`process.versions.node` when it runs on this process's own binary, as the local machine's does).
 */
export function agentDaemonNodeFlags(nodeVersion: string): string[] {
  const major = Number(/^v?(\d+)\./.exec(nodeVersion)?.[1]);
  if (!Number.isInteger(major)) throw new Error(`not a Node version: ${nodeVersion}`);
  return major >= MAGLEV_FROM_NODE_MAJOR ? [...COMMON_FLAGS, ...MAGLEV_TOP_TIER_FLAGS] : [...COMMON_FLAGS];
}

/** Environment the daemon's Node starts with (glibc reads it before any code of ours runs). */
export const AGENT_DAEMON_ENV: Readonly<Record<string, string>> = { MALLOC_TRIM_THRESHOLD_: '131072' };

/**
 * `NAME=VALUE` words and flags for a shell script or a systemd unit starting the Node deploy ships:
 * constants, checked to need no quoting.
 */
export function agentDaemonLaunchWords(): { env: string[]; flags: string[] } {
  const flags = agentDaemonNodeFlags(`${SHIPPED_NODE_MAJOR}.0.0`);
  const env = Object.entries(AGENT_DAEMON_ENV).map(([name, value]) => `${name}=${value}`);
  const unsafe = [...env, ...flags].find((word) => !/^[A-Za-z0-9_=.-]+$/.test(word));
  if (unsafe !== undefined) throw new Error(`agent launch word needs quoting: ${unsafe}`);
  return { env, flags };
}
