// The first run of a Mac user, in browser mode on this Linux machine: `onggi serve` is told it runs
// on Apple Silicon (ONGGI_TEST_PLATFORM, read only for tests), so its host core has no local
// machine and looks for the Mac's programs. Its PATH holds one folder of tiny stand-ins that print
// versions as vagrant and VBoxManage do. The window opens on the welcome: Vagrant found, no
// hypervisor, the brew line for VirtualBox; once a VBoxManage appears, Check again makes it ready.
// Then an SSH host (a real sshd on loopback) is added from the welcome's own button: the welcome
// gives way, the machine is chosen, and `onggi` run like the app agrees on it.
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startSshd, type Sshd } from '../build/testing/sshd.js';
import { artifacts, onggi, sshConfigHost } from './fixtures/helpers';
import { expect, startServe, test, type Sandbox } from './fixtures/serve';

const MACHINE = 'e2e-first';

async function standIn(dir: string, name: string, output: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, `#!/bin/sh\nprintf '%s\\n' '${output}'\n`);
  await chmod(file, 0o755);
  return file;
}

test('off Linux the window opens on a welcome that says what to install, and gives way to the first machine', async ({
  page,
  sandbox,
}, testInfo) => {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });

  const tools = join(sandbox.dir, 'tools');
  await mkdir(tools);
  const vagrant = await standIn(tools, 'vagrant', 'Vagrant 2.4.9');
  const mac: Sandbox = { ...sandbox, env: { ...sandbox.env, PATH: tools, ONGGI_TEST_PLATFORM: 'darwin/arm64' } };
  const serve = await startServe(mac);
  let sshd: Sshd | undefined;
  try {
    await page.goto(serve.served.url);
    await expect(page.getByRole('heading', { level: 1, name: 'Welcome to Onggi' })).toBeVisible();
    await expect(page.getByText(/A Mac is not one, so Onggi needs a Linux VM on this Mac/)).toBeVisible();
    const found = page.getByRole('list', { name: 'Found on this computer' });
    const row = (name: string) => found.getByRole('listitem').filter({ hasText: name });
    await expect(row('Vagrant')).toContainText('Vagrant 2.4.9');
    await expect(row('Vagrant')).toContainText('Found');
    await expect(row('Vagrant')).toContainText(vagrant);
    for (const name of ['VirtualBox', 'VMware Fusion', 'Parallels Desktop']) await expect(row(name)).toContainText('Not found');
    await expect(page.getByText('brew install --cask virtualbox', { exact: true })).toBeVisible();
    await expect(page.getByText('Homebrew is not installed: get it from brew.sh first, or use the download pages.')).toBeVisible();
    await expect(page.getByRole('link', { name: 'VirtualBox' })).toHaveAttribute('href', 'https://www.virtualbox.org/wiki/Downloads');
    await expect(page.getByRole('button', { name: 'Add a Vagrant VM' })).toBeDisabled();
    // Every section shows the welcome while there is no machine: none says `no machine named "local"`.
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('button', { name: 'Containers' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Welcome to Onggi' })).toBeVisible();
    await expect(page.getByText(/no machine named/)).toHaveCount(0);
    await page.screenshot({ path: join(artifacts, 'welcome-light-en.png'), fullPage: true });

    await page.emulateMedia({ colorScheme: 'dark' });
    await page.getByRole('combobox', { name: 'Language' }).selectOption('ko');
    await expect(page.getByRole('heading', { level: 1, name: '옹기에 오신 것을 환영합니다' })).toBeVisible();
    await expect(page.getByRole('heading', { level: 2, name: '이 Mac의 리눅스 VM' })).toBeVisible();
    await page.screenshot({ path: join(artifacts, 'welcome-dark-ko.png'), fullPage: true });
    await page.getByRole('combobox', { name: '언어' }).selectOption('en');
    await page.emulateMedia({ colorScheme: null });

    // VirtualBox installed meanwhile: Check again finds it, and a Vagrant VM can be added on it.
    await standIn(tools, 'VBoxManage', '7.2.4r170995');
    await page.getByRole('button', { name: 'Check again' }).click();
    await expect(page.getByText('Ready: a new VM will use the virtualbox provider.')).toBeVisible();
    await expect(row('VirtualBox')).toContainText('VirtualBox 7.2.4');
    await page.getByRole('button', { name: 'Add a Vagrant VM' }).click();
    const vagrantDialog = page.getByRole('dialog', { name: 'Add a Vagrant VM' });
    await expect(vagrantDialog.getByRole('combobox', { name: 'Vagrant provider' })).toHaveValue('virtualbox');
    await vagrantDialog.getByRole('button', { name: 'Cancel' }).click();

    // The other way: an SSH host, with the Machines view's own dialog.
    sshd = await startSshd();
    await sshConfigHost(sandbox, MACHINE, sshd);
    await page.getByRole('button', { name: 'Add an SSH host' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add an SSH host' });
    await dialog.getByRole('combobox', { name: 'Host from ~/.ssh/config' }).selectOption(MACHINE);
    await dialog.getByRole('button', { name: 'Add', exact: true }).click();
    await page.getByRole('alertdialog', { name: 'Trust this host key?' }).getByRole('button', { name: 'Accept' }).click();
    await expect(dialog).toBeHidden();

    // The welcome gives way; the only machine is the one the sections act on.
    await expect(page.getByRole('heading', { level: 1, name: 'Containers' })).toBeVisible();
    await expect(page.getByRole('combobox', { name: 'Machine' })).toHaveValue(MACHINE);
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('button', { name: 'Machines' }).click();
    await expect(page.getByRole('region', { name: MACHINE, exact: true }).getByText('Stopped', { exact: true })).toBeVisible();
    await expect(page.getByRole('heading', { name: 'Welcome to Onggi' })).toHaveCount(0);

    // The CLI, on the same data folder and the same (pretend) Mac, acts on that machine too.
    const listed = onggi(mac, ['machine', 'ls']);
    expect(listed.err).toBe('');
    expect(listed.out).toMatch(new RegExp(`^${MACHINE} +ssh +stopped +root@127\\.0\\.0\\.1:${sshd.port} +\\*$`, 'm'));
    expect(errors).toEqual([]);
  } finally {
    await serve.stop();
    await sshd?.stop();
    const stderr = serve.stderr();
    if (stderr) await testInfo.attach('serve-stderr', { body: stderr, contentType: 'text/plain' });
  }
});

test('on Windows on ARM the welcome gives the winget line for Vagrant and switches Hyper-V on from an administrator PowerShell', async ({
  page,
  sandbox,
}) => {
  // Nothing of Windows is on this machine: every program is missing, and the hints are Windows'.
  const pc: Sandbox = { ...sandbox, env: { ...sandbox.env, ONGGI_TEST_PLATFORM: 'win32/arm64' } };
  const serve = await startServe(pc);
  try {
    await page.goto(serve.served.url);
    await expect(page.getByRole('heading', { level: 2, name: 'A Linux VM on this PC' })).toBeVisible();
    const found = page.getByRole('list', { name: 'Found on this computer' });
    await expect(found.getByRole('listitem')).toHaveText([/^Vagrant/, /^Hyper-V/, /^VMware Workstation/, /^VirtualBox/]);
    await expect(page.getByText('winget install -e --id Hashicorp.Vagrant', { exact: true })).toBeVisible();
    await expect(
      page.getByText('Enable-WindowsOptionalFeature -Online -FeatureName Microsoft-Hyper-V -All', { exact: true }),
    ).toBeVisible();
    await expect(page.getByText('Turn on Hyper-V', { exact: true })).toBeVisible();
    await expect(page.getByText('In PowerShell opened with “Run as administrator”, then restart Windows:')).toBeVisible();
    await page.screenshot({ path: join(artifacts, 'welcome-win32-arm64-light-en.png'), fullPage: true });
  } finally {
    await serve.stop();
  }
});
