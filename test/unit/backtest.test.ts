import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseBars, readBarFile } from "@/server/backtest/csv";
import { equityCsv, ledgerNdjson, summarize } from "@/server/backtest/report";
import type { BacktestOptions } from "@/server/backtest/run";
import { runBacktest, runRaw } from "@/server/backtest/run";
import { readPreset } from "@/server/backtest/setup";
import { builtinStrategies, resolveStrategy } from "@/server/backtest/strategies";
import type { StrategyFactory } from "@/server/backtest/strategy";
import { replay } from "@/server/engine/replay";
import { fromNdjsonLine } from "@/server/event-format";

const DATA = path.resolve(import.meta.dirname, "../fixtures/data");
const msft = readBarFile(path.join(DATA, "msft-2000-2001-daily.csv"));
const eu = readBarFile(path.join(DATA, "eu-stock-markets-1991-1998-daily.csv"));
const ftmo = readPreset("ftmo-2step-100k");

function options(overrides: Partial<BacktestOptions> & Pick<BacktestOptions, "data">): BacktestOptions {
  return { preset: ftmo, strategy: builtinStrategies["mean-reversion"]!, risk: "on", seed: 1, initialBalanceUsd: 100_000, ...overrides };
}

async function files(run: BacktestOptions) {
  const result = await runBacktest(run);
  const report = summarize(result, run.data, run.preset, run);
  return { result, ledger: ledgerNdjson(result), equity: equityCsv(result.equity), report: JSON.stringify(report) };
}

describe("backtest runs", () => {
  it("writes the same ledger, equity and report bytes for the same seed, and another ledger for another seed", async () => {
    const first = await files(options({ data: eu, strategy: builtinStrategies.reckless! }));
    const again = await files(options({ data: eu, strategy: builtinStrategies.reckless! }));
    expect(again.ledger).toBe(first.ledger);
    expect(again.equity).toBe(first.equity);
    expect(again.report).toBe(first.report);
    // The venue is random (latency, partial fills): another seed fills otherwise.
    const other = await files(options({ data: msft, seed: 2 }));
    const base = await files(options({ data: msft, seed: 1 }));
    expect(other.ledger).not.toBe(base.ledger);
    expect(other.result.fills.length).toBeGreaterThan(0);
  }, 60_000);

  it("records a ledger that replay reproduces decision for decision", async () => {
    const { ledger } = await files(options({ data: eu, strategy: builtinStrategies.reckless! }));
    const records = ledger.trim().split("\n").map(fromNdjsonLine);
    const result = replay(records);
    expect(result.decisions).toBeGreaterThan(100);
    expect(result.mismatches).toEqual([]);
  }, 60_000);

  it("locks out on the daily loss under FTMO, and the compliance verifier finds the same breach: same instant, equity and floor", async () => {
    const run = options({ data: msft, strategy: builtinStrategies["sma-crossover"]! });
    const { result } = await files(run);
    const report = summarize(result, msft, ftmo, run);
    const lockout = result.records.find(({ event }) => event.type === "account.locked_out");
    expect(lockout?.event).toMatchObject({ type: "account.locked_out", rule: "daily_loss" });
    const trip = result.records.find(({ event }) => event.type === "breaker.tripped");
    expect(trip?.event).toMatchObject({ breaker: "daily_drawdown" });
    const breach = report.compliance!.breaches.find((found) => found.rule === "daily_loss")!;
    expect(report.compliance!.compliant).toBe(false);
    if (lockout!.event.type !== "account.locked_out") throw new Error("unreachable");
    expect(breach.at).toBe(lockout!.event.at);
    expect(breach.seq).toBeLessThan(lockout!.seq);
    expect(breach.observed).toBe(lockout!.event.equity);
    expect(breach.limit).toBe(Number(lockout!.event.floor.toFixed(2)));
    expect(report.riskEvents.map((event) => event.type)).toEqual(["account.locked_out", "breaker.tripped"]);
  }, 60_000);

  it("trips the daily drawdown breaker on the reckless strategy, where the verifier finds the daily-loss breach at the same mark", async () => {
    const run = options({ data: eu, strategy: builtinStrategies.reckless! });
    const { result } = await files(run);
    const report = summarize(result, eu, ftmo, run);
    const trip = result.records.find(({ event }) => event.type === "breaker.tripped" && event.breaker === "daily_drawdown")!;
    expect(trip).toBeDefined();
    const breach = report.compliance!.breaches.find((found) => found.rule === "daily_loss")!;
    expect(breach).toBeDefined();
    expect(breach.at).toBe(trip.event.at);
    // The mark that broke the floor is one of the bars of the command the trip follows.
    const between = result.records.filter(({ seq }) => seq >= breach.seq && seq < trip.seq);
    expect(between.every(({ event }) => event.at === trip.event.at)).toBe(true);
    expect(report.deniedByReason).toHaveProperty("locked_out");
  }, 60_000);

  it("denies nothing with risk off where the same run with risk on is denied and ends elsewhere", async () => {
    const off = await runBacktest(options({ data: eu, risk: "off", strategy: builtinStrategies.reckless!, seed: 11 }));
    const on = await runBacktest(options({ data: eu, risk: "on", strategy: builtinStrategies.reckless!, seed: 11 }));
    const denied = (run: typeof on) => run.records.filter(({ event }) => event.type === "intent.decided" && event.decision.outcome === "denied").length;
    expect(denied(off)).toBe(0);
    expect(denied(on)).toBeGreaterThan(0);
    expect(on.final.equity).not.toBe(off.final.equity);
    expect(off.records.some(({ event }) => event.type === "breaker.tripped" || event.type === "account.locked_out" || event.type === "account.reducing")).toBe(false);
  }, 60_000);

  it("loads a strategy module by path: a default-exported strategy or factory", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "riskgate-strategy-"));
    const file = path.join(dir, "first-bar-long.ts");
    fs.writeFileSync(
      file,
      `export default () => ({
        id: "first-bar-long",
        onBar({ index, symbols, history, account }) {
          if (index !== 0) return [];
          const symbol = symbols[0];
          const close = history.get(symbol).at(-1).close;
          return [{ symbol, action: "OPEN", side: "BUY", quantity: Math.floor(account.equity / close / 2), referencePrice: close }];
        },
      });\n`,
    );
    const strategy = await resolveStrategy(file);
    const run = options({ data: msft, strategy, risk: "off" });
    const result = await runBacktest(run);
    expect(result.strategyId).toBe("first-bar-long");
    expect(result.fills.reduce((sum, fill) => sum + fill.quantity, 0)).toBe(Math.floor(100_000 / 60.625 / 2));
    expect((await runRaw(run)).final).toEqual(result.final);
    await expect(resolveStrategy(path.join(dir, "missing.ts"))).rejects.toThrow("--strategy: no such file");
    await expect(resolveStrategy("no-such-strategy")).rejects.toThrow("--strategy: no built-in strategy no-such-strategy");
  }, 60_000);
});

