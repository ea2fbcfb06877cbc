// A live line chart in plain SVG: a minute of samples as an area and a line, and the limit the
// kernel enforces drawn as a dashed line with its value. Sixty points and a few lines do not need
// a charting library (the usual ones weigh 50-200 kB and redraw through their own scene graph);
// React re-rendering one <path> per second is cheap, and every element stays a real, labelled
// DOM node that tests and screen readers can find.
import { useLayoutEffect, useRef, useState } from 'react';

export interface LineChartProps {
  title: string;
  /** Oldest first; `null` marks a gap (no sample). */
  values: readonly (number | null)[];
  /** How many samples the x axis holds (the newest sits at the right edge). */
  capacity: number;
  limit: number | null;
  format: (value: number) => string;
  /** The smallest top of the y axis, so a flat line near zero does not fill the chart. */
  floor?: number;
  /** Words for the limit line, e.g. "Limit 64 MiB". */
  limitLabel?: (limit: string) => string;
  usageLabel: string;
  noLimitLabel: string;
  summary: string;
  height?: number;
}

const PAD = { top: 10, right: 12, bottom: 18, left: 56 };

/** A round number at or above `value` (1, 2, 2.5, 5 × 10^n), for axis tops that read well. */
export function niceCeiling(value: number): number {
  if (value <= 0) return 1;
  const exponent = Math.floor(Math.log10(value));
  const base = 10 ** exponent;
  for (const step of [1, 2, 2.5, 5, 10]) if (step * base >= value) return step * base;
  return 10 * base;
}

export function LineChart({
  title,
  values,
  capacity,
  limit,
  format,
  floor = 0,
  limitLabel = (text) => text,
  usageLabel,
  noLimitLabel,
  summary,
  height = 150,
}: LineChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(360);
  useLayoutEffect(() => {
    const element = box.current;
    if (!element) return;
    const measure = (): void => {
      if (element.clientWidth > 0) setWidth(element.clientWidth);
    };
    measure();
    if (typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, []);

  const numbers = values.filter((value): value is number => value !== null);
  const peak = numbers.length > 0 ? Math.max(...numbers) : 0;
  const top = niceCeiling(Math.max(floor, peak * 1.2, limit !== null ? limit * 1.15 : 0));
  const plotWidth = Math.max(10, width - PAD.left - PAD.right);
  const plotHeight = height - PAD.top - PAD.bottom;
  const x = (index: number): number => PAD.left + plotWidth - ((values.length - 1 - index) / Math.max(1, capacity - 1)) * plotWidth;
  const y = (value: number): number => PAD.top + plotHeight - (Math.min(value, top) / top) * plotHeight;

  // One path per run of consecutive samples; a gap breaks the line rather than bridging it.
  const runs: { index: number; value: number }[][] = [];
  let run: { index: number; value: number }[] = [];
  values.forEach((value, index) => {
    if (value === null) {
      if (run.length) runs.push(run);
      run = [];
    } else run.push({ index, value });
  });
  if (run.length) runs.push(run);
  const line = runs
    .map((points) => points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.index).toFixed(1)},${y(p.value).toFixed(1)}`).join(''))
    .join('');
  const area = runs
    .filter((points) => points.length > 1)
    .map((points) => {
      const first = points[0];
      const last = points[points.length - 1];
      if (!first || !last) return '';
      const base = y(0).toFixed(1);
      return `M${x(first.index).toFixed(1)},${base}${points.map((p) => `L${x(p.index).toFixed(1)},${y(p.value).toFixed(1)}`).join('')}L${x(last.index).toFixed(1)},${base}Z`;
    })
    .join('');
  const gridValues = [0, top / 2, top];
  const latest = numbers[numbers.length - 1];

  return (
    <figure className="chart" aria-label={title}>
      <figcaption className="chart-head">
        <span className="chart-title">{title}</span>
        <span className="chart-value">
          {latest !== undefined ? format(latest) : '–'}
          <span className="chart-limit">{limit !== null ? ` / ${format(limit)}` : ''}</span>
        </span>
      </figcaption>
      <div ref={box} className="chart-box">
        <svg role="group" aria-label={summary} width={width} height={height} viewBox={`0 0 ${width} ${height}`} className="chart-svg">
          {gridValues.map((value) => (
            <g key={value} className="chart-grid" aria-hidden="true">
              <line x1={PAD.left} x2={PAD.left + plotWidth} y1={y(value)} y2={y(value)} />
              <text x={PAD.left - 8} y={y(value)} dy="0.32em" textAnchor="end">
                {format(value)}
              </text>
            </g>
          ))}
          <path className="chart-area" d={area} aria-hidden="true" />
          <path role="img" aria-label={usageLabel} className="chart-line" d={line} />
          {limit !== null && (
            <g role="img" aria-label={limitLabel(format(limit))} className="chart-limit-line">
              <line x1={PAD.left} x2={PAD.left + plotWidth} y1={y(limit)} y2={y(limit)} />
              <text x={PAD.left + plotWidth - 4} y={y(limit) - 5} textAnchor="end">
                {limitLabel(format(limit))}
              </text>
            </g>
          )}
        </svg>
      </div>
      <ul className="chart-legend">
        <li>
          <span className="legend-swatch legend-swatch--usage" aria-hidden="true" />
          {usageLabel}
        </li>
        <li>
          <span className={`legend-swatch ${limit !== null ? 'legend-swatch--limit' : 'legend-swatch--none'}`} aria-hidden="true" />
          {limit !== null ? limitLabel(format(limit)) : noLimitLabel}
        </li>
      </ul>
    </figure>
  );
}
