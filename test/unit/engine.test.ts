import { describe, expect, it } from "vitest";
import type { EngineEvent } from "@/server/engine/events";
import { equityOf, evolve, initialState, tradingStateOf } from "@/server/engine/state";
import { accountView } from "@/server/engine/views";
import { AccountId } from "@/server/engine/ids";
import { accountId, config, given, intent, long, opened, priced, tripped, when } from "./given";

function decisionOf(events: EngineEvent[]) {
  const decided = events.find((event) => event.type === "intent.decided");
  if (!decided || decided.type !== "intent.decided") throw new Error("no decision event");
  return decided.decision;
}

describe("intent decisions", () => {
  it("allows an entry when the account is active, approving the requested quantity", () => {
    const result = when(given(opened, priced), { type: "SubmitIntent", at: 3_000, intent: intent({ quantity: 2.5 }) });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.events.map((event) => event.type)).toEqual(["intent.received", "intent.decided"]);
    expect(decisionOf(result.events)).toMatchObject({ outcome: "allowed", approvedQuantity: 2.5, guard: null, reason: null });
  });

  it("denies an entry when the account is halted, naming the guard, reason, observed value and limit", () => {
    const result = when(given(opened, priced, tripped), { type: "SubmitIntent", at: 3_000, intent: intent() });
    if (!result.ok) throw new Error("expected events");
    expect(decisionOf(result.events)).toEqual({
      intentId: "i-1",
      accountId,
      outcome: "denied",
      approvedQuantity: 0,
      guard: "trading_state",
      reason: "trading_halted",
      observed: "HALTED",
      limit: "ACTIVE",
      detail: "manual breaker by risk-manager at 1970-01-01T00:00:02.000Z: news event",
      advisories: [],
    });
  });

  it("denies a scale-in when halted, since it may add exposure", () => {
    const result = when(given(opened, priced, tripped), { type: "SubmitIntent", at: 3_000, intent: intent({ action: "SCALE" }) });
    if (!result.ok) throw new Error("expected events");
    expect(decisionOf(result.events).outcome).toBe("denied");
  });

  it.each(["CLOSE", "FLATTEN"] as const)("allows a %s of a position when the account is halted: exits always pass", (action) => {
    const result = when(given(opened, long, priced, tripped), { type: "SubmitIntent", at: 3_000, intent: intent({ action, side: "SELL" }) });
    if (!result.ok) throw new Error("expected events");
    expect(decisionOf(result.events)).toMatchObject({ outcome: "allowed", approvedQuantity: 1 });
  });

  it.each([
    ["with no position", [] as EngineEvent[], "SELL", 0],
    ["on the side of the position", [long], "BUY", 1],
  ] as const)("denies an exit %s: it would open exposure past the halt", (_label, held, side, observed) => {
    const result = when(given(opened, ...held, priced, tripped), { type: "SubmitIntent", at: 3_000, intent: intent({ action: "CLOSE", side }) });
    if (!result.ok) throw new Error("expected events");
    expect(decisionOf(result.events)).toMatchObject({ outcome: "denied", guard: "parameter_validity", reason: "nothing_to_close", observed });
  });

  it("cuts an exit larger than the position to the position", () => {
    const result = when(given(opened, long, priced), { type: "SubmitIntent", at: 3_000, intent: intent({ action: "CLOSE", side: "SELL", quantity: 5 }) });
    if (!result.ok) throw new Error("expected events");
    expect(decisionOf(result.events)).toMatchObject({ outcome: "allowed", approvedQuantity: 1, advisories: ["exit cut to the position: 1"] });
  });

  it("refuses an intent for an account that does not exist", () => {
    const result = when(given(priced), { type: "SubmitIntent", at: 3_000, intent: intent() });
    expect(result).toEqual({ ok: false, rejection: { code: "unknown_account", accountId } });
  });
});

