// A machine's connection state in words: "Deploying agent 42%", "Connection lost, retrying in 5 s",
// "Ready". The countdown needs a clock: `useNow` ticks once a second, and only while asked to, so
// a window with nothing counting down does not re-render for nothing.
import { useSyncExternalStore } from 'react';
import type { MachineState, MachineSummary } from '../../../shared/host-api.js';
import type { DeployProgress } from '../../../shared/machines.js';
import type { MessageKey, Translate } from '../i18n';

export const stateLabels: Record<MachineState, MessageKey> = {
  stopped: 'state.stopped',
  starting: 'state.starting',
  connecting: 'state.connecting',
  deploying: 'state.deploying',
  ready: 'state.ready',
  lost: 'state.lost',
  error: 'state.error',
};

/** Whole seconds until `retryAt` (never negative), or undefined when no retry is scheduled. */
export function secondsUntil(retryAt: number | undefined, now: number): number | undefined {
  return retryAt === undefined ? undefined : Math.max(0, Math.ceil((retryAt - now) / 1000));
}

/** The deploy percent to show while a machine deploys: the latest progress, 0 before the first. */
export function deployPercent(machine: MachineSummary, deploy: DeployProgress | undefined): number | undefined {
  if (machine.state !== 'deploying') return undefined;
  return Math.round(deploy?.percent ?? 0);
}

export function machineStatusText(t: Translate, machine: MachineSummary, deploy: DeployProgress | undefined, now: number): string {
  const percent = deployPercent(machine, deploy);
  if (percent !== undefined) return t('state.deployingPercent', { percent });
  const seconds = machine.state === 'lost' ? secondsUntil(machine.retryAt, now) : undefined;
  if (seconds !== undefined) return seconds > 0 ? t('state.lostRetrying', { seconds }) : t('state.lostRetryingNow');
  return t(stateLabels[machine.state]);
}

/** Whether a machine shows a countdown (and so needs `useNow` ticking). */
export function countsDown(machine: MachineSummary): boolean {
  return machine.state === 'lost' && machine.retryAt !== undefined;
}

// One clock for every countdown on screen: an interval runs only while some component listens.
let clockNow = Date.now();
const clockListeners = new Set<() => void>();
let clockTimer: ReturnType<typeof setInterval> | undefined;

function subscribeClock(listener: () => void): () => void {
  clockListeners.add(listener);
  if (clockTimer === undefined) {
    clockNow = Date.now(); // the last tick may be from long ago
    clockTimer = setInterval(() => {
      clockNow = Date.now();
      for (const each of clockListeners) each();
    }, 1000);
  }
  return () => {
    clockListeners.delete(listener);
    if (clockListeners.size === 0) {
      clearInterval(clockTimer);
      clockTimer = undefined;
    }
  };
}

const noSubscription = (): (() => void) => () => undefined;
const readClock = (): number => clockNow;

/** Date.now(), refreshed once a second while `active`; no timer runs otherwise. */
export function useNow(active: boolean): number {
  return useSyncExternalStore(active ? subscribeClock : noSubscription, readClock);
}
