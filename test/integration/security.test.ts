import { once } from "node:events";
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer, TestDatabase } from "./harness";
import { DEMO_ACCOUNT, EURUSD_TICK, sampleIntent } from "../fixtures";
import { ADMIN_TOKEN, api, databasesUnderTest, startServer } from "./harness";

/**
 * Security regressions: each finding of the attack review, reproduced against a real server.
 * (The embedded database is enough: none of them depends on the storage.)
 */

const [embedded] = await databasesUnderTest("the security suite");

/** A raw request with the headers given as they are; its status, or "no answer" after `waitMs`. */
function rawStatus(url: string, path: string, headers: Record<string, string>, waitMs = 2_000): Promise<number | "no answer"> {
  return new Promise((resolve) => {
    const request = http.get(`${url}${path}`, { headers, agent: false }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.setTimeout(waitMs, () => {
      request.destroy();
      resolve("no answer");
    });
    request.on("error", () => resolve("no answer"));
  });
}

/** POSTs JSON from the local address `from` (another loopback address is another client); the status. */
function postFrom(url: string, path: string, body: unknown, from = "127.0.0.1"): Promise<number> {
  const target = new URL(path, url.replace("localhost", "127.0.0.1"));
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = http.request(target, { method: "POST", localAddress: from, agent: false, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(data) } }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on("error", reject);
    request.end(data);
  });
}

/** Sends a body without a length (chunked) until the server answers or `maxBytes` went; the status and how much was sent. */
function streamUntilAnswered(url: string, path: string, headers: Record<string, string>, maxBytes: number): Promise<{ status: number | null; sentBytes: number }> {
  return new Promise((resolve) => {
    let sentBytes = 0;
    let status: number | null = null;
    const request = http.request(new URL(path, url), { method: "POST", agent: false, headers: { ...headers, "content-type": "application/json", "transfer-encoding": "chunked" } });
    request.on("response", (response) => {
      status = response.statusCode ?? null;
      response.resume();
      resolve({ status, sentBytes });
      request.destroy();
    });
    request.on("error", () => setTimeout(() => resolve({ status, sentBytes }), 200));
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    void (async () => {
      // The server may answer and close while this still writes (EPIPE): writing stops there.
      try {
        request.write("[");
        while (status === null && sentBytes < maxBytes && !request.destroyed) {
          if (!request.write(chunk)) await Promise.race([once(request, "drain"), once(request, "close")]);
          sentBytes += chunk.length;
        }
        if (status === null && !request.destroyed) request.end("]");
      } catch {
        // the connection was closed by the server
      }
    })();
  });
}

