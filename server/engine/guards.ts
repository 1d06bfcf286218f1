import type { EngineConfig, Instrument } from "./config";
import type { Conversion, Rate } from "./currency";
import { pairNeeded } from "./currency";
import type { Intent } from "./intent";
import { reducesExposure } from "./intent";
import type { AccountState, EngineState, FirmHalt, MarketState } from "./state";
import { activeSideLock, activeVeto, floorsOf, pairOf, THROTTLE_WINDOW_MS, tradingStateOf } from "./state";
import type { Exposure, GroupExposure } from "./exposure";
import { clusterOf } from "./exposure";
import type { Correlation } from "./market-stats";
import { correlationOf, tailLossPerUnit } from "./market-stats";
import type { DenialReason, GuardName, ReviewOutcome } from "./types";
import { BreakerKind as BreakerKinds } from "./types";

/** The reviewer's outcome for guard 18; null when none was obtained; "skip" to leave the reviewer out. */
export type Review = ReviewOutcome | null | "skip";

/**
 * The guard chain (SPEC section 3), read top to bottom: ordered cheapest first, first denial
 * wins. Guards only read; the market statistics they need were folded into the state when the
 * data arrived. The halt, parameter validity and the loss floors cannot be switched off; the
 * others can, in `config.guards`.
 *
 * Exposure-reducing intents (CLOSE, FLATTEN) are checked by `parameter_validity` only: they
 * must name a known instrument with finite numbers and close a position (a SELL a long, a BUY a
 * short); their size is cut to the position (decide.ts). They pass halts, vetoes, the throttle,
 * price, liquidity and book checks, so a position can always be exited, and never more. A limit
 * is broken when the observed value is strictly above it, except where a guard says otherwise.
 */
export type GuardContext = {
  readonly state: EngineState;
  readonly intent: Intent;
  readonly account: AccountState;
  readonly firmHalt: FirmHalt | null;
  readonly config: EngineConfig;
  readonly instrument: Instrument | undefined;
  readonly market: MarketState | undefined;
  /**
   * Units of the account's currency per unit of the instrument's quote currency (1 when they are
   * the same), from the last prices (currency.ts); null when no price converts it. `rate` is
   * where it came from (null when no conversion is needed).
   */
  readonly accountPerQuote: number | null;
  readonly conversion: Conversion;
  readonly rate: Rate | null;
  /** Decision time (epoch ms), from the command: the engine has no clock. */
  readonly now: number;
  /** The account's equity at the last prices. */
  readonly equity: number;
  /** The account's gross exposure per symbol, cluster and sector at the last prices. */
  readonly exposure: Exposure;
  readonly review: Review;
  /**
   * Set only when a decision is explained (never on the decision path): a guard that passes
   * reports the figures it judged, each with its limit.
   */
  readonly measure?: Measure;
};

/** A figure a guard judged and the limit it held it to, for the explanation of a decision. */
export type Measure = (what: string, observed: number | string | null, limit: number | string | null) => void;

export type Denial = {
  readonly reason: DenialReason;
  readonly observed: number | string | null;
  readonly limit: number | string | null;
  readonly detail?: string;
};

/** A sizing guard may allow a smaller size instead of denying. */
export type Cap = { readonly cap: number; readonly note: string; readonly stopPrice?: number };

/** A guard may pass with a note that travels with the decision (the reviewer's risk flags). */
export type Advice = { readonly note: string };

/**
 * A guard returns null to pass, a denial, (sizing guards) a cap on the size, or a note. A guard
 * with `enabled` can be switched off by the configuration; one without it always runs.
 */
export type Guard = {
  readonly name: GuardName;
  readonly enabled?: (config: EngineConfig) => boolean;
  readonly check: (ctx: GuardContext) => Denial | Cap | Advice | null;
};

function deny(reason: DenialReason, observed: Denial["observed"], limit: Denial["limit"], detail?: string): Denial {
  return detail === undefined ? { reason, observed, limit } : { reason, observed, limit, detail };
}

/** The price an order would trade at: its limit, else the strategy's reference, else the last price. */
export function orderPrice(ctx: Pick<GuardContext, "intent" | "market">): number | null {
  return ctx.intent.limitPrice ?? ctx.intent.referencePrice ?? ctx.market?.lastPrice ?? null;
}

/**
 * Order size in instrument units: the quantity, or the target weight of equity at the order
 * price, rounded down to the instrument's lot step.
 */
export function orderQuantity(ctx: GuardContext): number | null {
  if (ctx.intent.quantity !== undefined) return ctx.intent.quantity;
  const price = orderPrice(ctx);
  if (ctx.intent.targetWeight === undefined || price === null || !ctx.instrument || ctx.accountPerQuote === null) return null;
  return roundedToLot((Math.abs(ctx.intent.targetWeight) * ctx.equity) / (price * ctx.instrument.contractSize * ctx.accountPerQuote), ctx.instrument);
}

