import { z } from "zod";
import type { AccountId, SymbolId } from "./engine/ids";
import type { BreakerKind } from "./engine/types";
import { TradingState } from "./engine/types";
import type { DecisionRecord, FirmView } from "./runtime";

/**
 * The firm overview at desk scale (thousands of accounts), shared by the server, the HTTP API
 * (`GET /api/v1/overview`) and the stream's `overview` subscription. The server keeps one
 * compact row per account, updated only for the accounts a commit touched, and orders them by
 * headroom; a client asks for a window of the ordered, filtered list (what it renders) and
 * receives only that window, the counts and the firm's exposure.
 */

/** One account as the overview shows it. Money in USD, rounded to cents; shares in percent. */
export type OverviewRow = {
  accountId: AccountId;
  name: string;
  /** The preset in force (null: the firm's default rules). */
  presetId: string | null;
  tradingState: TradingState;
  /** The account's currency: the row's amounts are in it (the firm's exposure lines are in USD). */
  currency: string;
  equity: number;
  /** Equity less the day's baseline. */
  dayPnl: number;
  /** Money left before the day's loss floor (never below 0), and as a share of the day's allowance. */
  dailyHeadroom: number;
  dailyHeadroomPct: number;
  /** Money left before the max-loss floor (never below 0), and as a share of the max-loss allowance. */
  maxHeadroom: number;
  maxHeadroomPct: number;
  /**
   * The smaller of the two shares: the overview's order, least permitted loss left first (a share
   * of each allowance, not money, so that accounts of every size compare; the trading state plays
   * no part; ties by account id).
   */
  headroomPct: number;
  /** Breakers tripped now. */
  breakers: BreakerKind[];
  /** Symbols locked now (vetoes in force). */
  lockedSymbols: SymbolId[];
  /** A breaker tripped, a lock-out or a soft breach (reduce-only by the engine) since the account's day started. */
  breachedToday: boolean;
  /** The ledger seq of the last commit that changed this row. */
  seq: number;
};

/** Which rows a client wants: all filters are ANDed; `q` matches id, name or preset (case-insensitive). */
export type OverviewQuery = {
  q?: string;
  states?: TradingState[];
  presetId?: string;
  breachedToday?: boolean;
  /** Only accounts with at least one symbol locked. */
  lockedSymbols?: boolean;
  /** The window of the ordered, filtered list: rows `offset .. offset + limit - 1` (limit ≤ 500). */
  offset: number;
  limit: number;
};

export type OverviewCounts = {
  /** Every account the caller may see. */
  total: number;
  byState: Record<TradingState, number>;
  breachedToday: number;
  withLockedSymbols: number;
};

/** Exposure summed over every account the caller may see, at the last prices (USD). */
export type ExposureLine = {
  /** A symbol, or a volatility cluster's name. */
  key: string;
  /** Signed notional: positive when the traders are net long (the firm carries the opposite). */
  netUsd: number;
  grossUsd: number;
  /** Accounts holding a position in it. */
  accounts: number;
};

export type FirmExposure = { bySymbol: ExposureLine[]; byCluster: ExposureLine[] };

/** One answer of `GET /api/v1/overview`, and what an `overview` subscription starts with. */
export type OverviewPage = {
  seq: number;
  firm: FirmView;
  counts: OverviewCounts;
  /** How many rows match the query's filters (the virtual list's length). */
  matching: number;
  offset: number;
  rows: OverviewRow[];
  /** Accounts breached or halted today (at most 100), most recent first. */
  breachedToday: OverviewRow[];
  exposure: FirmExposure;
  /** The newest decisions the caller may see (at most 20), newest first. */
  decisions: DecisionRecord[];
};

/** The most rows one window may ask for. */
export const MAX_WINDOW_ROWS = 500;

const filters = {
  q: z.string().trim().max(200).optional(),
  presetId: z.string().min(1).max(200).optional(),
};

/** An `OverviewQuery` as the stream's `subscribe` carries it (JSON). */
export const OverviewQuerySchema = z.strictObject({
  ...filters,
  states: z.array(TradingState).max(4).optional(),
  breachedToday: z.boolean().optional(),
  lockedSymbols: z.boolean().optional(),
  offset: z.number().int().min(0).max(1_000_000),
  limit: z.number().int().min(1).max(MAX_WINDOW_ROWS),
});

const flag = z.enum(["true", "false"]).transform((value) => value === "true");

/** An `OverviewQuery` as `GET /api/v1/overview` takes it: `states=HALTED,LOCKED_OUT`, `breachedToday=true`. */
export const OverviewQueryParams = z.strictObject({
  ...filters,
  states: z
    .string()
    .max(100)
    .transform((text) => text.split(",").filter(Boolean))
    .pipe(z.array(TradingState).max(4))
    .optional(),
  breachedToday: flag.optional(),
  lockedSymbols: flag.optional(),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
  limit: z.coerce.number().int().min(1).max(MAX_WINDOW_ROWS).default(100),
});
