import type { TradingState } from "@/server/engine/types";
import type { OverviewQuery } from "@/server/overview-protocol";

/** The overview's filters: everything of an `OverviewQuery` but the window. */
export type OverviewFilters = Omit<OverviewQuery, "offset" | "limit">;

/** Most severe first, as the counts show them. */
export const TRADING_STATES: TradingState[] = ["LOCKED_OUT", "HALTED", "REDUCING", "ACTIVE"];

/** A stable key of the filters (not the window): a new one starts the list at the top. */
export function filtersKey(filters: OverviewFilters): string {
  return JSON.stringify([filters.q ?? "", filters.states ?? [], filters.presetId ?? "", !!filters.breachedToday, !!filters.lockedSymbols]);
}
