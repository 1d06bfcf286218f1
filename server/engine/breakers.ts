import { nextResetAt } from "./calendar";
import type { EngineConfig } from "./config";
import type { EngineEvent } from "./events";
import type { AccountId } from "./ids";
import type { AccountState, EngineState, Marks } from "./state";
import { limitEquityOf } from "./near-limits";
import { configOf, equityOf, evolve, floorsOf, inIdOrder } from "./state";
import type { Actor, LossRule } from "./types";
import type { BreakerKind } from "./types";

/**
 * The circuit breakers' rules (SPEC section 4), pure. The engine trips `execution_failures` and
 * `latency` itself; they reset themselves when their cooldown has passed (on a clock advance).
 * `manual` trips and resets only by an operator.
 */
export type ResetPolicy = "manual_only" | "auto_after_cooldown" | "auto_when_healthy";

export const resetPolicies: Record<BreakerKind, ResetPolicy> = {
  manual: "manual_only",
  daily_drawdown: "manual_only",
  execution_failures: "auto_after_cooldown",
  latency: "auto_when_healthy",
};

/** When a tripped breaker will reset itself, or null (untripped, or manual only). */
export function autoResetAt(kind: BreakerKind, account: AccountState, config: EngineConfig): number | null {
  const breaker = account.breakers[kind];
  if (!breaker.tripped) return null;
  switch (resetPolicies[kind]) {
    case "manual_only":
      return null;
    case "auto_after_cooldown":
      return breaker.trippedAt + config.breakers.executionFailures.cooldownMs;
    case "auto_when_healthy":
      return Math.max(breaker.trippedAt, account.lastSlowAt ?? 0) + config.breakers.latency.cooldownMs;
  }
}

/** `breaker.tripped` events due on an account after its latest execution or latency event. */
export function tripsAfter(event: EngineEvent, account: AccountState, config: EngineConfig): EngineEvent[] {
  if (event.type === "execution.failed" && !account.breakers.execution_failures.tripped) {
    const { threshold, windowMs } = config.breakers.executionFailures;
    const recent = account.executionFailureTimes.filter((t) => t > event.at - windowMs);
    if (recent.length >= threshold) {
      return [
        {
          type: "breaker.tripped",
          at: event.at,
          accountId: event.accountId,
          breaker: "execution_failures",
          reason: `${recent.length} execution failures within ${windowMs / 1000} s (threshold ${threshold})`,
          by: "engine",
        },
      ];
    }
  }
  if (event.type === "latency.observed" && !account.breakers.latency.tripped) {
    const { thresholdMs } = config.breakers.latency;
    if (event.latencyMs > thresholdMs) {
      return [
        {
          type: "breaker.tripped",
          at: event.at,
          accountId: event.accountId,
          breaker: "latency",
          reason: `${event.source} latency ${event.latencyMs} ms above ${thresholdMs} ms`,
          by: "engine",
        },
      ];
    }
  }
  return [];
}

/** `breaker.reset` events for every breaker whose automatic reset is due at `at`. */
export function autoResetsDue(state: EngineState, at: number): EngineEvent[] {
  const events: EngineEvent[] = [];
  // Only accounts with such a breaker tripped can have one due (the fold's index keeps them).
  for (const accountId of inIdOrder(state.index.selfResetting.unorderedKeys())) {
    const account = state.accounts.get(accountId)!;
    for (const kind of ["execution_failures", "latency"] as const) {
      const due = autoResetAt(kind, account, configOf(state, account));
      if (due !== null && due <= at) {
        events.push({ type: "breaker.reset", at, accountId, breaker: kind, reason: "cooldown passed: automatic reset", by: "engine" });
      }
    }
  }
  return events;
}

/**
 * The next instant at which the clock must advance: an account's daily reset (the firm's
 * default one when there is no account) or an automatic breaker reset.
 */
