// The machine's --userns default and where its ranges come from. The default is a small JSON
// file in the agent's state directory beside log-defaults.json (`{"mode": "auto"}`), read at each
// create; absent or unreadable: `host`, today's behaviour. The subid files are /etc/subuid and
// /etc/subgid; ONGGI_SUBUID_FILE / ONGGI_SUBGID_FILE (tests only) point an agent at its own, so
// tests never write the machine's.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { USERNS_AUTO_SIZE, UsernsDefault, type UsernsMode } from '../../../shared/userns.js';
import type { ActivityLog } from '../activity/activity-log.js';
import { writeFileAtomic } from '../state/atomic-write.js';
import { DEFAULT_RESERVE_CONTAINERS, UsernsAllocator } from './allocator.js';

export const USERNS_DEFAULT_FILE = 'userns-default.json';
/** The owner of the agent's entries in /etc/subuid and /etc/subgid (Podman's is `containers`). */
export const SUBID_OWNER = 'onggi';

export async function readUsernsDefault(stateDir: string): Promise<UsernsMode> {
  // no file: the built-in default
  const text = await readFile(join(stateDir, USERNS_DEFAULT_FILE), 'utf8').catch(() => undefined);
  try {
    return (text === undefined ? undefined : UsernsDefault.safeParse(JSON.parse(text)).data?.mode) ?? 'host';
  } catch {
    return 'host';
  }
}

export async function writeUsernsDefault(stateDir: string, mode: UsernsMode): Promise<void> {
  await writeFileAtomic(join(stateDir, USERNS_DEFAULT_FILE), `${JSON.stringify(UsernsDefault.parse({ mode }))}\n`, { durable: true });
}

/** What the runtime needs for --userns: the allocator, and the machine's default to read and change. */
export interface UsernsRuntime {
  allocator: UsernsAllocator;
  readDefault(): Promise<UsernsMode>;
  writeDefault(mode: UsernsMode): Promise<void>;
}

export function usernsRuntime(stateDir: string, activity: ActivityLog, env: NodeJS.ProcessEnv = process.env): UsernsRuntime {
  return {
    allocator: new UsernsAllocator({
      subuidFile: env.ONGGI_SUBUID_FILE ?? '/etc/subuid',
      subgidFile: env.ONGGI_SUBGID_FILE ?? '/etc/subgid',
      owner: SUBID_OWNER,
      size: USERNS_AUTO_SIZE,
      reserveCount: USERNS_AUTO_SIZE * DEFAULT_RESERVE_CONTAINERS,
      activity,
    }),
    readDefault: () => readUsernsDefault(stateDir),
    writeDefault: (mode) => writeUsernsDefault(stateDir, mode),
  };
}
