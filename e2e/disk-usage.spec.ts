// Disk use in the window (issue 21): the machine card shows the numbers `onggi system df` prints,
// and Clean up says what it will remove before removing it — checked afterwards with the CLI; the
// card's container defaults (log rotation) are what `onggi machine config` reads back.
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DiskUsage } from '../shared/disk-usage.js';
import { artifacts, busyboxTarball, onggi } from './fixtures/helpers';
import { expect, test } from './fixtures/serve';

test('the machine card shows disk use, and Clean up lists what it removes, then removes it', async ({ page, served, sandbox }) => {
  test.setTimeout(180_000);
  const must = (args: string[]) => {
    const result = onggi(sandbox, args);
    expect(result.code, `onggi ${args.join(' ')}: ${result.err}`).toBe(0);
    return result.out;
  };
  // v1 runs a container that exits; v2 under the same name leaves v1 nameless (dangling, but used).
  const v1 = await busyboxTarball(sandbox);
  must(['image', 'import', '--kind', 'rootfs', '--name', 'app:1', v1]);
  must(['run', '--name', 'finished', 'app:1', 'sh', '-c', 'seq 1 3000']);
  const v2 = join(sandbox.dir, 'v2.tar');
  await copyFile(v1, v2);
  await mkdir(join(sandbox.dir, 'marker'));
  await writeFile(join(sandbox.dir, 'marker', 'version'), '2\n');
  execFileSync('tar', ['-rf', v2, '-C', join(sandbox.dir, 'marker'), './version']);
  must(['image', 'import', '--kind', 'rootfs', '--name', 'app:1', v2]);
  const usage = JSON.parse(must(['system', 'df', '--json'])) as DiskUsage;

  await page.goto(served.url);
  const machine = page.getByRole('region', { name: 'local', exact: true });
  const table = machine.getByRole('table', { name: 'Disk use on local' });
  // A header, then one row per kind the agent counts (images, containers, volumes, logs).
  await expect(table.getByRole('row')).toHaveCount(usage.rows.length + 1);
  expect(usage.rows.map((row) => row.type).sort()).toEqual(['containers', 'images', 'logs', 'volumes']);
  for (const [index, row] of usage.rows.entries()) {
    const cells = table
      .getByRole('row')
      .nth(index + 1)
      .getByRole('cell');
    await expect(cells.nth(0)).toHaveText(String(row.total));
    await expect(cells.nth(1)).toHaveText(String(row.active));
    await expect(cells.nth(2)).toHaveAttribute('title', `${row.size} B`);
    await expect(cells.nth(3)).toHaveAttribute('title', `${row.reclaimable} B`);
  }
  await table.scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(artifacts, 'disk-usage-card.png') });

  await machine.getByRole('button', { name: 'Clean up…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Clean up local?' });
  const list = dialog.getByRole('list', { name: 'What will be removed' });
  await expect(list.getByRole('listitem')).toHaveCount(2);
  await expect(list.getByRole('listitem').nth(0)).toHaveText(/^Container finished \([a-f0-9]{12}\)$/);
  await expect(list.getByRole('listitem').nth(1)).toHaveText(/^Image <none> \([a-f0-9]{12}\)$/);
  await page.screenshot({ path: join(artifacts, 'disk-usage-clean-up.png') });
  // Nothing is removed before the confirmation.
  expect(JSON.parse(must(['ps', '-a', '--json']))).toHaveLength(1);

  await dialog.getByRole('button', { name: 'Remove' }).click();
  await expect(machine.getByRole('status').filter({ hasText: 'Removed' })).toHaveText(/^Removed 1 container and 1 image; freed .+$/);
  expect(JSON.parse(must(['ps', '-a', '--json']))).toEqual([]);
  const images = JSON.parse(must(['image', 'ls', '--json'])) as Array<{ names: string[] }>;
  expect(images.map((i) => i.names)).toEqual([['docker.io/library/app:1']]);
  await expect(table.getByRole('row').nth(2).getByRole('cell').nth(0)).toHaveText('0');
  await table.scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(artifacts, 'disk-usage-after.png') });

  const defaults = machine.getByRole('region', { name: 'Container defaults on local' });
  await expect(defaults.getByRole('textbox', { name: 'Log file size' })).toHaveValue('10m');
  await defaults.getByRole('textbox', { name: 'Log file size' }).fill('8k');
  await defaults.getByRole('textbox', { name: 'Log files kept' }).fill('2');
  await defaults.getByRole('button', { name: 'Save' }).click();
  await expect(defaults.getByRole('status')).toHaveText('Saved');
  expect(must(['machine', 'config', 'local'])).toBe('log-max-size 8k\nlog-max-files 2\nuserns host\n');
  await defaults.scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(artifacts, 'container-defaults.png') });
});
