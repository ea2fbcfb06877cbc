// `npm run bench`: every benchmark case (bench/cases/*.bench.ts, run by vitest with
// bench/vitest.config.ts — never by the test run), then the window's frame-time bench when a
// `bench:window` script exists, then bench/RESULTS.md from bench/results.json.
// Arguments are passed to vitest: `npm run bench -- 1-start` runs one case (the others' results are kept).
// Environment: BENCH_RUNS (rounds per case, default 20), BENCH_CONCURRENT (default 100), BENCH_DEPLOY_RUNS (default 3),
// BENCH_TOPOLOGY_CONTAINERS (default 200) and BENCH_TOPOLOGY_RUNS (snapshots per point, default 10).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = join(BENCH, '..');
const RESULTS_JSON = join(BENCH, 'results.json');
const RESULTS_MD = join(BENCH, 'RESULTS.md');
const WINDOW_JSON = join(BENCH, 'window-frames.results.json');
const IDLE_JSON = join(BENCH, 'idle-cost.results.json');

if (process.getuid?.() !== 0) {
  console.error('npm run bench: needs root (containers, cgroups, crun/runc, sshd)');
  process.exit(1);
}

// The peers are Debian packages (not needed by the test run, so not in build/test.sh's list).
const missing = ['runc', 'crun', 'skopeo', 'umoci', 'sshd', 'docker-registry', 'sshfs'].filter(
  (tool) => spawnSync('sh', ['-c', 'command -v "$0"', tool]).status !== 0 && !existsSync(`/usr/sbin/${tool}`),
);
if (missing.length) {
  console.error(
    `npm run bench: missing ${missing.join(', ')} (apt-get install runc crun skopeo umoci openssh-server docker-registry sshfs)`,
  );
  process.exit(1);
}

const first = (argv) => {
  const run = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  return `${run.stdout || run.stderr || ''}`.split('\n')[0].trim() || 'missing';
};
const args = process.argv.slice(2);
const previous = existsSync(RESULTS_JSON) ? JSON.parse(readFileSync(RESULTS_JSON, 'utf8')) : {};
const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
  kernel: first(['uname', '-r']),
  node: process.version,
  date: new Date().toISOString(),
  loadAtStart: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
  peers: {
    runc: first(['runc', '--version']),
    crun: first(['crun', '--version']),
    skopeo: first(['skopeo', '--version']),
    umoci: first(['umoci', '--version']),
    sshd: first(['sshd', '-V']),
  },
};
// A full run starts a fresh table; a filtered run updates its cases in the last one.
writeFileSync(RESULTS_JSON, `${JSON.stringify({ machine, cases: args.length ? (previous.cases ?? {}) : {} }, null, 2)}\n`);

const vitest = spawnSync('npx', ['vitest', 'run', '--config', 'bench/vitest.config.ts', ...args], { cwd: ROOT, stdio: 'inherit' });
let status = vitest.status ?? 1;

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
if (pkg.scripts?.['bench:window'] && args.length === 0) {
  const window = spawnSync('npm', ['run', 'bench:window'], { cwd: ROOT, stdio: 'inherit' });
  if (window.status !== 0) status = status || window.status || 1;
}

