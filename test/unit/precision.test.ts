import { describe, expect, it } from "vitest";
import { configured, decision, denial, given, opened, priced } from "./given";

/**
 * Issue 20, finding 3: prices on the instrument's tick, sizes on its lot step and at least its
 * minimum, as every venue requires (NautilusTrader denies both before the venue).
 */
const EURUSD = { sector: "fx", contractSize: 100_000, tickSize: 0.00001, averageDailyVolume: 1_000_000, lotStep: 0.01, minQuantity: 0.01 };
const withSteps = (instrument: Partial<typeof EURUSD> = {}) => given(configured({ instruments: { EURUSD: { ...EURUSD, ...instrument } } }), opened, priced);

describe("parameter_validity: prices on the tick", () => {
  it.each([
    ["limitPrice", { limitPrice: 1.0999999 }],
    ["slPrice", { slPrice: 1.0899999 }],
    ["tpPrice", { tpPrice: 1.1100001 }],
  ])("when the %s is off the 0.00001 tick, then the entry is denied with price_precision", (field, prices) => {
    const d = decision(withSteps(), prices);
    expect(d).toMatchObject({ outcome: "denied", guard: "parameter_validity", reason: "price_precision", limit: 0.00001, detail: field });
    expect(d.outcome === "denied" && d.observed).toBe(Object.values(prices)[0]);
  });

  it("allows prices on the tick despite floating-point noise, and an off-tick reference price (the strategy's view of the market)", () => {
    expect(decision(withSteps(), { limitPrice: 1.10001, slPrice: 1.09, tpPrice: 1.12 }).outcome).toBe("allowed");
    expect(decision(withSteps(), { referencePrice: 1.1000004 }).outcome).toBe("allowed");
  });
});

describe("parameter_validity: sizes on the lot step, at least the minimum", () => {
  it("when the quantity is off the 0.01 lot step, then the entry is denied with quantity_precision", () => {
    expect(denial(decision(withSteps(), { quantity: 1.111111111 }))).toEqual({ guard: "parameter_validity", reason: "quantity_precision", observed: 1.111111111, limit: 0.01 });
  });

  it("when the quantity is below the minimum, then the entry is denied with quantity_below_minimum", () => {
    expect(denial(decision(withSteps({ minQuantity: 0.1 }), { quantity: 0.05 }))).toEqual({ guard: "parameter_validity", reason: "quantity_below_minimum", observed: 0.05, limit: 0.1 });
  });

  it("allows sizes on the step despite floating-point noise (0.07 / 0.01 is 7.000000000000001)", () => {
    for (const quantity of [0.07, 0.29, 1.1, 3]) expect(decision(withSteps(), { quantity }).outcome).toBe("allowed");
  });

  it("enforces nothing for an instrument that states no lot step or minimum", () => {
    expect(decision(given(opened, priced), { quantity: 1.111111111 }).outcome).toBe("allowed");
  });

  it("rounds a target-weight size down to the lot step: 100% of 100K USD at 1.1 is 0.90 lots, not 0.909", () => {
    expect(decision(withSteps(), { quantity: undefined, targetWeight: 1 })).toMatchObject({ outcome: "allowed", approvedQuantity: 0.9 });
    expect(denial(decision(withSteps({ minQuantity: 1 }), { quantity: undefined, targetWeight: 1 }))).toEqual({ guard: "parameter_validity", reason: "quantity_below_minimum", observed: 0.9, limit: 1 });
  });
});

describe("sizing guards round a smaller size down to the lot step", () => {
  const stats = { stats: { winRate: 0.55, winLossRatio: 1 } };

  it("caps with Kelly at 5,000 / 110,000 = 0.04545 lots, approved as 0.04", () => {
    expect(decision(withSteps(), { ...stats, quantity: 1 })).toMatchObject({ outcome: "allowed", approvedQuantity: 0.04 });
  });

  it("when the rounded cap falls below the minimum, then the capping guard denies with quantity_below_minimum", () => {
    expect(denial(decision(withSteps({ minQuantity: 0.05 }), { ...stats, quantity: 1 }))).toEqual({ guard: "kelly_sizing", reason: "quantity_below_minimum", observed: 0.04, limit: 0.05 });
    expect(denial(decision(withSteps({ lotStep: 0.1, minQuantity: 0.1 }), { ...stats, quantity: 1 }))).toEqual({ guard: "kelly_sizing", reason: "quantity_below_minimum", observed: 0, limit: 0.1 });
  });
});
