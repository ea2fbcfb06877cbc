// A windowed table: only the rows in view (plus a few either side) are in the DOM, so a list of
// thousands scrolls as smoothly as a list of ten. Rows have one fixed height, which is what makes
// the arithmetic exact and cheap: no measuring, no layout thrash, one absolutely placed block per
// row. (About a hundred lines, so no dependency: @tanstack/react-virtual would do the same job but
// its strength, variable and measured sizes, is what we do not need.)
//
// Semantics stay those of a table: role=table with aria-rowcount for the full count, and each
// rendered row carries its aria-rowindex, so assistive technology announces "row 512 of 1001".
// Tab moves through the controls of the rendered rows; the browser scrolls a focused control into
// view, which renders the next rows before Tab gets there. ArrowUp/ArrowDown move to the same
// control in the row above or below, scrolling it into view first.
import { useCallback, useEffect, useLayoutEffect, useRef, useState, type CSSProperties, type KeyboardEvent, type ReactNode } from 'react';

export interface VirtualTableProps {
  label: string;
  rowCount: number;
  rowHeight: number;
  /** A `grid-template-columns` value shared by the header and every row. */
  columns: string;
  header: ReactNode;
  /** The cells of one row (role=cell elements); the row element around them is ours. */
  renderRow: (index: number) => ReactNode;
  rowKey: (index: number) => string;
  /** Rows rendered beyond each edge of the viewport. */
  overscan?: number;
  /** The viewport height assumed until it is measured (first paint, jsdom). */
  initialHeight?: number;
  rowProps?: (index: number) => { 'aria-selected'?: boolean; className?: string };
  /** When set, the table keeps this row in view (e.g. follow the tail of a log). */
  scrollToIndex?: number;
  onScrollChange?: (atEnd: boolean) => void;
  className?: string;
  empty?: ReactNode;
}

export function visibleRange(scrollTop: number, height: number, rowHeight: number, rowCount: number, overscan: number): [number, number] {
  if (rowCount === 0) return [0, 0];
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(rowCount, Math.ceil((scrollTop + height) / rowHeight) + overscan);
  return [first, Math.max(first, last)];
}

export function VirtualTable({
  label,
  rowCount,
  rowHeight,
  columns,
  header,
  renderRow,
  rowKey,
  overscan = 6,
  initialHeight = 600,
  rowProps,
  scrollToIndex,
  onScrollChange,
  className,
  empty,
}: VirtualTableProps) {
  const viewport = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(initialHeight);
  const pendingFocus = useRef<{ index: number; control: number } | null>(null);

  useLayoutEffect(() => {
    const element = viewport.current;
    if (!element) return;
    const measure = (): void => {
      if (element.clientHeight > 0) setHeight(element.clientHeight);
    };
    measure();
    if (typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, []);

  useLayoutEffect(() => {
    const element = viewport.current;
    if (!element || scrollToIndex === undefined || scrollToIndex < 0) return;
    const top = scrollToIndex * rowHeight;
    if (top < element.scrollTop) element.scrollTop = top;
    else if (top + rowHeight > element.scrollTop + element.clientHeight) element.scrollTop = top + rowHeight - element.clientHeight;
    setScrollTop(element.scrollTop);
  }, [scrollToIndex, rowHeight, rowCount]);

  // A scroll position past the end (rows were removed) snaps back on the next render.
  const maxTop = Math.max(0, rowCount * rowHeight - height);
  const top = Math.min(scrollTop, maxTop);
  const [first, last] = visibleRange(top, height, rowHeight, rowCount, overscan);

  useEffect(() => {
    const target = pendingFocus.current;
    const element = viewport.current;
    if (!target || !element) return;
    const row = element.querySelector<HTMLElement>(`[aria-rowindex="${target.index + 2}"]`);
    if (!row) return;
    pendingFocus.current = null;
    const controls = focusables(row);
    (controls[Math.min(target.control, controls.length - 1)] ?? row).focus({ preventScroll: false });
  });

  const onKeyDown = useCallback(
    (event: KeyboardEvent<HTMLDivElement>) => {
      if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
      const target = event.target as HTMLElement;
      // Arrow keys keep their own meaning inside text fields and selects.
      if (target.closest('input:not([type=checkbox]), textarea, select')) return;
      const row = target.closest<HTMLElement>('[role=row]');
      const element = viewport.current;
      if (!row || !element) return;
      const index = Number(row.getAttribute('aria-rowindex')) - 2;
      const next = index + (event.key === 'ArrowDown' ? 1 : -1);
      if (!Number.isInteger(index) || next < 0 || next >= rowCount) return;
      event.preventDefault();
      pendingFocus.current = { index: next, control: Math.max(0, focusables(row).indexOf(target)) };
      const nextTop = next * rowHeight;
      if (nextTop < element.scrollTop) element.scrollTop = nextTop;
      else if (nextTop + rowHeight > element.scrollTop + element.clientHeight)
        element.scrollTop = nextTop + rowHeight - element.clientHeight;
      setScrollTop(element.scrollTop);
    },
    [rowCount, rowHeight],
  );

  const rows: ReactNode[] = [];
  for (let index = first; index < last; index++) {
    const extra = rowProps?.(index);
    const style: CSSProperties = { top: index * rowHeight, height: rowHeight };
    rows.push(
      <div
        key={rowKey(index)}
        role="row"
        aria-rowindex={index + 2}
        aria-selected={extra?.['aria-selected']}
        className={extra?.className ? `vt-row ${extra.className}` : 'vt-row'}
        style={style}
      >
        {renderRow(index)}
      </div>,
    );
  }

  return (
    <div
      role="table"
      aria-label={label}
      aria-rowcount={rowCount + 1}
      className={className ? `vt ${className}` : 'vt'}
      style={{ '--vt-columns': columns } as CSSProperties}
    >
      <div role="rowgroup" className="vt-head">
        <div role="row" aria-rowindex={1} className="vt-row vt-row--head">
          {header}
        </div>
      </div>
      <div
        ref={viewport}
        className="vt-viewport"
        onScroll={(event) => {
          const element = event.currentTarget;
          setScrollTop(element.scrollTop);
          onScrollChange?.(element.scrollTop + element.clientHeight >= element.scrollHeight - rowHeight / 2);
        }}
        onKeyDown={onKeyDown}
      >
        {rowCount === 0 && empty}
        <div role="rowgroup" className="vt-body" style={{ height: rowCount * rowHeight }}>
          {rows}
        </div>
      </div>
    </div>
  );
}

function focusables(row: HTMLElement): HTMLElement[] {
  return [...row.querySelectorAll<HTMLElement>('button, input, select, textarea, a[href], [tabindex]:not([tabindex="-1"])')].filter(
    (element) => !(element as HTMLButtonElement).disabled,
  );
}
