// The docker context `onggi-NAME`, made by the real docker CLI in a DOCKER_CONFIG of the test's own.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentFacts, type PlatformFacts } from '../platform/platform.js';
import { findTool } from '../platform/tool-search.js';
import { ensureDockerContext } from './docker-context.js';

let configDir = '';
let facts: PlatformFacts;
const docker = findTool(currentFacts(), 'docker');

function contextHost(name: string): string {
  const run = spawnSync(docker ?? 'docker', ['context', 'inspect', '--format', '{{.Endpoints.docker.Host}}', name], {
    env: facts.env,
    encoding: 'utf8',
  });
  return run.status === 0 ? run.stdout.trim() : `(${run.stderr.trim()})`;
}

describe.skipIf(docker === undefined)('ensureDockerContext with the docker CLI', () => {
  beforeAll(async () => {
    configDir = await mkdtemp(join(tmpdir(), 'onggi-docker-context-'));
    facts = currentFacts({ PATH: process.env.PATH, HOME: configDir, DOCKER_CONFIG: configDir });
  });

  afterAll(async () => {
    if (configDir) await rm(configDir, { recursive: true, force: true });
  });

  it('creates onggi-NAME pointing at the forward, leaves it when right, updates it when it points elsewhere', async () => {
    const host = `unix://${join(configDir, 'data', 'docker', 'web.sock')}`;
    expect(await ensureDockerContext(facts, 'web', host)).toBe('created');
    expect(contextHost('onggi-web')).toBe(host);
    expect(await ensureDockerContext(facts, 'web', host)).toBe('unchanged');
    const moved = `unix://${join(configDir, 'moved', 'web.sock')}`;
    expect(await ensureDockerContext(facts, 'web', moved)).toBe('updated');
    expect(contextHost('onggi-web')).toBe(moved);
    // Another machine gets a context of its own; the first is untouched.
    expect(await ensureDockerContext(facts, 'ec2', host)).toBe('created');
    expect(contextHost('onggi-web')).toBe(moved);
    const listed = spawnSync(docker ?? 'docker', ['context', 'ls', '--format', '{{.Name}} {{.Description}}'], {
      env: facts.env,
      encoding: 'utf8',
    });
    expect(listed.stdout.split('\n')).toEqual(expect.arrayContaining(['onggi-web Onggi machine web', 'onggi-ec2 Onggi machine ec2']));
  });

  it('keeps a data folder with a comma, a quote or spaces in one piece (--docker takes a CSV record)', async () => {
    for (const [machine, folder] of [
      ['comma', 'a,b'],
      ['quote', 'Application Support/"c"'],
    ] as const) {
      const host = `unix://${join(configDir, folder, 'vm.sock')}`;
      expect(await ensureDockerContext(facts, machine, host)).toBe('created');
      expect(contextHost(`onggi-${machine}`)).toBe(host);
      expect(await ensureDockerContext(facts, machine, host)).toBe('unchanged');
    }
    await expect(ensureDockerContext(facts, 'both', `unix://${join(configDir, 'a,"b"', 'vm.sock')}`)).rejects.toThrow(/use DOCKER_HOST/);
  });
});
