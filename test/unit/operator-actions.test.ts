import { describe, expect, it } from "vitest";
import type { EngineEvent } from "@/server/engine/events";
import { EngineEvent as EngineEventSchema } from "@/server/engine/events";
import { haltDetail } from "@/server/engine/guards";
import { replay } from "@/server/engine/replay";
import { SymbolId } from "@/server/engine/ids";
import type { Decision } from "@/server/engine/types";
import { accountId, config, configured, decision, fill, given, intent, opened, priced, run, tick, tripped, when } from "./given";

const GBPUSD = SymbolId.parse("GBPUSD");
/** EURUSD and GBPUSD. */
const twoSymbols = configured({ instruments: { ...config.instruments, GBPUSD: { sector: "fx", cluster: "fx-majors", contractSize: 100_000, tickSize: 0.00001, averageDailyVolume: 1_000_000 } } });
const flatten = { type: "FlattenAccount", at: 4_000, accountId, reason: "desk: news risk", by: "user:rm" } as const;

describe("flatten now (FlattenAccount)", () => {
  it("when the account holds positions, then one flatten.ordered closes each, with who and why", () => {
    const { state } = run(given(twoSymbols, opened), { type: "RecordFills", at: 1_500, fills: [fill("BUY", 2, 1.1), fill("SELL", 1, 1.27, { symbol: GBPUSD })] });
    const result = when(state, flatten);
    expect(result).toEqual({
      ok: true,
      events: [
        { type: "flatten.ordered", at: 4_000, accountId, symbol: "EURUSD", side: "SELL", quantity: 2, by: "user:rm", reason: "desk: news risk" },
        { type: "flatten.ordered", at: 4_000, accountId, symbol: "GBPUSD", side: "BUY", quantity: 1, by: "user:rm", reason: "desk: news risk" },
      ],
    });
  });

  it("when the account holds nothing, then it is refused: there is nothing to flatten", () => {
    expect(when(given(opened), flatten)).toEqual({ ok: false, rejection: { code: "nothing_to_flatten", accountId } });
  });

  it("when the account does not exist, then it is refused", () => {
    expect(when(given(), flatten)).toMatchObject({ ok: false, rejection: { code: "unknown_account" } });
  });

  it("when the account is halted, it still flattens (a flatten only reduces), and changes no state by itself", () => {
    const held = run(given(opened, tripped), { type: "RecordFills", at: 2_100, fills: [fill("BUY", 1, 1.1)] }).state;
    const { events, state } = run(held, flatten);
    expect(events).toHaveLength(1);
    expect(state.accounts.get(accountId)).toBe(held.accounts.get(accountId));
  });

  it("an instruction of a ledger before operators could flatten (no by, no reason) still reads back", () => {
    const old = { type: "flatten.ordered", at: 1, accountId, symbol: "EURUSD", side: "SELL", quantity: 1 };
    expect(EngineEventSchema.parse(old)).toEqual(old);
    expect(EngineEventSchema.safeParse({ ...old, reason: "" }).success).toBe(false);
  });
});

describe("a trading_state denial says why the account is halted", () => {
  const halted = (state: ReturnType<typeof given>) => {
    const denied = decision(state);
    if (denied.outcome !== "denied") throw new Error("expected a denial");
    return denied;
  };

  it("when a breaker is tripped, then the detail names the breaker, who tripped it, when, and the reason", () => {
    expect(halted(given(opened, priced, tripped))).toMatchObject({
      guard: "trading_state",
      reason: "trading_halted",
      detail: "manual breaker by risk-manager at 1970-01-01T00:00:02.000Z: news event",
    });
  });

  it("when two breakers are tripped, then the first in breaker order says why and the other is counted", () => {
    const latency: EngineEvent = { type: "breaker.tripped", at: 2_200, accountId, breaker: "latency", reason: "venue ack 900 ms", by: "engine" };
    expect(halted(given(opened, priced, latency, tripped)).detail).toBe("manual breaker (+1 more) by risk-manager at 1970-01-01T00:00:02.000Z: news event");
  });

  it("when the firm is halted, then the detail says so, by whom, when and why", () => {
    const firm: EngineEvent = { type: "firm.halted", at: 2_400, reason: "venue outage", by: "user:head-of-risk" };
    expect(halted(given(opened, priced, firm))).toMatchObject({
      reason: "firm_halted",
      detail: "firm halt by user:head-of-risk at 1970-01-01T00:00:02.400Z: venue outage",
    });
  });

  it("a long reason is cut so the detail stays within 200 characters", () => {
    const detail = haltDetail("manual breaker", "user:rm", 0, "x".repeat(500));
    expect(detail).toHaveLength(200);
    expect(detail.endsWith("x…")).toBe(true);
    const long: EngineEvent = { ...tripped, reason: "y".repeat(500) } as EngineEvent;
    expect(halted(given(opened, priced, long)).detail).toHaveLength(200);
  });

  it("replay reproduces a halt's denial recorded before it said why (no detail), and still catches another difference", () => {
    const before: EngineEvent[] = [opened, priced, tripped];
    const stream = (decided: Decision) =>
      [...before, { type: "intent.received", at: 3_000, intent: intent() }, { type: "intent.decided", at: 3_000, decision: decided }].map((event, index) => ({ seq: index + 1, event: event as EngineEvent }));
    const now = halted(given(...before));
    const { detail: _detail, ...legacy } = now;
    expect(replay(stream(legacy)).mismatches).toEqual([]);
    expect(replay(stream(now)).mismatches).toEqual([]);
    expect(replay(stream({ ...legacy, observed: "ACTIVE" })).mismatches).toHaveLength(1);
    expect(replay(stream({ ...now, detail: "something else" })).mismatches).toHaveLength(1);
  });

  it("exits still pass while halted, and nothing changes for an active account", () => {
    expect(decision(given(opened, priced)).outcome).toBe("allowed");
    expect(decision(run(given(opened, priced), { type: "RecordFills", at: 2_000, fills: [fill("BUY", 1, 1.1)] }, tick(1.1, 2_100)).state).outcome).toBe("allowed");
  });
});
