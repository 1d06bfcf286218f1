import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { DEMO_ACCOUNT, sampleIntent } from "../fixtures";
import type { RunningServer, TestDatabase } from "./harness";
import {
  ADMIN_TOKEN,
  adminAuth,
  api,
  databasesUnderTest,
  engineConfigFile,
  root,
  startServer,
  tempDir,
} from "./harness";

/**
 * Crash safety: the server is killed with SIGKILL at a random moment while concurrent clients
 * are submitting intents, again and again on the same database. An intent answered 200 was
 * committed before the answer, so after the last restart every acknowledged decision must be in
 * the ledger exactly once, at the seq it was answered with, and the ledger must replay.
 */

const RESTARTS = 20;
const CLIENTS = 12;
const KILL_AFTER_MS = { min: 200, max: 1500 };
/** Accounts the load spreads over (opened by RISKGATE_DEMO=accounts). */
const ACCOUNTS = [DEMO_ACCOUNT, "demo-e8-50k", "demo-inst-1m"];

// Decisions under load must not all be throttle denials. A state snapshot every 100 events (the
// least allowed): restarts start from snapshots, and some kills land while one is being written.
const loadEnv = {
  RISKGATE_ENGINE_CONFIG: engineConfigFile({ guards: { throttle: { maxIntentsPerSecond: 100_000 } } }),
  RISKGATE_SNAPSHOT_EVERY: "100",
};

type Intent = ReturnType<typeof sampleIntent>;
type Decision = { intentId: string; accountId: string; outcome: "allowed" | "denied"; [field: string]: unknown };
type LedgerEvent = { type: string; intent?: Intent; decision?: Decision };
type LedgerRecord = { seq: number; recordedAt: number; event: LedgerEvent };
type Ack = { intent: Intent; seq: number; decision: Decision };

const keyOf = (accountId: string, intentId: string) => `${accountId}/${intentId}`;

/** mulberry32: the run is reproducible from its seed (printed, and taken from CRASH_SEED). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const databases = await databasesUnderTest("the crash test");

/** Reads the whole ledger through the API, page by page. */
async function readLedger(url: string): Promise<LedgerRecord[]> {
  const records: LedgerRecord[] = [];
  let afterSeq = 0;
  for (;;) {
    const page = await api(url, "GET", `/api/v1/ledger?afterSeq=${afterSeq}&limit=1000`);
    expect(page.status).toBe(200);
    records.push(...(page.body!.events as LedgerRecord[]));
    if (page.body!.nextAfterSeq === null) return records;
    afterSeq = page.body!.nextAfterSeq as number;
  }
}

/** What one round of load saw: answers, in-flight requests at the kill, unexpected statuses. */
type Round = { killAfterMs: number; sent: number; acknowledged: number; inFlightAtKill: number; otherStatuses: string[] };

/**
 * Drives CLIENTS concurrent clients (intents with unique ids, now and then a tick) against
 * `server` and kills it with SIGKILL after `killAfterMs`, while requests are in flight.
 */
async function loadThenKill(server: RunningServer, round: number, killAfterMs: number, next: () => number, submitted: Map<string, Intent>, acks: Map<string, Ack>): Promise<Round> {
  const result: Round = { killAfterMs, sent: 0, acknowledged: 0, inFlightAtKill: 0, otherStatuses: [] };
  let inFlight = 0;
  let killed = false;
  const post = async (route: string, body: unknown) => {
    inFlight++;
    try {
      const response = await fetch(`${server.url}${route}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN_TOKEN}` },
        body: JSON.stringify(body),
      });
      // A body cut off by the kill throws here: not an answer.
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    } finally {
      inFlight--;
    }
  };
  const tick = () => post("/api/v1/market", { ticks: [{ symbol: "EURUSD", price: Number((1.0849 + next() * 0.0002).toFixed(5)) }] });

  const first = await tick();
  expect(first.status).toBe(200);

  const client = async (clientIndex: number) => {
    for (let n = 0; !killed; n++) {
      try {
        if (next() < 0.05) {
          const answer = await tick();
          if (answer.status !== 200) result.otherStatuses.push(`tick ${answer.status}`);
          continue;
        }
        const roll = next();
        const overrides: Record<string, unknown> = {
          accountId: ACCOUNTS[Math.floor(next() * ACCOUNTS.length)]!,
          side: next() < 0.5 ? "BUY" : "SELL",
          quantity: 1 + Math.floor(next() * 3),
        };
        // Some decisions are denials: an unknown instrument, an exit with nothing to close.
        if (roll < 0.05) overrides.symbol = "NOPE";
        else if (roll < 0.1) overrides.action = "CLOSE";
        const intent = sampleIntent(`crash-r${round}-c${clientIndex}-${n}`, overrides);
        const key = keyOf(intent.accountId, intent.intentId);
        submitted.set(key, intent);
        result.sent++;
        const answer = await post("/api/v1/intents", intent);
        if (answer.status === 200) {
          acks.set(key, { intent, seq: answer.body.seq as number, decision: answer.body.decision as Decision });
          result.acknowledged++;
        } else {
          result.otherStatuses.push(`intent ${answer.status} ${JSON.stringify(answer.body)}`);
        }
      } catch {
        // The server is gone (or going): this request has no answer.
        if (killed) return;
      }
    }
  };

  const clients = Array.from({ length: CLIENTS }, (_, index) => client(index));
  await delay(killAfterMs);
  result.inFlightAtKill = inFlight;
  killed = true;
  await server.stop("SIGKILL");
  await Promise.all(clients);
  return result;
}