/** `value / step` off a whole number by no more than floating-point noise (0.07 / 0.01 is 7.000000000000001). */
function stepNoise(steps: number): number {
  return Math.max(1e-9, Math.abs(steps) * 1e-14);
}

/** Whether `value` is a whole number of `step`s, ignoring floating-point noise. */
export function onStep(value: number, step: number): boolean {
  const steps = value / step;
  return Math.abs(steps - Math.round(steps)) <= stepNoise(steps);
}

/** `quantity` rounded down to the instrument's lot step (as it is when the instrument states none). */
export function roundedToLot(quantity: number, instrument: Instrument | undefined): number {
  const step = instrument?.lotStep;
  if (step === undefined) return quantity;
  const steps = quantity / step;
  return Number((Math.floor(steps + stepNoise(steps)) * step).toPrecision(12));
}

/** The smallest entry size of an instrument: its minimum, else one lot step; undefined when it states neither. */
export function minimumQuantity(instrument: Instrument | undefined): number | undefined {
  return instrument?.minQuantity ?? instrument?.lotStep;
}

/** Observed values are reported to 6 significant digits. */
function significant(value: number): number {
  if (value === 0 || !Number.isFinite(value) || Math.abs(value) < 1e-290) return value;
  const exponent = Math.floor(Math.log10(Math.abs(value)));
  // Scale by an exact power of ten either way, so that 12,345,678 becomes 12,345,700 exactly.
  return exponent <= 5 ? Math.round(value * 10 ** (5 - exponent)) / 10 ** (5 - exponent) : Math.round(value / 10 ** (exponent - 5)) * 10 ** (exponent - 5);
}

/**
 * `observed > limit`, ignoring floating-point noise: an order exactly at a limit (5% computed
 * as 5.0000000000002%) is at the limit, not over it.
 */
export function exceeds(observed: number, limit: number): boolean {
  return observed - limit > 1e-9 * Math.max(1, Math.abs(limit));
}

/** A denial's `detail` holds at most this many characters (the Decision schema's limit). */
const DETAIL_CHARS = 200;

/**
 * Why a halt holds, in one line of at most DETAIL_CHARS: what halted it, who, when (UTC, from
 * the event's own time) and the reason, cut short with "…" when long.
 */
export function haltDetail(what: string, by: string, at: number, reason: string): string {
  const head = `${what} by ${by} at ${new Date(at).toISOString()}: `;
  const room = DETAIL_CHARS - head.length;
  if (room < 2) return head.slice(0, DETAIL_CHARS - 1) + "…";
  return head + (reason.length <= room ? reason : `${reason.slice(0, room - 1)}…`);
}

/** The tripped breakers of an account, in breaker order: the first says why, the count the rest. */
function breakerDetail(account: AccountState): string | undefined {
  const tripped = BreakerKinds.options.flatMap((kind) => {
    const breaker = account.breakers[kind];
    return breaker.tripped ? [{ kind, ...breaker }] : [];
  });
  const first = tripped[0];
  if (!first) return undefined;
  const more = tripped.length > 1 ? ` (+${tripped.length - 1} more)` : "";
  return haltDetail(`${first.kind} breaker${more}`, first.trippedBy, first.trippedAt, first.reason);
}

/**
 * 1. Trading state: a locked-out, halted or reducing account, or a halted firm, takes no new
 * exposure; exits always pass. A halt's denial says why in its detail: the firm's halt, or the
 * tripped breaker (which, who, when, the reason), as the state held them at the decision.
 */
const tradingState: Guard = {
  name: "trading_state",
  check: (ctx) => {
    const { intent, account, firmHalt } = ctx;
    if (reducesExposure(intent)) return null;
    if (account.lockedOut) return deny("locked_out", "LOCKED_OUT", "ACTIVE", `${account.lockedOut.rule} breach`);
    if (firmHalt) return deny("firm_halted", "HALTED", "ACTIVE", haltDetail("firm halt", firmHalt.by, firmHalt.at, firmHalt.reason));
    const state = tradingStateOf(account, null);
    if (state === "REDUCING") return deny("reduce_only", state, "ACTIVE", account.reducing?.cause);
    if (state !== "ACTIVE") return deny("trading_halted", state, "ACTIVE", breakerDetail(account));
    ctx.measure?.("trading state", state, "ACTIVE");
    return null;
  },
};

const numericFields = ["quantity", "targetWeight", "limitPrice", "slPrice", "tpPrice", "referencePrice"] as const;

/** The prices of an entry that go to the venue, and so must be on the tick (the reference price is the strategy's view of the market). */
const venuePrices = ["limitPrice", "slPrice", "tpPrice"] as const;

