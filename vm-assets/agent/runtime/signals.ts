import { constants as osConstants } from 'node:os';

/** `KILL`, `SIGKILL` and `9` all name SIGKILL. */
export function normalizeSignal(signal: string): string {
  if (/^\d+$/.test(signal)) {
    const found = Object.entries(osConstants.signals).find(([, number]) => number === Number(signal));
    return found?.[0] ?? signal;
  }
  return signal.startsWith('SIG') ? signal : `SIG${signal}`;
}
