import { describe, expect, it } from "vitest";
import type { Bar, MarketStats } from "@/server/engine/market-stats";
import { correlationOf, emptyStats, ewmaCorrelation, foldBar } from "@/server/engine/market-stats";
import type { EngineEvent } from "@/server/engine/events";
import { SymbolId } from "@/server/engine/ids";
import { EngineConfig } from "@/server/engine/config";
import { evolve, initialState, pairOf } from "@/server/engine/state";

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

  it("keeps the window's simple returns sorted as returns enter and leave it", () => {
    const closes = [100, 110, 99, 99, 120, 130, 125, 80, 140, 141];
    const stats = fold(closes.map((close, i) => bar(i, close)));
    expect(stats.sortedSimpleReturns).toEqual(stats.returns.map((r) => Math.expm1(r.value)).sort((a, b) => a - b));
    expect(stats.sortedSimpleReturns).toHaveLength(5);
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

describe("pair moments folded as bars arrive", () => {
  const [A, B, C] = ["AAA", "BBB", "CCC"].map((s) => SymbolId.parse(s)) as [SymbolId, SymbolId, SymbolId];
  const config = EngineConfig.parse({ market: { returnsWindow: 50 } });
  const walk = (seed: number) => Array.from({ length: 40 }, (_, i) => 100 * Math.exp(Math.sin(seed * (i + 1) * 1.7) * 0.05));

  it("give the same correlation as the whole windows, whatever order a close time's bars arrive in", () => {
    const a = walk(1), b = walk(2), c = walk(3);
    const events: EngineEvent[] = [];
    for (let i = 0; i < 40; i++) {
      const at = 1_000 + i * 60_000;
      const batch = [
        { symbol: A, close: a[i]! },
        { symbol: B, close: b[i]! },
        ...(i % 4 === 0 ? [] : [{ symbol: C, close: c[i]! }]), // C misses some bars
      ];
      if (i % 2) batch.reverse();
      for (const { symbol, close } of batch) events.push({ type: "market.bar", at, symbol, open: close, high: close, low: close, close, volume: 1 });
    }
    const state = events.reduce(evolve, initialState(config));
    const returnsOf = (s: SymbolId) => state.market.get(s)!.stats.returns;
    for (const [x, y] of [[A, B], [A, C], [B, C]] as const) {
      const folded = correlationOf(pairOf(state, x, y), 5);
      const whole = ewmaCorrelation(returnsOf(x), returnsOf(y), 0.94, 5);
      expect(folded.observations).toBe(whole.observations);
      expect(folded.correlation!).toBeCloseTo(whole.correlation!, 12);
    }
    // A new decay rebuilds the moments from the windows.
    const decayed = evolve(state, { type: "config.applied", at: 9e9, by: "t", config: EngineConfig.parse({ market: { returnsWindow: 50, ewmaLambda: 0.8 } }) });
    expect(correlationOf(pairOf(decayed, B, A), 5).correlation!).toBeCloseTo(ewmaCorrelation(returnsOf(A), returnsOf(B), 0.8, 5).correlation!, 12);
  });
});

describe("bar order", () => {
  it("refuses a bar that closes at or before the symbol's previous bar, within a batch too", async () => {
    const { decide } = await import("@/server/engine/decide");
    const symbol = SymbolId.parse("AAA");
    const at = (closedAt: number) => ({ kind: "bar" as const, symbol, closedAt, open: 1, high: 1, low: 1, close: 1, volume: 1 });
    const state = evolve(initialState(), { type: "market.bar", at: 5_000, symbol, open: 1, high: 1, low: 1, close: 1, volume: 1 });
    expect(decide({ type: "RecordMarket", at: 9_000, updates: [at(5_000)] }, state)).toMatchObject({
      ok: false,
      rejection: { code: "bar_out_of_order", barIndex: 0, closedAt: 5_000, lastBarAt: 5_000 },
    });
    expect(decide({ type: "RecordMarket", at: 9_000, updates: [at(7_000), at(6_000)] }, state)).toMatchObject({ rejection: { barIndex: 1 } });
    expect(decide({ type: "RecordMarket", at: 9_000, updates: [at(6_000), at(7_000)] }, state).ok).toBe(true);
  });
});
