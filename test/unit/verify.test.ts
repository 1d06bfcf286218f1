import { describe, expect, it } from "vitest";
import type { Breach } from "@/server/compliance/verify";
import { tradingDayAt, verify } from "@/server/compliance/verify";
import { lastResetAt, tradingDayOf } from "@/server/engine/calendar";
import { EngineConfig } from "@/server/engine/config";
import type { Command, FillReport } from "@/server/engine/decide";
import { decide } from "@/server/engine/decide";
import type { EngineEvent } from "@/server/engine/events";
import { AccountId, SymbolId } from "@/server/engine/ids";
import type { Preset } from "@/server/engine/preset";
import type { EngineState } from "@/server/engine/state";
import { evolve, initialState } from "@/server/engine/state";
import { AccountSpec } from "@/server/engine/types";
import { readPresetFiles } from "@/server/presets";

/**
 * The compliance verifier against hand-built streams for each preset family: a breach one cent
 * past a floor and none one cent inside, trailing floors that rise and stop, trading days across
 * daylight-saving changes. The streams are made by the engine itself, and the verifier (its own
 * books) must find exactly the breaches the engine acted on.
 */

const presets = new Map(readPresetFiles().map(({ preset }) => [preset.id as string, preset]));
const preset = (id: string) => presets.get(id)!;
const account = AccountId.parse("acc-v");
const EURUSD = SymbolId.parse("EURUSD"); // 100,000 units a lot: 0.0001 is 10 USD a lot
const GBPUSD = SymbolId.parse("GBPUSD");
const config = EngineConfig.parse({
  instruments: {
    EURUSD: { sector: "fx", cluster: "fx-majors", contractSize: 100_000, tickSize: 0.00001, averageDailyVolume: 1_000_000 },
    GBPUSD: { sector: "fx", cluster: "fx-majors", contractSize: 100_000, tickSize: 0.00001, averageDailyVolume: 1_000_000 },
  },
});

/** Runs commands through the engine (each after a clock advance, as the server does) and returns the stream with seqs. */
function stream(presetId: string, balance: number, openedAt: number, steps: { at: number; command: (at: number) => Command }[]) {
  return run(presetId, balance, openedAt, steps).records;
}

/** `stream`, with the engine's state at its end. */
function run(presetId: string, balance: number, openedAt: number, steps: { at: number; command: (at: number) => Command }[]) {
  let state: EngineState = initialState();
  const events: EngineEvent[] = [];
  const apply = (command: Command) => {
    const result = decide(command, state);
    if (!result.ok) throw new Error(`rejected: ${JSON.stringify(result.rejection)}`);
    for (const event of result.events) {
      events.push(event);
      state = evolve(state, event);
    }
  };
  apply({ type: "ApplyConfig", at: openedAt, config, by: "system" });
  const spec = AccountSpec.parse({ accountId: account, name: "Verified", presetId, initialBalanceUsd: balance });
  apply({ type: "OpenAccount", at: openedAt, account: spec, preset: { presetId: preset(presetId).id, version: 1, rules: preset(presetId).rules }, by: "test" });
  for (const { at, command } of steps) {
    apply({ type: "AdvanceClock", at });
    apply(command(at));
  }
  return { records: events.map((event, index) => ({ seq: index + 1, event })), state };
}

const fill = (side: "BUY" | "SELL", price: number, quantity = 1, symbol = EURUSD): FillReport => ({ accountId: account, intentId: null, symbol, side, quantity, price, feeUsd: 0, trigger: "order" });
const fills = (...reports: FillReport[]) => (at: number): Command => ({ type: "RecordFills", at, fills: reports });
const tick = (price: number) => (at: number): Command => ({ type: "RecordMarket", at, updates: [{ kind: "tick", symbol: EURUSD, price }] });
/** One market request with a price for each symbol, in the order given. */
const row = (...prices: [SymbolId, number][]) => (at: number): Command => ({ type: "RecordMarket", at, updates: prices.map(([symbol, price]) => ({ kind: "tick", symbol, price })) });

