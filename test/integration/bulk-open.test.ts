import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "@/server/config";
import type { Database } from "@/server/db/database";
import { migrate } from "@/server/db/migrate";
import { AccountSpec } from "@/server/engine/types";
import { AppError } from "@/server/errors";
import { Ledger, LedgerWriter } from "@/server/ledger";
import { Runtime } from "@/server/runtime";
import { DEMO_ACCOUNT } from "../fixtures";
import type { RunningServer, TestDatabase } from "./harness";
import { api, databasesUnderTest, openEmbeddedTestDatabase, startServer } from "./harness";

/**
 * Bulk onboarding: `POST /api/v1/accounts/bulk` opens many accounts in one commit, all or none,
 * each under its preset; any bad item (a schema error, an id twice, an id that exists, an
 * unknown preset, a preset for another size) refuses the whole call, naming the item, and opens
 * none. NDJSON works with errors naming the line. A runtime test shows a job refused midway
 * leaves nothing in its batch while the batch's other jobs commit.
 */

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const databases = await databasesUnderTest("the bulk open suite");

/** `count` accounts `prefix-0…`, the even ones under FTMO 100k, the odd ones under Topstep 50k. */
function accounts(prefix: string, count: number): Json[] {
  return Array.from({ length: count }, (_, n) =>
    n % 2 === 0
      ? { accountId: `${prefix}-${n}`, name: `Migrated ${n}`, presetId: "ftmo-2step-100k", initialBalanceUsd: 100_000 }
      : { accountId: `${prefix}-${n}`, name: `Migrated ${n}`, presetId: "topstep-50k", initialBalanceUsd: 50_000, execution: "simulated" },
  );
}

