import ELK from 'elkjs/lib/elk.bundled.js';
import { describe, expect, it } from 'vitest';
import { Topology } from '../../../../shared/networks.js';
import { layoutGraph, type Placed } from './layout';
import { syntheticTopology } from './topology-fixture';
import { buildGraph, MACHINE_NODE, probePath } from './topology-model';

const overlaps = (a: Placed, b: Placed): boolean =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

describe('topology graph', () => {
  const topology = Topology.parse(syntheticTopology(200, 5));
  const model = buildGraph(topology);

  it('draws the machine, each bridge and each container, with one veth link per container', () => {
    expect(model.nodes.filter((node) => node.kind === 'machine')).toHaveLength(1);
    expect(model.nodes.filter((node) => node.kind === 'bridge')).toHaveLength(5);
    expect(model.nodes.filter((node) => node.kind === 'container')).toHaveLength(200);
    // Ours: the hand-made veth to the fixture's `lab` namespace is drawn too, marked foreign.
    const veths = model.edges.filter((edge) => edge.kind === 'veth' && !edge.foreign);
    expect(veths).toHaveLength(200);
    // Every veth ends in a container namespace, named by its host end and its peer inside.
    for (const edge of veths) {
      expect(edge.target.startsWith('ns:')).toBe(true);
      expect(edge.target).not.toBe(edge.source);
      expect(edge.peerEnd).toBe('eth0');
    }
    const c7 = model.nodes.find((node) => node.label === 'c7');
    expect(c7?.addresses).toEqual([{ ifname: 'eth0', cidr: '10.92.0.3/16' }]);
    expect(model.nodes.find((node) => node.id === 'br:ogb000000000002')?.addresses).toEqual([
      { ifname: 'ogb000000000002', cidr: '10.92.0.1/16' },
    ]);
  });

  it('lays out 200 containers on 5 bridges in ranks, without overlaps, quickly', async () => {
    const started = performance.now();
    const layout = await layoutGraph(model, new ELK());
    const took = performance.now() - started;
    // 200 containers, 5 bridges, the machine, its uplink, 2 published ports and the hand-made namespace.
    expect(layout.positions.size).toBe(210);
    const placed = [...layout.positions.values()];
    for (let i = 0; i < placed.length; i++) {
      for (let j = i + 1; j < placed.length; j++) {
        const a = placed[i];
        const b = placed[j];
        if (a && b) expect(overlaps(a, b), `nodes ${i} and ${j} overlap`).toBe(false);
      }
    }
    // Left to right: uplink, machine, then bridges, then containers.
    const x = (id: string): number => layout.positions.get(id)?.x ?? Number.NaN;
    expect(x('up:eth0')).toBeLessThan(x(MACHINE_NODE));
    const bridgeX = model.nodes.filter((node) => node.kind === 'bridge').map((node) => x(node.id));
    const containerX = model.nodes.filter((node) => node.kind === 'container').map((node) => x(node.id));
    expect(Math.max(x(MACHINE_NODE))).toBeLessThan(Math.min(...bridgeX));
    expect(Math.max(...bridgeX)).toBeLessThan(Math.min(...containerX));
    // In a worker in the app; here it runs inline, and must still be fast enough to redo on each change.
    expect(took).toBeLessThan(5_000);
  });

  it('finds the probe path through the shared bridge', () => {
    const id = (label: string): string => model.nodes.find((node) => node.label === label)?.id ?? '';
    // c0 and c5 share bridge 0; c0 and c1 do not.
    expect(probePath(model, id('c0'), id('c5'))).toEqual(['e:ogv00000000', 'e:ogv00000005']);
    expect(probePath(model, id('c0'), id('c1'))).toHaveLength(2);
  });
});