/** The breaches the engine acted on: lock-outs (and the rule) and soft daily pauses. */
function engineBreaches(records: { seq: number; event: EngineEvent }[]) {
  return records.flatMap(({ seq, event }) => {
    if (event.type === "account.locked_out") return [{ rule: event.rule, seq }];
    if (event.type === "account.reducing" && event.cause === "daily_loss_limit") return [{ rule: "daily_loss", seq }];
    return [];
  });
}

/** The verifier's breaches, located at the engine's outcome events (which follow the mark that caused them). */
function verifierBreaches(breaches: readonly Breach[], records: { seq: number; event: EngineEvent }[]) {
  return breaches.map((breach) => ({
    rule: breach.rule,
    seq: records.find(({ seq, event }) => seq > breach.seq && (event.type === "account.locked_out" || event.type === "account.reducing"))?.seq ?? breach.seq,
  }));
}

const T = (iso: string) => Date.parse(iso);

describe("FTMO (5% of the initial balance below the midnight balance, hard; 10% static)", () => {
  // Long 1 lot from 1.1: the day's floor is 95,000 USD, i.e. EURUSD at 1.05.
  const run = (price: number) =>
    stream("ftmo-2step-100k", 100_000, T("2026-06-10T06:00:00Z"), [
      { at: T("2026-06-10T07:00:00Z"), command: fills(fill("BUY", 1.1)) },
      { at: T("2026-06-10T08:00:00Z"), command: tick(price) },
    ]);

  it("reports a breach one cent past the daily floor, with time, observed equity and floor", () => {
    const records = run(1.0499999);
    const report = verify(records, preset("ftmo-2step-100k"));
    expect(report.accounts[0]!.breaches).toEqual([
      { accountId: account, rule: "daily_loss", at: T("2026-06-10T08:00:00Z"), seq: expect.any(Number), tradingDay: "2026-06-10", observed: 94_999.99, limit: 95_000, consequence: "hard" },
    ]);
    expect(report.accounts[0]!.compliant).toBe(false);
    expect(verifierBreaches(report.accounts[0]!.breaches, records)).toEqual(engineBreaches(records));
  });

  it("reports nothing one cent inside it", () => {
    const records = run(1.0500001);
    const report = verify(records, preset("ftmo-2step-100k"));
    expect(report.accounts[0]!.breaches).toEqual([]);
    expect(report.accounts[0]!.compliant).toBe(true);
    expect(engineBreaches(records)).toEqual([]);
  });

  it("when a bar that closed before the last tick arrives late, then neither the engine nor the verifier marks the position at its older close", () => {
    // A tick at 1.1 at 08:00, then a bar that closed at 07:30 at 1.04 (past the 95,000 floor) recorded at 08:10.
    const lateBar = (at: number): Command => ({
      type: "RecordMarket",
      at,
      updates: [{ kind: "bar", symbol: EURUSD, closedAt: T("2026-06-10T07:30:00Z"), open: 1.1, high: 1.1, low: 1.04, close: 1.04, volume: 0 }],
    });
    const records = stream("ftmo-2step-100k", 100_000, T("2026-06-10T06:00:00Z"), [
      { at: T("2026-06-10T07:00:00Z"), command: fills(fill("BUY", 1.1)) },
      { at: T("2026-06-10T08:00:00Z"), command: tick(1.1) },
      { at: T("2026-06-10T08:10:00Z"), command: lateBar },
    ]);
    expect(engineBreaches(records)).toEqual([]);
    expect(verify(records, preset("ftmo-2step-100k")).accounts[0]!.breaches).toEqual([]);
  });

  it("measures the allowance on the initial balance, from the balance at midnight in Prague", () => {
    // +4,000 closed on 10 June; the 11 June floor is 104,000 - 5,000 = 99,000 (not 98,800).
    const records = stream("ftmo-2step-100k", 100_000, T("2026-06-10T06:00:00Z"), [
      { at: T("2026-06-10T07:00:00Z"), command: fills(fill("BUY", 1.1), fill("SELL", 1.14)) },
      { at: T("2026-06-10T22:30:00Z"), command: fills(fill("BUY", 1.1)) }, // 00:30 on 11 June in Prague
      { at: T("2026-06-10T23:00:00Z"), command: tick(1.0499999) }, // 98,999.99: past 99,000, inside 98,800
    ]);
    const breaches = verify(records, preset("ftmo-2step-100k")).accounts[0]!.breaches;
    expect(breaches).toMatchObject([{ rule: "daily_loss", tradingDay: "2026-06-11", observed: 98_999.99, limit: 99_000 }]);
    expect(verifierBreaches(breaches, records)).toEqual(engineBreaches(records));
  });
});

