import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Socket } from "socket.io-client";
import { io } from "socket.io-client";
import { streamOf } from "@/server/engine/events";
import type { OverviewPage } from "@/server/overview-protocol";
import type { AccountMessage, ClientToServer, DecisionRecord, LedgerRecord, OverviewMessage, ServerToClient, StreamProblem } from "@/server/realtime-protocol";
import { EURUSD_TICK, DEMO_ACCOUNT, sampleIntent } from "../fixtures";
import type { RunningServer, TestDatabase } from "./harness";
import { ADMIN_TOKEN, api, databasesUnderTest, engineConfigFile, startServer } from "./harness";

/**
 * The stream by subscription: an account subscription receives that account only and, coming
 * back with its last seq, exactly what it missed; an overview window receives its rows only; a
 * scoped token may not subscribe to another account; a flood of messages costs the decision
 * path nothing.
 */

const ACCOUNT = DEMO_ACCOUNT;
const OTHER = "demo-e8-50k";
const THIRD = "demo-inst-1m";
const roomyThrottle = { RISKGATE_ENGINE_CONFIG: engineConfigFile({ guards: { throttle: { maxIntentsPerSecond: 100_000 } } }) };

const databases = await databasesUnderTest("the stream suite", roomyThrottle);

type ClientSocket = Socket<ServerToClient, ClientToServer>;

/** A client following some accounts the way the protocol says, recording gaps and duplicates. */
class Follower {
  readonly last = new Map<string, number>();
  readonly events = new Map<number, LedgerRecord>();
  readonly decisions = new Map<number, DecisionRecord>();
  readonly messages: AccountMessage[] = [];
  readonly overview: OverviewMessage[] = [];
  readonly problems: StreamProblem[] = [];
  readonly gaps: string[] = [];
  readonly duplicates: number[] = [];
  socket: ClientSocket | null = null;

  connect(url: string, token = ADMIN_TOKEN): Promise<void> {
    const socket: ClientSocket = io(url, { transports: ["websocket"], forceNew: true, reconnection: false, auth: { token } });
    this.socket = socket;
    socket.on("account", (message) => this.onAccount(message));
    socket.on("overview", (message) => this.overview.push(message));
    socket.on("problem", (problem) => this.problems.push(problem));
    return new Promise((resolve, reject) => {
      socket.once("connect", () => resolve());
      socket.once("connect_error", reject);
    });
  }

  subscribe(accountId: string): void {
    const lastSeq = this.last.get(accountId);
    this.socket!.emit("subscribe", { topic: "account", accountId, ...(lastSeq !== undefined ? { lastSeq } : {}) });
  }

  disconnect(): void {
    this.socket?.close();
    this.socket = null;
  }

  private onAccount(message: AccountMessage): void {
    this.messages.push(message);
    const last = this.last.get(message.accountId);
    if (!message.reset && last !== undefined) {
      if (message.toSeq <= last) return;
      if (message.fromSeq > last + 1) {
        this.gaps.push(`${message.accountId}: ${last} -> ${message.fromSeq}`);
        return;
      }
    }
    const seen = message.reset || last === undefined ? 0 : last;
    for (const record of message.events) {
      if (record.seq <= seen) continue;
      if (this.events.has(record.seq)) this.duplicates.push(record.seq);
      this.events.set(record.seq, record);
    }
    for (const record of message.decisions) if (record.seq > seen) this.decisions.set(record.seq, record);
    this.last.set(message.accountId, message.toSeq);
  }
}

