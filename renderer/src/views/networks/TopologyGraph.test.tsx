// @vitest-environment jsdom
import ELK from 'elkjs/lib/elk.bundled.js';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Topology } from '../../../../shared/networks.js';
import { useLanguageStore } from '../../i18n';
import { layoutGraph } from './layout';
import { syntheticTopology } from './topology-fixture';
import { buildGraph } from './topology-model';
import { clipText, MIN_FIT_ZOOM, TopologyGraph } from './TopologyGraph';

const scaleOf = (element: HTMLElement): number => Number(/scale\(([\d.]+)\)/.exec(element.style.transform)?.[1] ?? Number.NaN);

describe('TopologyGraph', () => {
  beforeEach(() => useLanguageStore.setState({ language: 'en' }));
  afterEach(() => {
    cleanup();
    vi.unstubAllGlobals();
  });

  it('places the graph, fits and zooms without waiting for an animation frame the browser may never produce', async () => {
    // A hidden window, or a headless compositor that stalled (CI: the graph stayed unfitted for
    // 30 s), runs no frame callbacks: the view must not depend on one.
    const frames: FrameRequestCallback[] = [];
    vi.stubGlobal('requestAnimationFrame', (callback: FrameRequestCallback) => frames.push(callback));
    vi.stubGlobal('cancelAnimationFrame', () => undefined);
    const model = buildGraph(Topology.parse(syntheticTopology(40, 2)));
    const layout = await layoutGraph(model, new ELK());
    render(<TopologyGraph label="Topology of box" model={model} layout={layout} selected={[]} onPick={() => undefined} exportName="t" />);
    const graph = screen.getByRole('region', { name: 'Topology of box' });
    const stage = graph.querySelector<HTMLElement>('.graph-stage');
    if (!stage) throw new Error('no stage');
    // Placed on mount: jsdom has no size, so the fit is the fallback canvas's, never below the readable zoom.
    expect(scaleOf(stage)).toBeGreaterThanOrEqual(MIN_FIT_ZOOM);
    const fitted = scaleOf(stage);

    fireEvent.click(within(graph).getByRole('button', { name: 'Zoom in' }));
    expect(scaleOf(stage)).toBeCloseTo(fitted * 1.25);
    fireEvent.keyDown(within(graph).getByRole('group', { name: /^Topology graph:/ }), { key: '-' });
    expect(scaleOf(stage)).toBeCloseTo(fitted);
    fireEvent.click(within(graph).getByRole('button', { name: 'Zoom out' }));
    fireEvent.click(within(graph).getByRole('button', { name: 'Fit' }));
    expect(scaleOf(stage)).toBe(fitted);

    // A wheel stream is written once a frame: the write waits for the frame, then lands.
    const before = stage.style.transform;
    fireEvent.wheel(within(graph).getByRole('group', { name: /^Topology graph:/ }), { deltaX: 30, deltaY: 0 });
    fireEvent.wheel(within(graph).getByRole('group', { name: /^Topology graph:/ }), { deltaX: 30, deltaY: 0 });
    expect(frames).toHaveLength(1);
    expect(stage.style.transform).toBe(before);
    frames.shift()?.(0);
    expect(stage.style.transform).not.toBe(before);
  });
});

describe('TopologyGraph node text', () => {
  beforeEach(() => useLanguageStore.setState({ language: 'en' }));
  afterEach(cleanup);

  it('cuts a line longer than its box with an ellipsis, and keeps it whole in the name and the tooltip', async () => {
    const topology = Topology.parse(syntheticTopology(2, 1));
    const network = topology.networks[0];
    if (!network) throw new Error('no network');
    network.name = 'project-frontend-services';
    const model = buildGraph(topology);
    const layout = await layoutGraph(model, new ELK());
    render(<TopologyGraph label="Topology of box" model={model} layout={layout} selected={[]} onPick={() => undefined} exportName="t" />);
    const bridge = screen.getByRole('img', { name: new RegExp(`^Bridge ${network.bridge}, network project-frontend-services,`) });
    const [title] = bridge.querySelectorAll('text');
    // 43 characters in a 190 px box: the network's name is cut, the bridge's kernel name kept.
    expect(title?.textContent).toBe(`project… · ${network.bridge}`);
    expect(bridge.querySelector('title')?.textContent?.split('\n')[0]).toBe(`project-frontend-services · ${network.bridge}`);
    // A line that fits is left alone, with no tooltip.
    const machine = screen.getByRole('img', { name: 'This machine (root network namespace)' });
    expect(machine.querySelector('title')).toBeNull();
    expect(clipText('machine', 20)).toBe('machine');
  });
});
