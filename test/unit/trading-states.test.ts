import { describe, expect, it } from "vitest";
import { clockDue } from "@/server/engine/decide";
import type { EngineConfigInput } from "@/server/engine/config";
import type { EngineEvent } from "@/server/engine/events";
import type { EngineState } from "@/server/engine/state";
import { floorsOf, tradingStateOf } from "@/server/engine/state";
import { accountId, configured, decision, denial, fill, given, long as oneLot, opened, run, tick, tripped } from "./given";

// The test account: 100,000 USD; EURUSD contract 100,000, so 1 lot moves 1,000 USD per 0.01.
const long = (state: EngineState, lots = 5) => run(state, { type: "RecordFills", at: 1_000, fills: [fill("BUY", lots, 1.1)] }).state;
const stateOf = (state: EngineState) => tradingStateOf(state.accounts.get(accountId)!, state.firmHalt);
const day2 = 86_400_000;

describe("daily-loss breach", () => {
  // Baseline 100,000; daily loss floor 95,000. Long 5 lots from 1.1: at 1.09 equity is 95,000.
  it("soft: pauses entries (REDUCING) until the next reset, while exits pass", () => {
    const { events, state } = run(long(given(opened)), tick(1.09, 2_900));
    expect(events).toContainEqual({
      type: "account.reducing",
      at: 2_900,
      accountId,
      cause: "daily_loss_limit",
      untilReset: true,
      reason: "equity 95000 USD at or below the day's loss floor of 95000 USD",
      by: "engine",
    });
    expect(stateOf(state)).toBe("REDUCING");
    expect(denial(decision(state))).toEqual({ guard: "trading_state", reason: "reduce_only", observed: "REDUCING", limit: "ACTIVE" });
    expect(decision(state, { action: "CLOSE", side: "SELL" }).outcome).toBe("allowed");
    expect(stateOf(run(state, { type: "AdvanceClock", at: day2 }).state)).toBe("ACTIVE");
  });

  it("is not breached one pip above the floor", () => {
    const { events, state } = run(long(given(opened)), tick(1.0901, 2_900));
    expect(events.filter((event) => event.type !== "market.tick")).toEqual([]);
    expect(stateOf(state)).toBe("ACTIVE");
  });

  it("hard: locks the account out and flattens every position", () => {
    const { events, state } = run(long(given(configured({ accountRules: { dailyLossBreach: "hard" } }), opened)), tick(1.09, 2_900));
    expect(events.filter((event) => event.type !== "market.tick")).toEqual([
      { type: "account.locked_out", at: 2_900, accountId, equity: 95_000, floor: 95_000, rule: "daily_loss" },
      { type: "flatten.ordered", at: 2_900, accountId, symbol: "EURUSD", side: "SELL", quantity: 5 },
    ]);
    expect(stateOf(state)).toBe("LOCKED_OUT");
    expect(stateOf(run(state, { type: "AdvanceClock", at: day2 }).state)).toBe("LOCKED_OUT");
  });
});

describe("reduce-only by an operator", () => {
  const enter = { type: "EnterReducing", at: 2_000, accountId, reason: "news at 14:30", by: "risk-manager" } as const;
  const end = { type: "EndReducing", at: 2_600, accountId, reason: "news passed", by: "risk-manager" } as const;

  it("denies entries and passes exits until it is ended, and the daily reset does not end it", () => {
    const { state } = run(given(opened, oneLot), tick(1.1, 1_500), enter);
    expect(stateOf(state)).toBe("REDUCING");
    expect(denial(decision(state))).toMatchObject({ reason: "reduce_only" });
    expect(decision(state, { action: "CLOSE", side: "SELL" }).outcome).toBe("allowed");
    expect(stateOf(run(state, { type: "AdvanceClock", at: day2 }).state)).toBe("REDUCING");
    const ended = run(state, end).state;
    expect(stateOf(ended)).toBe("ACTIVE");
    expect(decision(run(ended, tick(1.1, 2_900)).state).outcome).toBe("allowed");
  });

  it("refuses to enter twice or to end what is not in force", () => {
    const reducing = run(given(opened), enter).state;
    expect(() => run(reducing, enter)).toThrow(/already_reducing/);
    expect(() => run(given(opened), end)).toThrow(/not_reducing/);
  });

  it("is outranked by a halt", () => {
    const state = run(given(opened, tripped), enter).state;
    expect(stateOf(state)).toBe("HALTED");
    expect(denial(decision(run(state, tick(1.1, 2_900)).state))).toMatchObject({ reason: "trading_halted" });
  });
});

