// The topology graph: SVG, laid out by ELK (layout.ts), panned and zoomed by rewriting one CSS
// transform on the element that holds it (no React render per pointer move). While a drag is under
// way that element is its own compositor layer (will-change), so a pan moves pixels already drawn
// instead of painting 200 containers again each frame; at rest the hint is dropped so the graph is
// drawn sharp at its zoom.
// Containers are buttons: pick two to probe, and the path between them turns green or red.
// Keyboard: Tab through the nodes, Enter/Space picks; on the canvas, arrows pan, + and - zoom,
// 0 fits.
import { useCallback, useEffect, useLayoutEffect, useRef, type KeyboardEvent, type PointerEvent, type WheelEvent } from 'react';
import { Icon } from '../../components/icons';
import { formatBytes, useLanguage, useT } from '../../i18n';
import type { Layout, Placed } from './layout';
import type { GraphEdge, GraphModel, GraphNode } from './topology-model';

interface View {
  x: number;
  y: number;
  k: number;
}

const MIN_ZOOM = 0.05;
const MAX_ZOOM = 4;
const PAD = 24;
const EDGE_MARGIN = 8;
/**
 * Fit never shrinks below this: the labels (11 px, 9–10 px for the small ones) stay readable, and
 * a graph larger than the canvas starts at its left edge (the uplink and the machine) for the user
 * to pan, instead of a 7-pixel picture in a corner.
 */
export const MIN_FIT_ZOOM = 0.8;

export interface TopologyGraphProps {
  label: string;
  model: GraphModel;
  layout: Layout;
  selected: readonly string[];
  onPick: (node: GraphNode) => void;
  path?: { edges: readonly string[]; ok: boolean };
  exportName: string;
  /** Byte counters of the machine's links by name (a veth's host end), refreshed while the graph is shown. */
  traffic?: ReadonlyMap<string, { rxBytes: number; txBytes: number }>;
}

/**
 * A node's line, cut with an ellipsis to what its box holds (its name and state stay whole in the
 * node's accessible name and its tooltip). Counted in characters, not measured text: as drawn here,
 * the title's 11 px sans averages 6.3 px a character and the 10 px mono lines 6 px, with 10 px of
 * padding each side.
 */
const titleChars = (width: number): number => Math.floor((width - 20) / 6.3);
const subChars = (width: number): number => Math.floor((width - 20) / 6);
export function clipText(text: string, max: number): string {
  const characters = [...text];
  return characters.length <= max ? text : `${characters.slice(0, max - 1).join('')}…`;
}

/** A bridge's title, `NETWORK · BRIDGE`: the network's name is cut first, the kernel's name kept. */
function bridgeTitle(network: string, bridge: string, max: number): string {
  const room = max - [...bridge].length - 3;
  return room >= 4 ? `${clipText(network, room)} · ${bridge}` : clipText(`${network} · ${bridge}`, max);
}

function anchor(placed: Placed | undefined, side: 'left' | 'right'): [number, number] {
  if (!placed) return [0, 0];
  return [side === 'left' ? placed.x : placed.x + placed.width, placed.y + placed.height / 2];
}

