import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { replay } from "@/server/engine/replay";
import { fromNdjsonLine } from "@/server/event-format";
import { DEMO_ACCOUNT, presetFixture, sampleIntent } from "../fixtures";
import type { RunningServer, TestDatabase } from "./harness";
import { api, adminAuth, databasesUnderTest, engineConfigFile, startServer } from "./harness";

/**
 * Guard 18 with the rule reviewer on a real server: a reviewed intent carries its deal memo
 * (chaos, stress, hedges), recorded before the verdict; an oversized one is vetoed with the
 * reviewer's reasons; the explanation returns the memo; replay reproduces every decision without
 * calling out. An account whose preset asks for the memo after the decision gets it as an event
 * of its own, after the answer.
 */

// The firm's rules: the reviewer on (the demo presets leave it to the firm), fewer chaos paths for speed.
const reviewed = {
  RISKGATE_ENGINE_CONFIG: engineConfigFile({
    guards: { throttle: { maxIntentsPerSecond: 1000 }, reviewer: { enabled: true, timeoutMs: 20_000, advisory: { chaos: { paths: 2_000 } } } },
  }),
};

const databases = await databasesUnderTest("the advisory suite", reviewed);

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** 80 one-minute bars of EURUSD and US500 ending a minute ago, a seeded walk, then fresh ticks. */
function history() {
  let seed = 7;
  const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31) - 0.5;
  const start = Date.now() - 81 * 60_000;
  let eurusd = 1.085;
  let us500 = 5_200;
  const bars: Json[] = [];
  for (let n = 0; n < 80; n++) {
    const closedAt = new Date(start + n * 60_000).toISOString();
    const [openE, openU] = [eurusd, us500];
    eurusd *= 1 + random() * 0.002;
    us500 *= 1 + random() * 0.004;
    bars.push({ symbol: "EURUSD", closedAt, open: openE, high: Math.max(openE, eurusd), low: Math.min(openE, eurusd), close: eurusd, volume: 1_000 });
    bars.push({ symbol: "US500", closedAt, open: openU, high: Math.max(openU, us500), low: Math.min(openU, us500), close: us500, volume: 1_000 });
  }
  return { bars, ticks: [{ symbol: "EURUSD", price: eurusd }, { symbol: "US500", price: us500 }], eurusd };
}

