import { describe, expect, it } from "vitest";
import type { Command } from "@/server/engine/decide";
import { IntentId } from "@/server/engine/ids";
import { decodeState, encodeState } from "@/server/engine/snapshot";
import { MAX_ALLOWANCES, MAX_EXEC_IDS } from "@/server/engine/state";
import { AccountSpec } from "@/server/engine/types";
import { accountId, fill, given, intent, opened, priced, run, tick, when } from "./given";

/** Reported fills (a venue outside Riskgate) fill what was allowed; corrections are an admin's. */

const external = given(opened, priced); // AccountSpec's default execution is external
const submit = (id: string, overrides: Parameters<typeof intent>[0] = {}, at = 3_000): Command => ({ type: "SubmitIntent", at, intent: intent({ intentId: id, quantity: 0.5, ...overrides }) });
const report = (fills: ReturnType<typeof fill>[], at = 3_500): Command => ({ type: "RecordFills", at, fills, source: "report" });
const i1 = IntentId.parse("i-1");

describe("fills reported from outside", () => {
  it("keeps what an allowed intent may fill, and what was filled of it", () => {
    const { account } = run(external, submit("i-1"));
    expect(account.allowances.get(i1)).toEqual({ symbol: "EURUSD", side: "BUY", quantity: 0.5, filled: 0, at: 3_000 });
    const { account: after } = run(external, submit("i-1"), report([fill("BUY", 0.2, 1.1, { intentId: i1 })]));
    expect(after.allowances.get(i1)).toMatchObject({ quantity: 0.5, filled: 0.2 });
    const { account: done } = run(external, submit("i-1"), report([fill("BUY", 0.2, 1.1, { intentId: i1 }), fill("BUY", 0.3, 1.1, { intentId: i1 })]));
    expect(done.allowances.has(i1)).toBe(false);
    expect(done.positions.get(fill("BUY", 1, 1).symbol)?.quantity).toBeCloseTo(0.5, 9);
  });

  it("keeps nothing for a denied intent", () => {
    const { account } = run(external, submit("i-1", { quantity: 1e6 }));
    expect(account.deniedCount).toBe(1);
    expect(account.allowances.size).toBe(0);
  });

  it("refuses a fill that names no allowed intent, the wrong side, or more than is left", () => {
    const { state } = run(external, submit("i-1"));
    const refusal = (fills: ReturnType<typeof fill>[]) => {
      const result = when(state, report(fills));
      return result.ok ? "booked" : result.rejection;
    };
    expect(refusal([fill("BUY", 0.5, 1.1)])).toMatchObject({ code: "fill_unmatched", path: "fills.0.intentId" });
    expect(refusal([fill("BUY", 0.5, 1.1, { intentId: IntentId.parse("nope") })])).toMatchObject({ code: "fill_unmatched", path: "fills.0.intentId" });
    expect(refusal([fill("SELL", 0.5, 1.1, { intentId: i1 })])).toMatchObject({ code: "fill_unmatched", path: "fills.0.intentId" });
    expect(refusal([fill("BUY", 0.6, 1.1, { intentId: i1 })])).toMatchObject({ code: "fill_unmatched", path: "fills.0.quantity" });
    // Two parts that together pass what was allowed: the second is refused, and the whole report with it.
    expect(refusal([fill("BUY", 0.3, 1.1, { intentId: i1 }), fill("BUY", 0.3, 1.1, { intentId: i1 })])).toMatchObject({ path: "fills.1.quantity" });
    expect(refusal([fill("BUY", 0.5, 1.1, { intentId: i1 })])).toBe("booked");
  });

  it("lets a protective exit close what is held without an intent, but not flip or grow it", () => {
    const { state } = run(external, submit("i-1"), report([fill("BUY", 0.5, 1.1, { intentId: i1 })]));
    const booked = (fills: ReturnType<typeof fill>[]) => when(state, report(fills)).ok;
    expect(booked([fill("SELL", 0.5, 1.09, { trigger: "stop_loss" })])).toBe(true);
    expect(booked([fill("SELL", 0.6, 1.09, { trigger: "stop_loss" })])).toBe(false);
    expect(booked([fill("BUY", 0.1, 1.09, { trigger: "take_profit" })])).toBe(false);
    expect(booked([fill("SELL", 0.5, 1.09, { trigger: "order" })])).toBe(false);
  });

  it("takes fills for an account that executes through Riskgate only from its venue, or as a correction", () => {
    const simulated = given({ type: "account.opened", at: 1_000, by: "system", account: AccountSpec.parse({ accountId, name: "Simulated", presetId: "ftmo-2step-100k", initialBalanceUsd: 100_000, execution: "simulated" }) }, priced);
    expect(when(simulated, report([fill("BUY", 1, 1.1)]))).toMatchObject({ ok: false, rejection: { code: "fill_unmatched", path: "fills.0.accountId" } });
    expect(when(simulated, { type: "RecordFills", at: 3_500, fills: [fill("BUY", 1, 1.1)] }).ok).toBe(true);
    const corrected = when(simulated, { type: "RecordFills", at: 3_500, fills: [fill("BUY", 1, 1.1)], source: "correction", reason: "missed report", by: "user:admin" });
    expect(corrected.ok && corrected.events[0]).toMatchObject({ type: "execution.filled", correction: "missed report", by: "user:admin" });
    expect(when(simulated, { type: "RecordFills", at: 3_500, fills: [fill("BUY", 1, 1.1)], source: "correction" })).toMatchObject({ ok: false, rejection: { code: "correction_without_reason" } });
  });

  it(`keeps at most ${MAX_ALLOWANCES} open allowances per account, the newest`, () => {
    let state = external;
    for (let n = 0; n < MAX_ALLOWANCES + 20; n++) state = run(state, tick(1.1, 2_999 + n * 1_000), submit(`i-${n}`, { quantity: 0.01 }, 3_000 + n * 1_000)).state;
    const allowances = state.accounts.get(accountId)!.allowances;
    expect(allowances.size).toBe(MAX_ALLOWANCES);
    expect(allowances.has(IntentId.parse("i-0"))).toBe(false);
    expect(allowances.has(IntentId.parse(`i-${MAX_ALLOWANCES + 19}`))).toBe(true);
  });

  it("survives a snapshot", () => {
    const { state } = run(external, submit("i-1"), report([fill("BUY", 0.2, 1.1, { intentId: i1 })]));
    const restored = decodeState(JSON.parse(JSON.stringify(encodeState(state))));
    expect(restored.accounts.get(accountId)!.allowances.get(i1)).toEqual(state.accounts.get(accountId)!.allowances.get(i1));
  });
});

