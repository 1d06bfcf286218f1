import { createHash } from "node:crypto";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "@/server/db/database";
import { migrate } from "@/server/db/migrate";
import type { StoredResponse } from "@/server/http/idempotency";
import { IdempotencyStore } from "@/server/http/idempotency";
import { DEMO_ACCOUNT, EURUSD_TICK, sampleIntent } from "../fixtures";
import type { RunningServer, TestDatabase } from "./harness";
import { adminAuth, databasesUnderTest, engineConfigFile, openEmbeddedTestDatabase, startServer } from "./harness";

/**
 * `Idempotency-Key` is claimed in the database before the call runs: concurrent calls with one
 * key run it once and the others get its answer (marked replayed), without the server spinning;
 * a 5xx answer or a failed call releases the claim, so a retry runs; a claim left pending by a
 * server that stopped is released at the next start.
 */

/** Twenty intents at once on one account: above the default throttle of 10 a second. */
const roomyThrottle = { RISKGATE_ENGINE_CONFIG: engineConfigFile({ guards: { throttle: { maxIntentsPerSecond: 1000 } } }) };
const databases = await databasesUnderTest("the Idempotency-Key suite", roomyThrottle);

const BURST = 20;
/** A call that gets no answer in this time counts as a hung server. */
const ANSWER_TIMEOUT_MS = 15_000;
const HEALTH_TIMEOUT_MS = 5_000;

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any
type Answer = { status: number; type: string; replayed: boolean; text: string; json: Json };
type LedgerEvent = { type: string; [field: string]: Json };

