import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { writeFileAtomic } from './atomic-write.js';
import { coalescedSave } from './coalesced-save.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'onggi-coalesce-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A list saved whole, as NetnsNames keeps its record; counts the writes it really made. */
function savedList(file: string) {
  const names = new Set<string>();
  const state = { writes: 0 };
  const save = coalescedSave(async () => {
    state.writes++;
    await writeFileAtomic(file, JSON.stringify([...names]), { durable: false });
  });
  return { names, state, save };
}

it('saves asked for together share one write; those asked for during it share the next', async () => {
  const file = join(dir, 'names.json');
  const { names, state, save } = savedList(file);
  const first = Array.from({ length: 50 }, (_, i) => {
    names.add(`a${i}`);
    return save();
  });
  // Once the first write has started, these cannot join it: they share one more (in flight or done).
  while (state.writes === 0) await new Promise<void>((resolve) => setImmediate(resolve));
  const second = Array.from({ length: 50 }, (_, i) => {
    names.add(`b${i}`);
    return save();
  });
  await Promise.all([...first, ...second]);
  expect(state.writes).toBe(2);
  expect(JSON.parse(await readFile(file, 'utf8'))).toHaveLength(100);
});

it('each save resolves only after a write that holds its change', async () => {
  const file = join(dir, 'names.json');
  const { names, save } = savedList(file);
  await Promise.all(
    Array.from({ length: 100 }, async (_, i) => {
      // Spread over several turns of the event loop, as registrations arrive after their own awaits.
      for (let turn = 0; turn < i % 7; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
      names.add(`n${i}`);
      await save();
      expect(JSON.parse(await readFile(file, 'utf8'))).toContain(`n${i}`);
    }),
  );
});

it('a failed write rejects its own callers; the next save writes again', async () => {
  let fail = true;
  let writes = 0;
  const save = coalescedSave(async () => {
    writes++;
    if (fail) throw new Error('disk full');
  });
  await expect(Promise.all([save(), save()])).rejects.toThrow('disk full');
  fail = false;
  await save();
  expect(writes).toBe(2);
});
