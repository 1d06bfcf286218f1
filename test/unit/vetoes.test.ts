import { describe, expect, it } from "vitest";
import type { EngineConfigInput } from "@/server/engine/config";
import type { EngineEvent } from "@/server/engine/events";
import { SymbolId } from "@/server/engine/ids";
import type { EngineState } from "@/server/engine/state";
import { activeSideLock, activeVeto } from "@/server/engine/state";
import { accountId, configured, decision, denial, EURUSD, fill, given, opened, run, tick } from "./given";

const GBPUSD = SymbolId.parse("GBPUSD");
const instruments = {
  EURUSD: { sector: "fx", contractSize: 100_000, tickSize: 0.00001, averageDailyVolume: 1_000_000 },
  GBPUSD: { sector: "fx", contractSize: 100_000, tickSize: 0.00001, averageDailyVolume: 1_000_000 },
};
const withRegistry = (vetoRegistry: NonNullable<EngineConfigInput["guards"]>["vetoRegistry"]): EngineEvent =>
  configured({ instruments, guards: { vetoRegistry } });
const fills = (at: number, ...reports: ReturnType<typeof fill>[]) => ({ type: "RecordFills", at, fills: reports }) as const;

describe("cooldown after an exit", () => {
  const cooled = () => given(withRegistry({ exitCooldownMs: 60_000 }), opened);

  it("locks the symbol for the cooldown after a fill that reduces a position", () => {
    const { events, state } = run(cooled(), fills(1_000, fill("BUY", 2, 1.1)), fills(2_000, fill("SELL", 1, 1.101)));
    expect(events).toContainEqual({
      type: "veto.added",
      at: 2_000,
      accountId,
      symbol: EURUSD,
      reason: "exit_cooldown",
      note: "exit at 1.101: cooldown of 60 s",
      expiresAt: 62_000,
      valueAtTrigger: 1.101,
      by: "engine",
    });
    const priced = (at: number) => run(state, tick(1.1, at)).state;
    expect(denial(decision(priced(61_000), {}, 61_999))).toMatchObject({ guard: "veto_registry", reason: "symbol_locked", observed: "exit_cooldown" });
    expect(decision(priced(61_000), {}, 62_000).outcome).toBe("allowed");
  });

  it("does not lock after an entry, nor when the cooldown is off (the default)", () => {
    expect(run(cooled(), fills(1_000, fill("BUY", 2, 1.1))).events.map((e) => e.type)).toEqual(["execution.filled"]);
    const off = run(given(opened), fills(1_000, fill("BUY", 2, 1.1)), fills(2_000, fill("SELL", 2, 1.1)));
    expect(off.events.map((e) => e.type)).toEqual(["execution.filled"]);
  });

  it("gives way to the stop-loss lock, which holds until the reset", () => {
    const { state } = run(cooled(), fills(1_000, fill("BUY", 1, 1.1)), fills(2_000, fill("SELL", 1, 1.09, { trigger: "stop_loss" })));
    expect(activeVeto(state.accounts.get(accountId)!, EURUSD, 70_000)).toMatchObject({ reason: "stop_loss_hit", expiresAt: null });
  });
});

