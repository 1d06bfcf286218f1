import { describe, expect, it } from "vitest";
import { parseBars } from "@/server/backtest/csv";
import type { BacktestOptions, RunResult } from "@/server/backtest/run";
import { runBacktest, runRaw } from "@/server/backtest/run";
import { readPreset } from "@/server/backtest/setup";
import type { BacktestStrategy } from "@/server/backtest/strategy";
import { defaultVenueParams } from "@/server/execution/simulated-venue";

/**
 * Stops and targets in backtests trigger inside a bar, from its high and low (a bar that touches
 * both: the stop first), not only at its close; a file of closes only is checked at the closes.
 * Synthetic hourly MSFT bars (contract size 1); the entry is a long of 10 from the first close, 100,
 * with a stop at 95 and a target at 110. No partial fills, so each order fills once.
 */

const ftmo = readPreset("ftmo-2step-100k");
const SLIP = defaultVenueParams.slippageBps / 10_000;

const longWithBrackets: BacktestStrategy = {
  id: "bracketed-long",
  onBar: ({ index }) => (index === 0 ? [{ symbol: "MSFT", action: "OPEN", side: "BUY", quantity: 10, referencePrice: 100, slPrice: 95, tpPrice: 110 }] : []),
};

const ohlcv = (...bars: string[]) => parseBars(`time,Open,High,Low,Close,Volume\n2024-03-04T14:00:00Z,100,100,100,100,1000000\n${bars.join("\n")}\n`, "msft-hourly.csv", "MSFT");

function options(data: BacktestOptions["data"]): BacktestOptions {
  return { data, preset: ftmo, strategy: () => longWithBrackets, risk: "off", seed: 1, initialBalanceUsd: 100_000, venue: { ...defaultVenueParams, partialFillProbability: 0 } };
}

const exits = (run: RunResult) => run.fills.filter((fill) => fill.orderId === null).map(({ at, trigger, side, quantity, price }) => ({ at: new Date(at).toISOString(), trigger, side, quantity, price }));

async function bothRuns(data: BacktestOptions["data"]) {
  const engine = await runBacktest(options(data));
  const raw = await runRaw(options(data));
  expect(exits(engine)).toEqual(exits(raw));
  return exits(engine);
}

describe("backtest stops and targets inside a bar", () => {
  it("when a bar's low reaches the stop but it closes above it, then the stop fills at the stop (less slippage) at that bar", async () => {
    const fills = await bothRuns(ohlcv("2024-03-04T15:00:00Z,100,101,94,99,1000000", "2024-03-04T16:00:00Z,99,100,98,99,1000000"));
    expect(fills).toEqual([{ at: "2024-03-04T15:00:00.000Z", trigger: "stop_loss", side: "SELL", quantity: 10, price: Number((95 * (1 - SLIP)).toPrecision(10)) }]);
  });

  it("when a bar's high reaches the target but it closes below it, then the target fills at its price", async () => {
    const fills = await bothRuns(ohlcv("2024-03-04T15:00:00Z,100,111,99,100,1000000"));
    expect(fills).toEqual([{ at: "2024-03-04T15:00:00.000Z", trigger: "take_profit", side: "SELL", quantity: 10, price: 110 }]);
  });

  it("when one bar reaches both the stop and the target, then the stop is taken as hit first", async () => {
    const fills = await bothRuns(ohlcv("2024-03-04T15:00:00Z,100,111,94,100,1000000"));
    expect(fills).toMatchObject([{ trigger: "stop_loss", price: Number((95 * (1 - SLIP)).toPrecision(10)) }]);
  });

  it("when a bar opens through the stop (a gap), then the stop fills at the open, not at the stop", async () => {
    const fills = await bothRuns(ohlcv("2024-03-04T15:00:00Z,90,92,89,91,1000000"));
    expect(fills).toMatchObject([{ trigger: "stop_loss", price: Number((90 * (1 - SLIP)).toPrecision(10)) }]);
  });

  it("when the file has closes only, then stops are checked at the closes as before", async () => {
    const closes = parseBars("time,MSFT\n2024-03-04T14:00:00Z,100\n2024-03-04T15:00:00Z,96\n2024-03-04T16:00:00Z,94\n", "closes.csv");
    const fills = await bothRuns(closes);
    expect(fills).toEqual([{ at: "2024-03-04T16:00:00.000Z", trigger: "stop_loss", side: "SELL", quantity: 10, price: Number((94 * (1 - SLIP)).toPrecision(10)) }]);
  });
});
