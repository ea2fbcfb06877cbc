// @vitest-environment jsdom
// The Stats tab samples live while it is shown and the window is visible: each tick's answer
// changes what the charts say, a hidden window asks nothing, and leaving the tab stops the timer.
import { act, cleanup, render, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ContainerStats } from '../../../../shared/containers.js';
import { useLanguageStore } from '../../i18n';
import { createStores, StoresContext } from '../../stores';
import { ScriptedClient, runningContainer as running } from '../../stores/test-fixtures';
import { STATS_INTERVAL_MS, StatsTab } from './StatsTab';

const MiB = 1024 * 1024;

function setVisibility(state: 'visible' | 'hidden'): void {
  Object.defineProperty(document, 'visibilityState', { value: state, configurable: true });
  document.dispatchEvent(new Event('visibilitychange'));
}

describe('Stats tab', () => {
  let tick = 0;
  let client: ScriptedClient;

  beforeEach(() => {
    useLanguageStore.setState({ language: 'en' });
    vi.useFakeTimers();
    tick = 0;
    // Each answer: one more MiB of memory, one more process, half a CPU second per wall second.
    client = new ScriptedClient({
      'containers.stats': (): ContainerStats => {
        tick += 1;
        return {
          at: new Date(Date.parse('2026-12-06T00:00:00Z') + tick * 1000).toISOString(),
          cpu: { usageNs: tick * 500_000_000, limitCpus: null },
          memory: { usage: (10 + tick) * MiB, limit: 256 * MiB },
          pids: { current: tick, limit: null },
        };
      },
    });
  });
  afterEach(() => {
    cleanup();
    setVisibility('visible');
    vi.useRealTimers();
  });

  const memoryValue = () => within(screen.getByRole('figure', { name: 'Memory' })).getByText(/MiB/, { selector: '.chart-value' });
  const pidsValue = () => screen.getByRole('figure', { name: 'Processes' }).querySelector('.chart-value')?.firstChild?.textContent;
  const advance = (ms: number) => act(() => vi.advanceTimersByTimeAsync(ms));

  it('updates while shown, pauses while the window is hidden, stops when the tab closes', async () => {
    const view = render(
      <StoresContext value={createStores(client)}>
        <StatsTab machine="local" container={running} />
      </StoresContext>,
    );
    await advance(0);
    await advance(STATS_INTERVAL_MS);
    expect(client.callsOf('containers.stats')).toHaveLength(2);
    expect(memoryValue().textContent).toContain('12');
    expect(pidsValue()).toBe('2');

    await advance(STATS_INTERVAL_MS);
    expect(memoryValue().textContent).toContain('13');
    expect(pidsValue()).toBe('3');
    expect(screen.getByRole('figure', { name: 'CPU' }).querySelector('.chart-value')?.textContent).toBe('50 %');

    setVisibility('hidden');
    await advance(10 * STATS_INTERVAL_MS);
    expect(client.callsOf('containers.stats')).toHaveLength(3);
    expect(pidsValue()).toBe('3');

    // Shown again: a sample at once, then one a second.
    setVisibility('visible');
    await advance(0);
    expect(client.callsOf('containers.stats')).toHaveLength(4);
    await advance(STATS_INTERVAL_MS);
    expect(client.callsOf('containers.stats')).toHaveLength(5);
    expect(pidsValue()).toBe('5');

    view.unmount();
    await advance(10 * STATS_INTERVAL_MS);
    expect(client.callsOf('containers.stats')).toHaveLength(5);
  });
});
