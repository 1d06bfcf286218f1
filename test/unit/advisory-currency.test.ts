import { describe, expect, it } from "vitest";
import type { ChaosRequest } from "@/server/advisory/chaos";
import { simulateChaos } from "@/server/advisory/chaos";
import { AdvisoryConfig } from "@/server/advisory/config";
import type { ReviewMarket } from "@/server/advisory/history";
import { reviewMarketOf } from "@/server/advisory/history";
import { reviewContent } from "@/server/advisory/llm-reviewer";
import { Memo, buildMemo } from "@/server/advisory/memo";
import { Random } from "@/server/advisory/random";
import { assessMemo } from "@/server/advisory/rule-reviewer";
import type { EngineEvent } from "@/server/engine/events";
import { SymbolId } from "@/server/engine/ids";
import type { Return } from "@/server/engine/market-stats";
import { AccountSpec } from "@/server/engine/types";
import type { Decision } from "@/server/engine/types";
import { accountView } from "@/server/engine/views";
import type { ReviewRequest } from "@/server/reviewer";
import { accountId, given, intent, opened, priced } from "./given";

/**
 * The deal memo and the reviewers in the account's currency: the floors are the account's, so
 * the position's P/L is converted from the instrument's quote currency at the engine's rate
 * before it is set against them, and the texts name the account's currency.
 */

const openedInEur: EngineEvent = { ...(opened as Extract<EngineEvent, { type: "account.opened" }>), account: AccountSpec.parse({ ...(opened as Extract<EngineEvent, { type: "account.opened" }>).account, currency: "EUR" }) };
const eurState = given(openedInEur, priced); // EURUSD 1.1
const eurAccount = accountView(eurState.accounts.get(accountId)!, eurState); // 100,000 EUR: daily floor 95,000, max-loss floor 90,000

const returns: Return[] = (() => {
  const random = new Random(5);
  return Array.from({ length: 10 }, (_, i) => ({ at: 1_700_000_000_000 + i * 60_000, value: 0.001 * random.normal() }));
})();
const config = AdvisoryConfig.parse({ chaos: { paths: 500 }, onMissingHistory: "flag" });

function request(symbol: string, lots: number, price: number, account = eurAccount): ReviewRequest {
  const i = intent({ symbol, quantity: lots, side: "BUY", referencePrice: price });
  const decision: Decision = { intentId: i.intentId, accountId, outcome: "allowed", approvedQuantity: lots, guard: null, reason: null, observed: null, limit: null, advisories: [] };
  return { intent: i, decision, account };
}

// 10 US500 at 5,000 (contract 1): 50,000 USD, at EURUSD 1.25 0.8 EUR a dollar: 40,000 EUR.
const us500: ReviewMarket = { symbol: "US500", returns, benchmark: null, lastPrice: 5_000, contractSize: 1, quoteCurrency: "USD", accountPerQuote: 0.8 };

