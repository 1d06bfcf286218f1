import { nextResetAt } from "./calendar";
import type { EngineConfig } from "./config";
import type { EngineEvent } from "./events";
import type { AccountState, EngineState } from "./state";
import type { BreakerKind } from "./types";

/**
 * The circuit breakers' rules (SPEC section 4), pure. The engine trips `execution_failures` and
 * `latency` itself; they reset themselves when their cooldown has passed (on a clock advance).
 * `manual` trips and resets only by an operator.
 */
export type ResetPolicy = "manual_only" | "auto_after_cooldown" | "auto_when_healthy";

export const resetPolicies: Record<BreakerKind, ResetPolicy> = {
  manual: "manual_only",
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
  for (const [accountId, account] of state.accounts) {
    for (const kind of ["execution_failures", "latency"] as const) {
      const due = autoResetAt(kind, account, state.config);
      if (due !== null && due <= at) {
        events.push({ type: "breaker.reset", at, accountId, breaker: kind, reason: "cooldown passed: automatic reset", by: "engine" });
      }
    }
  }
  return events;
}

/** The next instant at which the clock must advance: a daily reset or an automatic breaker reset. */
export function nextDeadline(state: EngineState, now: number): number {
  let deadline = nextResetAt(now, state.config.dailyReset);
  for (const account of state.accounts.values()) {
    for (const kind of ["execution_failures", "latency"] as const) {
      const due = autoResetAt(kind, account, state.config);
      if (due !== null) deadline = Math.min(deadline, due);
    }
  }
  return deadline;
}
