import type { Fill } from "./accounting";
import { autoResetsDue, drawdownTrips, lockouts, tripsAfter } from "./breakers";
import { lastResetAt, tradingDayOf } from "./calendar";
import type { EngineConfig } from "./config";
import type { EngineEvent } from "./events";
import type { AccountId, SymbolId } from "./ids";
import type { Intent } from "./intent";
import type { Denial } from "./guards";
import { guardChain, guardEnabled, orderPrice, orderQuantity } from "./guards";
import { reducesExposure } from "./intent";
import type { AccountState, EngineState } from "./state";
import { activeVeto, equityUsd, evolve } from "./state";
import type { AccountSpec, Actor, BreakerKind, Decision, ExecutionFailure, FillTrigger, GuardName, LatencySource } from "./types";

/** What an operator says when tripping or resetting a breaker. */
export type BreakerOrder = {
  readonly accountId: AccountId;
  readonly breaker: BreakerKind;
  readonly reason: string;
  readonly by: Actor;
};

/** A manual lock of a symbol in an account's veto registry. */
export type LockOrder = {
  readonly accountId: AccountId;
  readonly symbol: SymbolId;
  readonly note: string;
  /** Epoch ms; null = until the next daily reset. */
  readonly expiresAt: number | null;
  readonly by: Actor;
};

export type UnlockOrder = { readonly accountId: AccountId; readonly symbol: SymbolId; readonly reason: string; readonly by: Actor };

export type MarketUpdate =
  | { readonly kind: "tick"; readonly symbol: SymbolId; readonly price: number }
  | {
      readonly kind: "bar";
      readonly symbol: SymbolId;
      /** The bar's close time; the event's time is when it was recorded. */
      readonly closedAt: number;
      readonly open: number;
      readonly high: number;
      readonly low: number;
      readonly close: number;
      readonly volume: number;
    }
  | {
      readonly kind: "book";
      readonly symbol: SymbolId;
      readonly bids: { price: number; size: number }[];
      readonly asks: { price: number; size: number }[];
    };

/** An execution report: a fill of an account's order, or of a protective order at the venue. */
export type FillReport = Fill & {
  readonly accountId: AccountId;
  readonly intentId: Intent["intentId"] | null;
  readonly trigger: FillTrigger;
};

/** Commands the engine decides on. `at` is supplied by the caller (the engine has no clock). */
export type Command =
  | { readonly type: "AdvanceClock"; readonly at: number }
  | { readonly type: "RecordFills"; readonly at: number; readonly fills: readonly FillReport[] }
  | {
      readonly type: "RecordExecutionFailure";
      readonly at: number;
      readonly accountId: AccountId;
      readonly symbol: SymbolId;
      readonly intentId: Intent["intentId"] | null;
      readonly failure: ExecutionFailure;
      readonly detail: string;
    }
  | { readonly type: "RecordLatency"; readonly at: number; readonly accountId: AccountId; readonly latencyMs: number; readonly source: LatencySource }
  | { readonly type: "ReopenAccount"; readonly at: number; readonly accountId: AccountId; readonly reason: string; readonly by: Actor }
  | { readonly type: "HaltFirm" | "ResumeFirm"; readonly at: number; readonly reason: string; readonly by: Actor }
  | { readonly type: "ApplyConfig"; readonly at: number; readonly config: EngineConfig; readonly by: Actor }
  | { readonly type: "RecordMarket"; readonly at: number; readonly updates: readonly MarketUpdate[] }
  | { readonly type: "OpenAccount"; readonly at: number; readonly account: AccountSpec; readonly by: Actor }
  | { readonly type: "SubmitIntent"; readonly at: number; readonly intent: Intent }
  | ({ readonly type: "TripBreaker" | "ResetBreaker"; readonly at: number } & BreakerOrder)
  | ({ readonly type: "LockSymbol"; readonly at: number } & LockOrder)
  | ({ readonly type: "UnlockSymbol"; readonly at: number } & UnlockOrder);

/** Why a command was refused outright (as opposed to an intent being denied, which is an outcome). */
export type Rejection =
  | { readonly code: "unknown_account"; readonly accountId: AccountId }
  | { readonly code: "account_exists"; readonly accountId: AccountId }
  | { readonly code: "breaker_already_tripped"; readonly accountId: AccountId; readonly breaker: BreakerKind }
  | { readonly code: "breaker_not_tripped"; readonly accountId: AccountId; readonly breaker: BreakerKind }
  | { readonly code: "symbol_already_locked"; readonly accountId: AccountId; readonly symbol: SymbolId }
  | { readonly code: "symbol_not_locked"; readonly accountId: AccountId; readonly symbol: SymbolId }
  | { readonly code: "lock_already_expired"; readonly accountId: AccountId; readonly symbol: SymbolId }
  | { readonly code: "unknown_instrument"; readonly symbol: SymbolId }
  | { readonly code: "breaker_not_manual"; readonly accountId: AccountId; readonly breaker: BreakerKind }
  | { readonly code: "not_locked_out"; readonly accountId: AccountId }
  | { readonly code: "firm_already_halted" }
  | { readonly code: "firm_not_halted" };

