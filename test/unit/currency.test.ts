import { describe, expect, it } from "vitest";
import { verify } from "@/server/compliance/verify";
import type { Command, FillReport } from "@/server/engine/decide";
import { EngineConfig } from "@/server/engine/config";
import type { EngineEvent } from "@/server/engine/events";
import { SymbolId } from "@/server/engine/ids";
import type { EngineState } from "@/server/engine/state";
import { equityUsd, evolve, initialState } from "@/server/engine/state";
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
const fx = { sector: "fx", cluster: "fx-majors", contractSize: 100_000, tickSize: 0.00001, averageDailyVolume: 1_000_000 };
const config = EngineConfig.parse({
  instruments: {
    USDJPY: { ...fx, tickSize: 0.001 },
    EURGBP: fx,
    GBPUSD: fx,
    XAUUSD: { sector: "metals", cluster: "precious-metals", contractSize: 100, tickSize: 0.01, averageDailyVolume: 300_000 },
  },
  guards: { throttle: { maxOrderNotionalUsd: 200_000 } },
});

const start = (): EngineState => [opened].reduce(evolve, initialState(config));
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
    expect(equityUsd(marked.account, marked.state)).toBeCloseTo(100_000 + 100_000 / 151, 6);
    const closed = run(marked.state, fill(USDJPY, "SELL", 1, 151, 2_300));
    expect(closed.account.balanceUsd).toBeCloseTo(100_000 + 100_000 / 151, 6);
    expect(closed.events.find((event) => event.type === "execution.filled")).toMatchObject({ usdPerQuote: 1 / 151 });
  });

  it("books a EURGBP short's pound P/L in USD at GBPUSD", () => {
    // Short 1 lot from 0.8500; at 0.8400 it is +1,000 GBP, at GBPUSD 1.25 that is 1,250 USD.
    const marked = run(start(), prices(2_000, [GBPUSD, 1.25], [EURGBP, 0.85]), fill(EURGBP, "SELL", 1, 0.85, 2_100), prices(2_200, [EURGBP, 0.84]));
    expect(equityUsd(marked.account, marked.state)).toBeCloseTo(101_250, 6);
    // Covered when GBPUSD is 1.26: the 1,000 GBP realized are 1,260 USD.
    const closed = run(marked.state, prices(2_300, [GBPUSD, 1.26]), fill(EURGBP, "BUY", 1, 0.84, 2_400));
    expect(closed.account.balanceUsd).toBeCloseTo(101_260, 6);
  });

  it("books gold, quoted in USD, as it is", () => {
    // 100 oz from 2,000 to 2,010: +1,000 USD.
    const marked = run(start(), prices(2_000, [XAUUSD, 2_000]), fill(XAUUSD, "BUY", 1, 2_000, 2_100), prices(2_200, [XAUUSD, 2_010]));
    expect(equityUsd(marked.account, marked.state)).toBeCloseTo(101_000, 6);
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
    expect(equityUsd(state.accounts.get(accountId)!, state)).toBeCloseTo(100_000 - 100_000 / 149, 6);
    expect(events.some((event) => event.type === "account.locked_out")).toBe(false);
    const report = verify(events.map((event, index) => ({ seq: index + 1, event })), ftmo, accountId);
    expect(report.accounts[0]!.breaches).toEqual([]);
    expect(report.accounts[0]!.finalEquityUsd).toBeCloseTo(100_000 - 100_000 / 149, 2);
  });
});
