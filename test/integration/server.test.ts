import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Socket } from "socket.io-client";
import { io } from "socket.io-client";
import type { AccountMessage, ClientToServer, ServerToClient } from "@/server/realtime-protocol";
import { DEMO_ACCOUNT, EURUSD_TICK, sampleIntent } from "../fixtures";
import { parseExposition, promtoolCheckMetrics, promtoolPresent } from "../prometheus";
import type { RunningServer, TestDatabase } from "./harness";
import {
  ADMIN_TOKEN,
  adminAuth,
  api,
  databasesUnderTest,
  engineConfigFile,
  freshPostgresDatabase,
  root,
  runToExit,
  startServer,
  tempDir,
} from "./harness";

const ACCOUNT = DEMO_ACCOUNT;
const intent = sampleIntent;


// This suite sends intents faster than the default 10 a second per account; the throttle has
// its own test below.
const roomyThrottle = { RISKGATE_ENGINE_CONFIG: engineConfigFile({ guards: { throttle: { maxIntentsPerSecond: 1000 } } }) };

/** A long of 1 lot EURUSD at the test price, reported as a fill: something for an exit to close. */
/** Fills the tests book by hand: an admin's correction (no allowed intent behind them). */
const booked = { reason: "test: book a position" };
const oneLot = { accountId: ACCOUNT, symbol: "EURUSD", side: "BUY", quantity: 1, price: 1.085 };
async function holdOneLot(url: string): Promise<void> {
  expect((await api(url, "POST", "/api/v1/executions", { fills: [oneLot], correction: booked })).status).toBe(200);
}
async function closeOneLot(url: string): Promise<void> {
  expect((await api(url, "POST", "/api/v1/executions", { fills: [{ ...oneLot, side: "SELL" }], correction: booked })).status).toBe(200);
}

const databases = await databasesUnderTest("the integration suite", roomyThrottle);

