import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Alert } from "@/server/alerts";
import { AlertDispatcher, alertsFrom, alertSinksFromConfig, telegramSink, webhookSink } from "@/server/alerts";
import { EngineEvent } from "@/server/engine/events";
import { AccountId } from "@/server/engine/ids";
import type { LedgerRecord } from "@/server/ledger";

/** Real alert receivers: local HTTP servers that record each request and answer as told. */
type Body = { text?: string; alert?: Alert; chat_id?: string; disable_web_page_preview?: boolean };
type Received = { at: number; method: string; url: string; headers: http.IncomingHttpHeaders; body: Body };
type Answer = { status: number; body?: unknown } | "hang";

const servers: http.Server[] = [];
const dispatchers: AlertDispatcher[] = [];
afterEach(async () => {
  await Promise.all(dispatchers.splice(0).map((dispatcher) => dispatcher.close()));
  await Promise.all(
    servers.splice(0).map((server) => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    }),
  );
});

async function receiver(answer: (request: Received, index: number) => Answer) {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    let raw = "";
    req.on("data", (chunk: Buffer) => (raw += chunk.toString()));
    req.on("end", () => {
      const request = { at: performance.now(), method: req.method!, url: req.url!, headers: req.headers, body: JSON.parse(raw) as Body };
      received.push(request);
      const reply = answer(request, received.length - 1);
      if (reply === "hang") return;
      res.writeHead(reply.status, { "content-type": "application/json" });
      res.end(JSON.stringify(reply.body ?? {}));
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, received };
}

function dispatcher(...args: ConstructorParameters<typeof AlertDispatcher>): AlertDispatcher {
  const created = new AlertDispatcher(...args);
  dispatchers.push(created);
  return created;
}

const accountId = AccountId.parse("acc-1");
let nextSeq = 1;
/** Committed records of manual breaker trips, each with a new seq. */
const trips = (count: number): LedgerRecord[] =>
  Array.from({ length: count }, () => {
    const seq = nextSeq++;
    const event = EngineEvent.parse({ type: "breaker.tripped", at: 1_000 * seq, accountId, breaker: "manual", reason: `trip number ${seq}`, by: "alice" });
    return { seq, recordedAt: event.at, event };
  });

const ok = { status: 200 } as const;
const telegramOk = { status: 200, body: { ok: true, result: { message_id: 1 } } } as const;
const quiet = { log: () => {} };

describe("alert delivery", () => {
  it("POSTs each alert to the webhook as JSON with its plain-text form", async () => {
    const webhook = await receiver(() => ok);
    const alerts = dispatcher([webhookSink(`${webhook.url}/hooks/risk`)], quiet);
    const records = trips(1);
    alerts.observe(records);
    await vi.waitFor(() => expect(alerts.stats()).toMatchObject({ delivered: 1, queued: 0 }));

    const [alert] = alertsFrom(records) as [Alert];
    expect(webhook.received).toHaveLength(1);
    const [request] = webhook.received as [Received];
    expect(request).toMatchObject({ method: "POST", url: "/hooks/risk" });
    expect(request.headers["content-type"]).toBe("application/json");
    expect(request.headers["idempotency-key"]).toBe(alert.id);
    expect(request.body).toEqual({ text: `[CRITICAL] ${alert.title}\n${alert.text}`, alert });
    expect(request.body.alert).toMatchObject({ kind: "breaker_tripped", accountId: "acc-1", by: "alice" });
  });

  it("sends each alert to Telegram's sendMessage with the chat id and the text", async () => {
    const telegram = await receiver(() => telegramOk);
    const [sink] = alertSinksFromConfig({ webhookUrl: null, telegram: { botToken: "123:secret", chatId: "-100777", apiBaseUrl: `${telegram.url}/` } });
    const alerts = dispatcher([sink!], quiet);
    const records = trips(2);
    alerts.observe(records);
    await vi.waitFor(() => expect(alerts.stats()).toMatchObject({ delivered: 2, queued: 0 }));

    expect(telegram.received.map((request) => request.url)).toEqual(["/bot123:secret/sendMessage", "/bot123:secret/sendMessage"]);
    const [first] = alertsFrom(records) as [Alert];
    expect(telegram.received[0]!.headers["content-type"]).toBe("application/json");
    expect(telegram.received[0]!.body).toEqual({ chat_id: "-100777", text: `[CRITICAL] ${first.title}\n${first.text}`, disable_web_page_preview: true });
    expect(telegram.received[0]!.body.text).toContain("Why: trip number");
  });

  it("retries a failing sink with backoff and delivers each alert once, in order", async () => {
    const webhook = await receiver((_, index) => (index < 2 ? { status: 500 } : ok));
    const alerts = dispatcher([webhookSink(webhook.url)], { baseDelayMs: 5, ...quiet });
    const records = trips(3);
    alerts.observe(records.slice(0, 1));
    alerts.observe(records.slice(1));
    await vi.waitFor(() => expect(alerts.stats()).toMatchObject({ delivered: 3, failed: 0, queued: 0 }));

    const ids = records.map((record) => String(record.seq));
    expect(webhook.received.map((request) => request.body.alert?.id)).toEqual([ids[0], ids[0], ids[0], ids[1], ids[2]]);
    expect(alerts.stats().lastError).toBe(`webhook ${new URL(webhook.url).host}: HTTP 500`);
  });

  it("gives up on an alert after maxAttempts while the other sink still delivers", async () => {
    const broken = await receiver(() => ({ status: 503 }));
    const telegram = await receiver(() => telegramOk);
    const log: string[] = [];
    const alerts = dispatcher(
      [webhookSink(broken.url), telegramSink({ botToken: "t", chatId: "c", apiBaseUrl: telegram.url })],
      { maxAttempts: 3, baseDelayMs: 1, log: (message) => log.push(message) },
    );
    const records = trips(2);
    alerts.observe(records);
    await vi.waitFor(() => expect(alerts.stats()).toMatchObject({ delivered: 2, failed: 2, queued: 0 }));

    expect(broken.received.map((request) => request.body.alert?.id)).toEqual([...Array(3).fill(String(records[0]!.seq)), ...Array(3).fill(String(records[1]!.seq))]);
    expect(telegram.received).toHaveLength(2);
    expect(log).toEqual(records.map((record) => expect.stringContaining(`gave up on alert ${record.seq} (breaker_tripped) after 3 attempt(s): HTTP 503`)));
  });

  it("does not retry what Telegram rejects for good, and never reports the bot token", async () => {
    const telegram = await receiver(() => ({ status: 400, body: { ok: false, error_code: 400, description: "Bad Request: chat not found" } }));
    const log: string[] = [];
    const alerts = dispatcher([telegramSink({ botToken: "123:secret", chatId: "c", apiBaseUrl: telegram.url })], { baseDelayMs: 1, log: (m) => log.push(m) });
    alerts.observe(trips(1));
    await vi.waitFor(() => expect(alerts.stats()).toMatchObject({ failed: 1, queued: 0 }));

    expect(telegram.received).toHaveLength(1);
    expect(alerts.stats().lastError).toBe("telegram: HTTP 400: Bad Request: chat not found");
    expect(log.join("\n")).not.toContain("secret");
  });

  it("treats a 200 from Telegram with ok: false as a failure", async () => {
    const telegram = await receiver((_, index) => (index === 0 ? { status: 200, body: { ok: false, description: "flood" } } : telegramOk));
    const alerts = dispatcher([telegramSink({ botToken: "t", chatId: "c", apiBaseUrl: telegram.url })], { baseDelayMs: 1, ...quiet });
    alerts.observe(trips(1));
    await vi.waitFor(() => expect(alerts.stats()).toMatchObject({ delivered: 1, queued: 0 }));
    expect(telegram.received).toHaveLength(2);
  });

  it("waits as long as Telegram's retry_after asks on a 429", async () => {
    const telegram = await receiver((_, index) =>
      index === 0
        ? { status: 429, body: { ok: false, error_code: 429, description: "Too Many Requests: retry after 1", parameters: { retry_after: 1 } } }
        : telegramOk,
    );
    const alerts = dispatcher([telegramSink({ botToken: "t", chatId: "c", apiBaseUrl: telegram.url })], { baseDelayMs: 1, ...quiet });
    alerts.observe(trips(1));
    await vi.waitFor(() => expect(alerts.stats()).toMatchObject({ delivered: 1, queued: 0 }), { timeout: 5_000 });

    const [first, second] = telegram.received as [Received, Received];
    expect(second.at - first.at).toBeGreaterThanOrEqual(990);
  });

  it("returns from observe at once while a sink hangs, and close abandons the pending request", async () => {
    const hanging = await receiver(() => "hang");
    const alerts = dispatcher([webhookSink(hanging.url)], quiet);
    alerts.observe(trips(1));
    await vi.waitFor(() => expect(hanging.received).toHaveLength(1));

    const records = trips(50);
    const started = performance.now();
    alerts.observe(records);
    expect(performance.now() - started).toBeLessThan(5);
    expect(alerts.stats()).toMatchObject({ queued: 51, delivered: 0 });

    const closing = performance.now();
    await alerts.close();
    expect(performance.now() - closing).toBeLessThan(1_000);
    expect(hanging.received).toHaveLength(1);
  });
});
