// The window's layout as a person sees it, at 1280×860, over a stand-in host core with synthetic
// data (30 containers, 1,000 activity steps): the tables fill the height the window gives them and
// stay windowed; an activity row keeps its command and its scope apart; the networks page's inputs
// and graph buttons follow the dark theme. "Visible" is what the pointer would hit: the row under
// each row's centre point (document.elementFromPoint), so a row clipped by a too-short table or
// pushed below the window does not count.
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import type { HostCore } from '../electron/core/host-core.js';
import { startServe, type RunningServe } from '../electron/serve/serve.js';
import type { ActivityEntry } from '../shared/agent-rpc.js';
import type { ContainerSummary } from '../shared/containers.js';
import type { HostEvent } from '../shared/host-api.js';
import type { NetworkSummary } from '../shared/networks.js';
import { syntheticTopology } from '../renderer/src/views/networks/topology-fixture.js';
import { artifacts } from './fixtures/helpers';
import { repoRoot } from './fixtures/serve';
import { expect, test } from '@playwright/test';

const CONTAINERS = 30;
const STEPS = 1_000;

/** Images a developer's machine has: what the rows show. */
const IMAGES = ['nginx:1.27', 'postgres:16', 'redis:7-alpine', 'busybox:latest', 'node:22-bookworm', 'registry.local/team/api:2.3.1'];

/**
 * Containers as a developer's machine has them (the screenshots are judged by these): several
 * images, published ports, a paused one, an unhealthy and a healthy one, two that exited.
 */
function containers(count: number): ContainerSummary[] {
  return Array.from({ length: count }, (_, index) => {
    const exited = index === 7 || index === 8;
    const started = new Date(Date.now() - index * 60_000).toISOString();
    return {
      id: index.toString(16).padStart(64, '0'),
      name: `layout-${index}`,
      image: IMAGES[index % IMAGES.length] ?? 'busybox:latest',
      imageId: `sha256:${(index % IMAGES.length).toString(16).repeat(64)}`,
      command: index % IMAGES.length === 0 ? ['nginx', '-g', 'daemon off;'] : ['sleep', '600'],
      state: exited ? 'exited' : 'running',
      pid: exited ? null : 10_000 + index,
      exitCode: exited ? (index === 7 ? 0 : 137) : null,
      oomKilled: index === 8,
      error: null,
      createdAt: started,
      startedAt: started,
      finishedAt: exited ? new Date(Date.now() - index * 30_000).toISOString() : null,
      ports:
        index === 0
          ? [{ hostIp: '0.0.0.0', hostPort: 8080, containerPort: 80, protocol: 'tcp' }]
          : index === 1
            ? [{ hostIp: '127.0.0.1', hostPort: 5432, containerPort: 5432, protocol: 'tcp' }]
            : index === 3
              ? [{ hostIp: '0.0.0.0', hostPort: 53, containerPort: 53, protocol: 'udp' }]
              : [],
      ...(index === 2 ? { paused: true } : {}),
      ...(index === 4 ? { health: { status: 'unhealthy' as const, failingStreak: 3, log: [] } } : {}),
      ...(index === 5 ? { health: { status: 'healthy' as const, failingStreak: 0, log: [] } } : {}),
      ...(index % 4 === 1 ? { labels: { 'com.example.team': 'payments' } } : {}),
    };
  });
}

function activity(count: number): ActivityEntry[] {
  return Array.from({ length: count }, (_, index) => ({
    id: index + 1,
    at: new Date(Date.now() - (count - index) * 1000).toISOString(),
    kind: 'command',
    argv: ['nsenter', `--net=/proc/${1000 + index}/ns/net`, 'busybox', 'ping', '-c', '1', '-W', '1', '192.168.2.4'],
    ok: true,
    durationMs: 3,
    container: `front-${index % 5}`,
  }));
}