describe("currencies in backtests", () => {
  // A file of USDJPY closes (yen per dollar) rising 150 -> 152 over five days; the strategy
  // buys one lot (100,000 USD) on the first bar and holds it.
  const days = [150, 150.5, 151, 151.5, 152];
  const usdjpy = parseBars(["date,USDJPY", ...days.map((close, i) => `2024-01-0${i + 2},${close}`)].join("\n"), "usdjpy.csv");
  const oneLot: StrategyFactory = () => ({
    id: "one-lot",
    onBar(context) {
      const bar = context.bars[0]!;
      return context.account.positions.size === 0 && context.bars.length > 0 ? [{ symbol: bar.symbol, action: "OPEN", side: "BUY", quantity: 1, referencePrice: bar.close }] : [];
    },
  });

  it.each(["on", "off"] as const)("books a USDJPY long's yen P/L in USD, with risk %s, and the verifier agrees", async (risk) => {
    const run = options({ data: usdjpy, strategy: oneLot, risk });
    const { result } = await files(run);
    // The venue may fill the lot in parts: (152 - average) yen a dollar on the dollars bought, in dollars at 152 yen; less the fees.
    expect(result.fills.length).toBeGreaterThan(0);
    expect(result.fills.every((fill) => fill.symbol === "USDJPY" && fill.side === "BUY")).toBe(true);
    const lots = result.fills.reduce((sum, fill) => sum + fill.quantity, 0);
    const average = result.fills.reduce((sum, fill) => sum + fill.quantity * fill.price, 0) / lots;
    const fees = result.fills.reduce((sum, fill) => sum + fill.feeUsd, 0);
    const expected = 100_000 + ((152 - average) * lots * 100_000) / 152 - fees;
    expect(result.final.equity).toBeCloseTo(expected, 6);
    expect(result.final.equity - 100_000).toBeLessThan(2_000); // in yen booked as dollars it would be ~200,000
    if (risk === "on") expect(summarize(result, usdjpy, ftmo, run).compliance!.finalEquity).toBeCloseTo(expected, 2);
  }, 60_000);
});

