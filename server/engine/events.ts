import { z } from "zod";
import { EngineConfig, RulesPatch } from "./config";
import { AccountId, IntentId, OrderId, PresetId, SymbolId } from "./ids";
import { Intent } from "./intent";
import { Side } from "./intent";
import {
  AccountSpec,
  Actor,
  CurrencyCode,
  BreakerKind,
  Decision,
  ExecutionFailure,
  FillTrigger,
  LatencySource,
  LossRule,
  OperatorReason,
  ReducingCause,
  ReviewOutcome,
  VetoReason,
} from "./types";

/**
 * Every input and every outcome is one of these events, appended to the ledger in processing
 * order. `at` is the event time in epoch milliseconds, supplied by the shell: the engine never
 * reads a clock. The schema is also how events are read back from the ledger.
 */
const at = z.number().int().nonnegative();

/** One level of an L2 book. */
export const BookLevel = z.strictObject({ price: z.number().positive(), size: z.number().nonnegative() });
export type BookLevel = z.infer<typeof BookLevel>;

/** An account's day baseline as snapshotted at the daily reset. */
export const BaselineSnapshot = z.strictObject({
  accountId: AccountId,
  baseline: z.number(),
  equity: z.number(),
  balance: z.number(),
  /** Equity was stale at the reset instant: the last known equity before it was used. */
  shadow: z.boolean(),
  /** Time of the oldest price marking an open position (null: nothing open, equity is the balance). */
  equityAsOf: at.nullable(),
  /** The highest equity the trailing max-loss floor follows, after this reset. */
  highWater: z.number(),
});
export type BaselineSnapshot = z.infer<typeof BaselineSnapshot>;

/**
 * A market request's prices at one time are one instant: they apply together, and only then is
 * equity marked (a trailing high-water mark raised, the floors checked). Every price of an
 * instant of several but its last is `deferred`; the last names every symbol the instant
 * repriced. A price alone in its instant carries neither (as every price recorded before this).
 */
const InstantFields = {
  /** More prices of the same instant follow: equity is marked after the last of them. */
  deferred: z.literal(true).optional(),
  /** The last price of an instant of several: every symbol the instant repriced. */
  instant: z.array(SymbolId).min(1).optional(),
};

