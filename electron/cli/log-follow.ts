// `logs -f` that outlives the link: when the connection to the machine drops (a laptop asleep,
// Wi-Fi changed, the host's sshd restarted), the container and its log go on there; the CLI says
// so, follows again once the machine answers, from the last line it printed — `since` that line's
// time, skipping the lines at that very time it already printed — so no line is lost or repeated.
import { randomUUID } from 'node:crypto';
import type { LogEntry } from '../../shared/containers.js';
import { OnggiError } from '../../shared/errors.js';
import type { HostApi } from '../../shared/host-api.js';
import { ErrorCode } from '../../shared/jsonrpc.js';
import { isFinal } from '../core/machines/link-keeper.js';

export interface LogReadOptions {
  tail?: number;
  since?: string;
  follow: boolean;
}

/** How long to wait between attempts while the machine does not answer. */
const RETRY_MS = 1000;

/** A lost link or an unreachable machine that trying again may fix (not a refusal, not a wrong passphrase). */
export function isLinkLoss(error: unknown): boolean {
  return error instanceof OnggiError && error.code === ErrorCode.Unavailable && !isFinal(error);
}

/** Skips, after a resume, the entries at the last printed time that were printed already. */
export class ResumePoint {
  private time: string | undefined;
  private printedAtTime: string[] = [];
  private skip: string[] = [];

  /** The `since` to ask for when following again (undefined: nothing printed yet). */
  get since(): string | undefined {
    return this.time;
  }

  /** Called when following again: the next entries at `since` that match what was printed are dropped. */
  resume(): void {
    this.skip = [...this.printedAtTime];
  }

  /** The entries not yet printed, in order; remembers them as printed. */
  take(entries: readonly LogEntry[]): LogEntry[] {
    const fresh: LogEntry[] = [];
    for (const entry of entries) {
      const key = `${entry.stream}\0${entry.log}`;
      if (this.skip.length > 0 && entry.time === this.time && this.skip[0] === key) {
        this.skip.shift();
        continue;
      }
      this.skip = [];
      if (entry.time !== this.time) {
        this.time = entry.time;
        this.printedAtTime = [];
      }
      this.printedAtTime.push(key);
      fresh.push(entry);
    }
    return fresh;
  }
}

export async function followLogs(
  api: Pick<HostApi, 'call' | 'onEvent'>,
  target: { machine: string; container: string },
  options: LogReadOptions,
  print: (entries: readonly LogEntry[]) => void,
  onLinkLoss: (error: Error) => void = () => undefined,
): Promise<void> {
  const point = new ResumePoint();
  let lost = false;
  for (;;) {
    const streamId = randomUUID();
    const off = api.onEvent((event) => {
      if (event.type === 'machine.event' && event.event.type === 'container.log' && event.event.streamId === streamId)
        print(point.take(event.event.entries));
    });
    const since = point.since ?? options.since;
    try {
      const { entries } = await api.call('containers.logs', {
        ...target,
        follow: options.follow,
        streamId,
        // Following again: everything from the last printed line on, not the last N lines.
        ...(options.tail !== undefined && point.since === undefined ? { tail: options.tail } : {}),
        ...(since !== undefined ? { since } : {}),
      });
      print(point.take(entries));
      return;
    } catch (error) {
      if (!options.follow || !isLinkLoss(error)) throw error;
      if (!lost) onLinkLoss(error as Error);
      lost = true;
      point.resume();
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    } finally {
      off();
    }
  }
}