/** Polls `condition` until it holds (the stream is asynchronous; no fixed sleeps). */
async function until(condition: () => boolean, what: () => string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

for (const database of databases) {
  describe.skipIf(database.skip)(`the stream on ${database.name}`, () => {
    let db: TestDatabase;
    let server: RunningServer;
    const followers: Follower[] = [];

    beforeAll(async () => {
      db = await database.create();
      server = await startServer(db.env);
    });

    afterAll(async () => {
      for (const follower of followers) follower.disconnect();
      await server?.stop("SIGTERM");
      await db?.cleanup();
    });

    const follower = () => {
      const made = new Follower();
      followers.push(made);
      return made;
    };

    async function ok(method: string, route: string, body?: unknown): Promise<Record<string, any>> { // eslint-disable-line @typescript-eslint/no-explicit-any
      const response = await api(server.url, method, route, body);
      expect(response.status, `${method} ${route}: ${JSON.stringify(response.body)}`).toBeLessThan(300);
      return response.body!;
    }

    const decide = async (intentId: string, overrides: Record<string, unknown> = {}) => (await ok("POST", "/api/v1/intents", sampleIntent(intentId, overrides))).decision;
    const trip = (accountId: string, reason: string) => ok("POST", `/api/v1/accounts/${accountId}/breakers/manual/trip`, { reason });
    const reset = (accountId: string, reason: string) => ok("POST", `/api/v1/accounts/${accountId}/breakers/manual/reset`, { reason });

    async function accountLedger(accountId: string, afterSeq: number, upToSeq: number): Promise<LedgerRecord[]> {
      const page = await ok("GET", `/api/v1/ledger?accountId=${accountId}&afterSeq=${afterSeq}&limit=1000`);
      return (page.events as LedgerRecord[]).filter((record) => record.seq <= upToSeq && !record.event.type.startsWith("market."));
    }

    it("sends an account subscription that account only: its view, events and decisions, with contiguous seqs", async () => {
      await ok("POST", "/api/v1/market", EURUSD_TICK);
      const client = follower();
      await client.connect(server.url);
      client.subscribe(ACCOUNT);
      await until(() => client.messages.length > 0, () => "the first account message");
      const first = client.messages[0]!;
      expect(first).toMatchObject({ accountId: ACCOUNT, reset: true, account: { accountId: ACCOUNT, tradingState: "ACTIVE" } });
      expect(first.account.rules).toBeDefined();
      const since = first.toSeq;

      await trip(OTHER, "stream: another account");
      await decide("sub-other-1", { accountId: OTHER });
      await trip(ACCOUNT, "stream: this account");
      await decide("sub-mine-1");
      await reset(ACCOUNT, "stream: this account resumes");
      await reset(OTHER, "stream: another resumes");
      await decide("sub-mine-2");
      await until(
        () => [...client.decisions.values()].some((record) => record.decision.intentId === "sub-mine-2"),
        () => `the decision of sub-mine-2 (have ${client.messages.length} messages)`,
      );
      expect(client.gaps).toEqual([]);
      expect(client.duplicates).toEqual([]);
      expect(client.messages.every((message) => message.accountId === ACCOUNT)).toBe(true);
      const received = [...client.events.values()].sort((a, b) => a.seq - b.seq);
      expect(received.every((record) => streamOf(record.event) === ACCOUNT)).toBe(true);
      const last = client.last.get(ACCOUNT)!;
      expect(received).toEqual(await accountLedger(ACCOUNT, since, last));
      expect(received.map((record) => record.event.type)).toEqual(expect.arrayContaining(["breaker.tripped", "intent.decided", "breaker.reset"]));
      const decided = [...client.decisions.values()].map((record) => record.decision);
      expect(decided.map((decision) => decision.intentId)).toEqual(["sub-mine-1", "sub-mine-2"]);
      expect(decided[0]).toMatchObject({ outcome: "denied", reason: "trading_halted" });
      // The whole view, the unchanged rules aside, as the API shows it.
      const latest = client.messages.at(-1)!;
      const answer = await ok("GET", `/api/v1/accounts/${ACCOUNT}`);
      if (answer.seq === latest.toSeq) expect({ ...latest.account, rules: answer.account.rules }).toEqual(answer.account);
      client.disconnect();
    });

    it("catches an account subscription up from its last seq: no gap, no duplicate", async () => {
      const client = follower();
      await client.connect(server.url);
      client.subscribe(ACCOUNT);
      await until(() => client.last.has(ACCOUNT), () => "the first account message");
      const since = client.last.get(ACCOUNT)!;
      await decide("cu-1");
      await until(() => [...client.decisions.values()].some((record) => record.decision.intentId === "cu-1"), () => "cu-1 live");
      client.disconnect();
      const away = client.last.get(ACCOUNT)!;

      // Away: decisions, a trip and a reset on this account, and others elsewhere.
      for (let n = 0; n < 5; n++) await decide(`cu-away-${n}`);
      await trip(ACCOUNT, "catch-up: away");
      await decide("cu-away-halted");
      await reset(ACCOUNT, "catch-up: back");
      await decide("cu-away-other", { accountId: THIRD });

      await client.connect(server.url);
      client.subscribe(ACCOUNT);
      await until(() => client.messages.some((message) => message.fromSeq === away + 1), () => "the catch-up message");
      const catchUp = client.messages.find((message) => message.fromSeq === away + 1)!;
      expect(catchUp.reset).toBe(false);
      expect(catchUp.events).toEqual(await accountLedger(ACCOUNT, away, catchUp.toSeq));
      await decide("cu-2");
      await until(() => [...client.decisions.values()].some((record) => record.decision.intentId === "cu-2"), () => "cu-2 live after the catch-up");

      expect(client.gaps).toEqual([]);
      expect(client.duplicates).toEqual([]);
      const received = [...client.events.values()].filter((record) => record.seq > since).sort((a, b) => a.seq - b.seq);
      expect(received).toEqual(await accountLedger(ACCOUNT, since, client.last.get(ACCOUNT)!));
      const decided = [...client.decisions.values()].filter((record) => record.seq > since).map((record) => record.decision.intentId);
      expect(decided).toEqual(["cu-1", "cu-away-0", "cu-away-1", "cu-away-2", "cu-away-3", "cu-away-4", "cu-away-halted", "cu-2"]);
      client.disconnect();
    });

    it("sends an overview window its rows only: a first page, then deltas of what changed in it", async () => {
      const client = follower();
      await client.connect(server.url);
      client.socket!.emit("subscribe", { topic: "overview", query: { q: ACCOUNT, offset: 0, limit: 10 }, ref: 7 });
      await until(() => client.overview.length > 0, () => "the first page");
      const first = client.overview[0]!;
      expect(first).toMatchObject({ kind: "page", ref: 7 });
      const page = (first as Extract<OverviewMessage, { kind: "page" }>).page;
      expect(page.rows.map((row) => row.accountId)).toEqual([ACCOUNT]);
      expect(page).toMatchObject({ matching: 1, offset: 0, counts: { total: 3 } });

      await trip(OTHER, "overview: outside the window");
      await trip(ACCOUNT, "overview: in the window");
      await until(
        () => client.overview.some((message) => message.kind === "delta" && message.rows.some((row) => row.accountId === ACCOUNT && row.tradingState === "HALTED")),
        () => `the window's row halted (${JSON.stringify(client.overview.slice(1))})`,
      );
      await until(() => client.overview.some((message) => message.kind === "delta" && message.counts?.byState.HALTED === 2), () => "the counts with both halts");
      const deltas = client.overview.filter((message): message is Extract<OverviewMessage, { kind: "delta" }> => message.kind === "delta");
      expect(deltas.flatMap((delta) => delta.rows.map((row) => row.accountId)).every((id) => id === ACCOUNT)).toBe(true);
      expect(deltas.every((delta) => delta.ref === 7)).toBe(true);
      await reset(ACCOUNT, "overview: done");
      await reset(OTHER, "overview: done");

      // A new window replaces the last: the whole list, two rows.
      client.socket!.emit("subscribe", { topic: "overview", query: { offset: 0, limit: 2 }, ref: 8 });
      await until(() => client.overview.some((message) => message.kind === "page" && message.ref === 8), () => "the second page");
      const second = client.overview.find((message) => message.kind === "page" && message.ref === 8) as Extract<OverviewMessage, { kind: "page" }>;
      expect(second.page).toMatchObject({ matching: 3 });
      expect(second.page.rows).toHaveLength(2);
      client.disconnect();
    });

    it("sends an overview window a trip that comes after a quiet spell at once, with the counts, and no other commit needed", async () => {
      const client = follower();
      await client.connect(server.url);
      client.socket!.emit("subscribe", { topic: "overview", query: { q: THIRD, offset: 0, limit: 10 }, ref: 11 });
      await until(() => client.overview.length > 0, () => "the first page");
      const page = (client.overview[0] as Extract<OverviewMessage, { kind: "page" }>).page;
      expect(page.rows.map((row) => [row.accountId, row.tradingState])).toEqual([[THIRD, "ACTIVE"]]);
      const halted = page.counts.byState.HALTED;

      // Longer than the figures' period (500 ms) since anything was sent: the case where the
      // regular flush fires at once, before the urgent one.
      await new Promise((resolve) => setTimeout(resolve, 700));
      await trip(THIRD, "overview: after a quiet spell");
      const deltas = () => client.overview.filter((message): message is Extract<OverviewMessage, { kind: "delta" }> => message.kind === "delta");
      await until(
        () => deltas().some((delta) => delta.rows.some((row) => row.accountId === THIRD && row.tradingState === "HALTED")),
        () => `the window's row halted (${JSON.stringify(deltas())})`,
        300,
      );
      await until(() => deltas().some((delta) => delta.counts?.byState.HALTED === halted + 1), () => `the counts with the halt (${JSON.stringify(deltas())})`, 300);
      // The firm did not change: it is not sent again.
      expect(deltas().filter((delta) => delta.firm !== undefined)).toEqual([]);
      await reset(THIRD, "overview: done");
      client.disconnect();
    });

    it("answers GET /api/v1/overview with a window, and 422 for a bad query", async () => {
      const page = (await ok("GET", "/api/v1/overview?limit=2&states=ACTIVE,HALTED")) as OverviewPage;
      expect(page.rows).toHaveLength(2);
      expect(page.counts.total).toBe(3);
      expect(page.rows[0]!.headroomPct).toBeLessThanOrEqual(page.rows[1]!.headroomPct);
      for (const query of ["states=SLEEPING", "limit=501", "offset=-1", "breachedToday=maybe", "colour=red"]) {
        const answer = await api(server.url, "GET", `/api/v1/overview?${query}`);
        expect(answer.status, query).toBe(422);
        expect(answer.type).toBe("application/problem+json");
      }
    });

    it("lets a scoped token subscribe to its own account only, and shows it only its rows", async () => {
      const created = await ok("POST", "/api/v1/tokens", { name: "stream viewer", role: "viewer", accounts: [ACCOUNT] });
      const client = follower();
      await client.connect(server.url, created.token as string);
      client.subscribe(OTHER);
      await until(() => client.problems.length > 0, () => "the refusal");
      expect(client.problems[0]).toMatchObject({ code: "forbidden", accountId: OTHER });
      client.subscribe(ACCOUNT);
      client.socket!.emit("subscribe", { topic: "overview", query: { offset: 0, limit: 50 } });
      await until(() => client.messages.length > 0 && client.overview.length > 0, () => "its account and its overview");
      await trip(OTHER, "scoped: not yours");
      await decide("scoped-mine");
      await until(() => [...client.decisions.values()].some((record) => record.decision.intentId === "scoped-mine"), () => "its decision");
      expect(client.messages.every((message) => message.accountId === ACCOUNT)).toBe(true);
      const page = (client.overview[0] as Extract<OverviewMessage, { kind: "page" }>).page;
      expect(page.rows.map((row) => row.accountId)).toEqual([ACCOUNT]);
      expect(page.counts.total).toBe(1);
      for (const message of client.overview) {
        if (message.kind === "delta") expect(message.rows.every((row) => row.accountId === ACCOUNT)).toBe(true);
      }
      await reset(OTHER, "scoped: done");
      client.disconnect();
    });

    it("answers a malformed message with a problem, and keeps serving", async () => {
      const client = follower();
      await client.connect(server.url);
      const socket = client.socket! as unknown as Socket;
      socket.emit("subscribe", { topic: "account" });
      socket.emit("subscribe", "nonsense");
      socket.emit("subscribe", { topic: "overview", query: { offset: 0, limit: 100_000 } });
      socket.emit("unsubscribe", { topic: "everything" });
      socket.emit("subscribe", { topic: "account", accountId: "no-such-account" });
      await until(() => client.problems.length >= 5, () => `five problems (${JSON.stringify(client.problems)})`);
      expect(client.problems.map((problem) => problem.code)).toEqual(["invalid_message", "invalid_message", "invalid_message", "invalid_message", "not_found"]);
      client.subscribe(ACCOUNT);
      await until(() => client.messages.length > 0, () => "a subscription after the bad ones");
      client.disconnect();
    });

    it("does not let a flood of subscriptions delay an intent", async () => {
      await ok("POST", "/api/v1/market", EURUSD_TICK);
      const before = performance.now();
      await decide("before-the-flood");
      console.log(`an intent before the flood: answered in ${(performance.now() - before).toFixed(1)} ms`);
      // A credential of its own: a stream cut for flooding holds its credential back for a while
      // (too_many_requests), which must not touch the other tests' admin token.
      const flooder = (await ok("POST", "/api/v1/tokens", { name: `stream-flooder-${Date.now()}`, role: "viewer" })).token as string;
      const client = follower();
      await client.connect(server.url, flooder);
      const socket = client.socket! as unknown as Socket;
      for (let n = 0; n < 5_000; n++) {
        if (n % 2 === 0) socket.emit("subscribe", { topic: "overview", query: { offset: n % 3, limit: 500 } });
        else socket.emit("subscribe", { topic: "account", accountId: [ACCOUNT, OTHER, THIRD][n % 3] });
        socket.emit("resync");
      }
      // The client writes what it buffered on its next turns: let it, so that only the server is timed.
      for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
      const started = performance.now();
      const decision = await decide("after-the-flood");
      const elapsedMs = performance.now() - started;
      console.log(`an intent after 10,000 stream messages: answered in ${elapsedMs.toFixed(1)} ms`);
      expect(decision.intentId).toBe("after-the-flood");
      expect(elapsedMs).toBeLessThan(150);
      // The flooding socket was throttled, then let go.
      await until(() => client.socket?.disconnected === true || client.problems.some((problem) => problem.code === "rate_limited"), () => "throttling");
      client.disconnect();
    });

    it("locks an account out at the tick that takes it through its max-loss floor, and a subscribed dashboard hears it", async () => {
      const accountId = "stream-breach-1";
      await ok("POST", "/api/v1/accounts", { accountId, name: "Breach", presetId: "ftmo-2step-100k", initialBalanceUsd: 100_000, execution: "external" });
      await ok("POST", "/api/v1/market", { ticks: [{ symbol: "EURUSD", price: 1.1 }] });
      await ok("POST", "/api/v1/executions", { fills: [{ accountId, symbol: "EURUSD", side: "BUY", quantity: 10, price: 1.1, feeUsd: 0 }], correction: { reason: "test: book a position" } });
      const client = follower();
      await client.connect(server.url);
      client.subscribe(accountId);
      await until(() => client.messages.length > 0, () => "the first account message");

      // 10 lots of 100,000 down 0.012: a 12,000 loss, through the 90,000 max-loss floor.
      const tick = await ok("POST", "/api/v1/market", { ticks: [{ symbol: "EURUSD", price: 1.088 }] });
      const account = (await ok("GET", `/api/v1/accounts/${accountId}`)).account;
      expect(account.tradingState).toBe("LOCKED_OUT");
      expect(account.lockedOut).toMatchObject({ rule: "max_loss", floor: 90_000 });
      // The lock-out was committed with the tick, in the same answer: not at the next intent.
      const ledger = (await ok("GET", `/api/v1/ledger?accountId=${accountId}&afterSeq=0&limit=100`)).events as LedgerRecord[];
      const lockedOut = ledger.find((record) => record.event.type === "account.locked_out")!;
      expect(lockedOut.seq).toBeLessThanOrEqual(tick.seq);
      expect(ledger.filter((record) => record.event.type === "flatten.ordered")).toHaveLength(1);
      await until(() => client.messages.some((message) => message.account.tradingState === "LOCKED_OUT"), () => "the lock-out on the stream");
      expect([...client.events.values()].some((record) => record.event.type === "account.locked_out")).toBe(true);
      client.disconnect();
    });

    it("sends an overview window the figures of a lone tick, rebuilt by the background refresh, with no later commit", async () => {
      const accountId = "stream-figures-1";
      await ok("POST", "/api/v1/accounts", { accountId, name: "Figures", presetId: "ftmo-2step-100k", initialBalanceUsd: 100_000, execution: "external" });
      await ok("POST", "/api/v1/market", { ticks: [{ symbol: "EURUSD", price: 1.1 }] });
      await ok("POST", "/api/v1/executions", { fills: [{ accountId, symbol: "EURUSD", side: "BUY", quantity: 1, price: 1.1, feeUsd: 0 }], correction: { reason: "test: book a position" } });
      const client = follower();
      await client.connect(server.url);
      client.socket!.emit("subscribe", { topic: "overview", query: { q: accountId, offset: 0, limit: 10 }, ref: 12 });
      await until(() => client.overview.length > 0, () => "the first page");
      const before = (client.overview[0] as Extract<OverviewMessage, { kind: "page" }>).page.rows[0]!;

      // A tick marks its holders only; their rows are rebuilt a slice at a time, after the flush it triggers.
      await new Promise((resolve) => setTimeout(resolve, 700));
      await ok("POST", "/api/v1/market", { ticks: [{ symbol: "EURUSD", price: 1.101 }] });
      const after = ((await ok("GET", `/api/v1/overview?q=${accountId}`)) as OverviewPage).rows[0]!;
      expect(after.equity).toBeGreaterThan(before.equity);
      const deltas = () => client.overview.filter((message): message is Extract<OverviewMessage, { kind: "delta" }> => message.kind === "delta");
      await until(
        () => deltas().some((delta) => delta.rows.some((row) => row.accountId === accountId && row.equity === after.equity)),
        () => `the window's row at ${after.equity} (${JSON.stringify(deltas())})`,
        1_500,
      );
      client.disconnect();
    });

    it("refuses a socket without credentials, or with a wrong token", async () => {
      for (const auth of [{}, { token: "rg_not_a_token_0123456789abcdef" }]) {
        const socket: ClientSocket = io(server.url, { transports: ["websocket"], forceNew: true, reconnection: false, auth });
        try {
          const error = await new Promise<Error & { data?: unknown }>((resolve, reject) => {
            socket.once("connect_error", resolve);
            socket.once("connect", () => reject(new Error("an unauthenticated socket connected")));
          });
          expect(error.message).toMatch(/unauthenticated/);
          // A machine-readable code beside the message.
          expect(error.data).toMatchObject({ code: "unauthenticated", detail: expect.any(String) });
        } finally {
          socket.close();
        }
      }
    });
  });
}