for (const database of databases) {
  describe.skipIf(database.skip)(`the deal memo and the rule reviewer on ${database.name}`, () => {
    let db: TestDatabase;
    let server: RunningServer;
    let price = 1.085;
    const call = (method: string, route: string, body?: unknown) => api(server.url, method, route, body);
    const events = async () => (await call("GET", `/api/v1/ledger?afterSeq=0&limit=1000&accountId=${DEMO_ACCOUNT}`)).body!.events as { seq: number; event: Json }[];

    beforeAll(async () => {
      db = await database.create();
      server = await startServer(db.env);
      const { bars, ticks, eurusd } = history();
      price = eurusd;
      expect((await call("POST", "/api/v1/market", { bars })).status).toBe(200);
      expect((await call("POST", "/api/v1/market", { ticks })).status).toBe(200);
    });

    afterAll(async () => {
      await server?.stop("SIGTERM");
      await db?.cleanup();
    });

    it("records the memo before the reviewer's verdict and answers it with the decision", async () => {
      const answer = await call("POST", "/api/v1/intents", sampleIntent("memo-small", { quantity: 0.1, referencePrice: price }));
      expect(answer.status).toBe(200);
      expect(answer.body!.memo).toMatchObject({ intentId: "memo-small", currency: "USD", chaos: { status: "ran" }, stress: { status: "ran" } });
      expect(answer.body!.memo.chaos.report.byPathType).toHaveProperty("flash_crash");
      const mine = (await events()).filter(({ event }) => event.intentId === "memo-small" || event.intent?.intentId === "memo-small" || event.decision?.intentId === "memo-small");
      expect(mine.map(({ event }) => event.type)).toEqual(["intent.received", "advisory.memo", "reviewer.verdict", "intent.decided"]);
      expect(mine[2]!.event.outcome).toMatchObject({ status: "verdict", reviewer: "rule" });
    });

    it("vetoes an oversized entry with the reviewer's reasons, and explains it with its memo", async () => {
      const answer = await call("POST", "/api/v1/intents", sampleIntent("memo-huge", { quantity: 40, referencePrice: price }));
      expect(answer.body!.decision).toMatchObject({ outcome: "denied", guard: "reviewer", reason: "reviewer_veto" });
      expect(String(answer.body!.decision.observed)).toMatch(/ruin rate|stress/);
      const explained = await call("GET", `/api/v1/decisions/${answer.body!.seq}/explain?accountId=${DEMO_ACCOUNT}`);
      expect(explained.status).toBe(200);
      expect(explained.body).toMatchObject({ reproduced: true, memo: { intentId: "memo-huge", chaos: { status: "ran" } } });
    });

    it("works out a EUR account's memo in euros: its EURUSD position converted at the engine's rate", async () => {
      const opened = await call("POST", "/api/v1/accounts", { accountId: "memo-eur", name: "Euro 100K", presetId: "ftmo-2step-100k", initialBalanceUsd: 100_000, currency: "EUR" });
      expect(opened.status).toBe(201);
      const answer = await call("POST", "/api/v1/intents", sampleIntent("memo-eur-1", { accountId: "memo-eur", quantity: 0.1, referencePrice: price }));
      expect(answer.status).toBe(200);
      const memo = answer.body!.memo;
      expect(memo).toMatchObject({ currency: "EUR", position: { quoteCurrency: "USD" }, stress: { status: "ran" } });
      // 0.1 lot (10,000 EUR of EURUSD) at `price` dollars a euro: 10,000 × price USD, at 1 / price euros a dollar, 10,000 EUR.
      expect(memo.position.accountPerQuote).toBeCloseTo(1 / price, 12);
      expect(memo.stress.report.notional).toBeCloseTo(10_000, 6);
      expect(memo.chaos.report.distanceToDailyFloor).toBe(5_000);
    });

    it("replays every reviewed decision from the ledger without calling the reviewer", async () => {
      const response = await fetch(`${server.url}/api/v1/ledger/export`, { headers: adminAuth });
      const records = (await response.text()).split("\n").filter(Boolean).map(fromNdjsonLine);
      const result = replay(records);
      expect(result.decisions).toBeGreaterThanOrEqual(2);
      expect(result.mismatches).toEqual([]);
    });

    it("records the memo after the decision for an account whose preset asks for it with the reviewer off", async () => {
      const preset = { ...presetFixture("memo-after"), rules: { guards: { reviewer: { enabled: false, memo: "after_decision", advisory: { chaos: { paths: 1_000 } } } } } };
      expect((await call("POST", "/api/v1/presets", { preset, note: "memo after the decision" })).status).toBe(201);
      expect((await call("POST", "/api/v1/accounts", { accountId: "memo-after-1", name: "Memo after", presetId: "memo-after", initialBalanceUsd: 100_000 })).status).toBe(201);
      const answer = await call("POST", "/api/v1/intents", sampleIntent("memo-later", { accountId: "memo-after-1", quantity: 0.1, referencePrice: price }));
      expect(answer.body!.decision.outcome).toBe("allowed");
      expect(answer.body!.memo).toBeUndefined();
      let memo: Json = null;
      for (let attempt = 0; attempt < 100 && !memo; attempt++) {
        const page = await call("GET", "/api/v1/ledger?afterSeq=0&limit=1000&accountId=memo-after-1");
        memo = page.body!.events.find(({ event }: Json) => event.type === "advisory.memo")?.event ?? null;
        if (!memo) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(memo).toMatchObject({ intentId: "memo-later", memo: { chaos: { status: "ran" } } });
      const decided = (await call("GET", "/api/v1/decisions?accountId=memo-after-1&limit=1")).body!.decisions[0];
      expect((await call("GET", `/api/v1/decisions/${decided.seq}/explain?accountId=memo-after-1`)).body!.memo).toMatchObject({ intentId: "memo-later" });
    });
  });
}
