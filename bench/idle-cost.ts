// Case 10: what the window costs when nobody touches it (issue 16, item 7). The real browser-mode
// server (`onggi serve`, the host core) with its real local agent, both in a network namespace of
// the bench's own with the default bridge, 20 containers running on it, and Debian's Chromium on
// the window. Each view is opened, left to settle, then left alone for IDLE_SECONDS while the CPU
// time of exactly our processes is counted: the host core (the serve process) and Chromium (every
// process under this worker that is neither the serve process nor below it); the agent's is
// reported beside them. Goal: ≤ 1 % of one core on every view, ≤ 3 % on a container's Stats tab
// (it samples every second). Results: bench/idle-cost.results.json, rendered by bench/run.mjs.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, expect, test, type Page } from '@playwright/test';
import { chromiumArgs, chromiumPath } from '../e2e/fixtures/chromium';
import { importBusybox, onggi } from '../e2e/fixtures/helpers';
import { destroySandbox, makeSandbox, startServe } from '../e2e/fixtures/serve';

const repoRoot = join(import.meta.dirname, '..');
const IDLE_SECONDS = Number(process.env.ONGGI_IDLE_SECONDS ?? 60);
const SETTLE_MS = 5_000;
const CONTAINERS = 20;
const IMAGE = 'busybox:idle';
const TICK_MS = 1000 / 100; // USER_HZ

/** Every process's parent, from /proc. */
function parents(): Map<number, number> {
  const map = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      map.set(Number(entry), Number(fields[1]));
    } catch {
      // ended while listed
    }
  }
  return map;
}

function descendants(root: number, map: Map<number, number>): Set<number> {
  const found = new Set<number>([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, parent] of map) {
      if (!found.has(pid) && found.has(parent)) {
        found.add(pid);
        grew = true;
      }
    }
  }
  return found;
}

/** user + system time of these processes (their own, not their reaped children's), in ms. */
function cpuMs(pids: Iterable<number>): Map<number, number> {
  const times = new Map<number, number>();
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      times.set(pid, (Number(fields[11]) + Number(fields[12])) * TICK_MS);
    } catch {
      // ended
    }
  }
  return times;
}

/** CPU used over the window by the processes alive at its start and end (a process that ended counts what it used before). */
function used(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, end] of after) total += end - (before.get(pid) ?? 0);
  return total;
}

interface ViewCost {
  hostCorePercent: number;
  browserPercent: number;
  agentPercent: number;
}

