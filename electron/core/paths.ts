import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where the host keeps its own data (machine definitions, settings). */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.ONGGI_HOME) return env.ONGGI_HOME;
  return join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'onggi');
}

/** The local agent's socket/pid directory and state root; overridable so tests run an agent of their own. */
export function localAgentDirs(env: NodeJS.ProcessEnv = process.env): { runDir: string; stateDir: string } {
  return { runDir: env.ONGGI_LOCAL_RUN_DIR ?? '/run/onggi', stateDir: env.ONGGI_LOCAL_STATE_DIR ?? '/var/lib/onggi' };
}
