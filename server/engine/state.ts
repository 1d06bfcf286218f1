import type { EngineConfig, RulesPatch } from "./config";
import { EngineConfig as EngineConfigSchema, withRules } from "./config";
import { lastResetAt, nextResetAt, tradingDayOf } from "./calendar";
import type { Conversion } from "./currency";
import { conversionOf, perUnit, quoteCurrencyOf } from "./currency";
import type { BaselineSnapshot, BookLevel, EngineEvent } from "./events";
import type { Side } from "./intent";
import type { AccountId, IntentId, OrderId, PresetId, SymbolId } from "./ids";
import type { Position } from "./accounting";
import { applyFill, floatingPnl } from "./accounting";
import type { Exposure } from "./exposure";
import { exposureOf } from "./exposure";
import type { MarketStats, PairMoments } from "./market-stats";
import { emptyStats, foldBar, foldPair, pairMomentsOf, returnAt } from "./market-stats";
import { nearLimits } from "./near-limits";
import { PersistentMap } from "./persistent-map";
import type { AccountSpec, Actor, BreakerKind, LossRule, ReducingCause, TradingState, VetoReason } from "./types";
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
  /**
   * Positions closed by their stop-loss since the day started (one per position, however many
   * stop fills closed it): when, the side of the position (BUY: a long), and whether the closing
   * stop fill lost money (below the long's average entry, above the short's).
   */
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
  /** Open positions; their floating P/L and notional at the last prices are derived (`equity`, `accountExposure`), never stored. */
  readonly positions: ReadonlyMap<SymbolId, Position>;
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
  /**
   * What an account that executes elsewhere (`execution: external`) may still report as filled:
   * per allowed intent, its symbol, side, the quantity allowed and what was filled of it. An
   * external fill must name one of these (see `RecordFills`); fully filled ones go, and at most
   * MAX_ALLOWANCES are kept (the oldest go first).
   */
  readonly allowances: ReadonlyMap<IntentId, Allowance>;
  /**
   * The venue's execution ids of the account's booked fills, with when each was booked: a fill
   * reported again under one of them is not booked again. The latest MAX_EXEC_IDS are kept.
   */
  readonly execIds: ReadonlyMap<string, number>;
};

export type StopLoss = { readonly at: number; readonly side: Side; readonly losing: boolean };

/**
 * The stop-loss a fill records, or null: a position counts as stopped out when a stop-loss fill
 * closes what is left of it (a long stopped in three partial fills counts once, at the last);
 * a stop fill that leaves some of the position open records nothing yet.
 */
export function stopLossOf(held: number, after: number, fill: { readonly at: number; readonly trigger: string }, realized: number): StopLoss | null {
  if (fill.trigger !== "stop_loss" || held === 0) return null;
  const closed = after === 0 || Math.sign(after) !== Math.sign(held);
  return closed ? { at: fill.at, side: held > 0 ? "BUY" : "SELL", losing: realized < 0 } : null;
}

export type Allowance = {
  readonly symbol: SymbolId;
  readonly side: Side;
  /** null until the intent is decided (the fold sees `intent.received` first). */
  readonly quantity: number | null;
  readonly filled: number;
  readonly at: number;
};

/** Open allowances kept per account: an intent allowed but never filled cannot grow the state. */
export const MAX_ALLOWANCES = 500;

/**
 * Execution ids kept per account: a repeat of any of the latest this many fills is recognised (a
 * drop copy resent after a reconnect is recent). Measured: at 1,000 a firm of 10,000 busy accounts
 * held 1.4 GB of ids; at 128 about 180 MB.
 */
export const MAX_EXEC_IDS = 128;

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

export type EngineState = {
  /** The firm's configuration: instruments, market statistics, and the rules of accounts without a preset. */
  readonly config: EngineConfig;
  readonly firmHalt: FirmHalt | null;
  /** Every account, in the order they opened (a persistent map: an event touching one account costs O(log n)). */
  readonly accounts: PersistentMap<AccountId, AccountState>;
  readonly market: ReadonlyMap<SymbolId, MarketState>;
  /** EWMA moments of every pair of symbols' shared returns, under both symbols (see `pairOf`). */
  readonly pairs: ReadonlyMap<SymbolId, ReadonlyMap<SymbolId, PairMoments>>;
  /** Orders of the execution path still open. */
  readonly orders: PersistentMap<OrderId, OpenOrder>;
  /** Derived from the rest, kept by the fold so that work follows what an event touches (not stored in snapshots). */
  readonly index: StateIndex;
};

