// A container's directory split into logs and the rest: every `log.jsonl*` file (the current log
// and the rotated ones the supervisor keeps) is a log; together they are exactly what du counts.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gnuDu } from '../../../build/testing/gnu-du.js';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { containerUsage } from './disk.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'onggi-disk-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const du = (...paths: string[]) => gnuDu(paths);

it('counts the logs directory (the current log and the rotated ones) as logs, the rest as the container, as du does', async () => {
  await mkdir(join(dir, 'upper'), { recursive: true });
  await writeFile(join(dir, 'upper/data'), Buffer.alloc(70_000, 1));
  await writeFile(join(dir, 'container.json'), '{}');
  await mkdir(join(dir, 'logs'));
  const logs = ['log.jsonl', 'log.jsonl.1'];
  for (const [i, name] of logs.entries()) await writeFile(join(dir, 'logs', name), Buffer.alloc(30_000 * (i + 1), 2));
  const usage = await containerUsage(dir);
  expect(usage.logFiles).toBe(2);
  expect(usage.logs).toBe(du(join(dir, 'logs')));
  expect(usage.logs).toBeGreaterThan(90_000);
  expect(usage.size + usage.logs).toBe(du(dir));
});

it('counts log.jsonl and its rotated files beside the record (a container of an older agent) as logs, as du does', async () => {
  await mkdir(join(dir, 'upper/etc'), { recursive: true });
  await mkdir(join(dir, 'work'));
  await mkdir(join(dir, 'merged'));
  await writeFile(join(dir, 'upper/etc/data'), Buffer.alloc(70_000, 1));
  await writeFile(join(dir, 'container.json'), '{}');
  const logs = ['log.jsonl', 'log.jsonl.1', 'log.jsonl.2'];
  for (const [i, name] of logs.entries()) await writeFile(join(dir, name), Buffer.alloc(20_000 * (i + 1), 2));
  const usage = await containerUsage(dir);
  expect(usage.logFiles).toBe(3);
  expect(usage.logs).toBe(du(...logs.map((name) => join(dir, name))));
  expect(usage.size + usage.logs).toBe(du(dir));
  expect(await containerUsage(join(dir, 'gone'))).toEqual({ size: 0, logs: 0, logFiles: 0 });
});