export type Decided = { readonly ok: true; readonly events: EngineEvent[] } | { readonly ok: false; readonly rejection: Rejection };

/**
 * Runs the guard chain over an intent at time `now`: the first denial wins. `state` already
 * holds the intent's own `intent.received` (the throttle counts it).
 */
export function evaluate(intent: Intent, account: AccountState, state: EngineState, now: number): Decision {
  const ctx = {
    state,
    intent,
    account,
    firmHalt: state.firmHalt,
    config: state.config,
    instrument: state.config.instruments[intent.symbol],
    market: state.market.get(intent.symbol),
    benchmark: state.market.get(state.config.guards.benchmarkCorrelation.benchmark),
    now,
    equityUsd: equityUsd(account, state),
  };
  const denied = (guard: GuardName, denial: Denial, advisories: string[]): Decision => ({
    intentId: intent.intentId,
    accountId: intent.accountId,
    outcome: "denied",
    approvedQuantity: 0,
    guard,
    reason: denial.reason,
    observed: denial.observed,
    limit: denial.limit,
    advisories,
  });
  // Sizing guards may cap the size: the smallest cap wins, each step noted as an advisory.
  let approved = orderQuantity(ctx);
  let stopPrice = intent.slPrice;
  const advisories: string[] = [];
  for (const guard of guardChain) {
    if (!guardEnabled(guard, state.config)) continue;
    const result = guard.check(ctx);
    if (result === null) continue;
    if ("reason" in result) return denied(guard.name, result, advisories);
    advisories.push(result.note);
    if (result.stopPrice !== undefined && stopPrice === undefined) stopPrice = result.stopPrice;
    if (approved !== null && result.cap < approved) approved = result.cap;
  }
  const price = orderPrice(ctx);
  const riskAtStopUsd =
    approved !== null && stopPrice !== undefined && price !== null && ctx.instrument
      ? Number((approved * Math.abs(price - stopPrice) * ctx.instrument.contractSize).toFixed(2))
      : undefined;
  return {
    intentId: intent.intentId,
    accountId: intent.accountId,
    outcome: "allowed",
    approvedQuantity: approved === null ? null : Number(approved.toPrecision(12)),
    ...(stopPrice !== undefined ? { stopPrice } : {}),
    ...(riskAtStopUsd !== undefined && !reducesExposure(intent) ? { riskAtStopUsd } : {}),
    guard: null,
    reason: null,
    observed: null,
    limit: null,
    advisories,
  };
}