/** A set of accounts, as a persistent map to `true` (insertion order). */
export type AccountSet = PersistentMap<AccountId, true>;

/**
 * What the fold keeps beside the state so that nothing has to look at every account: who holds
 * each symbol (a tick re-marks only them), when each account's trading day ends (the clock
 * finds the days due without a scan) and which accounts have a breaker that resets itself.
 */
export type StateIndex = {
  /** The accounts holding a position in each symbol. */
  readonly holders: ReadonlyMap<SymbolId, AccountSet>;
  /** Accounts by the instant their trading day ends: the next reset under their rule after the day's own. */
  readonly dayEnds: ReadonlyMap<number, AccountSet>;
  /** Accounts with a tripped breaker that resets itself after a cooldown (execution failures, latency). */
  readonly selfResetting: AccountSet;
};

export const THROTTLE_WINDOW_MS = 1_000;

const noAccounts: AccountSet = PersistentMap.empty();
const emptyIndex: StateIndex = { holders: new Map(), dayEnds: new Map(), selfResetting: noAccounts };

export function initialState(config: EngineConfig = EngineConfigSchema.parse({})): EngineState {
  return { config, firmHalt: null, accounts: PersistentMap.empty(), market: new Map(), pairs: new Map(), orders: PersistentMap.empty(), index: emptyIndex };
}

/** When the account's trading day ends: the first reset under its rule after the day's start. */
export function dayEndOf(state: Pick<EngineState, "config">, account: AccountState): number {
  return nextResetAt(account.day.resetAt, configOf(state, account).dailyReset);
}

const SELF_RESETTING = ["execution_failures", "latency"] as const;

/** The index of `state` built from its accounts (a snapshot's state, a new configuration). */
export function indexOf(state: Omit<EngineState, "index">): StateIndex {
  const holders = new Map<SymbolId, [AccountId, true][]>();
  const dayEnds = new Map<number, [AccountId, true][]>();
  const selfResetting: [AccountId, true][] = [];
  for (const [accountId, account] of state.accounts) {
    for (const symbol of account.positions.keys()) (holders.get(symbol) ?? holders.set(symbol, []).get(symbol)!).push([accountId, true]);
    const end = dayEndOf(state, account);
    (dayEnds.get(end) ?? dayEnds.set(end, []).get(end)!).push([accountId, true]);
    if (SELF_RESETTING.some((kind) => account.breakers[kind].tripped)) selfResetting.push([accountId, true]);
  }
  const sets = <K>(groups: Map<K, [AccountId, true][]>) => new Map([...groups].map(([key, members]) => [key, PersistentMap.of(members)]));
  return { holders: sets(holders), dayEnds: sets(dayEnds), selfResetting: PersistentMap.of(selfResetting) };
}

/** `groups` with `accountId` moved from the group `from` to the group `to` (null: none). */
function moved<K>(groups: ReadonlyMap<K, AccountSet>, accountId: AccountId, from: K | null, to: K | null): ReadonlyMap<K, AccountSet> {
  if (from === to) return groups;
  const next = new Map(groups);
  if (from !== null) {
    const members = next.get(from)?.delete(accountId);
    if (members && members.size > 0) next.set(from, members);
    else next.delete(from);
  }
  if (to !== null) next.set(to, (next.get(to) ?? noAccounts).set(accountId, true));
  return next;
}

