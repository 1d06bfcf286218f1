import { describe, expect, it } from "vitest";
import type { EngineEvent } from "@/server/engine/events";
import { SymbolId } from "@/server/engine/ids";
import type { EngineState } from "@/server/engine/state";
import { evolve } from "@/server/engine/state";
import { accountId, configured, decision, denial, EURUSD, given, intent, long, opened, priced, when } from "./given";

describe("parameter_validity", () => {
  it("denies an intent on an instrument that is not configured", () => {
    expect(denial(decision(given(opened, priced), { symbol: "GBPUSD" }))).toEqual({
      guard: "parameter_validity",
      reason: "unknown_instrument",
      observed: "GBPUSD",
      limit: "configured instrument",
    });
  });

  it("denies a non-finite number even when it got past the boundary", () => {
    const poisoned = { ...intent(), quantity: Number.NaN };
    const result = when(given(opened, priced), { type: "SubmitIntent", at: 3_000, intent: poisoned });
    if (!result.ok) throw new Error("rejected");
    const decided = result.events[1]!;
    expect(decided.type === "intent.decided" && decided.decision).toMatchObject({ outcome: "denied", reason: "non_finite_input", observed: "quantity" });
  });

  it.each([
    ["BUY", 1.0999, "allowed"],
    ["BUY", 1.1, "stop_on_wrong_side"],
    ["BUY", 1.1001, "stop_on_wrong_side"],
    ["SELL", 1.1001, "allowed"],
    ["SELL", 1.1, "stop_on_wrong_side"],
    ["SELL", 1.0999, "stop_on_wrong_side"],
  ] as const)("a %s with its stop at %s against a 1.1 price is %s", (side, slPrice, expected) => {
    const d = decision(given(opened, priced), { side, slPrice });
    expect(d.outcome === "allowed" ? "allowed" : d.reason).toBe(expected);
  });

  it.each([
    ["BUY", 1.1001, "allowed"],
    ["BUY", 1.1, "target_on_wrong_side"],
    ["SELL", 1.0999, "allowed"],
    ["SELL", 1.1, "target_on_wrong_side"],
  ] as const)("a %s with its target at %s against a 1.1 price is %s", (side, tpPrice, expected) => {
    const d = decision(given(opened, priced), { side, tpPrice });
    expect(d.outcome === "allowed" ? "allowed" : d.reason).toBe(expected);
  });
});

describe("veto_registry", () => {
  const locked = (expiresAt: number | null): EngineEvent => ({
    type: "veto.added",
    at: 2_000,
    accountId,
    symbol: EURUSD,
    reason: "stop_loss_hit",
    note: "SL hit at 1.095",
    expiresAt,
    valueAtTrigger: 1.095,
    by: "engine",
  });

  it("denies an entry on a symbol locked until the reset", () => {
    expect(denial(decision(given(opened, priced, locked(null))))).toEqual({
      guard: "veto_registry",
      reason: "symbol_locked",
      observed: "stop_loss_hit",
      limit: "until_reset",
    });
  });

  it.each([
    [2_999, "allowed"],
    [3_000, "allowed"],
    [3_001, "symbol_locked"],
  ])("with a lock expiring at %i, an entry at 3,000 is %s", (expiresAt, expected) => {
    const d = decision(given(opened, priced, locked(expiresAt)));
    expect(d.outcome === "allowed" ? "allowed" : d.reason).toBe(expected);
  });

  it("lets a close through on a locked symbol", () => {
    expect(decision(given(opened, long, priced, locked(null)), { action: "CLOSE", side: "SELL" }).outcome).toBe("allowed");
  });

  it("allows entries again once the symbol is unlocked", () => {
    const state = given(opened, priced, locked(null));
    const unlock = when(state, { type: "UnlockSymbol", at: 2_800, accountId, symbol: EURUSD, reason: "manual review", by: "rm" });
    if (!unlock.ok) throw new Error("rejected");
    expect(decision(unlock.events.reduce(evolve, state)).outcome).toBe("allowed");
  });

  it("refuses to unlock a symbol that is not locked, and to lock one twice", () => {
    expect(when(given(opened), { type: "UnlockSymbol", at: 1, accountId, symbol: EURUSD, reason: "x y z", by: "rm" })).toMatchObject({
      ok: false,
      rejection: { code: "symbol_not_locked" },
    });
    const lock = { type: "LockSymbol", at: 2_100, accountId, symbol: EURUSD, note: "again", expiresAt: null, by: "rm" } as const;
    expect(when(given(opened, locked(null)), lock)).toMatchObject({ ok: false, rejection: { code: "symbol_already_locked" } });
  });
});