/** A venue's execution id (FIX ExecID): printable ASCII, up to 64 characters. */
export const ExecId = z.string().regex(/^[\x21-\x7e]{1,64}$/, "printable ASCII without spaces, 1 to 64 characters");

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
    baselines: z.array(BaselineSnapshot),
  }),
  z.strictObject({ type: z.literal("market.tick"), at, symbol: SymbolId, price: z.number().positive(), ...InstantFields, by: Actor.optional() }),
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
    ...InstantFields,
    by: Actor.optional(),
  }),
  z.strictObject({
    type: z.literal("market.book"),
    at,
    symbol: SymbolId,
    /** Best first: bids by descending price, asks by ascending price. */
    bids: z.array(BookLevel).max(50),
    asks: z.array(BookLevel).max(50),
    by: Actor.optional(),
  }),
  z.strictObject({ type: z.literal("account.opened"), at, account: AccountSpec, by: Actor }),
  /**
   * The account decides under a preset's rules from now on: the figures the preset sets, laid
   * over the firm's rules. They are recorded (not only the preset's name), so replay needs
   * nothing but the ledger.
   */
  z.strictObject({
    type: z.literal("preset.activated"),
    at,
    accountId: AccountId,
    presetId: PresetId,
    version: z.number().int().positive(),
    rules: RulesPatch,
    reason: OperatorReason,
    by: Actor,
  }),
  /** `by`: who sent it through the API (absent for the engine's own and older events). */
  z.strictObject({ type: z.literal("intent.received"), at, intent: Intent, by: Actor.optional() }),
  z.strictObject({ type: z.literal("intent.decided"), at, decision: Decision }),
  /**
   * The deal memo of an intent (chaos, stress, hedges; server/advisory/memo.ts checks its shape
   * before it is recorded). Advisory: the engine folds nothing from it, and replay reuses the
   * reviewer's recorded verdict, never the memo.
   */
  z.strictObject({ type: z.literal("advisory.memo"), at, accountId: AccountId, intentId: IntentId, memo: z.record(z.string(), z.unknown()) }),
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
    equity: z.number(),
    floor: z.number(),
    rule: LossRule.default("max_loss"),
    /** The currency of `equity` and `floor` (the account's), when it is not USD. */
    currency: CurrencyCode.optional(),
  }),
  z.strictObject({
    /** The account takes only exposure-reducing intents from now on. */
    type: z.literal("account.reducing"),
    at,
    accountId: AccountId,
    cause: ReducingCause,
    /** The next daily reset ends it (a soft breach); otherwise only an operator does. */
    untilReset: z.boolean(),
    reason: z.string().min(1).max(500),
    by: Actor,
  }),
  z.strictObject({ type: z.literal("account.reducing_ended"), at, accountId: AccountId, reason: OperatorReason, by: Actor }),
  z.strictObject({
    /** Entries on one side (BUY: new longs, SELL: new shorts) are locked for the whole account. */
    type: z.literal("side.locked"),
    at,
    accountId: AccountId,
    side: Side,
    reason: VetoReason,
    note: z.string().max(500),
    expiresAt: at.nullable(),
    valueAtTrigger: z.number().nullable(),
    by: Actor,
  }),
  z.strictObject({ type: z.literal("side.unlocked"), at, accountId: AccountId, side: Side, reason: OperatorReason, by: Actor }),
  z.strictObject({
    /** The external reviewer's verdict on an intent, recorded before its decision (replay reuses it). */
    type: z.literal("reviewer.verdict"),
    at,
    accountId: AccountId,
    intentId: IntentId,
    outcome: ReviewOutcome,
  }),
  z.strictObject({ type: z.literal("account.reopened"), at, accountId: AccountId, reason: OperatorReason, by: Actor }),
  z.strictObject({
    /**
     * An instruction to close a position in full: the engine's, on a lock-out (no `by`), or an
     * operator's "flatten now" (`by` and `reason`); the account's execution path carries it out.
     */
    type: z.literal("flatten.ordered"),
    at,
    accountId: AccountId,
    symbol: SymbolId,
    side: Side,
    quantity: z.number().positive(),
    by: Actor.optional(),
    reason: OperatorReason.optional(),
  }),
  z.strictObject({
    /** An order entered the queue: from an allowed intent, or from a flatten instruction. */
    type: z.literal("order.queued"),
    at,
    orderId: OrderId,
    accountId: AccountId,
    intentId: IntentId.nullable(),
    symbol: SymbolId,
    side: Side,
    quantity: z.number().positive(),
    /** entry: adds exposure (OPEN, SCALE); exit: CLOSE; flatten: a FLATTEN intent or a lock-out's instruction. */
    kind: z.enum(["entry", "exit", "flatten"]),
    limitPrice: z.number().positive().nullable(),
    slPrice: z.number().positive().nullable(),
    tpPrice: z.number().positive().nullable(),
  }),
  z.strictObject({
    /** A newer order for the same account and symbol replaced this one before it was sent. */
    type: z.literal("order.superseded"),
    at,
    orderId: OrderId,
    accountId: AccountId,
    byOrderId: OrderId,
  }),
  z.strictObject({ type: z.literal("order.sent"), at, orderId: OrderId, accountId: AccountId, venue: z.string().min(1).max(64) }),
  z.strictObject({
    type: z.literal("order.acknowledged"),
    at,
    orderId: OrderId,
    accountId: AccountId,
    /** From sending to the venue's acknowledgement. */
    latencyMs: z.number().nonnegative(),
  }),
  z.strictObject({ type: z.literal("order.cancelled"), at, orderId: OrderId, accountId: AccountId, reason: z.string().min(1).max(500) }),
  z.strictObject({
    type: z.literal("execution.filled"),
    at,
    accountId: AccountId,
    orderId: OrderId.optional(),
    intentId: IntentId.nullable(),
    symbol: SymbolId,
    side: Side,
    quantity: z.number().positive(),
    price: z.number().positive(),
    feeUsd: z.number().nonnegative(),
    by: Actor.optional(),
    trigger: FillTrigger,
    /** Set on an admin's correction: a fill booked without the order it fills, and why. */
    correction: z.string().min(1).max(500).optional(),
    /**
     * Units of the account's currency per unit of the instrument's quote currency at the fill,
     * when they differ (USDJPY at 151 in a USD account: 1/151): the rate the fill was booked at.
     */
    accountPerQuote: z.number().positive().optional(),
    /** The same, as fills recorded before accounts had a currency (all USD) carry it; read, never written. */
    usdPerQuote: z.number().positive().optional(),
    /** The venue's execution id, unique per account: a fill reported again under it is not booked again. */
    execId: ExecId.optional(),
  }),
  z.strictObject({
    type: z.literal("execution.failed"),
    at,
    accountId: AccountId,
    orderId: OrderId.optional(),
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

/**
 * An event as stored before money fields were named for the account's currency (issue 18): the
 * day's baselines and a lock-out carried `…Usd` names (every account was in USD then). Ledgers
 * on disk keep them; the readers (the ledger, the NDJSON format) pass every stored payload through
 * here before parsing, so old and new ledgers fold alike. Anything else is returned as it is.
 * Lines naming the old fields are marked for the rename script, which leaves them alone.
 */
const LEGACY_BASELINE: readonly (readonly [string, string])[] = [
  ["baselineUsd", "baseline"], // legacy-usd-name
  ["equityUsd", "equity"], // legacy-usd-name
  ["balanceUsd", "balance"], // legacy-usd-name
  ["highWaterUsd", "highWater"], // legacy-usd-name
];
const LEGACY_LOCKED_OUT: readonly (readonly [string, string])[] = [
  ["equityUsd", "equity"], // legacy-usd-name
  ["floorUsd", "floor"], // legacy-usd-name
];

/**
 * A deal memo (`advisory.memo`) as recorded before its money fields were named for the account's
 * currency: the stress report's, the chaos report's and the hedges' `…Usd` names.
 */
const LEGACY_STRESS_REPORT: readonly (readonly [string, string])[] = [["notionalUsd", "notional"]]; // legacy-usd-name
const LEGACY_CRISIS: readonly (readonly [string, string])[] = [
  ["worstPnlUsd", "worstPnl"], // legacy-usd-name
  ["endPnlUsd", "endPnl"], // legacy-usd-name
  ["worstDayPnlUsd", "worstDayPnl"], // legacy-usd-name
];
const LEGACY_CHAOS_REPORT: readonly (readonly [string, string])[] = [
  ["distanceToDailyFloorUsd", "distanceToDailyFloor"], // legacy-usd-name
  ["distanceToMaxFloorUsd", "distanceToMaxFloor"], // legacy-usd-name
];
const LEGACY_PATH_TYPE: readonly (readonly [string, string])[] = [
  ["endLossUsd", "endLoss"], // legacy-usd-name
  ["peakLossUsd", "peakLoss"], // legacy-usd-name
];
const LEGACY_HEDGE: readonly (readonly [string, string])[] = [
  ["premiumUsd", "premium"], // legacy-usd-name
  ["maxLossUsd", "maxLoss"], // legacy-usd-name
  ["maxGainUsd", "maxGain"], // legacy-usd-name
];

const isRecord = (value: unknown): value is Record<string, unknown> => !!value && typeof value === "object" && !Array.isArray(value);

/** `record[key]` passed through `upgrade`, when it is an object; the record as it is otherwise (no copy when nothing changes). */
function withPart(record: Record<string, unknown>, key: string, upgrade: (part: Record<string, unknown>) => unknown): Record<string, unknown> {
  const part = record[key];
  if (!isRecord(part)) return record;
  const upgraded = upgrade(part);
  return upgraded === part ? record : { ...record, [key]: upgraded };
}

/** A memo with the names of before read as today's; one written since is returned as it is. */
function upgradeMemo(memo: Record<string, unknown>): Record<string, unknown> {
  let upgraded = withPart(memo, "stress", (stress) =>
    withPart(stress, "report", (report) => {
      const renamed = renamedKeys(report, LEGACY_STRESS_REPORT) as Record<string, unknown>;
      return Array.isArray(renamed.results) && renamed.results.some((result) => isRecord(result) && Object.hasOwn(result, "worstPnlUsd")) // legacy-usd-name
        ? { ...renamed, results: renamed.results.map((result) => renamedKeys(result, LEGACY_CRISIS)) }
        : renamed;
    }),
  );
  upgraded = withPart(upgraded, "chaos", (chaos) =>
    withPart(chaos, "report", (report) => {
      const renamed = renamedKeys(report, LEGACY_CHAOS_REPORT) as Record<string, unknown>;
      return withPart(renamed, "byPathType", (byPathType) => {
        if (!Object.values(byPathType).some((types) => isRecord(types) && Object.hasOwn(types, "peakLossUsd"))) return byPathType; // legacy-usd-name
        return Object.fromEntries(Object.entries(byPathType).map(([type, report]) => [type, renamedKeys(report, LEGACY_PATH_TYPE)]));
      });
    }),
  );
  return withPart(upgraded, "hedging", (hedging) =>
    Array.isArray(hedging.hedges) && hedging.hedges.some((hedge) => isRecord(hedge) && Object.hasOwn(hedge, "premiumUsd")) // legacy-usd-name
      ? { ...hedging, hedges: hedging.hedges.map((hedge) => renamedKeys(hedge, LEGACY_HEDGE)) }
      : hedging,
  );
}

function renamedKeys(value: unknown, names: readonly (readonly [string, string])[]): unknown {
  if (!value || typeof value !== "object" || Array.isArray(value)) return value;
  const record = value as Record<string, unknown>;
  if (!names.some(([old]) => Object.hasOwn(record, old))) return value;
  const renamed: Record<string, unknown> = { ...record };
  for (const [old, name] of names) {
    if (!Object.hasOwn(renamed, old) || Object.hasOwn(renamed, name)) continue;
    renamed[name] = renamed[old];
    delete renamed[old];
  }
  return renamed;
}

/** A stored event payload (with its `type`) with the names of before issue 18 (and of deal memos before their follow-up) read as today's. */
export function upgradeStoredEvent(payload: unknown): unknown {
  if (!payload || typeof payload !== "object" || Array.isArray(payload)) return payload;
  const event = payload as Record<string, unknown>;
  if (event.type === "day.started" && Array.isArray(event.baselines)) {
    return { ...event, baselines: event.baselines.map((baseline) => renamedKeys(baseline, LEGACY_BASELINE)) };
  }
  if (event.type === "account.locked_out") return renamedKeys(event, LEGACY_LOCKED_OUT);
  if (event.type === "advisory.memo") return withPart(event, "memo", upgradeMemo);
  return payload;
}

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
    case "preset.activated":
    case "breaker.tripped":
    case "breaker.reset":
    case "veto.added":
    case "veto.cleared":
    case "account.locked_out":
    case "account.reopened":
    case "account.reducing":
    case "account.reducing_ended":
    case "side.locked":
    case "side.unlocked":
    case "reviewer.verdict":
    case "advisory.memo":
    case "order.queued":
    case "order.superseded":
    case "order.sent":
    case "order.acknowledged":
    case "order.cancelled":
    case "flatten.ordered":
    case "execution.filled":
    case "execution.failed":
    case "latency.observed":
      return event.accountId;
  }
}

/** The events of the execution path that only the queue and the venue produce. */
export type OrderEvent = Extract<EngineEvent, { type: `order.${string}` }>;