test('case 10: the window idle on each view, host core and Chromium CPU', async () => {
  test.setTimeout(600_000 + 6 * IDLE_SECONDS * 1000);
  const netns = `onggi-idle-${process.pid}`;
  const sandbox = await makeSandbox();
  delete sandbox.env.ONGGI_DEFAULT_NETWORK; // its own netns: the default bridge is wanted
  const inNetns = ['nsenter', `--net=/run/netns/${netns}`];
  const must = (argv: string[]) => expect(spawnSync(argv[0] ?? 'false', argv.slice(1)).status, argv.join(' ')).toBe(0);
  let stopServe: (() => Promise<void>) | undefined;
  try {
    must(['ip', 'netns', 'add', netns]);
    must(['ip', '-n', netns, 'link', 'set', 'lo', 'up']);
    const serve = await startServe(sandbox, inNetns);
    stopServe = serve.stop;
    await importBusybox(sandbox, IMAGE, inNetns);
    for (let index = 0; index < CONTAINERS; index++) {
      const run = onggi(sandbox, ['run', '-d', '--name', `idle-${index}`, IMAGE, 'sleep', '3600'], inNetns);
      expect(run.code, run.err).toBe(0);
    }
    const agentPid = Number(readFileSync(sandbox.agentPidFile, 'utf8').trim());
    const wrapper = join(sandbox.dir, 'chromium-in-netns.sh');
    await writeFile(wrapper, `#!/bin/sh\nexec nsenter --net=/run/netns/${netns} ${chromiumPath} "$@"\n`);
    await chmod(wrapper, 0o755);
    const browser = await chromium.launch({ executablePath: wrapper, args: chromiumArgs });
    const costs: Record<string, ViewCost> = {};
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
      // A step that cannot happen fails the case instead of waiting for ever.
      page.setDefaultTimeout(30_000);
      const measure = async (view: string, open: (page: Page) => Promise<void>) => {
        await open(page);
        await page.waitForTimeout(SETTLE_MS); // settle: the first reads and layouts are not idle cost
        const tree = parents();
        const servePids = descendants(serve.served.pid, tree);
        // The browser: what this worker started that is not the serve process (nsenter exec'd into Chromium).
        const browserPids = [...descendants(process.pid, tree)].filter((pid) => pid !== process.pid && !servePids.has(pid));
        const hostBefore = cpuMs([serve.served.pid]);
        const browserBefore = cpuMs(browserPids);
        const agentBefore = cpuMs([agentPid]);
        const started = performance.now();
        // Idle is the measurement itself: nothing is waited for, the clock is what is measured over.
        await page.waitForTimeout(IDLE_SECONDS * 1000);
        const wall = performance.now() - started;
        const percent = (ms: number) => Math.round((ms / wall) * 10_000) / 100;
        costs[view] = {
          hostCorePercent: percent(used(hostBefore, cpuMs([serve.served.pid]))),
          browserPercent: percent(used(browserBefore, cpuMs(browserPids))),
          agentPercent: percent(used(agentBefore, cpuMs([agentPid]))),
        };
        console.log(`idle ${view}: ${JSON.stringify(costs[view])}`);
      };
      const url = serve.served.url;
      await measure(`containers (${CONTAINERS} running)`, async (p) => {
        await p.goto(`${url}#/containers`);
        await expect(p.getByRole('table', { name: 'Containers on local' }).getByRole('row').filter({ hasText: 'idle-19' })).toBeVisible();
      });
      await measure('a container’s Stats tab', async (p) => {
        // The newest: at the top of the (windowed) list, so on screen.
        await p.getByRole('table', { name: 'Containers on local' }).getByRole('button', { name: 'idle-19', exact: true }).click();
        const detail = p.getByRole('region', { name: 'Details of idle-19' });
        await detail.getByRole('tab', { name: 'Stats' }).click();
        await expect(detail.getByRole('figure', { name: 'Memory' })).toBeVisible();
      });
      await measure(`networks graph (${CONTAINERS} containers)`, async (p) => {
        await p.goto(`${url}#/networks`);
        await expect(
          p.getByRole('region', { name: 'Topology of local' }).getByRole('button', { name: /^Container idle-19,/ }),
        ).toBeVisible();
      });
      await measure('terminals (2 sessions)', async (p) => {
        await p.goto(`${url}#/terminals`);
        for (let index = 0; index < 2; index++) await p.getByRole('button', { name: 'New shell on local' }).click();
        await expect(p.getByRole('tablist', { name: 'Open terminals' }).getByRole('tab')).toHaveCount(2);
        await expect(p.getByRole('region', { name: /^Terminal local/ }).locator('.xterm-rows')).toContainText(/[#$]/);
      });
      await measure('activity', async (p) => {
        await p.goto(`${url}#/activity`);
        await expect(p.getByRole('heading', { level: 1, name: 'Activity' })).toBeVisible();
      });
    } finally {
      await browser.close();
    }
    writeFileSync(
      join(repoRoot, 'bench', 'idle-cost.results.json'),
      `${JSON.stringify({ at: new Date().toISOString(), idleSeconds: IDLE_SECONDS, containers: CONTAINERS, views: costs }, null, 2)}\n`,
    );
  } finally {
    await stopServe?.();
    await destroySandbox(sandbox);
    spawnSync('ip', ['netns', 'del', netns]);
  }
});