for (const database of databases) {
  describe.skipIf(database.skip)(`bulk open on ${database.name}`, () => {
    let db: TestDatabase;
    let server: RunningServer;
    const call = (method: string, route: string, body?: unknown, headers: Record<string, string> = {}) => api(server.url, method, route, body, undefined, headers);
    const ndjson = (text: string, headers: Record<string, string> = {}) => api(server.url, "POST", "/api/v1/accounts/bulk", undefined, text, { "content-type": "application/x-ndjson", ...headers });
    const seq = async () => (await call("GET", "/api/health")).body!.seq as number;
    const exists = async (accountId: string) => (await call("GET", `/api/v1/accounts/${accountId}`)).status === 200;

    beforeAll(async () => {
      db = await database.create();
      server = await startServer(db.env);
    });

    afterAll(async () => {
      await server?.stop("SIGTERM");
      await db?.cleanup();
    });

    it("opens 500 accounts under two presets in one commit, and each reads back under its preset", async () => {
      const before = await seq();
      const opened = await call("POST", "/api/v1/accounts/bulk", { accounts: accounts("bulk", 500) });
      expect(opened.status).toBe(201);
      expect(opened.body!.opened).toBe(500);
      expect(opened.body!.accounts).toHaveLength(500);
      expect(opened.body!.accounts[0]).toEqual({ accountId: "bulk-0", tradingState: "ACTIVE" });
      expect(Object.keys(opened.body!)).toEqual(["seq", "opened", "accounts"]);
      expect(opened.body!.seq).toBe(await seq());

      // Two events an account (opened, its preset activated), all in one transaction.
      const events: Json[] = [];
      for (let after = before; ; ) {
        const page = await call("GET", `/api/v1/ledger?afterSeq=${after}&limit=1000`);
        events.push(...page.body!.events);
        if (page.body!.nextAfterSeq === null) break;
        after = page.body!.nextAfterSeq;
      }
      const opening = events.filter((record) => record.event.type === "account.opened" || record.event.type === "preset.activated");
      expect(opening).toHaveLength(1_000);
      expect(new Set(opening.map((record) => record.recordedAt)).size).toBe(1);
      expect(opening.filter((record) => record.event.type === "account.opened").map((record) => record.event.account.accountId)).toEqual(accounts("bulk", 500).map((a) => a.accountId));

      const ftmo = (await call("GET", "/api/v1/accounts/bulk-0")).body!.account;
      expect(ftmo).toMatchObject({ accountId: "bulk-0", presetId: "ftmo-2step-100k", preset: { version: 1 }, initialBalanceUsd: 100_000, execution: "external", tradingState: "ACTIVE" });
      const topstep = (await call("GET", "/api/v1/accounts/bulk-499")).body!.account;
      expect(topstep).toMatchObject({ accountId: "bulk-499", presetId: "topstep-50k", preset: { version: 1 }, initialBalanceUsd: 50_000, execution: "simulated", maxLossFloor: 48_000 });
    });

    it.each([
      ["an id twice in the list", 422, (list: Json[]) => (list[17] = { ...list[17], accountId: list[3].accountId }), "accounts.17.accountId", /also accounts\.3/],
      ["an unknown preset", 422, (list: Json[]) => (list[5] = { ...list[5], presetId: "no-such-preset" }), "accounts.5.presetId", /no preset no-such-preset/],
      ["an id that exists", 409, (list: Json[]) => (list[9] = { ...list[9], accountId: DEMO_ACCOUNT }), "accounts.9.accountId", /already exists/],
      ["a preset for another size", 422, (list: Json[]) => (list[11] = { ...list[11], initialBalanceUsd: 100_000 }), "accounts.11.initialBalanceUsd", /written for an account of 50000/],
      ["a field missing", 422, (list: Json[]) => delete list[2].name, "accounts.2.name", /expected string/],
      ["an unknown field", 422, (list: Json[]) => (list[4] = { ...list[4], leverage: 30 }), "accounts.4", /leverage/],
    ])("refuses a list with %s, naming the item, and opens none", async (_, status, spoil, path, message) => {
      const list = accounts("spoilt", 40);
      spoil(list);
      const before = await seq();
      const refused = await call("POST", "/api/v1/accounts/bulk", { accounts: list });
      expect(refused.status).toBe(status);
      expect(refused.type).toContain("application/problem+json");
      expect(refused.body!.errors).toEqual([{ path, message: expect.stringMatching(message) }]);
      expect(refused.body!.detail).toContain(path);
      expect(await seq()).toBe(before);
      expect(await exists("spoilt-0")).toBe(false);
    });

    it("lists at most 100 issues and says how many there were", async () => {
      const list = accounts("many-bad", 300).map((account) => ({ ...account, presetId: "no-such-preset" }));
      const refused = await call("POST", "/api/v1/accounts/bulk", { accounts: list });
      expect(refused.status).toBe(422);
      expect(refused.body!.errors).toHaveLength(100);
      expect(refused.body!.errors[99].path).toBe("accounts.99.presetId");
      expect(refused.body!.detail).toMatch(/^300 problems \(the first 100 listed\), no account opened/);
    });

    it("takes NDJSON, one account a line, and names the line of a bad one", async () => {
      const lines = accounts("nd", 3).map((account) => JSON.stringify(account));
      const opened = await ndjson(`${lines[0]}\n\n${lines[1]}\r\n${lines[2]}\n`);
      expect(opened.status).toBe(201);
      expect(opened.body!.accounts.map((account: Json) => account.accountId)).toEqual(["nd-0", "nd-1", "nd-2"]);
      expect((await call("GET", "/api/v1/accounts/nd-1")).body!.account.presetId).toBe("topstep-50k");

      const before = await seq();
      const [good, sameId] = accounts("nd-bad", 2).map((account) => JSON.stringify(account));
      const broken = await ndjson(`${good}\n\n{"accountId": "nd-bad-9",\n${sameId}\n`);
      expect(broken.status).toBe(400);
      expect(broken.body!.code).toBe("invalid_json");
      expect(broken.body!.detail).toMatch(/^line 3 is not valid JSON/);

      const invalid = await ndjson(`${good}\n\n${JSON.stringify({ ...accounts("nd-bad", 2)[1], initialBalanceUsd: -5 })}\n`);
      expect(invalid.status).toBe(422);
      expect(invalid.body!.errors).toEqual([{ path: "accounts.1.initialBalanceUsd", line: 3, message: expect.any(String) }]);
      expect(invalid.body!.detail).toContain("line 3 (accounts.1.initialBalanceUsd)");

      const existing = await ndjson(`${good}\n${JSON.stringify(accounts("nd", 1)[0])}\n`);
      expect(existing.status).toBe(409);
      expect(existing.body!.errors).toEqual([{ path: "accounts.1.accountId", line: 2, message: "account nd-0 already exists" }]);
      expect(await seq()).toBe(before);
      expect(await exists("nd-bad-0")).toBe(false);
    });

    it("answers a retry with the same Idempotency-Key from the first answer", async () => {
      const body = { accounts: accounts("retry", 4) };
      const first = await call("POST", "/api/v1/accounts/bulk", body, { "idempotency-key": "bulk-retry-1" });
      expect(first.status).toBe(201);
      const again = await call("POST", "/api/v1/accounts/bulk", body, { "idempotency-key": "bulk-retry-1" });
      expect(again.status).toBe(201);
      expect(again.headers.get("idempotent-replayed")).toBe("true");
      expect(again.body).toEqual(first.body);
    });

    it("refuses a viewer (403) and records nothing", async () => {
      const made = await call("POST", "/api/v1/tokens", { name: "bulk-viewer", role: "viewer" });
      expect(made.status).toBe(201);
      const before = await seq();
      const refused = await call("POST", "/api/v1/accounts/bulk", { accounts: accounts("viewer", 3) }, { authorization: `Bearer ${made.body!.token}` });
      expect(refused.status).toBe(403);
      expect(refused.body!.code).toBe("forbidden");
      const refusedNd = await ndjson(JSON.stringify(accounts("viewer", 1)[0]), { authorization: `Bearer ${made.body!.token}` });
      expect(refusedNd.status).toBe(403);
      expect(await seq()).toBe(before);
      expect(await exists("viewer-0")).toBe(false);
    });
  });
}

