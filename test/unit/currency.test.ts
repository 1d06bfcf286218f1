import { describe, expect, it } from "vitest";
import { alertsFrom } from "@/server/alerts";
import { verify } from "@/server/compliance/verify";
import type { Command, FillReport } from "@/server/engine/decide";
import { EngineConfig } from "@/server/engine/config";
import { AccountSpec } from "@/server/engine/types";
import type { EngineEvent } from "@/server/engine/events";
import { SymbolId } from "@/server/engine/ids";
import type { EngineState } from "@/server/engine/state";
import { equityOf, evolve, initialState } from "@/server/engine/state";
import { readPresetFiles } from "@/server/presets";
import { accountId, decision, denial, opened, run, when } from "./given";

/**
 * Money in USD whatever the instrument is quoted in: P/L, notional and risk of a position in a
 * pair quoted in yen or pounds are converted at the last price of the quote currency's USD pair.
 * Hand-computed cases: a USDJPY long, a EURGBP short, a gold position.
 */

const USDJPY = SymbolId.parse("USDJPY");
const EURGBP = SymbolId.parse("EURGBP");
const GBPUSD = SymbolId.parse("GBPUSD");
const XAUUSD = SymbolId.parse("XAUUSD");
const EURUSD = SymbolId.parse("EURUSD");
const EURJPY = SymbolId.parse("EURJPY");
const fx = { sector: "fx", cluster: "fx-majors", contractSize: 100_000, tickSize: 0.00001, averageDailyVolume: 1_000_000 };
const config = EngineConfig.parse({
  instruments: {
    USDJPY: { ...fx, tickSize: 0.001 },
    EURGBP: fx,
    GBPUSD: fx,
    EURUSD: fx,
    EURJPY: { ...fx, tickSize: 0.001 },
    XAUUSD: { sector: "metals", cluster: "precious-metals", contractSize: 100, tickSize: 0.01, averageDailyVolume: 300_000 },
  },
  guards: { throttle: { maxOrderNotionalUsd: 200_000 } },
});

const start = (): EngineState => [opened].reduce(evolve, initialState(config));
/** The same account, opened in EUR: its money is in euros. */
const openedInEur: EngineEvent = { ...(opened as Extract<EngineEvent, { type: "account.opened" }>), account: AccountSpec.parse({ ...(opened as Extract<EngineEvent, { type: "account.opened" }>).account, currency: "EUR" }) };
const startInEur = (): EngineState => [openedInEur].reduce(evolve, initialState(config));
const prices = (at: number, ...pairs: [SymbolId, number][]): Command => ({ type: "RecordMarket", at, updates: pairs.map(([symbol, price]) => ({ kind: "tick", symbol, price })) });
const fill = (symbol: SymbolId, side: "BUY" | "SELL", quantity: number, price: number, at: number): Command => ({
  type: "RecordFills",
  at,
  fills: [{ accountId, intentId: null, symbol, side, quantity, price, feeUsd: 0, trigger: "order" } satisfies FillReport],
});

describe("P/L in USD", () => {
  it("books a USDJPY long's yen P/L in USD at the USDJPY rate", () => {
    // 1 lot = 100,000 USD of yen; 150.00 -> 151.00 is +100,000 JPY, i.e. 100,000 / 151 = 662.25 USD.
    const marked = run(start(), prices(2_000, [USDJPY, 150]), fill(USDJPY, "BUY", 1, 150, 2_100), prices(2_200, [USDJPY, 151]));
    expect(equityOf(marked.account, marked.state)).toBeCloseTo(100_000 + 100_000 / 151, 6);
    const closed = run(marked.state, fill(USDJPY, "SELL", 1, 151, 2_300));
    expect(closed.account.balance).toBeCloseTo(100_000 + 100_000 / 151, 6);
    expect(closed.events.find((event) => event.type === "execution.filled")).toMatchObject({ accountPerQuote: 1 / 151 });
  });

  it("books a EURGBP short's pound P/L in USD at GBPUSD", () => {
    // Short 1 lot from 0.8500; at 0.8400 it is +1,000 GBP, at GBPUSD 1.25 that is 1,250 USD.
    const marked = run(start(), prices(2_000, [GBPUSD, 1.25], [EURGBP, 0.85]), fill(EURGBP, "SELL", 1, 0.85, 2_100), prices(2_200, [EURGBP, 0.84]));
    expect(equityOf(marked.account, marked.state)).toBeCloseTo(101_250, 6);
    // Covered when GBPUSD is 1.26: the 1,000 GBP realized are 1,260 USD.
    const closed = run(marked.state, prices(2_300, [GBPUSD, 1.26]), fill(EURGBP, "BUY", 1, 0.84, 2_400));
    expect(closed.account.balance).toBeCloseTo(101_260, 6);
  });

  it("books gold, quoted in USD, as it is", () => {
    // 100 oz from 2,000 to 2,010: +1,000 USD.
    const marked = run(start(), prices(2_000, [XAUUSD, 2_000]), fill(XAUUSD, "BUY", 1, 2_000, 2_100), prices(2_200, [XAUUSD, 2_010]));
    expect(equityOf(marked.account, marked.state)).toBeCloseTo(101_000, 6);
  });
});