/**
 * 2. Parameter validity: finite numbers, a known instrument; for entries, prices on the tick, a
 * size on the lot step and at least the minimum, stop and target on the right side.
 */
const parameterValidity: Guard = {
  name: "parameter_validity",
  check: (ctx) => {
    const { intent } = ctx;
    for (const field of numericFields) {
      const value = intent[field];
      if (value !== undefined && !Number.isFinite(value)) return deny("non_finite_input", field, "finite number");
    }
    if (!ctx.instrument) return deny("unknown_instrument", intent.symbol, "configured instrument");
    ctx.measure?.("instrument", intent.symbol, "configured instrument");
    if (reducesExposure(intent)) {
      // An exit must close something: a SELL a long, a BUY a short. Otherwise it would open a
      // position past every halt and limit.
      const held = ctx.account.positions.get(intent.symbol)?.quantity ?? 0;
      const closes = intent.side === "SELL" ? held > 0 : held < 0;
      return closes ? null : deny("nothing_to_close", held, intent.side === "SELL" ? "a long position" : "a short position");
    }
    const { tickSize, lotStep } = ctx.instrument;
    for (const field of venuePrices) {
      const value = intent[field];
      if (value !== undefined && !onStep(value, tickSize)) return deny("price_precision", value, tickSize, field);
    }
    ctx.measure?.("prices on the tick", "yes", tickSize);
    if (intent.quantity !== undefined && lotStep !== undefined && !onStep(intent.quantity, lotStep)) return deny("quantity_precision", intent.quantity, lotStep);
    const quantity = orderQuantity(ctx);
    const minimum = minimumQuantity(ctx.instrument);
    if (quantity !== null && minimum !== undefined) {
      if (exceeds(minimum, quantity)) return deny("quantity_below_minimum", quantity, minimum);
      ctx.measure?.("size", quantity, `at least ${minimum}${lotStep !== undefined ? `, in steps of ${lotStep}` : ""}`);
    }
    const price = orderPrice(ctx);
    if (price === null) return null; // price_sanity denies an order with no price at all
    const buy = intent.side === "BUY";
    if (intent.slPrice !== undefined && (buy ? intent.slPrice >= price : intent.slPrice <= price)) {
      return deny("stop_on_wrong_side", intent.slPrice, price);
    }
    if (intent.tpPrice !== undefined && (buy ? intent.tpPrice <= price : intent.tpPrice >= price)) {
      return deny("target_on_wrong_side", intent.tpPrice, price);
    }
    return null;
  },
};

function lockedUntil(expiresAt: number | null): string {
  return expiresAt === null ? "until_reset" : new Date(expiresAt).toISOString();
}

/**
 * 3. Veto registry: a locked symbol takes no new exposure until its lock ends, and neither does
 * a locked side (entries that buy, or that sell) of the whole account.
 */
const vetoRegistry: Guard = {
  name: "veto_registry",
  enabled: (config) => config.guards.vetoRegistry.enabled,
  check: ({ intent, account, now, measure }) => {
    if (reducesExposure(intent)) return null;
    const veto = activeVeto(account, intent.symbol, now);
    if (veto) return deny("symbol_locked", veto.reason, lockedUntil(veto.expiresAt));
    const sideLock = activeSideLock(account, intent.side, now);
    if (sideLock) return deny("side_locked", sideLock.reason, lockedUntil(sideLock.expiresAt), intent.side);
    measure?.(`locks on ${intent.symbol} and ${intent.side} entries`, "none", "none");
    return null;
  },
};

/** 4. Throttle and size: intents per account per rolling second; notional per order. */
const throttle: Guard = {
  name: "throttle",
  enabled: (config) => config.guards.throttle.enabled,
  check: (ctx) => {
    if (reducesExposure(ctx.intent)) return null;
    const { maxIntentsPerSecond, maxOrderNotionalUsd } = ctx.config.guards.throttle;
    // This intent and the account's earlier ones within the rolling second.
    let inWindow = 1;
    for (const t of ctx.account.recentIntentTimes) if (t > ctx.now - THROTTLE_WINDOW_MS) inWindow++;
    if (exceeds(inWindow, maxIntentsPerSecond)) return deny("throttled", inWindow, maxIntentsPerSecond);
    ctx.measure?.("intents in the last second", inWindow, maxIntentsPerSecond);
    const quantity = orderQuantity(ctx);
    const price = orderPrice(ctx);
    if (quantity === null || price === null || !ctx.instrument || ctx.accountPerQuote === null) return null; // price_sanity fails these closed
    const notionalUsd = quantity * ctx.instrument.contractSize * price * ctx.accountPerQuote;
    if (exceeds(notionalUsd, maxOrderNotionalUsd)) return deny("order_notional_exceeded", significant(notionalUsd), maxOrderNotionalUsd);
    ctx.measure?.(`order notional ${ctx.account.spec.currency}`, significant(notionalUsd), maxOrderNotionalUsd);
    return null;
  },
};

