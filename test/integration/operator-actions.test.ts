import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sampleIntent } from "../fixtures";
import type { RunningServer } from "./harness";
import { api, engineConfigFile, removeDataDir, startServer, tempDir } from "./harness";

/**
 * Issue 17: the operator actions a risk desk needs and the figures it reads, through the real
 * server: "flatten now" (recorded with who and why; 409 with nothing to flatten), the live
 * objectives and closed trades of an account (its own ledger events through the compliance
 * verifier), and a halt's denial that says why.
 */

const ADMIN_ACTOR = "token:admin (RISKGATE_ADMIN_TOKEN)";
const ACCOUNT = "ops-external-1";
const account = `/api/v1/accounts/${ACCOUNT}`;
const correction = { reason: "test: book a position" };

let server: RunningServer;
let dataDir: string;

beforeAll(async () => {
  dataDir = tempDir("riskgate-operator-");
  server = await startServer({
    RISKGATE_DATA_DIR: dataDir,
    RISKGATE_ENGINE_CONFIG: engineConfigFile({ guards: { throttle: { maxIntentsPerSecond: 1000 } } }),
  });
  const opened = await api(server.url, "POST", "/api/v1/accounts", { accountId: ACCOUNT, name: "Ops external", presetId: "ftmo-2step-100k", initialBalanceUsd: 100_000 });
  expect(opened.status).toBe(201);
  expect((await api(server.url, "POST", "/api/v1/market", { ticks: [{ symbol: "EURUSD", price: 1.085 }, { symbol: "XAUUSD", price: 2_350 }] })).status).toBe(200);
}, 120_000);

afterAll(async () => {
  await server?.stop();
  if (dataDir) await removeDataDir(dataDir);
});

describe("flatten now", () => {
  it("orders every open position closed, records who and why, and the external stack's liquidation fills close them", async () => {
    const booked = await api(server.url, "POST", "/api/v1/executions", {
      fills: [
        { accountId: ACCOUNT, symbol: "EURUSD", side: "BUY", quantity: 2, price: 1.085 },
        { accountId: ACCOUNT, symbol: "XAUUSD", side: "SELL", quantity: 1, price: 2_350 },
      ],
      correction,
    });
    expect(booked.status).toBe(200);

    const flattened = await api(server.url, "POST", `${account}/flatten`, { reason: "desk: CPI in five minutes" });
    expect(flattened.status).toBe(200);
    expect(flattened.body!.flattens).toEqual([
      { seq: expect.any(Number), symbol: "EURUSD", side: "SELL", quantity: 2 },
      { seq: expect.any(Number), symbol: "XAUUSD", side: "BUY", quantity: 1 },
    ]);
    // The account still holds them until its execution path reports the closing fills.
    expect(flattened.body!.account.positions).toHaveLength(2);

    const ledger = await api(server.url, "GET", `/api/v1/ledger?accountId=${ACCOUNT}&limit=100`);
    const orders = ledger.body!.events.map((record: { event: Record<string, unknown> }) => record.event).filter((event: { type: string }) => event.type === "flatten.ordered");
    expect(orders).toEqual([
      expect.objectContaining({ symbol: "EURUSD", side: "SELL", quantity: 2, by: ADMIN_ACTOR, reason: "desk: CPI in five minutes" }),
      expect.objectContaining({ symbol: "XAUUSD", side: "BUY", quantity: 1, by: ADMIN_ACTOR, reason: "desk: CPI in five minutes" }),
    ]);

    // The stack outside reports the liquidations: protective exits that only reduce need no intent.
    const closed = await api(server.url, "POST", "/api/v1/executions", {
      fills: [
        { accountId: ACCOUNT, symbol: "EURUSD", side: "SELL", quantity: 2, price: 1.087, trigger: "liquidation" },
        { accountId: ACCOUNT, symbol: "XAUUSD", side: "BUY", quantity: 1, price: 2_340, trigger: "liquidation" },
      ],
    });
    expect(closed.status).toBe(200);
    expect((await api(server.url, "GET", account)).body!.account.positions).toEqual([]);
  });

  it("answers 409 when there is nothing to flatten, and 422 without a reason, recording nothing", async () => {
    const before = (await api(server.url, "GET", `/api/v1/ledger?accountId=${ACCOUNT}&limit=1000`)).body!.events.length;
    const nothing = await api(server.url, "POST", `${account}/flatten`, { reason: "desk: again" });
    expect(nothing.status).toBe(409);
    expect(nothing.type).toContain("application/problem+json");
    expect(nothing.body!.detail).toContain("nothing to flatten");
    const noReason = await api(server.url, "POST", `${account}/flatten`, {});
    expect(noReason.status).toBe(422);
    expect(noReason.body!.errors).toEqual([expect.objectContaining({ path: "reason" })]);
    expect((await api(server.url, "GET", `/api/v1/ledger?accountId=${ACCOUNT}&limit=1000`)).body!.events.length).toBe(before);
    expect((await api(server.url, "POST", "/api/v1/accounts/no-such/flatten", { reason: "desk: who" })).status).toBe(404);
  });
});

