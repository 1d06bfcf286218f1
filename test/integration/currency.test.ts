import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { presetFixture } from "../fixtures";
import type { RunningServer, TestDatabase } from "./harness";
import { api, databasesUnderTest, startServer } from "./harness";

/**
 * Accounts in another currency than USD, through the HTTP API: opened in EUR (stated, or the
 * preset's), their money in euros in the account view and the overview's rows, the firm's
 * exposure in USD whatever the accounts' currencies.
 */

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const [embedded] = await databasesUnderTest("the currency suite");

describe("accounts in EUR over the HTTP API", () => {
  let db: TestDatabase;
  let server: RunningServer;
  const call = (method: string, route: string, body?: unknown) => api(server.url, method, route, body);
  const correction = { reason: "test: book a position" };

  beforeAll(async () => {
    db = await embedded!.create();
    server = await startServer(db.env);
  });

  afterAll(async () => {
    await server?.stop("SIGTERM");
    await db?.cleanup();
  });

  it("opens a EUR account and shows its gold position's loss in euros, converted at EURUSD", async () => {
    const spec = { accountId: "eur-1", name: "Euro 100K", presetId: "ftmo-2step-100k", initialBalanceUsd: 100_000, currency: "EUR" };
    const created = await call("POST", "/api/v1/accounts", spec);
    expect(created.status).toBe(201);
    expect(created.body!.account).toMatchObject({ accountId: "eur-1", currency: "EUR", equity: 100_000 });
    expect((await call("POST", "/api/v1/market", { ticks: [{ symbol: "XAUUSD", price: 2_000 }, { symbol: "EURUSD", price: 1.25 }] })).status).toBe(200);
    const filled = await call("POST", "/api/v1/executions", { fills: [{ accountId: "eur-1", symbol: "XAUUSD", side: "BUY", quantity: 1, price: 2_000 }], correction });
    expect(filled.status).toBe(200);
    expect((await call("POST", "/api/v1/market", { ticks: [{ symbol: "XAUUSD", price: 1_990 }] })).status).toBe(200);
    // 1 lot (100 oz) down 10 USD: -1,000 USD, at 1.25 USD a euro -800 EUR.
    const view = (await call("GET", "/api/v1/accounts/eur-1")).body!.account;
    expect(view).toMatchObject({ currency: "EUR", balance: 100_000, equity: 99_200, exposure: { floating: -800, bySymbol: [{ symbol: "XAUUSD", gross: 159_200 }] } });
    // The fill records the rate it was booked at: 0.8 EUR a dollar.
    const ledger = (await call("GET", "/api/v1/ledger?accountId=eur-1")).body!.events as Json[];
    expect(ledger.find((record) => record.event.type === "execution.filled").event).toMatchObject({ symbol: "XAUUSD", accountPerQuote: 0.8 });
    expect(ledger.find((record) => record.event.type === "account.opened").event.account).toMatchObject({ currency: "EUR" });
    // The overview's row is in euros; the firm's exposure adds accounts in USD: 100 oz at 1,990 USD.
    const overview = (await call("GET", "/api/v1/overview?q=eur-1")).body!;
    expect(overview.rows).toEqual([expect.objectContaining({ accountId: "eur-1", currency: "EUR", equity: 99_200 })]);
    expect(overview.exposure.bySymbol).toContainEqual(expect.objectContaining({ key: "XAUUSD", netUsd: 199_000 }));
  });

  it("refuses a currency that is not an ISO 4217 code, naming the field, alone and in a bulk open", async () => {
    const bad = await call("POST", "/api/v1/accounts", { accountId: "eux-1", name: "Bad", presetId: "ftmo-2step-100k", initialBalanceUsd: 100_000, currency: "EUX" });
    expect(bad.status).toBe(422);
    expect(bad.body!.errors[0].path).toBe("currency");
    const bulk = await call("POST", "/api/v1/accounts/bulk", { accounts: [{ accountId: "eux-2", name: "Bad", presetId: "ftmo-2step-100k", initialBalanceUsd: 100_000, currency: "eur" }] });
    expect(bulk.status).toBe(422);
    expect(bulk.body!.errors[0].path).toBe("accounts.0.currency");
  });

  it("opens accounts in their preset's currency unless they state one, and refuses another", async () => {
    const preset = { ...presetFixture("desk-eur"), currency: "EUR" };
    expect((await call("POST", "/api/v1/presets", { preset, note: "a desk in euros" })).status).toBe(201);
    // The preset list says the currency a preset states (the console's list and page show it), null where it states none.
    const listed = (await call("GET", "/api/v1/presets")).body!.presets as { id: string; currency: string | null }[];
    expect(listed.find((summary) => summary.id === "desk-eur")).toMatchObject({ currency: "EUR" });
    expect(listed.find((summary) => summary.id === "ftmo-2step-100k")).toMatchObject({ currency: null });
    const opened = await call("POST", "/api/v1/accounts", { accountId: "desk-eur-1", name: "Desk EUR", presetId: "desk-eur", initialBalanceUsd: 250_000 });
    expect(opened.status).toBe(201);
    expect(opened.body!.account).toMatchObject({ currency: "EUR", presetId: "desk-eur" });
    const usd = await call("POST", "/api/v1/accounts", { accountId: "desk-eur-2", name: "Desk USD", presetId: "desk-eur", initialBalanceUsd: 250_000, currency: "USD" });
    expect(usd.status).toBe(422);
    expect(usd.body!.errors[0]).toMatchObject({ path: "currency", message: "preset desk-eur is written for accounts in EUR, not USD" });
    const bulk = await call("POST", "/api/v1/accounts/bulk", {
      accounts: [
        { accountId: "bulk-gbp", name: "Pounds", presetId: "ftmo-2step-100k", initialBalanceUsd: 100_000, currency: "GBP" },
        { accountId: "bulk-eur", name: "Euros", presetId: "desk-eur", initialBalanceUsd: 100_000 },
        { accountId: "bulk-usd", name: "Dollars", presetId: "ftmo-2step-100k", initialBalanceUsd: 100_000 },
      ],
    });
    expect(bulk.status).toBe(201);
    const currencies = await Promise.all(["bulk-gbp", "bulk-eur", "bulk-usd"].map(async (id) => (await call("GET", `/api/v1/accounts/${id}`)).body!.account.currency));
    expect(currencies).toEqual(["GBP", "EUR", "USD"]);
    // Gold in the pound account: no GBPUSD (nor USDGBP) has a price on this server, so the entry fails closed, naming the pair.
    const intent = { intentId: "gbp-gold", accountId: "bulk-gbp", symbol: "XAUUSD", action: "OPEN", side: "BUY", quantity: 0.1, provenance: { runId: "r", strategyId: "s", regimeId: "g" } };
    expect((await call("POST", "/api/v1/market", { ticks: [{ symbol: "XAUUSD", price: 1_990 }] })).status).toBe(200);
    const decided = await call("POST", "/api/v1/intents", intent);
    expect(decided.status).toBe(200);
    expect(decided.body!.decision).toMatchObject({ outcome: "denied", guard: "price_sanity", reason: "no_price" });
    expect(decided.body!.decision.detail).toContain("GBPUSD");
    // An account in USD cannot take a preset written for euros.
    const activated = await call("POST", "/api/v1/accounts/bulk-usd/preset", { presetId: "desk-eur", reason: "try euros" });
    expect(activated.status).toBe(422);
    expect(activated.body!.errors[0].path).toBe("presetId");
  });
});