function networks(): NetworkSummary[] {
  return Array.from({ length: 3 }, (_, index) => ({
    id: index.toString(16).padStart(64, 'a'),
    name: `net-${index}`,
    driver: 'bridge',
    bridge: `onggi${index}`,
    subnet: `10.88.${index}.0/24`,
    gateway: `10.88.${index}.1`,
    isDefault: index === 0,
    createdAt: new Date().toISOString(),
    containers: 10,
  }));
}

/** Answers the methods the views ask for; anything else is an empty answer. */
function standInCore(): HostCore {
  const answers: Record<string, unknown> = {
    'app.version': { version: 'layout', platform: 'linux', secretVault: false },
    'machines.list': [{ name: 'local', provider: 'local', state: 'ready' }],
    'containers.list': containers(CONTAINERS),
    'activity.list': activity(STEPS),
    'containers.logs': { entries: [] },
    'images.list': [],
    'networks.list': networks(),
    'topology.snapshot': syntheticTopology(10, 3),
  };
  const core = {
    call: (method: string) => Promise.resolve(Object.hasOwn(answers, method) ? answers[method] : []),
    onEvent: (_listener: (event: HostEvent) => void) => () => undefined,
  };
  return core as unknown as HostCore;
}

let served: RunningServe | undefined;

test.beforeAll(async () => {
  served = await startServe({ core: standInCore(), rendererDir: join(repoRoot, 'dist', 'renderer'), port: 0 });
});

test.afterAll(async () => {
  await served?.close();
});

/** The little of the page's DOM the measuring code uses (this file is type-checked without the DOM library). */
interface PageElement {
  getBoundingClientRect(): { left: number; right: number; top: number; width: number; height: number };
  readonly textContent: string | null;
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): Iterable<PageElement>;
  closest(selector: string): PageElement | null;
  readonly style: { background: string };
  remove(): void;
}
interface PageGlobals {
  document: {
    querySelector(selector: string): PageElement | null;
    querySelectorAll(selector: string): Iterable<PageElement>;
    elementFromPoint(x: number, y: number): PageElement | null;
    createElement(tag: string): PageElement;
    body: { append(element: PageElement): void };
  };
  innerHeight: number;
  getComputedStyle(element: unknown): { paddingBottom: string; backgroundColor: string };
}

interface Visibility {
  /** Rows the pointer would hit at their centre. */
  visible: number;
  /** Rows in the DOM (windowed: far fewer than the table has). */
  rendered: number;
  rowHeight: number;
  /** From the top of the table's scrolling area to the bottom of the window, less the view's bottom padding. */
  available: number;
}

async function rowVisibility(page: Page, table: string): Promise<Visibility> {
  return page.evaluate((label) => {
    const { document, innerHeight, getComputedStyle } = globalThis as unknown as PageGlobals;
    const element = document.querySelector(`[role=table][aria-label="${label}"]`);
    const viewport = element?.querySelector('.vt-viewport');
    if (!element || !viewport) throw new Error(`no table ${label}`);
    const rows = [...viewport.querySelectorAll('[role=row]')];
    let visible = 0;
    for (const row of rows) {
      const box = row.getBoundingClientRect();
      const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
      if (hit?.closest('[role=row]') === row) visible++;
    }
    const view = element.closest('.view');
    const padding = view ? Number.parseFloat(getComputedStyle(view).paddingBottom) : 0;
    return {
      visible,
      rendered: rows.length,
      rowHeight: rows[0]?.getBoundingClientRect().height ?? 0,
      available: innerHeight - viewport.getBoundingClientRect().top - padding,
    };
  }, table);
}

