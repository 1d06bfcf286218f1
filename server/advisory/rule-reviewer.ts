/**
 * The built-in rule reviewer of guard 18 (SPEC section 3; issue 8): it builds the deal memo of
 * the intent (chaos, stress, hedges) and vetoes when
 * - any path type's chaos ruin rate is above `maxRuinRatePct`, or
 * - more of the four crises breach a loss floor than `maxStressFailures`, or
 * - (failing closed, unless `onMissingHistory` is "flag") the symbol's history is too short to assess.
 * Every risk flag it finds is listed, vetoing or not. `assessMemo` is the pure rule; the
 * reviewer around it gets the market history from `marketOf` and runs the chaos paths on the
 * worker pool.
 */
import type { ReviewRequest, Reviewer, Verdict } from "../reviewer";
import type { ChaosReport, ChaosRequest, PathType } from "./chaos";
import { runChaos } from "./chaos-pool";
import type { AdvisoryConfig, AdvisoryConfigInput } from "./config";
import { AdvisoryConfig as AdvisoryConfigSchema } from "./config";
import type { ReviewMarket } from "./history";
import type { Memo } from "./memo";
import { createMemo } from "./memo";

const fmt = (value: number, digits = 2) => value.toFixed(digits);
/** An amount, whole, in `currency` (a USD account's flags read as they always did: replay compares recorded verdicts). */
const amount = (value: number, currency: string) => `${value < 0 ? "-" : ""}${Math.abs(Math.round(value)).toLocaleString("en-US")} ${currency}`;

/** The verdict of the rules on a memo. Pure. Amounts are labelled with the memo's currency, the account's. */
export function assessMemo(memo: Memo, config: AdvisoryConfig): Verdict {
  const money = (value: number) => amount(value, memo.currency ?? "USD");
  const flags: string[] = [];
  const vetoes: string[] = [];

  if (memo.chaos.status === "skipped") {
    const missing = memo.chaos.reason.startsWith("missing history");
    flags.push(`chaos not run: ${memo.chaos.reason}`);
    if (missing && config.onMissingHistory === "veto") vetoes.push(`${memo.chaos.reason} (fail closed)`);
  } else {
    const { byPathType } = memo.chaos.report;
    for (const type of ["normal", "flash_crash", "gap_down"] as const satisfies readonly PathType[]) {
      const { ruinRatePct } = byPathType[type];
      if (ruinRatePct > config.maxRuinRatePct) {
        const flag = `chaos ${type}: ruin rate ${fmt(ruinRatePct)}% above ${config.maxRuinRatePct}%`;
        flags.push(flag);
        vetoes.push(flag);
      }
    }
  }

  if (memo.stress.status === "ran") {
    const { results, failures, beta, betaSource, survival } = memo.stress.report;
    if (betaSource === "assumed") flags.push("stress: beta assumed 1 (no shared benchmark history)");
    for (const result of results) {
      if (result.survives) continue;
      const floors = [result.breachesDailyLoss ? "daily-loss" : null, result.breachesMaxLoss ? "max-loss" : null].filter(Boolean).join(" and ");
      flags.push(`stress ${result.crisis}: breaches the ${floors} floor (worst ${money(result.worstPnl)} at ${result.worstAt}, beta ${fmt(beta)})`);
    }
    if (failures > config.maxStressFailures) vetoes.push(`stress survival ${survival}: ${failures} crises breach a floor, at most ${config.maxStressFailures} allowed`);
  }

  if (memo.hedging.status === "unavailable") flags.push(`hedging: ${memo.hedging.reason}`);
  else if (memo.hedging.volatility.fallbackReason) flags.push(`hedging: sample volatility (${memo.hedging.volatility.fallbackReason})`);

  return { veto: vetoes.length > 0, killReason: vetoes.length > 0 ? vetoes.join("; ") : null, riskFlags: flags };
}

export type RuleReviewerOptions = {
  /** The advisory settings, fixed or per request (e.g. from the account's preset). */
  readonly config?: AdvisoryConfigInput | ((request: ReviewRequest) => AdvisoryConfig);
  /** The market history of the request's symbol; null when there is none (a "missing history" flag). */
  readonly marketOf: (request: ReviewRequest) => ReviewMarket | null;
  /** Where the chaos paths run: the process-wide worker pool by default. */
  readonly runChaos?: (request: ChaosRequest) => Promise<ChaosReport>;
  /** Receives each memo (to record it on the ledger with the verdict). */
  readonly onMemo?: (request: ReviewRequest, memo: Memo, verdict: Verdict) => void;
};

export type RuleReviewer = Reviewer & {
  /** The memo and the verdict on it. */
  assess(request: ReviewRequest, signal: AbortSignal): Promise<{ memo: Memo; verdict: Verdict }>;
};

const emptyMarket = (symbol: string): ReviewMarket => ({ symbol, returns: [], benchmark: null, lastPrice: null, contractSize: 1 });

export function createRuleReviewer(options: RuleReviewerOptions): RuleReviewer {
  const fixed = typeof options.config === "function" ? null : AdvisoryConfigSchema.parse(options.config ?? {});
  const configOf = typeof options.config === "function" ? options.config : () => fixed!;
  const run = options.runChaos ?? runChaos;
  const reviewer: RuleReviewer = {
    name: "rule",
    async assess(request, signal) {
      signal.throwIfAborted();
      const config = configOf(request);
      const market = options.marketOf(request) ?? emptyMarket(request.intent.symbol);
      const memo = await createMemo({ intent: request.intent, decision: request.decision, account: request.account, market, config }, run);
      signal.throwIfAborted();
      const verdict = assessMemo(memo, config);
      options.onMemo?.(request, memo, verdict);
      return { memo, verdict };
    },
    async review(request, signal) {
      const { memo, verdict } = await reviewer.assess(request, signal);
      return { ...verdict, memo };
    },
  };
  return reviewer;
}
