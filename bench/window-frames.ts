// Frame times of the window where it must stay smooth: scrolling the containers table with 1,000
// rows, and panning the topology graph with 200 containers on 5 bridges. The built window is served
// by the real browser-mode server (electron/serve) over a stand-in host core that answers with
// synthetic data, so the numbers measure the renderer, not an agent. The page records the interval
// between animation frames while it scrolls (steadily, and flung end to end) or drags, one step per
// frame, driven from inside the page (no round trip to the test per step). First paint: the time
// from navigation to the first animation frame in which the list's rows or the graph's last
// container are in the document, for 200 and 1,000 rows and 200 containers. Results:
// bench/window-frames.results.json (rendered by bench/run.mjs as case 8) and the console.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import type { HostCore } from '../electron/core/host-core.js';
import { startServe, type RunningServe } from '../electron/serve/serve.js';
import type { ContainerSummary } from '../shared/containers.js';
import type { HostEvent } from '../shared/host-api.js';
import { syntheticTopology } from '../renderer/src/views/networks/topology-fixture.js';

const repoRoot = join(import.meta.dirname, '..');
const ROWS = 1_000;
const GRAPH_CONTAINERS = 200;
const GRAPH_BRIDGES = 5;
const FRAMES = 240;
/** Page loads per first-paint point. */
const PAINT_RUNS = 7;
/** How many containers `containers.list` answers with; the first-paint test varies it. */
let listRows = ROWS;

function containers(count: number): ContainerSummary[] {
  return Array.from({ length: count }, (_, index) => ({
    id: index.toString(16).padStart(64, '0'),
    name: `bench-${index}`,
    image: 'busybox:latest',
    imageId: `sha256:${'b'.repeat(64)}`,
    command: ['sleep', '600'],
    state: index % 7 === 0 ? 'exited' : 'running',
    pid: index % 7 === 0 ? null : 10_000 + index,
    exitCode: index % 7 === 0 ? 0 : null,
    oomKilled: false,
    error: null,
    createdAt: new Date(Date.now() - index * 60_000).toISOString(),
    startedAt: new Date(Date.now() - index * 60_000).toISOString(),
    finishedAt: null,
  }));
}