/** One call as the admin with `text` as the JSON body; no answer in `timeoutMs` is status 0. */
async function send(base: string, method: string, route: string, text?: string, headers: Record<string, string> = {}, timeoutMs = ANSWER_TIMEOUT_MS): Promise<Answer> {
  try {
    const response = await fetch(`${base}${route}`, {
      method,
      headers: { ...adminAuth, ...(text !== undefined ? { "content-type": "application/json" } : {}), ...headers },
      body: text,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = await response.text();
    const type = response.headers.get("content-type") ?? "";
    return {
      status: response.status,
      type,
      replayed: response.headers.get("idempotent-replayed") === "true",
      text: body,
      json: /json/.test(type) && body ? JSON.parse(body) : null,
    };
  } catch (error) {
    if ((error as Error).name === "TimeoutError") return { status: 0, type: "", replayed: false, text: `no answer in ${timeoutMs} ms`, json: null };
    throw error;
  }
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** A connection of the test's own to the database the server runs on. */
async function connectTo(env: Record<string, string>): Promise<pg.Client> {
  const client = env.DATABASE_URL
    ? new pg.Client({ connectionString: env.DATABASE_URL })
    : new pg.Client({ host: path.join(env.RISKGATE_DATA_DIR!, "postgres"), port: 5432, user: "postgres", database: "riskgate" });
  await client.connect();
  return client;
}

/** One kind of mutating call, and how to find its effect among the ledger's events. */
type KeyedCall = {
  name: string;
  route: string;
  body: unknown;
  status: number;
  /** The events this call (and only this call) records. */
  effect: (event: LedgerEvent) => boolean;
  /** Runs before the burst (a fresh price for an intent). */
  before?: (base: string) => Promise<void>;
  /** Undoes the call's effect for the tests after it (an open breaker, a lock). */
  after?: (base: string) => Promise<void>;
};

const TRIP_ACCOUNT = "demo-e8-50k";
const LOCK_ACCOUNT = "demo-inst-1m";

const keyedCalls: KeyedCall[] = [
  {
    name: "an intent (fast path)",
    route: "/api/v1/intents",
    body: sampleIntent("idem-burst-intent"),
    status: 200,
    effect: (event) => event.type === "intent.decided" && event.decision.intentId === "idem-burst-intent",
    before: async (base) => expect((await send(base, "POST", "/api/v1/market", JSON.stringify(EURUSD_TICK))).status).toBe(200),
  },
  {
    name: "a fill (fast path)",
    route: "/api/v1/executions",
    body: { fills: [{ accountId: DEMO_ACCOUNT, symbol: "EURUSD", side: "BUY", quantity: 0.37, price: 1.0851 }], correction: { reason: "test: a booked fill" } },
    status: 200,
    effect: (event) => event.type === "execution.filled" && event.quantity === 0.37,
  },
  {
    name: "a market tick (fast path)",
    route: "/api/v1/market",
    body: { ticks: [{ symbol: "USDJPY", price: 151.234 }] },
    status: 200,
    effect: (event) => event.type === "market.tick" && event.symbol === "USDJPY",
  },
  {
    name: "a manual breaker trip (through Next)",
    route: `/api/v1/accounts/${TRIP_ACCOUNT}/breakers/manual/trip`,
    body: { reason: "idempotency: one trip for twenty calls" },
    status: 200,
    effect: (event) => event.type === "breaker.tripped" && event.accountId === TRIP_ACCOUNT,
    after: async (base) => {
      const reset = await send(base, "POST", `/api/v1/accounts/${TRIP_ACCOUNT}/breakers/manual/reset`, JSON.stringify({ reason: "idempotency: burst done" }));
      expect(reset.status).toBe(200);
    },
  },
  {
    name: "a symbol lock (through Next)",
    route: `/api/v1/accounts/${LOCK_ACCOUNT}/vetoes`,
    body: { symbol: "AUDUSD", reason: "idempotency: one lock for twenty calls" },
    status: 201,
    effect: (event) => event.type === "veto.added" && event.accountId === LOCK_ACCOUNT,
    after: async (base) => {
      const unlock = await send(base, "POST", `/api/v1/accounts/${LOCK_ACCOUNT}/vetoes/AUDUSD/unlock`, JSON.stringify({ reason: "idempotency: burst done" }));
      expect(unlock.status).toBe(200);
    },
  },
];

for (const database of databases) {
  describe.skipIf(database.skip)(`Idempotency-Key on ${database.name}`, () => {
    let db: TestDatabase;
    let server: RunningServer;

    beforeAll(async () => {
      db = await database.create();
      server = await startServer(db.env);
    });

    afterAll(async () => {
      // A server spinning on one thread ignores SIGTERM: give it a few seconds, then kill it.
      const stopped = server?.stop("SIGTERM");
      const inTime = await Promise.race([stopped?.then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), 10_000))]);
      if (!inTime) await server.stop("SIGKILL");
      await db?.cleanup();
    });

    async function lastSeq(): Promise<number> {
      const health = await send(server.url, "GET", "/api/health");
      expect(health.status).toBe(200);
      return health.json.seq as number;
    }

    async function eventsAfter(seq: number): Promise<LedgerEvent[]> {
      const ledger = await send(server.url, "GET", `/api/v1/ledger?afterSeq=${seq}&limit=1000`);
      expect(ledger.status).toBe(200);
      return ledger.json.events.map((record: { event: LedgerEvent }) => record.event);
    }

    async function pendingClaims(): Promise<number> {
      const sql = await connectTo(db.env);
      try {
        const result = await sql.query<{ count: string }>(`SELECT count(*) AS "count" FROM "idempotency_keys" WHERE "completed_at" IS NULL`);
        return Number(result.rows[0]!.count);
      } finally {
        await sql.end();
      }
    }

    for (const call of keyedCalls) {
      it(`runs ${call.name} once for ${BURST} identical calls sent at once with one key: ${BURST - 1} replays of the same answer, and health answers meanwhile`, async () => {
        await call.before?.(server.url);
        const before = await lastSeq();
        const text = JSON.stringify(call.body);
        const key = `burst-${call.route}`;

        const sending = Array.from({ length: BURST }, () => send(server.url, "POST", call.route, text, { "idempotency-key": key }));
        const during = await send(server.url, "GET", "/api/health", undefined, {}, HEALTH_TIMEOUT_MS);
        const answers = await Promise.all(sending);

        expect(during.status, `health during the burst: ${during.text}`).toBe(200);
        expect(answers.map((answer) => answer.status)).toEqual(Array(BURST).fill(call.status));
        expect(answers.filter((answer) => !answer.replayed)).toHaveLength(1);
        expect(answers.filter((answer) => answer.replayed)).toHaveLength(BURST - 1);
        expect(new Set(answers.map((answer) => answer.text)).size).toBe(1);
        expect((await eventsAfter(before)).filter(call.effect)).toHaveLength(1);

        const retry = await send(server.url, "POST", call.route, text, { "idempotency-key": key });
        expect(retry.status).toBe(call.status);
        expect(retry.replayed).toBe(true);
        expect(retry.text).toBe(answers[0]!.text);
        expect((await eventsAfter(before)).filter(call.effect)).toHaveLength(1);
        expect((await send(server.url, "GET", "/api/health", undefined, {}, HEALTH_TIMEOUT_MS)).status).toBe(200);
        expect(await pendingClaims()).toBe(0);
        await call.after?.(server.url);
      });
    }

    it("refuses the key with another body (409 idempotency_mismatch), at once and after the first call", async () => {
      const route = "/api/v1/executions";
      const key = "mismatch-1";
      const fill = (quantity: number) => JSON.stringify({ fills: [{ accountId: DEMO_ACCOUNT, symbol: "EURUSD", side: "SELL", quantity, price: 1.0849 }], correction: { reason: "test: a booked fill" } });
      const before = await lastSeq();

      // Half the calls with one body, half with another, all at once: one body runs, once.
      const answers = await Promise.all(
        Array.from({ length: BURST }, (_, index) => send(server.url, "POST", route, fill(index % 2 === 0 ? 0.41 : 0.43), { "idempotency-key": key })),
      );
      const ran = answers.filter((answer) => answer.status === 200 && !answer.replayed);
      expect(ran).toHaveLength(1);
      const fills = (await eventsAfter(before)).filter((event) => event.type === "execution.filled");
      expect(fills).toHaveLength(1);
      const winner = fill(fills[0]!.quantity as number);
      answers.forEach((answer, index) => {
        const sent = fill(index % 2 === 0 ? 0.41 : 0.43);
        if (sent === winner) {
          expect(answer.status).toBe(200);
          expect(answer.text).toBe(ran[0]!.text);
        } else {
          expect(answer.status).toBe(409);
          expect(answer.type).toBe("application/problem+json");
          expect(answer.json.code).toBe("idempotency_mismatch");
        }
      });

      const later = await send(server.url, "POST", route, fill(0.47), { "idempotency-key": key });
      expect(later.status).toBe(409);
      expect(later.type).toBe("application/problem+json");
      expect(later.json.code).toBe("idempotency_mismatch");
      expect((await eventsAfter(before)).filter((event) => event.type === "execution.filled")).toHaveLength(1);
      expect(await pendingClaims()).toBe(0);
    });

    it("keeps no answer for a call that failed with 5xx: a retry with the same key runs the call", async () => {
      const route = "/api/v1/executions";
      const key = "outage-1";
      const text = JSON.stringify({ fills: [{ accountId: DEMO_ACCOUNT, symbol: "EURUSD", side: "BUY", quantity: 0.53, price: 1.0852 }], correction: { reason: "test: a booked fill" } });
      const isThisFill = (event: LedgerEvent) => event.type === "execution.filled" && event.quantity === 0.53;
      const before = await lastSeq();

      // An outage of the ledger alone: every append fails, the idempotency table still works.
      const sql = await connectTo(db.env);
      try {
        await sql.query(`CREATE FUNCTION "idempotency_test_outage"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'test outage'; END $$`);
        await sql.query(`CREATE TRIGGER "idempotency_test_outage" BEFORE INSERT ON "ledger_events" FOR EACH STATEMENT EXECUTE FUNCTION "idempotency_test_outage"()`);
        const failed = await Promise.all(Array.from({ length: 5 }, () => send(server.url, "POST", route, text, { "idempotency-key": key })));
        for (const answer of failed) {
          expect(answer.status).toBeGreaterThanOrEqual(500);
          expect(answer.type).toBe("application/problem+json");
        }
        expect(failed.filter((answer) => !answer.replayed)).toHaveLength(1);
        const kept = await sql.query(`SELECT 1 FROM "idempotency_keys" WHERE "request_hash" = $1`, [sha256(text)]);
        expect(kept.rowCount).toBe(0);
      } finally {
        await sql.query(`DROP TRIGGER IF EXISTS "idempotency_test_outage" ON "ledger_events"`);
        await sql.query(`DROP FUNCTION IF EXISTS "idempotency_test_outage"()`);
        await sql.end();
      }

      const retry = await send(server.url, "POST", route, text, { "idempotency-key": key });
      expect(retry.status).toBe(200);
      expect(retry.replayed).toBe(false);
      expect((await eventsAfter(before)).filter(isThisFill)).toHaveLength(1);
      const again = await send(server.url, "POST", route, text, { "idempotency-key": key });
      expect(again.replayed).toBe(true);
      expect(again.text).toBe(retry.text);
      expect((await eventsAfter(before)).filter(isThisFill)).toHaveLength(1);
      expect(await pendingClaims()).toBe(0);
    });

    it("answers bad input with problem+json and leaves no claim behind", async () => {
      const bad = await send(server.url, "POST", "/api/v1/executions", '{"fills": [', { "idempotency-key": "bad-json-1" });
      expect(bad.status).toBe(400);
      expect(bad.type).toBe("application/problem+json");
      const invalid = await send(server.url, "POST", "/api/v1/executions", JSON.stringify({ fills: [{ accountId: DEMO_ACCOUNT }] }), { "idempotency-key": "invalid-1" });
      expect(invalid.status).toBe(422);
      expect(invalid.type).toBe("application/problem+json");
      // A 4xx from the call itself is kept and replayed.
      const unknown = JSON.stringify({ reason: "idempotency: no such account" });
      const first = await send(server.url, "POST", "/api/v1/accounts/no-such-account/breakers/manual/trip", unknown, { "idempotency-key": "missing-1" });
      expect(first.status).toBe(404);
      expect(first.type).toBe("application/problem+json");
      const retry = await send(server.url, "POST", "/api/v1/accounts/no-such-account/breakers/manual/trip", unknown, { "idempotency-key": "missing-1" });
      expect(retry.status).toBe(404);
      expect(retry.replayed).toBe(true);
      expect(retry.text).toBe(first.text);
      expect(await pendingClaims()).toBe(0);
    });

    it("releases at the next start a claim left pending by a server that stopped: a retry runs the call", async () => {
      const route = "/api/v1/executions";
      const key = "restart-1";
      const text = JSON.stringify({ fills: [{ accountId: DEMO_ACCOUNT, symbol: "EURUSD", side: "BUY", quantity: 0.59, price: 1.0853 }], correction: { reason: "test: a booked fill" } });
      const isThisFill = (event: LedgerEvent) => event.type === "execution.filled" && event.quantity === 0.59;
      const before = await lastSeq();
      expect((await send(server.url, "POST", route, text, { "idempotency-key": key })).status).toBe(200);

      // As if the server had stopped between claiming the key and keeping the answer.
      const sql = await connectTo(db.env);
      try {
        const pending = await sql.query(
          `UPDATE "idempotency_keys" SET "status" = NULL, "content_type" = NULL, "body" = NULL, "completed_at" = NULL WHERE "request_hash" = $1`,
          [sha256(text)],
        );
        expect(pending.rowCount).toBe(1);
      } finally {
        await sql.end();
      }
      expect(await server.stop("SIGTERM")).toBe(0);
      server = await startServer(db.env);
      expect(await pendingClaims()).toBe(0);

      const retry = await send(server.url, "POST", route, text, { "idempotency-key": key });
      expect(retry.status).toBe(200);
      expect(retry.replayed).toBe(false);
      expect((await eventsAfter(before)).filter(isThisFill)).toHaveLength(2);
      const again = await send(server.url, "POST", route, text, { "idempotency-key": key });
      expect(again.replayed).toBe(true);
      expect((await eventsAfter(before)).filter(isThisFill)).toHaveLength(2);
    });
  });
}