/** 5. Price sanity: a fresh last price must exist, and the order's prices must be near it. */
const priceSanity: Guard = {
  name: "price_sanity",
  enabled: (config) => config.guards.priceSanity.enabled,
  check: ({ intent, market, config, now, measure, conversion, rate }) => {
    if (reducesExposure(intent)) return null;
    const { maxDeviationPct, maxPriceAgeMs } = config.guards.priceSanity;
    if (!market || market.lastPrice === null || market.lastPriceAt === null) return deny("no_price", null, maxPriceAgeMs);
    const ageMs = now - market.lastPriceAt;
    if (exceeds(ageMs, maxPriceAgeMs)) return deny("stale_price", ageMs, maxPriceAgeMs);
    measure?.("last price age ms", ageMs, maxPriceAgeMs);
    // A price in another currency than the account's needs a fresh rate as much as a fresh price.
    if (conversion !== null) {
      const into = `${conversion.currency} to ${conversion.account}`;
      if (rate === null) return deny("no_price", null, maxPriceAgeMs, `no price of ${pairNeeded(conversion)} converts ${into}`.slice(0, 200));
      const rateAgeMs = now - rate.at;
      if (exceeds(rateAgeMs, maxPriceAgeMs)) return deny("stale_price", rateAgeMs, maxPriceAgeMs, `${rate.symbol}, the rate that converts ${into}`);
      measure?.(`${rate.symbol} (${into}) price age ms`, rateAgeMs, maxPriceAgeMs);
    }
    for (const claimed of [intent.referencePrice, intent.limitPrice]) {
      if (claimed === undefined) continue;
      const deviationPct = (Math.abs(claimed - market.lastPrice) / market.lastPrice) * 100;
      if (exceeds(deviationPct, maxDeviationPct)) return deny("price_deviation", significant(deviationPct), maxDeviationPct);
      measure?.(`${claimed === intent.limitPrice ? "limit" : "reference"} price off the last, %`, significant(deviationPct), maxDeviationPct);
    }
    return null;
  },
};

/**
 * 6. Liquidity: the order may take at most a set percentage of average daily volume; an
 * instrument whose volume is unknown (no `averageDailyVolume`) is not checked.
 */
const liquidity: Guard = {
  name: "liquidity",
  enabled: (config) => config.guards.liquidity.enabled,
  check: (ctx) => {
    if (reducesExposure(ctx.intent) || !ctx.instrument) return null;
    const { maxAdvPct } = ctx.config.guards.liquidity;
    const { averageDailyVolume } = ctx.instrument;
    if (averageDailyVolume === undefined) {
      // Stated as unknown (no figure configured): not checked, rather than denied on a made-up one.
      ctx.measure?.("order size, % of daily volume", "daily volume unknown", "checked when the instrument states one");
      return null;
    }
    const quantity = orderQuantity(ctx);
    if (quantity === null) return deny("illiquid", null, maxAdvPct);
    const advPct = (quantity / averageDailyVolume) * 100;
    if (exceeds(advPct, maxAdvPct)) return deny("illiquid", significant(advPct), maxAdvPct);
    ctx.measure?.("order size, % of daily volume", significant(advPct), maxAdvPct);
    return null;
  },
};

/**
 * 7. Microstructure, when an L2 book is known (a stale one denies): order book imbalance
 * OBI = (bidVol − askVol) / (bidVol + askVol) over the top levels denies a buy below −limit and
 * a sell above +limit; a wall (one level at least `wallMultiple` × the average of the top
 * levels) on the opposing side denies.
 */
const microstructure: Guard = {
  name: "microstructure",
  enabled: (config) => config.guards.microstructure.enabled,
  check: ({ intent, market, config, now, measure }) => {
    if (reducesExposure(intent)) return null;
    const book = market?.book;
    const { obiLimit, wallMultiple, depthLevels, maxBookAgeMs } = config.guards.microstructure;
    if (!book) {
      measure?.("order book", "none known", "checked when one is");
      return null;
    }
    const bookAgeMs = now - book.at;
    if (exceeds(bookAgeMs, maxBookAgeMs)) return deny("stale_book", bookAgeMs, maxBookAgeMs);
    const bids = book.bids.slice(0, depthLevels);
    const asks = book.asks.slice(0, depthLevels);
    const bidVolume = bids.reduce((sum, level) => sum + level.size, 0);
    const askVolume = asks.reduce((sum, level) => sum + level.size, 0);
    if (bidVolume + askVolume > 0) {
      const obi = (bidVolume - askVolume) / (bidVolume + askVolume);
      if (intent.side === "BUY" && exceeds(-obi, obiLimit)) return deny("order_book_imbalance", significant(obi), -obiLimit);
      if (intent.side === "SELL" && exceeds(obi, obiLimit)) return deny("order_book_imbalance", significant(obi), obiLimit);
      measure?.("order book imbalance", significant(obi), intent.side === "BUY" ? -obiLimit : obiLimit);
    }
    const opposing = intent.side === "BUY" ? asks : bids;
    if (opposing.length === 0) return null;
    const average = opposing.reduce((sum, level) => sum + level.size, 0) / opposing.length;
    // A wall is "at least" the multiple: at the limit counts (SPEC: >= 5x).
    const wall = opposing.find((level) => average > 0 && !exceeds(wallMultiple, level.size / average));
    if (wall) return deny("opposing_wall", significant(wall.size / average), wallMultiple);
    if (measure && average > 0) measure("largest opposing level / average", significant(Math.max(...opposing.map((level) => level.size)) / average), wallMultiple);
    return null;
  },
};