describe("fill identity", () => {
  it("books a report of one execId once, however often it comes, and keeps the ids across a snapshot", () => {
    const once = fill("BUY", 0.2, 1.1, { intentId: i1, execId: "x-1" });
    const { state, account } = run(external, submit("i-1"), report([once]), report([once], 3_600));
    expect(account.positions.get(once.symbol)!.quantity).toBeCloseTo(0.2, 12);
    expect(account.execIds.get("x-1")).toBe(3_500);
    // Twice in one report: the second is not applied either.
    const twice = run(external, submit("i-1"), report([once, once]));
    expect(twice.account.positions.get(once.symbol)!.quantity).toBeCloseTo(0.2, 12);
    expect(twice.events.filter((event) => event.type === "execution.filled")).toHaveLength(1);
    // After a restart from a snapshot, the id is still known.
    const restored = decodeState(encodeState(state));
    const repeat = when(restored, report([once], 4_000));
    expect(repeat.ok && repeat.events).toEqual([]);
  });

  it("keeps the latest MAX_EXEC_IDS ids of an account, the oldest dropped first", () => {
    const fills = Array.from({ length: MAX_EXEC_IDS + 5 }, (_, n) => fill(n % 2 === 0 ? "BUY" : "SELL", 0.01, 1.1, { execId: `x-${n}` }));
    const { account } = run(external, { type: "RecordFills", at: 3_500, fills, source: "correction", reason: "test" });
    expect(account.execIds.size).toBe(MAX_EXEC_IDS);
    expect(account.execIds.has("x-0")).toBe(false);
    expect(account.execIds.has(`x-${MAX_EXEC_IDS + 4}`)).toBe(true);
  });
});
