"use client";

import { useVirtualizer } from "@tanstack/react-virtual";
import Link from "next/link";
import { memo, useCallback, useEffect, useRef, useSyncExternalStore } from "react";
import type { OverviewRow } from "@/server/overview-protocol";
import { money, pct } from "../format";

/** The window of the ordered, filtered list the page asks the server for. */
export type RowWindow = { offset: number; limit: number };

/** Rows asked for beyond the visible ones, on each side; the server's largest window. */
const PAD_ROWS = 40;
const MAX_LIMIT = 500;
/** The first window, before the list has measured itself (a wall screen shows about 20 rows). */
export const FIRST_WINDOW: RowWindow = { offset: 0, limit: 80 };
/** A scroll settles this long before the page asks for another window. */
const WINDOW_DEBOUNCE_MS = 100;

/** Fixed row heights (no measuring while scrolling): one line on a desk, five short ones on a phone. */
const ROW_PX = 52;
const NARROW_ROW_PX = 132;
const HEADER_PX = 40;
const NARROW = "(max-width: 760px)";

/** The window around the visible rows [first, last], with room to scroll either way. */
function windowAround(first: number, last: number): RowWindow {
  const offset = Math.max(0, first - PAD_ROWS);
  return { offset, limit: Math.min(MAX_LIMIT, last - offset + 1 + PAD_ROWS) };
}

/** Whether a window holds the visible rows with some room left (or reaches the list's ends). */
function covers(window: RowWindow, first: number, last: number, matching: number): boolean {
  const end = window.offset + window.limit;
  const roomBefore = window.offset === 0 || first >= window.offset + PAD_ROWS / 4;
  const roomAfter = end >= matching || last < end - PAD_ROWS / 4;
  return roomBefore && roomAfter;
}

function subscribeNarrow(onChange: () => void) {
  const query = window.matchMedia(NARROW);
  query.addEventListener("change", onChange);
  return () => query.removeEventListener("change", onChange);
}

function useNarrow(): boolean {
  return useSyncExternalStore(
    subscribeNarrow,
    () => window.matchMedia(NARROW).matches,
    () => false,
  );
}

export type AccountListProps = {
  /** How many rows match the filters (the list's length). */
  matching: number;
  /** The rows the server sent, from `offset`. */
  offset: number;
  rows: OverviewRow[];
  /** The window asked for; `onWindow` asks for another once the visible rows leave it. */
  window: RowWindow;
  onWindow: (window: RowWindow) => void;
  /** A new value (new filters) scrolls the list back to the top. */
  resetKey: string;
  loading: boolean;
};

/**
 * The accounts, least permitted loss left first (the server's order: the smaller of the shares of
 * today's and the max allowance left, whatever the trading state), as a virtualized ARIA table:
 * only the rows in view (and a few either side) are in the DOM; the rows of the visible window
 * come from the server as the list scrolls.
 */
