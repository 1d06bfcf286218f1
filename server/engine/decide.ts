import type { Fill } from "./accounting";
import { autoResetsDue, flattenOrders, lossChecks, lossChecksFolded, tripsAfter } from "./breakers";
import { lastResetAt, tradingDayOf } from "./calendar";
import { conversionOf, pairNeeded, perUnit, quoteCurrencyOf, rateOf } from "./currency";
import type { EngineConfig, RulesPatch } from "./config";
import type { EngineEvent, OrderEvent } from "./events";
import type { AccountId, OrderId, PresetId, SymbolId } from "./ids";
import type { Intent, Side } from "./intent";
import type { Denial, GuardContext, Review } from "./guards";
import { enabledChain, exceeds, guardChain, guardEnabled, minimumQuantity, orderPrice, orderQuantity, roundedToLot } from "./guards";
import { reducesExposure } from "./intent";
import type { AccountState, EngineState, StopLoss } from "./state";
import { accountExposure, activeSideLock, activeVeto, configOf, equityOf, evolve, holdersOfAll, inIdOrder, nearLimitsAfterTick, snapshotBaselines } from "./state";
import type { AccountSpec, Actor, BreakerKind, Decision, ExecutionFailure, FillTrigger, GuardName, LatencySource, ReviewOutcome } from "./types";

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
  /** The order filled, when it went through Riskgate's execution path. */
  readonly orderId?: OrderId;
  readonly intentId: Intent["intentId"] | null;
  readonly trigger: FillTrigger;
  /** The venue's execution id: a fill whose id the account has booked already is not booked again. */
  readonly execId?: string;
};

export type FillSource = "venue" | "report" | "correction";

/** A stop-loss, take-profit or liquidation: a protective exit of a position, not an order of its own. */
const PROTECTIVE: ReadonlySet<string> = new Set(["stop_loss", "take_profit", "liquidation"]);

/**
 * Why a reported fill cannot be booked, or null. A report comes from a venue outside Riskgate:
 * only for an account that executes there; it names the allowed intent it fills (same symbol and
 * side, no more than what is left of it), or it is a protective exit (stop-loss, take-profit,
 * liquidation) that only reduces the position held. Anything else needs an admin's correction.
 */
function unmatchedFill(fill: FillReport, index: number, state: EngineState): Rejection | null {
  const account = state.accounts.get(fill.accountId)!;
  const refuse = (field: string, message: string): Rejection => ({ code: "fill_unmatched", path: `fills.${index}.${field}`, message });
  if (account.spec.execution !== "external") {
    return refuse("accountId", `${fill.accountId} executes through Riskgate's venue: its fills come only from there (an admin may book a correction)`);
  }
  if (fill.intentId === null) {
    const held = account.positions.get(fill.symbol)?.quantity ?? 0;
    const reduces = held !== 0 && (fill.side === "BUY") !== held > 0 && fill.quantity <= Math.abs(held) + 1e-9;
    if (PROTECTIVE.has(fill.trigger) && reduces) return null;
    return refuse("intentId", "name the allowed intent this fill fills (only a stop-loss, take-profit or liquidation that reduces the position may go without one)");
  }
  const allowance = account.allowances.get(fill.intentId);
  if (!allowance || allowance.quantity === null) return refuse("intentId", `${fill.intentId} is not an allowed intent of ${fill.accountId} with anything left to fill`);
  if (allowance.symbol !== fill.symbol || allowance.side !== fill.side) {
    return refuse("intentId", `${fill.intentId} allowed ${allowance.side} ${allowance.symbol}, not ${fill.side} ${fill.symbol}`);
  }
  const left = allowance.quantity - allowance.filled;
  if (fill.quantity > left + 1e-9) return refuse("quantity", `${fill.quantity} is more than is left of ${fill.intentId} (${Number(left.toPrecision(12))} of ${allowance.quantity})`);
  return null;
}

/** A preset version's rules, as the shell resolved them from the preset registry. */
export type PresetRules = { readonly presetId: PresetId; readonly version: number; readonly rules: RulesPatch };

