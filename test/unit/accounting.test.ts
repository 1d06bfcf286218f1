import { describe, expect, it } from "vitest";
import { applyFill } from "@/server/engine/accounting";
import type { EngineEvent } from "@/server/engine/events";
import { SymbolId } from "@/server/engine/ids";
import type { EngineState } from "@/server/engine/state";
import { activeVeto, equityOf, evolve, tradingStateOf } from "@/server/engine/state";
import { accountView } from "@/server/engine/views";
import { accountId, EURUSD, fill, given, opened, run, tick, when } from "./given";

describe("positions from fills", () => {
  it("averages into a position and realizes P/L on the part closed", () => {
    const opened2 = applyFill(undefined, fill("BUY", 2, 1.1), 100_000);
    const added = applyFill(opened2.position!, fill("BUY", 2, 1.2), 100_000);
    expect(added.position!.avgPrice).toBeCloseTo(1.15, 12);
    const reduced = applyFill(added.position!, fill("SELL", 1, 1.25), 100_000);
    expect(reduced.position!.quantity).toBe(3);
    expect(reduced.realized).toBeCloseTo(0.1 * 100_000, 6);
  });

  it("reverses through flat at the fill price", () => {
    const long = applyFill(undefined, fill("BUY", 1, 1.1), 100_000).position!;
    const reversed = applyFill(long, fill("SELL", 3, 1.0), 100_000);
    expect(reversed.position).toEqual({ quantity: -2, avgPrice: 1.0 });
    expect(reversed.realized).toBeCloseTo(-0.1 * 100_000, 6);
  });

  it("marks equity to the last price and books fees and realized P/L into the balance", () => {
    const { account, state } = run(given(opened), { type: "RecordFills", at: 1_000, fills: [fill("BUY", 1, 1.1, { feeUsd: 7 })] }, tick(1.105));
    expect(account.balance).toBe(100_000 - 7);
    expect(equityOf(account, state)).toBeCloseTo(100_000 - 7 + 500, 6);
    const view = accountView(account, state);
    expect(view).toMatchObject({ balance: 99_993, equity: 100_493, positions: [{ symbol: "EURUSD", quantity: 1, avgPrice: 1.1 }] });
    const closed = run(state, { type: "RecordFills", at: 6_000, fills: [fill("SELL", 1, 1.106, { feeUsd: 7 })] });
    expect(closed.account.positions.size).toBe(0);
    expect(closed.account.balance).toBeCloseTo(100_000 - 14 + 600, 6);
  });

  it("books a short opened in two partial fills, partly covered, then flipped long through zero, with fees", () => {
    // Hand-computed, EURUSD contract 100,000:
    //   SELL 1 @ 1.1000 (fee 3) + SELL 1 @ 1.1010 (fee 3)  -> short 2 @ 1.1005, balance 99,994
    //   BUY 0.5 @ 1.0950 (fee 1.5): +0.0055 × 0.5 lots = +275 -> short 1.5, balance 100,267.50
    //   at 1.0900: floating +0.0105 × 1.5 lots = +1,575 -> equity 101,842.50
    //   BUY 3 @ 1.0900 (fee 9): covers 1.5 (+1,575), flips long 1.5 @ 1.09 -> balance 101,833.50
    const shortFills = run(given(opened), {
      type: "RecordFills",
      at: 1_000,
      fills: [fill("SELL", 1, 1.1, { feeUsd: 3 }), fill("SELL", 1, 1.101, { feeUsd: 3 })],
    });
    expect(shortFills.account.positions.get(EURUSD)).toEqual({ quantity: -2, avgPrice: expect.closeTo(1.1005, 12) });
    expect(shortFills.account.balance).toBeCloseTo(99_994, 6);
    const covered = run(shortFills.state, { type: "RecordFills", at: 2_000, fills: [fill("BUY", 0.5, 1.095, { feeUsd: 1.5 })] });
    expect(covered.account.positions.get(EURUSD)!.quantity).toBeCloseTo(-1.5, 12);
    expect(covered.account.balance).toBeCloseTo(100_267.5, 6);
    const marked = run(covered.state, tick(1.09, 3_000));
    expect(equityOf(marked.account, marked.state)).toBeCloseTo(101_842.5, 6);
    const flipped = run(marked.state, { type: "RecordFills", at: 4_000, fills: [fill("BUY", 3, 1.09, { feeUsd: 9 })] });
    expect(flipped.account.positions.get(EURUSD)).toEqual({ quantity: expect.closeTo(1.5, 12), avgPrice: 1.09 });
    expect(flipped.account.balance).toBeCloseTo(101_833.5, 6);
    expect(equityOf(flipped.account, flipped.state)).toBeCloseTo(101_833.5, 6);
  });

  it("refuses a batch with an unknown instrument whole, recording nothing", () => {
    const result = when(given(opened), { type: "RecordFills", at: 1, fills: [fill("BUY", 1, 1.1), fill("BUY", 1, 5, { symbol: SymbolId.parse("NOPE") })] });
    expect(result).toEqual({ ok: false, rejection: { code: "unknown_instrument", symbol: "NOPE" } });
  });
});

