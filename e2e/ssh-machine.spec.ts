// An SSH machine added, connected and removed from the window, against a real sshd on loopback: the
// host is picked from the served app's ~/.ssh/config, the host-key dialog shows the fingerprint
// `ssh-keygen -lf` prints for the sshd's key, Connect deploys the real agent (progress bar, then
// Ready with the kernel's release), the switcher says ready, Remove forgets it. The deployed agent
// lives under the sandbox (install, run and state dirs given in the dialog, containers under the
// sandbox's cgroup parent, no default bridge) and is stopped by pid at the end, pass or fail.
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isAlive } from '../build/testing/isolated-agent.js';
import { startSshd, type Sshd } from '../build/testing/sshd.js';
import { stopRemoteAgents } from '../build/testing/remote-agent.js';
import { artifacts, sshConfigHost } from './fixtures/helpers';
import { expect, test } from './fixtures/serve';

const MACHINE = 'e2e-box';

/** Processes whose command line names a path under `root` (only the deployed agent's can). */
async function processesUnder(root: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    // a process that ended while listing has no command line to match
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(`${root}/`)) found.push(Number(entry));
  }
  return found;
}

async function pidIn(file: string): Promise<number> {
  return Number((await readFile(file, 'utf8')).trim());
}

test('add an SSH host from ~/.ssh/config, trust its key, connect, deploy, remove', async ({ page, sandbox, served }, testInfo) => {
  test.setTimeout(240_000);
  const remote = join(sandbox.dir, 'remote');
  const layout = { installRoot: join(remote, 'opt'), runDir: join(remote, 'run'), stateDir: join(remote, 'state') };
  // The agent inherits the SSH session's environment: the sandbox's cgroup parent and no default bridge.
  const sshd: Sshd = await startSshd({
    cleanShell: false,
    config: [`SetEnv SHLVL=1 ONGGI_CGROUP_PARENT=${sandbox.cgroupParent} ONGGI_DEFAULT_NETWORK=none`],
  });
  try {
    await sshConfigHost(sandbox, MACHINE, sshd);

    await page.goto(served.url);
    await page.getByRole('button', { name: 'Add an SSH host' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add an SSH host' });
    await dialog.getByRole('combobox', { name: 'Host from ~/.ssh/config' }).selectOption(MACHINE);
    await expect(dialog.getByRole('textbox', { name: 'Host' })).toHaveValue('127.0.0.1');
    await expect(dialog.getByRole('textbox', { name: 'Port' })).toHaveValue(String(sshd.port));
    await expect(dialog.getByRole('textbox', { name: 'Name' })).toHaveValue(MACHINE);
    await expect(dialog.getByText('Key files: user_ed25519')).toBeVisible();
    await dialog.getByText('Where the agent lives on the machine').click();
    await dialog.getByRole('textbox', { name: 'Install directory' }).fill(layout.installRoot);
    await dialog.getByRole('textbox', { name: 'Run directory' }).fill(layout.runDir);
    await dialog.getByRole('textbox', { name: 'State directory' }).fill(layout.stateDir);
    await dialog.getByRole('combobox', { name: 'Kept running by' }).selectOption('background');
    await dialog.screenshot({ path: join(artifacts, 'ssh-add-dialog.png') });
    await dialog.getByRole('button', { name: 'Add', exact: true }).click();

    // Adding connects once: the unknown host key is asked about, with the fingerprint ssh-keygen prints.
    const question = page.getByRole('alertdialog', { name: 'Trust this host key?' });
    await expect(question.getByLabel('Fingerprint', { exact: true })).toHaveText(sshd.hostKeyFingerprint());
    await expect(question.getByLabel('Address', { exact: true })).toHaveText(`127.0.0.1:${sshd.port}`);
    await expect(question.getByLabel('Key type', { exact: true })).toHaveText('ssh-ed25519');
    await question.screenshot({ path: join(artifacts, 'ssh-host-key-dialog.png') });
    await question.getByRole('button', { name: 'Accept' }).click();
    await expect(dialog).toBeHidden();

    const card = page.getByRole('region', { name: MACHINE, exact: true });
    await expect(card.getByText('SSH host', { exact: true })).toBeVisible();
    await expect(card.getByText('Stopped', { exact: true })).toBeVisible();
    const connectAt = Date.now();
    await card.getByRole('button', { name: `Connect to ${MACHINE}` }).click();
    // The first deploy uploads the runtime and the agent: the bar shows while it runs.
    await expect(card.getByRole('progressbar', { name: `Agent deploy to ${MACHINE}` })).toBeVisible();
    await expect(card.getByText('Ready', { exact: true })).toBeVisible({ timeout: 120_000 });
    testInfo.annotations.push({ type: 'connect-to-ready-ms', description: String(Date.now() - connectAt) });
    console.log(`[ssh-machine] Connect → Ready (first deploy, runtime + agent uploaded): ${Date.now() - connectAt} ms`);
    await expect(card.getByRole('progressbar')).toHaveCount(0);
    const release = spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim();
    await expect(card.getByLabel('Kernel release', { exact: true })).toHaveText(release);
    await expect(card.getByRole('alert')).toHaveCount(0);

    // The switcher of the machine-scoped views says it is ready; picking it lists its containers (none).
    const sections = page.getByRole('navigation', { name: 'Sections' });
    await sections.getByRole('button', { name: 'Containers' }).click();
    const switcher = page.getByRole('combobox', { name: 'Machine' });
    await expect(switcher.locator('option', { hasText: `${MACHINE} — Ready` })).toHaveCount(1);
    await expect(switcher.locator('option', { hasText: 'local — ' })).toHaveCount(1);
    await switcher.selectOption(MACHINE);
    await expect(page.getByRole('heading', { level: 2, name: 'No containers yet' })).toBeVisible();
    await expect(page.getByRole('alert')).toHaveCount(0);

    // The run dialog on a remote machine offers a folder of this computer, typed in browser mode; one
    // in no shared folder is refused on its row, naming the command, and shared from there.
    const project = join(sandbox.dir, 'project');
    await mkdir(project);
    await page.getByRole('button', { name: 'Run container' }).first().click();
    const run = page.getByRole('dialog', { name: 'Run a container' });
    await run.getByRole('combobox', { name: 'Image' }).fill('busybox');
    await run.getByRole('button', { name: 'Add a mount' }).click();
    await run.getByRole('combobox', { name: 'Kind of mount 1' }).selectOption('desktop');
    await expect(run.getByText(/Browser mode has no folder dialog/)).toBeVisible();
    await run.getByRole('textbox', { name: 'Folder of this computer, mount 1' }).fill(project);
    await run.getByRole('textbox', { name: 'Path in the container, mount 1' }).fill('/app');
    await run.getByRole('button', { name: 'Run', exact: true }).click();
    const refusal = run.getByRole('alert');
    await expect(refusal).toContainText(`onggi machine share ${MACHINE} ${project}`);
    await run.screenshot({ path: join(artifacts, 'run-dialog-desktop-folder-refused.png') });
    await refusal.getByRole('button', { name: `Share this folder with ${MACHINE}` }).click();
    await expect(run.getByRole('status').filter({ hasText: `Shared with ${MACHINE}.` })).toBeVisible();
    expect(JSON.parse(await readFile(join(sandbox.dir, 'home', 'machines.json'), 'utf8')).machines[0].shares).toEqual([
      { path: project, readOnly: false },
    ]);
    await run.getByRole('button', { name: 'Cancel' }).click();
    await switcher.selectOption('local');
    await sections.getByRole('button', { name: 'Machines' }).click();

    // The agent answering the window is the one deployed under the sandbox.
    const agentPid = await pidIn(join(layout.runDir, 'agent.pid'));
    const supervisorPid = await pidIn(join(layout.runDir, 'supervisor.pid'));
    await expect(card.getByLabel('Process ID', { exact: true })).toHaveText(String(agentPid));
    expect(isAlive(agentPid) && isAlive(supervisorPid)).toBe(true);

    await card.getByRole('button', { name: `Remove ${MACHINE}` }).click();
    await page
      .getByRole('alertdialog', { name: `Remove ${MACHINE}?` })
      .getByRole('button', { name: 'Remove', exact: true })
      .click();
    await expect(card).toBeHidden();
    await sections.getByRole('button', { name: 'Containers' }).click();
    await expect(switcher.locator('option', { hasText: 'local — ' })).toHaveCount(1);
    await expect(switcher.locator('option', { hasText: MACHINE })).toHaveCount(0);

    // Removing forgets the machine; its agent keeps running there, as it would on a real host. Ours is stopped here.
    await stopRemoteAgents(layout.runDir, remote);
    expect(isAlive(agentPid)).toBe(false);
    expect(isAlive(supervisorPid)).toBe(false);
    expect(await processesUnder(remote)).toEqual([]);
  } finally {
    await stopRemoteAgents(layout.runDir, remote);
    await sshd.stop();
  }
});