/** Commands the engine decides on. `at` is supplied by the caller (the engine has no clock). */
export type Command =
  | { readonly type: "AdvanceClock"; readonly at: number }
  | {
      readonly type: "RecordFills";
      readonly at: number;
      readonly fills: readonly FillReport[];
      readonly by?: Actor;
      /**
       * Where the fills come from: Riskgate's own venue path (the default); a report of a venue
       * outside Riskgate, which must fill what was allowed; or an admin's correction, booked as
       * it is with its reason.
       */
      readonly source?: FillSource;
      /** Required for a correction. */
      readonly reason?: string;
    }
  | {
      readonly type: "RecordExecutionFailure";
      readonly at: number;
      readonly accountId: AccountId;
      readonly orderId?: OrderId;
      readonly symbol: SymbolId;
      readonly intentId: Intent["intentId"] | null;
      readonly failure: ExecutionFailure;
      readonly detail: string;
    }
  | { readonly type: "RecordLatency"; readonly at: number; readonly accountId: AccountId; readonly latencyMs: number; readonly source: LatencySource }
  | { readonly type: "ReopenAccount"; readonly at: number; readonly accountId: AccountId; readonly reason: string; readonly by: Actor }
  /** An operator's "flatten now": every open position of the account ordered closed, with who and why. */
  | { readonly type: "FlattenAccount"; readonly at: number; readonly accountId: AccountId; readonly reason: string; readonly by: Actor }
  | { readonly type: "HaltFirm" | "ResumeFirm"; readonly at: number; readonly reason: string; readonly by: Actor }
  | { readonly type: "ApplyConfig"; readonly at: number; readonly config: EngineConfig; readonly by: Actor }
  | { readonly type: "RecordMarket"; readonly at: number; readonly updates: readonly MarketUpdate[]; readonly by?: Actor }
  | {
      readonly type: "OpenAccount";
      readonly at: number;
      readonly account: AccountSpec;
      /** The preset the account opens under (absent: the firm's default rules). */
      readonly preset?: PresetRules;
      readonly by: Actor;
    }
  | ({ readonly type: "ActivatePreset"; readonly at: number; readonly accountId: AccountId; readonly reason: string; readonly by: Actor } & PresetRules)
  | {
      readonly type: "SubmitIntent";
      readonly at: number;
      readonly intent: Intent;
      /** Who sent it (recorded on `intent.received`). */
      readonly by?: Actor;
      /** The reviewer's outcome (guard 18), when the configuration asks for one and the shell obtained it. */
      readonly review?: ReviewOutcome;
      /** The deal memo the reviewer judged, recorded before its verdict. */
      readonly memo?: Readonly<Record<string, unknown>>;
    }
  | { readonly type: "RecordMemo"; readonly at: number; readonly accountId: AccountId; readonly intentId: Intent["intentId"]; readonly memo: Readonly<Record<string, unknown>> }
  | { readonly type: "RecordOrders"; readonly at: number; readonly events: readonly OrderEvent[] }
  | { readonly type: "EnterReducing"; readonly at: number; readonly accountId: AccountId; readonly reason: string; readonly by: Actor }
  | { readonly type: "EndReducing"; readonly at: number; readonly accountId: AccountId; readonly reason: string; readonly by: Actor }
  | { readonly type: "UnlockSide"; readonly at: number; readonly accountId: AccountId; readonly side: Side; readonly reason: string; readonly by: Actor }
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
  /** A fill in a currency no price converts to the account's yet (`account`): booking it would count its P/L as that currency. */
  | { readonly code: "no_conversion_rate"; readonly symbol: SymbolId; readonly currency: string; readonly account: string; readonly fillIndex: number; readonly needs: string }
  | { readonly code: "breaker_not_manual"; readonly accountId: AccountId; readonly breaker: BreakerKind }
  | { readonly code: "not_locked_out"; readonly accountId: AccountId }
  | { readonly code: "nothing_to_flatten"; readonly accountId: AccountId }
  | { readonly code: "bar_out_of_order"; readonly symbol: SymbolId; readonly barIndex: number; readonly closedAt: number; readonly lastBarAt: number }
  | { readonly code: "already_reducing"; readonly accountId: AccountId }
  | { readonly code: "unknown_order"; readonly orderId: OrderId }
  | { readonly code: "order_exists"; readonly orderId: OrderId }
  | { readonly code: "not_reducing"; readonly accountId: AccountId }
  | { readonly code: "side_not_locked"; readonly accountId: AccountId; readonly side: Side }
  | { readonly code: "fill_unmatched"; readonly path: string; readonly message: string }
  | { readonly code: "correction_without_reason" }
  | { readonly code: "firm_already_halted" }
  | { readonly code: "firm_not_halted" };

