import Ajv from "ajv";
import { inject } from "vitest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Socket } from "socket.io-client";
import { io } from "socket.io-client";
import type { ClientToServer, ServerToClient } from "@/server/realtime-protocol";
import { STREAM_LIMITS } from "@/server/realtime-protocol";
import { DEMO_ACCOUNT, EURUSD_TICK, sampleIntent } from "../fixtures";
import type { RunningServer, TestDatabase } from "./harness";
import { ADMIN_TOKEN, api, databasesUnderTest, freshPostgresDatabase, startServer } from "./harness";

/**
 * The stream's written contract against the real server: the AsyncAPI document it serves, every
 * message a real socket.io-client receives validated against that document's schemas, and each
 * connect-error code (`unauthenticated`, `forbidden`, `too_many_requests`, `unavailable`) caused
 * for real and read from `connect_error`'s `data`.
 */

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any
type ClientSocket = Socket<ServerToClient, ClientToServer>;
type Refused = Error & { data?: Json };

const OTHER = "demo-e8-50k";
const databases = await databasesUnderTest("the stream contract");

/** Connects with `auth` and resolves with the socket, or rejects with the connect_error. */
function connect(url: string, auth: Record<string, string>): Promise<ClientSocket> {
  const socket: ClientSocket = io(url, { transports: ["websocket"], forceNew: true, reconnection: false, auth });
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (error) => {
      socket.close();
      reject(error);
    });
  });
}

async function refusal(url: string, auth: Record<string, string>): Promise<Refused> {
  try {
    const socket = await connect(url, auth);
    socket.close();
  } catch (error) {
    return error as Refused;
  }
  throw new Error(`a socket with ${JSON.stringify(auth)} connected`);
}

async function until<T>(read: () => T | undefined, what: () => string, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 20)); // polling the client's received state
  }
}