describe("the deal memo of a EUR account", () => {
  it("converts the position into euros before the crises are set against the floors, and the flags say EUR", () => {
    const memo = buildMemo({ ...request("US500", 10, 5_000), market: us500, config });
    expect(memo.currency).toBe("EUR");
    expect(memo.position).toEqual({ side: "long", quantity: 10, price: 5_000, contractSize: 1, quoteCurrency: "USD", accountPerQuote: 0.8 });
    if (memo.stress.status !== "ran") throw new Error("stress not run");
    const report = memo.stress.report;
    expect(report).toMatchObject({ beta: 1, betaSource: "assumed", survival: "1/4", failures: 3 });
    expect(report.notional).toBeCloseTo(40_000, 6);
    const of = (crisis: string) => report.results.find((r) => r.crisis === crisis)!;
    // Black Monday −20.47%: −8,188 EUR in a day, past the daily floor 5,000 away, inside the max-loss floor 10,000 away.
    expect(of("black_monday_1987")).toMatchObject({ breachesDailyLoss: true, breachesMaxLoss: false });
    expect(of("black_monday_1987").worstPnl).toBeCloseTo(-8_188, 6);
    // 2008 −41.35% at the closing low: −16,540 EUR; its worst day −9.03%: −3,612 EUR, inside the daily floor.
    expect(of("gfc_2008")).toMatchObject({ breachesDailyLoss: false, breachesMaxLoss: true });
    expect(of("gfc_2008").worstPnl).toBeCloseTo(-16_540, 6);
    expect(of("gfc_2008").worstDayPnl).toBeCloseTo(-3_612, 6);
    // COVID −33.92%: −13,568 EUR; worst day −11.98%: −4,792 EUR.
    expect(of("covid_2020").worstPnl).toBeCloseTo(-13_568, 6);
    expect(of("covid_2020").worstDayPnl).toBeCloseTo(-4_792, 6);
    // The Flash Crash −8.58%: −3,432 EUR, survived.
    expect(of("flash_crash_2010")).toMatchObject({ survives: true });
    expect(of("flash_crash_2010").endPnl).toBeCloseTo(40_000 * -0.0324, 6);

    const verdict = assessMemo(memo, config);
    expect(verdict.riskFlags).toEqual([
      "chaos not run: missing history: 10 returns, at least 30 needed",
      "stress: beta assumed 1 (no shared benchmark history)",
      "stress black_monday_1987: breaches the daily-loss floor (worst -8,188 EUR at 19 Oct 1987 close, beta 1.00)",
      "stress gfc_2008: breaches the max-loss floor (worst -16,540 EUR at 20 Nov (closing low), beta 1.00)",
      "stress covid_2020: breaches the max-loss floor (worst -13,568 EUR at 23 Mar (low), beta 1.00)",
      "hedging: sample volatility (GARCH(1,1) not used: 10 returns, at least 50 needed)",
    ]);
    expect(Memo.parse(JSON.parse(JSON.stringify(memo)))).toEqual(memo);
  });

  it("prices the hedges per unit in the quote currency and for the position in euros", () => {
    const memo = buildMemo({ ...request("US500", 10, 5_000), market: us500, config });
    if (memo.hedging.status !== "priced") throw new Error("hedges not priced");
    const put = memo.hedging.hedges.find((hedge) => hedge.structure === "protective_put")!;
    expect(put.premium).toBeCloseTo(put.netPremiumPerUnit * 10 * 0.8, 9);
    expect(put.maxLoss).toBeCloseTo((5_000 - put.legs[0]!.strike + put.netPremiumPerUnit) * 10 * 0.8, 6);
  });

  it("assesses nothing when no rate converts the quote currency, rather than reading dollars as euros", () => {
    const memo = buildMemo({ ...request("US500", 10, 5_000), market: { ...us500, accountPerQuote: null }, config });
    expect(memo.position).toBeNull();
    expect(memo.stress).toEqual({ status: "skipped", reason: "no rate converts USD to EUR" });
    expect(memo.chaos).toEqual({ status: "skipped", reason: "no rate converts USD to EUR" });
  });

  it("takes the quote currency and the rate from the engine state, as the account's P/L is converted", () => {
    expect(reviewMarketOf(eurState, SymbolId.parse("EURUSD"), null, "EUR")).toMatchObject({ symbol: "EURUSD", quoteCurrency: "USD", accountPerQuote: 1 / 1.1 });
    expect(reviewMarketOf(eurState, SymbolId.parse("XAUUSD"), null, "GBP")).toMatchObject({ quoteCurrency: "USD", accountPerQuote: null });
    expect(reviewMarketOf(eurState, SymbolId.parse("EURUSD"), null, "USD")).toMatchObject({ quoteCurrency: "USD", accountPerQuote: 1 });
  });

  it("scales the chaos losses by the rate, and the distances to the floors are the account's", () => {
    const base: ChaosRequest = {
      seed: 7,
      paths: 500,
      steps: 24,
      horizonPeriods: 1_440,
      model: { muPerPeriod: 0, sigmaPerPeriod: 0.001, jumpsPerPeriod: 0, jumpLogMean: 0, jumpLogStd: 0, observations: 500, jumpObservations: 0, tailSigmas: 3 },
      position: { side: "long", quantity: 1_000, price: 100, contractSize: 1 },
      account: { equity: 100_000, dailyLossFloor: 95_000, maxLossFloor: 90_000 },
      flashCrashPct: 9,
      gapDownPct: 5,
    };
    const inQuote = simulateChaos(base);
    const converted = simulateChaos({ ...base, position: { ...base.position, quoteCurrency: "USD", accountPerQuote: 0.8 } });
    expect(converted.distanceToDailyFloor).toBe(5_000);
    expect(converted.distanceToMaxFloor).toBe(10_000);
    expect(converted.byPathType.flash_crash.peakLoss.p95).toBeCloseTo(inQuote.byPathType.flash_crash.peakLoss.p95 * 0.8, 6);
    expect(converted.byPathType.normal.endLoss.p50).toBeCloseTo(inQuote.byPathType.normal.endLoss.p50 * 0.8, 6);
  });
});

