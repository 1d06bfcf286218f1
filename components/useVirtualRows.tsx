"use client";

import { useCallback, useRef } from "react";
import { useVirtualizer } from "@tanstack/react-virtual";

export type VirtualRowsOptions = {
  /** A row's height before it is measured. */
  estimatePx: number;
  /** A row's identity (its seq): measured heights follow a row when newer ones are put above it. */
  keyOf: (index: number) => number | string;
  /** Rows rendered beyond the visible ones, on each side. */
  overscan?: number;
};

/**
 * A long table of which only the rows in view (and `overscan` either side) are in the DOM (TanStack
 * Virtual). Give `scroller` to the scrolling element, render `rows` between two spacer rows of
 * `beforePx` and `afterPx` (the table keeps its semantics, the scrollbar its length), and give
 * each row `measureRow` as its ref with `data-index`: heights are estimated, then measured.
 */
export function useVirtualRows<T extends HTMLElement>(count: number, { estimatePx, keyOf, overscan = 15 }: VirtualRowsOptions) {
  const scroller = useRef<T>(null);
  // No React Compiler here; the list reads the virtualizer fresh on every render.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count,
    getScrollElement: () => scroller.current,
    estimateSize: useCallback(() => estimatePx, [estimatePx]),
    getItemKey: keyOf,
    overscan,
  });
  const rows = virtualizer.getVirtualItems();
  const beforePx = rows[0]?.start ?? 0;
  const afterPx = Math.max(0, virtualizer.getTotalSize() - (rows.at(-1)?.end ?? 0));
  return { scroller, rows, beforePx, afterPx, measureRow: virtualizer.measureElement };
}

/** The space of the rows not rendered, above or below those that are (nothing when there are none). */
export function SpacerRow({ heightPx, columns }: { heightPx: number; columns: number }) {
  if (heightPx <= 0) return null;
  return (
    <tr aria-hidden="true" className="virtual-spacer">
      <td colSpan={columns} style={{ height: heightPx, padding: 0, border: 0 }} />
    </tr>
  );
}