describe("notional and new exposure", () => {
  it("measures a USDJPY order's notional in USD: 1 lot at 150 is 100,000 USD, not 15,000,000", () => {
    const state = run(start(), prices(2_000, [USDJPY, 150])).state;
    expect(denial(decision(state, { symbol: "USDJPY", quantity: 1 }, 2_500))).toBe("allowed");
    expect(denial(decision(state, { symbol: "USDJPY", quantity: 2.5 }, 2_500))).toMatchObject({ reason: "order_notional_exceeded", observed: 250_000 });
  });

  it("denies a EURGBP entry while GBPUSD has no price, naming the pair it needs", () => {
    const state = run(start(), prices(2_000, [EURGBP, 0.85])).state;
    const decided = decision(state, { symbol: "EURGBP", quantity: 0.1 }, 2_500);
    expect(denial(decided)).toMatchObject({ guard: "price_sanity", reason: "no_price" });
    expect(decided.outcome === "denied" && decided.detail).toContain("GBPUSD");
  });

  it("denies a EURGBP entry while the GBPUSD rate is stale", () => {
    const state = run(start(), prices(2_000, [GBPUSD, 1.25]), prices(200_000, [EURGBP, 0.85])).state;
    const decided = decision(state, { symbol: "EURGBP", quantity: 0.1 }, 200_500);
    expect(denial(decided)).toMatchObject({ guard: "price_sanity", reason: "stale_price" });
    expect(decided.outcome === "denied" && decided.detail).toContain("GBPUSD");
  });

  it("refuses a EURGBP fill while no GBPUSD price converts it, rather than booking pounds as dollars", () => {
    const result = when(run(start(), prices(2_000, [EURGBP, 0.85])).state, fill(EURGBP, "SELL", 1, 0.85, 2_100));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.rejection).toMatchObject({ code: "no_conversion_rate", symbol: "EURGBP", currency: "GBP" });
  });
});

describe("the verifier converts as the engine does", () => {
  it("sees no breach in a USDJPY long down one yen (671 USD), where yen booked as dollars would be 100,000", () => {
    const ftmo = readPresetFiles().find(({ preset }) => preset.id === "ftmo-2step-100k")!.preset;
    let state: EngineState = initialState();
    const events: EngineEvent[] = [];
    for (const command of [
      { type: "ApplyConfig", at: 1_000, config, by: "system" },
      { type: "OpenAccount", at: 1_000, account: (opened as Extract<EngineEvent, { type: "account.opened" }>).account, preset: { presetId: ftmo.id, version: 1, rules: ftmo.rules }, by: "test" },
      prices(2_000, [USDJPY, 150]),
      fill(USDJPY, "BUY", 1, 150, 2_100),
      prices(2_200, [USDJPY, 149]),
    ] as Command[]) {
      const result = when(state, command);
      if (!result.ok) throw new Error(JSON.stringify(result.rejection));
      for (const event of result.events) events.push(event), (state = evolve(state, event));
    }
    expect(equityOf(state.accounts.get(accountId)!, state)).toBeCloseTo(100_000 - 100_000 / 149, 6);
    expect(events.some((event) => event.type === "account.locked_out")).toBe(false);
    const report = verify(events.map((event, index) => ({ seq: index + 1, event })), ftmo, accountId);
    expect(report.accounts[0]!.breaches).toEqual([]);
    expect(report.accounts[0]!.finalEquity).toBeCloseTo(100_000 - 100_000 / 149, 2);
  });
});

