// One terminal session in xterm.js: replays what the session printed so far, then follows it;
// keys go to the session, the size follows the element (fit on resize, forwarded to the PTY),
// scrollback is kept, Ctrl+Shift+C / Ctrl+Shift+V (and the buttons) copy and paste, and an ended
// session says so plainly instead of looking like a shell that stopped answering.
import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';
import { useEffect, useRef } from 'react';
import { useT } from '../i18n';
import { copyText } from '../lib/clipboard';
import { useTerminalsStore } from '../stores';
import type { TerminalTab } from '../stores/terminals';
import { useToasts } from '../stores/toasts';
import { Icon } from './icons';

export const SCROLLBACK_LINES = 10_000;

/** How long the cursor blinks after the last output or key (then it stays solid until the next). */
export const BLINK_IDLE_MS = 10_000;

export function TerminalPane({ session, onReopen }: { session: TerminalTab; onReopen?: () => void }) {
  const t = useT();
  const store = useTerminalsStore();
  const host = useRef<HTMLDivElement>(null);
  const terminal = useRef<Terminal | undefined>(undefined);
  const push = useToasts((state) => state.push);
  const ended = session.exit !== undefined;
  const endedRef = useRef(ended);
  useEffect(() => {
    endedRef.current = ended;
  }, [ended]);

  useEffect(() => {
    const element = host.current;
    if (!element) return;
    const styles = getComputedStyle(element);
    const term = new Terminal({
      scrollback: SCROLLBACK_LINES,
      cursorBlink: true,
      fontFamily: styles.getPropertyValue('--font-mono').trim() || 'monospace',
      fontSize: 13,
      screenReaderMode: false,
      theme: {
        background: styles.getPropertyValue('--terminal-bg').trim() || '#15171c',
        foreground: styles.getPropertyValue('--terminal-fg').trim() || '#e6e6e6',
      },
    });
    terminal.current = term;
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(element);
    // The cursor blinks while something happens and rests after BLINK_IDLE_MS without output or
    // typing: a blinking cursor repaints the terminal twice a second for ever, which was most of
    // what an idle window cost (issue 16's idle bench: 9.6 % of a core with two sessions open).
    let resting: ReturnType<typeof setTimeout> | undefined;
    const active = (): void => {
      if (!term.options.cursorBlink) term.options.cursorBlink = true;
      clearTimeout(resting);
      resting = setTimeout(() => (term.options.cursorBlink = false), BLINK_IDLE_MS);
    };
    active();
    const { backlog, detach } = store.getState().attach(session.id, (data, reset) => {
      if (reset) term.reset();
      term.write(data);
      active();
    });
    term.write(backlog);
    let last = { cols: 0, rows: 0 };
    const refit = (): void => {
      if (element.clientWidth === 0 || element.clientHeight === 0) return;
      fit.fit();
      if (term.cols !== last.cols || term.rows !== last.rows) {
        last = { cols: term.cols, rows: term.rows };
        if (!endedRef.current) store.getState().resize(session.id, term.cols, term.rows);
      }
    };
    refit();
    const observer = new ResizeObserver(() => refit());
    observer.observe(element);
    const typed = term.onData((data) => {
      active();
      if (!endedRef.current) store.getState().input(session.id, data);
    });
    term.attachCustomKeyEventHandler((event) => {
      if (event.type !== 'keydown' || !event.ctrlKey || !event.shiftKey) return true;
      if (event.code === 'KeyC') {
        const text = term.getSelection();
        if (text) void copyText(text);
        return false;
      }
      if (event.code === 'KeyV') {
        // Chromium (and so Electron) maps Ctrl+Shift+V to paste-as-plain-text, which fires the
        // paste event xterm already turns into input: pasting here as well would type it twice.
        return false;
      }
      return true;
    });
    term.focus();
    return () => {
      clearTimeout(resting);
      observer.disconnect();
      typed.dispose();
      detach();
      term.dispose();
      terminal.current = undefined;
    };
  }, [session.id, store]);

  const copy = (): void => {
    const text = terminal.current?.getSelection() ?? '';
    copyText(text).then(
      () => push({ tone: 'ok', title: t('common.copied') }),
      (error: unknown) =>
        push({ tone: 'bad', title: t('common.copyFailed'), detail: error instanceof Error ? error.message : String(error) }),
    );
  };
  const paste = (): void => {
    navigator.clipboard?.readText().then(
      (text) => {
        terminal.current?.paste(text);
        terminal.current?.focus();
      },
      (error: unknown) =>
        push({ tone: 'bad', title: t('terminal.pasteFailed'), detail: error instanceof Error ? error.message : String(error) }),
    );
  };

  return (
    <section
      className={ended ? 'terminal-pane terminal-pane--ended' : 'terminal-pane'}
      aria-label={t('terminal.label', { title: session.title })}
    >
      <div className="terminal-toolbar">
        <span className="mono muted">{session.command.join(' ') || t('terminal.loginShell')}</span>
        <span className="spacer" />
        <button type="button" className="button button--small" onClick={copy}>
          <Icon name="copy" size={14} />
          {t('terminal.copy')}
        </button>
        <button type="button" className="button button--small" onClick={paste} disabled={ended}>
          {t('terminal.paste')}
        </button>
        <button type="button" className="button button--small" onClick={() => terminal.current?.clear()}>
          {t('terminal.clear')}
        </button>
      </div>
      {ended && (
        <div className="callout callout--warn terminal-ended" role="status">
          <Icon name="info" />
          <p>
            {session.exit?.code === null || session.exit?.code === undefined
              ? t('terminal.endedUnknown')
              : t('terminal.ended', { code: session.exit.code })}
          </p>
          {onReopen && (
            <button type="button" className="button button--small" onClick={onReopen}>
              {t('terminal.reopen')}
            </button>
          )}
        </div>
      )}
      <div ref={host} className="terminal-host" data-testid={`terminal-${session.id}`} />
    </section>
  );
}
