// A container run with --privileged holds the machine: the list marks it so nobody forgets.
import type { ContainerSummary } from '../../../../shared/containers.js';
import { useT } from '../../i18n';

export function PrivilegedBadge({ container }: { container: Pick<ContainerSummary, 'privileged'> }) {
  const t = useT();
  if (!container.privileged) return null;
  return (
    <span className="badge badge--warn" title={t('containers.privileged.title')}>
      {t('containers.privileged')}
    </span>
  );
}