for (const database of databases) {
  describe.skipIf(database.skip)(`kill -9 under load on ${database.name}`, () => {
    let db: TestDatabase | undefined;
    let server: RunningServer | undefined;

    afterAll(async () => {
      await server?.stop("SIGKILL");
      await db?.cleanup();
    });

    it("keeps every acknowledged decision, exactly once and at its seq, across 20 kills, and the ledger replays", { timeout: 300_000 }, async () => {
      const seed = Number(process.env.CRASH_SEED ?? Date.now() % 1_000_000);
      const next = random(seed);
      db = await database.create();
      const env = { ...db.env, ...loadEnv };
      const started = performance.now();
      const submitted = new Map<string, Intent>();
      const acks = new Map<string, Ack>();
      const rounds: Round[] = [];
      let startMs = 0;

      for (let round = 0; round < RESTARTS; round++) {
        const starting = performance.now();
        server = await startServer(env);
        startMs += performance.now() - starting;
        const killAfterMs = KILL_AFTER_MS.min + Math.floor(next() * (KILL_AFTER_MS.max - KILL_AFTER_MS.min));
        rounds.push(await loadThenKill(server, round, killAfterMs, next, submitted, acks));
      }

      server = await startServer(env);
      const ledger = await readLedger(server.url);

      // Seqs strictly increase (PostgreSQL may skip some after a crash; it never repeats one).
      const seqs = ledger.map((record) => record.seq);
      for (let index = 1; index < seqs.length; index++) expect(seqs[index]).toBeGreaterThan(seqs[index - 1]!);

      // Every intent is received once and decided once, its decision right after its receipt.
      const received = new Map<string, LedgerRecord[]>();
      const decided = new Map<string, LedgerRecord[]>();
      let open: string | null = null;
      for (const record of ledger) {
        const { event } = record;
        if (event.type === "intent.received") {
          const key = keyOf(event.intent!.accountId, event.intent!.intentId);
          received.set(key, [...(received.get(key) ?? []), record]);
          open = key;
        } else if (event.type === "intent.decided") {
          const key = keyOf(event.decision!.accountId, event.decision!.intentId);
          decided.set(key, [...(decided.get(key) ?? []), record]);
          expect(key, `the decision at seq ${record.seq} follows the receipt of its intent`).toBe(open);
          open = null;
        }
      }
      expect(open, "no intent is received without its decision").toBeNull();
      const twice = [...received].filter(([, records]) => records.length > 1).map(([key]) => key);
      expect(twice, "intentIds received more than once").toEqual([]);
      expect([...decided].filter(([, records]) => records.length > 1).map(([key]) => key), "intentIds decided more than once").toEqual([]);
      expect(decided.size).toBe(received.size);

      // Every acknowledged decision is there, at its seq, the same decision.
      const lost: string[] = [];
      const different: string[] = [];
      for (const [key, ack] of acks) {
        const records = decided.get(key);
        if (!records) {
          lost.push(key);
          continue;
        }
        const record = records[0]!;
        if (record.seq !== ack.seq || !isDeepStrictEqual(record.event.decision, ack.decision)) {
          different.push(`${key}: answered seq ${ack.seq} ${JSON.stringify(ack.decision)}, ledger seq ${record.seq} ${JSON.stringify(record.event.decision)}`);
        }
        expect(received.get(key)![0]!.event.intent).toEqual(ack.intent);
      }
      expect(lost, "acknowledged intents missing from the ledger").toEqual([]);
      expect(different, "acknowledged decisions that differ from the ledger").toEqual([]);
      const unacknowledgedCommitted = [...decided.keys()].filter((key) => submitted.has(key) && !acks.has(key));
      const unknown = [...decided.keys()].filter((key) => key.includes("/crash-") && !submitted.has(key));
      expect(unknown, "decisions for intents nobody sent").toEqual([]);

      // Nothing but 200s came back while the server was up.
      expect(rounds.flatMap((round) => round.otherStatuses)).toEqual([]);
      // The kills did land while requests were in flight.
      expect(rounds.filter((round) => round.inFlightAtKill > 0).length).toBeGreaterThan(RESTARTS / 2);

      // The export replays with every decision reproduced.
      const exported = await fetch(`${server.url}/api/v1/ledger/export`, { headers: adminAuth });
      expect(exported.status).toBe(200);
      const file = path.join(tempDir("riskgate-crash-export-"), "ledger.ndjson");
      fs.writeFileSync(file, await exported.text());
      const replayed = spawnSync(process.execPath, ["--import", "tsx", "server/cli/replay.ts", file], { cwd: root, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
      expect(replayed.stdout + replayed.stderr).toContain("mismatches: 0");
      expect(replayed.stdout).toContain(`decisions: ${decided.size}`);
      expect(replayed.stdout).toContain(`events: ${ledger.length}`);
      expect(replayed.status).toBe(0);
      // spawnSync held this process's loop for seconds: let the HTTP pool see that the server
      // closed its idle keep-alive connections meanwhile, or the next call may go out on one (CI
      // saw "other side closed").
      await new Promise((resolve) => setTimeout(resolve, 100));

      // After the restart a retry is answered from the ledger: the first decision, marked replayed.
      const ackedKeys = [...acks.keys()];
      const sample = Array.from({ length: Math.min(60, ackedKeys.length) }, () => ackedKeys[Math.floor(next() * ackedKeys.length)]!);
      for (const key of [...sample, ...unacknowledgedCommitted.slice(0, 20)]) {
        const intent = acks.get(key)?.intent ?? submitted.get(key)!;
        const retried = await api(server.url, "POST", "/api/v1/intents", intent);
        expect(retried.status, key).toBe(200);
        expect(retried.headers.get("idempotent-replayed"), key).toBe("true");
        const record = decided.get(key)![0]!;
        expect(retried.body, key).toEqual({ seq: record.seq, decision: record.event.decision });
      }

      // An intent that was never committed is decided afresh, not answered as a replay.
      const neverCommitted = [...submitted.keys()].filter((key) => !decided.has(key)).slice(0, 10);
      for (const key of neverCommitted) {
        const fresh = await api(server.url, "POST", "/api/v1/intents", submitted.get(key)!);
        expect(fresh.status, key).toBe(200);
        expect(fresh.headers.get("idempotent-replayed"), key).toBeNull();
        expect(fresh.body!.decision.intentId).toBe(submitted.get(key)!.intentId);
      }

      const seqGaps = seqs.filter((seq, index) => index > 0 && seq !== seqs[index - 1]! + 1).length;
      const durationS = ((performance.now() - started) / 1000).toFixed(1);
      const inFlight = rounds.reduce((sum, round) => sum + round.inFlightAtKill, 0);
      console.log(
        `crash on ${database.name} (seed ${seed}): ${RESTARTS} restarts, ${submitted.size} sent, ${acks.size} acknowledged, ` +
          `${acks.size - lost.length} of them in the ledger, ${unacknowledgedCommitted.length} unacknowledged but committed, ` +
          `${inFlight} requests in flight at the kills, ${received.size} intents and ${ledger.length} events in the ledger (${seqGaps} seq gaps); ` +
          `server start ${(startMs / RESTARTS / 1000).toFixed(1)} s on average, ${durationS} s in all; last start: ${/state rebuilt[^\n]*/.exec(server.output())?.[0] ?? "?"}`,
      );
    });
  });
}

