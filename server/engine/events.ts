import { z } from "zod";
import { EngineConfig } from "./config";
import { AccountId, IntentId, SymbolId } from "./ids";
import { Intent } from "./intent";
import { Side } from "./intent";
import { AccountSpec, Actor, BreakerKind, Decision, ExecutionFailure, FillTrigger, LatencySource, OperatorReason, VetoReason } from "./types";

/**
 * Every input and every outcome is one of these events, appended to the ledger in processing
 * order. `at` is the event time in epoch milliseconds, supplied by the shell: the engine never
 * reads a clock. The schema is also how events are read back from the ledger.
 */
const at = z.number().int().nonnegative();

/** One level of an L2 book. */
export const BookLevel = z.strictObject({ price: z.number().positive(), size: z.number().nonnegative() });
export type BookLevel = z.infer<typeof BookLevel>;

export const EngineEvent = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("config.applied"), at, config: EngineConfig, by: Actor }),
  z.strictObject({ type: z.literal("firm.halted"), at, reason: OperatorReason, by: Actor }),
  z.strictObject({ type: z.literal("firm.resumed"), at, reason: OperatorReason, by: Actor }),
  z.strictObject({
    type: z.literal("day.started"),
    at,
    /** The reset instant that opened the day (at or before `at`). */
    resetAt: at,
    tradingDay: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  }),
  z.strictObject({ type: z.literal("market.tick"), at, symbol: SymbolId, price: z.number().positive() }),
  z.strictObject({
    type: z.literal("market.bar"),
    /** The bar's close time. */
    at,
    symbol: SymbolId,
    open: z.number().positive(),
    high: z.number().positive(),
    low: z.number().positive(),
    close: z.number().positive(),
    volume: z.number().nonnegative(),
  }),
  z.strictObject({
    type: z.literal("market.book"),
    at,
    symbol: SymbolId,
    /** Best first: bids by descending price, asks by ascending price. */
    bids: z.array(BookLevel).max(50),
    asks: z.array(BookLevel).max(50),
  }),
  z.strictObject({ type: z.literal("account.opened"), at, account: AccountSpec, by: Actor }),
  z.strictObject({ type: z.literal("intent.received"), at, intent: Intent }),
  z.strictObject({ type: z.literal("intent.decided"), at, decision: Decision }),
  z.strictObject({
    type: z.literal("breaker.tripped"),
    at,
    accountId: AccountId,
    breaker: BreakerKind,
    reason: OperatorReason,
    by: Actor,
  }),
  z.strictObject({
    type: z.literal("veto.added"),
    at,
    accountId: AccountId,
    symbol: SymbolId,
    reason: VetoReason,
    note: z.string().max(500),
    /** Epoch ms when the lock ends by itself; null = until the next daily reset. */
    expiresAt: at.nullable(),
    valueAtTrigger: z.number().nullable(),
    by: Actor,
  }),
  z.strictObject({
    type: z.literal("veto.cleared"),
    at,
    accountId: AccountId,
    symbol: SymbolId,
    reason: OperatorReason,
    by: Actor,
  }),
  z.strictObject({
    type: z.literal("account.locked_out"),
    at,
    accountId: AccountId,
    equityUsd: z.number(),
    floorUsd: z.number(),
  }),
  z.strictObject({ type: z.literal("account.reopened"), at, accountId: AccountId, reason: OperatorReason, by: Actor }),
  z.strictObject({
    /** An instruction to close a position in full (max-loss breach); the execution path carries it out. */
    type: z.literal("flatten.ordered"),
    at,
    accountId: AccountId,
    symbol: SymbolId,
    side: Side,
    quantity: z.number().positive(),
  }),
  z.strictObject({
    type: z.literal("execution.filled"),
    at,
    accountId: AccountId,
    intentId: IntentId.nullable(),
    symbol: SymbolId,
    side: Side,
    quantity: z.number().positive(),
    price: z.number().positive(),
    feeUsd: z.number().nonnegative(),
    trigger: FillTrigger,
  }),
  z.strictObject({
    type: z.literal("execution.failed"),
    at,
    accountId: AccountId,
    symbol: SymbolId,
    intentId: IntentId.nullable(),
    failure: ExecutionFailure,
    detail: z.string().max(500),
  }),
  z.strictObject({
    type: z.literal("latency.observed"),
    at,
    accountId: AccountId,
    latencyMs: z.number().nonnegative(),
    source: LatencySource,
  }),
  z.strictObject({
    type: z.literal("breaker.reset"),
    at,
    accountId: AccountId,
    breaker: BreakerKind,
    reason: OperatorReason,
    by: Actor,
  }),
]);
export type EngineEvent = z.infer<typeof EngineEvent>;
export type EventType = EngineEvent["type"];

/** The stream (ledger `stream_id`) an event belongs to: its account, a market, or the engine. */
export function streamOf(event: EngineEvent): string {
  switch (event.type) {
    case "config.applied":
    case "day.started":
      return "engine";
    case "firm.halted":
    case "firm.resumed":
      return "firm";
    case "market.tick":
    case "market.book":
    case "market.bar":
      return `market:${event.symbol}`;
    case "account.opened":
      return event.account.accountId;
    case "intent.received":
      return event.intent.accountId;
    case "intent.decided":
      return event.decision.accountId;
    case "breaker.tripped":
    case "breaker.reset":
    case "veto.added":
    case "veto.cleared":
    case "account.locked_out":
    case "account.reopened":
    case "flatten.ordered":
    case "execution.filled":
    case "execution.failed":
    case "latency.observed":
      return event.accountId;
  }
}
