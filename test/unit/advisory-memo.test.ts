import { describe, expect, it } from "vitest";
import { simulateChaos } from "@/server/advisory/chaos";
import { runChaos } from "@/server/advisory/chaos-pool";
import { AdvisoryConfig } from "@/server/advisory/config";
import type { ReviewMarket } from "@/server/advisory/history";
import { betaOf, periodsPerDayOf, reviewMarketOf } from "@/server/advisory/history";
import type { AdvisoryInput } from "@/server/advisory/memo";
import { Memo, buildMemo, createMemo, planAdvisory } from "@/server/advisory/memo";
import { seedOf, Random } from "@/server/advisory/random";
import { assessMemo, createRuleReviewer } from "@/server/advisory/rule-reviewer";
import { SymbolId } from "@/server/engine/ids";
import type { Return } from "@/server/engine/market-stats";
import { ReviewOutcome } from "@/server/engine/types";
import type { Decision } from "@/server/engine/types";
import { accountView } from "@/server/engine/views";
import type { ReviewRequest } from "@/server/reviewer";
import { obtainReview } from "@/server/reviewer";
import { accountId, given, intent, long, opened, priced } from "./given";

// 1-minute bars: EURUSD moves 0.5 × the benchmark's factor plus its own noise (beta ≈ 0.5).
function history(n: number, seed = 8): { symbol: Return[]; benchmark: Return[] } {
  const random = new Random(seed);
  const symbol: Return[] = [];
  const benchmark: Return[] = [];
  for (let i = 0; i < n; i++) {
    const at = 1_700_000_000_000 + i * 60_000;
    const factor = 0.0003 * random.normal();
    benchmark.push({ at, value: factor });
    symbol.push({ at, value: 0.5 * factor + 0.0001 * random.normal() });
  }
  return { symbol, benchmark };
}

const { symbol: returns, benchmark } = history(500);
const market: ReviewMarket = { symbol: "EURUSD", returns, benchmark: { symbol: "US500", returns: benchmark }, lastPrice: 1.1, contractSize: 100_000 };
const state = given(opened, priced);
const account = accountView(state.accounts.get(accountId)!, state); // FTMO 100K: daily floor 95,000, max-loss floor 90,000
const config = AdvisoryConfig.parse({ chaos: { paths: 2_000 } });

function request(lots: number, side: "BUY" | "SELL" = "BUY", view = account): ReviewRequest {
  const i = intent({ quantity: lots, side, referencePrice: 1.1 });
  const decision: Decision = { intentId: i.intentId, accountId, outcome: "allowed", approvedQuantity: lots, guard: null, reason: null, observed: null, limit: null, advisories: [] };
  return { intent: i, decision, account: view };
}
const input = (lots: number, overrides: Partial<AdvisoryInput> = {}): AdvisoryInput => ({ ...request(lots), market, config, ...overrides });
const syncChaos = async (r: Parameters<typeof simulateChaos>[0]) => simulateChaos(r);

describe("market history", () => {
  it("reads the bar spacing and the beta to the benchmark", () => {
    expect(periodsPerDayOf(returns)).toBe(1_440);
    expect(betaOf(returns, benchmark)!.beta).toBeCloseTo(0.5, 1);
    expect(betaOf(returns.slice(0, 5), benchmark)).toBeNull();
  });

  it("takes the review market from the engine state", () => {
    expect(reviewMarketOf(state, SymbolId.parse("EURUSD"), SymbolId.parse("US500"), "USD")).toEqual({
      symbol: "EURUSD",
      returns: [],
      benchmark: null,
      lastPrice: 1.1,
      contractSize: 100_000,
      quoteCurrency: "USD",
      accountPerQuote: 1,
    });
  });
});

