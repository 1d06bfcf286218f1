import { describe, expect, it } from "vitest";
import type { RulesPatch } from "@/server/engine/config";
import type { Command } from "@/server/engine/decide";
import { clockDue } from "@/server/engine/decide";
import type { EngineEvent } from "@/server/engine/events";
import { AccountId, PresetId } from "@/server/engine/ids";
import { replay } from "@/server/engine/replay";
import { decodeState, encodeState } from "@/server/engine/snapshot";
import { floorsOf, configOf } from "@/server/engine/state";
import { accountView } from "@/server/engine/views";
import { AccountSpec } from "@/server/engine/types";
import { accountId, config, decision, denial, fill, given, intent, opened, run, tick, when } from "./given";

/** Each account decides under its own preset's rules; the firm's defaults hold for the others. */

const otherId = AccountId.parse("acc-2");
const other: EngineEvent = {
  type: "account.opened",
  at: 1_000,
  by: "system",
  account: AccountSpec.parse({ accountId: otherId, name: "Other 100K", presetId: "institutional", initialBalanceUsd: 100_000 }),
};

const activate = (rules: RulesPatch, id = accountId, at = 1_200): Command => ({
  type: "ActivatePreset",
  at,
  accountId: id,
  presetId: PresetId.parse("strict"),
  version: 3,
  rules,
  reason: "tighter limits for news week",
  by: "risk-manager",
});