export function nextDeadline(state: EngineState, now: number): number {
  let deadline = state.accounts.size === 0 ? nextResetAt(now, state.config.dailyReset) : Number.POSITIVE_INFINITY;
  // The earliest end of an account's day (one already past is due now), then the self-resetting breakers.
  for (const dayEnd of state.index.dayEnds.keys()) deadline = Math.min(deadline, dayEnd);
  for (const accountId of state.index.selfResetting.unorderedKeys()) {
    const account = state.accounts.get(accountId)!;
    const config = configOf(state, account);
    for (const kind of ["execution_failures", "latency"] as const) {
      const due = autoResetAt(kind, account, config);
      if (due !== null) deadline = Math.min(deadline, due);
    }
  }
  return deadline;
}

/** The account's drawdown from the day's baseline, in percent (0 when equity is above it). */
export function dailyDrawdownPct(account: AccountState, marks: Marks): number {
  if (account.baseline <= 0) return 0;
  return Math.max(0, ((account.baseline - equityOf(account, marks)) / account.baseline) * 100);
}

/** `breaker.tripped` for each of `accountIds` whose drawdown from the day's baseline is over the limit. */
export function drawdownTrips(state: EngineState, accountIds: Iterable<AccountId>, at: number): EngineEvent[] {
  const events: EngineEvent[] = [];
  for (const accountId of new Set(accountIds)) {
    const account = state.accounts.get(accountId);
    if (!account || account.breakers.daily_drawdown.tripped) continue;
    const { maxPct } = configOf(state, account).breakers.dailyDrawdown;
    const drawdownPct = dailyDrawdownPct(account, state);
    if (drawdownPct - maxPct > 1e-9) {
      events.push({
        type: "breaker.tripped",
        at,
        accountId,
        breaker: "daily_drawdown",
        reason: `equity ${Number(drawdownPct.toPrecision(4))}% below the day's baseline of ${Number(account.baseline.toFixed(2))} ${account.spec.currency} (limit ${maxPct}%)`,
        by: "engine",
      });
    }
  }
  return events;
}

/**
 * A `flatten.ordered` for every open position of the account, in its order: a SELL of a long, a
 * BUY of a short, the whole quantity. `operator`: who ordered it and why (none: the engine's own).
 */
export function flattenOrders(account: AccountState, accountId: AccountId, at: number, operator?: { by: Actor; reason: string }): EngineEvent[] {
  const events: EngineEvent[] = [];
  for (const [symbol, position] of account.positions) {
    const side = position.quantity > 0 ? "SELL" : "BUY";
    events.push({ type: "flatten.ordered", at, accountId, symbol, side, quantity: Math.abs(position.quantity), ...(operator ? { by: operator.by, reason: operator.reason } : {}) });
  }
  return events;
}

/** `account.locked_out` and a `flatten.ordered` for every open position of the account. */
function lockOut(account: AccountState, accountId: AccountId, at: number, equity: number, floor: number, rule: LossRule): EngineEvent[] {
  return [
    // The amounts' currency is recorded for an account that is not in USD (a USD account's event is as it always was).
    { type: "account.locked_out", at, accountId, equity: Number(equity.toFixed(2)), floor: Number(floor.toFixed(2)), rule, ...(account.spec.currency === "USD" ? {} : { currency: account.spec.currency }) },
    ...flattenOrders(account, accountId, at),
  ];
}

/**
 * Max-loss breach: for each of `accountIds` whose equity is at or below the max-loss floor and
 * is not locked out yet, `account.locked_out` and a `flatten.ordered` for every open position.
 */
export function lockouts(state: EngineState, accountIds: Iterable<AccountId>, at: number): EngineEvent[] {
  const events: EngineEvent[] = [];
  for (const accountId of new Set(accountIds)) {
    const account = state.accounts.get(accountId);
    if (!account || account.lockedOut) continue;
    const equity = equityOf(account, state);
    const { maxLossFloor } = floorsOf(account, configOf(state, account));
    if (equity - maxLossFloor > 1e-9) continue;
    events.push(...lockOut(account, accountId, at, equity, maxLossFloor, "max_loss"));
  }
  return events;
}

