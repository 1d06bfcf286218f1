import type { EngineConfig } from "./config";
import { EngineConfig as EngineConfigSchema } from "./config";
import type { BookLevel, EngineEvent } from "./events";
import type { AccountId, SymbolId } from "./ids";
import type { Position } from "./accounting";
import { applyFill, floatingUsd } from "./accounting";
import type { MarketStats } from "./market-stats";
import { emptyStats, foldBar } from "./market-stats";
import type { AccountSpec, Actor, BreakerKind, TradingState, VetoReason } from "./types";
import { BreakerKind as BreakerKinds } from "./types";

export type BreakerState =
  | { readonly tripped: false; readonly lastResetAt: number | null; readonly lastResetBy: Actor | null }
  | {
      readonly tripped: true;
      readonly reason: string;
      readonly trippedAt: number;
      readonly trippedBy: Actor;
    };

export type VetoEntry = {
  readonly reason: VetoReason;
  readonly note: string;
  readonly since: number;
  /** null: until the next daily reset. */
  readonly expiresAt: number | null;
  readonly valueAtTrigger: number | null;
  readonly by: Actor;
};

export type AccountState = {
  readonly spec: AccountSpec;
  readonly breakers: Readonly<Record<BreakerKind, BreakerState>>;
  readonly vetoes: ReadonlyMap<SymbolId, VetoEntry>;
  /** Times of this account's intents within the last second of the latest one (throttle). */
  readonly recentIntentTimes: readonly number[];
  /** Times of the latest execution failures, at most the breaker's threshold of them. */
  readonly executionFailureTimes: readonly number[];
  /** When a latency above the breaker's threshold was last seen. */
  readonly lastSlowAt: number | null;
  readonly positions: ReadonlyMap<SymbolId, Position>;
  /** Initial balance + realized P/L − fees. */
  readonly balanceUsd: number;
  /** The day's baseline, snapshotted at the daily reset (the initial balance before the first one). */
  readonly baselineUsd: number;
  /** Risk at the stop of the entries allowed since the day started (daily risk quota). */
  readonly riskUsedTodayUsd: number;
  /** Set when equity fell to the max-loss floor; only an explicit reopen clears it. */
  readonly lockedOut: { readonly at: number; readonly equityUsd: number; readonly floorUsd: number } | null;
  readonly allowedCount: number;
  readonly deniedCount: number;
};

export type Book = { readonly at: number; readonly bids: readonly BookLevel[]; readonly asks: readonly BookLevel[] };

export type MarketState = {
  readonly lastPrice: number | null;
  readonly lastPriceAt: number | null;
  readonly book: Book | null;
  readonly stats: MarketStats;
};

export type TradingDay = { readonly tradingDay: string; readonly resetAt: number };

/** A firm-wide halt: every account is HALTED while it holds. */
export type FirmHalt = { readonly reason: string; readonly at: number; readonly by: Actor };

export type EngineState = {
  readonly config: EngineConfig;
  /** The current trading day; null before the first `day.started`. */
  readonly day: TradingDay | null;
  readonly firmHalt: FirmHalt | null;
  readonly accounts: ReadonlyMap<AccountId, AccountState>;
  readonly market: ReadonlyMap<SymbolId, MarketState>;
};

export const THROTTLE_WINDOW_MS = 1_000;

export function initialState(config: EngineConfig = EngineConfigSchema.parse({})): EngineState {
  return { config, day: null, firmHalt: null, accounts: new Map(), market: new Map() };
}

const untripped: BreakerState = { tripped: false, lastResetAt: null, lastResetBy: null };
const noMarket: MarketState = { lastPrice: null, lastPriceAt: null, book: null, stats: emptyStats };

function freshBreakers(): Record<BreakerKind, BreakerState> {
  return Object.fromEntries(BreakerKinds.options.map((kind) => [kind, untripped])) as Record<
    BreakerKind,
    BreakerState
  >;
}

/**
 * LOCKED_OUT after a max-loss breach; otherwise HALTED while any of the account's breakers is
 * tripped or the firm is halted; otherwise ACTIVE. Derived, never stored.
 */
