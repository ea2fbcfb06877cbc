// The machine's default log rotation, for containers whose --log-opt leaves it out: a small JSON
// file in the agent's state directory (`{"maxSize": BYTES, "maxFiles": N}`), read at each create,
// so a change applies to the next container without a restart. Absent or unreadable: 10 MiB × 3.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LogOptions } from '../../../shared/containers.js';
import { writeFileAtomic } from '../state/atomic-write.js';

export const LOG_DEFAULTS_FILE = 'log-defaults.json';

export async function readLogDefaults(stateDir: string): Promise<LogOptions> {
  // no file: the machine keeps the built-in default
  const text = await readFile(join(stateDir, LOG_DEFAULTS_FILE), 'utf8').catch(() => undefined);
  if (text === undefined) return {};
  try {
    const parsed = LogOptions.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : {};
  } catch {
    return {};
  }
}

export async function writeLogDefaults(stateDir: string, options: LogOptions): Promise<void> {
  await writeFileAtomic(join(stateDir, LOG_DEFAULTS_FILE), `${JSON.stringify(LogOptions.parse(options))}\n`, { durable: true });
}
