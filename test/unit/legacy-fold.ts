/**
 * The engine's state fold as it was before the accounts moved into a persistent map and the
 * fold kept an index (server/engine/state.ts at 0a44e77, with plain Maps copied per event):
 * the reference the property tests compare the new fold with. Test code only.
 */
import type { EngineConfig, RulesPatch } from "@/server/engine/config";
import { EngineConfig as EngineConfigSchema, withRules } from "@/server/engine/config";
import { lastResetAt, tradingDayOf } from "@/server/engine/calendar";
import type { BaselineSnapshot, BookLevel, EngineEvent } from "@/server/engine/events";
import type { Side } from "@/server/engine/intent";
import type { AccountId, IntentId, OrderId, PresetId, SymbolId } from "@/server/engine/ids";
import type { Position } from "@/server/engine/accounting";
import { applyFill } from "@/server/engine/accounting";
import type { Exposure } from "@/server/engine/exposure";
import { exposureOf, noExposure } from "@/server/engine/exposure";
import type { MarketStats, PairMoments } from "@/server/engine/market-stats";
import { emptyStats, foldBar, foldPair, pairMomentsOf, returnAt } from "@/server/engine/market-stats";
import type { AccountSpec, Actor, BreakerKind, LossRule, ReducingCause, TradingState, VetoReason } from "@/server/engine/types";
import { BreakerKind as BreakerKinds } from "@/server/engine/types";
import type { StopLoss } from "@/server/engine/state";
import { stopLossOf } from "@/server/engine/state";

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

/** The preset an account decides under, and who activated it when and why. */
export type ActivePreset = {
  readonly presetId: PresetId;
  readonly version: number;
  readonly at: number;
  readonly reason: string;
  readonly by: Actor;
};