describe("backtests in the account's currency", () => {
  // Five daily closes per column; the strategy opens one position on the first bar and holds it.
  const file = (columns: Record<string, number[]>) =>
    parseBars([`date,${Object.keys(columns).join(",")}`, ...[0, 1, 2, 3, 4].map((i) => `2024-01-0${i + 2},${Object.values(columns).map((closes) => closes[i]).join(",")}`)].join("\n"), "fx.csv");
  const holdOne = (symbol: string, side: "BUY" | "SELL", quantity: number): StrategyFactory => () => ({
    id: "hold-one",
    onBar(context) {
      const bar = context.bars.find((candidate) => candidate.symbol === symbol)!;
      return context.account.positions.size === 0 ? [{ symbol: bar.symbol, action: "OPEN", side, quantity, referencePrice: bar.close }] : [];
    },
  });
  const flat = (close: number) => [close, close, close, close, close];

  type Case = { name: string; currency: string; columns: Record<string, number[]>; symbol: string; side: "BUY" | "SELL"; quantity: number; contractSize: number; perQuoteAtEnd: number };
  const cases: Case[] = [
    // Yen: through USD in a EUR account, EUR per JPY = 1 / 152 / 1.1 at the end.
    { name: "a USDJPY long in a USD account", currency: "USD", columns: { USDJPY: [150, 150.5, 151, 151.5, 152] }, symbol: "USDJPY", side: "BUY", quantity: 1, contractSize: 100_000, perQuoteAtEnd: 1 / 152 },
    { name: "a USDJPY long in a EUR account", currency: "EUR", columns: { USDJPY: [150, 150.5, 151, 151.5, 152], EURUSD: flat(1.1) }, symbol: "USDJPY", side: "BUY", quantity: 1, contractSize: 100_000, perQuoteAtEnd: 1 / 152 / 1.1 },
    // Pounds: at GBPUSD in a USD account, at the pair's own price (inverted) in a EUR account.
    { name: "a EURGBP short in a USD account", currency: "USD", columns: { EURGBP: [0.85, 0.848, 0.846, 0.844, 0.84], GBPUSD: flat(1.25) }, symbol: "EURGBP", side: "SELL", quantity: 1, contractSize: 100_000, perQuoteAtEnd: 1.25 },
    { name: "a EURGBP short in a EUR account", currency: "EUR", columns: { EURGBP: [0.85, 0.848, 0.846, 0.844, 0.84] }, symbol: "EURGBP", side: "SELL", quantity: 1, contractSize: 100_000, perQuoteAtEnd: 1 / 0.84 },
    // Gold, quoted in USD: as it is in a USD account, at EURUSD in a EUR account.
    { name: "an XAUUSD long in a USD account", currency: "USD", columns: { XAUUSD: [2_000, 2_002, 2_005, 2_008, 2_010] }, symbol: "XAUUSD", side: "BUY", quantity: 0.5, contractSize: 100, perQuoteAtEnd: 1 },
    { name: "an XAUUSD long in a EUR account", currency: "EUR", columns: { XAUUSD: [2_000, 2_002, 2_005, 2_008, 2_010], EURUSD: flat(1.1) }, symbol: "XAUUSD", side: "BUY", quantity: 0.5, contractSize: 100, perQuoteAtEnd: 1 / 1.1 },
  ];

  it.each(cases.flatMap((c) => (["on", "off"] as const).map((risk) => ({ ...c, risk }))))("books $name (risk $risk) in that currency, and the verifier agrees", async ({ currency, columns, symbol, side, quantity, contractSize, perQuoteAtEnd, risk }) => {
    const data = file(columns);
    const run = options({ data, strategy: holdOne(symbol, side, quantity), risk, currency });
    const result = await runBacktest(run);
    expect(result.currency).toBe(currency);
    const fills = result.fills.filter((fill) => fill.symbol === symbol);
    expect(fills.length).toBeGreaterThan(0);
    expect(result.fills.every((fill) => fill.side === side)).toBe(true);
    // Held to the end: (last - average) × lots × contract size, signed by the side, at the end's rate; less the fees (charged in the account's currency).
    const lots = fills.reduce((sum, fill) => sum + fill.quantity, 0);
    const average = fills.reduce((sum, fill) => sum + fill.quantity * fill.price, 0) / lots;
    const fees = fills.reduce((sum, fill) => sum + fill.feeUsd, 0);
    const last = columns[symbol]!.at(-1)!;
    const expected = 100_000 + (side === "BUY" ? 1 : -1) * (last - average) * lots * contractSize * perQuoteAtEnd - fees;
    expect(result.final.equity).toBeCloseTo(expected, 6);
    if (risk === "on") {
      const report = summarize(result, data, ftmo, run);
      expect(report.currency).toBe(currency);
      expect(report.compliance!.currency).toBe(currency);
      expect(report.compliance!.finalEquity).toBeCloseTo(expected, 2);
      const opened = result.records.find(({ event }) => event.type === "account.opened")!.event;
      expect(opened.type === "account.opened" && opened.account.currency).toBe(currency);
    }
  }, 60_000);

  it("warns, in a EUR account, that a gold file without EURUSD is booked 1:1, and names the pair", async () => {
    const result = await runBacktest(options({ data: file({ XAUUSD: [2_000, 2_002, 2_005, 2_008, 2_010] }), strategy: holdOne("XAUUSD", "BUY", 0.5), currency: "EUR" }));
    expect(result.warnings.join("\n")).toContain("XAUUSD: quoted in USD, and the file has no USDEUR or EURUSD to convert it to EUR");
  }, 60_000);
});