/** The loss this entry would book if its stop filled, or null without a stop or a size. */
function riskAtStopUsd(ctx: GuardContext): number | null {
  const price = orderPrice(ctx);
  const quantity = orderQuantity(ctx);
  if (ctx.intent.slPrice === undefined || price === null || quantity === null || !ctx.instrument || ctx.accountPerQuote === null) return null;
  return quantity * Math.abs(price - ctx.intent.slPrice) * ctx.instrument.contractSize * ctx.accountPerQuote;
}

/** Denies when equity is at or below `floor`, or when the entry's risk at its stop would take it below. */
function floorCheck(ctx: GuardContext, floor: number, reason: DenialReason): Denial | null {
  if (reducesExposure(ctx.intent)) return null;
  if (!exceeds(ctx.equity, floor)) return deny(reason, significant(ctx.equity), significant(floor));
  const risk = riskAtStopUsd(ctx);
  if (risk !== null && exceeds(floor, ctx.equity - risk)) return deny(reason, significant(ctx.equity - risk), significant(floor));
  ctx.measure?.(`equity ${ctx.account.spec.currency} (floor)`, significant(ctx.equity), significant(floor));
  if (risk !== null) ctx.measure?.(`equity at the stop ${ctx.account.spec.currency} (floor)`, significant(ctx.equity - risk), significant(floor));
  return null;
}

/**
 * 8. Max daily loss: equity (floating P/L counts) must stay above the day's baseline less
 * `dailyLossPct`; an entry whose stop would take it below is denied. Without a stop only the
 * current equity is checked.
 */
const maxDailyLoss: Guard = {
  name: "max_daily_loss",
  check: (ctx) => floorCheck(ctx, floorsOf(ctx.account, ctx.config).dailyLossFloor, "daily_loss_limit"),
};

/** 9. Max loss: the same against the static floor, the initial balance less `maxLossPct`. */
const maxLoss: Guard = {
  name: "max_loss",
  check: (ctx) => floorCheck(ctx, floorsOf(ctx.account, ctx.config).maxLossFloor, "max_loss_limit"),
};

/**
 * 10. Daily risk quota: the risk at the stop of today's allowed entries plus this one's must stay
 * within `maxPct` of the day's baseline. An entry without a stop is denied: its risk is unknown.
 */
const dailyRiskQuota: Guard = {
  name: "daily_risk_quota",
  enabled: (config) => config.guards.dailyRiskQuota.enabled,
  check: (ctx) => {
    if (reducesExposure(ctx.intent)) return null;
    const quotaUsd = (ctx.config.guards.dailyRiskQuota.maxPct / 100) * ctx.account.baseline;
    const risk = riskAtStopUsd(ctx);
    if (risk === null) return deny("no_stop", null, "slPrice");
    const total = ctx.account.riskUsedToday + risk;
    if (exceeds(total, quotaUsd)) return deny("risk_quota_exceeded", significant(total), significant(quotaUsd));
    ctx.measure?.(`risk at stops today ${ctx.account.spec.currency}`, significant(total), significant(quotaUsd));
    return null;
  },
};

/**
 * Gross notional (USD) of a group of the account's positions after the trade, as a percentage of
 * equity: the traded symbol at its position after the order, at the order price, plus the group's
 * other positions at their last prices. Null when one of those has no price.
 */
function weightAfterPct(ctx: GuardContext, group: GroupExposure | undefined): number | null {
  const quantity = orderQuantity(ctx);
  const price = orderPrice(ctx);
  if (quantity === null || price === null || !ctx.instrument || ctx.accountPerQuote === null || ctx.equity <= 0) return null;
  const { intent, account } = ctx;
  const held = account.positions.get(intent.symbol)?.quantity ?? 0;
  const after = held + (intent.side === "BUY" ? quantity : -quantity);
  // The group's figures include the traded symbol's current position: take it out.
  const ownGross = ctx.exposure.grossBySymbol.get(intent.symbol);
  const ownUnpriced = held !== 0 && ownGross === undefined ? 1 : 0;
  if ((group?.unpriced ?? 0) - ownUnpriced > 0) return null;
  const othersUsd = (group?.gross ?? 0) - (ownGross ?? 0);
  return ((othersUsd + Math.abs(after) * ctx.instrument.contractSize * price * ctx.accountPerQuote) / ctx.equity) * 100;
}

