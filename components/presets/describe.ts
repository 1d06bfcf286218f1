import type { ApiSchema } from "../api";
import type { FieldNode } from "./fields";
import { PRESET_FORM, leaves } from "./fields";

/**
 * A preset in words, made from its values (so it cannot say 5% when the figure is 4%): the
 * account size, the daily and the max loss with their reset, the objectives, and every other
 * figure the preset sets (breakers, guards). A figure the preset leaves to the firm is said so.
 */

/** A preset as the API answers it (the OpenAPI document's; the server's own `Preset` fits it). */
type Preset = ApiSchema<"PresetVersion">["preset"];

const whole = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const number = new Intl.NumberFormat("en-US", { maximumFractionDigits: 6 });
/** An amount of the preset's: in the currency it states (USD when it states none, as the shipped presets' figures are written). */
const amount = (value: number, preset: Pick<Preset, "currency">) => `${whole.format(value)} ${preset.currency ?? "USD"}`;

const BASIS: Record<string, string> = {
  equity: "the equity at the daily reset",
  balance: "the balance at the daily reset",
  max_balance_equity: "the larger of balance and equity at the daily reset",
  initial_balance: "the initial balance",
};

const MAX_MODE: Record<string, string> = {
  static: "static (the initial balance less the allowance)",
  trailing_eod: "trailing the highest end-of-day equity",
  trailing_intraday: "trailing the highest equity at any moment",
};

/** A share, with the money it is on an account of the preset's size: "5% of the initial balance (5,000 USD)". */
function share(pct: number, of: "initial" | "baseline", preset: Pick<Preset, "initialBalanceUsd" | "currency">): string {
  if (of === "baseline") return `${number.format(pct)}% of the day's baseline`;
  const size = preset.initialBalanceUsd;
  return `${number.format(pct)}% of the initial balance${size === null ? "" : ` (${amount((size * pct) / 100, preset)})`}`;
}

function dailyLoss(preset: Preset): string {
  const rules = preset.rules.accountRules ?? {};
  if (rules.dailyLossPct === undefined) return "Daily loss: the firm's limit.";
  const of = rules.dailyLossOf === "initial_balance" ? "initial" : "baseline";
  const baseline = rules.dailyBaselineBasis ? BASIS[rules.dailyBaselineBasis] : "the firm's baseline";
  const breach =
    rules.dailyLossBreach === "hard"
      ? "reaching it locks the account out"
      : rules.dailyLossBreach === "soft"
        ? "reaching it pauses new entries until the next reset"
        : rules.dailyLossBreach === "liquidate"
          ? "reaching it closes every position and pauses the account until the next reset, without failing it"
          : "reaching it does what the firm's rules say";
  const limit = of === "baseline" ? `${share(rules.dailyLossPct, of, preset)} (${baseline})` : `${share(rules.dailyLossPct, of, preset)} below the day's baseline (${baseline})`;
  return `Daily loss: ${limit}; ${breach}.`;
}

function maxLoss(preset: Preset): string {
  const rules = preset.rules.accountRules ?? {};
  if (rules.maxLossPct === undefined) return "Maximum loss: the firm's limit.";
  const mode = rules.maxLossMode ? MAX_MODE[rules.maxLossMode] : "as the firm's rules place it";
  const stops = rules.trailingStopsAtInitialBalance && rules.maxLossMode !== "static" ? ", stopping at the initial balance" : "";
  return `Maximum loss: ${share(rules.maxLossPct, "initial", preset)}, ${mode}${stops}; reaching it locks the account out.`;
}

function reset(preset: Preset): string | null {
  const { time, timeZone } = preset.rules.dailyReset ?? {};
  if (time === undefined && timeZone === undefined) return null;
  return `The day starts at ${time ?? "the firm's time"} ${timeZone ?? "(the firm's time zone)"}.`;
}

function objectives(preset: Preset): string {
  const { profitTargetPct, minTradingDays, bestDayMaxSharePct } = preset.objectives;
  const parts = [
    profitTargetPct === null ? "no profit target" : `a profit target of ${share(profitTargetPct, "initial", preset)}`,
    minTradingDays === 0 ? "no minimum of trading days" : `at least ${minTradingDays} trading ${minTradingDays === 1 ? "day" : "days"}`,
    ...(bestDayMaxSharePct === null ? [] : [`a best day of at most ${number.format(bestDayMaxSharePct)}% of the profit`]),
  ];
  return `Objectives: ${parts.join(", ")}.`;
}

/** The node of a dotted path in the form, for its label. */
function nodeAt(path: string[]): FieldNode | null {
  let node: FieldNode | null = PRESET_FORM;
  for (const part of path) node = node?.kind === "object" ? (node.children.find((child) => child.key === part) ?? null) : null;
  return node;
}

/** "max 3%", "multiplier 0.1", "on", "benchmark US500". */
function figureOf(label: string, value: unknown): string {
  const match = /^(.*) \((%|USD|ms)\)$/.exec(label);
  const name = (match ? match[1]! : label).toLowerCase();
  if (typeof value === "boolean") return name === "enabled" ? (value ? "on" : "off") : `${name} ${value ? "on" : "off"}`;
  const text = typeof value === "number" ? number.format(value) : String(value);
  const unit = match?.[2];
  return `${name} ${unit === "%" ? `${text}%` : unit ? `${text} ${unit}` : text}`;
}

/** Every breaker and guard figure the preset sets: "Kelly: multiplier 0.1". */
function otherFigures(preset: Preset): string | null {
  const groups = new Map<string, string[]>();
  for (const section of ["breakers", "guards"] as const) {
    for (const [path, value] of leaves(preset.rules[section] ?? {}, ["rules", section])) {
      const parts = path.split(".");
      if (value === undefined || (typeof value === "object" && value !== null)) continue;
      const group = `${nodeAt(parts.slice(0, -1))?.label ?? parts.at(-2)}${section === "breakers" ? " breaker" : ""}`;
      const field = nodeAt(parts)?.label ?? parts.at(-1)!;
      groups.set(group, [...(groups.get(group) ?? []), figureOf(field, value)]);
    }
  }
  if (groups.size === 0) return null;
  return `Also set: ${[...groups].map(([group, figures]) => `${group}: ${figures.join(", ")}`).join("; ")}.`;
}

/** The preset's figures in sentences, in the order a risk manager reads them. */
export function describePreset(preset: Preset): string[] {
  const inCurrency = preset.currency ? ` in ${preset.currency}` : "";
  const size =
    preset.initialBalanceUsd === null
      ? `For accounts of any size${inCurrency}.`
      : `For ${amount(preset.initialBalanceUsd, preset)} accounts${preset.currency ? ` (accounts under it are in ${preset.currency})` : ""}.`;
  return [size, dailyLoss(preset), maxLoss(preset), reset(preset), objectives(preset), otherFigures(preset)].filter((line): line is string => line !== null);
}