export type AccountState = {
  readonly spec: AccountSpec;
  /** The preset in force; null: the firm's default rules. */
  readonly preset: ActivePreset | null;
  /** What the preset sets (null: nothing); `configOf` lays it over the firm's rules. */
  readonly rules: RulesPatch | null;
  /** The account's trading day, under its own reset rule; set when the account opens. */
  readonly day: TradingDay;
  readonly breakers: Readonly<Record<BreakerKind, BreakerState>>;
  readonly vetoes: ReadonlyMap<SymbolId, VetoEntry>;
  /** Sides whose entries are locked account-wide (a stop-loss streak, until the reset). */
  readonly sideLocks: ReadonlyMap<Side, VetoEntry>;
  /** Stop-loss fills since the day started, with the side of the position they closed (BUY: a long). */
  readonly stopLosses: readonly StopLoss[];
  /** Only exposure-reducing intents pass while this is set. */
  readonly reducing: {
    readonly cause: ReducingCause;
    readonly untilReset: boolean;
    readonly at: number;
    readonly reason: string;
    readonly by: Actor;
  } | null;
  /** Times of this account's intents within the last second of the latest one (throttle). */
  readonly recentIntentTimes: readonly number[];
  /** Times of the latest execution failures, at most the breaker's threshold of them. */
  readonly executionFailureTimes: readonly number[];
  /** When a latency above the breaker's threshold was last seen. */
  readonly lastSlowAt: number | null;
  readonly positions: ReadonlyMap<SymbolId, Position>;
  /** The positions at the last prices: floating P/L, gross notional per symbol, cluster and sector. */
  readonly exposure: Exposure;
  /** Initial balance + realized P/L − fees. */
  readonly balance: number;
  /** The day's baseline, snapshotted at the daily reset (the initial balance before the first one). */
  readonly baseline: number;
  /** The baseline was taken from stale equity (the last known before the reset instant). */
  readonly baselineShadow: boolean;
  /** The highest equity a trailing max-loss floor follows (the initial balance to start with). */
  readonly highWater: number;
  /** Risk at the stop of the entries allowed since the day started (daily risk quota). */
  readonly riskUsedToday: number;
  /** Set when equity fell to the max-loss floor; only an explicit reopen clears it. */
  readonly lockedOut: { readonly at: number; readonly equity: number; readonly floor: number; readonly rule: LossRule } | null;
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

/** An order between the queue and its last fill (or its cancellation, supersession or failure). */
export type OpenOrder = {
  readonly accountId: AccountId;
  readonly intentId: IntentId | null;
  readonly symbol: SymbolId;
  readonly side: Side;
  readonly quantity: number;
  readonly filledQuantity: number;
  readonly kind: "entry" | "exit" | "flatten";
  readonly status: "queued" | "sent" | "acknowledged";
  readonly queuedAt: number;
  readonly sentAt: number | null;
  readonly limitPrice: number | null;
  readonly slPrice: number | null;
  readonly tpPrice: number | null;
};

/** A firm-wide halt: every account is HALTED while it holds. */
export type FirmHalt = { readonly reason: string; readonly at: number; readonly by: Actor };

export type LegacyState = {
  /** The firm's configuration: instruments, market statistics, and the rules of accounts without a preset. */
  readonly config: EngineConfig;
  readonly firmHalt: FirmHalt | null;
  readonly accounts: ReadonlyMap<AccountId, AccountState>;
  readonly market: ReadonlyMap<SymbolId, MarketState>;
  /** EWMA moments of every pair of symbols' shared returns, under both symbols (see `pairOf`). */
  readonly pairs: ReadonlyMap<SymbolId, ReadonlyMap<SymbolId, PairMoments>>;
  /** Orders of the execution path still open. */
  readonly orders: ReadonlyMap<OrderId, OpenOrder>;
};

export const THROTTLE_WINDOW_MS = 1_000;

export function legacyInitialState(config: EngineConfig = EngineConfigSchema.parse({})): LegacyState {
  return { config, firmHalt: null, accounts: new Map(), market: new Map(), pairs: new Map(), orders: new Map() };
}

const untripped: BreakerState = { tripped: false, lastResetAt: null, lastResetBy: null };
const noMarket: MarketState = { lastPrice: null, lastPriceAt: null, book: null, stats: emptyStats };

function freshBreakers(): Record<BreakerKind, BreakerState> {
  return Object.fromEntries(BreakerKinds.options.map((kind) => [kind, untripped])) as Record<
    BreakerKind,
    BreakerState
  >;
}

/** The configuration `account` decides under: the firm's, with its preset's rules. */
export function configOf(state: Pick<LegacyState, "config">, account: Pick<AccountState, "rules">): EngineConfig {
  return withRules(state.config, account.rules);
}

/**
 * LOCKED_OUT after a hard loss breach; otherwise HALTED while any of the account's breakers is
 * tripped or the firm is halted; otherwise REDUCING while set; otherwise ACTIVE. Derived, never
 * stored.
 */
export function tradingStateOf(account: AccountState, firmHalt: FirmHalt | null): TradingState {
  if (account.lockedOut) return "LOCKED_OUT";
  if (firmHalt || Object.values(account.breakers).some((breaker) => breaker.tripped)) return "HALTED";
  return account.reducing ? "REDUCING" : "ACTIVE";
}

/**
 * The day's loss floor and the max-loss floor, in USD. The day's floor is the baseline less the
 * allowance (a percentage of the baseline or of the initial balance). The max-loss floor is the initial
 * balance less the allowance (`static`), or the high-water mark less it (trailing), capped at
 * the initial balance when the preset says so. The high-water mark never falls, nor does the floor.
 */
export function floorsOf(account: AccountState, config: EngineConfig): { dailyLossFloor: number; maxLossFloor: number } {
  const { dailyLossPct, dailyLossOf, maxLossPct, maxLossMode, trailingStopsAtInitialBalance } = config.accountRules;
  const initial = account.spec.initialBalanceUsd;
  const allowanceUsd = initial * (maxLossPct / 100);
  let maxLossFloor = initial - allowanceUsd;
  if (maxLossMode !== "static") {
    const trailing = account.highWater - allowanceUsd;
    maxLossFloor = Math.max(maxLossFloor, trailingStopsAtInitialBalance ? Math.min(trailing, initial) : trailing);
  }
  const dailyLossFloor =
    dailyLossOf === "baseline" ? account.baseline * (1 - dailyLossPct / 100) : account.baseline - initial * (dailyLossPct / 100);
  return { dailyLossFloor, maxLossFloor };
}

/** The account's equity in USD: balance plus floating P/L at the last prices. */
export function equityOf(account: AccountState): number {
  return account.balance + account.exposure.floating;
}

/**
 * The baseline of each of `accountIds` at the reset instant `resetAt`, under its rules' basis.
 * Equity is the balance plus the open positions at their last prices; when a held symbol's last
 * price is older than `staleEquityMs` at the reset (or missing), that last known equity is
 * used and the snapshot is marked `shadow`.
 */
export function snapshotBaselines(state: LegacyState, accountIds: readonly AccountId[], resetAt: number): BaselineSnapshot[] {
  return accountIds.map((accountId) => {
    const account = state.accounts.get(accountId)!;
    const { accountRules, dailyReset } = configOf(state, account);
    const equity = equityOf(account);
    let equityAsOf: number | null = null;
    let shadow = false;
    for (const symbol of account.positions.keys()) {
      const pricedAt = state.market.get(symbol)?.lastPriceAt ?? null;
      if (pricedAt === null || resetAt - pricedAt > dailyReset.staleEquityMs) shadow = true;
      if (pricedAt !== null) equityAsOf = equityAsOf === null ? pricedAt : Math.min(equityAsOf, pricedAt);
    }
    const basis = accountRules.dailyBaselineBasis;
    const baseline =
      basis === "equity"
        ? equity
        : basis === "balance"
          ? account.balance
          : basis === "max_balance_equity"
            ? Math.max(account.balance, equity)
            : account.spec.initialBalanceUsd;
    const highWater = accountRules.maxLossMode === "static" ? account.highWater : Math.max(account.highWater, equity);
    return {
      accountId,
      baseline: cents(baseline),
      equity: cents(equity),
      balance: cents(account.balance),
      shadow,
      equityAsOf,
      highWater: cents(highWater),
    };
  });
}

const cents = (usd: number) => Math.round(usd * 100) / 100;

/**
 * Re-marks the accounts that `touches` selects after their positions or prices changed: their
 * exposure at the last prices, and under `trailing_intraday` their high-water mark.
 */
function revalue(state: LegacyState, touches: (accountId: AccountId, account: AccountState) => boolean): LegacyState {
  let accounts: Map<AccountId, AccountState> | null = null;
  for (const [accountId, account] of state.accounts) {
    if (!touches(accountId, account)) continue;
    const trailing = configOf(state, account).accountRules.maxLossMode === "trailing_intraday";
    const exposure = exposureOf(account.positions, state);
    const equity = account.balance + exposure.floating;
    const highWater = trailing && equity > account.highWater ? equity : account.highWater;
    accounts ??= new Map(state.accounts);
    accounts.set(accountId, { ...account, exposure, highWater });
  }
  return accounts ? { ...state, accounts } : state;
}

/** Whether a bar of `symbol` may move the account's exposure: it holds the symbol, or a symbol clustered by volatility. */
function barTouches(state: LegacyState, symbol: SymbolId, account: AccountState): boolean {
  if (account.positions.has(symbol)) return true;
  for (const held of account.positions.keys()) if (!state.config.instruments[held]?.cluster) return true;
  return false;
}

/** The veto in force on `symbol` at `now`, if any. */
export function activeVeto(account: AccountState, symbol: SymbolId, now: number): VetoEntry | null {
  const veto = account.vetoes.get(symbol);
  if (!veto) return null;
  return veto.expiresAt === null || veto.expiresAt > now ? veto : null;
}

/** The lock in force on entries of `side` at `now`, if any (a stop-loss streak). */
export function activeSideLock(account: AccountState, side: Side, now: number): VetoEntry | null {
  const lock = account.sideLocks.get(side);
  if (!lock) return null;
  return lock.expiresAt === null || lock.expiresAt > now ? lock : null;
}

function withAccount(
  state: LegacyState,
  accountId: AccountId,
  update: (account: AccountState) => AccountState,
): LegacyState {
  const account = state.accounts.get(accountId);
  if (!account) return state;
  const accounts = new Map(state.accounts);
  accounts.set(accountId, update(account));
  return { ...state, accounts };
}

/** The EWMA moments of two symbols' shared returns, in either order; undefined before they share one. */
export function pairOf(state: Pick<LegacyState, "pairs">, x: SymbolId, y: SymbolId): PairMoments | undefined {
  return state.pairs.get(x)?.get(y);
}

/**
 * After a bar of `symbol` added a return at time t: the moments of every pair of `symbol` with a
 * symbol that has a return at t too (bars of one close time arrive in any order; a pair moves
 * forward only, so a bar arriving after a later shared one is left out of that pair). Moments
 * are oriented: `a` is the symbol that sorts first.
 */
function withPairs(state: LegacyState, symbol: SymbolId): LegacyState {
  const returns = state.market.get(symbol)!.stats.returns;
  const latest = returns[returns.length - 1];
  if (!latest) return state;
  const lambda = state.config.market.ewmaLambda;
  const own = state.pairs.get(symbol);
  let updated: Map<SymbolId, PairMoments> | null = null;
  for (const [other, market] of state.market) {
    if (other === symbol) continue;
    const otherReturns = market.stats.returns;
    const last = otherReturns[otherReturns.length - 1];
    const value = last?.at === latest.at ? last.value : last && last.at > latest.at ? returnAt(otherReturns, latest.at) : undefined;
    if (value === undefined) continue;
    const moments = own?.get(other);
    if (moments && moments.lastAt >= latest.at) continue;
    const [x, y] = symbol < other ? [latest.value, value] : [value, latest.value];
    updated ??= new Map();
    updated.set(other, foldPair(moments, latest.at, x, y, lambda));
  }
  if (!updated) return state;
  const pairs = new Map(state.pairs);
  pairs.set(symbol, new Map([...(own ?? []), ...updated]));
  for (const [other, moments] of updated) pairs.set(other, new Map(pairs.get(other)).set(symbol, moments));
  return { ...state, pairs };
}

function rebuildPairs(market: ReadonlyMap<SymbolId, MarketState>, lambda: number): LegacyState["pairs"] {
  const pairs = new Map<SymbolId, Map<SymbolId, PairMoments>>();
  const symbols = [...market.keys()].sort();
  for (let i = 0; i < symbols.length; i++) {
    for (let j = i + 1; j < symbols.length; j++) {
      const [a, b] = [symbols[i]!, symbols[j]!];
      const moments = pairMomentsOf(market.get(a)!.stats.returns, market.get(b)!.stats.returns, lambda);
      if (!moments) continue;
      (pairs.get(a) ?? pairs.set(a, new Map()).get(a)!).set(b, moments);
      (pairs.get(b) ?? pairs.set(b, new Map()).get(b)!).set(a, moments);
    }
  }
  return pairs;
}

/** The registry entry a lock event makes (a symbol's veto or a side's lock). */
function lockOf(event: Extract<EngineEvent, { type: "veto.added" | "side.locked" }>): VetoEntry {
  const { reason, note, at: since, expiresAt, valueAtTrigger, by } = event;
  return { reason, note, since, expiresAt, valueAtTrigger, by };
}

/** Updates an open order (null: it is closed); an unknown order leaves the state as it is. */
function withOrder(state: LegacyState, orderId: OrderId, update: (order: OpenOrder) => OpenOrder | null): LegacyState {
  const order = state.orders.get(orderId);
  if (!order) return state;
  const orders = new Map(state.orders);
  const next = update(order);
  if (next) orders.set(orderId, next);
  else orders.delete(orderId);
  return { ...state, orders };
}

function withMarket(state: LegacyState, symbol: SymbolId, update: (market: MarketState) => MarketState): LegacyState {
  const market = new Map(state.market);
  market.set(symbol, update(state.market.get(symbol) ?? noMarket));
  return { ...state, market };
}

/** The state fold: replay is `events.reduce(evolve, initialState())`. */
export function legacyEvolve(state: LegacyState, event: EngineEvent): LegacyState {
  switch (event.type) {
    case "config.applied": {
      // New instruments may re-mark positions; a new decay means new moments, rebuilt from the windows.
      const next =
        event.config.market.ewmaLambda === state.config.market.ewmaLambda
          ? { ...state, config: event.config }
          : { ...state, config: event.config, pairs: rebuildPairs(state.market, event.config.market.ewmaLambda) };
      return revalue(next, () => true);
    }
    case "firm.halted":
      return { ...state, firmHalt: { reason: event.reason, at: event.at, by: event.by } };
    case "firm.resumed":
      return { ...state, firmHalt: null };
    case "day.started": {
      // A new day for the accounts the event snapshotted (each account resets under its own
      // rule): locks "until reset" end, and so do locks that expired before it, and a soft
      // breach's REDUCING. The day's baselines are the ones the event snapshotted.
      const lasting = <K>(locks: ReadonlyMap<K, VetoEntry>) =>
        new Map([...locks].filter(([, veto]) => veto.expiresAt !== null && veto.expiresAt > event.resetAt));
      const accounts = new Map(state.accounts);
      const day = { tradingDay: event.tradingDay, resetAt: event.resetAt };
      for (const snapshot of event.baselines) {
        const account = state.accounts.get(snapshot.accountId);
        if (!account) continue;
        accounts.set(snapshot.accountId, {
              ...account,
              day,
              vetoes: lasting(account.vetoes),
              sideLocks: lasting(account.sideLocks),
              stopLosses: [],
              reducing: account.reducing?.untilReset ? null : account.reducing,
              baseline: snapshot.baseline,
              baselineShadow: snapshot.shadow,
              highWater: snapshot.highWater,
              riskUsedToday: 0,
        });
      }
      return { ...state, accounts };
    }
    case "market.tick": {
      const next = withMarket(state, event.symbol, (market) => ({ ...market, lastPrice: event.price, lastPriceAt: event.at }));
      return revalue(next, (_, account) => account.positions.has(event.symbol));
    }
    case "market.bar": {
      const next = withMarket(state, event.symbol, (market) => ({
        ...market,
        lastPrice: event.close,
        lastPriceAt: event.at,
        stats: foldBar(market.stats, event, state.config.market),
      }));
      return revalue(withPairs(next, event.symbol), (_, account) => barTouches(next, event.symbol, account));
    }
    case "market.book":
      return withMarket(state, event.symbol, (market) => ({
        ...market,
        book: { at: event.at, bids: event.bids, asks: event.asks },
      }));
    case "account.opened": {
      if (state.accounts.has(event.account.accountId)) return state;
      // The account's first day is the one under way; its baseline is the initial balance.
      const { dailyReset } = state.config;
      const resetAt = lastResetAt(event.at, dailyReset);
      const accounts = new Map(state.accounts);
      accounts.set(event.account.accountId, {
        spec: event.account,
        preset: null,
        rules: null,
        day: { tradingDay: tradingDayOf(resetAt, dailyReset), resetAt },
        breakers: freshBreakers(),
        vetoes: new Map(),
        sideLocks: new Map(),
        stopLosses: [],
        reducing: null,
        recentIntentTimes: [],
        executionFailureTimes: [],
        lastSlowAt: null,
        positions: new Map(),
        exposure: noExposure,
        balance: event.account.initialBalanceUsd,
        baseline: event.account.initialBalanceUsd,
        baselineShadow: false,
        highWater: event.account.initialBalanceUsd,
        lockedOut: null,
        riskUsedToday: 0,
        allowedCount: 0,
        deniedCount: 0,
      });
      return { ...state, accounts };
    }
    case "preset.activated": {
      // The day goes on under the new reset rule: when that rule's last reset is later than the
      // day's start, the day is re-anchored there, keeping its baseline, pauses and locks (a new
      // rule never forgives the day's losses; the next reset under it starts the next day).
      const { presetId, version, at, reason, by } = event;
      const next = withAccount(state, event.accountId, (account) => {
        const { dailyReset } = withRules(state.config, event.rules);
        const resetAt = lastResetAt(at, dailyReset);
        const day = resetAt > account.day.resetAt ? { tradingDay: tradingDayOf(resetAt, dailyReset), resetAt } : account.day;
        return { ...account, preset: { presetId, version, at, reason, by }, rules: event.rules, day };
      });
      return revalue(next, (accountId) => accountId === event.accountId);
    }
    case "intent.received": {
      return withAccount(state, event.intent.accountId, (account) => {
        // The throttle only needs to know whether more than its limit fell in the window.
        const keep = configOf(state, account).guards.throttle.maxIntentsPerSecond + 1;
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
              riskUsedToday: account.riskUsedToday + (event.decision.riskAtStopUsd ?? 0),
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
        lockedOut: { at: event.at, equity: event.equity, floor: event.floor, rule: event.rule },
      }));
    case "account.reopened":
      // A reopened account starts clean: no lock-out and no pause from the breach.
      return withAccount(state, event.accountId, (account) => ({ ...account, lockedOut: null, reducing: null }));
    case "account.reducing":
      return withAccount(state, event.accountId, (account) => ({
        ...account,
        reducing: { cause: event.cause, untilReset: event.untilReset, at: event.at, reason: event.reason, by: event.by },
      }));
    case "account.reducing_ended":
      return withAccount(state, event.accountId, (account) => ({ ...account, reducing: null }));
    case "side.locked":
      return withAccount(state, event.accountId, (account) => ({ ...account, sideLocks: new Map(account.sideLocks).set(event.side, lockOf(event)) }));
    case "side.unlocked":
      return withAccount(state, event.accountId, (account) => {
        const sideLocks = new Map(account.sideLocks);
        sideLocks.delete(event.side);
        return { ...account, sideLocks };
      });
    case "reviewer.verdict":
    case "advisory.memo":
      return state;
    case "flatten.ordered":
      return state;
    case "order.queued": {
      const { orderId, accountId, intentId, symbol, side, quantity, kind, limitPrice, slPrice, tpPrice } = event;
      const orders = new Map(state.orders);
      orders.set(orderId, { accountId, intentId, symbol, side, quantity, filledQuantity: 0, kind, status: "queued", queuedAt: event.at, sentAt: null, limitPrice, slPrice, tpPrice });
      return { ...state, orders };
    }
    case "order.sent":
      return withOrder(state, event.orderId, (order) => ({ ...order, status: "sent", sentAt: event.at }));
    case "order.acknowledged":
      return withOrder(state, event.orderId, (order) => ({ ...order, status: "acknowledged" }));
    case "order.superseded":
    case "order.cancelled":
      return withOrder(state, event.orderId, () => null);
    case "execution.filled": {
      const afterOrder =
        event.orderId === undefined
          ? state
          : withOrder(state, event.orderId, (order) => {
              const filledQuantity = order.filledQuantity + event.quantity;
              return filledQuantity >= order.quantity - 1e-9 ? null : { ...order, filledQuantity };
            });
      const next = withAccount(afterOrder, event.accountId, (account) => {
        const contractSize = state.config.instruments[event.symbol]?.contractSize ?? 1;
        const { position, realized } = applyFill(account.positions.get(event.symbol), event, contractSize);
        const positions = new Map(account.positions);
        if (position) positions.set(event.symbol, position);
        else positions.delete(event.symbol);
        // One stop-loss per position its stop closed (issue 20), as the fold records it.
        const stop = stopLossOf(account.positions.get(event.symbol)?.quantity ?? 0, position?.quantity ?? 0, event, realized);
        const stopLosses = stop ? [...account.stopLosses, stop].slice(-100) : account.stopLosses;
        return { ...account, positions, stopLosses, balance: account.balance + realized - event.feeUsd };
      });
      return revalue(next, (accountId) => accountId === event.accountId);
    }
    case "execution.failed": {
      const afterOrder = event.orderId === undefined ? state : withOrder(state, event.orderId, () => null);
      return withAccount(afterOrder, event.accountId, (account) => ({
        ...account,
        executionFailureTimes: [...account.executionFailureTimes, event.at].slice(-configOf(state, account).breakers.executionFailures.threshold),
      }));
    }
    case "latency.observed": {
      const account = state.accounts.get(event.accountId);
      if (!account || event.latencyMs <= configOf(state, account).breakers.latency.thresholdMs) return state;
      return withAccount(state, event.accountId, () => ({ ...account, lastSlowAt: event.at }));
    }
    case "veto.added":
      return withAccount(state, event.accountId, (account) => ({ ...account, vetoes: new Map(account.vetoes).set(event.symbol, lockOf(event)) }));
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
