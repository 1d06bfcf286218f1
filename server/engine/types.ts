import { z } from "zod";
import { AccountId, IntentId, PresetId } from "./ids";
import { ISO_CURRENCIES } from "./currency";

/**
 * Trading state of an account (SPEC section 2), derived, most severe first: LOCKED_OUT (a hard
 * loss breach; only a reopen clears it), HALTED (a breaker or the firm halt), REDUCING (only
 * exposure-reducing intents: a soft daily-loss breach until the next reset, or an operator),
 * ACTIVE.
 */
export const TradingState = z.enum(["ACTIVE", "REDUCING", "HALTED", "LOCKED_OUT"]);
export type TradingState = z.infer<typeof TradingState>;

/**
 * Circuit breakers (SPEC section 4). `manual` is tripped and reset by operators only;
 * `execution_failures` and `latency` are tripped by the engine and reset themselves after their
 * cooldown (an operator may reset them sooner).
 */
export const BreakerKind = z.enum(["manual", "daily_drawdown", "execution_failures", "latency"]);
export type BreakerKind = z.infer<typeof BreakerKind>;

/** Names of the guards in the chain, in chain order (see guards.ts). */
export const GuardName = z.enum([
  "trading_state",
  "parameter_validity",
  "veto_registry",
  "throttle",
  "price_sanity",
  "liquidity",
  "microstructure",
  "max_daily_loss",
  "max_loss",
  "daily_risk_quota",
  "cluster_cap",
  "sector_cap",
  "benchmark_correlation",
  "position_correlation",
  "cvar",
  "kelly_sizing",
  "vol_target",
  "reviewer",
]);
export type GuardName = z.infer<typeof GuardName>;

/** Closed set of denial reasons. A denial never carries a bare string. */
export const DenialReason = z.enum([
  "trading_halted",
  "firm_halted",
  "locked_out",
  "reduce_only",
  "daily_loss_limit",
  "max_loss_limit",
  "risk_quota_exceeded",
  "cluster_cap_exceeded",
  "sector_cap_exceeded",
  "non_finite_input",
  "unknown_instrument",
  "nothing_to_close",
  "stop_on_wrong_side",
  "target_on_wrong_side",
  "price_precision",
  "quantity_precision",
  "quantity_below_minimum",
  "symbol_locked",
  "side_locked",
  "throttled",
  "order_notional_exceeded",
  "no_price",
  "stale_price",
  "price_deviation",
  "illiquid",
  "stale_book",
  "order_book_imbalance",
  "opposing_wall",
  "insufficient_history",
  "correlated_with_benchmark",
  "correlated_with_position",
  "cvar_exceeded",
  "missing_stats",
  "negative_edge",
  "no_stop",
  "reviewer_veto",
  "review_unavailable",
]);
export type DenialReason = z.infer<typeof DenialReason>;

export const ExecutionFailure = z.enum(["rejected", "timeout"]);

/** What made a fill happen: the order itself, or a protective order at the venue. */
export const FillTrigger = z.enum(["order", "stop_loss", "take_profit", "liquidation"]);
export type FillTrigger = z.infer<typeof FillTrigger>;
export type ExecutionFailure = z.infer<typeof ExecutionFailure>;

export const LatencySource = z.enum(["venue_ack", "processing"]);
export type LatencySource = z.infer<typeof LatencySource>;

/** Why a symbol is locked in an account's veto registry. */
export const VetoReason = z.enum(["manual", "stop_loss_hit", "exit_cooldown", "stop_loss_streak"]);
export type VetoReason = z.infer<typeof VetoReason>;

/** Who did something: an authenticated principal, or the system itself. */
export const Actor = z.string().min(1).max(128);
export type Actor = z.infer<typeof Actor>;

/** A human reason for an operator action, required on trips, resets and unlocks. */
export const OperatorReason = z.string().trim().min(3, "give a reason of at least 3 characters").max(500);

const observedValue = z.union([z.number(), z.string()]).nullable();