describe("presets per account", () => {
  it("decides each account under its own preset's rules", () => {
    const { state } = run(given(opened, other), activate({ guards: { throttle: { maxOrderNotionalUsd: 50_000 } } }), tick(1.1, 2_500));
    // 1 lot of EURUSD at 1.1 is 110,000 USD of notional: over this account's preset, within the firm's default.
    expect(denial(decision(state))).toMatchObject({ guard: "throttle", reason: "order_notional_exceeded", limit: 50_000 });
    expect(decision(state, { accountId: otherId })).toMatchObject({ outcome: "allowed" });
  });

  it("records who activated which version, and why", () => {
    const { events, account, state } = run(given(opened), activate({}));
    expect(events[0]).toMatchObject({ type: "preset.activated", presetId: "strict", version: 3, reason: "tighter limits for news week", by: "risk-manager" });
    expect(account.preset).toEqual({ presetId: "strict", version: 3, at: 1_200, reason: "tighter limits for news week", by: "risk-manager" });
    expect(accountView(account, state)).toMatchObject({ presetId: "strict", preset: { version: 3 } });
  });

  it("opens an account under a preset in one step", () => {
    const result = when(given(), { type: "OpenAccount", at: 1_000, account: (opened as Extract<EngineEvent, { type: "account.opened" }>).account, preset: { presetId: PresetId.parse("strict"), version: 1, rules: { accountRules: { maxLossPct: 6 } } }, by: "admin" });
    expect(result.ok && result.events.map((event) => event.type)).toEqual(["account.opened", "preset.activated"]);
  });

  it("starts each account's day at its own reset instant", () => {
    // 17:00 in Chicago on 10 June 2026 is 22:00 UTC; the firm's default resets at 00:00 UTC.
    const chicago = { dailyReset: { time: "17:00", timeZone: "America/Chicago" } };
    const opening = Date.parse("2026-06-10T12:00:00Z");
    const start = given({ ...opened, at: opening }, { ...other, at: opening });
    const { state } = run(start, activate(chicago, accountId, opening + 1));
    const evening = Date.parse("2026-06-10T22:30:00Z");
    const { events } = run(state, { type: "AdvanceClock", at: evening });
    expect(events).toMatchObject([{ type: "day.started", resetAt: Date.parse("2026-06-10T22:00:00Z"), tradingDay: "2026-06-10", baselines: [{ accountId }] }]);
    const after = run(state, { type: "AdvanceClock", at: evening }).state;
    expect(clockDue(after, Date.parse("2026-06-10T23:59:59Z"))).toBe(false);
    const midnight = run(after, { type: "AdvanceClock", at: Date.parse("2026-06-11T00:00:01Z") });
    expect(midnight.events).toMatchObject([{ type: "day.started", tradingDay: "2026-06-11", baselines: [{ accountId: otherId }] }]);
  });

  it("never forgives a day's losses when the new rules reset at another time", () => {
    // Opened at 23:00 UTC on 9 June, after Chicago's 17:00 reset (22:00 UTC): its day starts there.
    // Under a 2% soft daily loss it loses 2,300 at 15:00 UTC on 10 June and pauses.
    const chicago = { dailyReset: { time: "17:00", timeZone: "America/Chicago" }, accountRules: { dailyLossPct: 2, dailyLossOf: "initial_balance" as const } };
    const opening = Date.parse("2026-06-09T23:00:00Z");
    const { state } = run(
      given({ ...opened, at: opening }),
      activate(chicago, accountId, opening + 1),
      { type: "RecordFills", at: opening + 2, fills: [fill("BUY", 1, 1.1)] },
      tick(1.077, Date.parse("2026-06-10T15:00:00Z")),
    );
    expect(state.accounts.get(accountId)!.day.resetAt).toBe(Date.parse("2026-06-09T22:00:00Z"));
    expect(state.accounts.get(accountId)!.reducing).toMatchObject({ cause: "daily_loss_limit", untilReset: true });
    // At 15:10 UTC the desk moves it to a preset resetting at 00:00 UTC: that day began at 00:00 UTC, before the loss.
    const moved = run(state, activate({ accountRules: { dailyLossPct: 2, dailyLossOf: "initial_balance" } }, accountId, Date.parse("2026-06-10T15:10:00Z")));
    const after = run(moved.state, { type: "AdvanceClock", at: Date.parse("2026-06-10T15:11:00Z") });
    expect(after.events.filter((event) => event.type === "day.started")).toEqual([]);
    expect(after.account.reducing).toMatchObject({ cause: "daily_loss_limit" });
    expect(after.account.baseline).toBe(100_000);
    expect(after.account.day).toEqual({ tradingDay: "2026-06-10", resetAt: Date.parse("2026-06-10T00:00:00Z") });
    // The next reset under the new rule starts the next day.
    const tomorrow = run(after.state, { type: "AdvanceClock", at: Date.parse("2026-06-11T00:00:01Z") });
    expect(tomorrow.events).toMatchObject([{ type: "day.started", tradingDay: "2026-06-11" }]);
  });

  it("takes the daily allowance off the baseline as a share of the initial balance when the preset says so", () => {
    const { state, account } = run(given(opened), activate({ accountRules: { dailyLossPct: 5, dailyLossOf: "initial_balance" } }));
    const up = { ...account, baseline: 104_000 };
    expect(floorsOf(up, configOf(state, up)).dailyLossFloor).toBe(99_000);
    const plain = run(given(opened), activate({ accountRules: { dailyLossPct: 5 } }));
    expect(floorsOf({ ...plain.account, baseline: 104_000 }, configOf(plain.state, plain.account)).dailyLossFloor).toBeCloseTo(98_800, 6);
  });

  it("locks the account out at once when the new rules put its equity past the max-loss floor", () => {
    // Long 1 lot from 1.1, now at 1.07: equity 97,000 USD. A 2% max loss puts the floor at 98,000.
    const { state } = run(given(opened), { type: "RecordFills", at: 1_100, fills: [fill("BUY", 1, 1.1)] }, tick(1.07, 1_150));
    const { events } = run(state, activate({ accountRules: { maxLossPct: 2 } }));
    expect(events.map((event) => event.type)).toEqual(["preset.activated", "account.locked_out", "flatten.ordered"]);
  });

  it("keeps what the preset does not set from the firm's configuration, even when that changes", () => {
    const { state, account } = run(given(opened), activate({ accountRules: { maxLossPct: 6 } }));
    expect(configOf(state, account).accountRules).toMatchObject({ maxLossPct: 6, dailyLossPct: 5 });
    expect(configOf(state, account).guards.throttle.maxIntentsPerSecond).toBe(10);
    const loose = run(state, { type: "ApplyConfig", at: 1_300, config: { ...config, guards: { ...config.guards, throttle: { ...config.guards.throttle, maxIntentsPerSecond: 50 } } }, by: "system" });
    expect(configOf(loose.state, loose.account).guards.throttle.maxIntentsPerSecond).toBe(50);
    expect(configOf(loose.state, loose.account).accountRules.maxLossPct).toBe(6);
  });

  it("replays decisions taken under an activated preset, and snapshots keep the rules", () => {
    const { state } = run(given(opened), activate({ guards: { throttle: { maxOrderNotionalUsd: 50_000 } } }), tick(1.1, 2_500));
    const result = when(state, { type: "SubmitIntent", at: 3_000, intent: intent() });
    if (!result.ok) throw new Error("rejected");
    const recorded: EngineEvent[] = [{ type: "config.applied", at: 0, config, by: "system" }, opened, ...run(given(opened), activate({ guards: { throttle: { maxOrderNotionalUsd: 50_000 } } })).events, { type: "market.tick", at: 2_500, symbol: intent().symbol, price: 1.1 }, ...result.events];
    const replayed = replay(recorded.map((event, index) => ({ seq: index + 1, event })));
    expect(replayed.decisions).toBe(1);
    expect(replayed.mismatches).toEqual([]);
    const decoded = decodeState(JSON.parse(JSON.stringify(encodeState(state))));
    expect(denial(decision(decoded))).toMatchObject({ reason: "order_notional_exceeded", limit: 50_000 });
  });

  it("refuses a preset for an unknown account", () => {
    expect(when(given(), activate({}))).toEqual({ ok: false, rejection: { code: "unknown_account", accountId } });
  });
});