describe("the deal memo of a USD account", () => {
  // 2 lots of EURUSD on the FTMO 100K account, 500 paths: the flags the code before account
  // currencies wrote (replay compares recorded verdicts; a USD account's texts stay byte for byte).
  it("keeps the flags' text byte for byte", () => {
    const random = new Random(8);
    const symbol: Return[] = [], benchmark: Return[] = [];
    for (let i = 0; i < 500; i++) {
      const at = 1_700_000_000_000 + i * 60_000;
      const factor = 0.0003 * random.normal();
      benchmark.push({ at, value: factor });
      symbol.push({ at, value: 0.5 * factor + 0.0001 * random.normal() });
    }
    const state = given(opened, priced);
    const market: ReviewMarket = { ...reviewMarketOf(state, SymbolId.parse("EURUSD"), null, "USD"), returns: symbol, benchmark: { symbol: "US500", returns: benchmark } };
    const usdConfig = AdvisoryConfig.parse({ chaos: { paths: 500 } });
    const memo = buildMemo({ ...request("EURUSD", 2, 1.1, accountView(state.accounts.get(accountId)!, state)), market, config: usdConfig });
    expect(memo.currency).toBe("USD");
    expect(memo.position).toEqual({ side: "long", quantity: 2, price: 1.1, contractSize: 100_000 });
    expect(assessMemo(memo, usdConfig)).toEqual({
      veto: true,
      killReason: "chaos flash_crash: ruin rate 100.00% above 2%; chaos gap_down: ruin rate 100.00% above 2%; stress survival 0/4: 4 crises breach a floor, at most 1 allowed",
      riskFlags: [
        "chaos flash_crash: ruin rate 100.00% above 2%",
        "chaos gap_down: ruin rate 100.00% above 2%",
        "stress black_monday_1987: breaches the daily-loss and max-loss floor (worst -21,955 USD at 19 Oct 1987 close, beta 0.49)",
        "stress gfc_2008: breaches the daily-loss and max-loss floor (worst -44,349 USD at 20 Nov (closing low), beta 0.49)",
        "stress covid_2020: breaches the daily-loss and max-loss floor (worst -36,381 USD at 23 Mar (low), beta 0.49)",
        "stress flash_crash_2010: breaches the daily-loss floor (worst -9,202 USD at 14:47 (low), beta 0.49)",
      ],
    });
  });
});

describe("the LLM reviewer's request", () => {
  it("names the account's currency beside the figures it sends", () => {
    const memo = buildMemo({ ...request("US500", 10, 5_000), market: us500, config });
    const content = JSON.parse(reviewContent(request("US500", 10, 5_000), memo));
    expect(content.account).toMatchObject({ accountId, currency: "EUR", equity: 100_000, dailyLossFloor: 95_000, maxLossFloor: 90_000 });
    expect(content.memo.currency).toBe("EUR");
    const usd = given(opened, priced);
    expect(JSON.parse(reviewContent(request("EURUSD", 1, 1.1, accountView(usd.accounts.get(accountId)!, usd)), null)).account.currency).toBe("USD");
  });
});