describe("manual circuit breaker", () => {
  const order = { accountId, breaker: "manual" as const, reason: "operator check", by: "risk-manager" };

  it("halts the account when tripped, recording who, when and why", () => {
    const result = when(given(opened, priced), { type: "TripBreaker", at: 5_000, ...order });
    if (!result.ok) throw new Error("expected events");
    const state = result.events.reduce(evolve, given(opened, priced));
    const account = state.accounts.get(accountId)!;
    expect(tradingStateOf(account, null)).toBe("HALTED");
    expect(account.breakers.manual).toEqual({ tripped: true, reason: "operator check", trippedAt: 5_000, trippedBy: "risk-manager" });
  });

  it("returns the account to ACTIVE when reset", () => {
    const result = when(given(opened, priced, tripped), { type: "ResetBreaker", at: 6_000, ...order });
    if (!result.ok) throw new Error("expected events");
    const account = result.events.reduce(evolve, given(opened, priced, tripped)).accounts.get(accountId)!;
    expect(tradingStateOf(account, null)).toBe("ACTIVE");
    expect(accountView(account, result.events.reduce(evolve, given(opened, priced, tripped))).breakers[0]).toMatchObject({ kind: "manual", tripped: false, lastResetAt: 6_000, lastResetBy: "risk-manager" });
  });

  it("refuses to trip a breaker that is already tripped", () => {
    expect(when(given(opened, priced, tripped), { type: "TripBreaker", at: 5_000, ...order })).toEqual({
      ok: false,
      rejection: { code: "breaker_already_tripped", accountId, breaker: "manual" },
    });
  });

  it("refuses to reset a breaker that is not tripped", () => {
    expect(when(given(opened, priced), { type: "ResetBreaker", at: 5_000, ...order })).toEqual({
      ok: false,
      rejection: { code: "breaker_not_tripped", accountId, breaker: "manual" },
    });
  });
});

describe("replay", () => {
  it("rebuilds the same state and reproduces every recorded decision from the same events", () => {
    const commands = [
      { type: "SubmitIntent", at: 3_000, intent: intent({ intentId: "a" }) },
      { type: "TripBreaker", at: 4_000, accountId, breaker: "manual", reason: "halt", by: "rm" },
      { type: "SubmitIntent", at: 5_000, intent: intent({ intentId: "b" }) },
      { type: "SubmitIntent", at: 5_500, intent: intent({ intentId: "c", action: "CLOSE", side: "SELL" }) },
      { type: "ResetBreaker", at: 6_000, accountId, breaker: "manual", reason: "clear", by: "rm" },
      { type: "SubmitIntent", at: 7_000, intent: intent({ intentId: "d" }) },
    ] as const;
    let state = given(opened, long, priced);
    const ledger: EngineEvent[] = [opened, long, priced];
    for (const command of commands) {
      const result = when(state, command);
      if (!result.ok) throw new Error(`unexpected rejection ${JSON.stringify(result.rejection)}`);
      ledger.push(...result.events);
      state = result.events.reduce(evolve, state);
    }
    const outcomes = ledger.flatMap((event) => (event.type === "intent.decided" ? [event.decision.outcome] : []));
    expect(outcomes).toEqual(["allowed", "denied", "allowed", "allowed"]);

    // Replay: fold the ledger from scratch, re-deciding every recorded intent on the way.
    let replayed = initialState(config);
    const reproduced: EngineEvent[] = [];
    for (const event of ledger) {
      if (event.type === "intent.received") {
        const result = when(replayed, { type: "SubmitIntent", at: event.at, intent: event.intent });
        if (!result.ok) throw new Error("replay rejected an intent");
        reproduced.push(...result.events.filter((e) => e.type === "intent.decided"));
      }
      replayed = evolve(replayed, event);
    }
    expect(reproduced).toEqual(ledger.filter((event) => event.type === "intent.decided"));
    expect(replayed).toEqual(state);
  });
});

