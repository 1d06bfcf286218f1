import { describe, expect, it } from "vitest";
import { nextDeadline } from "@/server/engine/breakers";
import type { Command } from "@/server/engine/decide";
import type { EngineEvent } from "@/server/engine/events";
import { SymbolId } from "@/server/engine/ids";
import type { EngineState } from "@/server/engine/state";
import { evolve, tradingStateOf } from "@/server/engine/state";
import { accountId, given, intent, opened, when } from "./given";

const EURUSD = SymbolId.parse("EURUSD");
// Defaults: 3 failures within 300 s trip; reset 600 s after the trip. Latency above 2,000 ms
// trips; reset once no slow reading for 60 s.
const T = 1_000_000;

function run(state: EngineState, command: Command): { events: EngineEvent[]; state: EngineState } {
  const result = when(state, command);
  if (!result.ok) throw new Error(`rejected: ${JSON.stringify(result.rejection)}`);
  return { events: result.events, state: result.events.reduce(evolve, state) };
}

const failure = (at: number): Command => ({
  type: "RecordExecutionFailure",
  at,
  accountId,
  symbol: EURUSD,
  intentId: null,
  failure: "rejected",
  detail: "venue reject",
});
const latency = (at: number, latencyMs: number): Command => ({ type: "RecordLatency", at, accountId, latencyMs, source: "venue_ack" });

function after(state: EngineState, ...commands: Command[]) {
  let events: EngineEvent[] = [];
  for (const command of commands) ({ events, state } = run(state, command));
  return { events, state, account: state.accounts.get(accountId)! };
}

describe("execution_failures breaker", () => {
  it("stays armed at two failures within five minutes", () => {
    const { account } = after(given(opened), failure(T), failure(T + 1_000));
    expect(account.breakers.execution_failures.tripped).toBe(false);
  });

  it.each([
    [299_999, true],
    [300_000, false],
  ])("with the first of three failures %i ms before the third, trips: %s", (span, trips) => {
    const { account, events } = after(given(opened), failure(T), failure(T + 1_000), failure(T + span));
    expect(account.breakers.execution_failures.tripped).toBe(trips);
    if (trips) {
      expect(events[1]).toMatchObject({ type: "breaker.tripped", breaker: "execution_failures", by: "engine" });
      expect(tradingStateOf(account, null)).toBe("HALTED");
    }
  });

  it("resets itself when the cooldown has passed, not a millisecond before", () => {
    const tripped = after(given(opened), failure(T), failure(T + 1), failure(T + 2)).state;
    expect(run(tripped, { type: "AdvanceClock", at: T + 2 + 600_000 - 1 }).events.filter((e) => e.type === "breaker.reset")).toEqual([]);
    const { events, state } = run(tripped, { type: "AdvanceClock", at: T + 2 + 600_000 });
    expect(events.filter((e) => e.type === "breaker.reset")).toMatchObject([{ breaker: "execution_failures", by: "engine" }]);
    expect(tradingStateOf(state.accounts.get(accountId)!, null)).toBe("ACTIVE");
  });

  it("names its automatic reset as the next deadline", () => {
    const tripped = after(given(opened), failure(T), failure(T + 1), failure(T + 2)).state;
    expect(nextDeadline(tripped, T + 10)).toBe(T + 2 + 600_000);
  });

  it("can be reset early by an operator, but not tripped by one", () => {
    const tripped = after(given(opened), failure(T), failure(T + 1), failure(T + 2)).state;
    const order = { accountId, breaker: "execution_failures" as const, reason: "venue confirmed fixed", by: "rm" };
    expect(run(tripped, { type: "ResetBreaker", at: T + 10, ...order }).events).toMatchObject([{ type: "breaker.reset" }]);
    expect(when(given(opened), { type: "TripBreaker", at: T, ...order })).toMatchObject({ ok: false, rejection: { code: "breaker_not_manual" } });
  });

  it("denies entries while tripped", () => {
    const tick: EngineEvent = { type: "market.tick", at: T + 3, symbol: EURUSD, price: 1.1 };
    const state = evolve(after(given(opened), failure(T), failure(T + 1), failure(T + 2)).state, tick);
    const result = when(state, { type: "SubmitIntent", at: T + 4, intent: intent() });
    if (!result.ok) throw new Error("rejected");
    expect(result.events[1]).toMatchObject({ decision: { outcome: "denied", reason: "trading_halted" } });
  });
});

describe("latency breaker", () => {
  it.each([
    [2_000, false],
    [2_001, true],
  ])("on a latency of %i ms against a 2,000 ms threshold, trips: %s", (latencyMs, trips) => {
    const { account } = after(given(opened), latency(T, latencyMs));
    expect(account.breakers.latency.tripped).toBe(trips);
  });

  it("resets itself only once healthy for the whole cooldown", () => {
    const { state } = after(given(opened), latency(T, 5_000), latency(T + 30_000, 4_000), latency(T + 40_000, 100));
    // The last slow reading was at T + 30 s: healthy for 60 s at T + 90 s.
    expect(run(state, { type: "AdvanceClock", at: T + 89_999 }).events.filter((e) => e.type === "breaker.reset")).toEqual([]);
    expect(run(state, { type: "AdvanceClock", at: T + 90_000 }).events.filter((e) => e.type === "breaker.reset")).toMatchObject([
      { breaker: "latency", by: "engine" },
    ]);
  });
});

describe("manual breaker", () => {
  it("never resets itself", () => {
    const tripped: EngineEvent = { type: "breaker.tripped", at: T, accountId, breaker: "manual", reason: "halt", by: "rm" };
    const { events } = run(given(opened, tripped), { type: "AdvanceClock", at: T + 365 * 86_400_000 });
    expect(events.filter((e) => e.type === "breaker.reset")).toEqual([]);
  });
});
