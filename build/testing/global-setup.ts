import { spawnSync } from 'node:child_process';
import { REPO_ROOT } from './isolated-agent.js';

/** Integration tests run the built agent and CLI, as users do: build everything once before the run. */
export default function setup(): void {
  const result = spawnSync(process.execPath, ['build/build.mjs'], { cwd: REPO_ROOT, stdio: 'inherit' });
  if (result.status !== 0) throw new Error('build failed before tests');
}
