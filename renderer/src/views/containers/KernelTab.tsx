// What the kernel holds for this container: its namespaces (inode per kind), its cgroup and the
// limit files with their values, its overlay dirs, its mounts (a desktop folder's with the desktop
// path behind the machine's), and, beside each, the agent's own record of the steps that made it
// (activity.list for this container).
import { useEffect, useState, type ReactNode } from 'react';
import { formatActivity } from '../../../../shared/activity-format.js';
import type { ActivityEntry } from '../../../../shared/agent-rpc.js';
import type { ContainerDetail, ContainerSummary } from '../../../../shared/containers.js';
import { errorMessage } from '../../../../shared/errors.js';
import type { MachineNamespaces } from '../../../../shared/system-info.js';
import type { MountPoint } from '../../../../shared/volumes.js';
import { Icon, type IconName } from '../../components/icons';
import { formatMilliseconds, useLanguage, useT, type MessageKey } from '../../i18n';
import { activityKey } from '../../stores/activity';
import { useClient, useHost, useMachines } from '../../stores';
import type { DetailState } from './ContainerDetail';
import { SecuritySection } from './SecuritySection';

/**
 * The kernel gives its initial namespaces fixed inode numbers (include/linux/proc_ns.h). Only for
 * an agent too old to report the machine's namespaces (system.info `namespaces`) is a container
 * compared with these; mnt and net inodes are allocated, so those then cannot be compared.
 */
export const INITIAL_NAMESPACE_INODES: Readonly<Record<string, number>> = {
  ipc: 0xefffffff,
  uts: 0xeffffffe,
  user: 0xeffffffd,
  pid: 0xeffffffc,
  cgroup: 0xeffffffb,
  time: 0xeffffffa,
};

/** `agent`: the agent's own namespace of that kind, where the agent is not in the machine's. */
export type NamespaceComparison = 'shared' | 'agent' | 'own' | 'unknown';

const comparisonLabels: Record<NamespaceComparison, MessageKey> = {
  shared: 'kernel.ns.shared',
  agent: 'kernel.ns.sharedAgent',
  own: 'kernel.ns.own',
  unknown: 'kernel.ns.unknown',
};

export function compareNamespace(kind: string, inode: number, reference?: MachineNamespaces): NamespaceComparison {
  const machine = reference ? reference.machine[kind] : INITIAL_NAMESPACE_INODES[kind];
  if (machine === undefined) return 'unknown';
  if (machine === inode) return 'shared';
  return reference?.agent[kind] === inode ? 'agent' : 'own';
}

export type Concern = 'cgroup' | 'overlay' | 'other';

/** Which part of the container an activity entry made: its cgroup, its overlay, or something else. */
export function concernOf(entry: ActivityEntry, detail: Pick<ContainerDetail, 'cgroup' | 'rootfs'>): Concern {
  const words = entry.kind === 'write' ? [entry.path ?? ''] : (entry.argv ?? []);
  const cgroupDirs = detail.cgroup.paths;
  if (words.some((word) => cgroupDirs.some((dir) => word === dir || word.startsWith(`${dir}/`)))) return 'cgroup';
  if (entry.kind === 'write' && (entry.path ?? '').startsWith('/sys/fs/cgroup/')) return 'cgroup';
  const overlay = [detail.rootfs.merged, detail.rootfs.upperdir, detail.rootfs.workdir];
  if (words.includes('overlay') || words.some((word) => overlay.some((dir) => word.includes(dir)))) return 'overlay';
  return 'other';
}

function useContainerActivity(machine: string, container: ContainerSummary) {
  const client = useClient();
  const online = useHost((state) => state.connection === 'open');
  const [state, setState] = useState<{ entries: ActivityEntry[]; error?: string; loading: boolean }>({ entries: [], loading: true });
  useEffect(() => {
    if (!online) return;
    let current = true;
    client.call('activity.list', { machine, container: container.name, limit: 5000 }).then(
      (entries) => current && setState({ entries, loading: false }),
      (error: unknown) => current && setState((previous) => ({ ...previous, loading: false, error: errorMessage(error) })),
    );
    // Live entries for this container join the list as they happen.
    const off = client.onEvent((event) => {
      if (event.type !== 'machine.event' || event.machine !== machine || event.event.type !== 'activity') return;
      const entry = event.event.entry;
      if (entry.container !== container.name) return;
      setState((previous) =>
        previous.entries.some((other) => activityKey(other) === activityKey(entry))
          ? previous
          : { ...previous, entries: [...previous.entries, entry] },
      );
    });
    return () => {
      current = false;
      off();
    };
  }, [client, machine, container.name, online]);
  return state;
}

