import net from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { io } from "socket.io-client";
import type { AccountMessage } from "@/server/realtime-protocol";
import { DEMO_ACCOUNT } from "../fixtures";
import type { RunningServer } from "./harness";
import { ADMIN_TOKEN, api, freshPostgresDatabase, postgresReachable, postgresUrl, startServer } from "./harness";

const isCI = process.env.CI === "true" || process.env.CI === "1";
const redisUrl = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

function reachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port || 6379) });
    socket.setTimeout(2000);
    socket.once("connect", () => (socket.end(), resolve(true)));
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => (socket.destroy(), resolve(false)));
  });
}

const postgresProblem = await postgresReachable();
const redisUp = await reachable(redisUrl);
const skip = (postgresProblem !== null || !redisUp) && !isCI;
if (skip) console.warn(`\nSKIPPING the Redis fan-out test: PostgreSQL (${postgresUrl}) or Redis (${redisUrl}) is unreachable.\n`);

describe.skipIf(skip)("the stream across two server processes (REDIS_URL)", () => {
  const servers: RunningServer[] = [];
  let drop: (() => Promise<void>) | null = null;
  afterAll(async () => {
    for (const server of servers) await server.stop();
    await drop?.();
  });

  it("a client of one process receives what the other committed on its subscription, contiguous by seq", async () => {
    const database = await freshPostgresDatabase();
    drop = database.drop;
    const env = { DATABASE_URL: database.url, REDIS_URL: redisUrl };
    const writer = await startServer(env);
    servers.push(writer);
    const reader = await startServer(env);
    servers.push(reader);
    // One server decides per database: the second is a read-only stream node.
    expect((await api(writer.url, "GET", "/api/health")).body).toMatchObject({ role: "writer" });
    expect((await api(reader.url, "GET", "/api/health")).body).toMatchObject({ role: "read-only", stream: { fanOut: "redis" } });
    expect(reader.output()).toContain(`read-only stream node: another Riskgate server is deciding on this database (held by riskgate pid ${writer.child.pid} on `);

    const socket = io(reader.url, { transports: ["websocket"], forceNew: true, auth: { token: ADMIN_TOKEN } });
    try {
      const messages: AccountMessage[] = [];
      socket.on("account", (message: AccountMessage) => messages.push(message));
      await new Promise<void>((resolve, reject) => {
        socket.once("connect", () => resolve());
        socket.once("connect_error", reject);
      });
      // The reader makes its subscribers' messages from the ledger it follows.
      socket.emit("subscribe", { topic: "account", accountId: DEMO_ACCOUNT });
      const first = await new Promise<AccountMessage>((resolve) => socket.once("account", resolve));
      const trip = await api(writer.url, "POST", `/api/v1/accounts/${DEMO_ACCOUNT}/breakers/manual/trip`, { reason: "fan-out test" });
      expect(trip.status).toBe(200);
      for (let attempt = 0; !messages.some((message) => message.account.tradingState === "HALTED"); attempt++) {
        if (attempt > 200) throw new Error("the reader's subscriber never saw the trip");
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      const tripped = messages.find((message) => message.account.tradingState === "HALTED")!;
      const following = messages.slice(messages.indexOf(first) + 1);
      expect(following[0]!.fromSeq).toBe(first.toSeq + 1);
      for (let i = 1; i < following.length; i++) expect(following[i]!.fromSeq).toBe(following[i - 1]!.toSeq + 1);
      expect(tripped.events.map((record) => record.event.type)).toContain("breaker.tripped");

      // The read-only node folds what the writer committed: its reads follow.
      for (let attempt = 0; ; attempt++) {
        const account = await api(reader.url, "GET", `/api/v1/accounts/${DEMO_ACCOUNT}`);
        if (account.body!.account.tradingState === "HALTED") break;
        if (attempt > 100) throw new Error("the read-only node never saw the trip");
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      // It decides nothing: a command is refused, naming the server that decides.
      const refused = await api(reader.url, "POST", `/api/v1/accounts/${DEMO_ACCOUNT}/breakers/manual/reset`, { reason: "from the reader" });
      expect(refused.status).toBe(503);
      expect(refused.type).toBe("application/problem+json");
      expect(refused.body).toMatchObject({ code: "read_only", detail: expect.stringContaining(`riskgate pid ${writer.child.pid}`) });
      expect((await api(writer.url, "GET", `/api/v1/accounts/${DEMO_ACCOUNT}`)).body!.account.tradingState).toBe("HALTED");
    } finally {
      socket.close();
    }
  }, 90_000);
});