describe("stop-loss hit (the re-entry paradox)", () => {
  it("locks the symbol until the next reset when a stop-loss fills", () => {
    const { events, account } = run(
      given(opened),
      { type: "RecordFills", at: 1_000, fills: [fill("BUY", 1, 1.1)] },
      { type: "RecordFills", at: 2_000, fills: [fill("SELL", 1, 1.095, { trigger: "stop_loss" })] },
    );
    expect(events.map((e) => e.type)).toEqual(["execution.filled", "veto.added"]);
    expect(activeVeto(account, EURUSD, 2_001)).toMatchObject({ reason: "stop_loss_hit", expiresAt: null, valueAtTrigger: 1.095 });
  });

  it("does not lock on an ordinary exit or a take-profit", () => {
    const { account } = run(given(opened), { type: "RecordFills", at: 1_000, fills: [fill("BUY", 1, 1.1), fill("SELL", 1, 1.2, { trigger: "take_profit" })] });
    expect(account.vetoes.size).toBe(0);
  });
});

describe("daily_drawdown breaker", () => {
  // Baseline 100,000 (the initial balance before the first reset); 5% = 5,000 USD.
  // Long 10 lots from 1.1: each 0.0001 is 100 USD; 1.095 is exactly −5,000.
  const long = (state: EngineState) => run(state, { type: "RecordFills", at: 1_000, fills: [fill("BUY", 10, 1.1)] }).state;

  it.each([
    [1.0951, false],
    [1.095, false],
    [1.0949, true],
  ])("with the price at %f, trips: %s", (price, trips) => {
    const { account, events, state } = run(long(given(opened)), tick(price));
    expect(account.breakers.daily_drawdown.tripped).toBe(trips);
    if (trips) {
      expect(events.at(-1)).toMatchObject({ type: "breaker.tripped", breaker: "daily_drawdown", by: "engine" });
      expect(tradingStateOf(account, state.firmHalt)).toBe("HALTED");
    }
  });

  it("never resets itself, even on the next day, and an operator cannot trip it by hand", () => {
    const { state } = run(long(given(opened)), tick(1.09));
    const later = run(state, { type: "AdvanceClock", at: 10 * 86_400_000 });
    expect(later.account.breakers.daily_drawdown.tripped).toBe(true);
    const order = { accountId, breaker: "daily_drawdown" as const, reason: "by hand", by: "rm" };
    expect(when(given(opened), { type: "TripBreaker", at: 1, ...order })).toMatchObject({ rejection: { code: "breaker_not_manual" } });
    expect(run(state, { type: "ResetBreaker", at: 9_000, ...order }).account.breakers.daily_drawdown.tripped).toBe(false);
  });

  it("measures from the baseline snapshotted at the daily reset", () => {
    // Equity 102,000 at the reset becomes the baseline; a fall to 96,900 is 5.0% below it.
    const up = run(long(given(opened)), tick(1.102, 2_000)).state;
    const reset = run(up, { type: "AdvanceClock", at: 86_400_000 }).state;
    expect(reset.accounts.get(accountId)!.baseline).toBeCloseTo(102_000, 6);
    expect(run(reset, tick(1.0969, 86_400_001)).account.breakers.daily_drawdown.tripped).toBe(false);
    expect(run(reset, tick(1.0968, 86_400_001)).account.breakers.daily_drawdown.tripped).toBe(true);
  });
});

