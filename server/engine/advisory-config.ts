import { z } from "zod";

/**
 * The advisory stages' settings (SPEC section 3; server/advisory/): the rule reviewer's limits,
 * the chaos engine, the hedges. Part of the reviewer's settings in the engine configuration, so
 * a preset can set them; the engine itself only carries them (the shell runs the analytics).
 */

/** The tail hedges priced around a position. */
export const HedgeParams = z.strictObject({
  /** Calendar days to expiry. */
  tenorDays: z.number().positive().max(3_650).default(30),
  ratePerYear: z.number().min(-0.2).max(1).default(0.04),
  /** How far out of the money the protective strike is (put below, call above), % of spot. */
  protectionOtmPct: z.number().min(0).max(90).default(5),
  /** Width of the spread between the bought and the sold strike, % of spot. */
  spreadWidthPct: z.number().positive().max(90).default(10),
});
export type HedgeParams = z.infer<typeof HedgeParams>;

export const AdvisoryConfig = z.strictObject({
  /** The rule reviewer vetoes when any path type's ruin rate is above this (%). */
  maxRuinRatePct: z.number().min(0).max(100).default(2),
  /** …or when more than this many of the four crises breach a loss floor. */
  maxStressFailures: z.number().int().min(0).max(4).default(1),
  /** …and, failing closed, when the symbol has too little history to assess ("flag" only lists it). */
  onMissingHistory: z.enum(["veto", "flag"]).default("veto"),
  chaos: z
    .strictObject({
      /** Paths per path type (the three types share them). */
      paths: z.number().int().min(100).max(200_000).default(10_000),
      steps: z.number().int().min(1).max(1_440).default(24),
      horizonDays: z.number().positive().max(30).default(1),
      /** Returns more than this many standard deviations from the mean count as jumps. */
      tailSigmas: z.number().min(1.5).max(10).default(3),
      /** μ from the returns' mean, or 0 (a short window's mean is mostly noise). */
      drift: z.enum(["estimated", "zero"]).default("estimated"),
      /** The flash-crash path's extra jump at mid-horizon, and the gap-down path's opening gap, % down. */
      flashCrashPct: z.number().min(0).max(99).default(9),
      gapDownPct: z.number().min(0).max(99).default(5),
      /** Fewer returns than this: no chaos run (a "missing history" flag). */
      minReturns: z.number().int().min(10).max(100_000).default(30),
    })
    .prefault({}),
  /** Periods of the returns in a day; null: inferred from their spacing (calendar time). */
  periodsPerDay: z.number().positive().nullable().default(null),
  /** Beta to the benchmark per symbol, where given; otherwise estimated from shared returns. */
  betas: z.record(z.string(), z.number().min(-20).max(20)).default({}),
  hedging: HedgeParams.prefault({}),
});
export type AdvisoryConfig = z.infer<typeof AdvisoryConfig>;
export type AdvisoryConfigInput = z.input<typeof AdvisoryConfig>;