/** The view as it is now, in both themes, for a person to judge: e2e/artifacts/layout-NAME-THEME.png. */
async function screenshots(page: Page, name: string): Promise<void> {
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    // Controls fade between themes (120 ms transitions): a screenshot right after the switch would
    // catch them half-way, light grey in dark theme. Finished, not waited for.
    await page.screenshot({ path: join(artifacts, `layout-${name}-${colorScheme}.png`), animations: 'disabled' });
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

/** About the available height over the row height: at most one row lost to borders and rounding. */
function expectFills(result: Visibility): void {
  expect(result.rowHeight).toBeGreaterThan(0);
  const fits = Math.floor(result.available / result.rowHeight);
  expect(fits).toBeGreaterThan(4);
  expect(result.visible).toBeGreaterThanOrEqual(fits - 1);
  expect(result.visible).toBeLessThanOrEqual(fits + 1);
}

test('the containers table fills the window and stays windowed', async ({ page }) => {
  await page.goto(`${served?.url ?? ''}#/containers`);
  const table = page.getByRole('table', { name: 'Containers on local' });
  await expect(table).toHaveAttribute('aria-rowcount', String(CONTAINERS + 1));
  await expect(table.getByRole('row').filter({ hasText: 'layout-0' })).toBeVisible();
  const result = await rowVisibility(page, 'Containers on local');
  expectFills(result);
  expect(result.rendered).toBeLessThan(CONTAINERS);
  // Every badge in the State column is whole: `Exited (137)` and `Out of memory` (layout-8) stack
  // instead of one running past the column's edge.
  const oom = table.getByRole('row').filter({ hasText: 'layout-8' });
  await expect(oom).toContainText('Out of memory');
  const cut = await page.evaluate(() => {
    const { document } = globalThis as unknown as PageGlobals;
    return [...document.querySelectorAll('.vt-cell--state')].flatMap((cell) => {
      const edge = cell.getBoundingClientRect().right;
      return [...cell.querySelectorAll('.badge')]
        .filter((badge) => badge.getBoundingClientRect().right > edge + 0.5)
        .map((badge) => badge.textContent ?? '');
    });
  });
  expect(cut).toEqual([]);
  await screenshots(page, 'containers');
});

test('the activity table fills the window and stays windowed', async ({ page }) => {
  await page.goto(`${served?.url ?? ''}#/activity`);
  const table = page.getByRole('table', { name: 'Activity on local' });
  await expect(table).toHaveAttribute('aria-rowcount', String(STEPS + 1));
  await expect(
    table
      .getByRole('row')
      .filter({ hasText: /front-/ })
      .first(),
  ).toBeVisible();
  const result = await rowVisibility(page, 'Activity on local');
  expectFills(result);
  expect(result.rendered).toBeLessThan(80);
  await screenshots(page, 'activity');
});

test('an activity row keeps the command and the container it acted on apart', async ({ page }) => {
  await page.goto(`${served?.url ?? ''}#/activity`);
  // The newest step: the table follows the tail, so the last row is the one in view.
  const row = page
    .getByRole('table', { name: 'Activity on local' })
    .getByRole('row')
    .filter({ hasText: /front-/ })
    .last();
  await expect(row).toBeVisible();
  const command = row.locator('.activity-text');
  const scope = row.getByText(/^container front-\d$/);
  await expect(command).toHaveText(/^nsenter .* 192\.168\.2\.4$/);
  await expect(scope).toBeVisible();
  const [a, b] = [await command.boundingBox(), await scope.boundingBox()];
  if (!a || !b) throw new Error('the command or its scope has no box');
  const boxes = `command ${JSON.stringify(a)}, scope ${JSON.stringify(b)}`;
  const overlap = a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
  expect(overlap, `${boxes} overlap`).toBe(false);
  // Apart, not merely touching: on a line of its own, or a clear gap beside the command.
  const apart = b.y >= a.y + a.height || b.x - (a.x + a.width) >= 8;
  expect(apart, `${boxes} run together`).toBe(true);
  // The scope is inside its cell, not clipped off its edge.
  const cell = await row.getByRole('cell').last().boundingBox();
  if (!cell) throw new Error('the command cell has no box');
  expect(b.x >= cell.x && b.x + b.width <= cell.x + cell.width + 0.5, `${boxes} outside ${JSON.stringify(cell)}`).toBe(true);
  expect(b.y >= cell.y && b.y + b.height <= cell.y + cell.height + 0.5, `${boxes} outside ${JSON.stringify(cell)}`).toBe(true);
});

/** Relative luminance (WCAG) of a computed `rgb(…)`/`rgba(…)` colour; transparent counts as unknown. */
function luminance(color: string): number {
  const parts =
    /rgba?\(([^)]+)\)/
      .exec(color)?.[1]
      ?.split(/[ ,/]+/)
      .filter(Boolean)
      .map(Number) ?? [];
  const [r = Number.NaN, g = Number.NaN, b = Number.NaN, alpha = 1] = parts;
  if (alpha === 0) return Number.NaN;
  const linear = (channel: number): number => {
    const c = channel / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
}

test('dark theme: the networks page inputs and graph buttons are dark', async ({ page }) => {
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.goto(`${served?.url ?? ''}#/networks`);
  const form = page.getByRole('form', { name: 'Create a network' });
  const graph = page.getByRole('region', { name: 'Topology of local' });
  const controls = [
    form.getByLabel('Name'),
    form.getByLabel('Subnet'),
    ...['Zoom in', 'Zoom out', 'Fit', 'Export SVG', 'Export PNG'].map((name) => graph.getByRole('button', { name })),
  ];
  // The theme's own surface colour, resolved by the page: a control drawn by the browser's defaults
  // (dark or light grey, thin border) is not it.
  const surface = await page.evaluate(() => {
    const { document, getComputedStyle } = globalThis as unknown as PageGlobals;
    const probe = document.createElement('div');
    probe.style.background = 'var(--surface)';
    document.body.append(probe);
    const color = getComputedStyle(probe).backgroundColor;
    probe.remove();
    return color;
  });
  expect(luminance(surface)).toBeLessThan(0.1);
  for (const control of controls) {
    await expect(control).toBeVisible();
    const background = await control.evaluate(
      (element) => (globalThis as unknown as PageGlobals).getComputedStyle(element).backgroundColor,
    );
    const what = `${await control.evaluate((element) => element.outerHTML.slice(0, 80))}: ${background}`;
    // The dark theme's surfaces are below 0.05; the light grey of an unstyled control is about 0.8.
    expect(luminance(background), what).toBeLessThan(0.1);
    expect(background, what).toBe(surface);
  }
  await screenshots(page, 'networks');
});

test('published ports show in the containers list and the container detail', async ({ page }) => {
  await page.goto(`${served?.url ?? ''}#/containers`);
  const table = page.getByRole('table', { name: 'Containers on local' });
  await expect(table.getByRole('columnheader', { name: 'Ports' })).toBeVisible();
  const row = table.getByRole('row').filter({ has: page.getByRole('button', { name: 'layout-0', exact: true }) });
  const ports = row.getByRole('cell', { name: '0.0.0.0:8080→80/tcp' });
  await expect(ports).toBeVisible();
  // The column fits the whole mapping, and the row's actions stay inside the table at 1280 px.
  expect(await ports.evaluate((cell) => cell.scrollWidth <= cell.clientWidth)).toBe(true);
  const [tableBox, removeBox] = [await table.boundingBox(), await row.getByRole('button', { name: 'Remove layout-0' }).boundingBox()];
  expect(removeBox && tableBox && removeBox.x + removeBox.width <= tableBox.x + tableBox.width).toBe(true);
  await row.getByRole('button', { name: 'layout-0', exact: true }).click();
  const detail = page.getByRole('region', { name: 'Details of layout-0' });
  await expect(detail.locator('header')).toContainText('Ports 0.0.0.0:8080→80/tcp');
  // The detail opens below the table, not over it.
  const [listBox, detailBox] = [await table.boundingBox(), await detail.boundingBox()];
  expect(listBox && detailBox && listBox.y + listBox.height <= detailBox.y).toBe(true);
  await screenshots(page, 'container-detail');
});