describe("deal memo", () => {
  it("combines chaos, stress and hedges, records the seed, and parses back from JSON", () => {
    const memo = buildMemo(input(0.1));
    expect(memo.seed).toBe(seedOf("i-1"));
    expect(memo.position).toEqual({ side: "long", quantity: 0.1, price: 1.1, contractSize: 100_000 });
    expect(memo.chaos.status).toBe("ran");
    expect(memo.stress).toMatchObject({ status: "ran", report: { betaSource: "estimated" } });
    expect(memo.hedging).toMatchObject({ status: "priced", volatility: { source: "garch" } });
    expect(Memo.parse(JSON.parse(JSON.stringify(memo)))).toEqual(memo);
    expect(buildMemo(input(0.1))).toEqual(memo);
  });

  it("is the same whether the chaos paths ran on the worker pool or on this thread", async () => {
    expect(await createMemo(input(0.3), runChaos)).toEqual(buildMemo(input(0.3)));
  });

  it("assesses the symbol's position after the trade", () => {
    const held = given(opened, long, priced); // 1 lot EURUSD long
    const view = accountView(held.accounts.get(accountId)!, held);
    expect(planAdvisory({ ...request(0.4, "SELL", view), market, config }).position).toMatchObject({ side: "long", quantity: 0.6 });
    expect(planAdvisory({ ...request(1.5, "SELL", view), market, config }).position).toMatchObject({ side: "short", quantity: 0.5 });
    expect(planAdvisory({ ...request(1, "SELL", view), market, config }).chaos).toEqual({ skipped: "flat after the trade" });
  });

  it("says what is missing when the history is too short", () => {
    const memo = buildMemo(input(0.1, { market: { ...market, returns: returns.slice(0, 10), benchmark: null } }));
    expect(memo.chaos).toEqual({ status: "skipped", reason: "missing history: 10 returns, at least 30 needed" });
    expect(memo.stress).toMatchObject({ status: "ran", report: { beta: 1, betaSource: "assumed" } });
    expect(memo.hedging).toMatchObject({ status: "priced", volatility: { source: "sample" } });
  });
});

describe("rule reviewer", () => {
  it("given a small position then allows it without flags", () => {
    expect(assessMemo(buildMemo(input(0.1)), config)).toEqual({ veto: false, killReason: null, riskFlags: [] });
  });

  it("given 2 lots (220,000 USD) on a 100K account then vetoes, listing every risk flag", () => {
    const verdict = assessMemo(buildMemo(input(2)), config);
    expect(verdict.veto).toBe(true);
    expect(verdict.killReason).toMatch(/chaos flash_crash: ruin rate 100\.00% above 2%/);
    expect(verdict.killReason).toMatch(/stress survival \d\/4/);
    expect(verdict.riskFlags).toContain("chaos flash_crash: ruin rate 100.00% above 2%");
    expect(verdict.riskFlags.filter((flag) => flag.startsWith("stress black_monday_1987: breaches the daily-loss and max-loss floor"))).toHaveLength(1);
  });

  it("fails closed on missing history, or only flags it when so configured", () => {
    const short = { ...market, returns: returns.slice(0, 10) };
    const memo = buildMemo(input(0.1, { market: short }));
    expect(assessMemo(memo, config)).toMatchObject({ veto: true, killReason: "missing history: 10 returns, at least 30 needed (fail closed)" });
    expect(assessMemo(memo, { ...config, onMissingHistory: "flag" })).toEqual({
      veto: false,
      killReason: null,
      riskFlags: [
        "chaos not run: missing history: 10 returns, at least 30 needed",
        "stress: beta assumed 1 (no shared benchmark history)",
        "hedging: sample volatility (GARCH(1,1) not used: 10 returns, at least 50 needed)",
      ],
    });
  });

  it("implements Reviewer: obtainReview records its verdict, and it hands over the memo", async () => {
    const memos: Memo[] = [];
    const reviewer = createRuleReviewer({ config: { chaos: { paths: 2_000 } }, marketOf: () => market, runChaos: syncChaos, onMemo: (_, memo) => memos.push(memo) });
    const outcome = await obtainReview(reviewer, request(2), 5_000);
    expect(ReviewOutcome.parse(outcome)).toMatchObject({ status: "verdict", reviewer: "rule", veto: true });
    expect(memos).toHaveLength(1);
    expect(memos[0]!.seed).toBe(seedOf("i-1"));
    const none = createRuleReviewer({ marketOf: () => null, runChaos: syncChaos });
    expect(await obtainReview(none, request(0.1), 5_000)).toMatchObject({ status: "verdict", veto: true, killReason: "missing history: 0 returns, no bar spacing (fail closed)" });
  });
});