describe("the verifier converts as the engine does, in each account's currency", () => {
  const ftmo = () => readPresetFiles().find(({ preset }) => preset.id === "ftmo-2step-100k")!.preset;
  /** The engine's events of `commands` from an account opened in `currency`, with the engine's state after them. */
  const recorded = (currency: string, commands: Command[]) => {
    let state: EngineState = initialState();
    const events: EngineEvent[] = [];
    const account = AccountSpec.parse({ ...(opened as Extract<EngineEvent, { type: "account.opened" }>).account, currency });
    for (const command of [
      { type: "ApplyConfig", at: 1_000, config, by: "system" },
      { type: "OpenAccount", at: 1_000, account, preset: { presetId: ftmo().id, version: 1, rules: ftmo().rules }, by: "test" },
      ...commands,
    ] as Command[]) {
      const result = when(state, command);
      if (!result.ok) throw new Error(JSON.stringify(result.rejection));
      for (const event of result.events) {
        events.push(event);
        state = evolve(state, event);
      }
    }
    const report = verify(events.map((event, index) => ({ seq: index + 1, event })), ftmo(), accountId);
    return { equity: equityOf(state.accounts.get(accountId)!, state), balance: state.accounts.get(accountId)!.balance, report: report.accounts[0]! };
  };
  // USDJPY long 150 -> 151, EURGBP short 0.85 -> 0.84 (the short half closed at 0.845), gold long 2,000 -> 2,010.
  const book: Command[] = [
    prices(2_000, [USDJPY, 150], [EURGBP, 0.85], [GBPUSD, 1.25], [XAUUSD, 2_000], [EURUSD, 1.1]),
    fill(USDJPY, "BUY", 1, 150, 2_100),
    fill(EURGBP, "SELL", 1, 0.85, 2_100),
    fill(XAUUSD, "BUY", 1, 2_000, 2_100),
    prices(2_200, [USDJPY, 151], [EURGBP, 0.845], [XAUUSD, 2_010]),
    fill(EURGBP, "BUY", 0.5, 0.845, 2_300),
    prices(2_400, [EURGBP, 0.84]),
  ];

  it("in a USD account: yen at USDJPY, pounds at GBPUSD, gold as it is", () => {
    const { equity, balance, report } = recorded("USD", book);
    // Closed: 0.5 lot × 0.005 = 250 GBP at 1.25 = 312.50 USD. Open: 100,000 JPY / 151 + 500 GBP × 1.25 + 1,000 USD.
    expect(balance).toBeCloseTo(100_000 + 312.5, 6);
    expect(equity).toBeCloseTo(100_000 + 312.5 + 100_000 / 151 + 625 + 1_000, 6);
    expect(report.finalBalance).toBeCloseTo(balance, 2);
    expect(report.finalEquity).toBeCloseTo(equity, 2);
    expect(report.breaches).toEqual([]);
  });

  it("in a EUR account: yen through USD, pounds at EURGBP itself, gold at EURUSD", () => {
    const { equity, balance, report } = recorded("EUR", book);
    // Closed: 250 GBP at 1 / 0.845 EUR a pound = 295.86 EUR. Open: 100,000 JPY / 151 / 1.1 + 500 GBP / 0.84 + 1,000 USD / 1.1.
    expect(balance).toBeCloseTo(100_000 + 250 / 0.845, 6);
    expect(equity).toBeCloseTo(100_000 + 250 / 0.845 + 100_000 / 151 / 1.1 + 500 / 0.84 + 1_000 / 1.1, 6);
    expect(report.finalBalance).toBeCloseTo(balance, 2);
    expect(report.finalEquity).toBeCloseTo(equity, 2);
    expect(report.breaches).toEqual([]);
  });
});

