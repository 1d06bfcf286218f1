import { describe, expect, it } from "vitest";
import type { EngineConfigInput } from "@/server/engine/config";
import type { EngineEvent } from "@/server/engine/events";
import { SymbolId } from "@/server/engine/ids";
import { emptyStats, ewmaCorrelation, foldBar, tailLossPerUnit } from "@/server/engine/market-stats";
import { configured, decision, denial, EURUSD, fill, given, opened, priced, run } from "./given";

const GBPUSD = SymbolId.parse("GBPUSD");
const instruments = {
  EURUSD: { sector: "fx", contractSize: 100_000, tickSize: 0.00001, averageDailyVolume: 1_000_000 },
  GBPUSD: { sector: "fx", contractSize: 100_000, tickSize: 0.00001, averageDailyVolume: 1_000_000 },
};
const on = (guards: EngineConfigInput["guards"]): EngineEvent => configured({ instruments, guards });

/** Bars whose closes follow the log returns `returns` from `start`, one a millisecond from t = 1,000. */
function bars(symbol: SymbolId, returns: number[], start = 1.1): EngineEvent[] {
  let close = start;
  return [0, ...returns].map((r, i) => {
    close *= Math.exp(r);
    return { type: "market.bar", at: 1_000 + i, symbol, open: close, high: close, low: close, close, volume: 1 };
  });
}

describe("position_correlation", () => {
  const wiggle = [0.01, -0.02, 0.015, -0.005, 0.02, -0.01, 0.003, -0.012, 0.007, -0.004, 0.011, -0.016];
  const mixed = wiggle.map((v, i) => (i % 3 === 0 ? -v : v));
  const guard = (extra: Record<string, number> = {}) => on({ positionCorrelation: { enabled: true, minObservations: 10, ...extra } });
  /** Long (or short) 1 lot of GBPUSD, both symbols with bar history, EURUSD freshly priced. */
  const holding = (gbp: number[], eur: number[], side: "BUY" | "SELL" = "BUY", extra: Record<string, number> = {}) =>
    run(given(guard(extra), opened, ...bars(GBPUSD, gbp, 1.27), ...bars(EURUSD, eur)), {
      type: "RecordFills",
      at: 2_000,
      fills: [fill(side, 1, 1.27, { symbol: GBPUSD })],
    }, { type: "RecordMarket", at: 2_500, updates: [{ kind: "tick", symbol: EURUSD, price: 1.1 }] }).state;

  it("denies buying a symbol that moves with a long position", () => {
    const d = decision(holding(wiggle, wiggle));
    expect(d).toMatchObject({ outcome: "denied", guard: "position_correlation", reason: "correlated_with_position", observed: 1, limit: 0.75, detail: "long GBPUSD" });
  });

  it("lets a hedge through: selling next to a long, or buying next to a short", () => {
    expect(decision(holding(wiggle, wiggle), { side: "SELL" }).outcome).toBe("allowed");
    expect(decision(holding(wiggle, wiggle, "SELL")).outcome).toBe("allowed");
    expect(denial(decision(holding(wiggle, wiggle, "SELL"), { side: "SELL" }))).toMatchObject({ reason: "correlated_with_position" });
  });

  it("is at its limit when the correlation equals it, over it just above", () => {
    const returns = (values: number[]) => values.map((value, i) => ({ at: 1_001 + i, value }));
    const c = ewmaCorrelation(returns(mixed), returns(wiggle), 0.94, 10).correlation!;
    expect(decision(holding(wiggle, mixed, "BUY", { maxCorrelation: c + 0.001 })).outcome).toBe("allowed");
    expect(decision(holding(wiggle, mixed, "BUY", { maxCorrelation: c })).outcome).toBe("allowed");
    expect(denial(decision(holding(wiggle, mixed, "BUY", { maxCorrelation: c - 0.001 })))).toMatchObject({ reason: "correlated_with_position" });
  });

  it("denies when the history shared with a position is too short (fail closed), and passes with no positions", () => {
    const d = decision(holding(wiggle, wiggle.slice(0, 5)));
    expect(d).toMatchObject({ outcome: "denied", reason: "insufficient_history", observed: 5, limit: 10, detail: "GBPUSD" });
    expect(decision(given(guard(), opened, priced)).outcome).toBe("allowed");
  });

  it("is off by default", () => {
    const state = run(given(opened, ...bars(GBPUSD, wiggle), ...bars(EURUSD, wiggle)), { type: "RecordMarket", at: 2_500, updates: [{ kind: "tick", symbol: EURUSD, price: 1.1 }] }).state;
    expect(decision(state).outcome).toBe("allowed");
  });
});

describe("cvar", () => {
  // 100 returns: 95 of +0.1% and 5 of −2%. At 95%, the tail is the 5 worst: a long loses
  // 1 − e^−0.02 = 1.98013% of its notional there. 1 lot at 1.1 is 110,000 USD: CVaR 2,178 USD,
  // 2.178% of the 100,000 equity. The 5% limit sits at 5,000 / (110,000 × 0.0198013) lots.
  const history = [...Array<number>(95).fill(0.001), ...Array<number>(5).fill(-0.02)];
  const tailLong = -Math.expm1(-0.02);
  const atLimit = 5_000 / (110_000 * tailLong);
  const guard = (minObservations = 100) => on({ cvar: { enabled: true, minObservations } });
  const state = (returns = history, minObservations?: number) => given(guard(minObservations), opened, ...bars(EURUSD, returns), priced);

  it("takes the mean of the worst 5% of the returns as the tail loss", () => {
    const params = { returnsWindow: 500, ewmaLambda: 0.94, atrPeriod: 14 };
    const stats = bars(EURUSD, history).reduce((s, e) => (e.type === "market.bar" ? foldBar(s, e, params) : s), emptyStats);
    const tail = tailLossPerUnit(stats, 95);
    expect(tail.long).toBeCloseTo(tailLong, 12);
    expect(tail.short).toBeCloseTo(Math.expm1(0.001), 12);
  });

  it("allows a position whose CVaR is at the limit and denies one just above", () => {
    expect(decision(state(), { quantity: atLimit }).outcome).toBe("allowed");
    expect(decision(state(), { quantity: atLimit * 1.0001 })).toMatchObject({
      outcome: "denied",
      guard: "cvar",
      reason: "cvar_exceeded",
      observed: 5.0005,
      limit: 5,
    });
    expect(decision(state(), { quantity: 1 }).outcome).toBe("allowed");
  });

  it("judges the position after the trade, held quantity included", () => {
    const holding = run(state(), { type: "RecordFills", at: 2_000, fills: [fill("BUY", 2, 1.1)] }).state;
    expect(decision(holding, { quantity: 1 })).toMatchObject({ outcome: "denied", reason: "cvar_exceeded" }); // 3 lots
    expect(decision(holding, { action: "SCALE", side: "SELL", quantity: 1 }).outcome).toBe("allowed"); // 1 lot left
  });

  it("sizes a short by the other tail", () => {
    expect(decision(state(), { side: "SELL", quantity: 3 }).outcome).toBe("allowed"); // tail +0.1%: 330 USD
  });

  it("denies when the history is too short (fail closed)", () => {
    expect(denial(decision(state(history.slice(1)), { quantity: 1 }))).toEqual({ guard: "cvar", reason: "insufficient_history", observed: 99, limit: 100 });
  });
});
