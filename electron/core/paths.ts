/** The local agent's socket/pid directory and state root; overridable so tests run an agent of their own. */
export function localAgentDirs(env: NodeJS.ProcessEnv = process.env): { runDir: string; stateDir: string } {
  return { runDir: env.ONGGI_LOCAL_RUN_DIR ?? '/run/onggi', stateDir: env.ONGGI_LOCAL_STATE_DIR ?? '/var/lib/onggi' };
}