/** The state with the index entries of `accountId` brought up to date after `before` became what the state holds now. */
function reindexed(state: EngineState, accountId: AccountId, before: EngineState | null): EngineState {
  const account = state.accounts.get(accountId);
  const previous = before?.accounts.get(accountId);
  if (!account) return state;
  let { holders, dayEnds, selfResetting } = state.index;
  if (!previous || previous.positions !== account.positions) {
    for (const symbol of account.positions.keys()) {
      if (!previous?.positions.has(symbol)) holders = moved(holders, accountId, null, symbol);
    }
    for (const symbol of previous?.positions.keys() ?? []) {
      if (!account.positions.has(symbol)) holders = moved(holders, accountId, symbol, null);
    }
  }
  if (!previous || previous.day !== account.day || previous.rules !== account.rules || before!.config !== state.config) {
    dayEnds = moved(dayEnds, accountId, previous ? dayEndOf(before!, previous) : null, dayEndOf(state, account));
  }
  if (!previous || previous.breakers !== account.breakers) {
    selfResetting = SELF_RESETTING.some((kind) => account.breakers[kind].tripped) ? selfResetting.set(accountId, true) : selfResetting.delete(accountId);
  }
  const index = holders === state.index.holders && dayEnds === state.index.dayEnds && selfResetting === state.index.selfResetting ? state.index : { holders, dayEnds, selfResetting };
  return index === state.index ? state : { ...state, index };
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
export function configOf(state: Pick<EngineState, "config">, account: Pick<AccountState, "rules">): EngineConfig {
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
export function floorsOf(account: AccountState, config: EngineConfig, highWater = account.highWater): { dailyLossFloor: number; maxLossFloor: number } {
  const { dailyLossPct, dailyLossOf, maxLossPct, maxLossMode, trailingStopsAtInitialBalance } = config.accountRules;
  const initial = account.spec.initialBalanceUsd;
  const allowanceUsd = initial * (maxLossPct / 100);
  let maxLossFloor = initial - allowanceUsd;
  if (maxLossMode !== "static") {
    const trailing = highWater - allowanceUsd;
    maxLossFloor = Math.max(maxLossFloor, trailingStopsAtInitialBalance ? Math.min(trailing, initial) : trailing);
  }
  const dailyLossFloor =
    dailyLossOf === "baseline" ? account.baseline * (1 - dailyLossPct / 100) : account.baseline - initial * (dailyLossPct / 100);
  return { dailyLossFloor, maxLossFloor };
}

/** Where an account's positions are marked: the last prices and the instruments. */
export type Marks = Pick<EngineState, "market" | "config">;

/**
 * The account's equity in USD: balance plus floating P/L at the last prices. Derived on read
 * (no allocation), so that a price moves no account's state: a tick costs nothing per holder
 * beyond the checks of its floors.
 */
export function equityOf(account: AccountState, marks: Marks): number {
  return equityOfLegs(account.balance, legsOf(account, marks.config), marks);
}

/** `equityOf` from the account's balance and legs (`legsOf`), for a caller that keeps them. */
export function equityOfLegs(balance: number, legs: readonly Leg[], marks: Marks): number {
  let floating = 0;
  for (const { symbol, position, contractSize, conversion } of legs) {
    floating += floatingPnl(position, marks.market.get(symbol)?.lastPrice ?? null, contractSize, perUnit(conversion, marks.market));
  }
  return balance + floating;
}

export type Leg = { readonly symbol: SymbolId; readonly position: Position; readonly contractSize: number; readonly conversion: Conversion };

/**
 * The account's positions as an array with their contract sizes, made once per positions map,
 * account currency and configuration (all immutable; a new high-water mark or balance keeps the
 * positions map, so the legs are not made again): marking thousands of holders per tick then
 * walks small arrays, in the positions' order (the same sums, to the bit, as a walk of the
 * positions).
 */
export function legsOf(account: AccountState, config: EngineConfig): readonly Leg[] {
  const cached = legs.get(account.positions);
  if (cached?.config === config && cached.currency === account.spec.currency) return cached.legs;
  const made: Leg[] = [];
  for (const [symbol, position] of account.positions) {
    const instrument = config.instruments[symbol];
    made.push({ symbol, position, contractSize: instrument?.contractSize ?? 1, conversion: conversionOf(quoteCurrencyOf(symbol, instrument), account.spec.currency) });
  }
  legs.set(account.positions, { config, currency: account.spec.currency, legs: made });
  return made;
}
const legs = new WeakMap<ReadonlyMap<SymbolId, Position>, { config: EngineConfig; currency: string; legs: readonly Leg[] }>();

/** The account's positions at the last prices: floating P/L, gross notional per symbol, cluster and sector. */
export function accountExposure(account: AccountState, marks: Marks): Exposure {
  return exposureOf(account.positions, marks, account.spec.currency);
}

/**
 * The baseline of each of `accountIds` at the reset instant `resetAt`, under its rules' basis.
 * Equity is the balance plus the open positions at their last prices; when a held symbol's last
 * price is older than `staleEquityMs` at the reset (or missing), that last known equity is
 * used and the snapshot is marked `shadow`.
 */
export function snapshotBaselines(state: EngineState, accountIds: readonly AccountId[], resetAt: number): BaselineSnapshot[] {
  return accountIds.map((accountId) => {
    const account = state.accounts.get(accountId)!;
    const { accountRules, dailyReset } = configOf(state, account);
    const equity = equityOf(account, state);
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
 * Re-marks `accountIds` after their positions or prices changed: under `trailing_intraday`,
 * their high-water mark follows equity up. Nothing else is stored (equity and exposure are
 * derived on read), so only an account at a new high changes; the work is proportional to the
 * accounts re-marked, not to the book.
 */
function revalue(state: EngineState, accountIds: Iterable<AccountId>): EngineState {
  const updated: [AccountId, AccountState][] = [];
  for (const accountId of accountIds) {
    const account = state.accounts.get(accountId);
    if (!account || configOf(state, account).accountRules.maxLossMode !== "trailing_intraday") continue;
    const equity = equityOf(account, state);
    if (equity > account.highWater) updated.push([accountId, { ...account, highWater: equity }]);
  }
  if (updated.length === 0) return state;
  return { ...state, accounts: updated.length === 1 ? state.accounts.set(updated[0]![0], updated[0]![1]) : state.accounts.setAll(updated) };
}

/**
 * A tick's re-marking: the holders of the repriced `symbols` that may be past their high-water
 * mark or at a loss limit (`nearLimits`: a scan of their price bands) are re-marked, and kept
 * with the state for the loss checks that follow (`nearLimitsAfterTick`).
 */
function tickRevalued(next: EngineState, symbols: readonly SymbolId[]): EngineState {
  const near = nearLimits(next, symbols);
  const revalued = revalue(next, near);
  afterTick.set(revalued, { symbols, near });
  return revalued;
}
const afterTick = new WeakMap<EngineState, { readonly symbols: readonly SymbolId[]; readonly near: readonly AccountId[] }>();

/**
 * The holders of `symbols` that may be at a loss limit in `state`, every one that is among them:
 * what the tick that made `state` found, or found now.
 */
export function nearLimitsAfterTick(state: EngineState, symbols: readonly SymbolId[]): readonly AccountId[] {
  const found = afterTick.get(state);
  if (found && found.symbols.length === symbols.length && symbols.every((symbol) => found.symbols.includes(symbol))) return found.near;
  return nearLimits(state, symbols);
}

/**
 * `accountIds` in one order that does not depend on how the index was built (folded event by
 * event, or rebuilt from a snapshot): what the engine decides from an index must be the same
 * either way.
 */
export function inIdOrder(accountIds: Iterable<AccountId>): AccountId[] {
  return [...accountIds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The accounts holding any of `symbols`, each once. */
export function holdersOfAll(state: Pick<EngineState, "index">, symbols: readonly SymbolId[]): readonly AccountId[] | Set<AccountId> {
  if (symbols.length === 1) return holderIds(state, symbols[0]!);
  const holders = new Set<AccountId>();
  for (const symbol of symbols) for (const accountId of holdersOf(state, symbol).unorderedKeys()) holders.add(accountId);
  return holders;
}

/** The accounts holding `symbol`. */
export function holdersOf(state: Pick<EngineState, "index">, symbol: SymbolId): AccountSet {
  return state.index.holders.get(symbol) ?? noAccounts;
}

/**
 * The accounts holding `symbol` as an array (no order promised), made once per set of holders
 * and kept while it lasts: a tick walks thousands of them, and an array is the cheapest walk.
 */
export function holderIds(state: Pick<EngineState, "index">, symbol: SymbolId): readonly AccountId[] {
  const holders = holdersOf(state, symbol);
  let ids = holderArrays.get(holders);
  if (!ids) holderArrays.set(holders, (ids = [...holders.unorderedKeys()]));
  return ids;
}
const holderArrays = new WeakMap<AccountSet, readonly AccountId[]>();

/**
 * The accounts a bar of `symbol` may re-mark: the holders of the symbol, and the holders of any
 * symbol outside a volatility cluster (whose exposure the bar's statistics move too).
 */
export function barHolders(state: EngineState, symbol: SymbolId): Set<AccountId> {
  const touched = new Set<AccountId>(holdersOf(state, symbol).unorderedKeys());
  for (const [held, holders] of state.index.holders) {
    if (state.config.instruments[held]?.cluster) continue;
    for (const accountId of holders.unorderedKeys()) touched.add(accountId);
  }
  return touched;
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
  state: EngineState,
  accountId: AccountId,
  update: (account: AccountState) => AccountState,
): EngineState {
  const account = state.accounts.get(accountId);
  if (!account) return state;
  return { ...state, accounts: state.accounts.set(accountId, update(account)) };
}

/** The EWMA moments of two symbols' shared returns, in either order; undefined before they share one. */
export function pairOf(state: Pick<EngineState, "pairs">, x: SymbolId, y: SymbolId): PairMoments | undefined {
  return state.pairs.get(x)?.get(y);
}

/**
 * After a bar of `symbol` added a return at time t: the moments of every pair of `symbol` with a
 * symbol that has a return at t too (bars of one close time arrive in any order; a pair moves
 * forward only, so a bar arriving after a later shared one is left out of that pair). Moments
 * are oriented: `a` is the symbol that sorts first.
 */
function withPairs(state: EngineState, symbol: SymbolId): EngineState {
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

function rebuildPairs(market: ReadonlyMap<SymbolId, MarketState>, lambda: number): EngineState["pairs"] {
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
function withOrder(state: EngineState, orderId: OrderId, update: (order: OpenOrder) => OpenOrder | null): EngineState {
  const order = state.orders.get(orderId);
  if (!order) return state;
  const next = update(order);
  return { ...state, orders: next ? state.orders.set(orderId, next) : state.orders.delete(orderId) };
}

function withMarket(state: EngineState, symbol: SymbolId, update: (market: MarketState) => MarketState): EngineState {
  const market = new Map(state.market);
  market.set(symbol, update(state.market.get(symbol) ?? noMarket));
  return { ...state, market };
}

/** The state fold: replay is `events.reduce(evolve, initialState())`. */
export function evolve(state: EngineState, event: EngineEvent): EngineState {
  switch (event.type) {
    case "config.applied": {
      // New instruments may re-mark positions; a new decay means new moments, rebuilt from the windows.
      // A new firm reset rule moves the days' ends: the index is built again (a rare, whole-book event).
      const next =
        event.config.market.ewmaLambda === state.config.market.ewmaLambda
          ? { ...state, config: event.config }
          : { ...state, config: event.config, pairs: rebuildPairs(state.market, event.config.market.ewmaLambda) };
      const revalued = revalue(next, next.accounts.unorderedKeys());
      return { ...revalued, index: indexOf(revalued) };
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
      const updated: [AccountId, AccountState][] = [];
      const day = { tradingDay: event.tradingDay, resetAt: event.resetAt };
      for (const snapshot of event.baselines) {
        const account = state.accounts.get(snapshot.accountId);
        if (!account) continue;
        updated.push([snapshot.accountId, {
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
        }]);
      }
      let next: EngineState = { ...state, accounts: state.accounts.setAll(updated) };
      for (const [accountId] of updated) next = reindexed(next, accountId, state);
      return next;
    }
    case "market.tick": {
      const next = withMarket(state, event.symbol, (market) => ({ ...market, lastPrice: event.price, lastPriceAt: event.at }));
      if (event.deferred) return next;
      return tickRevalued(next, event.instant ?? [event.symbol]);
    }
    case "market.bar": {
      // A bar that closed before the last price was set (a late bar after a newer tick) adds to
      // the statistics but does not take the last price back to its older close.
      const next = withPairs(
        withMarket(state, event.symbol, (market) => ({
          ...market,
          ...(market.lastPriceAt !== null && event.at < market.lastPriceAt ? {} : { lastPrice: event.close, lastPriceAt: event.at }),
          stats: foldBar(market.stats, event, state.config.market),
        })),
        event.symbol,
      );
      if (event.deferred) return next;
      if (!event.instant) return revalue(next, barHolders(next, event.symbol));
      const touched = new Set<AccountId>();
      for (const symbol of event.instant) for (const accountId of barHolders(next, symbol)) touched.add(accountId);
      return revalue(next, touched);
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
      const accounts = state.accounts.set(event.account.accountId, {
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
        balance: event.account.initialBalanceUsd,
        baseline: event.account.initialBalanceUsd,
        baselineShadow: false,
        highWater: event.account.initialBalanceUsd,
        lockedOut: null,
        riskUsedToday: 0,
        allowedCount: 0,
        deniedCount: 0,
        allowances: new Map(),
        execIds: new Map(),
      });
      return reindexed({ ...state, accounts }, event.account.accountId, state);
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
      return reindexed(revalue(next, [event.accountId]), event.accountId, state);
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
        if (account.spec.execution !== "external") return { ...account, recentIntentTimes: recent };
        // Noted until its decision: an allowed one becomes what a fill may report against.
        const { intentId, symbol, side } = event.intent;
        const allowances = new Map(account.allowances);
        allowances.delete(intentId);
        allowances.set(intentId, { symbol, side, quantity: null, filled: 0, at: event.at });
        if (allowances.size > MAX_ALLOWANCES) allowances.delete(allowances.keys().next().value!);
        return { ...account, recentIntentTimes: recent, allowances };
      });
    }
    case "intent.decided":
      return withAccount(state, event.decision.accountId, (account) => {
        const { decision } = event;
        const noted = account.allowances.get(decision.intentId);
        let { allowances } = account;
        if (noted && noted.quantity === null) {
          const changed = new Map(allowances);
          // FLATTEN is allowed for the position as it stands.
          const quantity = decision.outcome === "allowed" ? (decision.approvedQuantity ?? Math.abs(account.positions.get(noted.symbol)?.quantity ?? 0)) : 0;
          if (quantity > 0) changed.set(decision.intentId, { ...noted, quantity });
          else changed.delete(decision.intentId);
          allowances = changed;
        }
        return decision.outcome === "allowed"
          ? {
              ...account,
              allowances,
              allowedCount: account.allowedCount + 1,
              riskUsedToday: account.riskUsedToday + (decision.riskAtStopUsd ?? 0),
            }
          : { ...account, allowances, deniedCount: account.deniedCount + 1 };
      });
    case "breaker.tripped": {
      const next = withAccount(state, event.accountId, (account) => ({
        ...account,
        breakers: {
          ...account.breakers,
          [event.breaker]: { tripped: true, reason: event.reason, trippedAt: event.at, trippedBy: event.by },
        },
      }));
      return reindexed(next, event.accountId, state);
    }
    case "breaker.reset": {
      const next = withAccount(state, event.accountId, (account) => ({
        ...account,
        breakers: {
          ...account.breakers,
          [event.breaker]: { tripped: false, lastResetAt: event.at, lastResetBy: event.by },
        },
      }));
      return reindexed(next, event.accountId, state);
    }
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
      const orders = state.orders.set(orderId, { accountId, intentId, symbol, side, quantity, filledQuantity: 0, kind, status: "queued", queuedAt: event.at, sentAt: null, limitPrice, slPrice, tpPrice });
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
        const { position, realized } = applyFill(account.positions.get(event.symbol), event, contractSize, event.accountPerQuote ?? event.usdPerQuote ?? 1);
        const positions = new Map(account.positions);
        if (position) positions.set(event.symbol, position);
        else positions.delete(event.symbol);
        const stop = stopLossOf(account.positions.get(event.symbol)?.quantity ?? 0, position?.quantity ?? 0, event, realized);
        const stopLosses = stop ? [...account.stopLosses, stop].slice(-100) : account.stopLosses;
        const allowance = event.intentId === null ? undefined : account.allowances.get(event.intentId);
        let { allowances } = account;
        if (allowance && allowance.quantity !== null) {
          const changed = new Map(allowances);
          const filled = allowance.filled + event.quantity;
          if (filled >= allowance.quantity - 1e-9) changed.delete(event.intentId!);
          else changed.set(event.intentId!, { ...allowance, filled });
          allowances = changed;
        }
        let { execIds } = account;
        if (event.execId !== undefined) {
          const changed = new Map(execIds);
          changed.set(event.execId, event.at);
          if (changed.size > MAX_EXEC_IDS) changed.delete(changed.keys().next().value!);
          execIds = changed;
        }
        return { ...account, positions, stopLosses, allowances, execIds, balance: account.balance + realized - event.feeUsd };
      });
      return reindexed(revalue(next, [event.accountId]), event.accountId, afterOrder);
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
