// Ends the agent supervisors and daemons a test's deploys started on the loopback "machine": the
// pids in their run dir's files, and any process whose command line names the test's own temp
// root (nothing else can). Supervisors first, so they do not restart the daemons being stopped.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { terminate } from './isolated-agent.js';

export async function stopRemoteAgents(runDir: string, testRoot: string): Promise<void> {
  const pids = new Set<number>();
  for (const file of ['supervisor.pid', 'agent.pid']) {
    const pid = Number((await readFile(join(runDir, file), 'utf8').catch(() => '')).trim());
    if (Number.isInteger(pid) && pid > 0) pids.add(pid);
  }
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(`${testRoot}/`)) pids.add(Number(entry));
  }
  const isSupervisor = async (pid: number) =>
    (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).includes('onggi-agent-supervisor');
  const ordered = [...pids];
  const flags = await Promise.all(ordered.map(isSupervisor));
  for (const [index, pid] of ordered.entries()) if (flags[index]) await terminate(pid);
  for (const [index, pid] of ordered.entries()) if (!flags[index]) await terminate(pid);
}
