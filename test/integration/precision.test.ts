import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sampleIntent } from "../fixtures";
import type { RunningServer } from "./harness";
import { api, engineConfigFile, removeDataDir, startServer, tempDir } from "./harness";

/**
 * Issue 20, through the real server: what the peers' own test suites (NautilusTrader's risk
 * engine, Freqtrade's protections) expect of a pre-trade gate. A stop-loss streak counts stopped
 * positions, not stop fills, and only losing ones; prices off the tick and sizes off the lot step
 * are denied; a fill reported twice under one execution id is booked once.
 */

const correction = { reason: "test: book a position" };
let server: RunningServer;
let dataDir: string;
let accounts = 0;

/** A fresh external account (each test its own, so that locks and positions do not carry over). */
async function openAccount(): Promise<string> {
  const accountId = `precision-${++accounts}`;
  const opened = await api(server.url, "POST", "/api/v1/accounts", { accountId, name: `Precision ${accounts}`, presetId: "ftmo-2step-100k", initialBalanceUsd: 100_000 });
  expect(opened.status).toBe(201);
  return accountId;
}

const prices = () => api(server.url, "POST", "/api/v1/market", { ticks: [{ symbol: "EURUSD", price: 1.085 }, { symbol: "GBPUSD", price: 1.27 }] });

beforeAll(async () => {
  dataDir = tempDir("riskgate-precision-");
  server = await startServer({
    RISKGATE_DATA_DIR: dataDir,
    RISKGATE_ENGINE_CONFIG: engineConfigFile({ guards: { throttle: { maxIntentsPerSecond: 1000 }, vetoRegistry: { stopLossStreak: { enabled: true, count: 3 } } } }),
  });
  expect((await prices()).status).toBe(200);
}, 120_000);

afterAll(async () => {
  await server?.stop();
  if (dataDir) await removeDataDir(dataDir);
});

describe("the stop-loss streak", () => {
  /** A long of 0.03 lots EURUSD from 1.085, closed by stops in three fills of 0.01 at `stopPrice`. */
  async function stoppedInParts(accountId: string, stopPrice: number) {
    expect((await api(server.url, "POST", "/api/v1/executions", { fills: [{ accountId, symbol: "EURUSD", side: "BUY", quantity: 0.03, price: 1.085 }], correction })).status).toBe(200);
    const stop = { accountId, symbol: "EURUSD", side: "SELL", quantity: 0.01, price: stopPrice, trigger: "stop_loss" };
    const stopped = await api(server.url, "POST", "/api/v1/executions", { fills: [stop, stop, stop] });
    expect(stopped.status).toBe(200);
  }

  const buyGbpusd = async (accountId: string, intentId: string) => {
    await prices();
    return (await api(server.url, "POST", "/api/v1/intents", sampleIntent(intentId, { accountId, symbol: "GBPUSD" }))).body!.decision;
  };

  it("counts a long stopped out in three partial stop fills as one stop: BUY entries stay open", async () => {
    const accountId = await openAccount();
    await stoppedInParts(accountId, 1.08);
    expect(await buyGbpusd(accountId, "precision-streak-1")).toMatchObject({ outcome: "allowed" });
  });

  it("locks BUY entries at the third stopped long, and not for stops closed at a profit", async () => {
    const losing = await openAccount();
    for (let i = 0; i < 3; i++) await stoppedInParts(losing, 1.08);
    expect(await buyGbpusd(losing, "precision-streak-2")).toMatchObject({ outcome: "denied", reason: "side_locked", observed: "stop_loss_streak" });

    const trailed = await openAccount();
    for (let i = 0; i < 3; i++) await stoppedInParts(trailed, 1.09);
    expect(await buyGbpusd(trailed, "precision-streak-3")).toMatchObject({ outcome: "allowed" });
  });
});

describe("prices on the tick, sizes on the lot step", () => {
  const submit = async (intentId: string, accountId: string, overrides: Record<string, unknown>) => {
    await prices();
    return (await api(server.url, "POST", "/api/v1/intents", sampleIntent(intentId, { accountId, ...overrides }))).body!.decision;
  };

  it("denies a limit off EURUSD's 0.00001 tick, and a size off its 0.01 lot step or below its minimum", async () => {
    const accountId = await openAccount();
    expect(await submit("precision-tick-1", accountId, { limitPrice: 1.084999999 })).toMatchObject({ outcome: "denied", guard: "parameter_validity", reason: "price_precision", observed: 1.084999999, limit: 0.00001, detail: "limitPrice" });
    expect(await submit("precision-lot-1", accountId, { quantity: 1.111111111 })).toMatchObject({ outcome: "denied", guard: "parameter_validity", reason: "quantity_precision", observed: 1.111111111, limit: 0.01 });
    expect(await submit("precision-lot-2", accountId, { quantity: 0.001 })).toMatchObject({ outcome: "denied", reason: expect.stringMatching(/^quantity_(precision|below_minimum)$/) });
    expect(await submit("precision-ok-1", accountId, { quantity: 0.07, limitPrice: 1.08501, slPrice: 1.08 })).toMatchObject({ outcome: "allowed", approvedQuantity: 0.07 });
  });
});

describe("fill identity (finding 4)", () => {
  it("books a fill sent twice under one execId once, and answers the repeat with the first booking", async () => {
    const accountId = await openAccount();
    expect((await prices()).status).toBe(200);
    const fill = { accountId, symbol: "EURUSD", side: "BUY", quantity: 0.5, price: 1.085, execId: "venue-exec-0001" };
    const first = await api(server.url, "POST", "/api/v1/executions", { fills: [fill], correction });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ recorded: expect.any(Number), duplicates: [] });
    // The same report again, without an Idempotency-Key (a drop copy resent after a reconnect).
    const again = await api(server.url, "POST", "/api/v1/executions", { fills: [fill], correction });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ recorded: 0, duplicates: [{ index: 0, accountId, execId: "venue-exec-0001", bookedAt: expect.any(Number) }] });
    const account = await api(server.url, "GET", `/api/v1/accounts/${accountId}`);
    expect(account.body!.account.positions).toMatchObject([{ symbol: "EURUSD", quantity: 0.5 }]);
    // Another account may use the same id: ids are unique per account.
    const other = await openAccount();
    const elsewhere = await api(server.url, "POST", "/api/v1/executions", { fills: [{ ...fill, accountId: other }], correction });
    expect(elsewhere.body).toMatchObject({ duplicates: [] });
  });
});