export function tradingStateOf(account: AccountState, firmHalt: FirmHalt | null): TradingState {
  if (account.lockedOut) return "LOCKED_OUT";
  return firmHalt || Object.values(account.breakers).some((breaker) => breaker.tripped) ? "HALTED" : "ACTIVE";
}

/** The day's loss floor and the max-loss floor, in USD. */
export function floorsOf(account: AccountState, config: EngineConfig): { dailyLossFloorUsd: number; maxLossFloorUsd: number } {
  const { dailyLossPct, maxLossPct } = config.accountRules;
  return {
    dailyLossFloorUsd: account.baselineUsd * (1 - dailyLossPct / 100),
    maxLossFloorUsd: account.spec.initialBalanceUsd * (1 - maxLossPct / 100),
  };
}

/** The account's equity in USD: balance plus floating P/L at the last prices. */
export function equityUsd(account: AccountState, state: Pick<EngineState, "market" | "config">): number {
  return account.balanceUsd + floatingUsd(account.positions, (symbol) => state.market.get(symbol)?.lastPrice ?? null, state.config);
}

/** The day's baseline under the configured basis, at this moment. */
function baselineOf(account: AccountState, state: EngineState): number {
  const equity = equityUsd(account, state);
  switch (state.config.accountRules.dailyBaselineBasis) {
    case "equity":
      return equity;
    case "balance":
      return account.balanceUsd;
    case "max_balance_equity":
      return Math.max(account.balanceUsd, equity);
    case "initial_balance":
      return account.spec.initialBalanceUsd;
  }
}

/** The veto in force on `symbol` at `now`, if any. */
export function activeVeto(account: AccountState, symbol: SymbolId, now: number): VetoEntry | null {
  const veto = account.vetoes.get(symbol);
  if (!veto) return null;
  return veto.expiresAt === null || veto.expiresAt > now ? veto : null;
}

function withAccount(
  state: EngineState,
  accountId: AccountId,
  update: (account: AccountState) => AccountState,
): EngineState {
  const account = state.accounts.get(accountId);
  if (!account) return state;
  const accounts = new Map(state.accounts);
  accounts.set(accountId, update(account));
  return { ...state, accounts };
}

function withMarket(state: EngineState, symbol: SymbolId, update: (market: MarketState) => MarketState): EngineState {
  const market = new Map(state.market);
  market.set(symbol, update(state.market.get(symbol) ?? noMarket));
  return { ...state, market };
}

