import { z } from "zod";
import { isTimeZone } from "./calendar";
import { AdvisoryConfig } from "./advisory-config";
import { SymbolId } from "./ids";

/**
 * The engine's configuration: instrument reference data and every guard's parameters. One
 * strict schema with defaults; presets will instantiate it. The shell records the configuration
 * in force on the ledger (`config.applied`), so replay decides under the very same one.
 */
export const Instrument = z.strictObject({
  sector: z.string().min(1),
  /** Volatility cluster; used by the portfolio caps. */
  cluster: z.string().min(1).optional(),
  /** Units of the underlying per 1 lot/contract; notional = quantity × contractSize × price. */
  contractSize: z.number().positive(),
  /**
   * The ISO 4217 currency the prices are in (unset: a six-letter currency pair's second half,
   * USDJPY's JPY; else USD). P/L and notional are converted to USD at its USD pair's last price.
   */
  quoteCurrency: z
    .string()
    .regex(/^[A-Z]{3}$/, "an ISO 4217 currency code: three upper-case letters, e.g. USD")
    .optional(),
  /** Prices of entries (limit, stop-loss, take-profit) must be whole multiples of this. */
  tickSize: z.number().positive(),
  /** Entry sizes must be whole multiples of this, and sizing rounds down to it (unset: not enforced). */
  lotStep: z.number().positive().optional(),
  /** The smallest entry size (unset: one lot step, or not enforced without one). */
  minQuantity: z.number().positive().optional(),
  /**
   * Average daily volume, in the same units as intent quantities. Unset: unknown, and the
   * liquidity guard does not check the instrument's entries (it says so in its measures) rather
   * than deny them on a made-up figure.
   */
  averageDailyVolume: z.number().positive().optional(),
  /**
   * The price band of a live server: a tick, bar or fill further than this, in percent, from the
   * last accepted price is refused (unset: 10; null: no band). Backtests do not apply it.
   */
  priceBandPct: z.number().positive().max(10_000).nullable().optional(),
});
export type Instrument = z.infer<typeof Instrument>;

/** Instrument reference data by symbol: the engine configuration's, and an instruments file's. */
export const Instruments = z.record(SymbolId, Instrument);
export type Instruments = z.infer<typeof Instruments>;

/** Instruments an instruments file (a backtest's `--instruments`, its upload) may state at most. */
export const MAX_STATED_INSTRUMENTS = 1_000;
export const InstrumentsFile = Instruments.refine((instruments) => Object.keys(instruments).length <= MAX_STATED_INSTRUMENTS, {
  message: `at most ${MAX_STATED_INSTRUMENTS} instruments`,
});

const enabled = z.boolean().default(true);

export const MarketStatsConfig = z.strictObject({
  /** Log returns kept per symbol. */
  returnsWindow: z.number().int().min(2).max(5_000).default(500),
  /** RiskMetrics decay for EWMA volatility and for the EWMA correlations the guards read. */
  ewmaLambda: z.number().gt(0).lt(1).default(0.94),
  atrPeriod: z.number().int().positive().default(14),
});