describe("throttle", () => {
  const at = (t: number): EngineEvent => ({ type: "intent.received", at: t, intent: intent({ intentId: `t-${t}` }) });

  it.each([
    [1, "allowed"],
    [2, "allowed"],
    [3, "throttled"],
  ])("with a limit of 3 a second and %i earlier intents in the last second, the next is %s", (earlier, expected) => {
    const history = [2_100, 2_400, 2_700].slice(0, earlier).map(at);
    const state = given(configured({ guards: { throttle: { maxIntentsPerSecond: 3 } } }), opened, priced, ...history);
    const d = decision(state);
    expect(d.outcome === "allowed" ? "allowed" : d.reason).toBe(expected);
    if (d.outcome === "denied") expect([d.observed, d.limit]).toEqual([4, 3]);
  });

  it("forgets intents older than a second", () => {
    const state = given(configured({ guards: { throttle: { maxIntentsPerSecond: 1 } } }), opened, priced, at(1_999));
    expect(decision(state, {}, 3_000).outcome).toBe("allowed");
  });

  // 10 lots × 100,000 × 1.1 = 1,100,000 USD
  it.each([
    [1_100_001, "allowed"],
    [1_100_000, "allowed"],
    [1_099_999, "order_notional_exceeded"],
  ])("with a notional cap of %i USD, a 1.1M USD order is %s", (cap, expected) => {
    const state = given(configured({ guards: { throttle: { maxOrderNotionalUsd: cap } } }), opened, priced);
    const d = decision(state, { quantity: 10 });
    expect(d.outcome === "allowed" ? "allowed" : d.reason).toBe(expected);
  });
});

describe("price_sanity", () => {
  it("denies an entry when no price is known", () => {
    expect(denial(decision(given(opened)))).toMatchObject({ guard: "price_sanity", reason: "no_price" });
  });

  it.each([
    [12_499, "allowed"],
    [12_500, "allowed"],
    [12_501, "stale_price"],
  ])("with the last price at 2,500 and a 10 s staleness limit, an entry at %i is %s", (now, expected) => {
    const d = decision(given(opened, priced), {}, now);
    expect(d.outcome === "allowed" ? "allowed" : d.reason).toBe(expected);
  });

  it.each([
    [1.1 * 1.0499, "allowed"],
    [1.1 * 1.05, "allowed"],
    [1.1 * 1.0501, "price_deviation"],
    [1.1 * 0.9499, "price_deviation"],
  ])("a reference price of %f against a last price of 1.1 (5 percent limit) is %s", (referencePrice, expected) => {
    const d = decision(given(opened, priced), { referencePrice });
    expect(d.outcome === "allowed" ? "allowed" : d.reason).toBe(expected);
  });

  it("checks a limit price the same way", () => {
    expect(denial(decision(given(opened, priced), { limitPrice: 1.2 }))).toMatchObject({ reason: "price_deviation", limit: 5 });
  });

  it("can be switched off", () => {
    const state = given(configured({ guards: { priceSanity: { enabled: false } } }), opened);
    expect(decision(state).outcome).toBe("allowed");
  });
});