describe("a bulk open refused midway", () => {
  let db: Database | null = null;
  let writer: LedgerWriter | null = null;
  afterEach(async () => {
    await writer?.close();
    await db?.close();
  });

  it("leaves nothing of itself in its batch, while the batch's other jobs commit", async () => {
    db = await openEmbeddedTestDatabase();
    await migrate(db);
    writer = await LedgerWriter.acquire(db);
    const runtime = await Runtime.load(new Ledger(db, writer), loadConfig({}).engine);
    const spec = (accountId: string) => AccountSpec.parse({ accountId, name: accountId, presetId: "p", initialBalanceUsd: 100_000 });
    const before = runtime.lastSeq;

    // Both jobs land in one batch: the single open is decided first, so the bulk open meets its id
    // after deciding two accounts of its own.
    const single = runtime.openAccount(spec("race-2"), "test");
    const bulk = runtime.openAccounts(["race-0", "race-1", "race-2", "race-3"].map(spec), "test").catch((error: unknown) => error);
    await expect(single).resolves.toMatchObject({ accountId: "race-2" });
    const refused = await bulk;
    expect(AppError.is(refused) && refused.code).toBe("conflict");
    expect((refused as AppError).issues).toEqual([{ path: "accounts.2.accountId", message: "account race-2 already exists" }]);

    const recorded = await runtime.readLedger(before, 100);
    expect(recorded.map((record) => record.event.type)).toEqual(["account.opened"]);
    expect(runtime.accounts().map((account) => account.accountId)).toEqual(["race-2"]);

    const after = await runtime.openAccounts(["race-0", "race-1", "race-3"].map(spec), "test");
    expect(after).toMatchObject({ opened: 3, seq: runtime.lastSeq });
  });
});