describe("security regressions", () => {
  let db: TestDatabase;
  let server: RunningServer;

  beforeAll(async () => {
    db = await embedded!.create();
    server = await startServer(db.env);
  });

  afterAll(async () => {
    await server?.stop("SIGTERM");
    await db?.cleanup();
  });

  it("does not let a strategy send prices: a tick from a strategy scoped to one account cannot lock out another (finding 1)", async () => {
    const made = await api(server.url, "POST", "/api/v1/tokens", { name: "sec-strategy-e8", role: "strategy", accounts: ["demo-e8-50k"] });
    expect(made.status).toBe(201);
    const strategy = { authorization: `Bearer ${made.body!.token}` };
    const victim = async () => (await api(server.url, "GET", `/api/v1/accounts/${DEMO_ACCOUNT}`)).body!.account;
    const before = await victim();
    const tick = await api(server.url, "POST", "/api/v1/market", { ticks: [{ symbol: "XAUUSD", price: 1 }] }, undefined, strategy);
    expect(tick.status).toBe(403);
    expect(tick.body!.detail).toContain("strategy role may not");
    const after = await victim();
    expect(after.tradingState).toBe(before.tradingState);
    // A feed credential sends prices; it reads nothing.
    const feed = await api(server.url, "POST", "/api/v1/tokens", { name: "sec-feed", role: "feed", accounts: null });
    expect(feed.status).toBe(201);
    const feeder = { authorization: `Bearer ${feed.body!.token}` };
    expect((await api(server.url, "POST", "/api/v1/market", { ticks: [{ symbol: "EURUSD", price: 1.085 }] }, undefined, feeder)).status).toBe(200);
    expect((await api(server.url, "GET", `/api/v1/accounts/${DEMO_ACCOUNT}`, undefined, undefined, feeder)).status).toBe(403);
  });

  it("refuses a price too far from the last accepted one, records nothing of it and counts it (finding 1)", async () => {
    expect((await api(server.url, "POST", "/api/v1/market", { ticks: [{ symbol: "XAUUSD", price: 2400 }] })).status).toBe(200);
    const seq = (await api(server.url, "GET", "/api/health")).body!.seq;
    const victim = (await api(server.url, "GET", `/api/v1/accounts/${DEMO_ACCOUNT}`)).body!.account;
    // Even the admin's feed: a gold tick of 1 after 2,400.
    const crash = await api(server.url, "POST", "/api/v1/market", { ticks: [{ symbol: "EURUSD", price: 1.085 }, { symbol: "XAUUSD", price: 1 }] });
    expect(crash.status).toBe(422);
    expect(crash.type).toContain("application/problem+json");
    expect(crash.body!.errors[0].path).toBe("ticks.1.price");
    expect(crash.body!.detail).toContain("band is 10%");
    expect((await api(server.url, "GET", "/api/health")).body!.seq).toBe(seq);
    expect((await api(server.url, "GET", `/api/v1/accounts/${DEMO_ACCOUNT}`)).body!.account.tradingState).toBe(victim.tradingState);
    // A bar's extremes too; a move within the band passes.
    const bar = { symbol: "XAUUSD", open: 2400, high: 2400, low: 100, close: 2400, volume: 1, closedAt: new Date(Date.now() - 1000).toISOString() };
    expect((await api(server.url, "POST", "/api/v1/market", { bars: [bar] })).body!.errors[0].path).toBe("bars.0.low");
    expect((await api(server.url, "POST", "/api/v1/market", { ticks: [{ symbol: "XAUUSD", price: 2500 }] })).status).toBe(200);
    const metrics = (await fetch(`${server.url}/api/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }).then((answer) => answer.text()));
    expect(metrics).toContain('riskgate_prices_refused_total{source="market"} 2');
  });

  it("ties a strategy's fills to what was allowed: no fill at any price, none unrequested, none beyond the allowed size (finding 2)", async () => {
    const accountId = "sec-external-1";
    const opened = await api(server.url, "POST", "/api/v1/accounts", { accountId, name: "Security external", presetId: "ftmo-2step-100k", initialBalanceUsd: 100_000, execution: "external" });
    expect(opened.status, JSON.stringify(opened.body)).toBe(201);
    const made = await api(server.url, "POST", "/api/v1/tokens", { name: "sec-strategy-ext", role: "strategy", accounts: [accountId] });
    const strategy = { authorization: `Bearer ${made.body!.token}` };
    const fills = (list: Record<string, unknown>[], extra: Record<string, unknown> = {}) => api(server.url, "POST", "/api/v1/executions", { fills: list.map((fill) => ({ accountId, symbol: "EURUSD", ...fill })), ...extra }, undefined, strategy);
    expect((await api(server.url, "POST", "/api/v1/market", EURUSD_TICK)).status).toBe(200);
    const seq = (await api(server.url, "GET", "/api/health")).body!.seq;

    // The review's attack: BUY 1 @0.5, SELL 1 @1000 with no intent at all.
    const cheap = await fills([{ side: "BUY", quantity: 1, price: 0.5 }]);
    expect(cheap.status).toBe(422);
    expect(cheap.body!.errors[0].path).toBe("fills.0.price");
    const unrequested = await fills([{ side: "BUY", quantity: 50, price: 1.085 }]);
    expect(unrequested.status).toBe(422);
    expect(unrequested.body!.errors[0].path).toBe("fills.0.intentId");
    // Naming an allowed intent, still not at any price.
    const allowed = await api(server.url, "POST", "/api/v1/intents", sampleIntent("sec-ext-1", { accountId, quantity: 0.1 }), undefined, strategy);
    expect(allowed.body!.decision.outcome).toBe("allowed");
    const wild = await fills([{ intentId: "sec-ext-1", side: "BUY", quantity: 0.1, price: 1000 }]);
    expect(wild.status).toBe(422);
    expect(wild.body!.errors[0].path).toBe("fills.0.price");
    // Not more than allowed, nor the other side.
    expect((await fills([{ intentId: "sec-ext-1", side: "BUY", quantity: 50, price: 1.085 }])).body!.errors[0].path).toBe("fills.0.quantity");
    expect((await fills([{ intentId: "sec-ext-1", side: "SELL", quantity: 0.1, price: 1.085 }])).body!.errors[0].path).toBe("fills.0.intentId");
    expect((await api(server.url, "GET", "/api/health")).body!.seq).toBe(seq + 2); // the intent's two events, no fill
    // What was allowed fills, in parts; then nothing is left of it.
    expect((await fills([{ intentId: "sec-ext-1", side: "BUY", quantity: 0.06, price: 1.0851 }, { intentId: "sec-ext-1", side: "BUY", quantity: 0.04, price: 1.0852 }])).status).toBe(200);
    expect((await fills([{ intentId: "sec-ext-1", side: "BUY", quantity: 0.01, price: 1.085 }])).body!.errors[0].path).toBe("fills.0.intentId");
    // A protective stop may close what is held without an intent, not more.
    expect((await fills([{ side: "SELL", quantity: 0.2, price: 1.08, trigger: "stop_loss" }])).status).toBe(422);
    expect((await fills([{ side: "SELL", quantity: 0.1, price: 1.08, trigger: "stop_loss" }])).status).toBe(200);

    // A simulated account's fills come from its venue only.
    const demo = await api(server.url, "POST", "/api/v1/tokens", { name: "sec-strategy-demo", role: "strategy", accounts: [DEMO_ACCOUNT] });
    const simulated = await api(server.url, "POST", "/api/v1/executions", { fills: [{ accountId: DEMO_ACCOUNT, symbol: "EURUSD", side: "BUY", quantity: 50, price: 1.085 }] }, undefined, { authorization: `Bearer ${demo.body!.token}` });
    expect(simulated.status).toBe(422);
    expect(simulated.body!.errors[0].path).toBe("fills.0.accountId");

    // A correction is an admin's, with a reason, and recorded as one.
    expect((await fills([{ side: "BUY", quantity: 1, price: 1.085 }], { correction: { reason: "missed report" } })).status).toBe(403);
    const corrected = await api(server.url, "POST", "/api/v1/executions", { fills: [{ accountId, symbol: "EURUSD", side: "BUY", quantity: 1, price: 1.085 }], correction: { reason: "manual trade at the broker" } });
    expect(corrected.status).toBe(200);
    const events = (await api(server.url, "GET", `/api/v1/ledger?accountId=${accountId}&limit=100`)).body!.events.map((record: { event: Record<string, unknown> }) => record.event);
    expect(events.at(-1)).toMatchObject({ type: "execution.filled", quantity: 1, correction: "manual trade at the broker", by: "token:admin (RISKGATE_ADMIN_TOKEN)" });
    const account = (await api(server.url, "GET", `/api/v1/accounts/${accountId}`)).body!.account;
    expect(account.positions).toEqual([{ symbol: "EURUSD", quantity: 1, avgPrice: 1.085 }]);
  });

  it("refuses a stream request with a malformed Origin at once, and stays up (finding 4)", async () => {
    const handshake = "/socket.io/?EIO=4&transport=polling";
    for (const origin of ["null", "foo", "http://[", "http://%", "://"]) {
      expect(await rawStatus(server.url, handshake, { origin }), `Origin: ${origin}`).toBe(403);
    }
    // Another site's page is refused too; the server's own origin (and none, for programs) is not.
    expect(await rawStatus(server.url, handshake, { origin: "https://attacker.example" })).toBe(403);
    const own = new URL(server.url).origin;
    expect(await rawStatus(server.url, handshake, { origin: own })).not.toBe(403);
    expect(server.output()).not.toMatch(/TypeError: Invalid URL/);
  });

  it("counts a login attempt before its password is hashed: of 14 wrong passwords sent at once, at most 5 are checked (finding 5)", async () => {
    const username = "sec-parallel";
    expect((await api(server.url, "POST", "/api/v1/users", { username, password: "sec-parallel-password", role: "viewer" })).status).toBe(201);
    const statuses = await Promise.all(Array.from({ length: 14 }, (_, n) => postFrom(server.url, "/api/v1/auth/login", { username, password: `wrong-${n}` }, "127.0.0.3")));
    expect(statuses.filter((status) => status === 401).length).toBeLessThanOrEqual(5);
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(9);
  });

  it("does not let failures from one address keep the right password out from another (finding 5)", async () => {
    const username = "sec-victim";
    const password = "sec-victim-password";
    expect((await api(server.url, "POST", "/api/v1/users", { username, password, role: "viewer" })).status).toBe(201);
    for (let attempt = 0; attempt < 5; attempt++) expect(await postFrom(server.url, "/api/v1/auth/login", { username, password: `wrong-${attempt}` }, "127.0.0.4")).toBe(401);
    // The attacker's address is throttled, even with the right password …
    expect(await postFrom(server.url, "/api/v1/auth/login", { username, password }, "127.0.0.4")).toBe(429);
    // … the user's own is not.
    expect(await postFrom(server.url, "/api/v1/auth/login", { username, password }, "127.0.0.5")).toBe(200);
  });

  it("cuts a body sent without a length off at the limit, with 413, without reading the rest (finding 3)", async () => {
    const authorization = `Bearer ${ADMIN_TOKEN}`;
    const { status, sentBytes } = await streamUntilAnswered(server.url, "/api/v1/accounts", { authorization }, 100 * 1024 * 1024);
    // The server answered (413) or closed the connection once the limit (2 MiB) was passed, not
    // after the whole 100 MiB (before the fix it read all of it); a client still writing when the
    // server closes may see the connection cut before it reads the 413.
    expect(sentBytes).toBeLessThan(20 * 1024 * 1024);
    expect([413, null]).toContain(status);
    expect((await api(server.url, "GET", "/api/health")).status).toBe(200);
  });

  it("answers an unauthenticated body on the hot routes with 401 before reading it (finding 3, fast path)", async () => {
    for (const path of ["/api/v1/intents", "/api/v1/executions", "/api/v1/market"]) {
      const { status, sentBytes } = await streamUntilAnswered(server.url, path, { authorization: "Bearer rg_not-a-token" }, 256 * 1024 * 1024);
      // Answered from the headers alone, while the client was still sending (it read all 256 MiB
      // first, up to 2 MiB kept, and answered once the client stopped); what the client sent
      // meanwhile went to socket buffers and is discarded unread, never held.
      expect(status, path).toBe(401);
      expect(sentBytes, path).toBeLessThan(64 * 1024 * 1024);
    }
  });

  it("cuts an authenticated body on the hot routes off at the limit with 413 (finding 3, fast path)", async () => {
    const { status, sentBytes } = await streamUntilAnswered(server.url, "/api/v1/intents", { authorization: `Bearer ${ADMIN_TOKEN}` }, 256 * 1024 * 1024);
    // Answered once the limit (2 MiB) was passed, not after the whole body (before the fix).
    expect(sentBytes).toBeLessThan(64 * 1024 * 1024);
    expect(status).toBe(413);
    expect((await api(server.url, "GET", "/api/health")).status).toBe(200);
  });
});