describe("max_daily_loss guard", () => {
  // Baseline 100,000; 5% daily loss floor 95,000. EURUSD at 1.1 (price sanity needs a fresh tick).
  const atPrice = (state: EngineState, price: number) => run(state, tick(price, 2_900)).state;
  const entry = (state: EngineState, extra: Record<string, unknown> = {}) => {
    const result = when(state, {
      type: "SubmitIntent",
      at: 3_000,
      intent: { intentId: "e", accountId, symbol: EURUSD, action: "OPEN", side: "BUY", quantity: 1, provenance: { runId: "r", strategyId: "s", regimeId: "g" }, ...extra } as never,
    });
    if (!result.ok) throw new Error("rejected");
    const decided = result.events[1]!;
    if (decided.type !== "intent.decided") throw new Error("no decision");
    return decided.decision;
  };

  it.each([
    [1.05, "allowed"], // risk exactly 5,000: lands on the floor, does not cross it
    [1.0499, "daily_loss_limit"],
  ])("with 1 lot from 1.1 and a stop at %f, the entry is %s", (slPrice, expected) => {
    const d = entry(atPrice(given(opened), 1.1), { slPrice });
    expect(d.outcome === "allowed" ? "allowed" : d.reason).toBe(expected);
    if (d.outcome === "denied") expect(d).toMatchObject({ guard: "max_daily_loss", limit: 95_000 });
  });

  it("denies any entry once floating losses have taken equity to the floor, while exits pass", () => {
    // Long 5 lots from 1.1; at 1.09 that is −5,000: equity 95,000, on the floor. The soft breach
    // made the account REDUCING; the guard itself denies too, with the account still ACTIVE.
    const losing = atPrice(run(given(opened), { type: "RecordFills", at: 1_000, fills: [fill("BUY", 5, 1.1)] }).state, 1.09);
    expect(entry(losing)).toMatchObject({ outcome: "denied", guard: "trading_state", reason: "reduce_only" });
    expect(entry(losing, { action: "CLOSE", side: "SELL" }).outcome).toBe("allowed");
    const active = evolve(losing, { type: "account.reducing_ended", at: 2_950, accountId, reason: "test the guard alone", by: "t" });
    expect(entry(active)).toMatchObject({ outcome: "denied", guard: "max_daily_loss", reason: "daily_loss_limit", observed: 95_000 });
  });
});

describe("max loss: lock-out and flatten", () => {
  // Max-loss floor 90,000 (10% below the initial 100,000). Daily drawdown would trip first at
  // 5%, so it is raised out of the way here.
  const roomy = (): EngineState =>
    given({ type: "config.applied", at: 0, by: "t", config: { ...given().config, breakers: { ...given().config.breakers, dailyDrawdown: { maxPct: 50 } }, accountRules: { ...given().config.accountRules, dailyLossPct: 50 } } } as EngineEvent, opened);
  const long = (state: EngineState) => run(state, { type: "RecordFills", at: 1_000, fills: [fill("BUY", 10, 1.1)] }).state;

  it.each([
    [1.0901, false],
    [1.09, true],
  ])("at a price of %f (10 lots from 1.1), locks out: %s", (price, locked) => {
    const { events, account, state } = run(long(roomy()), tick(price));
    expect(account.lockedOut !== null).toBe(locked);
    if (locked) {
      expect(events.filter((e) => e.type !== "market.tick")).toEqual([
        { type: "account.locked_out", at: 5_000, accountId, equity: 90_000, floor: 90_000, rule: "max_loss" },
        { type: "flatten.ordered", at: 5_000, accountId, symbol: EURUSD, side: "SELL", quantity: 10 },
      ]);
      expect(tradingStateOf(account, state.firmHalt)).toBe("LOCKED_OUT");
    }
  });

  it("flattens what an order sent before the lock-out adds when it fills after it", () => {
    const locked = run(long(roomy()), tick(1.08, 2_500)).state; // long 10, locked out, flatten of 10 ordered
    const late = run(locked, { type: "RecordFills", at: 3_000, fills: [fill("BUY", 2, 1.08)] });
    expect(late.events).toContainEqual({ type: "flatten.ordered", at: 3_000, accountId, symbol: EURUSD, side: "SELL", quantity: 2 });
    // The liquidation of the first flatten orders nothing more, and neither does an exit.
    const liquidated = run(late.state, { type: "RecordFills", at: 3_100, fills: [fill("SELL", 10, 1.079, { trigger: "liquidation" })] });
    expect(liquidated.events.filter((e) => e.type === "flatten.ordered")).toEqual([]);
    const exited = run(liquidated.state, { type: "RecordFills", at: 3_200, fills: [fill("SELL", 1, 1.079)] });
    expect(exited.events.filter((e) => e.type === "flatten.ordered")).toEqual([]);
  });

  it("denies entries while locked out, lets exits through, and only an explicit reopen clears it", () => {
    const locked = run(long(roomy()), tick(1.08, 2_500)).state;
    const submit = (action: "OPEN" | "CLOSE") => {
      const result = when(locked, {
        type: "SubmitIntent",
        at: 3_000,
        intent: { intentId: "x", accountId, symbol: EURUSD, action, side: action === "OPEN" ? "BUY" : "SELL", quantity: 1, provenance: { runId: "r", strategyId: "s", regimeId: "g" } } as never,
      });
      if (!result.ok) throw new Error("rejected");
      return result.events[1]!.type === "intent.decided" ? (result.events[1] as Extract<EngineEvent, { type: "intent.decided" }>).decision : null;
    };
    expect(submit("OPEN")).toMatchObject({ outcome: "denied", reason: "locked_out" });
    expect(submit("CLOSE")).toMatchObject({ outcome: "allowed" });
    expect(run(locked, { type: "AdvanceClock", at: 30 * 86_400_000 }).account.lockedOut).not.toBeNull();
    expect(run(locked, { type: "ReopenAccount", at: 4_000, accountId, reason: "admin review", by: "admin" }).account.lockedOut).toBeNull();
    expect(when(given(opened), { type: "ReopenAccount", at: 1, accountId, reason: "nothing", by: "admin" })).toMatchObject({ rejection: { code: "not_locked_out" } });
  });
});

