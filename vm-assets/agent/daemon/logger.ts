import { errorMessage } from '../../../shared/errors.js';

export interface Logger {
  info(message: string): void;
  error(message: string, error?: unknown): void;
  debug(message: string, error?: unknown): void;
}

/** Log lines go to stderr, which the launcher points at the daemon's log file. */
export function createLogger(debugEnabled = process.env.ONGGI_AGENT_DEBUG === '1'): Logger {
  const line = (level: string, message: string, error?: unknown): void => {
    process.stderr.write(`${new Date().toISOString()} ${level} ${message}${error === undefined ? '' : `: ${errorMessage(error)}`}\n`);
  };
  return {
    info: (message) => line('info', message),
    error: (message, error) => line('error', message, error),
    debug: (message, error) => {
      if (debugEnabled) line('debug', message, error);
    },
  };
}
