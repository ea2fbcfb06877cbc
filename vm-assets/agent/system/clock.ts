// Steps the machine's clock to the desktop's when the host asks (it does so only for machines Onggi
// runs, after a VM was paused by a laptop's sleep: see shared/clock.ts). Where chronyd runs it is
// asked first (`chronyc makestep`), since it owns the clock and would otherwise slew back; when its
// sources cannot be reached (a VM without NTP) that changes nothing, and `date --set` (the
// `clock_settime` it is) does it. Both appear in the activity log as the commands they are.
import { existsSync } from 'node:fs';
import type { ClockStep } from '../../../shared/clock.js';
import { CLOCK_TOLERANCE_MS } from '../../../shared/clock.js';
import type { ActivityLog } from '../activity/activity-log.js';

const CHRONYD_PIDS = ['/run/chrony/chronyd.pid', '/var/run/chrony/chronyd.pid', '/run/chronyd.pid'];

/**
 * @param epochMs the desktop's time at `receivedAt` (its send time plus half the round trip)
 * @param receivedAt performance.now() when the request arrived: time spent here is added back
 */
export async function stepClock(activity: ActivityLog, epochMs: number, receivedAt: number): Promise<ClockStep> {
  const target = (): number => epochMs + (performance.now() - receivedAt);
  // Whole milliseconds: target() carries performance.now()'s fraction, and the contract says int.
  const before = Math.round(Date.now() - target());
  if (CHRONYD_PIDS.some((file) => existsSync(file))) {
    const chrony = await activity.run(['chronyc', 'makestep']).then(
      () => true,
      // chronyc missing, or chronyd not answering: date below still sets the clock
      () => false,
    );
    if (chrony && Math.abs(Date.now() - target()) <= CLOCK_TOLERANCE_MS) return { method: 'chronyc makestep', stepMs: -before };
  }
  // Relative (GNU date takes "+N seconds", fractional), computed at the last moment: date applies it
  // to the clock as it reads it once running, so the time it takes to start (most of a second in a
  // loaded TCG guest) does not leave the clock behind by as much, as an absolute `--set=@…` did.
  const stepS = (target() - Date.now()) / 1000;
  await activity.run(['date', '--utc', `--set=${stepS >= 0 ? '+' : ''}${stepS.toFixed(3)} seconds`]);
  return { method: 'date', stepMs: -before };
}