describe("live objectives and closed trades", () => {
  it("are the compliance verifier's over the account's own events: target progress, trading days, best day, round trips", async () => {
    const objectives = await api(server.url, "GET", `${account}/objectives`);
    expect(objectives.status).toBe(200);
    // EURUSD +0.002 × 2 lots × 100,000 = +400; XAUUSD short 1 from 2,350 to 2,340 × 100 oz = +1,000.
    expect(objectives.body).toMatchObject({
      accountId: ACCOUNT,
      presetId: "ftmo-2step-100k",
      presetVersion: expect.any(Number),
      initialBalanceUsd: 100_000,
      balance: 101_400,
      progress: { profit: 1_400, targetPct: 14 },
      objectives: {
        profitTarget: { target: 10_000, reached: false, reachedAt: null },
        // The day's fills of orders (the booked ones) make one trading day; liquidations count for none.
        tradingDays: { required: 4, days: 1, met: false },
      },
      met: false,
      closedTrades: 2,
      seq: expect.any(Number),
    });

    const trades = await api(server.url, "GET", `${account}/trades?limit=1`);
    expect(trades.status).toBe(200);
    expect(trades.body).toMatchObject({
      total: 2,
      kept: 2,
      trades: [{ symbol: "XAUUSD", side: "short", quantity: 1, entryPrice: 2_350, exitPrice: 2_340, realized: 1_000, closedBy: "liquidation", openedAt: expect.any(Number), closedAt: expect.any(Number) }],
      nextBeforeSeq: expect.any(Number),
    });
    const older = await api(server.url, "GET", `${account}/trades?limit=1&beforeSeq=${trades.body!.nextBeforeSeq}`);
    expect(older.body).toMatchObject({ trades: [{ symbol: "EURUSD", side: "long", quantity: 2, entryPrice: 1.085, exitPrice: 1.087, realized: 400 }], nextBeforeSeq: null });
    expect((await api(server.url, "GET", `${account}/trades?limit=0`)).status).toBe(422);
  });

  it("follow what is recorded after a first read", async () => {
    const first = (await api(server.url, "GET", `${account}/objectives`)).body!;
    await api(server.url, "POST", "/api/v1/executions", {
      fills: [
        { accountId: ACCOUNT, symbol: "EURUSD", side: "BUY", quantity: 1, price: 1.085 },
        { accountId: ACCOUNT, symbol: "EURUSD", side: "SELL", quantity: 1, price: 1.084 },
      ],
      correction,
    });
    const second = (await api(server.url, "GET", `${account}/objectives`)).body!;
    expect(second.seq).toBeGreaterThan(first.seq);
    expect(second).toMatchObject({ balance: 101_300, closedTrades: 3 });
    expect((await api(server.url, "GET", "/api/v1/accounts/no-such/objectives")).status).toBe(404);
  });
});

describe("a halt's denial says why", () => {
  it("names the tripped breaker, who tripped it, when, and the reason", async () => {
    const tripped = await api(server.url, "POST", `${account}/breakers/manual/trip`, { reason: "desk: suspicious fills" });
    expect(tripped.status).toBe(200);
    const trippedAt = tripped.body!.account.breakers.find((breaker: { kind: string }) => breaker.kind === "manual").trippedAt as number;
    await api(server.url, "POST", "/api/v1/market", { ticks: [{ symbol: "EURUSD", price: 1.085 }] });
    const denied = await api(server.url, "POST", "/api/v1/intents", sampleIntent("ops-halted-1", { accountId: ACCOUNT }));
    expect(denied.body!.decision).toMatchObject({
      outcome: "denied",
      guard: "trading_state",
      reason: "trading_halted",
      detail: `manual breaker by ${ADMIN_ACTOR} at ${new Date(trippedAt).toISOString()}: desk: suspicious fills`,
    });
    // Taken again from the ledger, the engine decides the same.
    const explained = await api(server.url, "GET", `/api/v1/decisions/${denied.body!.seq}/explain`);
    expect(explained.body!.reproduced).toBe(true);
    expect((await api(server.url, "POST", `${account}/breakers/manual/reset`, { reason: "desk: all clear" })).status).toBe(200);
  });
});