/** 11. Cluster cap: the intent's volatility cluster may weigh at most `maxPct` of equity after the trade. */
const clusterCap: Guard = {
  name: "cluster_cap",
  enabled: (config) => config.guards.clusterCap.enabled,
  check: (ctx) => {
    if (reducesExposure(ctx.intent)) return null;
    const weight = weightAfterPct(ctx, ctx.exposure.byCluster.get(clusterOf(ctx.intent.symbol, ctx.state)));
    const { maxPct } = ctx.config.guards.clusterCap;
    if (weight === null) return deny("no_price", null, maxPct);
    if (exceeds(weight, maxPct)) return deny("cluster_cap_exceeded", significant(weight), maxPct);
    ctx.measure?.("cluster weight after, % of equity", significant(weight), maxPct);
    return null;
  },
};

/** 12. Sector cap: the intent's sector may weigh at most `maxPct` of equity after the trade. */
const sectorCap: Guard = {
  name: "sector_cap",
  enabled: (config) => config.guards.sectorCap.enabled,
  check: (ctx) => {
    if (reducesExposure(ctx.intent) || !ctx.instrument) return null;
    const weight = weightAfterPct(ctx, ctx.exposure.bySector.get(ctx.instrument.sector));
    const { maxPct } = ctx.config.guards.sectorCap;
    if (weight === null) return deny("no_price", null, maxPct);
    if (exceeds(weight, maxPct)) return deny("sector_cap_exceeded", significant(weight), maxPct);
    ctx.measure?.("sector weight after, % of equity", significant(weight), maxPct);
    return null;
  },
};

/** The EWMA correlation of two symbols' returns, folded as bars arrived (a symbol with itself: 1). */
function correlationWith(state: EngineState, symbol: Intent["symbol"], other: Intent["symbol"], minObservations: number): Correlation {
  if (symbol === other) {
    const observations = state.market.get(symbol)?.stats.returns.length ?? 0;
    return { correlation: observations >= minObservations ? 1 : null, observations };
  }
  return correlationOf(pairOf(state, symbol, other), minObservations);
}

/**
 * 13. Benchmark correlation: the EWMA correlation of the symbol's returns with the benchmark's,
 * over the bars they share, must not exceed the limit. Too little shared history denies (fail
 * closed), so this guard is off until bars feed the statistics.
 */
const benchmarkCorrelation: Guard = {
  name: "benchmark_correlation",
  enabled: (config) => config.guards.benchmarkCorrelation.enabled,
  check: ({ intent, state, config, measure }) => {
    if (reducesExposure(intent)) return null;
    const { maxCorrelation, minObservations, benchmark } = config.guards.benchmarkCorrelation;
    const { correlation, observations } = correlationWith(state, intent.symbol, benchmark, minObservations);
    if (correlation === null) return deny("insufficient_history", observations, minObservations);
    if (exceeds(correlation, maxCorrelation)) return deny("correlated_with_benchmark", significant(correlation), maxCorrelation);
    measure?.(`correlation with ${benchmark}`, significant(correlation), maxCorrelation);
    return null;
  },
};

/**
 * 14. Position correlation: the EWMA correlation of the symbol's returns with each open
 * position's, signed by both directions (buying next to a long counts as is, selling next to a
 * long as its negative, so a hedge passes), must not exceed the limit. Too little shared history
 * with any position denies (fail closed).
 */
const positionCorrelation: Guard = {
  name: "position_correlation",
  enabled: (config) => config.guards.positionCorrelation.enabled,
  check: ({ intent, account, state, config, measure }) => {
    if (reducesExposure(intent)) return null;
    const { maxCorrelation, minObservations } = config.guards.positionCorrelation;
    const summary = positionCorrelations(intent.symbol, account.positions, state.pairs.get(intent.symbol), minObservations);
    if (summary.missing) return deny("insufficient_history", summary.missing.observations, minObservations, summary.missing.symbol);
    const worst = intent.side === "BUY" ? summary.buy : summary.sell;
    if (worst && exceeds(worst.signed, maxCorrelation)) {
      return deny("correlated_with_position", significant(worst.signed), maxCorrelation, `${worst.quantity > 0 ? "long" : "short"} ${worst.symbol}`);
    }
    measure?.(worst ? `signed correlation with ${worst.quantity > 0 ? "long" : "short"} ${worst.symbol}` : "open positions to correlate with", worst ? significant(worst.signed) : "none", maxCorrelation);
    return null;
  },
};