describe("daily_risk_quota guard", () => {
  // Quota 3% of the 100,000 baseline = 3,000 USD of risk at the stop per day.
  const quotaOn = (): EngineState =>
    run(
      given({ type: "config.applied", at: 0, by: "t", config: { ...given().config, guards: { ...given().config.guards, dailyRiskQuota: { enabled: true, maxPct: 3 } } } } as EngineEvent, opened),
      tick(1.1, 2_000),
    ).state;
  const submit = (state: EngineState, id: string, quantity: number, slPrice?: number, at = 3_000) => {
    const result = when(state, {
      type: "SubmitIntent",
      at,
      intent: { intentId: id, accountId, symbol: EURUSD, action: "OPEN", side: "BUY", quantity, ...(slPrice ? { slPrice } : {}), provenance: { runId: "r", strategyId: "s", regimeId: "g" } } as never,
    });
    if (!result.ok) throw new Error("rejected");
    const decided = result.events[1] as Extract<EngineEvent, { type: "intent.decided" }>;
    return { decision: decided.decision, state: result.events.reduce(evolve, state) };
  };

  it("allows entries up to the quota, exactly at it, and denies the one that would exceed it", () => {
    const first = submit(quotaOn(), "q1", 1, 1.09); // risk 1,000
    expect(first.decision).toMatchObject({ outcome: "allowed", riskAtStopUsd: 1_000 });
    const second = submit(first.state, "q2", 2, 1.09); // total 3,000: at the quota
    expect(second.decision.outcome).toBe("allowed");
    const third = submit(second.state, "q3", 0.01, 1.09); // total 3,010
    expect(third.decision).toMatchObject({ outcome: "denied", guard: "daily_risk_quota", reason: "risk_quota_exceeded", observed: 3_010, limit: 3_000 });
  });

  it("starts afresh with the next trading day", () => {
    const spent = submit(submit(quotaOn(), "q1", 3, 1.09).state, "q2", 0.5, 1.09);
    expect(spent.decision.outcome).toBe("denied");
    const nextDay = run(spent.state, { type: "AdvanceClock", at: 86_400_000 }, tick(1.1, 86_400_000)).state;
    expect(submit(nextDay, "q3", 0.5, 1.09, 86_400_001).decision.outcome).toBe("allowed");
  });

  it("denies an entry without a stop, whose risk is unknown", () => {
    expect(submit(quotaOn(), "q1", 1).decision).toMatchObject({ outcome: "denied", guard: "daily_risk_quota", reason: "no_stop" });
  });
});

