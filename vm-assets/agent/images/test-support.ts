// Shared by the image tests: the built init helper, and unwrapping an expected OnggiError.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { AGENT_DIR } from '../../../build/testing/isolated-agent.js';
import { OnggiError } from '../../../shared/errors.js';

/**
 * The init helper: ONGGI_TEST_INIT_HELPER if set, else the built one (vm-assets/dist/agent);
 * without either the store falls back to mknod/setfattr.
 */
export function builtHelper(): string | undefined {
  const override = process.env.ONGGI_TEST_INIT_HELPER;
  if (override) return override;
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const path = join(AGENT_DIR, `onggi-init-${arch}`);
  return existsSync(path) ? path : undefined;
}

export async function errorOf(promise: Promise<unknown>): Promise<OnggiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OnggiError);
  return error as OnggiError;
}
