import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from 'zod';
import { OnggiError } from '../../../shared/errors.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';

const Manifest = z.object({ version: z.string(), buildId: z.string().regex(/^[0-9a-f]{64}$/), entry: z.string() });

export interface AgentBundle {
  dir: string;
  entry: string;
  version: string;
  buildId: string;
}

/** The agent this app ships: what a machine's running agent must match, or be replaced by. */
export async function readAgentBundle(dir: string): Promise<AgentBundle> {
  let text: string;
  try {
    text = await readFile(join(dir, 'manifest.json'), 'utf8');
  } catch {
    throw new OnggiError(ErrorCode.Unavailable, 'agent_bundle_missing', `the agent bundle is missing from ${dir}; run \`npm run build\``);
  }
  const manifest = Manifest.parse(JSON.parse(text));
  return { dir, entry: join(dir, manifest.entry), version: manifest.version, buildId: manifest.buildId };
}