type Worst = { readonly signed: number; readonly symbol: string; readonly quantity: number };
type PositionCorrelations = { readonly missing: { symbol: string; observations: number } | null; readonly buy: Worst | null; readonly sell: Worst | null };

const correlationSummaries = new WeakMap<object, WeakMap<object, Map<number, PositionCorrelations>>>();
const noPartners = new Map<string, never>();

/**
 * For a symbol and an account's positions: the first position without enough shared history,
 * else the highest signed correlation a BUY and a SELL would have with a position (the first
 * in position order on ties). Worked out once per positions and pair statistics.
 */
function positionCorrelations(
  symbol: Intent["symbol"],
  positions: AccountState["positions"],
  partners: ReadonlyMap<string, { n: number; correlation: number | null }> | undefined,
  minObservations: number,
): PositionCorrelations {
  const pairs = partners ?? noPartners;
  let byPositions = correlationSummaries.get(pairs);
  if (!byPositions) correlationSummaries.set(pairs, (byPositions = new WeakMap()));
  let byMin = byPositions.get(positions);
  if (!byMin) byPositions.set(positions, (byMin = new Map()));
  const known = byMin.get(minObservations);
  if (known && partners !== undefined) return known;
  let buy: Worst | null = null;
  let sell: Worst | null = null;
  let missing: PositionCorrelations["missing"] = null;
  for (const [held, position] of positions) {
    if (held === symbol) continue;
    const moments = pairs.get(held);
    // Too few shared returns, or a side that does not vary: no correlation to judge by.
    if (!moments || moments.n < minObservations || moments.correlation === null) {
      missing = { symbol: held, observations: moments?.n ?? 0 };
      break;
    }
    const signedBuy = moments.correlation * Math.sign(position.quantity);
    if (!buy || signedBuy > buy.signed) buy = { signed: signedBuy, symbol: held, quantity: position.quantity };
    if (!sell || -signedBuy > sell.signed) sell = { signed: -signedBuy, symbol: held, quantity: position.quantity };
  }
  const summary = { missing, buy, sell };
  if (partners !== undefined) byMin.set(minObservations, summary);
  return summary;
}

/**
 * 15. CVaR: the historical-simulation CVaR of the symbol's position after the trade (the mean of
 * the worst (100 − confidence)% of its returns applied to the position's notional at the order
 * price) must be at most `maxPct` of equity. Too short a history denies.
 */
const cvar: Guard = {
  name: "cvar",
  enabled: (config) => config.guards.cvar.enabled,
  check: (ctx) => {
    const { intent, config, instrument, market } = ctx;
    if (reducesExposure(intent) || !instrument) return null;
    const { confidencePct, maxPct, minObservations } = config.guards.cvar;
    const returns = market?.stats.returns ?? [];
    if (returns.length < minObservations) return deny("insufficient_history", returns.length, minObservations);
    const quantity = orderQuantity(ctx);
    const price = orderPrice(ctx);
    if (quantity === null || price === null || ctx.accountPerQuote === null || ctx.equity <= 0) return deny("no_price", null, maxPct);
    const held = ctx.account.positions.get(intent.symbol)?.quantity ?? 0;
    const after = held + (intent.side === "BUY" ? quantity : -quantity);
    const notionalUsd = Math.abs(after) * instrument.contractSize * price * ctx.accountPerQuote;
    const tail = tailLossPerUnit(market!.stats, confidencePct);
    const cvarUsd = notionalUsd * (after >= 0 ? tail.long : tail.short);
    const cvarPct = (cvarUsd / ctx.equity) * 100;
    if (exceeds(cvarPct, maxPct)) return deny("cvar_exceeded", significant(cvarPct), maxPct, `CVaR ${confidencePct}% ${significant(cvarUsd)} ${ctx.account.spec.currency} on ${significant(notionalUsd)} ${ctx.account.spec.currency}`);
    ctx.measure?.(`CVaR ${confidencePct}% of the position after, % of equity`, significant(cvarPct), maxPct);
    return null;
  },
};

/** Risk per unit at a stop (or, without one, the whole notional per unit), in USD. */
function riskPerUnit(price: number, stop: number | undefined, instrument: Instrument, accountPerQuote: number): number {
  return (stop === undefined ? price : Math.abs(price - stop)) * instrument.contractSize * accountPerQuote;
}

/**
 * 16. Kelly sizing: f* = (p·b − q) / b from the strategy's win rate p and win/loss ratio b.
 * f* ≤ 0 denies; otherwise the size is capped so that the risk at the stop is at most
 * f* × multiplier of equity.
 */