/** Answers the few methods the measured views ask for; anything else is an empty answer. */
function standInCore(): HostCore {
  const listeners = new Set<(event: HostEvent) => void>();
  const answers: Record<string, unknown> = {
    'app.version': { version: 'bench', platform: 'linux', secretVault: false },
    'machines.list': [{ name: 'local', provider: 'local', state: 'ready' }],
    'containers.list': containers(ROWS),
    'containers.list:200': containers(200),
    'images.list': [],
    'activity.list': { entries: [] },
    'networks.list': [],
    'topology.snapshot': syntheticTopology(GRAPH_CONTAINERS, GRAPH_BRIDGES),
  };
  const core = {
    call: (method: string) => {
      const key = method === 'containers.list' && listRows !== ROWS ? `${method}:${listRows}` : method;
      return Promise.resolve(Object.hasOwn(answers, key) ? answers[key] : []);
    },
    onEvent(listener: (event: HostEvent) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return core as unknown as HostCore;
}

export interface FrameStats {
  frames: number;
  minMs: number;
  meanMs: number;
  medianMs: number;
  p95Ms: number;
  maxMs: number;
  /** Share of frames that took longer than a 60 Hz frame (16.7 ms) plus slack. */
  slowShare: number;
}

function stats(intervals: number[]): FrameStats {
  const sorted = [...intervals].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  const round = (value: number): number => Math.round(value * 100) / 100;
  return {
    frames: sorted.length,
    minMs: round(sorted[0] ?? Number.NaN),
    meanMs: round(sorted.reduce((sum, value) => sum + value, 0) / Math.max(1, sorted.length)),
    medianMs: round(at(0.5)),
    p95Ms: round(at(0.95)),
    maxMs: round(sorted.at(-1) ?? Number.NaN),
    slowShare: round(sorted.filter((value) => value > 20).length / Math.max(1, sorted.length)),
  };
}

/** The little of the page's DOM the measuring code uses (this file is type-checked without the DOM library). */
interface PageElement {
  scrollTop: number;
  readonly scrollHeight: number;
  readonly clientHeight: number;
  readonly style: { transform: string };
  getBoundingClientRect(): { left: number; top: number; width: number; height: number };
  dispatchEvent(event: object): boolean;
}
interface PageGlobals {
  document: { querySelector(selector: string): PageElement | null };
  PointerEvent: new (type: string, init: Record<string, unknown>) => object;
  requestAnimationFrame(callback: (now: number) => void): number;
  performance: { now(): number };
}

/** Runs `step(i)` once per animation frame for `frames` frames in the page; returns the frame intervals. */
async function measure(page: Page, kind: 'scroll' | 'fling' | 'pan', frames: number): Promise<number[]> {
  return page.evaluate(
    ({ kind, frames }) =>
      new Promise<number[]>((resolve) => {
        const { document, PointerEvent, requestAnimationFrame, performance } = globalThis as unknown as PageGlobals;
        const intervals: number[] = [];
        const viewport = document.querySelector('.vt-viewport');
        const svg = document.querySelector('.graph-canvas');
        const box = svg?.getBoundingClientRect();
        let x = (box?.left ?? 0) + (box?.width ?? 0) / 2;
        const y = (box?.top ?? 0) + (box?.height ?? 0) / 2;
        const pointer = (type: string, clientX: number): void => {
          svg?.dispatchEvent(
            new PointerEvent(type, { bubbles: true, pointerId: 7, button: 0, buttons: 1, clientX, clientY: y, isPrimary: true }),
          );
        };
        if (kind === 'pan') pointer('pointerdown', x);
        let last = performance.now();
        let index = 0;
        const tick = (now: number): void => {
          if (index > 0) intervals.push(now - last);
          last = now;
          if (index >= frames) {
            if (kind === 'pan') pointer('pointerup', x);
            resolve(intervals);
            return;
          }
          if (kind === 'scroll' && viewport) {
            // A fast wheel or trackpad scroll: 60 px a frame (3,600 px/s), down the list.
            viewport.scrollTop += 60;
          } else if (kind === 'fling' && viewport) {
            // Down to the end and back in 4 s: every frame shows rows that were not in the window.
            const span = viewport.scrollHeight - viewport.clientHeight;
            const phase = (index % (frames / 2)) / (frames / 2);
            viewport.scrollTop = index < frames / 2 ? span * phase : span * (1 - phase);
          } else {
            x += 3;
            pointer('pointermove', x);
          }
          index++;
          requestAnimationFrame(tick);
        };
        requestAnimationFrame(tick);
      }),
    { kind, frames },
  );
}

/**
 * Loads `url` and returns the time from navigation to the first animation frame in which
 * `selector` matches at least `count` elements, watched from a script that runs before the app.
 */
async function firstPaint(page: Page, url: string, selector: string, count: number): Promise<number> {
  await page.addInitScript(
    ({ selector, count }) => {
      const page = globalThis as unknown as PageGlobals & {
        document: { querySelectorAll(selector: string): { length: number } };
        onggiFirstPaint?: number;
      };
      const check = (now: number): void => {
        if (page.document.querySelectorAll(selector).length >= count) page.onggiFirstPaint = now;
        else page.requestAnimationFrame(check);
      };
      page.requestAnimationFrame(check);
    },
    { selector, count },
  );
  await page.goto(url);
  const handle = await page.waitForFunction(() => (globalThis as { onggiFirstPaint?: number }).onggiFirstPaint, undefined, {
    timeout: 60_000,
  });
  return Number(await handle.jsonValue());
}

let served: RunningServe | undefined;
const results: Record<string, FrameStats> = {};
const paint: Record<string, number[]> = {};

test.beforeAll(async () => {
  served = await startServe({ core: standInCore(), rendererDir: join(repoRoot, 'dist', 'renderer'), port: 0 });
});

test.afterAll(async () => {
  await served?.close();
  const file = join(repoRoot, 'bench', 'window-frames.results.json');
  writeFileSync(
    file,
    `${JSON.stringify({ at: new Date().toISOString(), rows: ROWS, graph: { containers: GRAPH_CONTAINERS, bridges: GRAPH_BRIDGES }, results, firstPaintMs: paint }, null, 2)}\n`,
  );
  console.log(`window frame times (ms):\n${JSON.stringify(results, null, 2)}\nwritten to ${file}`);
});

test(`containers table: scroll through ${ROWS} rows`, async ({ page }) => {
  await page.goto(`${served?.url ?? ''}#/containers`);
  const table = page.getByRole('table', { name: 'Containers on local' });
  await expect(table).toHaveAttribute('aria-rowcount', String(ROWS + 1));
  // Virtualized: far fewer rows in the DOM than in the table.
  expect(await table.getByRole('row').count()).toBeLessThan(80);
  await measure(page, 'scroll', 30); // warm-up
  const intervals = await measure(page, 'scroll', FRAMES);
  expect(intervals).toHaveLength(FRAMES);
  results.listScroll = stats(intervals);
  const fling = await measure(page, 'fling', FRAMES);
  expect(fling).toHaveLength(FRAMES);
  results.listFling = stats(fling);
  // The window really moved through the list: the last row renders at the bottom.
  await page.locator('.vt-viewport').evaluate((element) => element.scrollTo({ top: element.scrollHeight }));
  await expect(table.getByRole('row').filter({ hasText: `bench-${ROWS - 1}` })).toBeVisible();
});

test(`topology graph: pan with ${GRAPH_CONTAINERS} containers on ${GRAPH_BRIDGES} bridges`, async ({ page }) => {
  await page.goto(`${served?.url ?? ''}#/networks`);
  const graph = page.getByRole('region', { name: 'Topology of local' });
  await expect(graph.getByRole('button', { name: /^Container c199,/ })).toHaveCount(1, { timeout: 60_000 });
  await measure(page, 'pan', 30); // warm-up
  const stage = page.locator('.graph-stage');
  const before = await stage.evaluate((element) => (element as unknown as PageElement).style.transform);
  const intervals = await measure(page, 'pan', FRAMES);
  expect(intervals).toHaveLength(FRAMES);
  results.graphPan = stats(intervals);
  // The drag really panned the graph.
  expect(await stage.evaluate((element) => (element as unknown as PageElement).style.transform)).not.toBe(before);
});

test(`first paint: the containers list with 200 and ${ROWS} rows, the graph with ${GRAPH_CONTAINERS} containers`, async ({ browser }) => {
  // A fresh page per load: nothing cached in the page, as when the window opens.
  const load = async (key: string, hash: string, selector: string, count: number): Promise<void> => {
    for (let run = 0; run < PAINT_RUNS; run++) {
      const page = await browser.newPage();
      try {
        (paint[key] ??= []).push(Math.round((await firstPaint(page, `${served?.url ?? ''}${hash}`, selector, count)) * 10) / 10);
      } finally {
        await page.close();
      }
    }
  };
  // Header row + data rows: the list is painted once its first rows are there.
  listRows = 200;
  await load('containers list, 200 rows', '#/containers', '[role="table"] [role="row"]', 2);
  listRows = ROWS;
  await load(`containers list, ${ROWS} rows`, '#/containers', '[role="table"] [role="row"]', 2);
  await load(`topology graph, ${GRAPH_CONTAINERS} containers`, '#/networks', `[aria-label^="Container c${GRAPH_CONTAINERS - 1},"]`, 1);
  for (const times of Object.values(paint)) expect(times).toHaveLength(PAINT_RUNS);
});
