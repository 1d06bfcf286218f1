import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Socket } from "socket.io-client";
import { io } from "socket.io-client";
import { streamOf } from "@/server/engine/events";
import type { AccountView, ChangeMessage, ClientToServer, DecisionRecord, FirmView, LedgerRecord, ServerToClient, Snapshot } from "@/server/realtime-protocol";
import { DEMO_ACCOUNT, EURUSD_TICK, sampleIntent } from "../fixtures";
import type { RunningServer, TestDatabase } from "./harness";
import {
  ADMIN_TOKEN,
  api,
  databasesUnderTest,
  engineConfigFile,
  startServer,
} from "./harness";

/**
 * The stream's catch-up: a client that goes away and comes back with its last seq gets what it
 * missed, once, with no gap, and ends with the server's view. A scoped principal sees only its
 * accounts; an anonymous socket is refused.
 */

const ACCOUNT = DEMO_ACCOUNT;
const OTHER = "demo-e8-50k";
const THIRD = "demo-inst-1m";
const roomyThrottle = { RISKGATE_ENGINE_CONFIG: engineConfigFile({ guards: { throttle: { maxIntentsPerSecond: 100_000 } } }) };

const databases = await databasesUnderTest("the reconnect suite", roomyThrottle);

type ClientSocket = Socket<ServerToClient, ClientToServer>;

/**
 * A client's copy of the stream, kept the way the protocol says: a snapshot replaces the view;
 * a change that ends at or before the last seq is old news; one that starts after last + 1 is a
 * gap; otherwise its events and decisions past the last seq are new, its views are current.
 */
class Follower {
  last = 0;
  /** The seq of the first snapshot: events after it must all arrive. */
  since: number | null = null;
  firm: FirmView | null = null;
  readonly accounts = new Map<string, AccountView>();
  readonly events = new Map<number, LedgerRecord>();
  readonly decisions = new Map<number, DecisionRecord>();
  readonly snapshots: Snapshot[] = [];
  readonly changes: ChangeMessage[] = [];
  readonly gaps: string[] = [];
  readonly duplicates: number[] = [];
  /** What each connection received first. */
  readonly firstMessages: ({ kind: "snapshot"; message: Snapshot } | { kind: "change"; message: ChangeMessage })[] = [];
  socket: ClientSocket | null = null;

  connect(url: string, auth: { token?: string; lastSeq?: number }): Promise<void> {
    const socket: ClientSocket = io(url, { transports: ["websocket"], forceNew: true, reconnection: false, auth });
    this.socket = socket;
    let first = true;
    return new Promise((resolve, reject) => {
      socket.once("connect_error", reject);
      socket.on("snapshot", (snapshot) => {
        if (first) this.firstMessages.push({ kind: "snapshot", message: snapshot });
        first = false;
        this.onSnapshot(snapshot);
        resolve();
      });
      socket.on("change", (change) => {
        if (first) this.firstMessages.push({ kind: "change", message: change });
        first = false;
        this.onChange(change);
        resolve();
      });
    });
  }

  disconnect(): void {
    this.socket?.disconnect();
    this.socket = null;
  }

  private onSnapshot(snapshot: Snapshot): void {
    this.snapshots.push(snapshot);
    this.since ??= snapshot.seq;
    this.last = snapshot.seq;
    this.firm = snapshot.firm;
    this.accounts.clear();
    for (const account of snapshot.accounts) this.accounts.set(account.accountId, account);
    for (const record of snapshot.decisions) if (!this.decisions.has(record.seq)) this.decisions.set(record.seq, record);
  }

