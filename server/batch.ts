import type { Command, Rejection } from "./engine/decide";
import { decide } from "./engine/decide";
import type { EngineState } from "./engine/state";
import { evolve } from "./engine/state";
import { AppError } from "./errors";
import type { AppendEntry } from "./ledger";
import type { RuntimeMetrics } from "./metrics";
import { checkPriceBands } from "./price-band";

/**
 * One group commit in the making: commands decided one after another against a working state
 * that folds each one's events, and the events to append. Nothing here is visible outside the
 * runtime until the append commits.
 */
export class Batch {
  readonly entries: AppendEntry[] = [];
  /** Seqs of the batch's intent keys already in the ledger. */
  earlier = new Map<string, number>();

  constructor(
    public state: EngineState,
    private readonly metrics: RuntimeMetrics | null,
    /** Prices checked against the band (a live server; not a backtest). */
    private readonly priceBands = false,
  ) {}

  /** Decides `command` and folds its events; the range of `entries` they occupy. */
  decide(command: Command, idempotencyKey?: string): { from: number; to: number } {
    if (this.priceBands) checkPriceBands(command, this.state, this.metrics);
    const started = performance.now();
    const decided = decide(command, this.state);
    if (command.type === "SubmitIntent") this.metrics?.observeEvaluation((performance.now() - started) / 1_000);
    if (!decided.ok) throw rejectionError(decided.rejection);
    // JSON has no NaN or Infinity: an event holding one would be stored as null and could not be
    // read back. Such a command is refused (fail closed) and nothing of it is recorded.
    // (The walk that names the path runs only when a quick scan found one.)
    const broken = decided.events.some(hasNonFinite) ? decided.events.map((event) => nonFinitePath(event)).find((path) => path !== null) : null;
    if (broken) {
      throw new AppError("validation_failed", `the values are out of range: ${command.type} would record a non-finite number at ${broken}`, [
        { path: "(body)", message: "values out of range" },
      ]);
    }
    const from = this.entries.length;
    const { after } = decided;
    decided.events.forEach((event, index) => {
      this.entries.push(index === 0 && idempotencyKey ? { event, idempotencyKey } : { event });
      if (!after) this.state = evolve(this.state, event);
    });
    if (after) this.state = after;
    return { from, to: this.entries.length };
  }

  /** Where the batch stands: its events so far and their fold; `rollback` takes it back there. */
  checkpoint(): { entries: number; state: EngineState } {
    return { entries: this.entries.length, state: this.state };
  }

  /**
   * Drops the events decided since `checkpoint` and their fold (the state is immutable, so the
   * one kept is as it was): a job refused midway leaves nothing of itself in the batch.
   */
  rollback(checkpoint: { entries: number; state: EngineState }): void {
    this.entries.length = checkpoint.entries;
    this.state = checkpoint.state;
  }
}

/** Whether `value` holds a NaN or ±Infinity anywhere. */
function hasNonFinite(value: unknown): boolean {
  if (typeof value === "number") return !Number.isFinite(value);
  if (value === null || typeof value !== "object") return false;
  if (Array.isArray(value)) {
    for (const item of value) if (hasNonFinite(item)) return true;
    return false;
  }
  for (const key in value) if (hasNonFinite((value as Record<string, unknown>)[key])) return true;
  return false;
}

/** Where in `value` a NaN or ±Infinity sits (`decision.observed`), or null. */
function nonFinitePath(value: unknown, path = ""): string | null {
  if (typeof value === "number") return Number.isFinite(value) ? null : path || "(value)";
  if (value === null || typeof value !== "object") return null;
  for (const [key, item] of Object.entries(value)) {
    const found = nonFinitePath(item, path ? `${path}.${key}` : key);
    if (found) return found;
  }
  return null;
}

function rejectionError(rejection: Rejection): AppError {
  switch (rejection.code) {
    case "unknown_account":
      return new AppError("not_found", `no account ${rejection.accountId}`);
    case "account_exists":
      return new AppError("conflict", `account ${rejection.accountId} already exists`);
    case "breaker_already_tripped":
      return new AppError("conflict", `the ${rejection.breaker} breaker of ${rejection.accountId} is already tripped`);
    case "breaker_not_tripped":
      return new AppError("conflict", `the ${rejection.breaker} breaker of ${rejection.accountId} is not tripped`);
    case "symbol_already_locked":
      return new AppError("conflict", `${rejection.symbol} is already locked for ${rejection.accountId}`);
    case "symbol_not_locked":
      return new AppError("conflict", `${rejection.symbol} is not locked for ${rejection.accountId}`);
    case "lock_already_expired":
      return new AppError("conflict", `the lock of ${rejection.symbol} would expire before it starts`);
    case "not_locked_out":
      return new AppError("conflict", `${rejection.accountId} is not locked out`);
    case "nothing_to_flatten":
      return new AppError("conflict", `${rejection.accountId} holds no position: there is nothing to flatten`);
    case "bar_out_of_order": {
      const path = `bars.${rejection.barIndex}.closedAt`;
      const message = `a ${rejection.symbol} bar must close after the previous one (${new Date(rejection.lastBarAt).toISOString()})`;
      return new AppError("validation_failed", `${path}: ${message}`, [{ path, message }]);
    }
    case "unknown_order":
      return new AppError("not_found", `no open order ${rejection.orderId}`);
    case "order_exists":
      return new AppError("conflict", `order ${rejection.orderId} already exists`);
    case "already_reducing":
      return new AppError("conflict", `${rejection.accountId} is already reduce-only`);
    case "not_reducing":
      return new AppError("conflict", `${rejection.accountId} is not reduce-only`);
    case "side_not_locked":
      return new AppError("conflict", `${rejection.side} entries are not locked for ${rejection.accountId}`);
    case "unknown_instrument":
      return new AppError("validation_failed", `symbol: ${rejection.symbol} is not a configured instrument`, [
        { path: "symbol", message: `${rejection.symbol} is not a configured instrument` },
      ]);
    case "breaker_not_manual":
      return new AppError("conflict", `only the manual breaker can be tripped by hand; ${rejection.breaker} trips itself`);
    case "no_conversion_rate": {
      const path = `fills.${rejection.fillIndex}.symbol`;
      const message = `${rejection.symbol} is quoted in ${rejection.currency}, and no price of ${rejection.needs} converts it to USD yet: send one to the market feed first`;
      return new AppError("validation_failed", `${path}: ${message}`, [{ path, message }]);
    }
    case "fill_unmatched":
      return new AppError("validation_failed", `${rejection.path}: ${rejection.message}`, [{ path: rejection.path, message: rejection.message }]);
    case "correction_without_reason":
      return new AppError("validation_failed", "correction.reason: a correction needs a reason", [{ path: "correction.reason", message: "a correction needs a reason" }]);
    case "firm_already_halted":
      return new AppError("conflict", "the firm is already halted");
    case "firm_not_halted":
      return new AppError("conflict", "the firm is not halted");
  }
}