describe("liquidity", () => {
  // ADV 1,000,000 lots; 1% = 10,000 lots. Notional cap raised so the throttle does not interfere.
  const roomy = configured({ guards: { throttle: { maxOrderNotionalUsd: 1e12 } } });

  it.each([
    [9_999, "allowed"],
    [10_000, "allowed"],
    [10_001, "illiquid"],
  ])("an order of %i lots against 1 percent of a 1M-lot ADV is %s", (quantity, expected) => {
    const d = decision(given(roomy, opened, priced), { quantity });
    expect(d.outcome === "allowed" ? "allowed" : d.reason).toBe(expected);
  });

  it("sizes a target-weight intent from equity: 100% of 100K USD at 1.1 is 0.909 lots", () => {
    const tight = configured({ guards: { liquidity: { maxAdvPct: 0.00009 } } }); // 0.9 lots
    const d = decision(given(tight, opened, priced), { quantity: undefined, targetWeight: 1 });
    expect(denial(d)).toMatchObject({ reason: "illiquid", observed: 0.0000909091 });
  });

  it("when the instrument states no daily volume, then the guard does not check it (rather than deny on a made-up figure)", () => {
    const unknownVolume = { sector: "fx", contractSize: 100_000, tickSize: 0.00001 };
    const unknown = configured({ instruments: { EURUSD: unknownVolume }, guards: { throttle: { maxOrderNotionalUsd: 1e12 } } });
    expect(decision(given(unknown, opened, priced), { quantity: 50_000 }).outcome).toBe("allowed");
  });
});

describe("microstructure", () => {
  const book = (bidSizes: number[], askSizes: number[]): EngineEvent => ({
    type: "market.book",
    at: 2_600,
    symbol: EURUSD,
    bids: bidSizes.map((size, i) => ({ price: 1.1 - (i + 1) * 0.0001, size })),
    asks: askSizes.map((size, i) => ({ price: 1.1 + (i + 1) * 0.0001, size })),
  });

  // OBI = (bid − ask) / (bid + ask): bid 15, ask 85 → −0.7 exactly.
  it.each([
    [[16], [84], "allowed"],
    [[15], [85], "allowed"],
    [[14], [86], "order_book_imbalance"],
  ])("a buy against bids %j and asks %j is %s", (bids, asks, expected) => {
    const d = decision(given(opened, priced, book(bids, asks)), { side: "BUY" });
    expect(d.outcome === "allowed" ? "allowed" : d.reason).toBe(expected);
  });

  it("denies a sell into a bid-heavy book and reports the imbalance", () => {
    expect(denial(decision(given(opened, priced, book([90], [10])), { side: "SELL" }))).toEqual({
      guard: "microstructure",
      reason: "order_book_imbalance",
      observed: 0.8,
      limit: 0.7,
    });
  });

  // Nine levels of 10 and one of X: average (90 + X) / 10; a wall needs X ≥ 5 × that, i.e. X ≥ 90.
  it.each([
    [89, "allowed"],
    [90, "opposing_wall"],
  ])("a buy facing an ask level of %i among nine of 10 is %s", (wall, expected) => {
    const asks = [10, 10, 10, wall, 10, 10, 10, 10, 10, 10];
    const d = decision(given(opened, priced, book(asks.map(() => 100), asks)), { side: "BUY" });
    expect(d.outcome === "allowed" ? "allowed" : d.reason).toBe(expected);
  });

  it.each([
    [12_599, "allowed"],
    [12_600, "allowed"],
    [12_601, "stale_book"],
  ])("with the book at 2,600 and a 10 s book staleness limit, a buy at %i is %s", (now, expected) => {
    const tick: EngineEvent = { type: "market.tick", at: now - 1, symbol: EURUSD, price: 1.1 };
    const d = decision(given(opened, book([50], [50]), tick), { side: "BUY" }, now);
    expect(d.outcome === "allowed" ? "allowed" : d.reason).toBe(expected);
  });
});

