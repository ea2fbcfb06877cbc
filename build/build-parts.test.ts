// `npm start` and `npm run serve` build only what this computer runs: the Node runtimes for remote
// deploy (minutes on a fresh clone) are staged by deploy when a machine first needs one. `npm run
// build` and `npm run dist` still stage them (an installer carries them).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { partsToBuild } from './build-parts.mjs';

const scripts = (JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as { scripts: Record<string, string> })
  .scripts;

/** The parts an npm script's `node build/build.mjs …` step builds. */
function partsOf(script: string): Set<string> {
  const line = scripts[script] ?? '';
  const step = /node build\/build\.mjs((?: [a-z]+)*)/.exec(line);
  if (!step) throw new Error(`npm run ${script} does not build: ${line}`);
  return partsToBuild(step[1]?.trim() ? step[1].trim().split(' ') : []);
}

describe('build parts', () => {
  it('npm start and npm run serve build the app without staging runtimes', () => {
    for (const script of ['start', 'serve']) {
      expect([...partsOf(script)].sort(), script).toEqual(['agent', 'host', 'renderer']);
    }
  });

  it('npm run build and npm run dist stage the runtimes too', () => {
    for (const script of ['build', 'dist']) expect(partsOf(script).has('runtime'), script).toBe(true);
  });

  it('refuses a part it does not know, naming the ones it does', () => {
    expect(() => partsToBuild(['runtimes'])).toThrow(/unknown build part "runtimes": one of host, agent, renderer, runtime, app/);
  });
});
