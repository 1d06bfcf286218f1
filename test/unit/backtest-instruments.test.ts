import { describe, expect, it } from "vitest";
import { parseBars } from "@/server/backtest/csv";
import { summarize } from "@/server/backtest/report";
import type { BacktestOptions } from "@/server/backtest/run";
import { runBacktest } from "@/server/backtest/run";
import { backtestSetup, readPreset } from "@/server/backtest/setup";
import { builtinStrategies } from "@/server/backtest/strategies";
import { EngineConfig } from "@/server/engine/config";
import type { SymbolId } from "@/server/engine/ids";
import { currencyPair } from "@/server/engine/currency";
import { defaultInstruments } from "@/server/instruments";

/**
 * Instruments a user can bring: a symbol the engine does not know is guessed (an ISO currency
 * pair as FX, anything else as an equity) and the guess is said; an instruments file or the
 * firm's configuration (RISKGATE_ENGINE_CONFIG) states it instead; and a volume nobody knows
 * never has the liquidity guard deny every entry.
 */

const ftmo = readPreset("ftmo-2step-100k");
const rows = (symbol: string, closes: number[], volume = false) =>
  parseBars(
    `time,Open,High,Low,Close${volume ? ",Volume" : ""}\n${closes.map((close, i) => `2024-03-04T${String(10 + i).padStart(2, "0")}:00:00Z,${close},${close},${close},${close}${volume ? ",5000" : ""}`).join("\n")}\n`,
    `${symbol.toLowerCase()}.csv`,
    symbol,
  );

function options(overrides: Partial<BacktestOptions> & Pick<BacktestOptions, "data">): BacktestOptions {
  return { preset: ftmo, strategy: builtinStrategies["buy-and-hold"]!, risk: "on", seed: 1, initialBalanceUsd: 100_000, ...overrides };
}

const denials = (records: Awaited<ReturnType<typeof runBacktest>>["records"]) =>
  records.flatMap(({ event }) => (event.type === "intent.decided" && event.decision.outcome === "denied" ? [event.decision.reason] : []));

describe("instruments a user can bring", () => {
  it("when a symbol nobody knows comes without volume, then the liquidity guard does not deny its entries on a made-up volume, and the report says why", async () => {
    // At about 1 USD, buy-and-hold buys some 100,000 shares: 10% of a made-up ADV of 1,000,000.
    const data = rows("ACME", [0.95, 0.96, 0.97, 0.98, 0.99]);
    const run = await runBacktest(options({ data }));
    expect(denials(run.records)).not.toContain("illiquid");
    expect(run.fills.length).toBeGreaterThan(0);
    const report = summarize(run, data, ftmo, { risk: "on", seed: 1, initialBalanceUsd: 100_000 });
    expect(report.warnings).toEqual([
      "ACME: not a known instrument: taken as an equity (contract size 1, tick 0.01); state it in an instruments file if it is not",
      "ACME: daily volume unknown (no averageDailyVolume, no volume in the file): the liquidity guard does not check its entries",
    ]);
  }, 30_000);

  it("when a symbol nobody knows has a volume column, then its ADV is the file's volume per day, and that is said", () => {
    const { engine, warnings } = backtestSetup(options({ data: rows("ACME", [50, 51], true) }));
    expect(engine.instruments["ACME" as SymbolId]).toMatchObject({ sector: "equity", contractSize: 1, tickSize: 0.01, averageDailyVolume: 10_000 });
    expect(warnings).toContain("ACME: average daily volume taken from the file: 10000 a day");
  });

  it("when the symbol is a six-letter ISO currency pair, then it is FX: 100,000 a lot, a tick of 0.00001 (0.001 quoted in JPY), the quote currency its last three letters", () => {
    const eurchf = backtestSetup(options({ data: rows("EURCHF", [0.95, 0.96]) }));
    expect(eurchf.warnings[0]).toBe("EURCHF: not a known instrument: taken as an FX pair (contract size 100000, tick 0.00001, quote currency CHF); state it in an instruments file if it is not");
    // A file of EURCHF alone has no CHF rate: the run books francs as dollars, and says so.
    expect(eurchf.engine.instruments["EURCHF" as SymbolId]).toEqual({ sector: "fx", contractSize: 100_000, tickSize: 0.00001, quoteCurrency: "USD" });
    expect(eurchf.warnings).toContain(
      "EURCHF: quoted in CHF, and the file has no CHFUSD or USDCHF to convert it to USD: its P/L is booked 1 CHF = 1 USD; add the pair's column to the file, or state quoteCurrency in an instruments file",
    );
    const gbpjpy = backtestSetup(options({ data: rows("GBPJPY", [190, 191]) }));
    expect(gbpjpy.engine.instruments["GBPJPY" as SymbolId]).toMatchObject({ sector: "fx", contractSize: 100_000, tickSize: 0.001 });
    expect(currencyPair("ABCDEF")).toBeNull();
    expect(currencyPair("XAGUSD")).toBeNull(); // a metal, not a currency pair
    expect(backtestSetup(options({ data: rows("ABCDEF", [1, 2]) })).engine.instruments["ABCDEF" as SymbolId]).toMatchObject({ sector: "equity" });
  });

  it("when an instruments file states the symbol, then the run uses it and guesses nothing", () => {
    const instruments = { ACME: { sector: "industrials", contractSize: 10, tickSize: 0.05, averageDailyVolume: 2_000_000, quoteCurrency: "EUR" } };
    const { engine, warnings } = backtestSetup(options({ data: rows("ACME", [50, 51]), instruments }));
    expect(engine.instruments["ACME" as SymbolId]).toEqual(instruments.ACME);
    // Stated in EUR with no EURUSD in the file: kept, and the line says why its entries are denied.
    expect(warnings).toEqual(["ACME: quoted in EUR, and the file has no EURUSD or USDEUR to convert it to USD: its entries are denied (no_price) until one is there; add the pair's column to the file"]);
  });

  it("when the firm's configuration (RISKGATE_ENGINE_CONFIG) states the symbol, then the run uses it", () => {
    const firm = EngineConfig.parse({ instruments: { ...defaultInstruments, ACME: { sector: "industrials", contractSize: 5, tickSize: 0.01, averageDailyVolume: 1_000 } } });
    const { engine, warnings } = backtestSetup(options({ data: rows("ACME", [50, 51]), firm }));
    expect(engine.instruments["ACME" as SymbolId]?.contractSize).toBe(5);
    expect(warnings).toEqual([]);
  });

  it("gives every built-in instrument its quote currency", () => {
    expect(Object.fromEntries(Object.entries(defaultInstruments).map(([symbol, instrument]) => [symbol, instrument.quoteCurrency]))).toEqual({
      EURUSD: "USD",
      GBPUSD: "USD",
      USDJPY: "JPY",
      XAUUSD: "USD",
      US500: "USD",
      NAS100: "USD",
      BTCUSD: "USD",
      MSFT: "USD",
      DAX: "EUR",
      CAC: "EUR",
      FTSE: "GBP",
      SMI: "CHF",
    });
  });
});