describe("exposure-reducing intents", () => {
  it("pass the halt, vetoes, throttle, price, liquidity and book checks", () => {
    const hostile = given(
      configured({ guards: { throttle: { maxIntentsPerSecond: 1, maxOrderNotionalUsd: 1 }, liquidity: { maxAdvPct: 0.000001 } } }),
      opened,
      long,
      { type: "breaker.tripped", at: 100, accountId, breaker: "manual", reason: "halt", by: "rm" },
      { type: "veto.added", at: 100, accountId, symbol: EURUSD, reason: "manual", note: "", expiresAt: null, valueAtTrigger: null, by: "rm" },
      { type: "intent.received", at: 2_900, intent: intent({ intentId: "earlier" }) },
    );
    // No price at all, a one-per-second throttle already used, and a tiny notional cap.
    for (const action of ["CLOSE", "FLATTEN"] as const) {
      expect(decision(hostile, { action, side: "SELL", quantity: action === "FLATTEN" ? undefined : 5 }).outcome).toBe("allowed");
    }
  });

  it("are still denied on an unknown instrument", () => {
    expect(denial(decision(given(opened), { action: "CLOSE", symbol: "ZZZ" }))).toMatchObject({ reason: "unknown_instrument" });
  });
});

describe("daily reset", () => {
  // Default reset: 00:00 UTC. Day 1 starts 2026-06-10T00:00Z; the next reset is 2026-06-11T00:00Z.
  const day1 = Date.parse("2026-06-10T00:00:00Z");
  const day2 = Date.parse("2026-06-11T00:00:00Z");
  const started: EngineEvent = {
    type: "day.started",
    at: day1 + 5,
    resetAt: day1,
    tradingDay: "2026-06-10",
    baselines: [{ accountId, baseline: 100_000, equity: 100_000, balance: 100_000, shadow: false, equityAsOf: null, highWater: 100_000 }],
  };
  const lock = (expiresAt: number | null, symbol = EURUSD): EngineEvent => ({
    type: "veto.added",
    at: day1 + 1_000,
    accountId,
    symbol,
    reason: "stop_loss_hit",
    note: "",
    expiresAt,
    valueAtTrigger: 1.09,
    by: "engine",
  });

  function advance(state: EngineState, at: number) {
    const result = when(state, { type: "AdvanceClock", at });
    if (!result.ok) throw new Error("rejected");
    return { events: result.events, state: result.events.reduce(evolve, state) };
  }

  it("starts the first day at the latest reset instant", () => {
    const { events } = advance(given(opened), day1 + 3_600_000);
    expect(events).toEqual([
      {
        type: "day.started",
        at: day1 + 3_600_000,
        resetAt: day1,
        tradingDay: "2026-06-10",
        baselines: [{ accountId, baseline: 100_000, equity: 100_000, balance: 100_000, shadow: false, equityAsOf: null, highWater: 100_000 }],
      },
    ]);
  });

  it("does nothing more until the next reset instant", () => {
    expect(advance(given(opened, started), day2 - 1).events).toEqual([]);
    expect(advance(given(opened, started), day2).events).toMatchObject([{ type: "day.started", resetAt: day2, tradingDay: "2026-06-11" }]);
  });

  it("clears locks held until the reset, and locks that expired before it, but keeps later ones", () => {
    const later = day2 + 3_600_000;
    const state = given(opened, started, lock(null), lock(day2 - 1, SymbolId.parse("GBPUSD")), lock(later, SymbolId.parse("XAUUSD")));
    const { state: next } = advance(state, day2 + 10);
    expect([...next.accounts.get(accountId)!.vetoes.keys()]).toEqual(["XAUUSD"]);
  });

  it("allows an entry on a symbol locked until the reset once the new day has started", () => {
    const tick = (at: number): EngineEvent => ({ type: "market.tick", at, symbol: EURUSD, price: 1.1 });
    const before = given(opened, started, lock(null), tick(day2 - 100));
    expect(decision(before, {}, day2 - 1).outcome).toBe("denied");
    const { state: after } = advance(given(opened, started, lock(null), tick(day2 + 50)), day2 + 100);
    expect(decision(after, {}, day2 + 100).outcome).toBe("allowed");
  });

  it("follows the configured time zone: 17:00 America/Chicago", () => {
    const chicago = given(configured({ dailyReset: { time: "17:00", timeZone: "America/Chicago" } }), opened);
    const { events } = advance(chicago, Date.parse("2026-07-01T21:59:00Z"));
    expect(events).toMatchObject([{ resetAt: Date.parse("2026-06-30T22:00:00Z"), tradingDay: "2026-06-30" }]);
  });
});