export function KernelTab({ machine, container, detail }: { machine: string; container: ContainerSummary; detail: DetailState }) {
  const t = useT();
  const activity = useContainerActivity(machine, container);
  const reference = useMachines((state) => state.info[machine]?.data?.namespaces);
  const data = detail.data;
  if (!data) {
    return detail.status === 'error' ? (
      <div className="callout callout--bad" role="alert">
        <Icon name="alert" />
        <p>{t('detail.inspectError', { message: detail.error ?? '' })}</p>
      </div>
    ) : (
      <div className="loading" role="status">
        <span className="spinner" aria-hidden="true" />
        {t('detail.loading')}
      </div>
    );
  }
  const byConcern = (concern: Concern): ActivityEntry[] => activity.entries.filter((entry) => concernOf(entry, data) === concern);
  const namespaces = data.namespaces ? Object.entries(data.namespaces).sort(([a], [b]) => a.localeCompare(b)) : null;

  return (
    <div className="kernel">
      <KernelSection icon="kernel" title={t('kernel.namespaces')}>
        {namespaces ? (
          <>
            <table className="data-table">
              <thead>
                <tr>
                  <th scope="col">{t('kernel.ns.kind')}</th>
                  <th scope="col">{t('kernel.ns.inode')}</th>
                  <th scope="col">{t('kernel.ns.comparison')}</th>
                </tr>
              </thead>
              <tbody>
                {namespaces.map(([kind, inode]) => {
                  const comparison = compareNamespace(kind, inode, reference);
                  return (
                    <tr key={kind}>
                      <th scope="row" className="mono">
                        {kind}
                      </th>
                      <td className="mono">{`${kind}:[${inode}]`}</td>
                      <td>
                        <span className={`pill pill--${comparison}`}>{t(comparisonLabels[comparison])}</span>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
            <p className="note">
              {reference ? t(reference.machineFrom === 'init' ? 'kernel.ns.noteInit' : 'kernel.ns.noteAgent') : t('kernel.ns.note')}
            </p>
          </>
        ) : (
          <p className="muted">{t('kernel.ns.notRunning')}</p>
        )}
      </KernelSection>

      <KernelSection icon="kernel" title={t('kernel.security')}>
        <SecuritySection security={data.security} profile={data.seccomp} />
      </KernelSection>

      <KernelSection icon="cgroups" title={t('kernel.cgroup', { version: data.cgroup.version })}>
        <h4 className="subhead">{t('kernel.cgroup.paths')}</h4>
        <ul className="path-list">
          {data.cgroup.paths.map((path) => (
            <li key={path} className="mono">
              {path}
            </li>
          ))}
        </ul>
        <h4 className="subhead">{t('kernel.cgroup.limits')}</h4>
        {Object.keys(data.cgroup.limits).length === 0 ? (
          <p className="muted">{t('kernel.cgroup.noLimits')}</p>
        ) : (
          <table className="data-table">
            <thead>
              <tr>
                <th scope="col">{t('kernel.cgroup.file')}</th>
                <th scope="col">{t('kernel.cgroup.value')}</th>
              </tr>
            </thead>
            <tbody>
              {Object.entries(data.cgroup.limits).map(([file, value]) => (
                <tr key={file}>
                  <th scope="row" className="mono path-cell" title={file}>
                    {file}
                  </th>
                  <td className="mono">{value}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <ActivityList title={t('kernel.madeBy')} entries={byConcern('cgroup')} loading={activity.loading} />
      </KernelSection>

      <KernelSection icon="layers" title={t('kernel.overlay')}>
        <dl className="kv">
          <dt>{t('kernel.overlay.lower', { count: data.rootfs.lowerdirs.length })}</dt>
          <dd>
            <ol className="path-list">
              {data.rootfs.lowerdirs.map((dir) => (
                <li key={dir} className="mono">
                  {dir}
                </li>
              ))}
            </ol>
          </dd>
          <dt>{t('kernel.overlay.upper')}</dt>
          <dd className="mono">{data.rootfs.upperdir}</dd>
          <dt>{t('kernel.overlay.work')}</dt>
          <dd className="mono">{data.rootfs.workdir}</dd>
          <dt>{t('kernel.overlay.merged')}</dt>
          <dd className="mono">{data.rootfs.merged}</dd>
        </dl>
        <ActivityList title={t('kernel.madeBy')} entries={byConcern('overlay')} loading={activity.loading} />
      </KernelSection>

      <KernelSection icon="folder" title={t('kernel.mounts')}>
        <MountTable mounts={data.mounts ?? []} />
      </KernelSection>

      <KernelSection icon="activity" title={t('kernel.otherSteps')}>
        {activity.error && (
          <div className="callout callout--bad" role="alert">
            <Icon name="alert" />
            <p>{t('kernel.activityError', { message: activity.error })}</p>
          </div>
        )}
        <ActivityList title={t('kernel.otherSteps')} hideTitle entries={byConcern('other')} loading={activity.loading} />
      </KernelSection>
    </div>
  );
}

/**
 * The container's mounts: where each comes from on the machine and where it lands inside; a bind of
 * a desktop folder (through a shared folder) also shows the desktop path behind the share's mount.
 */
export function MountTable({ mounts }: { mounts: readonly MountPoint[] }) {
  const t = useT();
  if (mounts.length === 0) return <p className="muted">{t('kernel.mounts.none')}</p>;
  return (
    <>
      <table className="data-table">
        <thead>
          <tr>
            <th scope="col">{t('kernel.mounts.kind')}</th>
            <th scope="col">{t('kernel.mounts.desktop')}</th>
            <th scope="col">{t('kernel.mounts.machine')}</th>
            <th scope="col">{t('kernel.mounts.container')}</th>
            <th scope="col">{t('kernel.mounts.access')}</th>
          </tr>
        </thead>
        <tbody>
          {mounts.map((mount) => (
            <tr key={mount.target}>
              <td className="mono">{mount.type === 'volume' && mount.name ? `volume ${mount.name}` : mount.type}</td>
              <td className="mono path-cell" title={mount.desktopPath}>
                {mount.desktopPath ?? '—'}
              </td>
              <td className="mono path-cell" title={mount.source}>
                {mount.source ?? '—'}
              </td>
              <th scope="row" className="mono">
                {mount.target}
              </th>
              <td>{t(mount.readonly ? 'kernel.mounts.readonly' : 'kernel.mounts.readwrite')}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {mounts.some((mount) => mount.desktopPath !== undefined) && <p className="note">{t('kernel.mounts.note')}</p>}
    </>
  );
}

function KernelSection({ icon, title, children }: { icon: IconName; title: string; children: ReactNode }) {
  return (
    <section className="kernel-section" aria-label={title}>
      <h3 className="fact-group-title">
        <Icon name={icon} size={16} />
        {title}
      </h3>
      {children}
    </section>
  );
}

export function ActivityList({
  title,
  entries,
  loading,
  hideTitle,
}: {
  title: string;
  entries: readonly ActivityEntry[];
  loading: boolean;
  hideTitle?: boolean;
}) {
  const t = useT();
  const language = useLanguage();
  return (
    <div className="activity-mini">
      {!hideTitle && <h4 className="subhead">{title}</h4>}
      {entries.length === 0 ? (
        <p className="muted">{loading ? t('detail.loading') : t('kernel.noActivity')}</p>
      ) : (
        <ul aria-label={title} className="activity-lines">
          {entries.map((entry) => (
            <li key={activityKey(entry)} className={entry.ok ? 'activity-line' : 'activity-line activity-line--failed'}>
              <span className={`result result--${entry.ok ? 'ok' : 'failed'}`}>{entry.ok ? t('activity.ok') : t('activity.failed')}</span>
              <code className="activity-text">{formatActivity(entry)}</code>
              <span className="activity-duration muted">{formatMilliseconds(language, entry.durationMs)}</span>
              {entry.error && <span className="activity-error">{entry.error}</span>}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
