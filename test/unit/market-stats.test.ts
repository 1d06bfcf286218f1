import { describe, expect, it } from "vitest";
import type { Bar, MarketStats } from "@/server/engine/market-stats";
import { emptyStats, ewmaCorrelation, foldBar } from "@/server/engine/market-stats";

const params = { returnsWindow: 5, ewmaLambda: 0.94, atrPeriod: 3 };
const bar = (at: number, close: number, high = close + 1, low = close - 1): Bar => ({ at, open: close, high, low, close, volume: 1_000 });
const fold = (bars: Bar[], p = params): MarketStats => bars.reduce((stats, b) => foldBar(stats, b, p), emptyStats);

describe("rolling market statistics", () => {
  it("keeps close-to-close log returns, bounded by the window", () => {
    const stats = fold([100, 110, 99, 99, 120, 130, 125].map((close, i) => bar(i, close)));
    expect(stats.returns).toHaveLength(5);
    expect(stats.returns[4]).toEqual({ at: 6, value: Math.log(125 / 130) });
    expect(stats.returns[0]!.at).toBe(2);
  });

  it("updates the EWMA variance as RiskMetrics does", () => {
    const r1 = Math.log(110 / 100);
    const r2 = Math.log(99 / 110);
    expect(fold([bar(0, 100), bar(1, 110), bar(2, 99)]).ewmaVariance).toBeCloseTo(0.94 * r1 * r1 + 0.06 * r2 * r2, 15);
  });

  it("seeds the ATR with the mean true range of the first period, then smooths it Wilder's way", () => {
    // True ranges: 10 (first bar: high − low), then max(h − l, |h − prev|, |l − prev|).
    const bars = [bar(0, 100, 105, 95), bar(1, 104, 108, 101), bar(2, 98, 103, 90), bar(3, 99, 100, 97)];
    const tr = [10, 8, 14, 3];
    expect(fold(bars.slice(0, 2)).atr).toBeNull();
    expect(fold(bars.slice(0, 3)).atr).toBeCloseTo((10 + 8 + 14) / 3, 12);
    expect(fold(bars).atr).toBeCloseTo(((tr[0]! + tr[1]! + tr[2]!) / 3) * (2 / 3) + tr[3]! / 3, 12);
  });
});

describe("EWMA correlation", () => {
  const series = (values: number[], from = 0) => values.map((value, i) => ({ at: from + i, value }));
  const wiggle = [0.01, -0.02, 0.015, -0.005, 0.02, -0.01, 0.003, -0.012];

  it("is 1 for identical series and −1 for mirrored ones", () => {
    expect(ewmaCorrelation(series(wiggle), series(wiggle), 0.94, 5).correlation).toBeCloseTo(1, 12);
    expect(ewmaCorrelation(series(wiggle), series(wiggle.map((v) => -v)), 0.94, 5).correlation).toBeCloseTo(-1, 12);
  });

  it("uses only the bars both series share", () => {
    const result = ewmaCorrelation(series(wiggle), series(wiggle, 4), 0.94, 2);
    expect(result.observations).toBe(4);
  });

  it("has no value below the minimum number of shared observations, or for a flat series", () => {
    expect(ewmaCorrelation(series(wiggle), series(wiggle), 0.94, 9)).toEqual({ correlation: null, observations: 8 });
    expect(ewmaCorrelation(series(wiggle), series(wiggle.map(() => 0.01)), 0.94, 5).correlation).toBeNull();
  });
});