describe("an account in EUR: P/L, notional and risk in euros", () => {
  // EURUSD 1.10: a dollar is 1 / 1.1 euro.
  it("books a USDJPY long's yen P/L in EUR through USD (USDJPY and EURUSD) when no EURJPY price is there", () => {
    // +100,000 JPY at 151 yen a dollar and 1.10 dollars a euro: 100,000 / 151 / 1.1 = 602.05 EUR.
    const marked = run(startInEur(), prices(2_000, [USDJPY, 150], [EURUSD, 1.1]), fill(USDJPY, "BUY", 1, 150, 2_100), prices(2_200, [USDJPY, 151]));
    expect(equityOf(marked.account, marked.state)).toBeCloseTo(100_000 + 100_000 / 151 / 1.1, 6);
    const closed = run(marked.state, fill(USDJPY, "SELL", 1, 151, 2_300));
    expect(closed.account.balance).toBeCloseTo(100_000 + 100_000 / 151 / 1.1, 6);
    expect(closed.events.find((event) => event.type === "execution.filled")).toMatchObject({ accountPerQuote: (1 / 151) * (1 / 1.1) });
  });

  it("books a USDJPY long at EURJPY, the direct pair, when it has a price", () => {
    // +100,000 JPY at 165 yen a euro: 606.06 EUR (the cross pair is taken before the way through USD).
    const marked = run(startInEur(), prices(2_000, [USDJPY, 150], [EURUSD, 1.1], [EURJPY, 165]), fill(USDJPY, "BUY", 1, 150, 2_100), prices(2_200, [USDJPY, 151]));
    expect(equityOf(marked.account, marked.state)).toBeCloseTo(100_000 + 100_000 / 165, 6);
  });

  it("books a EURGBP short's pound P/L in EUR at the pair's own price, with no USD rate at all", () => {
    // Short 1 lot from 0.8500; at 0.8400 it is +1,000 GBP = 1,000 / 0.84 = 1,190.48 EUR.
    const state = run(startInEur(), prices(2_000, [EURGBP, 0.85])).state;
    expect(denial(decision(state, { symbol: "EURGBP", side: "SELL", quantity: 1 }, 2_500))).toBe("allowed");
    const marked = run(state, fill(EURGBP, "SELL", 1, 0.85, 2_100), prices(2_200, [EURGBP, 0.84]));
    expect(equityOf(marked.account, marked.state)).toBeCloseTo(100_000 + 1_000 / 0.84, 6);
    const closed = run(marked.state, fill(EURGBP, "BUY", 1, 0.84, 2_300));
    expect(closed.account.balance).toBeCloseTo(100_000 + 1_000 / 0.84, 6);
  });

  it("books gold, quoted in USD, in EUR at EURUSD", () => {
    // 100 oz from 2,000 to 2,010: +1,000 USD = 1,000 / 1.1 = 909.09 EUR.
    const marked = run(startInEur(), prices(2_000, [XAUUSD, 2_000], [EURUSD, 1.1]), fill(XAUUSD, "BUY", 1, 2_000, 2_100), prices(2_200, [XAUUSD, 2_010]));
    expect(equityOf(marked.account, marked.state)).toBeCloseTo(100_000 + 1_000 / 1.1, 6);
    expect(marked.state.accounts.get(accountId)!.spec.currency).toBe("EUR");
  });

  it("states the risk at the stop of a gold entry in EUR", () => {
    // 1 lot (100 oz) from 2,000 with its stop at 1,990: 1,000 USD = 909.09 EUR.
    const state = run(startInEur(), prices(2_000, [XAUUSD, 2_000], [EURUSD, 1.1])).state;
    const decided = decision(state, { symbol: "XAUUSD", quantity: 1, slPrice: 1_990 }, 2_500);
    expect(decided).toMatchObject({ outcome: "allowed", riskAtStopUsd: 909.09 });
  });

  it("measures a USDJPY order's notional in EUR: 2.1 lots are 190,909 EUR (under a 200,000 cap) where a USD account sees 210,000", () => {
    const inEur = run(startInEur(), prices(2_000, [USDJPY, 150], [EURUSD, 1.1])).state;
    expect(denial(decision(inEur, { symbol: "USDJPY", quantity: 2.1 }, 2_500))).toBe("allowed");
    expect(denial(decision(inEur, { symbol: "USDJPY", quantity: 2.5 }, 2_500))).toMatchObject({ reason: "order_notional_exceeded", observed: 227_273 });
    const inUsd = run(start(), prices(2_000, [USDJPY, 150], [EURUSD, 1.1])).state;
    expect(denial(decision(inUsd, { symbol: "USDJPY", quantity: 2.1 }, 2_500))).toMatchObject({ reason: "order_notional_exceeded", observed: 210_000 });
  });

  it("denies a gold entry while EURUSD has no price, naming the pair; the exit of a held position still passes", () => {
    const state = run(startInEur(), prices(2_000, [XAUUSD, 2_000])).state;
    const decided = decision(state, { symbol: "XAUUSD", quantity: 1 }, 2_500);
    expect(denial(decided)).toMatchObject({ guard: "price_sanity", reason: "no_price" });
    expect(decided.outcome === "denied" && decided.detail).toContain("EURUSD");
    expect(decided.outcome === "denied" && decided.detail).toContain("EUR");
    // A USD account needs no rate for gold.
    expect(denial(decision(run(start(), prices(2_000, [XAUUSD, 2_000])).state, { symbol: "XAUUSD", quantity: 1 }, 2_500))).toBe("allowed");
    // Held from when EURUSD was priced, the position can be closed however old the rate is.
    const held = run(startInEur(), prices(2_000, [XAUUSD, 2_000], [EURUSD, 1.1]), fill(XAUUSD, "BUY", 1, 2_000, 2_100), prices(200_000, [XAUUSD, 2_000])).state;
    expect(denial(decision(held, { symbol: "XAUUSD", action: "CLOSE", side: "SELL", quantity: 1 }, 200_500))).toBe("allowed");
    expect(denial(decision(held, { symbol: "XAUUSD", quantity: 1 }, 200_500))).toMatchObject({ guard: "price_sanity", reason: "stale_price" });
  });

  it("denies a USDJPY entry in a EUR account while the EURUSD leg of its rate is stale, naming it", () => {
    const state = run(startInEur(), prices(2_000, [EURUSD, 1.1]), prices(200_000, [USDJPY, 150])).state;
    const decided = decision(state, { symbol: "USDJPY", quantity: 0.1 }, 200_500);
    expect(denial(decided)).toMatchObject({ guard: "price_sanity", reason: "stale_price" });
    expect(decided.outcome === "denied" && decided.detail).toContain("EURUSD");
  });

  it("refuses a gold fill in a EUR account while no EURUSD price converts it", () => {
    const result = when(run(startInEur(), prices(2_000, [XAUUSD, 2_000])).state, fill(XAUUSD, "BUY", 1, 2_000, 2_100));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.rejection).toMatchObject({ code: "no_conversion_rate", symbol: "XAUUSD", currency: "USD" });
    expect(!result.ok && result.rejection.code === "no_conversion_rate" && result.rejection.needs).toContain("EURUSD");
  });
});