const kellySizing: Guard = {
  name: "kelly_sizing",
  enabled: (config) => config.guards.kelly.enabled,
  check: (ctx) => {
    const { intent, config, instrument } = ctx;
    if (reducesExposure(intent) || !instrument) return null;
    const { multiplier, requireStats } = config.guards.kelly;
    if (!intent.stats) return requireStats ? deny("missing_stats", null, "winRate and winLossRatio") : null;
    const p = intent.stats.winRate;
    const b = intent.stats.winLossRatio;
    const kelly = (p * b - (1 - p)) / b;
    if (!(kelly > 0)) return deny("negative_edge", significant(kelly), 0);
    ctx.measure?.("Kelly f*", significant(kelly), 0);
    const price = orderPrice(ctx);
    if (price === null || ctx.accountPerQuote === null) return null; // price_sanity has denied it already
    const fraction = kelly * multiplier;
    const cap = (fraction * ctx.equity) / riskPerUnit(price, intent.slPrice, instrument, ctx.accountPerQuote);
    return { cap, note: `kelly f*=${significant(kelly)} × ${multiplier} risks ${significant(fraction * 100)}% of equity: at most ${significant(cap)}` };
  },
};

/**
 * 17. Volatility targeting and ATR stops: the size is capped so that the risk at the stop is
 * the per-trade budget; an intent without a stop gets one `atrStopMultiple` ATRs away.
 */
const volTarget: Guard = {
  name: "vol_target",
  enabled: (config) => config.guards.volTarget.enabled,
  check: (ctx) => {
    const { intent, config, instrument, market } = ctx;
    if (reducesExposure(intent) || !instrument) return null;
    const { riskPerTradePct, atrStopMultiple } = config.guards.volTarget;
    const price = orderPrice(ctx);
    if (price === null || ctx.accountPerQuote === null) return null;
    const atr = market?.stats.atr ?? null;
    const stop =
      intent.slPrice ?? (atr === null ? null : intent.side === "BUY" ? price - atrStopMultiple * atr : price + atrStopMultiple * atr);
    if (stop === null || !(stop > 0)) return deny("no_stop", null, "slPrice or an ATR");
    const budgetUsd = (riskPerTradePct / 100) * ctx.equity;
    const cap = budgetUsd / riskPerUnit(price, stop, instrument, ctx.accountPerQuote);
    const origin = intent.slPrice === undefined ? `ATR stop ${significant(stop)} (${atrStopMultiple} × ${significant(atr!)})` : `stop ${stop}`;
    return { cap, stopPrice: significant(stop), note: `vol target: ${riskPerTradePct}% of equity at ${origin}: at most ${significant(cap)}` };
  },
};

/**
 * 18. Reviewer ("red team"): an external review of an intent the rest of the chain allowed. A
 * veto denies; a failure (timeout, malformed answer, no reviewer) denies or passes with a flag,
 * as the configuration says. The outcome comes in with the command and is recorded before the
 * decision, so replay never calls out.
 */
const reviewer: Guard = {
  name: "reviewer",
  enabled: (config) => config.guards.reviewer.enabled,
  check: ({ intent, review, config }) => {
    if (reducesExposure(intent) || review === "skip") return null;
    const outcome = review ?? { status: "failed" as const, reviewer: "none", detail: "no reviewer verdict was supplied" };
    if (outcome.status === "verdict") {
      const flags = outcome.riskFlags.length > 0 ? `: ${outcome.riskFlags.join("; ")}` : "";
      if (outcome.veto) return deny("reviewer_veto", outcome.killReason ?? "veto", "no veto", `${outcome.reviewer}${flags}`.slice(0, 200));
      return { note: `reviewer ${outcome.reviewer}: no veto${flags}` };
    }
    if (config.guards.reviewer.onFailure === "deny") return deny("review_unavailable", outcome.detail.slice(0, 200), "a verdict", outcome.reviewer);
    return { note: `reviewer ${outcome.reviewer} failed (${outcome.detail}): allowed by policy` };
  },
};

/** The chain, in order. */
export const guardChain: readonly Guard[] = [
  tradingState,
  parameterValidity,
  vetoRegistry,
  throttle,
  priceSanity,
  liquidity,
  microstructure,
  maxDailyLoss,
  maxLoss,
  dailyRiskQuota,
  clusterCap,
  sectorCap,
  benchmarkCorrelation,
  positionCorrelation,
  cvar,
  kellySizing,
  volTarget,
  reviewer,
];

/** Whether the configuration runs `guard` (the halt, parameter validity and the loss floors always run). */
export function guardEnabled(guard: Guard, config: EngineConfig): boolean {
  return guard.enabled?.(config) ?? true;
}

const chains = new WeakMap<EngineConfig, readonly Guard[]>();

/** The guards `config` runs, in chain order (worked out once per configuration). */
export function enabledChain(config: EngineConfig): readonly Guard[] {
  let chain = chains.get(config);
  if (!chain) chains.set(config, (chain = guardChain.filter((guard) => guardEnabled(guard, config))));
  return chain;
}