describe("replay failing closed", () => {
  it("reports a recorded decision that has no intent before it, or for an account it cannot decide", async () => {
    const { replay } = await import("@/server/engine/replay");
    const forged = {
      intentId: "x",
      accountId: "nobody",
      outcome: "allowed",
      approvedQuantity: 1e9,
      guard: null,
      reason: null,
      observed: null,
      limit: null,
      advisories: [],
    } as never;
    const orphan = replay([{ seq: 1, event: { type: "intent.decided", at: 1, decision: forged } }]);
    expect(orphan.mismatches).toEqual([{ seq: 1, intentId: "x", recorded: forged, recomputed: null }]);
    const unknown = replay([
      { seq: 1, event: { type: "intent.received", at: 1, intent: intent({ intentId: "x", accountId: "nobody" }) } },
      { seq: 2, event: { type: "intent.decided", at: 1, decision: forged } },
    ]);
    expect(unknown.mismatches).toEqual([{ seq: 2, intentId: "x", recorded: forged, recomputed: null }]);
  });
});

describe("firm-wide halt", () => {
  const other = AccountId.parse("acc-2");
  const openedOther: EngineEvent = { ...opened, account: { ...(opened as Extract<EngineEvent, { type: "account.opened" }>).account, accountId: other } } as EngineEvent;
  const halted: EngineEvent = { type: "firm.halted", at: 2_600, reason: "exchange outage", by: "cro" };

  it("denies entries on every account with firm_halted, while exits pass", () => {
    const state = given(opened, openedOther, long, priced, halted);
    for (const id of [accountId, other]) {
      const result = when(state, { type: "SubmitIntent", at: 3_000, intent: intent({ accountId: id }) });
      if (!result.ok) throw new Error("rejected");
      expect(decisionOf(result.events)).toMatchObject({ outcome: "denied", guard: "trading_state", reason: "firm_halted" });
      expect(tradingStateOf(state.accounts.get(id)!, state.firmHalt)).toBe("HALTED");
    }
    const exit = when(state, { type: "SubmitIntent", at: 3_000, intent: intent({ action: "CLOSE", side: "SELL" }) });
    if (!exit.ok) throw new Error("rejected");
    expect(decisionOf(exit.events).outcome).toBe("allowed");
  });

  it("resumes trading on resume, except on accounts with their own tripped breaker", () => {
    const resumed: EngineEvent = { type: "firm.resumed", at: 2_700, reason: "venue back", by: "cro" };
    const state = given(opened, openedOther, priced, tripped, halted, resumed);
    expect(tradingStateOf(state.accounts.get(accountId)!, state.firmHalt)).toBe("HALTED");
    expect(tradingStateOf(state.accounts.get(other)!, state.firmHalt)).toBe("ACTIVE");
  });

  it("refuses to halt a halted firm or resume a running one", () => {
    expect(when(given(halted), { type: "HaltFirm", at: 1, reason: "again", by: "cro" })).toMatchObject({ rejection: { code: "firm_already_halted" } });
    expect(when(given(), { type: "ResumeFirm", at: 1, reason: "nothing", by: "cro" })).toMatchObject({ rejection: { code: "firm_not_halted" } });
  });
});

describe("last price", () => {
  const EURUSD = long.type === "execution.filled" ? long.symbol : (null as never);
  const bar = (at: number, close: number): EngineEvent => ({ type: "market.bar", at, symbol: EURUSD, open: close, high: close, low: close, close, volume: 0 });

  it("when a bar that closed before the last tick is recorded, then the tick's price stays the last price (the bar's statistics still count)", () => {
    const state = given(opened, long, { type: "market.tick", at: 5_000, symbol: EURUSD, price: 1.2 }, bar(4_000, 1.0));
    const market = state.market.get(EURUSD)!;
    expect(market).toMatchObject({ lastPrice: 1.2, lastPriceAt: 5_000 });
    expect(market.stats.lastBarAt).toBe(4_000);
    // The position is marked at the newer tick: 1 lot × 100,000 × (1.2 − 1.1).
    expect(equityOf(state.accounts.get(accountId)!, state)).toBeCloseTo(100_000 + 10_000, 6);
  });

  it("when a bar closes after the last tick, then its close is the last price", () => {
    const state = given(opened, { type: "market.tick", at: 5_000, symbol: EURUSD, price: 1.2 }, bar(6_000, 1.0));
    expect(state.market.get(EURUSD)).toMatchObject({ lastPrice: 1.0, lastPriceAt: 6_000 });
  });
});
