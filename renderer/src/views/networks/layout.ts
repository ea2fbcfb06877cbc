// Automatic layout of the topology graph with ELK (elkjs), layered, left to right: uplink →
// machine → bridges and published ports → containers.
//
// Why ELK and not dagre or cola: (1) the graph is a layered tree by nature, and ELK's layered
// algorithm (Sugiyama, with proper crossing minimisation and node placement) draws it with straight
// ranks and no overlaps; cola is force-directed, never quite settles, and re-running it on every
// topology event would move everything the user was looking at. (2) ELK runs in a Web Worker out of
// the box (elk-worker.min.js), so laying out 200 containers never blocks the UI thread; dagre is
// synchronous and would need a worker of our own. (3) It is maintained (Eclipse), deterministic
// (the same topology gives the same picture). mrtree would be faster still, but a container on
// two networks has two parents, which layered handles and a tree layout does not.
import type { ELK, ElkNode } from 'elkjs/lib/elk-api';
import type { GraphModel, GraphNode } from './topology-model';

export const NODE_SIZE: Record<GraphNode['kind'], { width: number; height: number }> = {
  uplink: { width: 170, height: 56 },
  machine: { width: 150, height: 44 },
  bridge: { width: 190, height: 56 },
  container: { width: 190, height: 48 },
  port: { width: 190, height: 48 },
  named: { width: 190, height: 48 },
};

export interface Placed {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Layout {
  positions: Map<string, Placed>;
  width: number;
  height: number;
}

export const LAYOUT_OPTIONS: Record<string, string> = {
  'elk.algorithm': 'layered',
  'elk.direction': 'RIGHT',
  // Room for an edge's labels (a veth's two ends: up to 22 characters, about 120 px at 9 px) and
  // no more: a small graph's four layers then fit a 1280 px window at the readable zoom (views.css).
  'elk.layered.spacing.nodeNodeBetweenLayers': '150',
  'elk.spacing.nodeNode': '16',
  // Measured on 200 containers / 5 bridges (layout.test.ts): BRANDES_KOEPF with model-order
  // constraints took ~12 s on the busy 2-core test machine, plain defaults ~2.4 s, linear segments
  // with one thoroughness pass ~1.2 s with the same ranks and no overlaps. The graph is (almost) a
  // tree, so the cheaper passes lose nothing visible.
  'elk.layered.nodePlacement.strategy': 'LINEAR_SEGMENTS',
  'elk.layered.thoroughness': '1',
};

export async function layoutGraph(model: GraphModel, elk: Pick<ELK, 'layout'>): Promise<Layout> {
  const graph: ElkNode = {
    id: 'root',
    layoutOptions: LAYOUT_OPTIONS,
    children: model.nodes.map((node) => ({ id: node.id, ...NODE_SIZE[node.kind] })),
    edges: model.edges
      .filter((edge) => edge.source !== edge.target)
      .map((edge) => ({ id: edge.id, sources: [edge.source], targets: [edge.target] })),
  };
  const result = await elk.layout(graph);
  const positions = new Map<string, Placed>();
  for (const child of result.children ?? []) {
    positions.set(child.id, { x: child.x ?? 0, y: child.y ?? 0, width: child.width ?? 0, height: child.height ?? 0 });
  }
  return { positions, width: result.width ?? 0, height: result.height ?? 0 };
}