describe("max-loss floor modes", () => {
  // Allowance 10% of 100,000 = 10,000. Daily limits moved out of the way.
  const rules = (accountRules: EngineConfigInput["accountRules"]): EngineEvent =>
    configured({ accountRules: { dailyLossPct: 50, ...accountRules }, breakers: { dailyDrawdown: { maxPct: 50 } } });
  const floor = (state: EngineState) => floorsOf(state.accounts.get(accountId)!, state.config).maxLossFloor;

  it("static: stays at the initial balance less the allowance whatever equity does", () => {
    const state = run(long(given(rules({}), opened)), tick(1.12, 2_000), { type: "AdvanceClock", at: day2 }).state;
    expect(floor(state)).toBe(90_000);
  });

  it("trailing intraday: follows the highest equity at once and never falls", () => {
    // 5 lots: 1.12 is +10,000 (equity 110,000, floor 100,000); back at 1.11 the floor stays.
    const up = run(long(given(rules({ maxLossMode: "trailing_intraday" }), opened)), tick(1.12, 2_000), tick(1.11, 2_100));
    expect(floor(up.state)).toBeCloseTo(100_000, 6);
    expect(up.account.lockedOut).toBeNull();
    expect(run(up.state, tick(1.1002, 2_200)).account.lockedOut).toBeNull(); // 100,010: above
    const hit = run(up.state, tick(1.1, 2_200));
    expect(hit.events).toContainEqual({ type: "account.locked_out", at: 2_200, accountId, equity: 100_000, floor: 100_000, rule: "max_loss" });
    expect(hit.events).toContainEqual({ type: "flatten.ordered", at: 2_200, accountId, symbol: "EURUSD", side: "SELL", quantity: 5 });
  });

  it("trailing end-of-day: moves only at a reset, to the equity then, and never falls", () => {
    const { state } = run(long(given(rules({ maxLossMode: "trailing_eod" }), opened)), tick(1.12, 2_000));
    expect(floor(state)).toBe(90_000); // intraday highs do not count
    const afterDay1 = run(state, tick(1.116, day2 - 1), { type: "AdvanceClock", at: day2 }).state; // equity 108,000 at the reset
    expect(floor(afterDay1)).toBe(98_000);
    const lowerClose = run(afterDay1, tick(1.104, 2 * day2 - 1), { type: "AdvanceClock", at: 2 * day2 }).state; // 102,000
    expect(floor(lowerClose)).toBe(98_000);
  });

  it("trailing, capped: stops rising at the initial balance", () => {
    const { state } = run(long(given(rules({ maxLossMode: "trailing_intraday", trailingStopsAtInitialBalance: true }), opened)), tick(1.14, 2_000));
    expect(floor(state)).toBe(100_000); // the high of 120,000 would put it at 110,000
  });
});

describe("shadow snapshot at the daily reset", () => {
  // Stale when a held symbol's last price is older than 60 s at the reset instant.
  const baselineOf = (state: EngineState, at: number) => {
    const result = run(state, { type: "AdvanceClock", at });
    const started = result.events.find((event) => event.type === "day.started");
    return started?.type === "day.started" ? started.baselines[0]! : null;
  };

  it("uses the last known equity and marks the baseline shadow when prices are stale", () => {
    const state = run(long(given(opened)), tick(1.098, 10_000)).state; // −1,000: equity 99,000
    expect(baselineOf(state, day2 + 5)).toEqual({
      accountId,
      baseline: 99_000,
      equity: 99_000,
      balance: 100_000,
      shadow: true,
      equityAsOf: 10_000,
      highWater: 100_000,
    });
    const next = run(state, { type: "AdvanceClock", at: day2 + 5 });
    expect(next.account.baselineShadow).toBe(true);
  });

  it("is not shadow when every held price is fresh at the reset, or nothing is held", () => {
    const fresh = run(long(given(opened)), tick(1.098, day2 - 60_000)).state;
    expect(baselineOf(fresh, day2 + 5)).toMatchObject({ shadow: false, equityAsOf: day2 - 60_000, baseline: 99_000 });
    expect(baselineOf(given(opened), day2 + 5)).toMatchObject({ shadow: false, equityAsOf: null, baseline: 100_000 });
  });

  it("takes the basis the configuration names", () => {
    const withBasis = (basis: "equity" | "balance" | "max_balance_equity" | "initial_balance", price: number) =>
      baselineOf(run(long(given(configured({ accountRules: { dailyBaselineBasis: basis } }), opened)), tick(price, day2 - 1_000)).state, day2)!.baseline;
    expect(withBasis("equity", 1.102)).toBe(101_000);
    expect(withBasis("balance", 1.102)).toBe(100_000);
    expect(withBasis("max_balance_equity", 1.102)).toBe(101_000);
    expect(withBasis("max_balance_equity", 1.098)).toBe(100_000);
    expect(withBasis("initial_balance", 1.102)).toBe(100_000);
  });

  it("is due before anything else once the reset instant has passed", () => {
    const started = run(given(opened), { type: "AdvanceClock", at: 5 }).state;
    expect(clockDue(started, day2 - 1)).toBe(false);
    expect(clockDue(started, day2)).toBe(true);
    expect(clockDue(given(opened), 5)).toBe(false); // its first day is the one it opened in
    expect(clockDue(given(opened), day2)).toBe(true); // opened on 1 Jan 1970: days have passed since
  });
});
