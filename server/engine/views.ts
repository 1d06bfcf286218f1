import type { ResetPolicy } from "./breakers";
import { autoResetAt, dailyDrawdownPct, resetPolicies } from "./breakers";
import type { SymbolId } from "./ids";
import type { Side } from "./intent";
import type { Position } from "./accounting";
import type { Rules } from "./config";
import { rulesOf } from "./config";
import type { AccountState, BreakerState, EngineState, VetoEntry } from "./state";
import { accountExposure, configOf, equityOf, floorsOf, tradingStateOf } from "./state";
import type { AccountSpec, BreakerKind, TradingState } from "./types";
import { BreakerKind as BreakerKinds } from "./types";

/** What the API and the dashboard show of an account: a pure projection of its state. */
export type BreakerView = { kind: BreakerKind; resetPolicy: ResetPolicy; autoResetAt: number | null } & BreakerState;

export type VetoView = { symbol: SymbolId } & VetoEntry;

export type SideLockView = { side: Side } & VetoEntry;

export type AccountView = AccountSpec & {
  /** The preset in force (null: the firm's default rules) and the rules it sets. */
  preset: AccountState["preset"];
  rules: Rules;
  /** The account's trading day (under its preset's reset rule). */
  day: AccountState["day"];
  tradingState: TradingState;
  breakers: BreakerView[];
  /** Every registry entry, expired or not; a lock is in force while `expiresAt` is null or later than now. */
  vetoes: VetoView[];
  /** Account-wide locks on BUY or SELL entries (a stop-loss streak). */
  sideLocks: SideLockView[];
  /** Set while the account is reduce-only (REDUCING): why, since when, and whether the reset ends it. */
  reducing: AccountState["reducing"];
  balance: number;
  equity: number;
  /** The day's baseline and how far equity is below it (%). */
  baseline: number;
  /** The baseline came from stale equity at the reset (the last known before it). */
  baselineShadow: boolean;
  dailyDrawdownPct: number;
  dailyLossFloor: number;
  maxLossFloor: number;
  /** The highest equity a trailing max-loss floor follows (see `accountRules.maxLossMode`). */
  highWater: number;
  lockedOut: AccountState["lockedOut"];
  positions: ({ symbol: SymbolId } & Position)[];
  /**
   * Gross notional at the last prices: per symbol, and per volatility cluster and sector with
   * how many positions in it have no price (the portfolio caps read these).
   */
  exposure: {
    floating: number;
    bySymbol: { symbol: SymbolId; gross: number }[];
    byCluster: { cluster: string; gross: number; unpriced: number }[];
    bySector: { sector: string; gross: number; unpriced: number }[];
  };
  decisions: { allowed: number; denied: number };
};

const cents = (usd: number) => Math.round(usd * 100) / 100;

export function accountView(account: AccountState, state: EngineState): AccountView {
  const config = configOf(state, account);
  const exposure = accountExposure(account, state);
  return {
    ...account.spec,
    ...(account.preset ? { presetId: account.preset.presetId } : {}),
    preset: account.preset,
    rules: rulesOf(config),
    day: account.day,
    tradingState: tradingStateOf(account, state.firmHalt),
    breakers: BreakerKinds.options.map((kind) => ({
      kind,
      resetPolicy: resetPolicies[kind],
      autoResetAt: autoResetAt(kind, account, config),
      ...account.breakers[kind],
    })),
    vetoes: [...account.vetoes].map(([symbol, veto]) => ({ symbol, ...veto })),
    sideLocks: [...account.sideLocks].map(([side, lock]) => ({ side, ...lock })),
    reducing: account.reducing,
    balance: cents(account.balance),
    equity: cents(equityOf(account, state)),
    baseline: cents(account.baseline),
    baselineShadow: account.baselineShadow,
    dailyDrawdownPct: Number(dailyDrawdownPct(account, state).toFixed(4)),
    dailyLossFloor: cents(floorsOf(account, config).dailyLossFloor),
    maxLossFloor: cents(floorsOf(account, config).maxLossFloor),
    highWater: cents(account.highWater),
    lockedOut: account.lockedOut,
    positions: [...account.positions].map(([symbol, position]) => ({ symbol, ...position })),
    exposure: {
      floating: cents(exposure.floating),
      bySymbol: [...exposure.grossBySymbol].map(([symbol, gross]) => ({ symbol, gross: cents(gross) })),
      byCluster: [...exposure.byCluster].map(([cluster, group]) => ({ cluster, gross: cents(group.gross), unpriced: group.unpriced })),
      bySector: [...exposure.bySector].map(([sector, group]) => ({ sector, gross: cents(group.gross), unpriced: group.unpriced })),
    },
    decisions: { allowed: account.allowedCount, denied: account.deniedCount },
  };
}
