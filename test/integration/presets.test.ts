import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_ACCOUNT, EURUSD_TICK, presetFixture, sampleIntent } from "../fixtures";
import type { RunningServer, TestDatabase } from "./harness";
import { api, databasesUnderTest, startServer } from "./harness";

/**
 * Presets over HTTP on a real server: the shipped ones are versions in the database, accounts
 * open and decide under theirs, a risk manager adds a version, dry-runs it against the account's
 * recent decisions (nothing recorded) and activates it (recorded with who and why), and all of
 * it survives a restart.
 */

const databases = await databasesUnderTest("the presets suite");

for (const database of databases) {
  describe.skipIf(database.skip)(`presets on ${database.name}`, () => {
    let db: TestDatabase;
    let server: RunningServer;
    const call = (method: string, route: string, body?: unknown) => api(server.url, method, route, body);

    beforeAll(async () => {
      db = await database.create();
      server = await startServer(db.env);
    });

    afterAll(async () => {
      await server?.stop("SIGTERM");
      await db?.cleanup();
    });

    it("lists the shipped presets as version 1, with the demo accounts under theirs", async () => {
      const answer = await call("GET", "/api/v1/presets");
      expect(answer.status).toBe(200);
      const ftmo = answer.body!.presets.find((preset: { id: string }) => preset.id === "ftmo-2step-100k");
      expect(ftmo).toMatchObject({ firm: "FTMO", latestVersion: 1, versions: [{ version: 1, origin: "file", createdBy: "system" }], accounts: [{ accountId: DEMO_ACCOUNT, version: 1 }] });
      const account = (await call("GET", `/api/v1/accounts/${DEMO_ACCOUNT}`)).body!.account;
      expect(account).toMatchObject({ presetId: "ftmo-2step-100k", preset: { version: 1 }, rules: { dailyReset: { timeZone: "Europe/Prague" }, accountRules: { dailyLossOf: "initial_balance" } } });
      const detail = await call("GET", "/api/v1/presets/ftmo-2step-100k");
      expect(detail.body!.preset.sources.length).toBeGreaterThan(3);
    });

    it("answers every issue of an invalid preset with its path, and saves nothing", async () => {
      const invalid = { ...presetFixture("desk-risky"), rules: { accountRules: { maxLossPct: 150 }, guards: { throttle: { maxIntentsPerSecnd: 5 } } } };
      const checked = await call("POST", "/api/v1/presets/validate", invalid);
      expect(checked.status).toBe(200);
      expect(checked.body!.valid).toBe(false);
      expect(checked.body!.issues.map((issue: { path: string }) => issue.path).sort()).toEqual(["rules.accountRules.maxLossPct", "rules.guards.throttle"]);
      const refused = await call("POST", "/api/v1/presets", { preset: invalid, note: "try" });
      expect(refused.status).toBe(422);
      expect(refused.type).toContain("application/problem+json");
      expect(refused.body!.errors.map((issue: { path: string }) => issue.path)).toContain("preset.rules.accountRules.maxLossPct");
      expect((await call("GET", "/api/v1/presets/desk-risky")).status).toBe(404);
    });

    it("refuses an account under an unknown preset, or under one written for another size", async () => {
      const unknown = await call("POST", "/api/v1/accounts", { accountId: "p-unknown", name: "Unknown preset", presetId: "nope", initialBalanceUsd: 100_000 });
      expect(unknown.status).toBe(422);
      expect(unknown.body!.errors).toEqual([expect.objectContaining({ path: "presetId" })]);
      const wrongSize = await call("POST", "/api/v1/accounts", { accountId: "p-topstep", name: "Topstep", presetId: "topstep-50k", initialBalanceUsd: 100_000 });
      expect(wrongSize.status).toBe(422);
      expect(wrongSize.body!.errors).toEqual([expect.objectContaining({ path: "initialBalanceUsd" })]);
      const fits = await call("POST", "/api/v1/accounts", { accountId: "p-topstep", name: "Topstep", presetId: "topstep-50k", initialBalanceUsd: 50_000 });
      expect(fits.status).toBe(201);
      expect(fits.body!.account).toMatchObject({ rules: { dailyReset: { time: "17:00", timeZone: "America/Chicago" } }, maxLossFloor: 48_000 });
    });

    it("dry-runs a new version against recent decisions without recording, then activates it with who and why", async () => {
      // Three allowed entries of 1 lot (about 108,500 USD of notional each) under the shipped preset.
      expect((await call("POST", "/api/v1/market", EURUSD_TICK)).status).toBe(200);
      for (const n of [1, 2, 3]) {
        const decided = await call("POST", "/api/v1/intents", sampleIntent(`preset-dry-${n}`, { quantity: 0.5 }));
        expect(decided.body!.decision.outcome).toBe("allowed");
      }
      const shipped = (await call("GET", "/api/v1/presets/ftmo-2step-100k")).body!.preset;
      const tighter = { ...shipped, rules: { ...shipped.rules, guards: { ...shipped.rules.guards, throttle: { maxOrderNotionalUsd: 20_000 } } } };

      const before = (await call("GET", "/api/health")).body!.seq;
      const dry = await call("POST", `/api/v1/accounts/${DEMO_ACCOUNT}/preset/dry-run`, { preset: tighter, decisions: 3 });
      expect(dry.status).toBe(200);
      expect(dry.body).toMatchObject({ candidate: { presetId: "ftmo-2step-100k", version: null }, decisions: 3, allowedToDenied: 3, changedCount: 3 });
      expect(dry.body!.changed[0]).toMatchObject({ intentId: "preset-dry-1", recorded: { outcome: "allowed" }, candidate: { outcome: "denied", guard: "throttle", reason: "order_notional_exceeded" } });
      expect((await call("GET", "/api/health")).body!.seq).toBe(before);

      const version = await call("POST", "/api/v1/presets/ftmo-2step-100k/versions", { preset: tighter, note: "cap order notional at 20K" });
      expect(version.status).toBe(201);
      expect(version.body).toMatchObject({ version: 2, origin: "api", note: "cap order notional at 20K", createdBy: expect.stringContaining("admin") });
      const unchanged = await call("POST", "/api/v1/presets/ftmo-2step-100k/versions", { preset: tighter, note: "again" });
      expect(unchanged.status).toBe(409);

      const activated = await call("POST", `/api/v1/accounts/${DEMO_ACCOUNT}/preset`, { presetId: "ftmo-2step-100k", reason: "news week" });
      expect(activated.status).toBe(200);
      expect(activated.body!.account.preset).toMatchObject({ presetId: "ftmo-2step-100k", version: 2, reason: "news week" });
      const ledger = await call("GET", `/api/v1/ledger?afterSeq=${before}&accountId=${DEMO_ACCOUNT}`);
      const recorded = ledger.body!.events.find((record: { event: { type: string } }) => record.event.type === "preset.activated");
      expect(recorded.event).toMatchObject({ presetId: "ftmo-2step-100k", version: 2, reason: "news week", rules: { guards: { throttle: { maxOrderNotionalUsd: 20_000 } } } });
      expect(recorded.event.by).toContain("admin");

      const denied = await call("POST", "/api/v1/intents", sampleIntent("preset-dry-4", { quantity: 0.5 }));
      expect(denied.body!.decision).toMatchObject({ outcome: "denied", guard: "throttle", reason: "order_notional_exceeded" });
    });

    it("keeps versions and each account's rules across a restart, without recording the shipped files again", async () => {
      await server.stop("SIGTERM");
      server = await startServer(db.env);
      const versions = (await call("GET", "/api/v1/presets/ftmo-2step-100k")).body!.versions;
      expect(versions.map((version: { version: number }) => version.version)).toEqual([1, 2]);
      const account = (await call("GET", `/api/v1/accounts/${DEMO_ACCOUNT}`)).body!.account;
      expect(account.preset.version).toBe(2);
      expect(account.rules.guards.throttle.maxOrderNotionalUsd).toBe(20_000);
      const back = await call("POST", `/api/v1/accounts/${DEMO_ACCOUNT}/preset`, { presetId: "ftmo-2step-100k", version: 1, reason: "news week over" });
      expect(back.body!.account.rules.guards.throttle.maxOrderNotionalUsd).toBe(5_000_000);
    });
  });
}
