// The container detail's Processes tab (`top`: each process numbered in the container and on the
// machine) and Changes tab (`diff`: what the container added, changed and deleted), and the
// Pause/Resume button of its header.
import { useEffect, useState } from 'react';
import type { ContainerProcess, FileChange } from '../../../../shared/container-verbs.js';
import type { ContainerSummary } from '../../../../shared/containers.js';
import { errorMessage } from '../../../../shared/errors.js';
import { Icon } from '../../components/icons';
import { useT } from '../../i18n';
import { useClient, useContainers, useHost } from '../../stores';
import { useToasts } from '../../stores/toasts';

/** One read of `method` for the container, again on refresh or when it restarts. */
function useRead<T>(read: () => Promise<T>, key: string): { data?: T; error?: string; loading: boolean; reload: () => void } {
  const online = useHost((state) => state.connection === 'open');
  const [round, setRound] = useState(0);
  const [answer, setAnswer] = useState<{ key: string; data?: T; error?: string }>({ key: '' });
  const wanted = `${key}\n${round}`;
  useEffect(() => {
    if (!online) return;
    let current = true;
    read().then(
      (data) => current && setAnswer({ key: wanted, data }),
      (error: unknown) => current && setAnswer({ key: wanted, error: errorMessage(error) }),
    );
    return () => {
      current = false;
    };
    // `read` is rebuilt each render; `wanted` says when to read again.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [wanted, online]);
  return { ...(answer.key === wanted ? answer : {}), loading: answer.key !== wanted, reload: () => setRound((value) => value + 1) };
}

function Toolbar({ hint, loading, reload }: { hint: string; loading: boolean; reload: () => void }) {
  const t = useT();
  return (
    <div className="toolbar">
      <span className="muted">{hint}</span>
      <span className="toolbar-spacer" />
      <button type="button" className="button button--small" onClick={reload} disabled={loading}>
        <Icon name="refresh" size={14} className={loading ? 'spin' : undefined} />
        {t('common.refresh')}
      </button>
    </div>
  );
}

function Failure({ message }: { message: string }) {
  return (
    <div className="callout callout--bad" role="alert">
      <Icon name="alert" />
      <p>{message}</p>
    </div>
  );
}

export function ProcessesTab({ machine, container }: { machine: string; container: ContainerSummary }) {
  const t = useT();
  const client = useClient();
  const running = container.state === 'running';
  const top = useRead<ContainerProcess[]>(
    async () => (running ? (await client.call('containers.top', { machine, container: container.id })).processes : []),
    `${machine}\n${container.id}\n${container.state}\n${container.startedAt ?? ''}`,
  );
  return (
    <div className="processes">
      <Toolbar hint={t('processes.hint')} loading={top.loading} reload={top.reload} />
      {!running && <p className="muted">{t('processes.notRunning')}</p>}
      {top.error !== undefined && <Failure message={top.error} />}
      {running && top.data && (
        <table className="data-table" aria-label={t('processes.label', { name: container.name })}>
          <thead>
            <tr>
              <th scope="col">{t('processes.pid')}</th>
              <th scope="col">{t('processes.hostPid')}</th>
              <th scope="col">{t('processes.ppid')}</th>
              <th scope="col">{t('processes.user')}</th>
              <th scope="col">{t('processes.command')}</th>
            </tr>
          </thead>
          <tbody>
            {top.data.map((process) => (
              <tr key={process.hostPid}>
                <td className="mono">{process.pid}</td>
                <td className="mono">{process.hostPid}</td>
                <td className="mono">{process.ppid}</td>
                <td>{process.user}</td>
                <td className="mono">{process.command}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

export function ChangesTab({ machine, container }: { machine: string; container: ContainerSummary }) {
  const t = useT();
  const client = useClient();
  const diff = useRead<FileChange[]>(
    async () => (await client.call('containers.diff', { machine, container: container.id })).changes,
    `${machine}\n${container.id}\n${container.state}`,
  );
  const kinds = { A: t('changes.added'), C: t('changes.changed'), D: t('changes.deleted') } as const;
  const tone = { A: 'ok', C: 'busy', D: 'bad' } as const;
  return (
    <div className="changes">
      <Toolbar hint={t('changes.hint')} loading={diff.loading} reload={diff.reload} />
      {diff.error !== undefined && <Failure message={diff.error} />}
      {diff.data?.length === 0 && <p className="muted">{t('changes.none')}</p>}
      {diff.data && diff.data.length > 0 && (
        <table className="data-table" aria-label={t('changes.label', { name: container.name })}>
          <tbody>
            {diff.data.map((change) => (
              <tr key={change.path}>
                <td>
                  <span className={`badge badge--${tone[change.kind]}`} title={kinds[change.kind]}>
                    {change.kind}
                  </span>
                </td>
                <td className="mono">{change.path}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

/** Pause or Resume (unpause) a running container; its row updates from the agent's answer. */
export function PauseButton({ container }: { container: ContainerSummary }) {
  const t = useT();
  const act = useContainers((state) => state.act);
  const pending = useContainers((state) => state.pending[container.id]);
  const push = useToasts((state) => state.push);
  if (container.state !== 'running') return null;
  const action = container.paused ? 'unpause' : 'pause';
  const onClick = async (): Promise<void> => {
    const [failure] = await act(action, [container.id]);
    if (failure)
      push({
        tone: 'bad',
        title: t(container.paused ? 'pause.resumeFailed' : 'pause.failed', { name: container.name }),
        detail: failure.message,
      });
  };
  return (
    <button type="button" className="button button--small" onClick={() => void onClick()} disabled={pending !== undefined}>
      <Icon name={container.paused ? 'play' : 'stop'} size={14} />
      {container.paused ? t('pause.resume') : t('pause.pause')}
    </button>
  );
}

/** `Paused`, or the health status, beside the state badge. */
export function HealthBadge({ container }: { container: ContainerSummary }) {
  const t = useT();
  if (container.state !== 'running') return null;
  if (container.paused) return <span className="badge badge--idle">{t('pause.paused')}</span>;
  if (!container.health) return null;
  const tone = { starting: 'busy', healthy: 'ok', unhealthy: 'bad' } as const;
  const last = container.health.log.at(-1);
  return (
    <span className={`badge badge--${tone[container.health.status]}`} title={last ? `${last.exitCode}: ${last.output}` : undefined}>
      {t(`health.${container.health.status}`)}
    </span>
  );
}
