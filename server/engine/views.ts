import type { ResetPolicy } from "./breakers";
import { autoResetAt, dailyDrawdownPct, resetPolicies } from "./breakers";
import type { SymbolId } from "./ids";
import type { Position } from "./accounting";
import type { AccountState, BreakerState, EngineState, VetoEntry } from "./state";
import { equityUsd, floorsOf, tradingStateOf } from "./state";
import type { AccountSpec, BreakerKind, TradingState } from "./types";
import { BreakerKind as BreakerKinds } from "./types";

/** What the API and the dashboard show of an account: a pure projection of its state. */
export type BreakerView = { kind: BreakerKind; resetPolicy: ResetPolicy; autoResetAt: number | null } & BreakerState;

export type VetoView = { symbol: SymbolId } & VetoEntry;

export type AccountView = AccountSpec & {
  tradingState: TradingState;
  breakers: BreakerView[];
  /** Every registry entry, expired or not; a lock is in force while `expiresAt` is null or later than now. */
  vetoes: VetoView[];
  balanceUsd: number;
  equityUsd: number;
  /** The day's baseline and how far equity is below it (%). */
  baselineUsd: number;
  dailyDrawdownPct: number;
  dailyLossFloorUsd: number;
  maxLossFloorUsd: number;
  lockedOut: AccountState["lockedOut"];
  positions: ({ symbol: SymbolId } & Position)[];
  decisions: { allowed: number; denied: number };
};

const cents = (usd: number) => Math.round(usd * 100) / 100;

export function accountView(account: AccountState, state: EngineState): AccountView {
  const config = state.config;
  return {
    ...account.spec,
    tradingState: tradingStateOf(account, state.firmHalt),
    breakers: BreakerKinds.options.map((kind) => ({
      kind,
      resetPolicy: resetPolicies[kind],
      autoResetAt: autoResetAt(kind, account, config),
      ...account.breakers[kind],
    })),
    vetoes: [...account.vetoes].map(([symbol, veto]) => ({ symbol, ...veto })),
    balanceUsd: cents(account.balanceUsd),
    equityUsd: cents(equityUsd(account, state)),
    baselineUsd: cents(account.baselineUsd),
    dailyDrawdownPct: Number(dailyDrawdownPct(account, state).toFixed(4)),
    dailyLossFloorUsd: cents(floorsOf(account, config).dailyLossFloorUsd),
    maxLossFloorUsd: cents(floorsOf(account, config).maxLossFloorUsd),
    lockedOut: account.lockedOut,
    positions: [...account.positions].map(([symbol, position]) => ({ symbol, ...position })),
    decisions: { allowed: account.allowedCount, denied: account.deniedCount },
  };
}