export const GuardsConfig = z.strictObject({
  vetoRegistry: z
    .strictObject({
      enabled,
      /** After any exit fill, the symbol is locked for this long (0: no cooldown). */
      exitCooldownMs: z.number().int().nonnegative().default(0),
      /**
       * This many positions of one side closed by their stop-loss within the window lock that
       * side's entries until the reset (a position stopped in several partial fills counts once).
       */
      stopLossStreak: z
        .strictObject({
          enabled: z.boolean().default(false),
          count: z.number().int().min(2).max(100).default(3),
          windowMs: z.number().int().positive().default(3_600_000),
          /** Count only stops that closed at a loss (a trailing stop above a long's entry does not count). */
          onlyLosing: z.boolean().default(true),
        })
        .prefault({}),
    })
    .prefault({}),
  throttle: z
    .strictObject({
      enabled,
      /** Intents per account within any rolling second (the intent being decided included). */
      maxIntentsPerSecond: z.number().int().positive().default(10),
      maxOrderNotionalUsd: z.number().positive().default(5_000_000),
    })
    .prefault({}),
  priceSanity: z
    .strictObject({
      enabled,
      /** |referencePrice − last| / last, in percent. */
      maxDeviationPct: z.number().positive().default(5),
      /** A last price older than this is stale. */
      maxPriceAgeMs: z.number().int().positive().default(10_000),
    })
    .prefault({}),
  liquidity: z
    .strictObject({
      enabled,
      /** Order quantity as a percentage of the instrument's average daily volume. */
      maxAdvPct: z.number().positive().default(1),
    })
    .prefault({}),
  microstructure: z
    .strictObject({
      enabled,
      /** A buy is denied when OBI < −limit, a sell when OBI > limit. */
      obiLimit: z.number().min(0).max(1).default(0.7),
      /** A level at least this many times the average of the top levels is a wall. */
      wallMultiple: z.number().positive().default(5),
      depthLevels: z.number().int().positive().default(10),
      /** A known book older than this is stale input: the entry is denied (fail closed). */
      maxBookAgeMs: z.number().int().positive().default(10_000),
    })
    .prefault({}),
  kelly: z
    .strictObject({
      enabled,
      /** Fraction of full Kelly: 0.5 half-Kelly; 0.1 for prop accounts. */
      multiplier: z.number().gt(0).max(1).default(0.5),
      /** Deny entries that carry no strategy stats; otherwise they skip Kelly sizing. */
      requireStats: z.boolean().default(false),
    })
    .prefault({}),
  volTarget: z
    .strictObject({
      /** Off until presets set a risk budget: on, an entry without a stop or an ATR is denied. */
      enabled: z.boolean().default(false),
      /** Risk at the stop per trade, as a percentage of equity. */
      riskPerTradePct: z.number().gt(0).max(100).default(1),
      /** A missing stop is placed this many ATRs from the order price. */
      atrStopMultiple: z.number().positive().default(2),
    })
    .prefault({}),
  clusterCap: z
    .strictObject({
      /** Off by default: notional weights suit unlevered books, not lot-sized FX accounts. */
      enabled: z.boolean().default(false),
      /** Gross notional of one volatility cluster after the trade, as a percentage of equity. */
      maxPct: z.number().gt(0).default(25),
    })
    .prefault({}),
  sectorCap: z
    .strictObject({
      enabled: z.boolean().default(false),
      /** Gross notional of one sector after the trade, as a percentage of equity. */
      maxPct: z.number().gt(0).default(40),
    })
    .prefault({}),
  dailyRiskQuota: z
    .strictObject({
      /** Off unless presets set it: on, an entry without a stop is denied (its risk is unknown). */
      enabled: z.boolean().default(false),
      /** The day's total risk at the stop of allowed entries, as a percentage of the day's baseline. */
      maxPct: z.number().gt(0).max(100).default(3),
    })
    .prefault({}),
  benchmarkCorrelation: z
    .strictObject({
      /** Off unless bars feed the statistics: without history every entry would be denied. */
      enabled: z.boolean().default(false),
      benchmark: SymbolId.default(SymbolId.parse("US500")),
      /** EWMA correlation (λ of `market.ewmaLambda`) of the symbol's returns with the benchmark's; above this denies. */
      maxCorrelation: z.number().min(-1).max(1).default(0.7),
      /** Fewer shared returns than this is missing input: the entry is denied. */
      minObservations: z.number().int().min(2).default(20),
    })
    .prefault({}),
  positionCorrelation: z
    .strictObject({
      /** Off unless bars feed the statistics: without shared history an entry next to a position is denied. */
      enabled: z.boolean().default(false),
      /**
       * EWMA correlation of the symbol's returns with an open position's, signed by both
       * directions (a long next to a long counts as is; a short next to a long as its negative),
       * must not exceed this for any open position.
       */
      maxCorrelation: z.number().min(-1).max(1).default(0.75),
      minObservations: z.number().int().min(2).default(20),
    })
    .prefault({}),
  cvar: z
    .strictObject({
      /** Off unless bars feed the statistics: too short a history denies (fail closed). */
      enabled: z.boolean().default(false),
      /** Historical-simulation CVaR at this confidence, over the symbol's returns window. */
      confidencePct: z.number().gt(50).lt(100).default(95),
      /** The resulting position's CVaR may be at most this percentage of equity (NAV). */
      maxPct: z.number().gt(0).max(100).default(5),
      minObservations: z.number().int().min(2).default(100),
    })
    .prefault({}),
  reviewer: z
    .strictObject({
      /** Guard 18: an external reviewer may veto an intent the chain allowed (see the shell's reviewers). */
      enabled: z.boolean().default(false),
      /** When the reviewer fails (timeout, malformed answer, none configured): deny, or allow with a flag. */
      onFailure: z.enum(["deny", "allow"]).default("deny"),
      timeoutMs: z.number().int().positive().max(60_000).default(2_000),
      /**
       * With the reviewer off, whether an allowed entry still gets its deal memo (chaos, stress,
       * hedges), computed after the decision and recorded as an event of its own (the decision
       * does not wait for it). With the reviewer on, every reviewed intent gets one before.
       */
      memo: z.enum(["off", "after_decision"]).default("off"),
      /** The rule reviewer's limits and the analytics' settings. */
      advisory: AdvisoryConfig.prefault({}),
    })
    .prefault({}),
});
export type GuardsConfig = z.infer<typeof GuardsConfig>;