/**
 * Daily-loss breach: equity at or below the day's loss floor. A `soft` preset pauses entries
 * until the next reset (REDUCING); a `liquidate` one pauses them and orders every position
 * closed; a `hard` one locks the account out and flattens it.
 */
export function dailyLossBreaches(state: EngineState, accountIds: Iterable<AccountId>, at: number): EngineEvent[] {
  const events: EngineEvent[] = [];
  for (const accountId of new Set(accountIds)) {
    const account = state.accounts.get(accountId);
    if (!account || account.lockedOut) continue;
    const equity = equityOf(account, state);
    const config = configOf(state, account);
    const { dailyLossBreach } = config.accountRules;
    const { dailyLossFloor } = floorsOf(account, config);
    if (equity - dailyLossFloor > 1e-9) continue;
    if (dailyLossBreach === "hard") {
      events.push(...lockOut(account, accountId, at, equity, dailyLossFloor, "daily_loss"));
      continue;
    }
    // Once a day: the pause lasts until the reset. An operator's reduce-only before it does not
    // spare a liquidating preset's flatten.
    if (dailyLossBreach === "soft" ? account.reducing !== null : account.reducing?.cause === "daily_loss_limit") continue;
    events.push({
      type: "account.reducing",
      at,
      accountId,
      cause: "daily_loss_limit",
      untilReset: true,
      reason: `equity ${Number(equity.toFixed(2))} ${account.spec.currency} at or below the day's loss floor of ${Number(dailyLossFloor.toFixed(2))} ${account.spec.currency}${dailyLossBreach === "liquidate" ? ": positions liquidated" : ""}`,
      by: "engine",
    });
    if (dailyLossBreach === "liquidate") events.push(...flattenOrders(account, accountId, at));
  }
  return events;
}


/** Whether the account's equity is at or past a floor it is not locked out for, or its drawdown past the breaker's limit. */
export function atALimit(state: EngineState, accountId: AccountId): boolean {
  const account = state.accounts.get(accountId);
  if (!account) return false;
  const equity = equityOf(account, state);
  if (equity > limitEquityOf(state, account)) return false;
  const config = configOf(state, account);
  if (!account.lockedOut) {
    const { dailyLossFloor, maxLossFloor } = floorsOf(account, config);
    if (equity - maxLossFloor <= 1e-9 || equity - dailyLossFloor <= 1e-9) return true;
  }
  if (account.breakers.daily_drawdown.tripped || account.baseline <= 0) return false;
  return ((account.baseline - equity) / account.baseline) * 100 - config.breakers.dailyDrawdown.maxPct > 1e-9;
}

/**
 * Everything a move in equity may set off for `accountIds`, each step on the state the one
 * before left: the max-loss lock-out, the daily-loss breach, the daily drawdown breaker.
 */
export function lossChecks(state: EngineState, accountIds: Iterable<AccountId>, at: number, order: "as_given" | "by_id" = "as_given"): EngineEvent[] {
  return lossChecksFolded(state, accountIds, at, order).events;
}

/** `lossChecks`, with the state after its events. */
export function lossChecksFolded(state: EngineState, accountIds: Iterable<AccountId>, at: number, order: "as_given" | "by_id" = "as_given"): { events: EngineEvent[]; state: EngineState } {
  // One look at each account first (a price moves thousands of holders, nearly all far from
  // their floors); the checks below then run for those at or past a limit only. An account's
  // checks read only its own state, so leaving out the others changes nothing.
  const found: AccountId[] = [];
  const seen = new Set<AccountId>();
  for (const accountId of accountIds) {
    if (!atALimit(state, accountId) || seen.has(accountId)) continue;
    seen.add(accountId);
    found.push(accountId);
  }
  const ids = order === "by_id" ? inIdOrder(found) : found;
  const events: EngineEvent[] = [];
  let next = state;
  for (const check of [lockouts, dailyLossBreaches, drawdownTrips]) {
    const found = check(next, ids, at);
    events.push(...found);
    next = found.reduce(evolve, next);
  }
  return { events, state: next };
}