export function TopologyGraph({ label, model, layout, selected, onPick, path, exportName, traffic }: TopologyGraphProps) {
  const t = useT();
  const language = useLanguage();
  const canvas = useRef<HTMLDivElement>(null);
  const svg = useRef<SVGSVGElement>(null);
  const stage = useRef<HTMLDivElement>(null);
  const view = useRef<View>({ x: 0, y: 0, k: 1 });
  const drag = useRef<{ id: number; x: number; y: number; moved: boolean } | null>(null);
  const frame = useRef(0);

  const write = useCallback(() => {
    const { x, y, k } = view.current;
    if (stage.current) stage.current.style.transform = `translate(${x}px, ${y}px) scale(${k})`;
  }, []);
  /** Pointer and wheel streams: many events a frame, one style write a frame. */
  const applySoon = useCallback(() => {
    if (frame.current) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = 0;
      write();
    });
  }, [write]);
  /**
   * Discrete changes (a new layout, Fit, the zoom buttons, keys) are written at once: the first
   * paint of a new layout is already fitted, and nothing waits on a frame the browser may not
   * produce (a hidden window; a headless compositor that stalled left a graph unfitted in CI).
   */
  const applyNow = useCallback(() => {
    cancelAnimationFrame(frame.current);
    frame.current = 0;
    write();
  }, [write]);

  const fit = useCallback(() => {
    const element = canvas.current;
    if (!element) return;
    // Focusing a node (Tab, or a click on one partly out of view) scrolls the clipped canvas: the
    // view is the transform alone, so that scroll is undone.
    element.scrollLeft = 0;
    element.scrollTop = 0;
    const width = element.clientWidth || 800;
    const height = element.clientHeight || 500;
    const k = Math.max(
      MIN_FIT_ZOOM,
      Math.min(1.2, (width - 2 * PAD) / Math.max(1, layout.width), (height - 2 * PAD) / Math.max(1, layout.height)),
    );
    // Centred; a graph wider or taller than the canvas at the readable zoom starts near its left
    // (top) edge, with a narrower margin so that one just too large for it still shows whole.
    view.current = {
      k,
      x: Math.max(EDGE_MARGIN, (width - layout.width * k) / 2),
      y: Math.max(EDGE_MARGIN, (height - layout.height * k) / 2),
    };
    applyNow();
  }, [layout.width, layout.height, applyNow]);

  useLayoutEffect(() => fit(), [fit]);
  useEffect(
    () => () => {
      cancelAnimationFrame(frame.current);
      frame.current = 0;
    },
    [],
  );

  const zoomAt = (factor: number, cx: number, cy: number, apply: () => void): void => {
    const { x, y, k } = view.current;
    const next = Math.max(MIN_ZOOM, Math.min(MAX_ZOOM, k * factor));
    view.current = { k: next, x: cx - ((cx - x) * next) / k, y: cy - ((cy - y) * next) / k };
    apply();
  };
  const zoomCenter = (factor: number): void => {
    const element = canvas.current;
    zoomAt(factor, (element?.clientWidth ?? 800) / 2, (element?.clientHeight ?? 500) / 2, applyNow);
  };
  const pan = (dx: number, dy: number, apply: () => void): void => {
    view.current = { ...view.current, x: view.current.x + dx, y: view.current.y + dy };
    apply();
  };

  const onWheel = (event: WheelEvent<HTMLDivElement>): void => {
    const box = event.currentTarget.getBoundingClientRect();
    if (event.ctrlKey || event.metaKey) zoomAt(Math.exp(-event.deltaY / 300), event.clientX - box.left, event.clientY - box.top, applySoon);
    else pan(-event.deltaX, -event.deltaY, applySoon);
  };
  const onPointerDown = (event: PointerEvent<HTMLDivElement>): void => {
    if (event.button !== 0) return;
    drag.current = { id: event.pointerId, x: event.clientX, y: event.clientY, moved: false };
  };
  const onPointerMove = (event: PointerEvent<HTMLDivElement>): void => {
    const current = drag.current;
    if (!current || current.id !== event.pointerId) return;
    const dx = event.clientX - current.x;
    const dy = event.clientY - current.y;
    if (!current.moved && Math.hypot(dx, dy) < 3) return;
    if (!current.moved) {
      try {
        event.currentTarget.setPointerCapture(event.pointerId);
      } catch {
        // A pointer the browser no longer tracks (or a synthetic one): panning works without capture.
      }
    }
    if (stage.current) stage.current.style.willChange = 'transform';
    current.moved = true;
    current.x = event.clientX;
    current.y = event.clientY;
    pan(dx, dy, applySoon);
  };
  const onPointerUp = (event: PointerEvent<HTMLDivElement>): void => {
    if (drag.current?.id !== event.pointerId) return;
    drag.current = null;
    if (stage.current) stage.current.style.willChange = '';
  };
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>): void => {
    if (event.target !== event.currentTarget) return;
    const step = 60;
    const actions: Record<string, () => void> = {
      ArrowLeft: () => pan(step, 0, applyNow),
      ArrowRight: () => pan(-step, 0, applyNow),
      ArrowUp: () => pan(0, step, applyNow),
      ArrowDown: () => pan(0, -step, applyNow),
      '+': () => zoomCenter(1.25),
      '=': () => zoomCenter(1.25),
      '-': () => zoomCenter(0.8),
      '0': () => fit(),
    };
    const action = actions[event.key];
    if (!action) return;
    event.preventDefault();
    action();
  };

  const exportSvg = (): string => {
    const element = svg.current;
    if (!element) return '';
    const copy = element.cloneNode(true) as SVGSVGElement;
    // Styles come from CSS variables the file would not have: inline the computed ones.
    const originals = element.querySelectorAll<SVGElement>('*');
    const copies = copy.querySelectorAll<SVGElement>('*');
    originals.forEach((original, index) => {
      const target = copies[index];
      if (!target) return;
      const style = getComputedStyle(original);
      for (const name of ['fill', 'stroke', 'stroke-width', 'stroke-dasharray', 'font-size', 'font-family', 'font-weight', 'opacity']) {
        target.style.setProperty(name, style.getPropertyValue(name));
      }
    });
    copy.querySelector('[data-stage]')?.setAttribute('transform', `translate(${PAD} ${PAD})`);
    copy.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
    copy.setAttribute('width', String(Math.ceil(layout.width + 2 * PAD)));
    copy.setAttribute('height', String(Math.ceil(layout.height + 2 * PAD)));
    copy.setAttribute('viewBox', `0 0 ${Math.ceil(layout.width + 2 * PAD)} ${Math.ceil(layout.height + 2 * PAD)}`);
    copy.style.background = getComputedStyle(canvas.current ?? element).backgroundColor;
    return new XMLSerializer().serializeToString(copy);
  };
  const download = (blob: Blob, name: string): void => {
    const url = URL.createObjectURL(blob);
    const link = document.createElement('a');
    link.href = url;
    link.download = name;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };
  const saveSvg = (): void => download(new Blob([exportSvg()], { type: 'image/svg+xml' }), `${exportName}.svg`);
  const savePng = (): void => {
    const text = exportSvg();
    const image = new Image();
    const scale = Math.min(2, 8192 / Math.max(layout.width + 2 * PAD, layout.height + 2 * PAD));
    image.onload = () => {
      const canvas = document.createElement('canvas');
      canvas.width = Math.ceil((layout.width + 2 * PAD) * scale);
      canvas.height = Math.ceil((layout.height + 2 * PAD) * scale);
      const context = canvas.getContext('2d');
      if (!context) return;
      context.scale(scale, scale);
      context.drawImage(image, 0, 0);
      canvas.toBlob((blob) => blob && download(blob, `${exportName}.png`), 'image/png');
    };
    image.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(text)}`;
  };

  const onPath = new Set(path?.edges ?? []);
  const edgeClass = (edge: GraphEdge): string => {
    const classes = ['graph-edge', `graph-edge--${edge.kind}`];
    if (edge.foreign) classes.push('graph-edge--foreign');
    if (edge.present === false || edge.nat?.present === false) classes.push('graph-edge--broken');
    if (path && onPath.has(edge.id)) classes.push(path.ok ? 'graph-edge--ok' : 'graph-edge--bad');
    return classes.join(' ');
  };

  /** A veth's traffic from its container's side: what the host end received the container sent. */
  const trafficOf = (edge: GraphEdge): { sent: string; received: string } | undefined => {
    const counters = edge.hostEnd === undefined ? undefined : traffic?.get(edge.hostEnd);
    if (!counters) return undefined;
    return { sent: formatBytes(language, counters.rxBytes), received: formatBytes(language, counters.txBytes) };
  };

  const edgeName = (edge: GraphEdge): string => {
    const missing = edge.present === false || edge.nat?.present === false ? ` (${t('graph.ruleMissing')})` : '';
    const foreign = edge.foreign ? ` (${t('graph.foreign')})` : '';
    if (edge.kind === 'veth') {
      const flow = trafficOf(edge);
      return `${t('graph.edge.veth', { host: edge.hostEnd ?? '?', peer: edge.peerEnd ?? '?' })}${flow ? `, ${t('graph.traffic', flow)}` : ''}${foreign}`;
    }
    if (edge.kind === 'uplink') return t('graph.edge.uplink');
    if (edge.kind === 'port') return `${t('graph.edge.port')}${missing}`;
    if (edge.kind === 'dnat') return `${t('graph.edge.dnat')}${missing}`;
    if (edge.nat) return `${t('graph.edge.nat', { subnet: edge.nat.subnet, uplink: edge.nat.uplink ?? '—' })}${missing}`;
    return `${t('graph.edge.bridge')}${foreign}`;
  };

  const nodeLabel = (node: GraphNode): string => {
    const addresses = node.addresses.map((address) => `${address.ifname} ${address.cidr}`).join(', ');
    const state = t(`graph.state.${node.state}`);
    const foreign = node.foreign ? ` (${t('graph.foreign')})` : '';
    if (node.kind === 'container')
      return t('graph.node.container', { name: node.label, addresses: addresses || t('graph.noAddress'), state });
    if (node.kind === 'bridge')
      return `${t('graph.node.bridge', { name: node.label, network: node.name ?? '—', addresses: addresses || t('graph.noAddress'), state })}${foreign}`;
    if (node.kind === 'uplink') return t('graph.node.uplink', { name: node.label, addresses: addresses || t('graph.noAddress'), state });
    if (node.kind === 'port') return t('graph.node.port', { entry: node.label, target: node.detail ?? '' });
    if (node.kind === 'named')
      return `${t('graph.node.named', { name: node.label, addresses: addresses || t('graph.noAddress') })}${foreign}`;
    return t('graph.node.machine');
  };

  /** The text on an edge, placed near its target end. */
  const edgeText = (edge: GraphEdge): string | undefined => {
    if (edge.kind === 'veth') return `${edge.hostEnd ?? '?'} ↔ ${edge.peerEnd ?? '?'}`;
    if (edge.kind === 'bridge' && edge.nat) return `MASQUERADE → ${edge.nat.uplink ?? '?'}${edge.nat.present ? '' : ' ✗'}`;
    if (edge.kind === 'dnat') return `DNAT${edge.present === false ? ' ✗' : ''}`;
    return undefined;
  };

  return (
    <div className="graph" role="region" aria-label={label}>
      <div className="graph-toolbar" role="toolbar" aria-label={t('graph.toolbar')}>
        <button type="button" className="button button--small" onClick={() => zoomCenter(1.25)}>
          {t('graph.zoomIn')}
        </button>
        <button type="button" className="button button--small" onClick={() => zoomCenter(0.8)}>
          {t('graph.zoomOut')}
        </button>
        <button type="button" className="button button--small" onClick={fit}>
          {t('graph.fit')}
        </button>
        <span className="spacer" />
        <button type="button" className="button button--small" onClick={saveSvg}>
          <Icon name="download" size={14} />
          {t('graph.exportSvg')}
        </button>
        <button type="button" className="button button--small" onClick={savePng}>
          <Icon name="download" size={14} />
          {t('graph.exportPng')}
        </button>
      </div>
      <div
        ref={canvas}
        className="graph-canvas"
        tabIndex={0}
        role="group"
        aria-label={t('graph.canvas')}
        aria-roledescription={t('graph.roledescription')}
        onWheel={onWheel}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={onPointerUp}
        onKeyDown={onKeyDown}
      >
        <div ref={stage} className="graph-stage">
          <svg
            ref={svg}
            width={Math.ceil(layout.width)}
            height={Math.ceil(layout.height)}
            viewBox={`0 0 ${Math.ceil(layout.width)} ${Math.ceil(layout.height)}`}
            className="graph-svg"
          >
            <g data-stage="">
              {model.edges.map((edge) => {
                if (edge.source === edge.target) return null;
                const [x1, y1] = anchor(layout.positions.get(edge.source), 'right');
                const [x2, y2] = anchor(layout.positions.get(edge.target), 'left');
                const mid = (x1 + x2) / 2;
                const text = edgeText(edge);
                const flow = edge.kind === 'veth' ? trafficOf(edge) : undefined;
                // Labels at the source end for the edges that end where veths end (a container), so the two never overlap.
                const atSource = edge.kind === 'dnat';
                return (
                  <g key={edge.id} role="img" aria-label={edgeName(edge)} data-edge={edge.id}>
                    <path className={edgeClass(edge)} d={`M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`} />
                    {text !== undefined && (
                      <text
                        className="graph-edge-label"
                        x={atSource ? x1 + 6 : x2 - 6}
                        y={(atSource ? y1 : y2) - 4}
                        textAnchor={atSource ? 'start' : 'end'}
                        aria-hidden="true"
                      >
                        {text}
                      </text>
                    )}
                    {flow !== undefined && (
                      <text className="graph-edge-label" x={x2 - 6} y={y2 + 11} textAnchor="end" aria-hidden="true">
                        {t('graph.trafficShort', flow)}
                      </text>
                    )}
                  </g>
                );
              })}
              {model.nodes.map((node) => {
                const placed = layout.positions.get(node.id);
                if (!placed) return null;
                const picked = selected.includes(node.id);
                const classes = ['graph-node', `graph-node--${node.kind === 'machine' ? 'root' : node.kind}`, `graph-node--${node.state}`];
                if (picked) classes.push('graph-node--selected');
                if (node.foreign) classes.push('graph-node--foreign');
                const shown = node.kind === 'port' ? (node.detail ?? '') : (node.addresses[0]?.cidr ?? node.detail ?? '');
                const first = node.foreign ? `${t('graph.foreign')} · ${shown}` : shown;
                const title = node.kind === 'bridge' && node.name ? `${node.name} · ${node.label}` : node.label;
                const third =
                  node.detail && (node.kind === 'bridge' || (node.kind === 'uplink' && node.addresses.length > 0))
                    ? node.detail
                    : undefined;
                // Cut lines are shown whole on hover.
                const [titleFits, subFits] = [titleChars(placed.width), subChars(placed.width)];
                const titleText =
                  node.kind === 'bridge' && node.name ? bridgeTitle(node.name, node.label, titleFits) : clipText(title, titleFits);
                const clipped = titleText !== title || [first, third ?? ''].some((line) => clipText(line, subFits) !== line);
                const interactive = node.kind === 'container';
                return (
                  <g
                    key={node.id}
                    className={classes.join(' ')}
                    transform={`translate(${placed.x} ${placed.y})`}
                    role={interactive ? 'button' : 'img'}
                    aria-label={nodeLabel(node)}
                    {...(interactive
                      ? {
                          tabIndex: 0,
                          'aria-pressed': picked,
                          onClick: () => onPick(node),
                          onKeyDown: (event: KeyboardEvent<SVGGElement>) => {
                            if (event.key !== 'Enter' && event.key !== ' ') return;
                            event.preventDefault();
                            onPick(node);
                          },
                        }
                      : {})}
                  >
                    {clipped && <title>{[title, first, third].filter((line) => line).join('\n')}</title>}
                    <rect width={placed.width} height={placed.height} rx={node.kind === 'container' ? 8 : 4} />
                    <text x={10} y={18}>
                      {titleText}
                    </text>
                    <text className="sub" x={10} y={34}>
                      {clipText(first, subFits)}
                    </text>
                    {third && (
                      <text className="sub" x={10} y={48}>
                        {clipText(third, subFits)}
                      </text>
                    )}
                  </g>
                );
              })}
            </g>
          </svg>
        </div>
      </div>
    </div>
  );
}
