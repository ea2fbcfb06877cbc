// Networks in the window, without touching this machine's own network: the test makes a network
// namespace, runs `onggi serve` (and so its local agent) and the browser inside it, creates a
// network and two containers from the window, and checks the graph against `onggi topology --json`
// read from the same agent; then probes one container from the other. Everything it made (netns,
// containers, cgroups, mounts, processes by pid) is removed in `finally`, pass or fail.
import { spawnSync } from 'node:child_process';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium } from '@playwright/test';
import { Topology } from '../shared/networks.js';
import { chromiumArgs, chromiumPath } from './fixtures/chromium';
import { artifacts, importBusybox, onggi, uniqueName } from './fixtures/helpers';
import { destroySandbox, expect, makeSandbox, startServe, test } from './fixtures/serve';

const IMAGE = 'busybox:e2enet';

function must(argv: string[]): void {
  const result = spawnSync(argv[0] ?? 'false', argv.slice(1), { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${argv.join(' ')} failed: ${result.stderr}`);
}

test('create a network, run two containers on it, the graph draws them as the kernel reports, probe is green', async () => {
  test.setTimeout(240_000);
  const netns = `onggi-e2e-${process.pid}-${Math.random().toString(36).slice(2, 6)}`;
  // A namespace made by hand beside it, wired to it by a veth: the graph draws it as not Onggi's.
  const lab = `${netns}-lab`;
  const sandbox = await makeSandbox();
  // The agent here is in a netns of its own: it may have its default bridge.
  delete sandbox.env.ONGGI_DEFAULT_NETWORK;
  const inNetns = ['nsenter', `--net=/run/netns/${netns}`];
  let stopServe: (() => Promise<void>) | undefined;
  try {
    must(['ip', 'netns', 'add', netns]);
    must(['ip', '-n', netns, 'link', 'set', 'lo', 'up']);
    // The machine's uplink: a veth pair in the netns (this kernel has no dummy links), addressed,
    // with the default route through it.
    must(['ip', '-n', netns, 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'up1']);
    must(['ip', '-n', netns, 'addr', 'add', '192.0.2.10/24', 'dev', 'up0']);
    must(['ip', '-n', netns, 'link', 'set', 'up1', 'up']);
    must(['ip', '-n', netns, 'link', 'set', 'up0', 'up']);
    must(['ip', '-n', netns, 'route', 'add', 'default', 'via', '192.0.2.1', 'dev', 'up0']);
    must(['ip', 'netns', 'add', lab]);
    must(['ip', '-n', netns, 'link', 'add', 'lab0', 'type', 'veth', 'peer', 'name', 'lab1', 'netns', lab]);
    must(['ip', '-n', lab, 'addr', 'add', '10.9.9.2/24', 'dev', 'lab1']);
    const serve = await startServe(sandbox, inNetns);
    stopServe = serve.stop;
    await importBusybox(sandbox, IMAGE, inNetns);

    // The browser joins the same netns: 127.0.0.1 there is where serve listens.
    const wrapper = join(sandbox.dir, 'chromium-in-netns.sh');
    await writeFile(wrapper, `#!/bin/sh\nexec nsenter --net=/run/netns/${netns} ${chromiumPath} "$@"\n`);
    await chmod(wrapper, 0o755);
    const browser = await chromium.launch({ executablePath: wrapper, args: chromiumArgs });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
      await page.goto(`${serve.served.url}#/networks`);
      await expect(page.getByRole('heading', { level: 1, name: 'Networks' })).toBeVisible();

      // Create, with the subnet checked as it is typed.
      const network = uniqueName('e2enet').slice(0, 20);
      const form = page.getByRole('form', { name: 'Create a network' });
      await form.getByLabel('Name').fill(network);
      await form.getByLabel('Subnet').fill('10.201.0.1/24');
      await expect(form.getByLabel('Subnet')).toHaveAttribute('aria-invalid', 'true');
      await expect(form).toContainText('host bits set');
      await form.getByLabel('Subnet').fill('10.201.0.0/24');
      await expect(form.getByLabel('Subnet')).not.toHaveAttribute('aria-invalid', 'true');
      await form.getByRole('button', { name: 'Create network' }).click();
      const networks = page.getByRole('table', { name: 'Networks on local' });
      await expect(networks.getByRole('row').filter({ hasText: network })).toContainText('10.201.0.0/24');

      // Two containers on it (the run dialog has no network field yet: the CLI attaches them).
      const names = [uniqueName('e2e-a'), uniqueName('e2e-b')];
      for (const name of names) {
        // The first one publishes a port: an entry point on the graph.
        const publish = name === names[0] ? ['-p', '18480:80'] : [];
        const run = onggi(sandbox, ['run', '-d', '--name', name, '--network', network, ...publish, IMAGE, 'sleep', '600'], inNetns);
        expect(run.code, run.err).toBe(0);
      }

      // What the kernel reports, read by the CLI from the same agent.
      const cli = onggi(sandbox, ['topology', '--json'], inNetns);
      expect(cli.code, cli.err).toBe(0);
      const topology = Topology.parse(JSON.parse(cli.out));
      const bridge = topology.networks.find((candidate) => candidate.name === network);
      expect(bridge).toBeDefined();
      const machineNs = topology.namespaces.find((ns) => ns.kind === 'machine');
      const bridgeAddress = machineNs?.addresses.find((address) => address.ifname === bridge?.bridge && address.family === 'inet');
      expect(bridgeAddress?.address).toBe('10.201.0.1');

      const graph = page.getByRole('region', { name: 'Topology of local' });
      await expect(
        graph.getByRole('img', {
          name: new RegExp(`^Bridge ${bridge?.bridge}, network ${network}, ${bridge?.bridge} 10\\.201\\.0\\.1/24`),
        }),
      ).toBeVisible();
      for (const name of names) {
        const ns = topology.namespaces.find((candidate) => candidate.container?.name === name);
        const address = ns?.addresses.find((candidate) => candidate.family === 'inet' && candidate.ifname === 'eth0');
        expect(address, `${name} has an eth0 address in the topology`).toBeDefined();
        const cidr = `${address?.address}/${address?.prefixLength}`;
        await expect(graph.getByRole('button', { name: `Container ${name}, eth0 ${cidr}, up` })).toBeVisible();
        // Its veth pair: the host end on the bridge, eth0 inside.
        const hostEnd = machineNs?.links.find(
          (link) => link.kind === 'veth' && link.master === bridge?.bridge && link.peer?.netns === ns?.inode,
        );
        expect(hostEnd, `${name}'s host veth is on ${bridge?.bridge}`).toBeDefined();
        await expect(graph.getByRole('img', { name: `veth pair ${hostEnd?.name} ↔ eth0` })).toBeVisible();
      }

      // The whole path: the uplink, the network's NAT through it, the published port DNAT'd to its
      // container, the hand-made namespace marked as not Onggi's, and each veth's traffic.
      await expect(graph.getByRole('img', { name: /^Uplink up0, the machine’s way out, up0 192\.0\.2\.10\/24/ })).toBeVisible();
      await expect(
        graph.getByRole('img', { name: 'bridge in the root namespace; outbound NAT (MASQUERADE) of 10.201.0.0/24 through up0' }),
      ).toHaveCount(1);
      await expect(graph.getByRole('img', { name: `Published port 0.0.0.0:18480/tcp → ${names[0]}:80/tcp` })).toBeVisible();
      await expect(
        graph.getByRole('img', { name: new RegExp(`^Network namespace ${lab}, lab1 10\\.9\\.9\\.2/24 \\(not Onggi’s\\)$`) }),
      ).toBeVisible();
      await expect(graph.getByRole('img', { name: /^veth pair lab0 ↔ lab1.*\(not Onggi’s\)$/ })).toHaveCount(1);
      await expect(graph.getByRole('img', { name: /^veth pair \S+ ↔ eth0, sent \S+.*, received / })).toHaveCount(2);
      // Readable at Fit: the graph is never shrunk below the zoom its 9–11 px labels stay legible at.
      await graph.getByRole('button', { name: 'Fit' }).click();
      // The stage’s transform is set inline (`translate(…) scale(K)`) when Fit is pressed.
      const scaleOf = () =>
        graph
          .locator('.graph-stage')
          .evaluate((element) => (element as unknown as { style: { transform: string } }).style.transform)
          .then((transform) => Number(/scale\(([\d.]+)\)/.exec(transform)?.[1] ?? Number.NaN));
      await expect.poll(scaleOf).toBeGreaterThanOrEqual(0.8);
      // And whole: in a 1280 px window every node of this small graph is inside the canvas.
      const canvasBox = await graph.getByRole('group', { name: /^Topology graph:/ }).boundingBox();
      const nodes = await graph.locator('.graph-node').all();
      expect(nodes.length).toBeGreaterThanOrEqual(7);
      for (const node of nodes) {
        const box = await node.boundingBox();
        const name = await node.getAttribute('aria-label');
        expect(
          box && canvasBox && box.x >= canvasBox.x && box.x + box.width <= canvasBox.x + canvasBox.width,
          `${name} is inside the canvas`,
        ).toBe(true);
      }

      // Probe one from the other: picked on the graph, the answer in the status line, the path green.
      await graph.getByRole('button', { name: new RegExp(`^Container ${names[0]},`) }).click();
      await graph.getByRole('button', { name: new RegExp(`^Container ${names[1]},`) }).click();
      const probe = page.getByRole('status', { name: 'Connectivity probe' });
      await expect(probe).toContainText(`${names[0]} reaches ${names[1]}`);
      await expect(graph.locator('.graph-edge--ok')).toHaveCount(2);
      await graph.getByRole('button', { name: 'Fit' }).click();
      for (const colorScheme of ['light', 'dark'] as const) {
        await page.emulateMedia({ colorScheme });
        // Finished theme transitions: otherwise the buttons are caught half-way, light grey in dark.
        await page.screenshot({ path: join(artifacts, `networks-graph-${colorScheme}-en.png`), animations: 'disabled' });
      }
    } finally {
      await browser.close();
    }
  } finally {
    await stopServe?.();
    await destroySandbox(sandbox);
    spawnSync('ip', ['netns', 'del', netns]);
    spawnSync('ip', ['netns', 'del', lab]);
  }
});