export function AccountList({ matching, offset, rows, window: requested, onWindow, resetKey, loading }: AccountListProps) {
  const scroller = useRef<HTMLDivElement>(null);
  const narrow = useNarrow();
  const rowPx = narrow ? NARROW_ROW_PX : ROW_PX;
  // No React Compiler here; the list reads the virtualizer fresh on every render.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count: matching,
    getScrollElement: () => scroller.current,
    estimateSize: useCallback(() => rowPx, [rowPx]),
    overscan: 6,
    scrollMargin: narrow ? 0 : HEADER_PX,
  });

  // Row heights change with the layout.
  useEffect(() => {
    virtualizer.measure();
  }, [virtualizer, rowPx]);

  // New filters: back to the top.
  useEffect(() => {
    scroller.current?.scrollTo({ top: 0 });
  }, [resetKey]);

  const items = virtualizer.getVirtualItems();
  const first = items[0]?.index ?? 0;
  const last = items.at(-1)?.index ?? 0;

  // Ask for the window around what is visible once scrolling pauses, only when the one asked
  // for no longer holds it.
  useEffect(() => {
    if (matching === 0 || covers(requested, first, last, matching)) return;
    const timer = setTimeout(() => onWindow(windowAround(first, last)), WINDOW_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [first, last, matching, requested, onWindow]);

  const margin = virtualizer.options.scrollMargin;
  return (
    <div
      ref={scroller}
      className="ov-scroller"
      // A scrollable region is keyboard reachable (arrow keys and Page Down scroll it).
      tabIndex={0}
      role="region"
      aria-label="Accounts list"
      aria-busy={loading}
      data-testid="account-list"
      data-matching={matching}
    >
      <div
        role="table"
        aria-label="Accounts, least permitted loss left first (the smaller share of today's and the max allowance)"
        aria-rowcount={matching + 1}
        aria-colcount={8}
        className={`ov-table${narrow ? " ov-narrow" : ""}`}
      >
        <div role="rowgroup" className="ov-head">
          <div role="row" aria-rowindex={1} className="ov-row ov-head-row">
            <span role="columnheader">Account</span>
            <span role="columnheader">State</span>
            <span role="columnheader" className="num">
              Equity
            </span>
            <span role="columnheader" className="num">
              Today
            </span>
            <span role="columnheader">Today&apos;s permitted loss left</span>
            <span role="columnheader">Max permitted loss left</span>
            <span role="columnheader">Breakers</span>
            <span role="columnheader">Locked symbols</span>
          </div>
        </div>
        <div role="rowgroup" className="ov-body" style={{ height: virtualizer.getTotalSize() - margin }}>
          {items.map((item) => {
            const row = rows[item.index - offset];
            const top = item.start - margin;
            return row ? (
              <AccountRow key={item.key} row={row} index={item.index} top={top} height={item.size} />
            ) : (
              <div
                key={item.key}
                role="row"
                aria-rowindex={item.index + 2}
                className="ov-row ov-pending"
                style={{ transform: `translateY(${top}px)`, height: item.size }}
              >
                <span role="cell" className="muted">
                  Loading…
                </span>
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}

type RowProps = { row: OverviewRow; index: number; top: number; height: number };

/** One account. Re-renders only when the server changed its row (a new seq) or it moved. */
const AccountRow = memo(
  function AccountRow({ row, index, top, height }: RowProps) {
    const id = row.accountId;
    // The allowance that orders the row (the smaller share left; today's on a tie), once it is used.
    const closest = row.headroomPct >= 100 ? null : row.dailyHeadroomPct <= row.maxHeadroomPct ? "daily" : "max";
    return (
      <div
        role="row"
        aria-rowindex={index + 2}
        className="ov-row"
        style={{ transform: `translateY(${top}px)`, height }}
        aria-label={`Account ${id}`}
        data-testid="account-row"
        data-account={id}
        data-index={index}
      >
        <span role="rowheader" className="ov-account">
          <Link href={`/accounts/${encodeURIComponent(id)}`}>{row.name}</Link>
          <span className="muted small ov-ellipsis">
            {id} · {row.presetId ?? "firm defaults"}
          </span>
        </span>
        <span role="cell" className="ov-state">
          <span className={`badge state-${row.tradingState.toLowerCase()}`} data-testid="trading-state">
            {row.tradingState}
          </span>
        </span>
        <span role="cell" className="num ov-equity" data-testid="equity">
          <span className="ov-label">Equity </span>
          {money(row.equity, row.currency)}
        </span>
        <span role="cell" className={`num ov-today ${row.dayPnl >= 0 ? "up" : "down"}`}>
          <span className="ov-label">Today </span>
          {money(row.dayPnl, row.currency)}
        </span>
        <span role="cell" className="ov-daily">
          <Allowance currency={row.currency} leftUsd={row.dailyHeadroom} leftPct={row.dailyHeadroomPct} label={`Today's permitted loss left for ${id}`} closest={closest === "daily"} narrowLabel="Today left" />
        </span>
        <span role="cell" className="ov-max">
          <Allowance currency={row.currency} leftUsd={row.maxHeadroom} leftPct={row.maxHeadroomPct} label={`Max permitted loss left for ${id}`} closest={closest === "max"} narrowLabel="Max left" />
        </span>
        <span role="cell" className="ov-breakers ov-ellipsis">
          {row.breakers.length === 0 ? <span className="muted">no breaker</span> : <span className="down">{row.breakers.join(", ")}</span>}
        </span>
        <span role="cell" className="ov-locked ov-ellipsis" title={row.lockedSymbols.join(", ")}>
          {row.lockedSymbols.length === 0 ? <span className="muted">none locked</span> : <span className="down">{row.lockedSymbols.join(", ")}</span>}
        </span>
      </div>
    );
  },
  (before, after) =>
    before.index === after.index &&
    before.top === after.top &&
    before.height === after.height &&
    before.row.accountId === after.row.accountId &&
    before.row.seq === after.row.seq,
);

/**
 * Money left to a floor and a bar of the share of the allowance left (red below 25%); the
 * smaller of an account's two shares (the one the list is ordered by) is marked "closest".
 */
function Allowance({ currency, leftUsd, leftPct, label, closest, narrowLabel }: { currency: string; leftUsd: number; leftPct: number; label: string; closest: boolean; narrowLabel: string }) {
  const tone = leftPct < 25 ? "bar-bad" : leftPct < 50 ? "bar-warn" : "bar-ok";
  return (
    <span className={`allowance${closest ? " closest" : ""}`} data-closest={closest || undefined}>
      <span className="num">
        <span className="ov-label">{narrowLabel} </span>
        {money(leftUsd, currency)} <span className={closest ? undefined : "muted"}>{pct(leftPct, 0)}</span>
        {closest && <span className="ov-closest"> closest</span>}
      </span>
      <meter className={`bar ${tone}`} min={0} max={100} low={25} high={50} optimum={100} value={leftPct} aria-label={closest ? `${label} (the closest limit: the list's order)` : label} />
    </span>
  );
}