/** When the trading day starts: a local time in an IANA time zone (UTC+3 is `Etc/GMT-3`). */
export const DailyReset = z.strictObject({
  time: z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/, "HH:MM, 24-hour")
    .default("00:00"),
  timeZone: z.string().refine(isTimeZone, "an IANA time zone such as Europe/Prague").default("UTC"),
  /**
   * How days are named: `reset_date`, the local date of the reset; `next_weekday`, CME trade
   * dates (the day starting Sunday 17:00 is Monday's; no reset on Friday or Saturday).
   */
  tradeDate: z.enum(["reset_date", "next_weekday"]).default("reset_date"),
  /**
   * Equity is stale at the reset when a held symbol's last price is older than this: the last
   * known equity is the baseline, marked `shadow`.
   */
  staleEquityMs: z.number().int().positive().default(60_000),
});

export const BreakersConfig = z.strictObject({
  executionFailures: z
    .strictObject({
      /** Trips at this many failures (rejects, timeouts) within the window. */
      threshold: z.number().int().positive().default(3),
      windowMs: z.number().int().positive().default(300_000),
      /** Resets itself this long after tripping. */
      cooldownMs: z.number().int().positive().default(600_000),
    })
    .prefault({}),
  dailyDrawdown: z
    .strictObject({
      /** Trips when equity is more than this percentage below the day's baseline (manual reset only). */
      maxPct: z.number().gt(0).max(100).default(5),
    })
    .prefault({}),
  latency: z
    .strictObject({
      /** Trips on a latency above this. */
      thresholdMs: z.number().positive().default(2_000),
      /** Resets itself once no latency above the threshold was seen for this long. */
      cooldownMs: z.number().int().positive().default(60_000),
    })
    .prefault({}),
});
export type BreakersConfig = z.infer<typeof BreakersConfig>;

export const AccountRules = z.strictObject({
  /** The day's baseline, snapshotted at the daily reset: equity, balance, the larger, or the initial balance. */
  dailyBaselineBasis: z.enum(["equity", "balance", "max_balance_equity", "initial_balance"]).default("equity"),
  /** Daily loss floor: the day's baseline less this percentage of `dailyLossOf`. */
  dailyLossPct: z.number().gt(0).max(100).default(5),
  /**
   * What the daily allowance is a percentage of: the day's baseline itself (The5ers), or the
   * initial balance, taken off the day's baseline (FTMO, FundedNext; Topstep's dollar limit).
   */
  dailyLossOf: z.enum(["baseline", "initial_balance"]).default("baseline"),
  /**
   * What reaching the daily loss floor does: `soft` pauses entries until the next reset
   * (REDUCING); `liquidate` flattens the account and pauses it until the next reset, and is
   * not a violation (Topstep's daily loss limit); `hard` locks the account out and flattens it,
   * like a max-loss breach.
   */
  dailyLossBreach: z.enum(["soft", "liquidate", "hard"]).default("soft"),
  /** Max-loss allowance: this percentage of the initial balance; falling to the floor locks the account out. */
  maxLossPct: z.number().gt(0).max(100).default(10),
  /**
   * Where the max-loss floor sits: `static` at the initial balance less the allowance;
   * `trailing_eod` at the highest equity seen at a daily reset less the allowance;
   * `trailing_intraday` at the highest equity seen at any moment less the allowance. A
   * trailing floor never falls.
   */
  maxLossMode: z.enum(["static", "trailing_eod", "trailing_intraday"]).default("static"),
  /** A trailing floor stops rising once it reaches the initial balance (Topstep's rule). */
  trailingStopsAtInitialBalance: z.boolean().default(false),
});