describe("The5ers (5% of the larger of balance and equity at 00:00 UTC+3, hard)", () => {
  it("takes the day's baseline from the higher of balance and equity at the reset", () => {
    // Long 1 lot from 1.1 priced at 1.12 at the reset: equity 102,000 > balance 100,000.
    const records = stream("the5ers-high-stakes", 100_000, T("2026-06-10T12:00:00Z"), [
      { at: T("2026-06-10T13:00:00Z"), command: fills(fill("BUY", 1.1)) },
      { at: T("2026-06-10T20:00:00Z"), command: tick(1.12) },
      // 21:00Z is 00:00 UTC+3: the new day's baseline is 102,000, its floor 96,900.
      { at: T("2026-06-10T21:30:00Z"), command: tick(1.069) },
    ]);
    const breaches = verify(records, preset("the5ers-high-stakes")).accounts[0]!.breaches;
    expect(breaches).toMatchObject([{ rule: "daily_loss", tradingDay: "2026-06-11", observed: 96_900, limit: 96_900 }]);
    expect(verifierBreaches(breaches, records)).toEqual(engineBreaches(records));
  });
});

describe("Topstep 50K (1,000 USD a day, liquidating without failing; 2,000 USD trailing at end of day, stopping at 50,000)", () => {
  const days = (lastPrice: number) =>
    stream("topstep-50k", 50_000, T("2026-06-08T12:00:00Z"), [
      { at: T("2026-06-08T14:00:00Z"), command: fills(fill("BUY", 1.1), fill("SELL", 1.11)) }, // +1,000: 51,000
      { at: T("2026-06-09T14:00:00Z"), command: fills(fill("BUY", 1.1), fill("SELL", 1.12)) }, // +2,000: 53,000
      { at: T("2026-06-10T14:00:00Z"), command: fills(fill("BUY", 1.1)) },
      { at: T("2026-06-10T14:30:00Z"), command: tick(1.08) }, // 51,000: past the day's 52,000 floor (soft)
      { at: T("2026-06-10T15:00:00Z"), command: tick(lastPrice) },
    ]);

  it("liquidates at the daily loss limit and pauses the account until 17:00 CT, a daily-limit event and not a violation", () => {
    const records = days(1.0700001); // 50,000.01: the day's limit is hit at 51,000, the max-loss floor never
    const report = verify(records, preset("topstep-50k")).accounts[0]!;
    expect(report.breaches).toEqual([]);
    expect(report.dailyLimitEvents).toMatchObject([{ rule: "daily_loss", consequence: "liquidate", observed: 51_000, limit: 52_000, tradingDay: "2026-06-10" }]);
    expect(report.compliant).toBe(true);
    // The engine ordered the position closed at the mark that hit the limit, and paused entries until the reset.
    const hit = records.find(({ event }) => event.type === "account.reducing")!;
    expect(hit.event).toMatchObject({ cause: "daily_loss_limit", untilReset: true });
    expect(records[hit.seq]!.event).toMatchObject({ type: "flatten.ordered", symbol: "EURUSD", side: "SELL", quantity: 1 });
    expect(verifierBreaches(report.dailyLimitEvents, records)).toEqual([{ rule: "daily_loss", seq: hit.seq }]);
  });

  it("raises the floor at each day's close and stops it at the initial balance; one cent past it fails the account", () => {
    const records = days(1.0699999); // 49,999.99
    const report = verify(records, preset("topstep-50k")).accounts[0]!;
    expect(report.dailyLimitEvents).toMatchObject([{ rule: "daily_loss", consequence: "liquidate", observed: 51_000, limit: 52_000, tradingDay: "2026-06-10" }]);
    expect(report.breaches).toMatchObject([{ rule: "max_loss", consequence: "hard", observed: 49_999.99, limit: 50_000 }]);
    expect(verifierBreaches(report.breaches, records)).toEqual(engineBreaches(records).filter((breach) => breach.rule === "max_loss"));
  });
});

