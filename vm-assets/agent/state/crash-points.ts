// Fault injection for the crash-consistency suite: with ONGGI_TEST_CRASH_AT=N the agent SIGKILLs
// itself at the N-th crash point it passes (after each privileged step it records, and between
// writing a state file and renaming it into place). ONGGI_TEST_CRASH_TRACE=FILE appends one line
// per point passed, so a test can count the points of a scenario and name the one it killed at.
// Without these variables (every real deployment) a crash point costs one comparison.
import { appendFileSync } from 'node:fs';

const target = Number(process.env.ONGGI_TEST_CRASH_AT ?? '0');
const trace = process.env.ONGGI_TEST_CRASH_TRACE;
/** False in every real deployment: a caller with a costly label checks it first. */
export const crashPointsArmed = (Number.isInteger(target) && target > 0) || trace !== undefined;
let passed = 0;

export function crashPoint(label: string): void {
  if (!crashPointsArmed) return;
  passed += 1;
  if (trace !== undefined) appendFileSync(trace, `${passed} ${label.replace(/\s+/g, ' ').slice(0, 200)}\n`);
  if (passed === target) process.kill(process.pid, 'SIGKILL');
}
