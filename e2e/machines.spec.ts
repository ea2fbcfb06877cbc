// The first slice end to end: the window lists the local machine and shows what its agent reads
// from the kernel, checked against what this test reads from the same kernel on its own.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, repoRoot, test } from './fixtures/serve';
import type { Page } from '@playwright/test';

const artifacts = join(repoRoot, 'e2e', 'artifacts');

function kernelRelease(): string {
  const uname = spawnSync('uname', ['-r'], { encoding: 'utf8' });
  expect(uname.status, uname.stderr).toBe(0);
  return uname.stdout.trim();
}

/** 2 when /sys/fs/cgroup is itself cgroup2 (unified), else 1 (a tmpfs of v1 mounts: legacy or hybrid). */
function cgroupVersion(): number {
  const stat = spawnSync('stat', ['-f', '-c', '%T', '/sys/fs/cgroup'], { encoding: 'utf8' });
  expect(stat.status, stat.stderr).toBe(0);
  return stat.stdout.trim() === 'cgroup2fs' ? 2 : 1;
}

/** The same checks whichever shell shows the window. */
async function expectLocalMachine(page: Page, project: string): Promise<void> {
  await expect(page.getByRole('heading', { level: 1, name: 'Machines' })).toBeVisible();
  await expect(page.getByRole('navigation', { name: 'Sections' }).getByRole('button', { name: 'Machines' })).toHaveAttribute(
    'aria-current',
    'page',
  );
  const machine = page.getByRole('region', { name: 'local', exact: true });
  await expect(machine.getByRole('heading', { level: 2, name: 'local' })).toBeVisible();
  // Each <dd> is labelled by its <dt> (aria-labelledby). Playwright follows ARIA 1.3, where the
  // definition role cannot be named, so getByRole('definition', { name }) finds nothing; the label does.
  const value = (term: string) => machine.getByLabel(term, { exact: true });

  // No alert on the card: a host error would be shown there and would fail this line with its text.
  await expect(value('Kernel release')).toHaveText(kernelRelease());
  await expect(machine.getByRole('alert')).toHaveCount(0);
  await expect(machine.getByText('Ready', { exact: true })).toBeVisible();
  await expect(value('Cgroup version')).toHaveText(String(cgroupVersion()));
  await expect(value('Kernel version')).not.toBeEmpty();
  await expect(value('Distribution')).not.toBeEmpty();
  await expect(value('Machine type')).toHaveText(spawnSync('uname', ['-m'], { encoding: 'utf8' }).stdout.trim());
  await expect(value('CPUs')).toHaveText(/^\d+$/);
  await expect(value('Memory')).toHaveText(/\d.* (GiB|MiB)$/);
  await expect(value('Process ID')).toHaveText(/^\d+$/);
  await expect(page.getByRole('status', { name: 'Connection to Onggi' })).toHaveText('Connected');

  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: join(artifacts, `machines-${project}.png`), fullPage: true });

  // The theme follows the OS, and the language switcher re-labels everything in place.
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.getByRole('combobox', { name: 'Language' }).selectOption('ko');
  await expect(page.getByRole('heading', { level: 1, name: '머신' })).toBeVisible();
  await expect(page.locator('html')).toHaveAttribute('lang', 'ko');
  await expect(machine.getByLabel('커널 릴리스', { exact: true })).toHaveText(kernelRelease());
  await page.screenshot({ path: join(artifacts, `machines-${project}-dark-ko.png`), fullPage: true });
  await page.getByRole('combobox', { name: '언어' }).selectOption('en');
  await page.emulateMedia({ colorScheme: null });
}

test.describe('machines', () => {
  test('browser mode shows the local machine as its kernel reports it', async ({ page, served }, testInfo) => {
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(`${message.text()} (${message.location().url})`);
    });
    page.on('response', (response) => {
      if (response.status() >= 400) errors.push(`${response.status()} ${response.url().replace(/token=[^&]*/, 'token=…')}`);
    });
    await page.goto(served.url);
    await expectLocalMachine(page, testInfo.project.name);
    // Nothing the CSP blocked, nothing thrown.
    expect(errors).toEqual([]);
  });

  test('browser mode refuses requests without the right token', async ({ served, request }) => {
    const page = await request.get(`${served.origin}/`, { maxRedirects: 0 });
    expect([401, 403]).toContain(page.status());
    const wrong = await request.get(`${served.origin}/?token=${'x'.repeat(served.token.length)}`, { maxRedirects: 0 });
    expect([401, 403]).toContain(wrong.status());
    const right = await request.get(served.url);
    expect(right.status()).toBe(200);
  });

  test(
    'the Electron window shows the local machine as its kernel reports it',
    { tag: '@electron-only' },
    async ({ electronWindow }, testInfo) => {
      await expectLocalMachine(electronWindow, testInfo.project.name);
    },
  );
});
