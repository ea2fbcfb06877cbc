// The state directory's lock, taken with the real helper on real files.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { AGENT_DIR } from '../../../build/testing/isolated-agent.js';
import { initHelperPath } from './services.js';
import { StateDirBusyError, lockFileFor, lockStateDir } from './state-lock.js';

const helper = initHelperPath(AGENT_DIR);
let dir: string;
let holder: number;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'onggi-state-lock-'));
  // This test process holds the lock through its own description, as a first agent would.
  holder = openSync(lockFileFor(dir), 'a+', 0o600);
  expect(spawnSync(helper, ['lock', '3'], { stdio: ['ignore', 'ignore', 'inherit', holder] }).status).toBe(0);
});
afterEach(() => {
  closeSync(holder);
  rmSync(dir, { recursive: true, force: true });
});

it('a second agent that finds the lock held before the holder wrote its pid names the holder once it is written', async () => {
  // The holder has its lock but has not written its pid yet: the window eight agents started at once hit.
  const second = lockStateDir(dir, helper);
  // By now the second one has read the empty file (the read is synchronous up to its first wait).
  writeFileSync(lockFileFor(dir), '4242\n');
  const error = await second.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StateDirBusyError);
  expect((error as StateDirBusyError).holderPid).toBe(4242);
});

it('names the holder at once when its pid is already written', async () => {
  writeFileSync(lockFileFor(dir), '31337\n');
  await expect(lockStateDir(dir, helper)).rejects.toMatchObject({ holderPid: 31337 });
});
