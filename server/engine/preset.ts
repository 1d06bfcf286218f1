import { z } from "zod";
import { RulesPatch } from "./config";
import { PresetId } from "./ids";
import { CurrencyCode } from "./types";

/**
 * A preset: a prop firm's (or the desk's own) rule set, as one JSON document. `rules` is the
 * part of the engine's configuration an account decides under; `objectives` are what the
 * compliance verifier checks beside the breaches (the engine does not stop trading at a
 * profit target); `sources` say where every figure comes from.
 */

export const PresetSource = z.strictObject({
  /** The figure this source backs: a path into the preset, such as `rules.accountRules.dailyLossPct`. */
  field: z.string().min(1).max(200),
  url: z.url({ protocol: /^https?$/ }),
  /** A third-party summary, not the firm's own pages. */
  thirdParty: z.boolean().default(false),
  note: z.string().max(1_000).optional(),
});
export type PresetSource = z.infer<typeof PresetSource>;

export const Objectives = z.strictObject({
  /** Profit to reach, as a percentage of the initial balance (null: none, e.g. a funded or institutional account). */
  profitTargetPct: z.number().gt(0).max(1_000).nullable().default(null),
  /** Days with at least one trade before the target counts. */
  minTradingDays: z.number().int().min(0).max(365).default(0),
  /** The best day's profit may be at most this percentage of the total profit (a consistency rule; null: none). */
  bestDayMaxSharePct: z.number().gt(0).max(100).nullable().default(null),
});
export type Objectives = z.infer<typeof Objectives>;

export const Preset = z
  .strictObject({
    id: PresetId,
    name: z.string().trim().min(1).max(120),
    firm: z.string().trim().min(1).max(80),
    program: z.string().trim().min(1).max(120),
    description: z.string().max(2_000).default(""),
    /**
     * The currency of the preset's amounts (its account size, and the money figures of its rules,
     * such as a notional cap) and so the currency of the accounts that open under it unless they
     * state one (unset: USD, and no account is refused for its currency).
     */
    currency: CurrencyCode.optional(),
    /** The account size the rules were written for; null: any size (the percentages scale). */
    initialBalanceUsd: z.number().positive().max(1e12).nullable().default(null),
    objectives: Objectives.prefault({}),
    /** The figures the preset sets; the rest are the firm's (see `RulesPatch`). */
    rules: RulesPatch.default({}),
    sources: z.array(PresetSource).max(100).default([]),
  })
  .superRefine((preset, ctx) => {
    preset.sources.forEach((source, index) => {
      if (valueAt(preset, source.field) === undefined) {
        ctx.addIssue({ code: "custom", path: ["sources", index, "field"], message: `${source.field} is not a field of this preset` });
      }
    });
    const { dailyLossPct, maxLossPct, dailyLossOf } = preset.rules.accountRules ?? {};
    if (dailyLossOf === "initial_balance" && dailyLossPct !== undefined && maxLossPct !== undefined && dailyLossPct > maxLossPct) {
      ctx.addIssue({ code: "custom", path: ["rules", "accountRules", "dailyLossPct"], message: `a daily allowance of ${dailyLossPct}% of the initial balance exceeds the max-loss allowance of ${maxLossPct}%` });
    }
  });
export type Preset = z.infer<typeof Preset>;
export type PresetInput = z.input<typeof Preset>;

/** The value at a dotted path of `value`, or undefined. */
function valueAt(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split(".")) {
    if (current === null || typeof current !== "object" || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

export type PresetIssue = { path: string; message: string };

/** Whether `input` is a valid preset, and every issue with its path (for inline messages in the editor). */
export function validatePreset(input: unknown): { ok: true; preset: Preset } | { ok: false; issues: PresetIssue[] } {
  const parsed = Preset.safeParse(input);
  if (parsed.success) return { ok: true, preset: parsed.data };
  return { ok: false, issues: parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join("."), message: issue.message })) };
}
