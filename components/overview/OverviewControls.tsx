"use client";

import { useQuery } from "@tanstack/react-query";
import { memo, useEffect, useRef, useState } from "react";
import type { TradingState } from "@/server/engine/types";
import type { OverviewCounts } from "@/server/overview-protocol";
import { presetKeys, presetsApi } from "../presets/api";
import type { OverviewFilters } from "./query";
import { TRADING_STATES } from "./query";

const count = new Intl.NumberFormat("en-US");
/** Typing settles this long before the list is asked for again. */
const SEARCH_DEBOUNCE_MS = 150;

type ControlsProps = { filters: OverviewFilters; onFilters: (change: Partial<OverviewFilters>) => void };

const onlyState = (filters: OverviewFilters): TradingState | null => (filters.states?.length === 1 ? filters.states[0]! : null);

/** The counts by trading state and breach, each a toggle of the filter it names. */
export const CountTiles = memo(function CountTiles({ counts, filters, onFilters }: ControlsProps & { counts: OverviewCounts | null }) {
  const state = onlyState(filters);
  const unfiltered = !filters.states?.length && !filters.breachedToday && !filters.lockedSymbols;
  const tile = (key: string, label: string, value: number | undefined, pressed: boolean, onClick: () => void, tone = "") => (
    <button key={key} type="button" className={`ov-tile ${tone}`} aria-pressed={pressed} onClick={onClick} data-testid={`count-${key}`}>
      <span className="ov-tile-n" data-testid="count-value">
        {value === undefined ? "–" : count.format(value)}
      </span>
      <span className="ov-tile-label">{label}</span>
    </button>
  );
  return (
    <div className="ov-tiles" role="group" aria-label="Account counts (each one narrows the list)">
      {tile("total", "accounts", counts?.total, unfiltered, () => onFilters({ states: undefined, breachedToday: undefined, lockedSymbols: undefined }))}
      {TRADING_STATES.map((name) =>
        tile(name, name, counts?.byState[name], state === name, () => onFilters({ states: state === name ? undefined : [name] }), `state-${name.toLowerCase()}`),
      )}
      {tile("breachedToday", "breached today", counts?.breachedToday, !!filters.breachedToday, () => onFilters({ breachedToday: !filters.breachedToday || undefined }), "ov-tile-warn")}
      {tile("lockedSymbols", "with locked symbols", counts?.withLockedSymbols, !!filters.lockedSymbols, () => onFilters({ lockedSymbols: !filters.lockedSymbols || undefined }))}
    </div>
  );
});

/** Search and filters; the search box keeps its own text so typing re-renders only itself. */
export const FilterBar = memo(function FilterBar({ filters, onFilters }: ControlsProps) {
  const presets = useQuery({ queryKey: presetKeys.all, queryFn: presetsApi.list, staleTime: 60_000 });
  const state = onlyState(filters);
  return (
    <div className="toolbar ov-filters" role="search" aria-label="Search accounts">
      <SearchBox value={filters.q ?? ""} onSearch={(q) => onFilters({ q: q || undefined })} />
      <label className="field">
        <span>State</span>
        <select value={state ?? "all"} onChange={(event) => onFilters({ states: event.target.value === "all" ? undefined : [event.target.value as TradingState] })}>
          <option value="all">all</option>
          {TRADING_STATES.map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        <span>Preset</span>
        <select value={filters.presetId ?? ""} onChange={(event) => onFilters({ presetId: event.target.value || undefined })}>
          <option value="">any</option>
          {(presets.data?.presets ?? []).map((preset) => (
            <option key={preset.id} value={preset.id}>
              {preset.id}
            </option>
          ))}
          {filters.presetId && !presets.data?.presets.some((preset) => preset.id === filters.presetId) && <option value={filters.presetId}>{filters.presetId}</option>}
        </select>
      </label>
      <label className="ov-check">
        <input type="checkbox" checked={!!filters.breachedToday} onChange={(event) => onFilters({ breachedToday: event.target.checked || undefined })} />
        Breached today
      </label>
      <label className="ov-check">
        <input type="checkbox" checked={!!filters.lockedSymbols} onChange={(event) => onFilters({ lockedSymbols: event.target.checked || undefined })} />
        Locked symbols
      </label>
    </div>
  );
});

function SearchBox({ value, onSearch }: { value: string; onSearch: (q: string) => void }) {
  const [text, setText] = useState(value);
  const sent = useRef(value);
  // Cleared or set from outside (not by typing here): show it.
  useEffect(() => {
    if (value !== sent.current) {
      sent.current = value;
      setText(value);
    }
  }, [value]);
  useEffect(() => {
    const q = text.trim();
    if (q === sent.current) return;
    const timer = setTimeout(() => {
      sent.current = q;
      onSearch(q);
    }, SEARCH_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [text, onSearch]);
  return (
    <label className="field ov-search">
      <span>Filter</span>
      <input type="search" value={text} onChange={(event) => setText(event.target.value)} placeholder="account, name or preset" autoComplete="off" />
    </label>
  );
}
