import { describe, expect, it } from "vitest";
import { applyFill } from "@/server/engine/accounting";
import type { Command, FillReport } from "@/server/engine/decide";
import type { EngineEvent } from "@/server/engine/events";
import { SymbolId } from "@/server/engine/ids";
import type { EngineState } from "@/server/engine/state";
import { activeVeto, equityUsd, evolve, tradingStateOf } from "@/server/engine/state";
import { accountView } from "@/server/engine/views";
import { accountId, given, opened, when } from "./given";

const EURUSD = SymbolId.parse("EURUSD"); // contract 100,000
const fill = (side: "BUY" | "SELL", quantity: number, price: number, extra: Partial<FillReport> = {}): FillReport => ({
  accountId,
  intentId: null,
  symbol: EURUSD,
  side,
  quantity,
  price,
  feeUsd: 0,
  trigger: "order",
  ...extra,
});
const tick = (price: number, at = 5_000): Command => ({ type: "RecordMarket", at, updates: [{ kind: "tick", symbol: EURUSD, price }] });

function run(state: EngineState, ...commands: Command[]) {
  let events: EngineEvent[] = [];
  for (const command of commands) {
    const result = when(state, command);
    if (!result.ok) throw new Error(`rejected: ${JSON.stringify(result.rejection)}`);
    events = result.events;
    state = result.events.reduce(evolve, state);
  }
  return { events, state, account: state.accounts.get(accountId)! };
}

describe("positions from fills", () => {
  it("averages into a position and realizes P/L on the part closed", () => {
    const opened2 = applyFill(undefined, fill("BUY", 2, 1.1), 100_000);
    const added = applyFill(opened2.position!, fill("BUY", 2, 1.2), 100_000);
    expect(added.position!.avgPrice).toBeCloseTo(1.15, 12);
    const reduced = applyFill(added.position!, fill("SELL", 1, 1.25), 100_000);
    expect(reduced.position!.quantity).toBe(3);
    expect(reduced.realizedUsd).toBeCloseTo(0.1 * 100_000, 6);
  });

  it("reverses through flat at the fill price", () => {
    const long = applyFill(undefined, fill("BUY", 1, 1.1), 100_000).position!;
    const reversed = applyFill(long, fill("SELL", 3, 1.0), 100_000);
    expect(reversed.position).toEqual({ quantity: -2, avgPrice: 1.0 });
    expect(reversed.realizedUsd).toBeCloseTo(-0.1 * 100_000, 6);
  });

  it("marks equity to the last price and books fees and realized P/L into the balance", () => {
    const { account, state } = run(given(opened), { type: "RecordFills", at: 1_000, fills: [fill("BUY", 1, 1.1, { feeUsd: 7 })] }, tick(1.105));
    expect(account.balanceUsd).toBe(100_000 - 7);
    expect(equityUsd(account, state)).toBeCloseTo(100_000 - 7 + 500, 6);
    const view = accountView(account, state);
    expect(view).toMatchObject({ balanceUsd: 99_993, equityUsd: 100_493, positions: [{ symbol: "EURUSD", quantity: 1, avgPrice: 1.1 }] });
    const closed = run(state, { type: "RecordFills", at: 6_000, fills: [fill("SELL", 1, 1.106, { feeUsd: 7 })] });
    expect(closed.account.positions.size).toBe(0);
    expect(closed.account.balanceUsd).toBeCloseTo(100_000 - 14 + 600, 6);
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
    expect(reset.accounts.get(accountId)!.baselineUsd).toBeCloseTo(102_000, 6);
    expect(run(reset, tick(1.0969, 86_400_001)).account.breakers.daily_drawdown.tripped).toBe(false);
    expect(run(reset, tick(1.0968, 86_400_001)).account.breakers.daily_drawdown.tripped).toBe(true);
  });
});
