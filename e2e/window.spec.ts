// The window against a real local agent in browser mode, clicked as a user would, selecting by role
// and name: run a container with a memory limit from the dialog, watch it run, read its memory
// chart with the limit line, run `hostname` in its terminal, read its logs, remove it; switch to
// Korean; and a screenshot of every view in both themes (the containers view in both languages).
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { artifacts, busyboxTarball, importBusybox, uniqueName } from './fixtures/helpers';
import { expect, test } from './fixtures/serve';

const IMAGE = 'busybox:e2e';

async function setLanguage(page: Page, language: 'en' | 'ko'): Promise<void> {
  const select = page.getByRole('combobox', { name: language === 'en' ? '언어' : 'Language' });
  if ((await select.count()) > 0) await select.selectOption(language);
}

test('run a container from the dialog, chart, terminal, logs, remove', async ({ page, sandbox, served }) => {
  await importBusybox(sandbox, IMAGE);
  const name = uniqueName('e2e-web');
  const hostname = uniqueName('e2e-host');

  await page.goto(`${served.url}#/containers`);
  await expect(page.getByRole('heading', { level: 1, name: 'Containers' })).toBeVisible();
  await page.locator('header').getByRole('button', { name: 'Run container' }).click();

  const dialog = page.getByRole('dialog', { name: 'Run a container' });
  // Validation on the field, with the API's own schema: a size that is not one is refused.
  await dialog.getByLabel('Image').fill(IMAGE);
  await dialog.getByLabel('Memory').fill('lots');
  await dialog.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(dialog.getByLabel('Memory')).toHaveAttribute('aria-invalid', 'true');

  await dialog.getByLabel('Name', { exact: true }).fill(name);
  await dialog.getByLabel('Hostname').fill(hostname);
  await dialog.getByLabel('Command', { exact: true }).fill(`sh -c "echo hello-from-${name}; exec sleep 600"`);
  await dialog.getByLabel('Memory').fill('64m');
  await dialog.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(dialog).toBeHidden();

  const table = page.getByRole('table', { name: 'Containers on local' });
  const row = table.getByRole('row').filter({ hasText: name });
  await expect(row).toContainText('Running');

  await row.getByRole('button', { name, exact: true }).click();
  const detail = page.getByRole('region', { name: `Details of ${name}` });
  await expect(detail).toBeVisible();

  // Stats: the memory chart with its limit drawn as a line.
  await detail.getByRole('tab', { name: 'Stats' }).click();
  const memory = detail.getByRole('figure', { name: 'Memory' });
  await expect(memory.getByRole('img', { name: 'Limit 64 MiB' })).toBeVisible();
  // Sampled every second: the usage line grows a segment per sample (it may be flat, so no box).
  await expect(memory.getByRole('img', { name: 'Usage' })).toHaveAttribute('d', /L.*L/);

  // Terminal: an exec of /bin/sh inside the container.
  await detail.getByRole('tab', { name: 'Terminal' }).click();
  const terminal = detail.getByRole('region', { name: `Terminal local › ${name}` });
  await expect(terminal.locator('.xterm-rows')).toContainText('#');
  await terminal.locator('.xterm-helper-textarea').focus();
  await page.keyboard.type('hostname\n');
  await expect(terminal.locator('.xterm-rows')).toContainText(hostname);
  await page.screenshot({ path: join(artifacts, 'containers-terminal-light-en.png') });

  // Logs: what the container printed.
  await detail.getByRole('tab', { name: 'Logs' }).click();
  await expect(detail.getByRole('table', { name: `Logs of ${name}` })).toContainText(`hello-from-${name}`);

  // Both themes, both languages, for the containers view (with the detail open).
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    for (const language of ['en', 'ko'] as const) {
      await setLanguage(page, language);
      await expect(page.getByRole('heading', { level: 1, name: language === 'en' ? 'Containers' : '컨테이너' })).toBeVisible();
      await page.screenshot({ path: join(artifacts, `containers-${colorScheme}-${language}.png`), animations: 'disabled' });
    }
    await setLanguage(page, 'en');
  }
  await page.emulateMedia({ colorScheme: 'light' });

  // The Terminals view lists the same session (sessions outlive the tab).
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('button', { name: 'Terminals' }).click();
  await expect(page.getByRole('tab', { name: `local › ${name}` })).toBeVisible();
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('button', { name: 'Containers' }).click();

  // Remove, confirmed in a dialog.
  await table.getByRole('button', { name: `Remove ${name}` }).click();
  const confirm = page.getByRole('alertdialog', { name: `Remove ${name}?` }).or(page.getByRole('dialog', { name: `Remove ${name}?` }));
  await confirm.getByRole('button', { name: 'Remove', exact: true }).click();
  await expect(table.getByRole('row').filter({ hasText: name })).toHaveCount(0);
});

test('switching to Korean changes the sidebar labels', async ({ page, served }) => {
  await page.goto(`${served.url}#/machines`);
  const nav = page.getByRole('navigation', { name: 'Sections' });
  await expect(nav.getByRole('button', { name: 'Containers' })).toBeVisible();
  await page.getByRole('combobox', { name: 'Language' }).selectOption('ko');
  const korean = page.getByRole('navigation', { name: '섹션' });
  for (const label of ['머신', '컨테이너', '이미지', '네트워크', '터미널', '활동']) {
    await expect(korean.getByRole('button', { name: label })).toBeVisible();
  }
  await expect(page.locator('html')).toHaveAttribute('lang', 'ko');
  await page.getByRole('combobox', { name: '언어' }).selectOption('en');
  await expect(nav.getByRole('button', { name: 'Containers' })).toBeVisible();
});

test('import an image from the Images view; screenshots of every view, both themes', async ({ page, sandbox, served }) => {
  const tarball = await busyboxTarball(sandbox);
  await page.goto(`${served.url}#/images`);
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Import an image from a tarball' });
  await dialog.getByLabel('Path on the machine').fill('relative/path.tar');
  await expect(dialog.getByLabel('Path on the machine')).toHaveAttribute('aria-invalid', 'true');
  await dialog.getByLabel('Path on the machine').fill(tarball);
  await dialog.getByLabel('Kind').selectOption('rootfs');
  await expect(dialog.getByLabel('Name')).toHaveAttribute('aria-invalid', 'true');
  await dialog.getByLabel('Name').fill(IMAGE);
  await dialog.getByRole('button', { name: 'Import', exact: true }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByRole('table', { name: 'Images on local' })).toContainText(IMAGE);

  const views = [
    ['machines', 'Machines'],
    ['containers', 'Containers'],
    ['images', 'Images'],
    ['networks', 'Networks'],
    ['volumes', 'Volumes'],
    ['terminals', 'Terminals'],
    ['activity', 'Activity'],
  ] as const;
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    for (const [view, title] of views) {
      await page.getByRole('navigation', { name: 'Sections' }).getByRole('button', { name: title }).click();
      await expect(page.getByRole('heading', { level: 1, name: title })).toBeVisible();
      await expect(page.getByRole('status').filter({ hasText: /Loading|Reading|Looking/ })).toHaveCount(0);
      if (view === 'images') await expect(page.getByRole('table', { name: 'Images on local' })).toContainText(IMAGE);
      // Finished theme transitions (120 ms): otherwise controls are caught half-way between themes.
      await page.screenshot({ path: join(artifacts, `${view}-${colorScheme}-en.png`), animations: 'disabled' });
    }
  }
});
