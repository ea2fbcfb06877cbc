// The terminal is not here yet: its transport (a PTY on the machine running the agent's exec
// entry) is being built. This says so, and how to get a shell meanwhile, instead of faking one.
import type { ContainerSummary } from '../../../../shared/containers.js';
import { Icon } from '../../components/icons';
import { useT } from '../../i18n';

export function TerminalTab({ container }: { container: ContainerSummary }) {
  const t = useT();
  return (
    <div className="empty empty--inline" role="note" aria-label={t('terminal.placeholder.title')}>
      <span className="empty-icon">
        <Icon name="terminals" size={30} />
      </span>
      <span className="tag">{t('placeholder.badge')}</span>
      <h3>{t('terminal.placeholder.title')}</h3>
      <p>{t('terminal.placeholder.body')}</p>
      <code className="command-hint">onggi exec -it {container.name} sh</code>
    </div>
  );
}
