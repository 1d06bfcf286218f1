/**
 * The deal memo (SPEC section 3, advisory; issue 8): chaos per path type, stress per crisis and
 * the hedges, for the position an intent would leave on the symbol, in one JSON-able object that
 * can be recorded on the ledger and parsed back (`Memo`). Pure, apart from `createMemo`, which
 * runs the chaos paths on the worker pool.
 *
 * What is assessed: the symbol's position after the trade (the open position plus the approved
 * size, signed), marked at the intent's reference (or limit) price, else the last price; the
 * account's other positions count only through its equity. The chaos seed is `seedOf(intentId)`
 * unless one is given, and is recorded: the memo reproduces from the ledger.
 *
 * Money: every amount is in the account's currency (`currency`), as its equity and floors are:
 * a position in an instrument quoted in another currency carries the engine's rate
 * (`position.accountPerQuote`), and its P/L is converted at it; with no rate nothing is assessed
 * (the engine denies such an entry anyway). Prices stay in the instrument's quote currency.
 */
import { z } from "zod";
import type { Return } from "../engine/market-stats";
import type { Intent } from "../engine/intent";
import type { Decision } from "../engine/types";
import { CurrencyCode } from "../engine/types";
import type { AccountView } from "../engine/views";
import type { ChaosReport as ChaosReportType, ChaosRequest as ChaosRequestType } from "./chaos";
import { ChaosPosition, ChaosReport, FloorAccount, estimateJumpDiffusion, simulateChaos } from "./chaos";
import type { AdvisoryConfig } from "./config";
import type { GarchResult } from "./garch";
import { fitGarch } from "./garch";
import { HedgeReport, priceHedges } from "./hedging";
import type { ReviewMarket } from "./history";
import { betaOf, periodsPerDayOf } from "./history";
import { seedOf } from "./random";
import type { StressReport as StressReportType } from "./stress";
import { StressReport, stressTest } from "./stress";

const skipped = z.strictObject({ status: z.literal("skipped"), reason: z.string() });

export const Memo = z.strictObject({
  version: z.literal(1),
  intentId: z.string(),
  accountId: z.string(),
  symbol: z.string(),
  /** The account's currency: every amount of the memo is in it. Absent in memos recorded before it was stated (the account's currency applies). */
  currency: CurrencyCode.optional(),
  /** The chaos engine's seed. */
  seed: z.number().int().min(0).max(0xffffffff),
  /** The position assessed (null: none, see `chaos.reason`). */
  position: ChaosPosition.nullable(),
  account: FloorAccount,
  history: z.strictObject({
    returns: z.number().int().nonnegative(),
    periodsPerDay: z.number().nullable(),
    benchmark: z.string().nullable(),
  }),
  chaos: z.discriminatedUnion("status", [z.strictObject({ status: z.literal("ran"), report: ChaosReport }), skipped]),
  stress: z.discriminatedUnion("status", [z.strictObject({ status: z.literal("ran"), report: StressReport }), skipped]),
  hedging: HedgeReport,
});
export type Memo = z.infer<typeof Memo>;

/** What a memo is built from: the review request's parts, the market history, the settings. */
export type AdvisoryInput = {
  readonly intent: Intent;
  readonly decision: Decision;
  readonly account: Pick<AccountView, "accountId" | "currency" | "equity" | "dailyLossFloor" | "maxLossFloor" | "positions">;
  readonly market: ReviewMarket;
  readonly config: AdvisoryConfig;
  readonly seed?: number;
};

/** Everything but the chaos paths: what `buildMemo` needs, and the chaos request to run (null: skipped, with why). */
export type AdvisoryPlan = {
  readonly input: AdvisoryInput;
  readonly seed: number;
  readonly position: ChaosPosition | null;
  readonly account: FloorAccount;
  readonly returns: readonly number[];
  readonly periodsPerDay: number | null;
  readonly chaos: { readonly request: ChaosRequestType } | { readonly skipped: string };
};

// The returns and their GARCH fit, per returns window: the engine replaces the window on each
// bar, so its identity stands for its content, and the fit is made once per bar, not per intent.
const fitted = new WeakMap<readonly Return[], { values: number[]; garch: GarchResult }>();
function returnsOf(window: readonly Return[]): { values: number[]; garch: GarchResult } {
  let entry = fitted.get(window);
  if (!entry) {
    const values = window.map((r) => r.value);
    entry = { values, garch: fitGarch(values) };
    fitted.set(window, entry);
  }
  return entry;
}

function positionOf(input: AdvisoryInput): { position: ChaosPosition } | { problem: string } {
  const { intent, decision, account, market } = input;
  const quantity = decision.outcome === "allowed" && decision.approvedQuantity !== null ? decision.approvedQuantity : intent.quantity;
  if (quantity === undefined) return { problem: "no quantity to assess" };
  const held = account.positions.find((p) => p.symbol === intent.symbol)?.quantity ?? 0;
  const net = held + (intent.side === "BUY" ? quantity : -quantity);
  if (Math.abs(net) < 1e-9) return { problem: "flat after the trade" };
  const price = intent.referencePrice ?? intent.limitPrice ?? market.lastPrice;
  if (price === undefined || price === null || !(price > 0)) return { problem: "no price to mark the position at" };
  const position: ChaosPosition = { side: net > 0 ? "long" : "short", quantity: Math.abs(net), price, contractSize: market.contractSize };
  const quoteCurrency = market.quoteCurrency ?? account.currency;
  if (quoteCurrency === account.currency) return { position };
  const rate = market.accountPerQuote;
  if (rate === undefined || rate === null || !Number.isFinite(rate) || !(rate > 0)) return { problem: `no rate converts ${quoteCurrency} to ${account.currency}` };
  return { position: { ...position, quoteCurrency, accountPerQuote: rate } };
}

