// The container's Terminal tab: an exec of /bin/sh inside it, the same pane as the Terminals view;
// for a container created with a terminal (`-t`, "Interactive" in the run dialog), its own console
// (`docker attach`) instead. Opening the tab reuses a live session of this container (sessions
// outlive the tab, and are listed under Terminals), or opens one.
import { useEffect, useRef } from 'react';
import type { ContainerSummary } from '../../../../shared/containers.js';
import { Icon } from '../../components/icons';
import { TerminalPane } from '../../components/TerminalPane';
import { useT } from '../../i18n';
import { useTerminals } from '../../stores';
import { useOpenTerminal } from '../terminals/TerminalsView';

export function TerminalTab({ machine, container }: { machine: string; container: ContainerSummary }) {
  const t = useT();
  const open = useOpenTerminal();
  const attach = container.tty === true;
  const session = useTerminals((state) =>
    state.sessions.findLast(
      (candidate) => candidate.machine === machine && candidate.container === container.name && (candidate.attach === true) === attach,
    ),
  );
  const where = { machine, container: container.name, ...(attach ? { attach: true } : {}) };
  const running = container.state === 'running';
  const asked = useRef(false);
  const live = session !== undefined && session.exit === undefined;
  useEffect(() => {
    if (!running || live || asked.current) return;
    asked.current = true;
    void open({ machine, container: container.name, ...(attach ? { attach: true } : {}) });
  }, [running, live, machine, container.name, attach, open]);

  if (!running && !session) {
    return (
      <div className="empty empty--inline" role="note">
        <Icon name="terminals" size={30} />
        <p>{t('terminal.notRunning')}</p>
      </div>
    );
  }
  if (!session) {
    return (
      <div className="loading" role="status">
        <span className="spinner" aria-hidden="true" />
        {t('terminal.opening')}
      </div>
    );
  }
  return <TerminalPane session={session} onReopen={running ? () => void open(where) : undefined} />;
}