describe("the stream contract (embedded)", () => {
  let database: TestDatabase;
  let server: RunningServer;
  let document: Json;
  const ajv = new Ajv({ strict: false, allErrors: true });
  const validators = new Map<string, ReturnType<typeof ajv.compile>>();

  beforeAll(async () => {
    database = await databases[0]!.create();
    server = await startServer(database.env);
    const answer = await fetch(`${server.url}/api/v1/asyncapi.json`);
    expect(answer.status).toBe(200);
    document = await answer.json();
    ajv.addSchema({ $id: "asyncapi.json", components: document.components }, "asyncapi.json");
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await database?.cleanup();
  });

  /** Validates a payload against the document's schema for the message with that Socket.IO event name. */
  function check(event: string, payload: unknown): void {
    let validate = validators.get(event);
    if (!validate) {
      const message = Object.values(document.channels.stream.messages as Record<string, Json>).find((candidate) => candidate.name === event);
      expect(message, `the document has a message named ${event}`).toBeDefined();
      validate = ajv.compile(JSON.parse(JSON.stringify(message.payload).replaceAll('"#/components/', '"asyncapi.json#/components/')));
      validators.set(event, validate);
    }
    expect(validate(payload), `${event} does not match the document: ${ajv.errorsText(validate.errors, { separator: "\n" })}\n${JSON.stringify(payload).slice(0, 500)}`).toBe(true);
  }

  const token = async (name: string, role: string, accounts?: string[]) => {
    const made = await api(server.url, "POST", "/api/v1/tokens", { name, role, ...(accounts ? { accounts } : {}) });
    expect(made.status).toBe(201);
    return made.body!.token as string;
  };

  it("serves an AsyncAPI 3 document without authentication", async () => {
    expect(document).toMatchObject({ asyncapi: "3.0.0", channels: { stream: { address: "/" } } });
    expect(Object.keys(document.operations).sort()).toEqual(["refuseConnection", "sendAccount", "sendOverview", "sendProblem", "subscribe", "unsubscribe"]);
  });

  it("sends only messages its document describes: overview page and deltas, account messages with catch-up by seq, problems", async () => {
    const socket = await connect(server.url, { token: ADMIN_TOKEN });
    const received: { event: string; payload: Json }[] = [];
    for (const event of ["overview", "account", "problem"] as const) socket.on(event, (payload: Json) => received.push({ event, payload }));
    try {
      socket.emit("subscribe", { topic: "overview", query: { offset: 0, limit: 5 }, ref: 1 });
      socket.emit("subscribe", { topic: "account", accountId: DEMO_ACCOUNT });
      await until(() => received.find((m) => m.event === "account"), () => "the first account message");
      await until(() => received.find((m) => m.event === "overview" && m.payload.kind === "page"), () => "the overview page");
      // A price and an intent: deltas of the window, account messages with its events.
      expect((await api(server.url, "POST", "/api/v1/market", EURUSD_TICK)).status).toBe(200);
      const decided = await api(server.url, "POST", "/api/v1/intents", sampleIntent("stream-contract-1", { quantity: 0.01 }));
      expect(decided.status).toBe(200);
      await until(() => received.find((m) => m.event === "account" && m.payload.events.some((record: Json) => record.event.type === "intent.decided")), () => "the decision on the stream");
      await until(() => received.find((m) => m.event === "overview" && m.payload.kind === "delta"), () => "an overview delta");
      // A refused message: a problem.
      socket.emit("subscribe", { topic: "nothing" } as never);
      await until(() => received.find((m) => m.event === "problem"), () => "a problem");

      // Catch-up by seq: a second client that comes back with a lastSeq gets what it missed.
      const account = received.filter((m) => m.event === "account");
      const firstTo = account[0]!.payload.toSeq as number;
      const again = await connect(server.url, { token: ADMIN_TOKEN });
      try {
        const caught: Json[] = [];
        again.on("account", (payload) => caught.push(payload));
        again.emit("subscribe", { topic: "account", accountId: DEMO_ACCOUNT, lastSeq: firstTo });
        const first = await until(() => caught[0], () => "the catch-up");
        check("account", first);
        expect(first).toMatchObject({ reset: false, fromSeq: firstTo + 1 });
        expect(first.events.map((record: Json) => record.seq)).toContain(decided.body!.seq);
      } finally {
        again.close();
      }
      for (const { event, payload } of received) check(event, payload);
      expect(new Set(received.map((m) => m.event))).toEqual(new Set(["overview", "account", "problem"]));
    } finally {
      socket.close();
    }
  });

  it("answers a scoped token's subscription to another account with problem forbidden", async () => {
    const socket = await connect(server.url, { token: await token("stream-scoped", "viewer", [DEMO_ACCOUNT]) });
    try {
      const problem = new Promise<Json>((resolve) => socket.once("problem", resolve));
      socket.emit("subscribe", { topic: "account", accountId: OTHER });
      const answer = await problem;
      check("problem", answer);
      expect(answer).toMatchObject({ code: "forbidden", accountId: OTHER });
    } finally {
      socket.close();
    }
  });

  it("refuses a connection without valid credentials: unauthenticated", async () => {
    for (const auth of [{}, { token: "rg_not_a_token_0123456789abcdef" }] as Record<string, string>[]) {
      const error = await refusal(server.url, auth);
      expect(error.data).toMatchObject({ code: "unauthenticated", detail: expect.any(String) });
      check("connect_error", error.data);
    }
  });

  it("refuses a role that reads nothing: forbidden", async () => {
    for (const role of ["feed", "metrics"]) {
      const error = await refusal(server.url, { token: await token(`stream-${role}`, role) });
      expect(error.data).toMatchObject({ code: "forbidden", detail: expect.stringContaining(role) });
      check("connect_error", error.data);
    }
  });

  it("cuts a flooding socket, then refuses its credential for a while: too_many_requests", async () => {
    const flooder = await token("stream-flooder", "viewer");
    const socket = await connect(server.url, { token: flooder });
    const cut = new Promise<string>((resolve) => socket.once("disconnect", resolve));
    const flood = STREAM_LIMITS.BURST + STREAM_LIMITS.DROPS_BEFORE_DISCONNECT + 50;
    for (let n = 0; n < flood; n++) socket.emit("unsubscribe", { topic: "overview" });
    expect(await cut).toMatch(/^(io server disconnect|transport close)$/);

    const error = await refusal(server.url, { token: flooder });
    expect(error.data).toMatchObject({ code: "too_many_requests", detail: expect.any(String), retryAfterSeconds: expect.any(Number) });
    expect(error.data.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(error.data.retryAfterSeconds).toBeLessThanOrEqual(STREAM_LIMITS.FLOOD_COOLDOWN_MS / 1000);
    check("connect_error", error.data);
    // Other credentials are not held back.
    (await connect(server.url, { token: ADMIN_TOKEN })).close();
  });

  it("refuses a connection whose credentials cannot be checked (the database is gone): unavailable", async () => {
    const outage = await freshPostgresDatabase(inject("embeddedPostgresUrl"));
    const second = await startServer({ DATABASE_URL: outage.url });
    try {
      (await connect(second.url, { token: ADMIN_TOKEN })).close();
      await outage.drop();
      // A credential this process has not cached must be read from the database, which is gone.
      const error = await refusal(second.url, { token: "rg_never_seen_token_0123456789abcdef" });
      expect(error.data).toMatchObject({ code: "unavailable", detail: expect.any(String) });
      check("connect_error", error.data);
    } finally {
      await second.stop("SIGKILL");
      await outage.drop();
    }
  });
});
