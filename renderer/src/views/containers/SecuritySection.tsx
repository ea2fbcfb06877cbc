// The Kernel tab's Security section: what the container's first process may do, as the agent read
// it from /proc/PID (capabilities by name, seccomp, no_new_privs, uid/gid maps), not what was asked.
import type { ProcessSecurity } from '../../../../shared/capabilities.js';
import type { SeccompSummary } from '../../../../shared/seccomp-profile.js';
import { useT, type MessageKey } from '../../i18n';

const seccompLabels: Record<ProcessSecurity['seccomp'], MessageKey> = {
  disabled: 'kernel.security.seccomp.disabled',
  strict: 'kernel.security.seccomp.strict',
  filter: 'kernel.security.seccomp.filter',
};

/** `CAP_NET_ADMIN` → `NET_ADMIN`: the prefix is on every one. */
const shortCap = (name: string) => name.replace(/^CAP_/, '');

function CapList({ names }: { names: readonly string[] }) {
  const t = useT();
  if (names.length === 0) return <span className="muted">{t('kernel.security.none')}</span>;
  return (
    <ul className="cap-list" aria-label={names.join(' ')}>
      {names.map((name) => (
        <li key={name} className="pill mono">
          {shortCap(name)}
        </li>
      ))}
    </ul>
  );
}

function IdMap({ lines }: { lines: ProcessSecurity['uidMap'] }) {
  return <span className="mono">{lines.map((line) => `${line.inside} → ${line.outside} (${line.count})`).join(', ')}</span>;
}

/** profile: the seccomp profile the agent built the filter from (its name and rule count), from inspect. */
export function SecuritySection({
  security,
  profile,
}: {
  security: ProcessSecurity | null | undefined;
  profile?: SeccompSummary | undefined;
}) {
  const t = useT();
  if (!security) return <p className="muted">{t('kernel.security.notRunning')}</p>;
  return (
    <>
      <dl className="kv">
        <dt>{t('kernel.security.effective', { count: security.effective.length })}</dt>
        <dd>
          <CapList names={security.effective} />
          <span className="cell-sub mono">CapEff {security.masks.effective}</span>
        </dd>
        <dt>{t('kernel.security.bounding', { count: security.bounding.length })}</dt>
        <dd>
          <CapList names={security.bounding} />
          <span className="cell-sub mono">CapBnd {security.masks.bounding}</span>
        </dd>
        <dt>{t('kernel.security.seccomp')}</dt>
        <dd>
          {t(seccompLabels[security.seccomp])}
          {security.seccompFilters !== null && ` · ${t('kernel.security.filters', { count: security.seccompFilters })}`}
          {profile && profile.profile !== 'unconfined' && (
            <span className="cell-sub mono">{t('kernel.security.profile', { name: profile.profile, count: profile.rules })}</span>
          )}
        </dd>
        <dt>{t('kernel.security.noNewPrivs')}</dt>
        <dd>{t(security.noNewPrivs ? 'kernel.security.yes' : 'kernel.security.no')}</dd>
        <dt>{t('kernel.security.uidMap')}</dt>
        <dd>
          <IdMap lines={security.uidMap} />
        </dd>
        <dt>{t('kernel.security.gidMap')}</dt>
        <dd>
          <IdMap lines={security.gidMap} />
        </dd>
      </dl>
      <p className="note">{t('kernel.security.note', { pid: security.pid })}</p>
    </>
  );
}