export function planAdvisory(input: AdvisoryInput): AdvisoryPlan {
  const { config, market } = input;
  const seed = input.seed ?? seedOf(input.intent.intentId);
  const account = { equity: input.account.equity, dailyLossFloor: input.account.dailyLossFloor, maxLossFloor: input.account.maxLossFloor };
  const { values } = returnsOf(market.returns);
  const periodsPerDay = config.periodsPerDay ?? periodsPerDayOf(market.returns);
  const held = positionOf(input);
  const position = "position" in held ? held.position : null;
  const plan = { input, seed, position, account, returns: values, periodsPerDay };
  if (!position) return { ...plan, chaos: { skipped: "problem" in held ? held.problem : "no position" } };
  if (periodsPerDay === null) return { ...plan, chaos: { skipped: `missing history: ${market.returns.length} returns, no bar spacing` } };
  const { tailSigmas, drift, minReturns, paths, steps, horizonDays, flashCrashPct, gapDownPct } = config.chaos;
  const estimate = estimateJumpDiffusion(values, { tailSigmas, zeroDrift: drift === "zero", minReturns });
  if (!estimate.ok) return { ...plan, chaos: { skipped: `missing history: ${estimate.detail}` } };
  const { ok, ...model } = estimate;
  void ok;
  const request: ChaosRequestType = { seed, paths, steps, horizonPeriods: horizonDays * periodsPerDay, model, position, account, flashCrashPct, gapDownPct };
  return { ...plan, chaos: { request } };
}

function stressOf(plan: AdvisoryPlan): Memo["stress"] {
  const { position, account, input } = plan;
  if (!position) return { status: "skipped", reason: plan.chaos && "skipped" in plan.chaos ? plan.chaos.skipped : "no position" };
  const { market, config } = input;
  const given = config.betas[market.symbol];
  const { beta, betaSource } = ((): Pick<StressReportType, "beta" | "betaSource"> => {
    if (given !== undefined) return { beta: given, betaSource: "given" };
    if (market.benchmark === null || market.benchmark.symbol === market.symbol) return { beta: 1, betaSource: market.benchmark?.symbol === market.symbol ? "benchmark" : "assumed" };
    const estimated = betaOf(market.returns, market.benchmark.returns);
    return estimated ? { beta: estimated.beta, betaSource: "estimated" } : { beta: 1, betaSource: "assumed" };
  })();
  return { status: "ran", report: stressTest({ position, account, beta, betaSource }) };
}

export type MemoInput = AdvisoryInput & {
  /** The chaos report of `planAdvisory(input).chaos.request`, run elsewhere (the worker pool); simulated here when absent. */
  readonly chaos?: ChaosReportType | null;
};

/** The memo of `input`. Synchronous: give `chaos` from the worker pool (see `createMemo`), or it is simulated on this thread. */
export function buildMemo(input: MemoInput, plan: AdvisoryPlan = planAdvisory(input)): Memo {
  const { intent, market, config } = input;
  let chaos: Memo["chaos"];
  if ("skipped" in plan.chaos) chaos = { status: "skipped", reason: plan.chaos.skipped };
  else {
    const report = input.chaos ?? simulateChaos(plan.chaos.request);
    if (report.seed !== plan.seed || report.paths !== plan.chaos.request.paths) throw new Error("buildMemo: the chaos report is not of this request");
    chaos = { status: "ran", report };
  }
  const hedging: HedgeReport =
    plan.position && plan.periodsPerDay !== null
      ? priceHedges({
          position: plan.position,
          returns: plan.returns,
          periodsPerYear: plan.periodsPerDay * 365,
          params: config.hedging,
          garch: returnsOf(market.returns).garch,
        })
      : { status: "unavailable", reason: plan.position ? "missing history: no bar spacing" : "no position" };
  return {
    version: 1,
    intentId: intent.intentId,
    accountId: intent.accountId,
    symbol: intent.symbol,
    currency: input.account.currency,
    seed: plan.seed,
    position: plan.position,
    account: plan.account,
    history: { returns: market.returns.length, periodsPerDay: plan.periodsPerDay, benchmark: market.benchmark?.symbol ?? null },
    chaos,
    stress: stressOf(plan),
    hedging,
  };
}

/** The memo with its chaos paths run by `runChaos` (the worker pool, by default: see chaos-pool.ts). */
export async function createMemo(input: AdvisoryInput, runChaos: (request: ChaosRequestType) => Promise<ChaosReportType>): Promise<Memo> {
  const plan = planAdvisory(input);
  const chaos = "request" in plan.chaos ? await runChaos(plan.chaos.request) : null;
  return buildMemo({ ...input, chaos }, plan);
}