describe("cluster_cap and sector_cap guards", () => {
  const US500 = SymbolId.parse("US500");
  const NAS100 = SymbolId.parse("NAS100");
  const caps = (): EngineState =>
    given(
      {
        type: "config.applied",
        at: 0,
        by: "t",
        config: {
          ...given().config,
          instruments: {
            ...given().config.instruments,
            US500: { sector: "index", cluster: "us-equity", contractSize: 1, tickSize: 0.1, averageDailyVolume: 1e9 },
            NAS100: { sector: "index", cluster: "us-equity", contractSize: 1, tickSize: 0.1, averageDailyVolume: 1e9 },
          },
          guards: { ...given().config.guards, clusterCap: { enabled: true, maxPct: 25 }, sectorCap: { enabled: true, maxPct: 40 } },
        },
      } as EngineEvent,
      opened,
      { type: "market.tick", at: 2_900, symbol: US500, price: 5_000 },
      { type: "market.tick", at: 2_900, symbol: NAS100, price: 10_000 },
    );
  const buy = (state: EngineState, symbol: SymbolId, quantity: number) => {
    const result = when(state, {
      type: "SubmitIntent",
      at: 3_000,
      intent: { intentId: "c", accountId, symbol, action: "OPEN", side: "BUY", quantity, provenance: { runId: "r", strategyId: "s", regimeId: "g" } } as never,
    });
    if (!result.ok) throw new Error("rejected");
    return (result.events[1] as Extract<EngineEvent, { type: "intent.decided" }>).decision;
  };

  it.each([
    [4.99, "allowed"],
    [5, "allowed"], // 25,000 USD = 25% of equity
    [5.01, "cluster_cap_exceeded"],
  ])("a buy of %f US500 at 5,000 against a 25%% cluster cap is %s", (quantity, expected) => {
    const d = buy(caps(), US500, quantity);
    expect(d.outcome === "allowed" ? "allowed" : d.reason).toBe(expected);
  });

  it("counts the cluster's open positions: with 20% in NAS100, only 5% of US500 fits", () => {
    const holding = run(caps(), { type: "RecordFills", at: 2_950, fills: [{ accountId, intentId: null, symbol: NAS100, side: "BUY", quantity: 2, price: 10_000, feeUsd: 0, trigger: "order" }] }).state;
    expect(buy(holding, US500, 1).outcome).toBe("allowed");
    expect(buy(holding, US500, 1.01)).toMatchObject({ outcome: "denied", guard: "cluster_cap", observed: 25.05, limit: 25 });
  });

  it("denies a trade that keeps the cluster under its cap but takes the sector over 40%", () => {
    // Raise the cluster cap out of the way: 4.1 × 10,000 = 41% of the "index" sector.
    const state = caps();
    const loose = { ...state, config: { ...state.config, guards: { ...state.config.guards, clusterCap: { enabled: true, maxPct: 100 } } } };
    expect(buy(loose, NAS100, 4)).toMatchObject({ outcome: "allowed" });
    expect(buy(loose, NAS100, 4.1)).toMatchObject({ outcome: "denied", guard: "sector_cap", reason: "sector_cap_exceeded", limit: 40 });
  });
});

describe("volatility clusters for unconfigured instruments", () => {
  it("puts each instrument without a cluster in its tercile of EWMA volatility", async () => {
    const { clusterOf } = await import("@/server/engine/exposure");
    const symbols = ["CALM", "MID", "WILD"].map((s) => SymbolId.parse(s));
    const events: EngineEvent[] = symbols.flatMap((symbol, i) =>
      [100, 100 * (1 + 0.01 * (i + 1)), 100].map((close, t): EngineEvent => ({ type: "market.bar", at: t, symbol, open: close, high: close, low: close, close, volume: 1 })),
    );
    const state = given(...events);
    expect(symbols.map((s) => clusterOf(s, state))).toEqual(["vol-tercile-1", "vol-tercile-2", "vol-tercile-3"]);
    expect(clusterOf(EURUSD, state)).toBe("fx-majors");
    expect(clusterOf(SymbolId.parse("NEW"), state)).toBe("symbol:NEW");
  });
});