describe("benchmark_correlation", () => {
  const US500 = SymbolId.parse("US500");
  const wiggle = [0.01, -0.02, 0.015, -0.005, 0.02, -0.01, 0.003, -0.012, 0.007, -0.004, 0.011, -0.016];
  const bars = (symbol: SymbolId, returns: number[]): EngineEvent[] => {
    let close = 100;
    return [0, ...returns].map((r, i) => {
      close *= Math.exp(r);
      return { type: "market.bar", at: 1_000 + i, symbol, open: close, high: close, low: close, close, volume: 1 };
    });
  };
  const on = (extra: Record<string, number> = {}) =>
    configured({
      instruments: {
        EURUSD: { sector: "fx", contractSize: 100_000, tickSize: 0.00001, averageDailyVolume: 1_000_000 },
        US500: { sector: "index", contractSize: 1, tickSize: 0.1, averageDailyVolume: 1_000_000 },
      },
      guards: { benchmarkCorrelation: { enabled: true, minObservations: 10, ...extra } },
    });
  const mixed = wiggle.map((v, i) => (i % 3 === 0 ? -v : v));
  const state = (maxCorrelation?: number) =>
    given(on(maxCorrelation === undefined ? {} : { maxCorrelation }), opened, ...bars(EURUSD, mixed), ...bars(US500, wiggle), priced);

  it("denies an entry in a symbol that moves with the benchmark", () => {
    const d = decision(given(on(), opened, ...bars(EURUSD, wiggle), ...bars(US500, wiggle), priced));
    expect(denial(d)).toMatchObject({ guard: "benchmark_correlation", reason: "correlated_with_benchmark", observed: 1, limit: 0.7 });
  });

  it("is at its limit when the correlation equals it, over it just above", async () => {
    const { ewmaCorrelation } = await import("@/server/engine/market-stats");
    const returns = (values: number[]) => values.map((value, i) => ({ at: 1_001 + i, value }));
    const c = ewmaCorrelation(returns(mixed), returns(wiggle), 0.94, 10).correlation!;
    expect(decision(state(c + 0.001)).outcome).toBe("allowed");
    expect(decision(state(c)).outcome).toBe("allowed");
    expect(denial(decision(state(c - 0.001)))).toMatchObject({ reason: "correlated_with_benchmark" });
  });

  it("denies an entry when the shared history is too short (fail closed)", () => {
    const d = decision(given(on(), opened, ...bars(EURUSD, wiggle.slice(0, 5)), ...bars(US500, wiggle), priced));
    expect(denial(d)).toEqual({ guard: "benchmark_correlation", reason: "insufficient_history", observed: 5, limit: 10 });
  });

  it("is off by default", () => {
    expect(decision(given(opened, priced)).outcome).toBe("allowed");
  });
});