describe("E8 One (6% trailing intraday, stopping at the initial balance)", () => {
  it("follows the highest equity at any moment, up to the initial balance", () => {
    const records = stream("e8-one", 50_000, T("2026-06-10T06:00:00Z"), [
      { at: T("2026-06-10T07:00:00Z"), command: fills(fill("BUY", 1.1)) },
      { at: T("2026-06-10T08:00:00Z"), command: tick(1.14) }, // 54,000: the trailing floor would be 51,000; it stops at 50,000
      { at: T("2026-06-10T09:00:00Z"), command: tick(1.0999999) }, // 49,999.99
    ]);
    const breaches = verify(records, preset("e8-one")).accounts[0]!.breaches;
    expect(breaches).toMatchObject([{ rule: "max_loss", observed: 49_999.99, limit: 50_000 }]);
    expect(verifierBreaches(breaches, records)).toEqual(engineBreaches(records));
  });
});

describe("objectives", () => {
  it("report the profit target, trading days and the best-day share", () => {
    // FTMO 1-Step: 10% target, best day at most 50% of the profit. +8,000 then +3,000 closed.
    const records = stream("ftmo-1step-100k", 100_000, T("2026-06-10T06:00:00Z"), [
      { at: T("2026-06-10T07:00:00Z"), command: fills(fill("BUY", 1.1), fill("SELL", 1.18)) },
      { at: T("2026-06-11T07:00:00Z"), command: fills(fill("BUY", 1.1), fill("SELL", 1.13)) },
    ]);
    const report = verify(records, preset("ftmo-1step-100k")).accounts[0]!;
    expect(report.objectives.profitTarget).toEqual({ target: 10_000, reached: true, reachedAt: T("2026-06-11T07:00:00Z") });
    expect(report.objectives.tradingDays).toEqual({ required: 0, days: 2, met: true });
    expect(report.objectives.bestDay).toMatchObject({ bestDay: "2026-06-10", bestDayProfit: 8_000, totalProfit: 11_000, met: false });
    expect(report).toMatchObject({ compliant: true, passed: false });
  });
});

describe("trading days across daylight-saving changes", () => {
  const cases: [string, string, string, string][] = [
    // Prague, 29 March 2026: midnight is 23:00 UTC before the change and 22:00 UTC after it.
    ["00:00", "Europe/Prague", "2026-03-28T22:59:59Z", "2026-03-28"],
    ["00:00", "Europe/Prague", "2026-03-28T23:00:00Z", "2026-03-29"],
    ["00:00", "Europe/Prague", "2026-03-29T21:59:59Z", "2026-03-29"],
    ["00:00", "Europe/Prague", "2026-03-29T22:00:00Z", "2026-03-30"],
    ["00:00", "Europe/Prague", "2026-10-24T21:59:59Z", "2026-10-24"],
    ["00:00", "Europe/Prague", "2026-10-25T23:00:00Z", "2026-10-26"],
    // Chicago, 8 March 2026: 17:00 is 23:00 UTC before and 22:00 UTC after.
    ["17:00", "America/Chicago", "2026-03-06T22:59:59Z", "2026-03-05"],
    ["17:00", "America/Chicago", "2026-03-06T23:00:00Z", "2026-03-06"],
    ["17:00", "America/Chicago", "2026-03-09T21:59:59Z", "2026-03-08"],
    ["17:00", "America/Chicago", "2026-03-09T22:00:00Z", "2026-03-09"],
    ["00:00", "Etc/GMT-3", "2026-06-10T20:59:59Z", "2026-06-10"],
    ["00:00", "Etc/GMT-3", "2026-06-10T21:00:00Z", "2026-06-11"],
  ];

  it.each(cases)("%s in %s: %s belongs to %s, and the engine's calendar agrees", (time, timeZone, at, day) => {
    expect(tradingDayAt(T(at), time, timeZone)).toBe(day);
    expect(tradingDayOf(lastResetAt(T(at), { time, timeZone }), { time, timeZone })).toBe(day);
  });
});