/**
 * The events a command decided, or its rejection. `after`, when present, is the state with the
 * events folded in (a command that had to fold them to decide says so; a caller need not fold
 * them again).
 */
export type Decided = { readonly ok: true; readonly events: EngineEvent[]; readonly after?: EngineState } | { readonly ok: false; readonly rejection: Rejection };

function denied(intent: Intent, guard: GuardName, denial: Denial, advisories: string[]): Decision {
  return {
    intentId: intent.intentId,
    accountId: intent.accountId,
    outcome: "denied",
    approvedQuantity: 0,
    guard,
    reason: denial.reason,
    observed: denial.observed,
    limit: denial.limit,
    ...(denial.detail !== undefined ? { detail: denial.detail } : {}),
    advisories,
  };
}

function ok(...events: EngineEvent[]): Decided {
  return { ok: true, events };
}

function reject(rejection: Rejection): Decided {
  return { ok: false, rejection };
}

/** How `symbol`'s prices become the account's currency for the guards: the conversion, its rate and units per unit. */
function converting(symbol: SymbolId, state: EngineState, account: AccountState): Pick<GuardContext, "conversion" | "rate" | "accountPerQuote"> {
  const conversion = conversionOf(quoteCurrencyOf(symbol, state.config.instruments[symbol]), account.spec.currency);
  if (conversion === null) return { conversion, rate: null, accountPerQuote: 1 };
  const rate = rateOf(conversion, state.market);
  return { conversion, rate, accountPerQuote: rate?.perUnit ?? null };
}

/**
 * Runs the guard chain over an intent at time `now`: the first denial wins. `state` is the
 * state before the intent's own `intent.received` (the throttle counts it in). `review` is the reviewer's
 * outcome for guard 18; `"skip"` leaves the reviewer out (the shell's preview of whether to ask).
 */
