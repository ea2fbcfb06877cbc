// A docker context `onggi-NAME` for each machine whose Docker API this desktop offers, when the
// docker CLI is installed: `docker --context onggi-NAME …` and `docker context use onggi-NAME`
// then work without DOCKER_HOST. The docker CLI itself writes it (its own file format, under its
// own DOCKER_CONFIG), always through argv; a context of that name pointing elsewhere (the data
// folder moved) is updated, one already right is left alone.
import { execFile } from 'node:child_process';
import { findTool } from '../platform/tool-search.js';
import type { PlatformFacts } from '../platform/platform.js';

const DOCKER_TIMEOUT_MS = 15_000;

export type ContextOutcome = 'created' | 'updated' | 'unchanged' | 'no docker CLI';

export const dockerContextName = (machine: string) => `onggi-${machine}`;

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function run(facts: PlatformFacts, program: string, args: string[]): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(
      program,
      args,
      { env: facts.env, timeout: DOCKER_TIMEOUT_MS, windowsHide: true, maxBuffer: 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr: stderr || (error ? error.message : '') });
      },
    );
  });
}

/**
 * `--docker`'s value is one CSV record (`host=…,skip-tls-verify=…`) read with lazy quotes: a host
 * with a comma is quoted; a bare `"` passes as it is, but inside quotes the CLI keeps `""` doubled,
 * so a host with both cannot be said (seen with docker 20.10 and 28).
 */
function dockerEndpointOption(dockerHost: string): string {
  const field = `host=${dockerHost}`;
  if (!/[,\r\n]/.test(field)) return field;
  if (field.includes('"'))
    throw new Error(`the docker CLI cannot take a context host with both "," and '"' (${dockerHost}): use DOCKER_HOST`);
  return `"${field}"`;
}

/** Creates or updates the context `onggi-MACHINE` so it points at `dockerHost`; says which it did. */
export async function ensureDockerContext(facts: PlatformFacts, machine: string, dockerHost: string): Promise<ContextOutcome> {
  const docker = findTool(facts, 'docker');
  if (docker === undefined) return 'no docker CLI';
  const name = dockerContextName(machine);
  const current = await run(facts, docker, ['context', 'inspect', '--format', '{{json .Endpoints.docker.Host}}', name]);
  if (current.code === 0 && current.stdout.trim() === JSON.stringify(dockerHost)) return 'unchanged';
  const verb = current.code === 0 ? 'update' : 'create';
  const made = await run(facts, docker, [
    'context',
    verb,
    name,
    '--description',
    `Onggi machine ${machine}`,
    '--docker',
    dockerEndpointOption(dockerHost),
  ]);
  if (made.code !== 0) throw new Error(`docker context ${verb} ${name} failed: ${made.stderr.trim()}`);
  return verb === 'create' ? 'created' : 'updated';
}