describe("CME trade dates (Topstep)", () => {
  const cme = { time: "17:00", timeZone: "America/Chicago", tradeDate: "next_weekday" } as const;
  const cases: [string, string][] = [
    ["2026-06-07T22:00:00Z", "2026-06-08"], // Sunday 17:00 CT: Monday's
    ["2026-06-08T21:59:59Z", "2026-06-08"],
    ["2026-06-08T22:00:00Z", "2026-06-09"],
    ["2026-06-12T12:00:00Z", "2026-06-12"], // Friday
    ["2026-06-12T23:00:00Z", "2026-06-12"], // Friday evening: no new day
    ["2026-06-13T12:00:00Z", "2026-06-12"], // Saturday
    ["2026-06-14T21:59:59Z", "2026-06-12"], // Sunday before 17:00
  ];
  it.each(cases)("%s belongs to %s, in the verifier and the engine's calendar", (at, day) => {
    expect(tradingDayAt(T(at), cme.time, cme.timeZone, cme.tradeDate)).toBe(day);
    expect(tradingDayOf(lastResetAt(T(at), cme), cme)).toBe(day);
  });

  it("gives a Topstep account no weekend day: Friday's losses and Monday's are two days, Saturday none", () => {
    const records = stream("topstep-50k", 50_000, T("2026-06-12T14:00:00Z"), [
      { at: T("2026-06-12T15:00:00Z"), command: fills(fill("BUY", 1.1), fill("SELL", 1.11)) }, // Friday, +1,000
      { at: T("2026-06-15T15:00:00Z"), command: fills(fill("BUY", 1.1), fill("SELL", 1.11)) }, // Monday, +1,000
    ]);
    const started = records.flatMap(({ event }) => (event.type === "day.started" ? [event.tradingDay] : []));
    expect(started).toEqual(["2026-06-15"]);
    expect(verify(records, preset("topstep-50k")).accounts[0]!.objectives.tradingDays.days).toBe(2);
  });
});

describe("which accounts a preset judges", () => {
  it("judges the accounts that run the preset and lists the others as skipped, unless one is named", () => {
    const records = stream("ftmo-2step-100k", 100_000, T("2026-06-10T06:00:00Z"), [{ at: T("2026-06-10T07:00:00Z"), command: fills(fill("BUY", 1.1)) }]);
    expect(verify(records, preset("topstep-100k"))).toMatchObject({ accounts: [], skipped: [{ accountId: account, presetId: "ftmo-2step-100k" }] });
    expect(verify(records, preset("topstep-100k"), account)).toMatchObject({ accounts: [{ accountId: account }], skipped: [] });
  });
});

describe("preset of the verifier's own", () => {
  it("checks the stream against the preset given, not the one the engine used", () => {
    const records = stream("ftmo-2step-100k", 100_000, T("2026-06-10T06:00:00Z"), [
      { at: T("2026-06-10T07:00:00Z"), command: fills(fill("BUY", 1.1)) },
      { at: T("2026-06-10T08:00:00Z"), command: tick(1.07) }, // -3,000: inside FTMO's 5%, past a 2% desk limit
    ]);
    const strict: Preset = { ...preset("ftmo-2step-100k"), id: preset("ftmo-2step-100k").id, rules: { accountRules: { dailyLossPct: 2, dailyLossOf: "initial_balance" } } };
    expect(verify(records, preset("ftmo-2step-100k")).accounts[0]!.breaches).toEqual([]);
    expect(verify(records, strict).accounts[0]!.breaches).toMatchObject([{ rule: "daily_loss", limit: 98_000, observed: 97_000 }]);
  });
});