describe("kelly_sizing", () => {
  // Equity 100,000 USD; EURUSD at 1.1, contract 100,000.
  const stats = (winRate: number, winLossRatio: number) => ({ stats: { winRate, winLossRatio } });

  it.each([
    [0.5, 1, "negative_edge"], // f* = 0: no edge
    [0.4, 1.4, "negative_edge"], // f* = (0.56 − 0.6) / 1.4 < 0
    [0.55, 1, "allowed"], // f* = 0.1
  ])("with a win rate of %f and a win/loss ratio of %f the entry is %s", (p, b, expected) => {
    const d = decision(given(opened, priced), stats(p, b));
    expect(d.outcome === "allowed" ? "allowed" : d.reason).toBe(expected);
  });

  it("caps the size so the risk at the stop is f* × multiplier of equity", () => {
    // f* = 0.04, half-Kelly 0.02 → 2,000 USD at risk; stop 0.01 away × 100,000 = 1,000 USD per lot → 2 lots.
    // (3 lots risk 3,000, inside the 5,000 daily loss floor that guard 8 checks first.)
    const d = decision(given(opened, priced), { ...stats(0.52, 1), quantity: 3, slPrice: 1.09 });
    expect(d).toMatchObject({ outcome: "allowed", approvedQuantity: 2 });
    expect(d.advisories[0]).toMatch(/^kelly f\*=0\.04 × 0\.5/);
    expect(decision(given(opened, priced), { ...stats(0.52, 1), quantity: 1.5, slPrice: 1.09 }).approvedQuantity).toBe(1.5);
  });

  it("without a stop, risks the whole notional: 5,000 USD / 110,000 USD per lot", () => {
    expect(decision(given(opened, priced), { ...stats(0.55, 1), quantity: 1 }).approvedQuantity).toBeCloseTo(5_000 / 110_000, 10);
  });

  it("skips intents without stats unless stats are required", () => {
    expect(decision(given(opened, priced)).outcome).toBe("allowed");
    const strict = given(configured({ guards: { kelly: { requireStats: true } } }), opened, priced);
    expect(denial(decision(strict))).toMatchObject({ guard: "kelly_sizing", reason: "missing_stats" });
  });

  it("never caps an exit below the position", () => {
    expect(decision(given(opened, long, priced), { ...stats(0.3, 1), action: "CLOSE", side: "SELL", quantity: 1 })).toMatchObject({
      outcome: "allowed",
      approvedQuantity: 1,
    });
  });
});

describe("vol_target", () => {
  const enabled = configured({ guards: { volTarget: { enabled: true, riskPerTradePct: 1, atrStopMultiple: 2 } } });
  const bars = (ranges: number[]): EngineEvent[] =>
    ranges.map((range, i) => ({ type: "market.bar", at: 2_000 + i, symbol: EURUSD, open: 1.1, high: 1.1 + range / 2, low: 1.1 - range / 2, close: 1.1, volume: 1 }));

  it("caps the size so the risk at the intent's stop is 1% of equity", () => {
    // 1,000 USD budget; stop 0.005 away × 100,000 = 500 USD per lot → 2 lots.
    const d = decision(given(enabled, opened, priced), { quantity: 3, slPrice: 1.095 });
    expect(d).toMatchObject({ outcome: "allowed", approvedQuantity: 2, stopPrice: 1.095 });
  });

  it("places a missing stop two ATRs away and sizes from it", () => {
    // 14 bars of range 0.002: ATR 0.002 → stop 1.096 for a buy at 1.1; 0.004 × 100,000 = 400 USD per lot → 2.5 lots.
    const state = given(enabled, opened, ...bars(Array(14).fill(0.002)), priced);
    const d = decision(state, { quantity: 10 });
    expect(d).toMatchObject({ outcome: "allowed", approvedQuantity: 2.5, stopPrice: 1.096 });
    expect(d.advisories.join(" ")).toContain("ATR stop 1.096");
  });

  it("denies an entry with neither a stop nor an ATR (fail closed)", () => {
    expect(denial(decision(given(enabled, opened, priced)))).toMatchObject({ guard: "vol_target", reason: "no_stop" });
  });

  it("takes the smaller of the Kelly and volatility caps", () => {
    // Kelly (f* 0.1, half) allows 5 lots at this stop; the vol target allows 1; 3 were asked.
    const d = decision(given(enabled, opened, priced), { quantity: 3, slPrice: 1.09, stats: { winRate: 0.55, winLossRatio: 1 } });
    expect(d).toMatchObject({ outcome: "allowed", approvedQuantity: 1 });
    expect(d.advisories).toHaveLength(2);
  });
});
