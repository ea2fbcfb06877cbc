import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';
import { lazySchema } from '../../../shared/lazy-schema.js';
import { ONGGI_VERSION } from '../version.js';
import type { AgentIdentity } from '../system/system-info.js';

const Manifest = lazySchema(() => z.object({ version: z.string(), buildId: z.string() }));

/**
 * The build id is the hash of the agent bundle, written by the build into manifest.json beside
 * it (a bundle cannot contain its own hash). Run from source, the agent is `dev`.
 */
export function readIdentity(bundleDir: string): AgentIdentity {
  let buildId = 'dev';
  try {
    buildId = Manifest.parse(JSON.parse(readFileSync(join(bundleDir, 'manifest.json'), 'utf8'))).buildId;
  } catch {
    // not running from a built bundle
  }
  return { version: ONGGI_VERSION, buildId, startedAt: new Date().toISOString() };
}
