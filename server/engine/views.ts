import type { ResetPolicy } from "./breakers";
import { autoResetAt, resetPolicies } from "./breakers";
import type { EngineConfig } from "./config";
import type { SymbolId } from "./ids";
import type { AccountState, BreakerState, FirmHalt, VetoEntry } from "./state";
import { tradingStateOf } from "./state";
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
  decisions: { allowed: number; denied: number };
};

export function accountView(account: AccountState, firmHalt: FirmHalt | null, config: EngineConfig): AccountView {
  return {
    ...account.spec,
    tradingState: tradingStateOf(account, firmHalt),
    breakers: BreakerKinds.options.map((kind) => ({
      kind,
      resetPolicy: resetPolicies[kind],
      autoResetAt: autoResetAt(kind, account, config),
      ...account.breakers[kind],
    })),
    vetoes: [...account.vetoes].map(([symbol, veto]) => ({ symbol, ...veto })),
    decisions: { allowed: account.allowedCount, denied: account.deniedCount },
  };
}