describe("the idempotency store, in-process", () => {
  let db: Database;
  let store: IdempotencyStore;
  const scope = "token:test\nPOST /api/v1/test";
  const ok: StoredResponse = { status: 200, contentType: "application/json", body: '{"ok":true}' };

  beforeAll(async () => {
    db = await openEmbeddedTestDatabase();
    await migrate(db);
    store = new IdempotencyStore(db);
  });

  afterAll(async () => {
    await db?.close();
  });

  async function rows(): Promise<{ status: number | null; completed: boolean }[]> {
    const result = await db.pool.query<{ status: number | null; completed: boolean }>(
      `SELECT "status", "completed_at" IS NOT NULL AS "completed" FROM "idempotency_keys" ORDER BY "created_at"`,
    );
    return result.rows;
  }

  /** A call that runs until `finish` is called with its answer or an error. */
  function gatedCall() {
    let calls = 0;
    let finish!: (outcome: StoredResponse | Error) => void;
    const outcome = new Promise<StoredResponse | Error>((resolve) => (finish = resolve));
    const produce = async () => {
      calls++;
      const settled = await outcome;
      if (settled instanceof Error) throw settled;
      return settled;
    };
    return { produce, finish, calls: () => calls };
  }

  async function until(condition: () => Promise<boolean>): Promise<void> {
    for (let attempt = 0; attempt < 200 && !(await condition()); attempt++) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  it("runs the call once for concurrent runs with one key; the others get its answer, replayed", async () => {
    await db.pool.query(`DELETE FROM "idempotency_keys"`);
    const call = gatedCall();
    const runs = Array.from({ length: BURST }, () => store.run(scope, "concurrent", "{}", call.produce));
    await until(async () => (await rows()).length === 1);
    expect(await rows()).toEqual([{ status: null, completed: false }]);
    call.finish(ok);
    const results = await Promise.all(runs);
    expect(call.calls()).toBe(1);
    expect(results.filter((result) => !result.replayed)).toHaveLength(1);
    for (const result of results) expect(result.response).toEqual(ok);
    expect(await rows()).toEqual([{ status: 200, completed: true }]);
  });

  it("releases the claim when the call throws: the waiters get the same error, and a retry runs", async () => {
    await db.pool.query(`DELETE FROM "idempotency_keys"`);
    const call = gatedCall();
    const runs = Array.from({ length: 5 }, () => store.run(scope, "throws", "{}", call.produce).then(() => null, (error: unknown) => error));
    await until(async () => (await rows()).length === 1);
    const boom = new Error("boom");
    call.finish(boom);
    expect(await Promise.all(runs)).toEqual(Array(5).fill(boom));
    expect(call.calls()).toBe(1);
    expect(await rows()).toEqual([]);

    const retry = await store.run(scope, "throws", "{}", async () => ok);
    expect(retry).toEqual({ response: ok, replayed: false });
    expect(await rows()).toEqual([{ status: 200, completed: true }]);
  });

  it("releases the claim on a 5xx answer: a retry runs", async () => {
    await db.pool.query(`DELETE FROM "idempotency_keys"`);
    const unavailable: StoredResponse = { status: 503, contentType: "application/problem+json", body: '{"code":"storage_unavailable"}' };
    expect(await store.run(scope, "outage", "{}", async () => unavailable)).toEqual({ response: unavailable, replayed: false });
    expect(await rows()).toEqual([]);
    expect(await store.run(scope, "outage", "{}", async () => ok)).toEqual({ response: ok, replayed: false });
    expect(await store.run(scope, "outage", "{}", async () => unavailable)).toEqual({ response: ok, replayed: true });
  });

  it("refuses another body with the key at once while the first call runs, and after it", async () => {
    await db.pool.query(`DELETE FROM "idempotency_keys"`);
    const call = gatedCall();
    const first = store.run(scope, "mismatch", '{"a":1}', call.produce);
    await until(async () => (await rows()).length === 1);
    await expect(store.run(scope, "mismatch", '{"a":2}', async () => ok)).rejects.toMatchObject({ code: "idempotency_mismatch" });
    call.finish(ok);
    expect(await first).toEqual({ response: ok, replayed: false });
    await expect(store.run(scope, "mismatch", '{"a":2}', async () => ok)).rejects.toMatchObject({ code: "idempotency_mismatch" });
  });

  it("releases at start the claims a stopped server left pending, and keeps the kept answers", async () => {
    await db.pool.query(`DELETE FROM "idempotency_keys"`);
    await store.run(scope, "kept", "{}", async () => ok);
    await db.pool.query(`INSERT INTO "idempotency_keys" ("key", "request_hash") VALUES ('left-pending', 'x')`);
    expect(await new IdempotencyStore(db).releasePending()).toBe(1);
    expect(await rows()).toEqual([{ status: 200, completed: true }]);
  });
});