describe("stop-loss streak locks a side of the account", () => {
  // 3 stop-losses of long positions within an hour lock new longs (BUY entries) until the reset.
  const streak = () => given(withRegistry({ stopLossStreak: { enabled: true, count: 3, windowMs: 3_600_000 } }), opened);
  const stoppedLong = (at: number, symbol = EURUSD) => [
    fills(at, fill("BUY", 1, 1.1, { symbol })),
    fills(at + 1, fill("SELL", 1, 1.09, { symbol, trigger: "stop_loss" })),
  ];
  const priced = (state: EngineState, at: number) =>
    run(state, { type: "RecordMarket", at, updates: [{ kind: "tick", symbol: GBPUSD, price: 1.27 }, { kind: "tick", symbol: EURUSD, price: 1.1 }] }).state;

  it("locks BUY entries on every symbol at the third stopped long, and lets shorts through", () => {
    const { events, state } = run(streak(), ...stoppedLong(1_000), ...stoppedLong(2_000), ...stoppedLong(3_000));
    expect(events).toContainEqual({
      type: "side.locked",
      at: 3_001,
      accountId,
      side: "BUY",
      reason: "stop_loss_streak",
      note: "3 stop-losses on long positions within 60 min",
      expiresAt: null,
      valueAtTrigger: 3,
      by: "engine",
    });
    const now = priced(state, 3_500);
    const buy = decision(now, { symbol: "GBPUSD", referencePrice: 1.27 }, 4_000);
    expect(buy).toMatchObject({ outcome: "denied", guard: "veto_registry", reason: "side_locked", observed: "stop_loss_streak", limit: "until_reset", detail: "BUY" });
    expect(decision(now, { symbol: "GBPUSD", side: "SELL" }, 4_000).outcome).toBe("allowed");
  });

  it("does not lock at two, nor when the stops are spread wider than the window", () => {
    const two = run(streak(), ...stoppedLong(1_000), ...stoppedLong(2_000));
    expect(activeSideLock(two.account, "BUY", 3_000)).toBeNull();
    const spread = run(streak(), ...stoppedLong(1_000), ...stoppedLong(1_000 + 3_600_000), ...stoppedLong(1_000 + 7_200_000));
    expect(activeSideLock(spread.account, "BUY", 7_300_000)).toBeNull();
  });

  it("ends at the daily reset, or earlier by a manual unlock with a reason", () => {
    const { state } = run(streak(), ...stoppedLong(1_000), ...stoppedLong(2_000), ...stoppedLong(3_000));
    const unlock = { type: "UnlockSide", at: 5_000, accountId, side: "BUY", reason: "strategy fixed", by: "risk-manager" } as const;
    const unlocked = run(state, unlock);
    expect(unlocked.events).toEqual([{ type: "side.unlocked", at: 5_000, accountId, side: "BUY", reason: "strategy fixed", by: "risk-manager" }]);
    expect(activeSideLock(unlocked.account, "BUY", 5_001)).toBeNull();
    expect(() => run(unlocked.state, unlock)).toThrow(/side_not_locked/);
    const nextDay = run(state, { type: "AdvanceClock", at: 86_400_000 });
    expect(activeSideLock(nextDay.account, "BUY", 86_400_001)).toBeNull();
    expect(nextDay.account.stopLosses).toEqual([]);
  });

  it("counts a position stopped out in three partial stop fills as one stop, not three", () => {
    const partial = (at: number) => [
      fills(at, fill("BUY", 0.03, 1.1)),
      fills(at + 1, fill("SELL", 0.01, 1.09, { trigger: "stop_loss" }), fill("SELL", 0.01, 1.09, { trigger: "stop_loss" })),
      fills(at + 2, fill("SELL", 0.01, 1.09, { trigger: "stop_loss" })),
    ];
    const one = run(streak(), ...partial(1_000));
    expect(one.account.stopLosses).toHaveLength(1);
    expect(activeSideLock(one.account, "BUY", 1_500)).toBeNull();
    const two = run(streak(), ...partial(1_000), ...partial(2_000));
    expect(activeSideLock(two.account, "BUY", 2_500)).toBeNull();
    const three = run(streak(), ...partial(1_000), ...partial(2_000), ...partial(3_000));
    expect(three.events).toContainEqual(expect.objectContaining({ type: "side.locked", side: "BUY", valueAtTrigger: 3 }));
  });

  it("does not count a position partly stopped and closed by an order", () => {
    const { account } = run(streak(), fills(1_000, fill("BUY", 2, 1.1)), fills(1_001, fill("SELL", 1, 1.09, { trigger: "stop_loss" })), fills(1_002, fill("SELL", 1, 1.09)));
    expect(account.stopLosses).toEqual([]);
  });

  it("does not count stops closed at a profit (onlyLosing, the default), and counts them with onlyLosing off", () => {
    const trailed = (at: number) => [fills(at, fill("BUY", 1, 1.1)), fills(at + 1, fill("SELL", 1, 1.105, { trigger: "stop_loss" }))];
    const profitable = run(streak(), ...trailed(1_000), ...trailed(2_000), ...trailed(3_000));
    expect(activeSideLock(profitable.account, "BUY", 3_500)).toBeNull();
    const every = given(withRegistry({ stopLossStreak: { enabled: true, count: 3, windowMs: 3_600_000, onlyLosing: false } }), opened);
    const counted = run(every, ...trailed(1_000), ...trailed(2_000), ...trailed(3_000));
    expect(activeSideLock(counted.account, "BUY", 3_500)).toMatchObject({ reason: "stop_loss_streak" });
  });

  it("is off by default", () => {
    const { state } = run(given(withRegistry({}), opened), ...stoppedLong(1_000), ...stoppedLong(2_000), ...stoppedLong(3_000));
    expect(activeSideLock(state.accounts.get(accountId)!, "BUY", 3_500)).toBeNull();
  });
});
