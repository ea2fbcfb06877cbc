// Terminals: tabs of machine shells and container execs, several at once. The sessions live in the
// host; this view shows one at a time and replays its output when it comes back into view.
import { useState } from 'react';
import { errorMessage } from '../../../../shared/errors.js';
import { Icon } from '../../components/icons';
import { MachineNotReady, useCurrentMachine } from '../../components/MachinePicker';
import { TerminalPane } from '../../components/TerminalPane';
import { useT } from '../../i18n';
import { useTerminals, useTerminalsStore } from '../../stores';
import type { TerminalTab } from '../../stores/terminals';
import { useToasts } from '../../stores/toasts';
import { MachineViewHeader } from '../MachineViewHeader';

/** A first size for the PTY; the pane fits it to the element as soon as it is drawn. */
export const INITIAL_SIZE = { cols: 100, rows: 30 } as const;

export function useOpenTerminal(): (params: { machine: string; container?: string; attach?: boolean }) => Promise<TerminalTab | undefined> {
  const t = useT();
  const store = useTerminalsStore();
  const push = useToasts((state) => state.push);
  return async (params) => {
    try {
      return await store.getState().open({ ...params, ...INITIAL_SIZE });
    } catch (error) {
      push({ tone: 'bad', title: t('terminal.openFailed'), detail: errorMessage(error) });
      return undefined;
    }
  };
}

export function TerminalsView() {
  const t = useT();
  const { name: machine, summary, usable } = useCurrentMachine();
  const sessions = useTerminals((state) => state.sessions);
  const activeId = useTerminals((state) => state.active);
  const store = useTerminalsStore();
  const open = useOpenTerminal();
  const [busy, setBusy] = useState(false);
  const active = sessions.find((session) => session.id === activeId) ?? sessions[0];

  const newShell = async (): Promise<void> => {
    setBusy(true);
    await open({ machine });
    setBusy(false);
  };
  const reopen = (session: TerminalTab): void => {
    const where = { ...(session.container ? { container: session.container } : {}), ...(session.attach ? { attach: true } : {}) };
    void open({ machine: session.machine, ...where }).then((opened) => {
      if (opened) void store.getState().close(session.id);
    });
  };

  return (
    <>
      <MachineViewHeader view="terminals">
        <button type="button" className="button button--primary" onClick={() => void newShell()} disabled={!usable || busy}>
          <Icon name="plus" size={16} />
          {t('terminal.newShell', { machine })}
        </button>
      </MachineViewHeader>
      <div className="view-body terminals">
        {!usable && <MachineNotReady name={machine} {...(summary ? { summary } : {})} />}
        {sessions.length === 0 ? (
          <div className="empty">
            <Icon name="terminals" size={32} />
            <h2>{t('terminal.none.title')}</h2>
            <p>{t('terminal.none.body')}</p>
          </div>
        ) : (
          <>
            <div className="terminal-tabs">
              <div role="tablist" aria-label={t('terminal.tabs')} className="tablist">
                {sessions.map((session) => (
                  <button
                    key={session.id}
                    type="button"
                    role="tab"
                    id={`tab-${session.id}`}
                    aria-selected={session.id === active?.id}
                    aria-controls="terminal-panel"
                    tabIndex={session.id === active?.id ? 0 : -1}
                    className={session.exit ? 'tab tab--ended' : 'tab'}
                    onClick={() => store.getState().select(session.id)}
                    onKeyDown={(event) => {
                      const index = sessions.indexOf(session);
                      const next =
                        event.key === 'ArrowRight'
                          ? sessions[(index + 1) % sessions.length]
                          : event.key === 'ArrowLeft'
                            ? sessions[(index - 1 + sessions.length) % sessions.length]
                            : undefined;
                      if (!next) return;
                      event.preventDefault();
                      store.getState().select(next.id);
                      document.getElementById(`tab-${next.id}`)?.focus();
                    }}
                  >
                    <Icon name={session.container ? 'containers' : 'machines'} size={14} />
                    {session.title}
                    {session.exit && <span className="visually-hidden">{t('terminal.endedShort')}</span>}
                  </button>
                ))}
              </div>
              {active && (
                <button
                  type="button"
                  className="icon-button"
                  aria-label={t('terminal.close', { title: active.title })}
                  onClick={() => void store.getState().close(active.id)}
                >
                  <Icon name="close" size={16} />
                </button>
              )}
            </div>
            {active && (
              <div id="terminal-panel" role="tabpanel" aria-labelledby={`tab-${active.id}`} className="terminal-panel">
                <TerminalPane key={active.id} session={active} onReopen={() => reopen(active)} />
              </div>
            )}
          </>
        )}
      </div>
    </>
  );
}