for (const database of databases) {
  describe.skipIf(database.skip)(`the server on ${database.name}`, () => {
    let db: TestDatabase;
    let server: RunningServer;

    beforeAll(async () => {
      db = await database.create();
      server = await startServer(db.env);
    });

    afterAll(async () => {
      await server?.stop("SIGTERM");
      await db?.cleanup();
    });

    async function freshPrice(): Promise<void> {
      expect((await api(server.url, "POST", "/api/v1/market", EURUSD_TICK)).status).toBe(200);
    }

    async function lastSeq(): Promise<number> {
      const health = await api(server.url, "GET", "/api/health");
      return health.body!.seq as number;
    }

    it("answers a method a route does not take with 405 problem+json and the methods it takes in Allow", async () => {
      for (const [method, route, allow] of [
        ["GET", "/api/v1/intents", "POST"],
        ["DELETE", "/api/v1/intents", "POST"],
        ["PUT", "/api/v1/accounts", "GET, HEAD, POST"],
        ["PATCH", `/api/v1/accounts/${ACCOUNT}/breakers/manual/trip`, "POST"],
      ] as const) {
        const response = await fetch(`${server.url}${route}`, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
        expect(response.status, `${method} ${route}`).toBe(405);
        expect(response.headers.get("content-type")).toContain("application/problem+json");
        expect(response.headers.get("allow")).toBe(allow);
        expect(await response.json()).toMatchObject({ status: 405, code: "method_not_allowed", detail: expect.stringContaining(allow) });
      }
      // A path no route serves is still 404.
      expect((await fetch(`${server.url}/api/v1/nothing-here`, { method: "PUT" })).status).toBe(404);
    });

    it("answers health with 200 and the database it uses", async () => {
      const health = await api(server.url, "GET", "/api/health");
      expect(health.status).toBe(200);
      expect(health.body).toMatchObject({ status: "ok", database: database.name === "embedded" ? "embedded" : "postgresql" });
    });

    it("serves the dashboard page and the Socket.IO endpoint on the same port", async () => {
      const page = await fetch(`${server.url}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain("Riskgate");
      const handshake = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling`);
      expect(handshake.status).toBe(200);
      expect(await handshake.text()).toMatch(/^0\{"sid":/);
    });

    it("opens the demo account on first start", async () => {
      const accounts = await api(server.url, "GET", "/api/v1/accounts");
      expect(accounts.body!.accounts.map((a: { accountId: string }) => a.accountId)).toContain(ACCOUNT);
      const account = await api(server.url, "GET", `/api/v1/accounts/${ACCOUNT}`);
      expect(account.body!.account).toMatchObject({ tradingState: "ACTIVE", initialBalanceUsd: 100_000 });
    });

    it("opens an account for an external stack, and refuses a duplicate or a malformed one", async () => {
      const spec = { accountId: "acme-1", name: "Acme 100K", presetId: "ftmo-2step-100k", initialBalanceUsd: 100_000 };
      const created = await api(server.url, "POST", "/api/v1/accounts", spec);
      expect(created.status).toBe(201);
      expect(created.body!.account).toMatchObject({ ...spec, execution: "external", tradingState: "ACTIVE", equity: 100_000 });
      expect((await api(server.url, "POST", "/api/v1/accounts", spec)).status).toBe(409);
      const bad = await api(server.url, "POST", "/api/v1/accounts", { ...spec, accountId: "acme-2", initialBalanceUsd: -5 });
      expect(bad.status).toBe(422);
      expect(bad.body!.errors[0].path).toBe("initialBalanceUsd");
    });

    it("exposes Prometheus metrics: decisions by outcome and reason, evaluation and append latency", async () => {
      await freshPrice();
      await api(server.url, "POST", "/api/v1/intents", intent("metrics-1"));
      await api(server.url, "POST", "/api/v1/intents", intent("metrics-2", { symbol: "NOPE" }));
      const response = await fetch(`${server.url}/api/metrics`, { headers: adminAuth });
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toContain("text/plain");
      const text = await response.text();
      expect(text).toMatch(/riskgate_decisions_total\{outcome="allowed",guard="",reason=""\} [1-9]/);
      expect(text).toMatch(/riskgate_decisions_total\{outcome="denied",guard="parameter_validity",reason="unknown_instrument"\} [1-9]/);
      expect(text).toMatch(/riskgate_evaluation_seconds_count [1-9]/);
      expect(text).toMatch(/riskgate_ledger_append_seconds_count [1-9]/);
      expect(text).toContain("riskgate_dashboards_connected");
    });

    it("exposes a whole exposition a Prometheus parser reads: process and Node.js series, accounts by state, breaker trips counted once committed", async () => {
      const spec = { accountId: "metrics-trip", name: "Metrics trip", presetId: "ftmo-2step-100k", initialBalanceUsd: 100_000 };
      expect((await api(server.url, "POST", "/api/v1/accounts", spec)).status).toBe(201);
      const scrape = async () => parseExposition(await (await fetch(`${server.url}/api/metrics`, { headers: adminAuth })).text());
      const value = (families: Awaited<ReturnType<typeof scrape>>, name: string, label: string, is: string) =>
        Number(families.get(name)!.metrics.find((sample) => sample.labels?.[label] === is)!.value);
      const before = await scrape();
      expect(before.get("process_cpu_seconds_total")?.type).toBe("COUNTER");
      expect(before.get("nodejs_heap_size_used_bytes")?.type).toBe("GAUGE");
      expect(before.get("riskgate_event_loop_delay_seconds")?.type).toBe("HISTOGRAM");

      expect((await api(server.url, "POST", "/api/v1/accounts/metrics-trip/breakers/manual/trip", { reason: "metrics test halt" })).status).toBe(200);
      const tripped = await scrape();
      expect(value(tripped, "riskgate_breaker_trips_total", "breaker", "manual")).toBe(value(before, "riskgate_breaker_trips_total", "breaker", "manual") + 1);
      expect(value(tripped, "riskgate_accounts", "state", "HALTED")).toBe(value(before, "riskgate_accounts", "state", "HALTED") + 1);
      expect((await api(server.url, "POST", "/api/v1/accounts/metrics-trip/breakers/manual/reset", { reason: "metrics test done" })).status).toBe(200);
      expect(value(await scrape(), "riskgate_accounts", "state", "HALTED")).toBe(value(before, "riskgate_accounts", "state", "HALTED"));
      expect(value(await scrape(), "riskgate_breaker_resets_total", "breaker", "manual")).toBeGreaterThanOrEqual(1);
    });

    it.skipIf(!promtoolPresent)("passes `promtool check metrics` (run when promtool is on PATH, skipped otherwise: apt-get install prometheus)", async () => {
      const text = await (await fetch(`${server.url}/api/metrics`, { headers: adminAuth })).text();
      expect(promtoolCheckMetrics(text)).toBe("");
    });

    it("logs one JSON line per event on a pipe: the start, and a breaker trip with its account and breaker", async () => {
      const lines = server.output().split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(lines.find((line) => String(line.msg).startsWith("Riskgate listening on"))).toMatchObject({ level: "info", time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), mode: "production" });
      expect(lines.find((line) => line.event === "breaker.tripped" && line.accountId === "metrics-trip")).toMatchObject({ level: "warn", breaker: "manual", reason: "metrics test halt" });
      expect(server.output()).not.toContain(ADMIN_TOKEN);
    });

    it("answers 404 problem+json for an account that does not exist", async () => {
      const response = await api(server.url, "GET", "/api/v1/accounts/nobody");
      expect(response.status).toBe(404);
      expect(response.type).toBe("application/problem+json");
      expect(response.body).toMatchObject({ status: 404, code: "not_found" });
    });

    it("allows an entry while active, denies it while halted, and allows it again after a reset", async () => {
      await freshPrice();
      const allowed = await api(server.url, "POST", "/api/v1/intents", intent("flow-1"));
      expect(allowed.status).toBe(200);
      expect(allowed.body!.decision).toMatchObject({ outcome: "allowed", approvedQuantity: 1 });

      const trip = await api(server.url, "POST", `/api/v1/accounts/${ACCOUNT}/breakers/manual/trip`, { reason: "flow test halt" });
      expect(trip.status).toBe(200);
      expect(trip.body!.account.tradingState).toBe("HALTED");

      const denied = await api(server.url, "POST", "/api/v1/intents", intent("flow-2"));
      expect(denied.body!.decision).toMatchObject({
        outcome: "denied",
        guard: "trading_state",
        reason: "trading_halted",
        observed: "HALTED",
        limit: "ACTIVE",
      });
      await holdOneLot(server.url);
      const close = await api(server.url, "POST", "/api/v1/intents", intent("flow-3", { action: "CLOSE", side: "SELL" }));
      expect(close.body!.decision.outcome).toBe("allowed");
      await closeOneLot(server.url);

      const again = await api(server.url, "POST", `/api/v1/accounts/${ACCOUNT}/breakers/manual/trip`, { reason: "twice" });
      expect(again.status).toBe(409);
      expect(again.type).toBe("application/problem+json");

      const reset = await api(server.url, "POST", `/api/v1/accounts/${ACCOUNT}/breakers/manual/reset`, { reason: "flow test clear" });
      expect(reset.body!.account.tradingState).toBe("ACTIVE");
      await freshPrice();
      const allowedAgain = await api(server.url, "POST", "/api/v1/intents", intent("flow-4"));
      expect(allowedAgain.body!.decision.outcome).toBe("allowed");

      const ledger = await api(server.url, "GET", `/api/v1/ledger?accountId=${ACCOUNT}&limit=1000`);
      const events = ledger.body!.events.map((record: { event: { type: string; decision?: { intentId: string } } }) => record.event);
      const types = events.map((event: { type: string }) => event.type);
      expect(events.filter((event: { type: string; decision?: { intentId: string } }) => event.type === "intent.decided" && event.decision!.intentId.startsWith("flow-"))).toHaveLength(4);
      expect(types).toContain("breaker.tripped");
      expect(types).toContain("breaker.reset");
    });

    it("returns the first decision when an intent is retried, and 409 when its intentId is reused for another body", async () => {
      await freshPrice();
      const first = await api(server.url, "POST", "/api/v1/intents", intent("retry-1"));
      const seqAfterFirst = await lastSeq();
      const retry = await api(server.url, "POST", "/api/v1/intents", intent("retry-1"));
      expect(retry.status).toBe(200);
      expect(retry.headers.get("idempotent-replayed")).toBe("true");
      expect(retry.body).toEqual(first.body);
      const conflict = await api(server.url, "POST", "/api/v1/intents", intent("retry-1", { side: "SELL" }));
      expect(conflict.status).toBe(409);
      expect(conflict.body).toMatchObject({ code: "idempotency_mismatch" });
      expect(await lastSeq()).toBe(seqAfterFirst);
    });

    it.each([
      ["bad JSON", undefined, '{"intentId": "x",', 400, "invalid_json", null],
      ["missing fields", { intentId: "m-1", accountId: ACCOUNT }, undefined, 422, "validation_failed", "symbol"],
      ["NaN as a string", intent("m-2", { quantity: "NaN" }), undefined, 422, "validation_failed", "quantity"],
      ["a literal NaN", undefined, JSON.stringify(intent("m-3")).replace('"quantity":1', '"quantity":NaN'), 400, "invalid_json", null],
      ["an overflowing number", undefined, JSON.stringify(intent("m-4")).replace('"quantity":1', '"quantity":1e999'), 422, "validation_failed", "quantity"],
      ["a negative quantity", intent("m-5", { quantity: -3 }), undefined, 422, "validation_failed", "quantity"],
      ["an array body", [intent("m-6")], undefined, 422, "validation_failed", "(body)"],
    ])("rejects an intent with %s as problem+json and appends nothing", async (_label, body, raw, status, code, field) => {
      const before = await lastSeq();
      const response = await api(server.url, "POST", "/api/v1/intents", body, raw);
      expect(response.status).toBe(status);
      expect(response.type).toBe("application/problem+json");
      expect(response.body).toMatchObject({ status, code });
      if (field) {
        expect(response.body!.errors.map((error: { path: string }) => error.path)).toContain(field);
        expect(response.body!.detail).toContain(field);
      }
      expect(await lastSeq()).toBe(before);
    });

    it("denies an entry without a fresh price, and one whose reference price strays more than 5% from it", async () => {
      const noPrice = await api(server.url, "POST", "/api/v1/intents", intent("px-1", { symbol: "GBPUSD" }));
      expect(noPrice.body!.decision).toMatchObject({ outcome: "denied", guard: "price_sanity", reason: "no_price" });
      await freshPrice();
      const strayed = await api(server.url, "POST", "/api/v1/intents", intent("px-2", { referencePrice: 1.2 }));
      expect(strayed.body!.decision).toMatchObject({ outcome: "denied", reason: "price_deviation", observed: 10.5991, limit: 5 });
      const unknown = await api(server.url, "POST", "/api/v1/intents", intent("px-3", { symbol: "NOPE" }));
      expect(unknown.body!.decision).toMatchObject({ outcome: "denied", reason: "unknown_instrument" });
    });

    it("rejects market data that is malformed, naming the field", async () => {
      const before = await lastSeq();
      const bad = await api(server.url, "POST", "/api/v1/market", { ticks: [{ symbol: "EURUSD", price: -1 }] });
      expect(bad.status).toBe(422);
      expect(bad.body!.errors[0].path).toBe("ticks.0.price");
      const unordered = await api(server.url, "POST", "/api/v1/market", {
        books: [{ symbol: "EURUSD", bids: [{ price: 1, size: 1 }, { price: 2, size: 1 }], asks: [] }],
      });
      expect(unordered.body!.errors[0].path).toBe("books.0.bids");
      expect((await api(server.url, "POST", "/api/v1/market", {})).status).toBe(422);
      const bar = { symbol: "MSFT", closedAt: "2001-09-14T20:00:00Z", open: 57, high: 58, low: 56, close: 57.5, volume: 1e6 };
      const inverted = await api(server.url, "POST", "/api/v1/market", { bars: [{ ...bar, high: 55 }] });
      expect(inverted.body!.errors[0].path).toBe("bars.0.high");
      const future = await api(server.url, "POST", "/api/v1/market", { bars: [bar, { ...bar, closedAt: "2999-01-01T00:00:00Z" }] });
      expect(future.status).toBe(422);
      expect(future.body!.errors[0].path).toBe("bars.1.closedAt");
      expect(await lastSeq()).toBe(before);
      const accepted = await api(server.url, "POST", "/api/v1/market", { bars: [bar] });
      expect(accepted.body).toMatchObject({ recorded: 1 });
    });

    it("locks a symbol so entries are denied while closes pass, and unlocks it with a reason", async () => {
      await freshPrice();
      const lock = await api(server.url, "POST", `/api/v1/accounts/${ACCOUNT}/vetoes`, { symbol: "EURUSD", reason: "news spike" });
      expect(lock.status).toBe(201);
      expect(lock.body!.account.vetoes).toEqual([expect.objectContaining({ symbol: "EURUSD", reason: "manual", note: "news spike", expiresAt: null })]);
      expect((await api(server.url, "POST", `/api/v1/accounts/${ACCOUNT}/vetoes`, { symbol: "EURUSD", reason: "again" })).status).toBe(409);

      const entry = await api(server.url, "POST", "/api/v1/intents", intent("veto-1"));
      expect(entry.body!.decision).toMatchObject({ outcome: "denied", guard: "veto_registry", reason: "symbol_locked", limit: "until_reset" });
      await holdOneLot(server.url);
      const close = await api(server.url, "POST", "/api/v1/intents", intent("veto-2", { action: "CLOSE", side: "SELL" }));
      expect(close.body!.decision.outcome).toBe("allowed");
      await closeOneLot(server.url);

      const noReason = await api(server.url, "POST", `/api/v1/accounts/${ACCOUNT}/vetoes/EURUSD/unlock`, {});
      expect(noReason.status).toBe(422);
      const unlock = await api(server.url, "POST", `/api/v1/accounts/${ACCOUNT}/vetoes/EURUSD/unlock`, { reason: "spike faded" });
      expect(unlock.status).toBe(200);
      const listed = await api(server.url, "GET", `/api/v1/accounts/${ACCOUNT}/vetoes`);
      expect(listed.body!.vetoes).toEqual([]);
      expect((await api(server.url, "POST", "/api/v1/intents", intent("veto-3"))).body!.decision).toMatchObject({ outcome: "allowed" });
    });

    it("halts the whole firm and resumes it, each with a reason", async () => {
      await freshPrice();
      const halt = await api(server.url, "POST", "/api/v1/firm/halt", { reason: "venue outage" });
      expect(halt.body!.firm).toMatchObject({ halted: true, halt: { reason: "venue outage" } });
      expect((await api(server.url, "POST", "/api/v1/firm/halt", { reason: "twice" })).status).toBe(409);
      expect((await api(server.url, "GET", `/api/v1/accounts/${ACCOUNT}`)).body!.account.tradingState).toBe("HALTED");
      const denied = await api(server.url, "POST", "/api/v1/intents", intent("firm-1"));
      expect(denied.body!.decision).toMatchObject({ outcome: "denied", reason: "firm_halted" });
      const resume = await api(server.url, "POST", "/api/v1/firm/resume", { reason: "venue back" });
      expect(resume.body!.firm).toEqual({ halted: false, halt: null });
      expect((await api(server.url, "GET", `/api/v1/accounts/${ACCOUNT}`)).body!.account.tradingState).toBe("ACTIVE");
    });

    it("refuses a trip without a reason, naming the field, and appends nothing", async () => {
      const before = await lastSeq();
      const response = await api(server.url, "POST", `/api/v1/accounts/${ACCOUNT}/breakers/manual/trip`, {});
      expect(response.status).toBe(422);
      expect(response.body!.errors).toEqual([{ path: "reason", message: expect.any(String) }]);
      const unknownBreaker = await api(server.url, "POST", `/api/v1/accounts/${ACCOUNT}/breakers/bogus/trip`, { reason: "x y z" });
      expect(unknownBreaker.status).toBe(422);
      expect(unknownBreaker.body!.errors[0].path).toBe("params.breaker");
      const automatic = await api(server.url, "POST", `/api/v1/accounts/${ACCOUNT}/breakers/latency/trip`, { reason: "by hand" });
      expect(automatic.status).toBe(409);
      expect(automatic.body!.detail).toContain("only the manual breaker");
      expect(await lastSeq()).toBe(before);
    });

    it("streams a subscribed account's view, then each of its changes after its commit, with contiguous seqs", async () => {
      const socket: Socket<ServerToClient, ClientToServer> = io(server.url, { transports: ["websocket"], forceNew: true, auth: { token: ADMIN_TOKEN } });
      try {
        // Messages within a few milliseconds of each other may arrive merged: follow them until
        // the reset shows, then check what they carried and that their seqs are contiguous.
        const messages: AccountMessage[] = [];
        const types = () => messages.flatMap((message) => message.events.map((record) => record.event.type));
        let resolveFirst: () => void = () => undefined;
        const first = new Promise<void>((resolve) => (resolveFirst = resolve));
        const seen = new Promise<void>((resolve) =>
          socket.on("account", (message) => {
            messages.push(message);
            if (messages.length === 1) resolveFirst();
            if (types().includes("breaker.reset")) resolve();
          }),
        );
        socket.emit("subscribe", { topic: "account", accountId: ACCOUNT });
        await first;
        const start = messages[0]!;
        expect(start.reset).toBe(true);
        expect(start.account.accountId).toBe(ACCOUNT);
        expect(start.toSeq).toBe(await lastSeq());

        await api(server.url, "POST", `/api/v1/accounts/${ACCOUNT}/breakers/manual/trip`, { reason: "stream test" });
        await api(server.url, "POST", "/api/v1/intents", intent("stream-1"));
        await api(server.url, "POST", `/api/v1/accounts/${ACCOUNT}/breakers/manual/reset`, { reason: "stream test done" });
        await seen;

        for (let i = 1; i < messages.length; i++) expect(messages[i]!.fromSeq).toBe(messages[i - 1]!.toSeq + 1);
        expect(types()).toEqual(expect.arrayContaining(["breaker.tripped", "intent.received", "intent.decided", "breaker.reset"]));
        expect(types().indexOf("breaker.tripped")).toBeLessThan(types().indexOf("intent.decided"));
        const decisions = messages.flatMap((message) => message.decisions);
        expect(decisions.find((record) => record.decision.intentId === "stream-1")!.decision).toMatchObject({ outcome: "denied", reason: "trading_halted" });
        expect(messages.at(-1)!.account.tradingState).toBe("ACTIVE");

        // Everything streamed was already committed: the ledger holds every streamed seq.
        const ledger = await api(server.url, "GET", `/api/v1/ledger?afterSeq=${start.toSeq}&limit=100`);
        const committed = ledger.body!.events.map((record: { seq: number }) => record.seq);
        expect(committed).toEqual(expect.arrayContaining(messages.flatMap((message) => message.events.map((record) => record.seq))));
      } finally {
        socket.close();
      }
    });

    it("books reported fills into positions and equity, and locks a symbol whose stop-loss filled", async () => {
      await freshPrice();
      const before = (await api(server.url, "GET", `/api/v1/accounts/${ACCOUNT}`)).body!.account;
      const buy = { accountId: ACCOUNT, symbol: "EURUSD", side: "BUY", quantity: 1, price: 1.085, feeUsd: 5 };
      expect((await api(server.url, "POST", "/api/v1/executions", { fills: [buy], correction: booked })).body).toMatchObject({ recorded: 1 });
      let account = (await api(server.url, "GET", `/api/v1/accounts/${ACCOUNT}`)).body!.account;
      expect(account.positions).toEqual([{ symbol: "EURUSD", quantity: 1, avgPrice: 1.085 }]);
      expect(account.balance).toBeCloseTo(before.balance - 5, 2);

      const stop = { ...buy, side: "SELL", price: 1.08, feeUsd: 5, trigger: "stop_loss" };
      expect((await api(server.url, "POST", "/api/v1/executions", { fills: [stop], correction: booked })).body).toMatchObject({ recorded: 2 });
      account = (await api(server.url, "GET", `/api/v1/accounts/${ACCOUNT}`)).body!.account;
      expect(account.positions).toEqual([]);
      expect(account.balance).toBeCloseTo(before.balance - 10 - 500, 2);
      expect(account.vetoes).toEqual([expect.objectContaining({ symbol: "EURUSD", reason: "stop_loss_hit", valueAtTrigger: 1.08 })]);
      const reentry = await api(server.url, "POST", "/api/v1/intents", intent("sl-reentry"));
      expect(reentry.body!.decision).toMatchObject({ outcome: "denied", reason: "symbol_locked", limit: "until_reset" });
      await api(server.url, "POST", `/api/v1/accounts/${ACCOUNT}/vetoes/EURUSD/unlock`, { reason: "reviewed the stop-out" });

      const seq = await lastSeq();
      const unknown = await api(server.url, "POST", "/api/v1/executions", { fills: [buy, { ...buy, symbol: "NOPE" }], correction: booked });
      expect(unknown.status).toBe(422);
      expect(unknown.body!.errors[0].path).toBe("symbol");
      const negative = await api(server.url, "POST", "/api/v1/executions", { fills: [{ ...buy, quantity: -1 }], correction: booked });
      expect(negative.body!.errors[0].path).toBe("fills.0.quantity");
      expect(await lastSeq()).toBe(seq);
    });

    it("answers the equity history with the baseline and floors, downsampled to the points asked", async () => {
      for (const price of [1.085, 1.086, 1.084, 1.087]) {
        await api(server.url, "POST", "/api/v1/market", { ticks: [{ symbol: "EURUSD", price }] });
      }
      const history = await api(server.url, "GET", `/api/v1/accounts/${ACCOUNT}/equity?points=2`);
      expect(history.status).toBe(200);
      expect(history.body!.points.length).toBeLessThanOrEqual(2);
      expect(history.body!.points[0]).toMatchObject({ equity: expect.any(Number), baseline: expect.any(Number), dailyLossFloor: expect.any(Number), maxLossFloor: expect.any(Number) });
      const tooFew = await api(server.url, "GET", `/api/v1/accounts/${ACCOUNT}/equity?points=1`);
      expect(tooFew.status).toBe(422);
      expect(tooFew.body!.errors[0].path).toBe("query.points");
      expect((await api(server.url, "GET", "/api/v1/accounts/nobody/equity")).status).toBe(404);
    });

    it("records a holder's equity as of a tick that moved it, though no event of its own followed", async () => {
      await freshPrice();
      await holdOneLot(server.url);
      try {
        // The fill's own point is recorded by the interval's pass (1 s) first.
        await new Promise((resolve) => setTimeout(resolve, 1_300));
        const price = 1.0921 + Math.round(Math.random() * 50) / 10_000;
        expect((await api(server.url, "POST", "/api/v1/market", { ticks: [{ symbol: "EURUSD", price }] })).status).toBe(200);
        const view = await api(server.url, "GET", `/api/v1/accounts/${ACCOUNT}`);
        const history = await api(server.url, "GET", `/api/v1/accounts/${ACCOUNT}/equity?points=5000`);
        const points = history.body!.points as { equity: number }[];
        expect(points.at(-1)!.equity).toBeCloseTo(view.body!.account.equity, 6);
      } finally {
        await closeOneLot(server.url);
      }
    });

    it("records who sent each intent, fill and price: the caller's token", async () => {
      const from = await lastSeq();
      await freshPrice();
      await api(server.url, "POST", "/api/v1/intents", intent("who-1"));
      await holdOneLot(server.url);
      await closeOneLot(server.url);
      const events = (await api(server.url, "GET", `/api/v1/ledger?afterSeq=${from}&limit=100`)).body!.events as { event: { type: string; by?: string } }[];
      const sent = events.filter(({ event }) => ["market.tick", "intent.received", "execution.filled"].includes(event.type));
      expect(sent.map(({ event }) => event.type)).toEqual(["market.tick", "intent.received", "execution.filled", "execution.filled"]);
      for (const { event } of sent) expect(event.by).toBe("token:admin (RISKGATE_ADMIN_TOKEN)");
    });

    it("exports the ledger as NDJSON that replays with every decision reproduced", async () => {
      const response = await fetch(`${server.url}/api/v1/ledger/export`, { headers: adminAuth });
      expect(response.headers.get("content-type")).toBe("application/x-ndjson");
      const text = await response.text();
      const lines = text.trim().split("\n");
      expect(lines.length).toBe(await lastSeq());
      const file = path.join(tempDir("riskgate-export-"), "ledger.ndjson");
      fs.writeFileSync(file, text);
      const replayed = spawnSync(process.execPath, ["--import", "tsx", "server/cli/replay.ts", file], { cwd: root, encoding: "utf8" });
      expect(replayed.stdout).toContain("mismatches: 0");
      expect(replayed.stdout).toMatch(/decisions: [1-9]\d*/);
      expect(replayed.status).toBe(0);
    });

    it("keeps a tripped breaker tripped across SIGTERM and kill -9 restarts, with the reasons in the ledger", async () => {
      await api(server.url, "POST", `/api/v1/accounts/${ACCOUNT}/breakers/manual/trip`, { reason: "before graceful stop" });
      expect(await server.stop("SIGTERM")).toBe(0);

      server = await startServer(db.env);
      expect(server.output()).not.toContain("applied migrations");
      let account = await api(server.url, "GET", `/api/v1/accounts/${ACCOUNT}`);
      expect(account.body!.account.tradingState).toBe("HALTED");
      expect(account.body!.account.breakers[0]).toMatchObject({ tripped: true, reason: "before graceful stop" });

      await api(server.url, "POST", `/api/v1/accounts/${ACCOUNT}/breakers/manual/reset`, { reason: "between restarts" });
      await api(server.url, "POST", `/api/v1/accounts/${ACCOUNT}/breakers/manual/trip`, { reason: "before kill -9" });
      const seqBeforeKill = await lastSeq();
      await server.stop("SIGKILL");

      server = await startServer(db.env);
      // Every acknowledged event is back (a day.started may follow if a reset fell due meanwhile).
      const recovered = await api(server.url, "GET", `/api/v1/ledger?limit=1000`);
      const recoveredSeqs = recovered.body!.events.map((record: { seq: number }) => record.seq);
      expect(recoveredSeqs.filter((seq: number) => seq <= seqBeforeKill)).toHaveLength(seqBeforeKill);
      expect(recovered.body!.events.filter((r: { seq: number; event: { type: string } }) => r.seq > seqBeforeKill && r.event.type !== "day.started")).toEqual([]);
      account = await api(server.url, "GET", `/api/v1/accounts/${ACCOUNT}`);
      expect(account.body!.account.tradingState).toBe("HALTED");
      expect(account.body!.account.breakers[0]).toMatchObject({ tripped: true, reason: "before kill -9" });

      const ledger = await api(server.url, "GET", `/api/v1/ledger?accountId=${ACCOUNT}&limit=1000`);
      const tripReasons = ledger.body!.events
        .filter((record: { event: { type: string } }) => record.event.type === "breaker.tripped")
        .map((record: { event: { reason: string } }) => record.event.reason);
      expect(tripReasons).toEqual(expect.arrayContaining(["before graceful stop", "before kill -9"]));
      const seqs = ledger.body!.events.map((record: { seq: number }) => record.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    });
  });
}

describe("the engine configuration file", () => {
  it("applies its guard parameters: with a limit of 2 intents a second, the third is throttled", async () => {
    const server = await startServer({
      RISKGATE_DATA_DIR: tempDir("riskgate-throttle-"),
      RISKGATE_ENGINE_CONFIG: engineConfigFile({ guards: { throttle: { maxIntentsPerSecond: 2 } } }),
    });
    try {
      await api(server.url, "POST", "/api/v1/market", EURUSD_TICK);
      const outcomes = [];
      for (const id of ["th-1", "th-2", "th-3"]) {
        outcomes.push((await api(server.url, "POST", "/api/v1/intents", intent(id))).body!.decision);
      }
      expect(outcomes.map((d) => d.outcome)).toEqual(["allowed", "allowed", "denied"]);
      expect(outcomes[2]).toMatchObject({ guard: "throttle", reason: "throttled", observed: 3, limit: 2 });
      // The configuration in force is on the ledger, so a replay decides under it.
      const ledger = await api(server.url, "GET", "/api/v1/ledger?limit=5");
      const applied = ledger.body!.events.find((r: { event: { type: string } }) => r.event.type === "config.applied");
      expect(applied.event.config.guards.throttle.maxIntentsPerSecond).toBe(2);
    } finally {
      await server.stop();
    }
  });

  it("with the reviewer on and no market history, the rule reviewer vetoes (fail closed), records why, and reduce-only orders pass", async () => {
    const server = await startServer({
      RISKGATE_DATA_DIR: tempDir("riskgate-reviewer-"),
      RISKGATE_ENGINE_CONFIG: engineConfigFile({ guards: { reviewer: { enabled: true, onFailure: "deny" } } }),
    });
    try {
      await api(server.url, "POST", "/api/v1/market", EURUSD_TICK);
      const reviewed = await api(server.url, "POST", "/api/v1/intents", intent("rv-1"));
      expect(reviewed.body!.decision).toMatchObject({ outcome: "denied", guard: "reviewer", reason: "reviewer_veto", observed: expect.stringContaining("missing history") });
      const ledger = await api(server.url, "GET", `/api/v1/ledger?accountId=${ACCOUNT}&limit=100`);
      const types = ledger.body!.events.map((r: { event: { type: string } }) => r.event.type);
      expect(types.slice(-4)).toEqual(["intent.received", "advisory.memo", "reviewer.verdict", "intent.decided"]);
      // A retry answers the decision from the ledger, past the verdict (without asking the reviewer again).
      const retried = await api(server.url, "POST", "/api/v1/intents", intent("rv-1"));
      expect(retried.body!.decision).toEqual(reviewed.body!.decision);
      expect(retried.body!.seq).toBe(reviewed.body!.seq);

      const reduce = await api(server.url, "POST", `/api/v1/accounts/${ACCOUNT}/reduce-only`, { reason: "news at 14:30" });
      expect(reduce.body!.account).toMatchObject({ tradingState: "REDUCING", reducing: { cause: "manual", untilReset: false, reason: "news at 14:30" } });
      expect((await api(server.url, "POST", `/api/v1/accounts/${ACCOUNT}/reduce-only`, { reason: "twice" })).status).toBe(409);
      const entry = await api(server.url, "POST", "/api/v1/intents", intent("rv-2"));
      expect(entry.body!.decision).toMatchObject({ outcome: "denied", guard: "trading_state", reason: "reduce_only" });
      await holdOneLot(server.url);
      const exit = await api(server.url, "POST", "/api/v1/intents", intent("rv-3", { action: "CLOSE", side: "SELL" }));
      expect(exit.body!.decision.outcome).toBe("allowed");
      await closeOneLot(server.url);
      const ended = await api(server.url, "POST", `/api/v1/accounts/${ACCOUNT}/reduce-only/end`, { reason: "news passed" });
      expect(ended.body!.account).toMatchObject({ tradingState: "ACTIVE", reducing: null });

      const notLocked = await api(server.url, "POST", `/api/v1/accounts/${ACCOUNT}/side-locks/BUY/unlock`, { reason: "nothing to unlock" });
      expect(notLocked.status).toBe(409);
      expect(notLocked.type).toBe("application/problem+json");
      const badSide = await api(server.url, "POST", `/api/v1/accounts/${ACCOUNT}/side-locks/UP/unlock`, { reason: "bad side" });
      expect(badSide.status).toBe(422);
      expect(badSide.body!.errors[0].path).toBe("params.side");
    } finally {
      await server.stop();
    }
  });

  it("refuses a bar that closes before the previous one of its symbol, naming the field", async () => {
    const server = await startServer({ RISKGATE_DATA_DIR: tempDir("riskgate-bars-") });
    try {
      const bar = (closedAt: string) => ({ symbol: "EURUSD", closedAt, open: 1.08, high: 1.09, low: 1.07, close: 1.085, volume: 100 });
      expect((await api(server.url, "POST", "/api/v1/market", { bars: [bar("2026-01-05T10:01:00Z")] })).status).toBe(200);
      const late = await api(server.url, "POST", "/api/v1/market", { bars: [bar("2026-01-05T10:02:00Z"), bar("2026-01-05T10:00:00Z")] });
      expect(late.status).toBe(422);
      expect(late.body!.errors[0].path).toBe("bars.1.closedAt");
    } finally {
      await server.stop();
    }
  });

  it("locks an account out at the max-loss floor, orders a flatten, and reopens it only on request", async () => {
    const server = await startServer({ RISKGATE_DATA_DIR: tempDir("riskgate-lockout-") });
    try {
      const fill = { accountId: ACCOUNT, symbol: "EURUSD", side: "BUY", quantity: 10, price: 1.085 };
      await api(server.url, "POST", "/api/v1/executions", { fills: [fill], correction: booked });
      // 10 lots × 0.011 × 100,000 = 11,000 USD down: below the 90,000 floor.
      await api(server.url, "POST", "/api/v1/market", { ticks: [{ symbol: "EURUSD", price: 1.074 }] });
      const account = (await api(server.url, "GET", `/api/v1/accounts/${ACCOUNT}`)).body!.account;
      expect(account).toMatchObject({ tradingState: "LOCKED_OUT", maxLossFloor: 90_000, equity: 89_000 });
      const ledger = await api(server.url, "GET", `/api/v1/ledger?accountId=${ACCOUNT}&limit=100`);
      expect(ledger.body!.events.map((r: { event: { type: string } }) => r.event)).toContainEqual(
        expect.objectContaining({ type: "flatten.ordered", symbol: "EURUSD", side: "SELL", quantity: 10 }),
      );
      const entry = await api(server.url, "POST", "/api/v1/intents", intent("lo-1"));
      expect(entry.body!.decision).toMatchObject({ outcome: "denied", reason: "locked_out" });
      const reopened = await api(server.url, "POST", `/api/v1/accounts/${ACCOUNT}/reopen`, { reason: "admin review done" });
      // Reopened, but the daily drawdown breaker tripped on the same fall still halts it.
      expect(reopened.body!.account).toMatchObject({ lockedOut: null, tradingState: "HALTED" });
      expect((await api(server.url, "POST", `/api/v1/accounts/${ACCOUNT}/reopen`, { reason: "again" })).status).toBe(409);
    } finally {
      await server.stop();
    }
  });

  it("stops the start when the file breaks the schema, naming the field", async () => {
    const result = await runToExit({
      RISKGATE_DATA_DIR: tempDir("riskgate-badconfig-"),
      RISKGATE_ENGINE_CONFIG: engineConfigFile({ guards: { priceSanity: { maxDeviationPct: -1 } } }),
    });
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/RISKGATE_ENGINE_CONFIG \(.*engine\.json\) guards\.priceSanity\.maxDeviationPct: /);
  });
});

describe("starting the server", () => {
  it.each([
    ["PORT", "not-a-port"],
    ["DATABASE_URL", "mysql://localhost/x"],
  ])("refuses a bad %s with a message naming it", async (name, value) => {
    const result = await runToExit({ [name]: value });
    expect(result.code).toBe(1);
    expect(result.output).toContain(`${name}: `);
  });

  it("refuses to open a data directory another server is using", async () => {
    const dataDir = tempDir("riskgate-lock-");
    const first = await startServer({ RISKGATE_DATA_DIR: dataDir });
    try {
      const second = await runToExit({ RISKGATE_DATA_DIR: dataDir, PORT: "0" });
      expect(second.code).toBe(1);
      expect(second.output).toContain(`in use by the Riskgate server with process id ${first.child.pid}`);
      expect((await api(first.url, "GET", "/api/health")).status).toBe(200);
    } finally {
      await first.stop();
    }
  });
});

describe.skipIf(databases[1]!.skip)("when the database goes away", () => {
  it("answers intents and trips with 503 problem+json, and health says why", async () => {
    const database = await freshPostgresDatabase();
    const server = await startServer({ DATABASE_URL: database.url, ...roomyThrottle });
    try {
      await api(server.url, "POST", "/api/v1/market", EURUSD_TICK);
      expect((await api(server.url, "POST", "/api/v1/intents", intent("before-outage"))).body!.decision.outcome).toBe("allowed");
      await database.drop();

      const denied = await api(server.url, "POST", "/api/v1/intents", intent("during-outage"));
      expect(denied.status).toBe(503);
      expect(denied.type).toBe("application/problem+json");
      expect(denied.body).toMatchObject({ code: "storage_unavailable" });
      expect(denied.body!.decision).toBeUndefined();

      const trip = await api(server.url, "POST", `/api/v1/accounts/${ACCOUNT}/breakers/manual/trip`, { reason: "during outage" });
      expect(trip.status).toBe(503);
      // Nothing that failed to commit shows in the state.
      const account = await api(server.url, "GET", `/api/v1/accounts/${ACCOUNT}`);
      expect(account.body!.account).toMatchObject({ tradingState: "ACTIVE", decisions: { allowed: 1, denied: 0 } });

      const health = await api(server.url, "GET", "/api/health");
      expect(health.status).toBe(503);
      expect(health.body).toMatchObject({ status: "unavailable", reason: expect.stringContaining("database unreachable") });
    } finally {
      await server.stop("SIGKILL");
      await database.drop();
    }
  });
});