const results = JSON.parse(readFileSync(RESULTS_JSON, 'utf8'));
const windowCase = readWindowCase(WINDOW_JSON);
if (windowCase) results.cases['8-window'] = windowCase;
const idleCase = readIdleCase(IDLE_JSON);
if (idleCase) results.cases['10-idle'] = idleCase;
writeFileSync(RESULTS_JSON, `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(RESULTS_MD, render(results));
// Formatted as the repository's own Markdown is, so `npm run lint` stays green after a run.
const written = [RESULTS_MD, RESULTS_JSON, ...[WINDOW_JSON, IDLE_JSON].filter((file) => existsSync(file))];
spawnSync('npx', ['prettier', '--write', '--log-level', 'warn', ...written], { cwd: ROOT, stdio: 'inherit' });
console.log(`wrote ${RESULTS_JSON} and ${RESULTS_MD}`);
process.exit(status);

/** Case 8 from the window bench's own results file (a Playwright run, not a vitest case). */
function readWindowCase(file) {
  if (!existsSync(file)) return undefined;
  const w = JSON.parse(readFileSync(file, 'utf8'));
  const round = (value) => Math.round(value * 100) / 100;
  const summary = (values) => {
    const sorted = [...values].sort((a, b) => a - b);
    const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    const mean = sorted.reduce((sum, value) => sum + value, 0) / sorted.length;
    return { runs: sorted.length, min: round(sorted[0]), median: round(at(0.5)), p95: round(at(0.95)), mean: round(mean) };
  };
  const frames = (s) => ({ runs: s.frames, min: s.minMs, median: s.medianMs, p95: s.p95Ms, mean: s.meanMs });
  const labels = {
    listScroll: `containers table, ${w.rows} rows: frame interval while scrolling (60 px a frame)`,
    listFling: `containers table, ${w.rows} rows: frame interval while flung end to end`,
    graphPan: `topology graph, ${w.graph.containers} containers on ${w.graph.bridges} bridges: frame interval while panning`,
  };
  const variants = {};
  for (const [key, times] of Object.entries(w.firstPaintMs ?? {})) variants[`first paint: ${key}`] = summary(times);
  for (const [key, stats] of Object.entries(w.results ?? {})) variants[labels[key] ?? key] = frames(stats);
  const extra = {};
  for (const [key, stats] of Object.entries(w.results ?? {})) extra[`frames over 20 ms, ${key}`] = `${Math.round(stats.slowShare * 100)} %`;
  return {
    title: 'The window in Chromium (browser mode): first paint and frame times',
    variants,
    extra,
    notes: [
      `measured ${w.at} by \`npm run bench:window\` (bench/window-frames.ts): the built renderer served by the real browser-mode server over a stand-in host core with synthetic data, Debian's Chromium headless; 16.7 ms is one 60 Hz frame`,
      'first paint: navigation to the first animation frame with the rows (or the last container node) in the document, a fresh page per load',
    ],
  };
}

/** Case 10 from the idle-cost bench's results file (bench/idle-cost.ts, a Playwright run). */
function readIdleCase(file) {
  if (!existsSync(file)) return undefined;
  const idle = JSON.parse(readFileSync(file, 'utf8'));
  const extra = {};
  for (const [view, cost] of Object.entries(idle.views ?? {})) {
    extra[view] = `host core ${cost.hostCorePercent} % + Chromium ${cost.browserPercent} % of one core (agent ${cost.agentPercent} %)`;
  }
  return {
    title: `The window left idle on each view for ${idle.idleSeconds} s, ${idle.containers} containers running (CPU, % of one core)`,
    variants: {},
    extra,
    notes: [
      `measured ${idle.at} by \`npm run bench:window\` (bench/idle-cost.ts): \`onggi serve\` and its real local agent in a netns of the bench's own, Debian's Chromium headless; only our own processes counted (the serve process; Chromium's process tree; the agent separately)`,
      'goal: ≤ 1 % on every view, ≤ 3 % on the Stats tab (it samples every second)',
    ],
  };
}

function render({ machine: m, cases }) {
  const out = [
    '# Onggi benchmarks',
    '',
    'Written by `npm run bench` (bench/run.mjs). Every case runs its variants in the same process, warm-up first, then rounds that',
    'alternate the order of the variants so drift on the machine falls on all of them alike. Times in milliseconds.',
    '',
    `- Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB; kernel ${m.kernel}; Node ${m.node}`,
    `- Date: ${m.date}; load average at start: ${m.loadAtStart}`,
    `- Peers: ${Object.entries(m.peers)
      .map(([k, v]) => `${k} \`${v}\``)
      .join(', ')}`,
    '',
  ];
  for (const [key, c] of Object.entries(cases ?? {}).sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))) {
    out.push(`## ${key}: ${c.title}`, '');
    const variants = Object.entries(c.variants ?? {});
    if (variants.length) {
      out.push('| variant | runs | min | median | p95 | mean |', '| --- | ---: | ---: | ---: | ---: | ---: |');
      for (const [name, s] of variants) out.push(`| ${name} | ${s.runs} | ${s.min} | ${s.median} | ${s.p95} | ${s.mean} |`);
      out.push('');
    }
    for (const [k, v] of Object.entries(c.extra ?? {})) out.push(`- ${k}: ${v}`);
    for (const note of c.notes ?? []) out.push(`- _${note}_`);
    out.push('');
  }
  return `${out.join('\n').trimEnd()}\n`;
}
