import { describe, expect, it } from "vitest";
import { blackScholes, optionPrice } from "@/server/advisory/black-scholes";
import type { ChaosPosition } from "@/server/advisory/chaos";
import { simulateGarch } from "@/server/advisory/garch";
import type { Hedge, HedgeReport } from "@/server/advisory/hedging";
import { priceHedges } from "@/server/advisory/hedging";
import { Random } from "@/server/advisory/random";

const random = new Random(17);
const returns = simulateGarch(1_000, { omega: 2e-6, alpha: 0.08, beta: 0.9 }, () => random.normal());
const long: ChaosPosition = { side: "long", quantity: 50, price: 200, contractSize: 2 }; // 100 units, 20,000 USD
const params = { tenorDays: 30, ratePerYear: 0.04, protectionOtmPct: 5, spreadWidthPct: 10 };

function priced(report: HedgeReport) {
  if (report.status !== "priced") throw new Error(report.reason);
  const m = { spot: report.spot, ratePerYear: report.ratePerYear, volPerYear: report.volatility.volPerYear, years: report.tenorDays / 365 };
  const of = (name: Hedge["structure"]) => report.hedges.find((h) => h.structure === name)!;
  return { report, m, of };
}

describe("tail hedging", () => {
  it("prices a protective put whose maximum loss is (S − K + premium) × units", () => {
    const { report, m, of } = priced(priceHedges({ position: long, returns, periodsPerYear: 252, params }));
    const put = of("protective_put");
    const premium = optionPrice({ type: "put", strike: 190, ...m });
    expect(report.volatility.source).toBe("garch");
    expect(put.legs).toEqual([{ type: "put", direction: 1, strike: 190, premiumPerUnit: premium }]);
    expect(put.maxLoss).toBeCloseTo((200 - 190 + premium) * 100, 9);
    expect(put.premium).toBeCloseTo(premium * 100, 9);
    expect(put.breakeven).toBeCloseTo(200 + premium, 12);
    expect(put.costPctOfPosition).toBeCloseTo((premium / 200) * 100, 12);
    expect(put.maxGain).toBeNull();
    const greeks = blackScholes({ type: "put", strike: 190, ...m });
    expect(put.greeks.delta).toBeCloseTo(100 * greeks.delta, 9);
    expect(put.greeks.vegaPerVol).toBeCloseTo(100 * greeks.vegaPerVol, 9);
    expect(put.hedgedDelta).toBeCloseTo(100 + 100 * greeks.delta, 9);
  });

  it("prices a put spread: cheaper than the put, losses resume below the sold strike", () => {
    const { m, of } = priced(priceHedges({ position: long, returns, periodsPerYear: 252, params }));
    const spread = of("put_spread");
    const net = optionPrice({ type: "put", strike: 190, ...m }) - optionPrice({ type: "put", strike: 170, ...m });
    expect(spread.netPremiumPerUnit).toBeCloseTo(net, 12);
    expect(spread.netPremiumPerUnit).toBeLessThan(of("protective_put").netPremiumPerUnit);
    // At S_T = 0: −200 + (190 − 170) − net per unit.
    expect(spread.maxLoss).toBeCloseTo((200 - 20 + net) * 100, 9);
  });

  it("prices a zero-cost collar: the sold call's premium finances the put", () => {
    const { m, of } = priced(priceHedges({ position: long, returns, periodsPerYear: 252, params }));
    const collar = of("collar");
    const [put, call] = collar.legs;
    expect(put).toMatchObject({ type: "put", direction: 1, strike: 190 });
    expect(call).toMatchObject({ type: "call", direction: -1 });
    expect(call!.strike).toBeGreaterThan(200);
    expect(optionPrice({ type: "call", strike: call!.strike, ...m })).toBeCloseTo(optionPrice({ type: "put", strike: 190, ...m }), 8);
    expect(Math.abs(collar.netPremiumPerUnit)).toBeLessThan(1e-8);
    expect(collar.maxLoss).toBeCloseTo((200 - 190) * 100, 5);
    expect(collar.maxGain).toBeCloseTo((call!.strike - 200) * 100, 5);
  });

  it("mirrors the structures for a short: protective call, call spread (unbounded above), collar", () => {
    const { m, of } = priced(priceHedges({ position: { ...long, side: "short" }, returns, periodsPerYear: 252, params }));
    const call = optionPrice({ type: "call", strike: 210, ...m });
    expect(of("protective_call").maxLoss).toBeCloseTo((210 - 200 + call) * 100, 9);
    expect(of("protective_call").breakeven).toBeCloseTo(200 - call, 12);
    expect(of("call_spread").maxLoss).toBeNull();
    expect(Math.abs(of("collar").netPremiumPerUnit)).toBeLessThan(1e-8);
    expect(of("collar").legs[1]).toMatchObject({ type: "put", direction: -1 });
  });

  it("falls back to the sample volatility when GARCH cannot be fitted, and says so", () => {
    const short = returns.slice(0, 20);
    const { report } = priced(priceHedges({ position: long, returns: short, periodsPerYear: 252, params }));
    const mean = short.reduce((s, r) => s + r, 0) / 20;
    const sd = Math.sqrt(short.reduce((s, r) => s + (r - mean) ** 2, 0) / 19);
    expect(report.volatility).toMatchObject({ source: "sample", garch: null, fallbackReason: "GARCH(1,1) not used: 20 returns, at least 50 needed" });
    expect(report.volatility.volPerYear).toBeCloseTo(sd * Math.sqrt(252), 12);
  });

  it("prices nothing, with the reason, when no volatility can be had", () => {
    expect(priceHedges({ position: long, returns: new Array(80).fill(0.001), periodsPerYear: 252 })).toMatchObject({ status: "unavailable" });
    expect(priceHedges({ position: long, returns: [0.01], periodsPerYear: 252 })).toMatchObject({ status: "unavailable" });
  });
});