export const Decision = z.discriminatedUnion("outcome", [
  z.strictObject({
    intentId: IntentId,
    accountId: AccountId,
    outcome: z.literal("allowed"),
    /** Units approved: the requested size, or less where a sizing guard capped it; null for FLATTEN. */
    approvedQuantity: z.number().nonnegative().nullable(),
    /** The stop the size was computed with: the intent's, or an ATR-derived one. */
    stopPrice: z.number().positive().optional(),
    /** The loss if that stop filled at the approved size (counts against the daily risk quota). */
    riskAtStopUsd: z.number().nonnegative().optional(),
    guard: z.null(),
    reason: z.null(),
    observed: z.null(),
    limit: z.null(),
    advisories: z.array(z.string()),
  }),
  z.strictObject({
    intentId: IntentId,
    accountId: AccountId,
    outcome: z.literal("denied"),
    approvedQuantity: z.literal(0),
    guard: GuardName,
    reason: DenialReason,
    observed: observedValue,
    limit: observedValue,
    /** What the observed value refers to, where the reason alone does not say (e.g. the correlated position). */
    detail: z.string().max(200).optional(),
    advisories: z.array(z.string()),
  }),
]);
export type Decision = z.infer<typeof Decision>;
export type DeniedDecision = Extract<Decision, { outcome: "denied" }>;

/** An ISO 4217 currency code in use (the list in currency.ts): an account's currency, a preset's. */
export const CurrencyCode = z
  .string()
  .refine((code) => ISO_CURRENCIES.has(code), { message: "an ISO 4217 currency code in use, e.g. USD or EUR" });

export const AccountSpec = z.strictObject({
  accountId: AccountId,
  name: z.string().trim().min(1).max(120),
  presetId: PresetId,
  initialBalanceUsd: z.number().positive().max(1e12),
  /**
   * Where the account's allowed orders go: Riskgate's own execution path to the simulated venue,
   * or a trading stack outside Riskgate that reports its fills (`POST /api/v1/executions`).
   */
  execution: z.enum(["simulated", "external"]).default("external"),
  /**
   * The currency the account's money is in: balance, equity, floors, P/L, fees, notional and
   * risk, each converted from the instrument's quote currency (server/engine/currency.ts).
   * Accounts opened before currencies were recorded are USD accounts.
   */
  currency: CurrencyCode.default("USD"),
});
export type AccountSpec = z.infer<typeof AccountSpec>;

/**
 * An account as a caller asks to open it (the API, a bulk open): its currency may be left out,
 * and is then its preset's (when the preset states one), else USD; the opening records it.
 */
export const AccountRequest = AccountSpec.extend({ currency: CurrencyCode.optional() });
export type AccountRequest = z.infer<typeof AccountRequest>;

/** Why an account is REDUCING: a soft daily-loss breach (until the next reset) or an operator. */
export const ReducingCause = z.enum(["daily_loss_limit", "manual"]);
export type ReducingCause = z.infer<typeof ReducingCause>;

/** Which loss rule locked an account out. */
export const LossRule = z.enum(["max_loss", "daily_loss"]);
export type LossRule = z.infer<typeof LossRule>;

/**
 * What the external reviewer (guard 18, "red team") said about an intent the chain allowed: a
 * verdict, or a failure (timeout, malformed answer, no reviewer). Recorded as an event before
 * the decision, so replay uses it and never calls out.
 */
export const ReviewOutcome = z.discriminatedUnion("status", [
  z.strictObject({
    status: z.literal("verdict"),
    reviewer: z.string().min(1).max(120),
    veto: z.boolean(),
    killReason: z.string().max(500).nullable(),
    riskFlags: z.array(z.string().max(200)).max(50),
  }),
  z.strictObject({ status: z.literal("failed"), reviewer: z.string().min(1).max(120), detail: z.string().max(500) }),
]);
export type ReviewOutcome = z.infer<typeof ReviewOutcome>;
