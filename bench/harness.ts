// The benchmark harness: warm-up, then N rounds in which every variant of a case runs once, in an
// order that alternates round by round (A B C, C B A, …) so drift on a shared machine falls on
// all of them alike. Reports min / median / p95 / mean per variant, and ratios to the first.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';

export const BENCH_DIR = join(__dirname);
export const RESULTS_JSON = join(BENCH_DIR, 'results.json');

export interface Stats {
  runs: number;
  min: number;
  median: number;
  p95: number;
  mean: number;
  unit: string;
}

export interface CaseResult {
  title: string;
  /** Variant name → statistics. */
  variants: Record<string, Stats>;
  /** Free-form numbers and notes (bytes uploaded, RSS, ratios). */
  extra?: Record<string, number | string>;
  notes?: string[];
}

export function stats(samples: number[], unit = 'ms'): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
  return {
    runs: sorted.length,
    min: round(sorted[0] ?? NaN),
    median: round(at(0.5)),
    p95: round(at(0.95)),
    mean: round(sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length)),
    unit,
  };
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export type Variant = () => Promise<number | void>;

/**
 * Runs each variant `warmup` times, then `runs` alternating rounds. A variant returns its own
 * measurement in ms (e.g. timed inside the agent), or nothing to be timed from outside.
 */
export async function compare(
  variants: Record<string, Variant>,
  options: { warmup: number; runs: number },
): Promise<Record<string, Stats>> {
  const names = Object.keys(variants);
  const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const once = async (name: string): Promise<number> => {
    const started = performance.now();
    const inner = await variants[name]?.();
    return typeof inner === 'number' ? inner : performance.now() - started;
  };
  for (let i = 0; i < options.warmup; i += 1) for (const name of names) await once(name);
  for (let round = 0; round < options.runs; round += 1) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const name of order) samples[name]?.push(await once(name));
  }
  return Object.fromEntries(names.map((n) => [n, stats(samples[n] ?? [])]));
}

/** Merges one case's result into bench/results.json (other cases' results are kept). */
export function record(key: string, result: CaseResult): void {
  const all = existsSync(RESULTS_JSON) ? (JSON.parse(readFileSync(RESULTS_JSON, 'utf8')) as { cases?: Record<string, unknown> }) : {};
  all.cases = { ...(all.cases ?? {}), [key]: { ...result, measuredAt: new Date().toISOString() } };
  writeFileSync(RESULTS_JSON, `${JSON.stringify(all, null, 2)}\n`);
}

/** Load while measuring: the 1-minute load average and the core count, for the table's caveats. */
export function loadNote(): string {
  const [one] = readFileSync('/proc/loadavg', 'utf8').split(' ');
  return `load average ${one} on ${cpus().length} cores`;
}