describe("one instant is one instant", () => {
  // E8's rules with a trailing floor that does not stop at the initial balance: 6% of 50,000 below
  // the highest equity. Long 1 lot of EURUSD from 1.1, short 1 lot of GBPUSD from 1.3: a hedge.
  presets.set("e8-trailing", { ...preset("e8-one"), id: preset("e8-one").id, rules: { ...preset("e8-one").rules, accountRules: { ...preset("e8-one").rules.accountRules, trailingStopsAtInitialBalance: false } } });
  const hedged = { at: T("2026-06-10T07:00:00Z"), command: fills(fill("BUY", 1.1), fill("SELL", 1.3, 1, GBPUSD)) };

  it("does not raise the high-water mark from a half-updated row", () => {
    // Both legs +2,000 / -2,000 in one request: equity stays 50,000; after EURUSD alone it would read 52,000.
    const { records, state } = run("e8-trailing", 50_000, T("2026-06-10T06:00:00Z"), [
      hedged,
      { at: T("2026-06-10T08:00:00Z"), command: row([EURUSD, 1.12], [GBPUSD, 1.32]) },
      // 49,000: a breach only under a mark of 52,000 (floor 49,000); under 50,000 the floor is 47,000.
      { at: T("2026-06-10T09:00:00Z"), command: row([EURUSD, 1.11]) },
    ]);
    expect(state.accounts.get(account)!.highWater).toBe(50_000);
    expect(engineBreaches(records)).toEqual([]);
    expect(verify(records, presets.get("e8-trailing")!).accounts[0]!.breaches).toEqual([]);
  });

  it("finds no breach in a row whose first price alone would be one, in the engine and the verifier alike", () => {
    // EURUSD to 1.07 alone is 47,000, at the floor; GBPUSD to 1.27 in the same request brings it back to 50,000.
    const records = stream("e8-trailing", 50_000, T("2026-06-10T06:00:00Z"), [hedged, { at: T("2026-06-10T08:00:00Z"), command: row([EURUSD, 1.07], [GBPUSD, 1.27]) }]);
    expect(engineBreaches(records)).toEqual([]);
    expect(verify(records, presets.get("e8-trailing")!).accounts[0]!.breaches).toEqual([]);
  });

  it("checks each bar time of a request as its own instant", () => {
    // Two EURUSD bars in one request: 48,400 at 08:00 (past the day's floor, 3% under 50,000), 50,000 at 08:01.
    const bar = (close: number, closedAt: number) => ({ kind: "bar" as const, symbol: EURUSD, open: close, high: close, low: close, close, volume: 10, closedAt });
    const records = stream("e8-trailing", 50_000, T("2026-06-10T06:00:00Z"), [
      hedged,
      { at: T("2026-06-10T08:02:00Z"), command: (at) => ({ type: "RecordMarket", at, updates: [bar(1.084, T("2026-06-10T08:00:00Z")), bar(1.1, T("2026-06-10T08:01:00Z"))] }) },
    ]);
    const breaches = verify(records, presets.get("e8-trailing")!).accounts[0]!.breaches;
    expect(breaches).toMatchObject([{ rule: "daily_loss", at: T("2026-06-10T08:00:00Z"), observed: 48_400, limit: 48_500 }]);
    expect(verifierBreaches(breaches, records)).toEqual(engineBreaches(records));
  });

  it("breaches a day that starts below its floor at the reset, with no price after it", () => {
    // The5ers: +10,000 closed on GBPUSD (balance 110,000) and 5,600 down on EURUSD (equity 104,400).
    // The day that starts at 00:00 UTC+3 (21:00Z) has the floor 95% of max(balance, equity) = 104,500.
    const records = stream("the5ers-high-stakes", 100_000, T("2026-06-10T12:00:00Z"), [
      { at: T("2026-06-10T13:00:00Z"), command: fills(fill("BUY", 1.1), fill("BUY", 1.3, 1, GBPUSD), fill("SELL", 1.4, 1, GBPUSD)) },
      { at: T("2026-06-10T14:00:00Z"), command: tick(1.044) },
      // The next command after the reset (21:00Z) touches neither symbol.
      { at: T("2026-06-11T10:00:00Z"), command: (at) => ({ type: "AdvanceClock", at }) },
    ]);
    const breaches = verify(records, preset("the5ers-high-stakes")).accounts[0]!.breaches;
    expect(breaches).toMatchObject([{ rule: "daily_loss", tradingDay: "2026-06-11", at: T("2026-06-10T21:00:00Z"), observed: 104_400, limit: 104_500 }]);
    expect(verifierBreaches(breaches, records)).toEqual(engineBreaches(records));
  });
});