export function evaluate(intent: Intent, account: AccountState, state: EngineState, now: number, review: Review = null, trace?: GuardStep[]): Decision {
  const config = configOf(state, account);
  let step: GuardStep | null = null;
  const ctx: GuardContext = {
    review,
    state,
    intent,
    account,
    firmHalt: state.firmHalt,
    config,
    instrument: state.config.instruments[intent.symbol],
    market: state.market.get(intent.symbol),
    ...converting(intent.symbol, state, account),
    now,
    equity: equityOf(account, state),
    exposure: accountExposure(account, state),
    ...(trace ? { measure: (what: string, observed: GuardMeasure["observed"], limit: GuardMeasure["limit"]) => step?.measures.push({ what, observed, limit }) } : {}),
  };
  // Sizing guards may cap the size: the smallest cap wins, each step noted as an advisory.
  let approved = orderQuantity(ctx);
  let stopPrice = intent.slPrice;
  const advisories: string[] = [];
  for (const guard of enabledChain(config)) {
    if (trace) trace.push((step = { guard: guard.name, status: "passed", measures: [] }));
    let result = guard.check(ctx);
    if (result === null) continue;
    if ("cap" in result && approved !== null && result.cap < approved) {
      // A smaller size is rounded down to the lot step: one below the minimum is no order at all.
      const minimum = minimumQuantity(ctx.instrument);
      const rounded = roundedToLot(result.cap, ctx.instrument);
      if (minimum !== undefined && exceeds(minimum, rounded)) result = { reason: "quantity_below_minimum", observed: rounded, limit: minimum };
      else result = { ...result, cap: rounded };
    }
    if ("reason" in result) {
      if (step) Object.assign(step, { status: "denied", reason: result.reason, measures: [...step.measures, { what: result.reason, observed: result.observed, limit: result.limit }] });
      return denied(intent, guard.name, result, advisories);
    }
    if (step) Object.assign(step, { status: "cap" in result ? "capped" : "noted", note: result.note });
    advisories.push(result.note);
    if (!("cap" in result)) continue;
    if (result.stopPrice !== undefined && stopPrice === undefined) stopPrice = result.stopPrice;
    if (approved !== null && result.cap < approved) approved = result.cap;
  }
  if (reducesExposure(intent)) {
    // An exit closes at most the position (parameter_validity made sure there is one to close).
    const held = Math.abs(account.positions.get(intent.symbol)?.quantity ?? 0);
    if (approved === null || approved > held) {
      if (approved !== null) advisories.push(`exit cut to the position: ${held}`);
      approved = held;
    }
  }
  const price = orderPrice(ctx);
  const riskAtStopUsd =
    approved !== null && stopPrice !== undefined && price !== null && ctx.instrument && ctx.accountPerQuote !== null
      ? Number((approved * Math.abs(price - stopPrice) * ctx.instrument.contractSize * ctx.accountPerQuote).toFixed(2))
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

/** A figure a guard judged and its limit (a denial's observed value and limit among them). */
export type GuardMeasure = { readonly what: string; readonly observed: number | string | null; readonly limit: number | string | null };

/** One guard's part in a decision: off, passed (with the figures it judged), denied, capped the size, noted, or not reached. */
export type GuardStep = {
  guard: GuardName;
  status: "off" | "passed" | "denied" | "capped" | "noted" | "not_reached";
  measures: GuardMeasure[];
  reason?: string;
  note?: string;
};

/**
 * A decision taken again with every guard's part in it: the whole chain in order, the guards
 * the configuration switches off, those after the deciding denial (not reached), and for every
 * guard that ran the figures it judged against its limits. For the console's decision details;
 * the decision path itself never collects these.
 */
export function explainIntent(intent: Intent, state: EngineState, at: number, review: Review): { decision: Decision; steps: GuardStep[] } | null {
  const account = state.accounts.get(intent.accountId);
  if (!account) return null;
  const ran: GuardStep[] = [];
  const decision = evaluate(intent, account, state, at, review, ran);
  const config = configOf(state, account);
  const steps = guardChain.map((guard): GuardStep => ran.find((step) => step.guard === guard.name) ?? { guard: guard.name, status: guardEnabled(guard, config) ? "not_reached" : "off", measures: [] });
  return { decision, steps };
}

/** Whether `AdvanceClock` at `at` would do anything: a day to start, or an automatic breaker reset due. */
export function clockDue(state: EngineState, at: number): boolean {
  // A day is due when it ends by `at`: the index keeps accounts by the end of their day.
  for (const dayEnd of state.index.dayEnds.keys()) if (dayEnd <= at) return true;
  return autoResetsDue(state, at).length > 0;
}

type DueDay = { resetAt: number; tradingDay: string; accountIds: AccountId[] };

/**
 * The accounts whose trading day starts by `at`, grouped by reset instant: each account resets
 * under its own rule (FTMO at midnight in Prague, Topstep at 17:00 in Chicago), so one clock
 * advance may start several days, earliest first.
 */
function daysDue(state: EngineState, at: number): DueDay[] {
  const due = new Map<string, DueDay>();
  const ending = [...state.index.dayEnds].filter(([dayEnd]) => dayEnd <= at).sort(([a], [b]) => a - b);
  for (const accountId of inIdOrder(ending.flatMap(([, accounts]) => [...accounts.unorderedKeys()]))) {
    const account = state.accounts.get(accountId)!;
    const { dailyReset } = configOf(state, account);
    const resetAt = lastResetAt(at, dailyReset);
    if (account.day.resetAt >= resetAt) continue;
    const tradingDay = tradingDayOf(resetAt, dailyReset);
    const key = `${resetAt}/${tradingDay}`;
    const group = due.get(key) ?? due.set(key, { resetAt, tradingDay, accountIds: [] }).get(key)!;
    group.accountIds.push(accountId);
  }
  return [...due.values()].sort((a, b) => a.resetAt - b.resetAt);
}

/** The outcome recorded when the reviewer was due but the shell supplied none. */
const missingReview: ReviewOutcome = { status: "failed", reviewer: "none", detail: "no reviewer verdict was supplied" };

/** Whether an intent the chain allows must go to the reviewer (guard 18) before it is decided. */
export function needsReview(intent: Intent, state: EngineState): boolean {
  const account = state.accounts.get(intent.accountId);
  return account !== undefined && configOf(state, account).guards.reviewer.enabled && !reducesExposure(intent);
}

/**
 * The decision the chain would take without the reviewer: the shell asks the reviewer only
 * when this allows (and `needsReview`), then submits the intent with the outcome.
 */
export function previewIntent(intent: Intent, state: EngineState, at: number): Decision | null {
  if (!state.accounts.has(intent.accountId)) return null;
  return evaluate(intent, state.accounts.get(intent.accountId)!, state, at, "skip");
}

type PriceEvent = Extract<EngineEvent, { type: "market.tick" | "market.bar" }>;
type MarketEvent = PriceEvent | Extract<EngineEvent, { type: "market.book" }>;

/**
 * A market request's events cut into instants (runs of one time), every price of an instant
 * of several but the last marked `deferred`, the last naming the symbols the instant repriced.
 */
function instantsOf(events: readonly EngineEvent[]): MarketEvent[][] {
  const instants: MarketEvent[][] = [];
  for (const event of events as readonly MarketEvent[]) {
    const current = instants.at(-1);
    if (current && current[0]!.at === event.at) current.push(event);
    else instants.push([event]);
  }
  return instants.map((instant) => {
    const prices = instant.filter((event): event is PriceEvent => event.type !== "market.book");
    if (prices.length < 2) return instant;
    const last = prices.at(-1)!;
    const symbols = [...new Set(prices.map((event) => event.symbol))];
    return instant.map((event) => (event.type === "market.book" ? event : event === last ? { ...event, instant: symbols } : { ...event, deferred: true as const }));
  });
}

/** `decide(command, state) -> events`, or a rejection. Pure. */
export function decide(command: Command, state: EngineState): Decided {
  switch (command.type) {
    case "AdvanceClock": {
      // Automatic breaker resets that are due, then for each account the day whose reset
      // instant is the latest one at or before `at`, if it has not started yet.
      const events = autoResetsDue(state, command.at);
      const afterResets = events.reduce(evolve, state);
      const resets = events.length;
      const started: AccountId[] = [];
      for (const { resetAt, tradingDay, accountIds } of daysDue(afterResets, command.at)) {
        events.push({ type: "day.started", at: command.at, resetAt, tradingDay, baselines: snapshotBaselines(afterResets, accountIds, resetAt) });
        started.push(...accountIds);
      }
      if (started.length === 0) return ok(...events);
      // A day may start past a floor (a baseline above equity, a trailing mark raised at the
      // close) with no price to follow until Monday: it is checked at its start.
      const checked = lossChecksFolded(events.slice(resets).reduce(evolve, afterResets), started, command.at, "by_id");
      return { ok: true, events: [...events, ...checked.events], after: checked.state };
    }
    case "RecordExecutionFailure":
    case "RecordLatency": {
      const { accountId, at } = command;
      if (!state.accounts.has(accountId)) return reject({ code: "unknown_account", accountId });
      const observed: EngineEvent =
        command.type === "RecordExecutionFailure"
          ? {
              type: "execution.failed",
              at,
              accountId,
              ...(command.orderId !== undefined ? { orderId: command.orderId } : {}),
              symbol: command.symbol,
              intentId: command.intentId,
              failure: command.failure,
              detail: command.detail,
            }
          : { type: "latency.observed", at, accountId, latencyMs: command.latencyMs, source: command.source };
      const after = evolve(state, observed).accounts.get(accountId)!;
      return ok(observed, ...tripsAfter(observed, after, configOf(state, after)));
    }
    case "ReopenAccount": {
      const account = state.accounts.get(command.accountId);
      if (!account) return reject({ code: "unknown_account", accountId: command.accountId });
      if (!account.lockedOut) return reject({ code: "not_locked_out", accountId: command.accountId });
      return ok({ type: "account.reopened", at: command.at, accountId: command.accountId, reason: command.reason, by: command.by });
    }
    case "FlattenAccount": {
      // One instruction per open position, in the account's own order: the execution path
      // closes each (a simulated account through the queue; an external stack reads the ledger).
      const { accountId, at, reason, by } = command;
      const account = state.accounts.get(accountId);
      if (!account) return reject({ code: "unknown_account", accountId });
      if (account.positions.size === 0) return reject({ code: "nothing_to_flatten", accountId });
      return ok(...flattenOrders(account, accountId, at, { by, reason }));
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
      const { at } = command;
      const source = command.source ?? "venue";
      if (source === "correction" && !command.reason) return reject({ code: "correction_without_reason" });
      const sender = command.by ? { by: command.by } : {};
      const correction = source === "correction" ? { correction: command.reason! } : {};
      for (const [index, fill] of command.fills.entries()) {
        // A repeat of a booked execution (a drop copy resent) is not booked again, nor judged again.
        if (fill.execId !== undefined && next.accounts.get(fill.accountId)!.execIds.has(fill.execId)) continue;
        // Each against the state after the fills before it (two fills may share one intent).
        if (source === "report") {
          const unmatched = unmatchedFill(fill, index, next);
          if (unmatched) return reject(unmatched);
        }
        const { accountId, orderId, intentId, symbol, side, quantity, price, feeUsd, trigger, execId } = fill;
        // Booked in the account's currency at the rate of the moment, which the fill records.
        const conversion = conversionOf(quoteCurrencyOf(symbol, next.config.instruments[symbol]), next.accounts.get(accountId)!.spec.currency);
        const rate = perUnit(conversion, next.market);
        if (rate === null) return reject({ code: "no_conversion_rate", symbol, currency: conversion!.currency, account: conversion!.account, fillIndex: index, needs: pairNeeded(conversion!) });
        const converted = conversion === null ? {} : { accountPerQuote: rate };
        const held = next.accounts.get(accountId)!.positions.get(symbol)?.quantity ?? 0;
        const exits = held !== 0 && (side === "BUY") !== held > 0;
        const order = orderId !== undefined ? { orderId } : {};
        const before = next.accounts.get(accountId)!;
        const wasLockedOut = before.lockedOut !== null;
        record({ type: "execution.filled", at, accountId, ...order, intentId, symbol, side, quantity, price, feeUsd, trigger, ...sender, ...correction, ...converted, ...(execId !== undefined ? { execId } : {}) });
        const account = next.accounts.get(accountId)!;
        const { exitCooldownMs, stopLossStreak } = configOf(next, account).guards.vetoRegistry;
        const after = account.positions.get(symbol)?.quantity ?? 0;
        if (wasLockedOut && trigger !== "liquidation" && Math.abs(after) > Math.abs(held) + 1e-9 && Math.sign(after) === Math.sign(held || after)) {
          // An order sent before the lock-out filled after it: what it added is flattened too.
          record({ type: "flatten.ordered", at, accountId, symbol, side: side === "BUY" ? "SELL" : "BUY", quantity: Number((Math.abs(after) - Math.abs(held)).toPrecision(12)) });
        }
        if (trigger === "stop_loss" && activeVeto(account, symbol, at)?.expiresAt !== null) {
          // The re-entry paradox: a stopped-out symbol stays locked until the next reset.
          const note = `stop-loss filled at ${price}`;
          record({ type: "veto.added", at, accountId, symbol, reason: "stop_loss_hit", note, expiresAt: null, valueAtTrigger: price, by: "engine" });
        } else if (exits && exitCooldownMs > 0 && !activeVeto(account, symbol, at)) {
          const note = `exit at ${price}: cooldown of ${exitCooldownMs / 1000} s`;
          record({ type: "veto.added", at, accountId, symbol, reason: "exit_cooldown", note, expiresAt: at + exitCooldownMs, valueAtTrigger: price, by: "engine" });
        }
        const stopped = account.stopLosses !== before.stopLosses ? account.stopLosses.at(-1) : undefined;
        if (stopped && stopLossStreak.enabled && (stopped.losing || !stopLossStreak.onlyLosing)) {
          // N positions of one side stopped out (at a loss, unless onlyLosing is off) within the
          // window lock that side's entries until the reset.
          const stoppedSide = stopped.side;
          const counts = (stop: StopLoss) => stop.side === stoppedSide && stop.at > at - stopLossStreak.windowMs && (stop.losing || !stopLossStreak.onlyLosing);
          const streak = account.stopLosses.filter(counts).length;
          if (streak >= stopLossStreak.count && !activeSideLock(account, stoppedSide, at)) {
            const note = `${streak} stop-losses on ${stoppedSide === "BUY" ? "long" : "short"} positions within ${stopLossStreak.windowMs / 60_000} min`;
            record({ type: "side.locked", at, accountId, side: stoppedSide, reason: "stop_loss_streak", note, expiresAt: null, valueAtTrigger: streak, by: "engine" });
          }
        }
      }
      return ok(...events, ...lossChecks(next, command.fills.map((fill) => fill.accountId), at));
    }
    case "RecordMarket": {
      // Bars must close in time order per symbol: the statistics' windows are in bar-time order.
      const lastBarAt = new Map<SymbolId, number>();
      const bars = command.updates.filter((update) => update.kind === "bar");
      for (const [barIndex, bar] of bars.entries()) {
        const previous = lastBarAt.get(bar.symbol) ?? state.market.get(bar.symbol)?.stats.lastBarAt ?? null;
        if (previous !== null && bar.closedAt <= previous) {
          return reject({ code: "bar_out_of_order", symbol: bar.symbol, barIndex, closedAt: bar.closedAt, lastBarAt: previous });
        }
        lastBarAt.set(bar.symbol, bar.closedAt);
      }
      const sender = command.by ? { by: command.by } : {};
      const toEvent = (update: MarketUpdate): EngineEvent => {
        switch (update.kind) {
          case "tick":
            return { type: "market.tick", at: command.at, symbol: update.symbol, price: update.price, ...sender };
          case "book":
            return { type: "market.book", at: command.at, symbol: update.symbol, bids: update.bids, asks: update.asks, ...sender };
          case "bar": {
            const { open, high, low, close, volume } = update;
            return { type: "market.bar", at: update.closedAt, symbol: update.symbol, open, high, low, close, volume, ...sender };
          }
        }
      };
      // One instant after another: the updates of one time apply together, then equity is
      // marked and every account holding a repriced symbol is checked against its floors, once.
      const events: EngineEvent[] = [];
      let next = state;
      for (const instant of instantsOf(command.updates.map(toEvent))) {
        events.push(...instant);
        next = instant.reduce(evolve, next);
        const repriced = [...new Set(instant.filter((event) => event.type !== "market.book").map((event) => event.symbol))];
        if (repriced.length === 0) continue;
        // Ticks only: the holders the tick found near a limit (a superset of those at one); a bar
        // moves statistics too, and its holders are all checked, as before.
        const ticksOnly = instant.every((event) => event.type !== "market.bar");
        const checked = lossChecksFolded(next, ticksOnly ? nearLimitsAfterTick(next, repriced) : holdersOfAll(next, repriced), command.at, "by_id");
        events.push(...checked.events);
        next = checked.state;
      }
      return { ok: true, events, after: next };
    }
    case "OpenAccount": {
      const { accountId } = command.account;
      if (state.accounts.has(accountId)) return reject({ code: "account_exists", accountId });
      const opened: EngineEvent = { type: "account.opened", at: command.at, account: command.account, by: command.by };
      if (!command.preset) return ok(opened);
      const { presetId, version, rules } = command.preset;
      const reason = `opened under preset ${presetId} v${version}`;
      return ok(opened, { type: "preset.activated", at: command.at, accountId, presetId, version, rules, reason, by: command.by });
    }
    case "ActivatePreset": {
      // New rules may put the account past a floor at once: the loss checks run under them.
      const { accountId, at, presetId, version, rules, reason, by } = command;
      if (!state.accounts.has(accountId)) return reject({ code: "unknown_account", accountId });
      const activated: EngineEvent = { type: "preset.activated", at, accountId, presetId, version, rules, reason, by };
      return ok(activated, ...lossChecks(evolve(state, activated), [accountId], at));
    }
    case "SubmitIntent": {
      const { intent, at } = command;
      if (!state.accounts.has(intent.accountId)) return reject({ code: "unknown_account", accountId: intent.accountId });
      const received: EngineEvent = { type: "intent.received", at, intent, ...(command.by ? { by: command.by } : {}) };
      const account = state.accounts.get(intent.accountId)!;
      const review = command.review ?? null;
      const decision = evaluate(intent, account, state, at, review);
      // The reviewer was consulted when the chain reached it: its outcome goes on the ledger
      // before the decision (a missing one as a failure), so replay reuses it.
      const consulted = decision.outcome === "allowed" ? needsReview(intent, state) : decision.guard === "reviewer";
      const verdict: EngineEvent[] = consulted
        ? [{ type: "reviewer.verdict", at, accountId: intent.accountId, intentId: intent.intentId, outcome: review ?? missingReview }]
        : [];
      const memo: EngineEvent[] = command.memo ? [{ type: "advisory.memo", at, accountId: intent.accountId, intentId: intent.intentId, memo: { ...command.memo } }] : [];
      return ok(received, ...memo, ...verdict, { type: "intent.decided", at, decision });
    }
    case "RecordMemo": {
      const { at, accountId, intentId, memo } = command;
      if (!state.accounts.has(accountId)) return reject({ code: "unknown_account", accountId });
      return ok({ type: "advisory.memo", at, accountId, intentId, memo: { ...memo } });
    }
    case "RecordOrders": {
      // The queue's and the venue's account of an order; each must follow from the one before.
      let next = state;
      for (const event of command.events) {
        if (!next.accounts.has(event.accountId)) return reject({ code: "unknown_account", accountId: event.accountId });
        const known = next.orders.has(event.orderId);
        if (event.type === "order.queued" && known) return reject({ code: "order_exists", orderId: event.orderId });
        if (event.type !== "order.queued" && !known) return reject({ code: "unknown_order", orderId: event.orderId });
        next = evolve(next, event);
      }
      return ok(...command.events);
    }
    case "EnterReducing": {
      const { accountId, at, reason, by } = command;
      const account = state.accounts.get(accountId);
      if (!account) return reject({ code: "unknown_account", accountId });
      if (account.reducing) return reject({ code: "already_reducing", accountId });
      return ok({ type: "account.reducing", at, accountId, cause: "manual", untilReset: false, reason, by });
    }
    case "EndReducing": {
      const { accountId, at, reason, by } = command;
      const account = state.accounts.get(accountId);
      if (!account) return reject({ code: "unknown_account", accountId });
      if (!account.reducing) return reject({ code: "not_reducing", accountId });
      return ok({ type: "account.reducing_ended", at, accountId, reason, by });
    }
    case "UnlockSide": {
      const { accountId, side, at, reason, by } = command;
      const account = state.accounts.get(accountId);
      if (!account) return reject({ code: "unknown_account", accountId });
      if (!activeSideLock(account, side, at)) return reject({ code: "side_not_locked", accountId, side });
      return ok({ type: "side.unlocked", at, accountId, side, reason, by });
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
