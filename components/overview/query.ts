import type { OverviewQuery } from "@/server/overview-protocol";
import type { TradingState } from "@/server/engine/types";

/** The overview's filters: everything of an `OverviewQuery` but the window. */
export type OverviewFilters = Omit<OverviewQuery, "offset" | "limit">;

/** Most severe first, as the counts show them. */
export const TRADING_STATES: TradingState[] = ["LOCKED_OUT", "HALTED", "REDUCING", "ACTIVE"];

/** `GET /api/v1/overview`'s query string for a query (only the filters that are set). */
export function overviewSearch(query: OverviewQuery): string {
  const params = new URLSearchParams();
  if (query.q) params.set("q", query.q);
  if (query.states?.length) params.set("states", query.states.join(","));
  if (query.presetId) params.set("presetId", query.presetId);
  if (query.breachedToday) params.set("breachedToday", "true");
  if (query.lockedSymbols) params.set("lockedSymbols", "true");
  params.set("offset", String(query.offset));
  params.set("limit", String(query.limit));
  return params.toString();
}

/** A stable key of the filters (not the window): a new one starts the list at the top. */
export function filtersKey(filters: OverviewFilters): string {
  return JSON.stringify([filters.q ?? "", filters.states ?? [], filters.presetId ?? "", !!filters.breachedToday, !!filters.lockedSymbols]);
}