describe("account currencies on the ledger", () => {
  it("reads an account opened before currencies as a USD account", () => {
    const parsed = AccountSpec.parse({ accountId: "old-1", name: "Old", presetId: "ftmo-2step-100k", initialBalanceUsd: 100_000 });
    expect(parsed.currency).toBe("USD");
  });

  it("refuses a currency that is not an ISO 4217 code, naming the field", () => {
    const parsed = AccountSpec.safeParse({ accountId: "x-1", name: "X", presetId: "ftmo-2step-100k", initialBalanceUsd: 100_000, currency: "EUX" });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues[0]!.path).toEqual(["currency"]);
  });

  it("books an old fill that records only usdPerQuote at that rate, as before", () => {
    const state = run(start(), prices(2_000, [USDJPY, 150])).state;
    const old: EngineEvent[] = [
      { type: "execution.filled", at: 2_100, accountId, intentId: null, symbol: USDJPY, side: "BUY", quantity: 1, price: 150, feeUsd: 0, trigger: "order", usdPerQuote: 1 / 150 },
      { type: "execution.filled", at: 2_200, accountId, intentId: null, symbol: USDJPY, side: "SELL", quantity: 1, price: 151, feeUsd: 0, trigger: "order", usdPerQuote: 1 / 151 },
    ];
    expect(old.reduce(evolve, state).accounts.get(accountId)!.balance).toBe(100_000 + (151 - 150) * 100_000 * (1 / 151));
  });
});

describe("a lock-out in a EUR account", () => {
  it("records the amounts' currency, and the alert says EUR", () => {
    // Gold 1 lot from 2,000 to 1,860: -14,000 USD = -11,200 EUR at EURUSD 1.25, past FTMO's 10,000 max loss on 100,000 EUR.
    let state: EngineState = initialState();
    const ftmo = readPresetFiles().find(({ preset }) => preset.id === "ftmo-2step-100k")!.preset;
    const events: EngineEvent[] = [];
    for (const command of [
      { type: "ApplyConfig", at: 1_000, config, by: "system" },
      { type: "OpenAccount", at: 1_000, account: (openedInEur as Extract<EngineEvent, { type: "account.opened" }>).account, preset: { presetId: ftmo.id, version: 1, rules: ftmo.rules }, by: "test" },
      prices(2_000, [XAUUSD, 2_000], [EURUSD, 1.25]),
      fill(XAUUSD, "BUY", 1, 2_000, 2_100),
      prices(2_200, [XAUUSD, 1_860]),
    ] as Command[]) {
      const result = when(state, command);
      if (!result.ok) throw new Error(JSON.stringify(result.rejection));
      for (const event of result.events) {
        events.push(event);
        state = evolve(state, event);
      }
    }
    const lockedOut = events.find((event) => event.type === "account.locked_out");
    expect(lockedOut).toMatchObject({ equity: 88_800, currency: "EUR" });
    const alert = alertsFrom(events.map((event, index) => ({ seq: index + 1, recordedAt: event.at, event }))).find((found) => found.kind === "account_locked_out")!;
    expect(alert.text).toContain("88,800.00 EUR");
  });
});