/** The state fold: replay is `events.reduce(evolve, initialState())`. */
export function evolve(state: EngineState, event: EngineEvent): EngineState {
  switch (event.type) {
    case "config.applied":
      return { ...state, config: event.config };
    case "firm.halted":
      return { ...state, firmHalt: { reason: event.reason, at: event.at, by: event.by } };
    case "firm.resumed":
      return { ...state, firmHalt: null };
    case "day.started": {
      // A new day: locks "until reset" end, and so do locks that expired before it.
      // The day's baseline is snapshotted for every account.
      const accounts = new Map(
        [...state.accounts].map(([id, account]) => {
          const vetoes = new Map(
            [...account.vetoes].filter(([, veto]) => veto.expiresAt !== null && veto.expiresAt > event.resetAt),
          );
          return [id, { ...account, vetoes, baselineUsd: baselineOf(account, state), riskUsedTodayUsd: 0 }];
        }),
      );
      return { ...state, accounts, day: { tradingDay: event.tradingDay, resetAt: event.resetAt } };
    }
    case "market.tick":
      return withMarket(state, event.symbol, (market) => ({ ...market, lastPrice: event.price, lastPriceAt: event.at }));
    case "market.bar":
      return withMarket(state, event.symbol, (market) => ({
        ...market,
        lastPrice: event.close,
        lastPriceAt: event.at,
        stats: foldBar(market.stats, event, state.config.market),
      }));
    case "market.book":
      return withMarket(state, event.symbol, (market) => ({
        ...market,
        book: { at: event.at, bids: event.bids, asks: event.asks },
      }));
    case "account.opened": {
      if (state.accounts.has(event.account.accountId)) return state;
      const accounts = new Map(state.accounts);
      accounts.set(event.account.accountId, {
        spec: event.account,
        breakers: freshBreakers(),
        vetoes: new Map(),
        recentIntentTimes: [],
        executionFailureTimes: [],
        lastSlowAt: null,
        positions: new Map(),
        balanceUsd: event.account.initialBalanceUsd,
        baselineUsd: event.account.initialBalanceUsd,
        lockedOut: null,
        riskUsedTodayUsd: 0,
        allowedCount: 0,
        deniedCount: 0,
      });
      return { ...state, accounts };
    }
    case "intent.received": {
      // The throttle only needs to know whether more than its limit fell in the window.
      const keep = state.config.guards.throttle.maxIntentsPerSecond + 1;
      return withAccount(state, event.intent.accountId, (account) => {
        const times = account.recentIntentTimes;
        const recent: number[] = [];
        for (let i = Math.max(0, times.length - keep + 1); i < times.length; i++) {
          if (times[i]! > event.at - THROTTLE_WINDOW_MS) recent.push(times[i]!);
        }
        recent.push(event.at);
        return { ...account, recentIntentTimes: recent };
      });
    }
    case "intent.decided":
      return withAccount(state, event.decision.accountId, (account) =>
        event.decision.outcome === "allowed"
          ? {
              ...account,
              allowedCount: account.allowedCount + 1,
              riskUsedTodayUsd: account.riskUsedTodayUsd + (event.decision.riskAtStopUsd ?? 0),
            }
          : { ...account, deniedCount: account.deniedCount + 1 },
      );
    case "breaker.tripped":
      return withAccount(state, event.accountId, (account) => ({
        ...account,
        breakers: {
          ...account.breakers,
          [event.breaker]: { tripped: true, reason: event.reason, trippedAt: event.at, trippedBy: event.by },
        },
      }));
    case "breaker.reset":
      return withAccount(state, event.accountId, (account) => ({
        ...account,
        breakers: {
          ...account.breakers,
          [event.breaker]: { tripped: false, lastResetAt: event.at, lastResetBy: event.by },
        },
      }));
    case "account.locked_out":
      return withAccount(state, event.accountId, (account) => ({
        ...account,
        lockedOut: { at: event.at, equityUsd: event.equityUsd, floorUsd: event.floorUsd },
      }));
    case "account.reopened":
      return withAccount(state, event.accountId, (account) => ({ ...account, lockedOut: null }));
    case "flatten.ordered":
      return state;
    case "execution.filled":
      return withAccount(state, event.accountId, (account) => {
        const contractSize = state.config.instruments[event.symbol]?.contractSize ?? 1;
        const { position, realizedUsd } = applyFill(account.positions.get(event.symbol), event, contractSize);
        const positions = new Map(account.positions);
        if (position) positions.set(event.symbol, position);
        else positions.delete(event.symbol);
        return { ...account, positions, balanceUsd: account.balanceUsd + realizedUsd - event.feeUsd };
      });
    case "execution.failed": {
      const keep = state.config.breakers.executionFailures.threshold;
      return withAccount(state, event.accountId, (account) => ({
        ...account,
        executionFailureTimes: [...account.executionFailureTimes, event.at].slice(-keep),
      }));
    }
    case "latency.observed":
      if (event.latencyMs <= state.config.breakers.latency.thresholdMs) return state;
      return withAccount(state, event.accountId, (account) => ({ ...account, lastSlowAt: event.at }));
    case "veto.added":
      return withAccount(state, event.accountId, (account) => {
        const vetoes = new Map(account.vetoes);
        vetoes.set(event.symbol, {
          reason: event.reason,
          note: event.note,
          since: event.at,
          expiresAt: event.expiresAt,
          valueAtTrigger: event.valueAtTrigger,
          by: event.by,
        });
        return { ...account, vetoes };
      });
    case "veto.cleared":
      return withAccount(state, event.accountId, (account) => {
        const vetoes = new Map(account.vetoes);
        vetoes.delete(event.symbol);
        return { ...account, vetoes };
      });
    default:
      return assertNever(event);
  }
}

export function assertNever(value: never): never {
  throw new Error(`unhandled event ${JSON.stringify(value)}`);
}
