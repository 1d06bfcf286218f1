import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseBars, readBarFile } from "@/server/backtest/csv";
import type { RunResult } from "@/server/backtest/run";
import { runBacktest, runRaw } from "@/server/backtest/run";
import { readPreset } from "@/server/backtest/setup";
import { builtinStrategies } from "@/server/backtest/strategies";

/**
 * Numerical parity (SPEC section 7): with risk off, a strategy run through the engine, the queue
 * and the venue makes exactly the trades and the equity of the same strategy on the same venue
 * without the engine: every fill (time, side, size, price, fee, trigger) and every bar's equity,
 * compared with ===, not within a tolerance.
 */

const DATA = path.resolve(import.meta.dirname, "../fixtures/data");
const msft = readBarFile(path.join(DATA, "msft-2000-2001-daily.csv"));
const eu = readBarFile(path.join(DATA, "eu-stock-markets-1991-1998-daily.csv"));
const preset = readPreset("ftmo-2step-100k");

const trades = (run: RunResult) => run.fills.map(({ at, symbol, side, quantity, price, feeUsd, trigger }) => ({ at, symbol, side, quantity, price, feeUsd, trigger }));
const curve = (run: RunResult) => run.equity.map(({ at, equity, balance }) => ({ at, equity, balance }));

async function both(data: typeof msft, strategy: string, seed: number) {
  const options = { data, preset, strategy: builtinStrategies[strategy]!, risk: "off" as const, seed, initialBalanceUsd: 100_000 };
  return { engine: await runBacktest(options), raw: await runRaw(options) };
}

describe("backtest parity with risk off", () => {
  for (const [name, data, strategies] of [
    ["MSFT daily OHLCV", msft, ["buy-and-hold", "sma-crossover", "mean-reversion", "reckless"]],
    ["EU closes of four indices", eu, ["buy-and-hold", "sma-crossover", "mean-reversion", "reckless"]],
  ] as const) {
    for (const strategy of strategies) {
      it(`${strategy} on ${name}: the engine's run equals the raw strategy's, fill for fill and bar for bar`, async () => {
        const { engine, raw } = await both(data, strategy, 11);
        expect(engine.fills.length).toBeGreaterThan(0);
        expect(trades(engine)).toEqual(trades(raw));
        expect(curve(engine)).toEqual(curve(raw));
        expect(engine.final).toEqual(raw.final);
        // The engine allowed every intent it was sent.
        const denied = engine.records.filter(({ event }) => event.type === "intent.decided" && event.decision.outcome === "denied");
        expect(denied).toEqual([]);
      }, 60_000);
    }
  }

  it("a gap through a stop that takes equity below zero: equal until then, where the floors the engine cannot drop act", async () => {
    // Long six times equity from 100 with a stop at 99.5; the next bar opens at 80, so the stop fills
    // there (inside the bar, at the open it gapped to): 6,000 × 20 lost of 100,000.
    const gap = parseBars("time,Open,High,Low,Close,Volume\n2024-03-04T14:00:00Z,100,100,100,100,1000000\n2024-03-04T15:00:00Z,80,81,79,80,1000000\n2024-03-04T16:00:00Z,80,81,79,80,1000000\n", "msft-gap.csv", "MSFT");
    const allIn = { id: "all-in", onBar: ({ index }: { index: number }) => (index === 0 ? [{ symbol: "MSFT", action: "OPEN" as const, side: "BUY" as const, quantity: 6_000, referencePrice: 100, slPrice: 99.5 }] : []) };
    const options = { data: gap, preset, strategy: () => allIn, risk: "off" as const, seed: 1, initialBalanceUsd: 100_000 };
    const engine = await runBacktest(options);
    const raw = await runRaw(options);
    const lockout = engine.records.find(({ event }) => event.type === "account.locked_out");
    expect(lockout?.event).toMatchObject({ type: "account.locked_out", floor: 0 });
    const until = lockout!.event.at;
    const before = (rows: { at: number }[]) => rows.filter((row) => row.at <= until);
    expect(before(trades(engine))).toEqual(before(trades(raw)));
    expect(trades(engine).at(-1)).toMatchObject({ trigger: "stop_loss", price: Number((80 * (1 - 0.5 / 10_000)).toPrecision(10)) });
    // By then the raw account has lost everything: there is nothing left for a risk gate to keep.
    expect(raw.equity.find((row) => row.at === until)!.equity).toBeLessThanOrEqual(0);
  }, 60_000);
});