  private onChange(change: ChangeMessage): void {
    this.changes.push(change);
    if (change.toSeq <= this.last) return;
    if (change.fromSeq > this.last + 1) this.gaps.push(`have ${this.last}, got ${change.fromSeq}..${change.toSeq}`);
    for (const record of change.events) {
      if (record.seq <= this.last) continue;
      if (this.events.has(record.seq)) this.duplicates.push(record.seq);
      this.events.set(record.seq, record);
    }
    for (const record of change.decisions) {
      if (record.seq <= this.last) continue;
      if (this.decisions.has(record.seq)) this.duplicates.push(record.seq);
      this.decisions.set(record.seq, record);
    }
    this.firm = change.firm;
    for (const account of change.accounts) this.accounts.set(account.accountId, account);
    this.last = change.toSeq;
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

    const tick = (price: number) => ok("POST", "/api/v1/market", { ticks: [{ symbol: "EURUSD", price }] });
    const decide = async (intentId: string, overrides: Record<string, unknown> = {}) => (await ok("POST", "/api/v1/intents", sampleIntent(intentId, overrides))).decision;
    const serverSeq = async () => (await ok("GET", "/api/health")).seq as number;

    async function nonMarketLedger(afterSeq: number, upToSeq: number): Promise<LedgerRecord[]> {
      const records: LedgerRecord[] = [];
      for (let cursor = afterSeq; ; ) {
        const page = await ok("GET", `/api/v1/ledger?afterSeq=${cursor}&limit=1000`);
        records.push(...(page.events as LedgerRecord[]));
        if (page.nextAfterSeq === null) break;
        cursor = page.nextAfterSeq as number;
      }
      return records.filter((record) => record.seq <= upToSeq && !record.event.type.startsWith("market."));
    }

    /** Waits until the follower has everything up to the server's seq, then checks its view. */
    async function settledViewMatches(client: Follower, accountIds: string[] | null): Promise<void> {
      for (let attempt = 0; ; attempt++) {
        const listed = await ok("GET", "/api/v1/accounts");
        const firm = await ok("GET", "/api/v1/firm");
        await until(() => client.last >= listed.seq, () => `the client at seq ${client.last}, the server at ${listed.seq}`);
        // The server moved on while we looked (a clock event): look again.
        if (client.last !== listed.seq || firm.seq !== listed.seq) {
          expect(attempt).toBeLessThan(5);
          continue;
        }
        const expected = (listed.accounts as AccountView[]).filter((account) => accountIds === null || accountIds.includes(account.accountId));
        expect([...client.accounts.keys()].sort()).toEqual(expected.map((account) => account.accountId).sort());
        for (const account of expected) {
          const seen = client.accounts.get(account.accountId)!;
          const pick = (view: AccountView) => ({
            tradingState: view.tradingState,
            breakers: view.breakers,
            vetoes: view.vetoes,
            sideLocks: view.sideLocks,
            positions: view.positions,
            balanceUsd: view.balanceUsd,
            equityUsd: view.equityUsd,
            dailyDrawdownPct: view.dailyDrawdownPct,
            decisions: view.decisions,
          });
          expect(pick(seen), `the client's view of ${account.accountId} at seq ${client.last}`).toEqual(pick(account));
          expect(seen, `the whole view of ${account.accountId}`).toEqual(account);
        }
        expect(client.firm).toEqual(firm.firm);
        return;
      }
    }

    /** Every event and decision after the first snapshot arrived once: the ledger's, in full. */
    async function coverageMatches(client: Follower, visible: (record: LedgerRecord) => boolean): Promise<void> {
      expect(client.gaps).toEqual([]);
      expect(client.duplicates).toEqual([]);
      const expected = (await nonMarketLedger(client.since!, client.last)).filter(visible);
      const received = [...client.events.values()].sort((a, b) => a.seq - b.seq);
      expect(received.map((record) => record.seq)).toEqual(expected.map((record) => record.seq));
      expect(received).toEqual(expected);
      const decisions = [...client.decisions.values()].filter((record) => record.seq > client.since!).sort((a, b) => a.seq - b.seq);
      expect(decisions.map((record) => record.seq)).toEqual(expected.filter((record) => record.event.type === "intent.decided").map((record) => record.seq));
      for (const record of decisions) {
        const ledgered = expected.find((candidate) => candidate.seq === record.seq)!;
        expect(ledgered.event).toMatchObject({ type: "intent.decided", decision: record.decision });
      }
      // Each message's events lie within its own range, and none is market data.
      for (const change of client.changes) {
        for (const record of change.events) {
          expect(record.seq).toBeGreaterThanOrEqual(change.fromSeq);
          expect(record.seq).toBeLessThanOrEqual(change.toSeq);
          expect(record.event.type.startsWith("market.")).toBe(false);
        }
      }
    }

    it("catches a client up from its last seq: no gap, no duplicate, and its view ends as the server's", async () => {
      await ok("POST", "/api/v1/market", EURUSD_TICK);
      // A position, so that ticks move equity.
      await ok("POST", "/api/v1/executions", { fills: [{ accountId: ACCOUNT, symbol: "EURUSD", side: "BUY", quantity: 1, price: 1.085 }] });

      const client = follower();
      await client.connect(server.url, { token: ADMIN_TOKEN });
      expect(client.firstMessages[0]!.kind).toBe("snapshot");
      expect(client.last).toBe(await serverSeq());

      // Connected: a decision and a tick arrive live.
      expect((await decide("rc-live-1")).outcome).toBe("allowed");
      await tick(1.0852);
      const seqBefore = await serverSeq();
      await until(() => client.last >= seqBefore, () => `the client at ${client.last}, the server at ${seqBefore}`);
      client.disconnect();
      const away = client.last;

      // Away: a trip and a reset with reasons, allowed and denied intents, a symbol lock, ticks.
      await ok("POST", `/api/v1/accounts/${ACCOUNT}/breakers/manual/trip`, { reason: "away: desk halt" });
      expect(await decide("rc-away-halted")).toMatchObject({ outcome: "denied", reason: "trading_halted" });
      await ok("POST", `/api/v1/accounts/${ACCOUNT}/breakers/manual/reset`, { reason: "away: desk resumes" });
      await tick(1.0854);
      for (const id of ["rc-away-1", "rc-away-2", "rc-away-3"]) expect((await decide(id)).outcome).toBe("allowed");
      expect(await decide("rc-away-nope", { symbol: "NOPE" })).toMatchObject({ outcome: "denied", reason: "unknown_instrument" });
      await ok("POST", `/api/v1/accounts/${ACCOUNT}/vetoes`, { symbol: "EURUSD", reason: "away: news lock" });
      expect(await decide("rc-away-locked")).toMatchObject({ outcome: "denied", reason: "symbol_locked" });
      expect((await decide("rc-away-other", { accountId: OTHER })).outcome).toBe("allowed");
      await tick(1.0856);
      await tick(1.0858);
      const missed = await serverSeq();

      await client.connect(server.url, { token: ADMIN_TOKEN, lastSeq: away });
      const catchUp = client.firstMessages[1]!;
      expect(catchUp.kind).toBe("change");
      expect((catchUp.message as ChangeMessage).fromSeq).toBe(away + 1);
      expect((catchUp.message as ChangeMessage).toSeq).toBeGreaterThanOrEqual(missed);
      const reasons = [...client.events.values()].filter((record) => record.seq > away).map((record) => record.event);
      expect(reasons).toContainEqual(expect.objectContaining({ type: "breaker.tripped", reason: "away: desk halt" }));
      expect(reasons).toContainEqual(expect.objectContaining({ type: "breaker.reset", reason: "away: desk resumes" }));
      expect(reasons).toContainEqual(expect.objectContaining({ type: "veto.added", symbol: "EURUSD" }));

      // Back: the lock is lifted, another decision, and prices move (equity-only changes).
      await ok("POST", `/api/v1/accounts/${ACCOUNT}/vetoes/EURUSD/unlock`, { reason: "back: news passed" });
      expect((await decide("rc-back-1")).outcome).toBe("allowed");
      await tick(1.0861);
      await tick(1.0863);

      await settledViewMatches(client, null);
      await coverageMatches(client, () => true);
      expect(client.snapshots).toHaveLength(1);
      const decided = [...client.decisions.values()].map((record) => record.decision.intentId);
      for (const id of ["rc-live-1", "rc-away-halted", "rc-away-1", "rc-away-nope", "rc-away-locked", "rc-away-other", "rc-back-1"]) {
        expect(decided.filter((intentId) => intentId === id), id).toHaveLength(1);
      }
      client.disconnect();
    });

    it("streams a price move of a held symbol to a connected client, as an equity-only change", async () => {
      await tick(1.085);
      await ok("POST", "/api/v1/executions", { fills: [{ accountId: OTHER, symbol: "EURUSD", side: "BUY", quantity: 1, price: 1.085 }] });
      const client = follower();
      await client.connect(server.url, { token: ADMIN_TOKEN });
      const before = client.accounts.get(OTHER)!.equityUsd;

      await tick(1.0875);
      const { seq, account } = await ok("GET", `/api/v1/accounts/${OTHER}`);
      expect(account.equityUsd).toBeGreaterThan(before);
      await until(() => client.last >= seq, () => `the client at ${client.last}, the server at ${seq}`);
      await until(
        () => client.accounts.get(OTHER)!.equityUsd === account.equityUsd,
        () => `${OTHER} equity: the client has ${client.accounts.get(OTHER)!.equityUsd} at seq ${client.last}, the server ${account.equityUsd} at seq ${seq}`,
        2_000,
      );
      client.disconnect();
    });

    it("sends a snapshot to a client whose last seq is ahead of the server's, and nothing new to one that is current", async () => {
      const seq = await serverSeq();
      const ahead = follower();
      await ahead.connect(server.url, { token: ADMIN_TOKEN, lastSeq: seq + 1000 });
      expect(ahead.firstMessages[0]!.kind).toBe("snapshot");
      expect(ahead.last).toBe(seq);
      expect(ahead.accounts.has(ACCOUNT)).toBe(true);
      ahead.disconnect();

      const current = follower();
      await current.connect(server.url, { token: ADMIN_TOKEN, lastSeq: seq });
      expect(current.firstMessages[0]).toMatchObject({ kind: "change", message: { fromSeq: seq + 1, toSeq: seq, events: [], decisions: [] } });
      current.disconnect();
    });

    it("shows a scoped viewer only its account's events, decisions and views, live and on catch-up", async () => {
      const created = await ok("POST", "/api/v1/tokens", { name: "reconnect viewer", role: "viewer", accounts: [ACCOUNT] });
      const token = created.token as string;
      await tick(1.0863);
      await decide("sc-mine-0");
      const viewer = follower();
      await viewer.connect(server.url, { token });
      expect(viewer.firstMessages[0]!.kind).toBe("snapshot");
      const snapshot = viewer.snapshots[0]!;
      expect(snapshot.accounts.map((account) => account.accountId)).toEqual([ACCOUNT]);
      expect(snapshot.decisions.length).toBeGreaterThan(0);
      expect(snapshot.decisions.every((record) => record.decision.accountId === ACCOUNT)).toBe(true);

      // Live: its own account and the others, and the firm.
      await ok("POST", `/api/v1/accounts/${OTHER}/breakers/manual/trip`, { reason: "scoped: other halt" });
      await decide("sc-other-1", { accountId: OTHER });
      await decide("sc-third-1", { accountId: THIRD });
      await decide("sc-mine-1");
      await ok("POST", `/api/v1/accounts/${THIRD}/vetoes`, { symbol: "GBPUSD", reason: "scoped: third lock" });
      await ok("POST", "/api/v1/firm/halt", { reason: "scoped: firm halt" });
      await decide("sc-mine-halted");
      await ok("POST", "/api/v1/firm/resume", { reason: "scoped: firm resume" });
      const live = await serverSeq();
      await until(() => viewer.last >= live, () => `the viewer at ${viewer.last}, the server at ${live}`);
      viewer.disconnect();
      const away = viewer.last;

      // Away: more on every account.
      await ok("POST", `/api/v1/accounts/${OTHER}/breakers/manual/reset`, { reason: "scoped: other resumes" });
      await decide("sc-other-2", { accountId: OTHER });
      await ok("POST", `/api/v1/accounts/${ACCOUNT}/breakers/manual/trip`, { reason: "scoped: mine halt" });
      await decide("sc-mine-2");
      await ok("POST", `/api/v1/accounts/${ACCOUNT}/breakers/manual/reset`, { reason: "scoped: mine resumes" });
      await ok("POST", `/api/v1/accounts/${THIRD}/vetoes/GBPUSD/unlock`, { reason: "scoped: third unlock" });
      await tick(1.0865);

      await viewer.connect(server.url, { token, lastSeq: away });
      expect(viewer.firstMessages[1]).toMatchObject({ kind: "change", message: { fromSeq: away + 1 } });
      await decide("sc-third-2", { accountId: THIRD });
      await decide("sc-mine-3");
      await tick(1.0867);

      await settledViewMatches(viewer, [ACCOUNT]);
      const mine = (record: LedgerRecord) => [ACCOUNT, "firm"].includes(streamOf(record.event));
      await coverageMatches(viewer, mine);

      // Nothing of another account, anywhere.
      for (const change of viewer.changes) {
        expect(change.events.filter((record) => !mine(record))).toEqual([]);
        expect(change.decisions.filter((record) => record.decision.accountId !== ACCOUNT)).toEqual([]);
        expect(change.accounts.filter((account) => account.accountId !== ACCOUNT)).toEqual([]);
      }
      const types = [...viewer.events.values()].map((record) => record.event.type);
      expect(types).toEqual(expect.arrayContaining(["firm.halted", "firm.resumed", "breaker.tripped", "breaker.reset"]));
      const decided = [...viewer.decisions.values()].map((record) => record.decision.intentId);
      expect(decided).toEqual(expect.arrayContaining(["sc-mine-1", "sc-mine-halted", "sc-mine-2", "sc-mine-3"]));
      expect(decided.filter((id) => id.startsWith("sc-other") || id.startsWith("sc-third"))).toEqual([]);
      viewer.disconnect();
    });

    it("refuses a socket without credentials, or with a wrong token", async () => {
      for (const auth of [{}, { token: "rg_not_a_token_0123456789abcdef" }]) {
        const socket: ClientSocket = io(server.url, { transports: ["websocket"], forceNew: true, reconnection: false, auth });
        try {
          const error = await new Promise<Error>((resolve, reject) => {
            socket.once("connect_error", resolve);
            socket.once("snapshot", () => reject(new Error("an unauthenticated socket got a snapshot")));
            socket.once("connect", () => reject(new Error("an unauthenticated socket connected")));
          });
          expect(error.message).toMatch(/unauthenticated/);
        } finally {
          socket.close();
        }
      }
    });
  });
}