/** `decide(command, state) -> events`, or a rejection. Pure. */
export function decide(command: Command, state: EngineState): Decided {
  const ok = (...events: EngineEvent[]): Decided => ({ ok: true, events });
  const reject = (rejection: Rejection): Decided => ({ ok: false, rejection });
  switch (command.type) {
    case "AdvanceClock": {
      // Automatic breaker resets that are due, then the day whose reset instant is the latest
      // one at or before `at`, if it has not started yet.
      const events = autoResetsDue(state, command.at);
      const { dailyReset } = state.config;
      const resetAt = lastResetAt(command.at, dailyReset);
      if (!state.day || state.day.resetAt < resetAt) {
        events.push({ type: "day.started", at: command.at, resetAt, tradingDay: tradingDayOf(resetAt, dailyReset.timeZone) });
      }
      return ok(...events);
    }
    case "RecordExecutionFailure":
    case "RecordLatency": {
      const { accountId, at } = command;
      if (!state.accounts.has(accountId)) return reject({ code: "unknown_account", accountId });
      const observed: EngineEvent =
        command.type === "RecordExecutionFailure"
          ? { type: "execution.failed", at, accountId, symbol: command.symbol, intentId: command.intentId, failure: command.failure, detail: command.detail }
          : { type: "latency.observed", at, accountId, latencyMs: command.latencyMs, source: command.source };
      const after = evolve(state, observed).accounts.get(accountId)!;
      return ok(observed, ...tripsAfter(observed, after, state.config));
    }
    case "ReopenAccount": {
      const account = state.accounts.get(command.accountId);
      if (!account) return reject({ code: "unknown_account", accountId: command.accountId });
      if (!account.lockedOut) return reject({ code: "not_locked_out", accountId: command.accountId });
      return ok({ type: "account.reopened", at: command.at, accountId: command.accountId, reason: command.reason, by: command.by });
    }
    case "HaltFirm":
      if (state.firmHalt) return reject({ code: "firm_already_halted" });
      return ok({ type: "firm.halted", at: command.at, reason: command.reason, by: command.by });
    case "ResumeFirm":
      if (!state.firmHalt) return reject({ code: "firm_not_halted" });
      return ok({ type: "firm.resumed", at: command.at, reason: command.reason, by: command.by });
    case "ApplyConfig":
      return ok({ type: "config.applied", at: command.at, config: command.config, by: command.by });
    case "RecordFills": {
      for (const fill of command.fills) {
        if (!state.accounts.has(fill.accountId)) return reject({ code: "unknown_account", accountId: fill.accountId });
        if (!state.config.instruments[fill.symbol]) return reject({ code: "unknown_instrument", symbol: fill.symbol });
      }
      // Fold each fill before the next: a stop-loss fill locks its symbol until the reset.
      const events: EngineEvent[] = [];
      let next = state;
      const record = (event: EngineEvent) => {
        events.push(event);
        next = evolve(next, event);
      };
      for (const { accountId, intentId, symbol, side, quantity, price, feeUsd, trigger } of command.fills) {
        record({ type: "execution.filled", at: command.at, accountId, intentId, symbol, side, quantity, price, feeUsd, trigger });
        if (trigger === "stop_loss" && !activeVeto(next.accounts.get(accountId)!, symbol, command.at)) {
          record({
            type: "veto.added",
            at: command.at,
            accountId,
            symbol,
            reason: "stop_loss_hit",
            note: `stop-loss filled at ${price}`,
            expiresAt: null,
            valueAtTrigger: price,
            by: "engine",
          });
        }
      }
      const touched = command.fills.map((fill) => fill.accountId);
      return ok(...events, ...lockouts(next, touched, command.at), ...drawdownTrips(next, touched, command.at));
    }
    case "RecordMarket": {
      const events = command.updates.map((update): EngineEvent => {
          switch (update.kind) {
            case "tick":
              return { type: "market.tick", at: command.at, symbol: update.symbol, price: update.price };
            case "book":
              return { type: "market.book", at: command.at, symbol: update.symbol, bids: update.bids, asks: update.asks };
            case "bar": {
              const { open, high, low, close, volume } = update;
              return { type: "market.bar", at: update.closedAt, symbol: update.symbol, open, high, low, close, volume };
            }
          }
        });
      // New prices move equity: check the drawdown of every account holding a repriced symbol.
      const next = events.reduce(evolve, state);
      const repriced = new Set(command.updates.filter((u) => u.kind !== "book").map((u) => u.symbol));
      const holders = [...next.accounts].filter(([, a]) => [...a.positions.keys()].some((s) => repriced.has(s))).map(([id]) => id);
      return ok(...events, ...lockouts(next, holders, command.at), ...drawdownTrips(next, holders, command.at));
    }
    case "OpenAccount": {
      const { accountId } = command.account;
      if (state.accounts.has(accountId)) return reject({ code: "account_exists", accountId });
      return ok({ type: "account.opened", at: command.at, account: command.account, by: command.by });
    }
    case "SubmitIntent": {
      const { intent, at } = command;
      if (!state.accounts.has(intent.accountId)) return reject({ code: "unknown_account", accountId: intent.accountId });
      const received: EngineEvent = { type: "intent.received", at, intent };
      const afterReceipt = evolve(state, received);
      const account = afterReceipt.accounts.get(intent.accountId)!;
      return ok(received, { type: "intent.decided", at, decision: evaluate(intent, account, afterReceipt, at) });
    }
    case "TripBreaker":
    case "ResetBreaker": {
      const { accountId, breaker, at, reason, by } = command;
      const account = state.accounts.get(accountId);
      if (!account) return reject({ code: "unknown_account", accountId });
      const tripped = account.breakers[breaker].tripped;
      if (command.type === "TripBreaker") {
        if (breaker !== "manual") return reject({ code: "breaker_not_manual", accountId, breaker });
        if (tripped) return reject({ code: "breaker_already_tripped", accountId, breaker });
        return ok({ type: "breaker.tripped", at, accountId, breaker, reason, by });
      }
      if (!tripped) return reject({ code: "breaker_not_tripped", accountId, breaker });
      return ok({ type: "breaker.reset", at, accountId, breaker, reason, by });
    }
    case "LockSymbol": {
      const { accountId, symbol, at, note, expiresAt, by } = command;
      const account = state.accounts.get(accountId);
      if (!account) return reject({ code: "unknown_account", accountId });
      if (activeVeto(account, symbol, at)) return reject({ code: "symbol_already_locked", accountId, symbol });
      if (expiresAt !== null && expiresAt <= at) return reject({ code: "lock_already_expired", accountId, symbol });
      return ok({ type: "veto.added", at, accountId, symbol, reason: "manual", note, expiresAt, valueAtTrigger: null, by });
    }
    case "UnlockSymbol": {
      const { accountId, symbol, at, reason, by } = command;
      const account = state.accounts.get(accountId);
      if (!account) return reject({ code: "unknown_account", accountId });
      if (!activeVeto(account, symbol, at)) return reject({ code: "symbol_not_locked", accountId, symbol });
      return ok({ type: "veto.cleared", at, accountId, symbol, reason, by });
    }
  }
}