export const EngineConfig = z.strictObject({
  instruments: Instruments.default({}),
  accountRules: AccountRules.prefault({}),
  breakers: BreakersConfig.prefault({}),
  market: MarketStatsConfig.prefault({}),
  dailyReset: DailyReset.prefault({}),
  guards: GuardsConfig.prefault({}),
});
export type EngineConfig = z.infer<typeof EngineConfig>;
export type EngineConfigInput = z.input<typeof EngineConfig>;

/**
 * The rules one account decides under: its loss rules, daily reset, breakers and guards.
 * Instruments and the market statistics stay firm-wide.
 */
export const Rules = EngineConfig.pick({ accountRules: true, breakers: true, dailyReset: true, guards: true });
export type Rules = z.infer<typeof Rules>;

type Leaf = string | number | boolean | null | undefined | readonly unknown[];
/**
 * Every field optional, at every depth. A record (string keys: betas by symbol) is a leaf, as
 * `patchOf` leaves it: its values stay required.
 */
export type DeepPartial<T> = { [K in keyof T]?: T[K] extends Leaf ? T[K] : string extends keyof NonNullable<T[K]> ? T[K] : DeepPartial<T[K]> };

/** `schema` with every field optional at every depth and no defaults: what a patch of it may say. */
function patchOf(schema: z.ZodType): z.ZodType {
  let inner = schema as z.ZodType & { _zod: { def: { type: string; innerType?: z.ZodType } } };
  while (["default", "prefault", "optional"].includes(inner._zod.def.type)) inner = inner._zod.def.innerType as typeof inner;
  if (!(inner instanceof z.ZodObject)) return inner;
  return z.strictObject(Object.fromEntries(Object.entries(inner.shape).map(([key, field]) => [key, patchOf(field as z.ZodType).optional()])));
}

/**
 * What a preset says about the rules: only the figures it sets, each checked as the engine's
 * schema checks it (an unknown field is an error). The rest comes from the firm's configuration
 * (RISKGATE_ENGINE_CONFIG or the defaults): a desk sets its order hygiene once, presets set
 * the firm's loss rules.
 */
export type RulesPatch = DeepPartial<Rules>;
export const RulesPatch = patchOf(Rules) as z.ZodType<RulesPatch>;

/** The rules part of a configuration (the firm's defaults, for one). */
export function rulesOf({ accountRules, breakers, dailyReset, guards }: EngineConfig): Rules {
  return { accountRules, breakers, dailyReset, guards };
}

/** `patch` laid over `base`: objects merge field by field, anything else in the patch replaces. */
function overlay(base: unknown, patch: unknown): unknown {
  if (patch === undefined) return base;
  if (!isPlainObject(base) || !isPlainObject(patch)) return patch;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) merged[key] = overlay(base[key], value);
  return merged;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** The rules a patch makes of the firm's: valid by construction (each figure was checked alone). */
export function resolveRules(base: Rules, patch: RulesPatch): Rules {
  return Rules.parse(overlay(base, patch));
}

const merged = new WeakMap<object, { base: EngineConfig; config: EngineConfig }>();

/**
 * The configuration an account decides under: the firm's, with its preset's patch laid over the
 * firm's rules (null: the firm's rules as they are). Cached per patch and firm configuration, so
 * every decision of an account reads the same object (the guard chain is cached by it).
 */
export function withRules(base: EngineConfig, patch: RulesPatch | null): EngineConfig {
  if (!patch) return base;
  const cached = merged.get(patch);
  if (cached?.base === base) return cached.config;
  // Accounts under one preset version hold equal patches read from different events: they share
  // one resolved configuration per firm configuration (10,000 accounts, a handful of presets).
  const key = JSON.stringify(patch);
  let byContent = resolvedByContent.get(base);
  if (!byContent) resolvedByContent.set(base, (byContent = new Map()));
  let config = byContent.get(key);
  if (!config) byContent.set(key, (config = { ...base, ...resolveRules(rulesOf(base), patch) }));
  merged.set(patch, { base, config });
  return config;
}
const resolvedByContent = new WeakMap<EngineConfig, Map<string, EngineConfig>>();
