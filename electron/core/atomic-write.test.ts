// Atomic writes in the data dir on Windows: a directory cannot be fsynced there (EPERM, as under
// Wine), after the record is already in place. The store must report success, not a failure that
// makes the user add the machine again and hear that it exists.
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SshMachineDefinition } from '../../shared/machines.js';
import { writeJsonAtomic } from './atomic-write.js';
import { MachineStore } from './machines/machine-store.js';
import { RememberedPassphrases, type SecretVault } from './machines/ssh/remembered-passphrases.js';
import { factsFor } from './platform/test-facts.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'onggi-atomic-'));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

/** Makes every fsync of a directory fail with EPERM, as Windows does; files still sync. */
async function refuseDirectoryFsync(): Promise<{ refused: number }> {
  const probe = await open(join(dir, '.probe'), 'w');
  const proto = Object.getPrototypeOf(probe) as { sync(this: typeof probe): Promise<void> };
  await probe.close();
  await rm(join(dir, '.probe'));
  const original = proto.sync;
  const counter = { refused: 0 };
  vi.spyOn(proto, 'sync').mockImplementation(async function (this: typeof probe) {
    if ((await this.stat()).isDirectory()) {
      counter.refused++;
      throw Object.assign(new Error('EPERM: operation not permitted, fsync'), { code: 'EPERM', syscall: 'fsync' });
    }
    return original.call(this);
  });
  return counter;
}

const win32 = factsFor('win32');
const machine = (name: string) => SshMachineDefinition.parse({ provider: 'ssh', name, host: 'example.com', user: 'ubuntu' });

describe('atomic writes where a directory cannot be fsynced', () => {
  it('win32: the write succeeds (directory fsync is best-effort); Linux and macOS still report it', async () => {
    const fsync = await refuseDirectoryFsync();
    await writeJsonAtomic(join(dir, 'a.json'), { a: 1 }, { facts: win32 });
    expect(JSON.parse(await readFile(join(dir, 'a.json'), 'utf8'))).toEqual({ a: 1 });
    expect(fsync.refused).toBe(1);
    await expect(writeJsonAtomic(join(dir, 'b.json'), { b: 1 }, { facts: factsFor('linux') })).rejects.toThrow('EPERM');
    await expect(writeJsonAtomic(join(dir, 'c.json'), { c: 1 }, { facts: factsFor('darwin', 'arm64') })).rejects.toThrow('EPERM');
    expect((await readdir(dir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('win32: the machine store adds a machine once and says so; a second add says it exists', async () => {
    const fsync = await refuseDirectoryFsync();
    const store = new MachineStore(dir, win32);
    await store.add(machine('web'));
    expect(fsync.refused).toBe(1);
    await expect(store.add(machine('web'))).rejects.toThrow('a machine named "web" exists');
    expect((await store.load()).map((entry) => entry.name)).toEqual(['web']);
  });

  it('win32: a remembered passphrase is saved without an error', async () => {
    const fsync = await refuseDirectoryFsync();
    const plainVault: SecretVault = {
      isAvailable: () => true,
      encrypt: (plain) => Buffer.from(plain, 'utf8'),
      decrypt: (cipher) => cipher.toString('utf8'),
    };
    const remembered = new RememberedPassphrases(dir, plainVault, win32);
    const secret = randomBytes(8).toString('hex');
    await remembered.save('web', 'C:\\Users\\John Doe\\.ssh\\id_ed25519', secret);
    expect(fsync.refused).toBe(1);
    expect(await remembered.read('web', 'C:\\Users\\John Doe\\.ssh\\id_ed25519')).toBe(secret);
  });
});
