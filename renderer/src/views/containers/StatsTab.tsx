// Live cpu, memory and pids, sampled once a second with containers.stats (there is no stats event
// stream: the agent reads the cgroup files when asked) while the tab is shown and the window is
// visible, each drawn against the limit the cgroup enforces. The tab is mounted only while it is
// the selected one, so leaving it stops the timer; a hidden window (minimised, another browser
// tab) stops it too, and showing it again resumes at once. CPU % is the change in the cgroup's cpu time over the change in wall
// time between two samples (both as the agent read them), so 100 % is one CPU kept busy.
import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import type { ContainerStats, ContainerSummary } from '../../../../shared/containers.js';
import { errorMessage, OnggiError } from '../../../../shared/errors.js';
import { Icon } from '../../components/icons';
import { LineChart } from '../../components/LineChart';
import { formatBytes, formatNumber, useLanguage, useT } from '../../i18n';
import { useClient, useHost } from '../../stores';

export const STATS_WINDOW = 60;
export const STATS_INTERVAL_MS = 1_000;

export interface StatsSample {
  at: number;
  cpuNs: number;
  cpuLimit: number | null;
  memory: number;
  memoryLimit: number | null;
  pids: number;
  pidsLimit: number | null;
}

export function toSample(stats: ContainerStats): StatsSample {
  return {
    at: new Date(stats.at).getTime(),
    cpuNs: stats.cpu.usageNs,
    cpuLimit: stats.cpu.limitCpus,
    memory: stats.memory.usage,
    memoryLimit: stats.memory.limit,
    pids: stats.pids.current,
    pidsLimit: stats.pids.limit,
  };
}

/** CPU % between consecutive samples: Δ cpu time / Δ wall time; the first sample has no rate. */
export function cpuPercents(samples: readonly StatsSample[]): (number | null)[] {
  return samples.map((sample, index) => {
    const previous = samples[index - 1];
    if (!previous) return null;
    const wallNs = (sample.at - previous.at) * 1e6;
    if (wallNs <= 0) return null;
    return Math.max(0, ((sample.cpuNs - previous.cpuNs) / wallNs) * 100);
  });
}

const subscribeVisibility = (changed: () => void): (() => void) => {
  document.addEventListener('visibilitychange', changed);
  return () => document.removeEventListener('visibilitychange', changed);
};

/** Whether the page is visible (not a minimised window or a background browser tab). */
export function usePageVisible(): boolean {
  return useSyncExternalStore(
    subscribeVisibility,
    () => document.visibilityState !== 'hidden',
    () => true,
  );
}

export function useContainerStats(machine: string, container: Pick<ContainerSummary, 'id' | 'state'>) {
  const client = useClient();
  const online = useHost((state) => state.connection === 'open');
  const running = container.state === 'running';
  const visible = usePageVisible();
  const [samples, setSamples] = useState<StatsSample[]>([]);
  const [error, setError] = useState<string>();
  const inFlight = useRef(false);

  useEffect(() => {
    if (!running || !online || !visible) return;
    let current = true;
    const sample = (): void => {
      // A slow machine must not pile requests up: skip a tick rather than queue it.
      if (inFlight.current) return;
      inFlight.current = true;
      client
        .call('containers.stats', { machine, container: container.id })
        .then(
          (stats) => {
            if (!current) return;
            setError(undefined);
            setSamples((previous) => [...previous, toSample(stats)].slice(-(STATS_WINDOW + 1)));
          },
          (caught: unknown) => {
            // The container ending between two ticks is not an error worth showing.
            if (current && !(caught instanceof OnggiError && caught.kind === 'not_running')) setError(errorMessage(caught));
          },
        )
        .finally(() => {
          inFlight.current = false;
        });
    };
    sample();
    const timer = setInterval(sample, STATS_INTERVAL_MS);
    return () => {
      current = false;
      clearInterval(timer);
    };
  }, [client, machine, container.id, running, online, visible]);

  return { samples, error, running };
}

export function StatsTab({ machine, container }: { machine: string; container: ContainerSummary }) {
  const t = useT();
  const language = useLanguage();
  const { samples, error, running } = useContainerStats(machine, container);
  const latest = samples[samples.length - 1];
  const cpu = cpuPercents(samples).slice(1);
  const shown = samples.slice(1);
  const percent = (value: number): string => `${formatNumber(language, value, value < 10 ? 1 : 0)} %`;
  const bytes = (value: number): string => formatBytes(language, value);
  const count = (value: number): string => formatNumber(language, Math.round(value));
  const limitLabel = (text: string): string => t('stats.limit', { value: text });

  return (
    <div className="stats">
      {!running && (
        <div className="callout callout--info" role="status">
          <Icon name="info" />
          <p>{t('stats.notRunning')}</p>
        </div>
      )}
      {error && (
        <div className="callout callout--bad" role="alert">
          <Icon name="alert" />
          <p>{t('stats.error', { message: error })}</p>
        </div>
      )}
      {running && samples.length < 2 && !error && (
        <div className="loading" role="status">
          <span className="spinner" aria-hidden="true" />
          {t('stats.waiting')}
        </div>
      )}
      <div className="charts">
        <LineChart
          title={t('stats.cpu')}
          values={cpu}
          capacity={STATS_WINDOW}
          limit={latest?.cpuLimit != null ? latest.cpuLimit * 100 : null}
          format={percent}
          floor={10}
          usageLabel={t('stats.usage')}
          noLimitLabel={t('stats.noLimit')}
          limitLabel={limitLabel}
          summary={t('stats.summary', { what: t('stats.cpu'), seconds: STATS_WINDOW })}
        />
        <LineChart
          title={t('stats.memory')}
          values={shown.map((sample) => sample.memory)}
          capacity={STATS_WINDOW}
          limit={latest?.memoryLimit ?? null}
          format={bytes}
          floor={1024 * 1024}
          usageLabel={t('stats.usage')}
          noLimitLabel={t('stats.noLimit')}
          limitLabel={limitLabel}
          summary={t('stats.summary', { what: t('stats.memory'), seconds: STATS_WINDOW })}
        />
        <LineChart
          title={t('stats.pids')}
          values={shown.map((sample) => sample.pids)}
          capacity={STATS_WINDOW}
          limit={latest?.pidsLimit ?? null}
          format={count}
          floor={5}
          usageLabel={t('stats.usage')}
          noLimitLabel={t('stats.noLimit')}
          limitLabel={limitLabel}
          summary={t('stats.summary', { what: t('stats.pids'), seconds: STATS_WINDOW })}
        />
      </div>
    </div>
  );
}
