import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "@/server/config";
import type { Database } from "@/server/db/database";
import { migrate } from "@/server/db/migrate";
import { EngineConfig } from "@/server/engine/config";
import { AccountId, SymbolId } from "@/server/engine/ids";
import { Intent } from "@/server/engine/intent";
import { AccountSpec } from "@/server/engine/types";
import { Ledger, LedgerWriter } from "@/server/ledger";
import type { Reviewer } from "@/server/reviewer";
import { Runtime } from "@/server/runtime";
import { openEmbeddedTestDatabase } from "./harness";

/**
 * Slow, optional work stays out of the commit queue: a slow reviewer delays only its own
 * intent, and replays for `explain` run beside the decisions, not in front of them.
 */

const SLOW = AccountId.parse("slow-1");
const FAST = AccountId.parse("fast-1");
const EURUSD = SymbolId.parse("EURUSD");

let db: Database | null = null;
let writer: LedgerWriter | null = null;
afterEach(async () => {
  await writer?.close();
  await db?.close();
  db = null;
  writer = null;
});

/** Takes `slowMs` to judge intents of the slow account, no time for the others; never vetoes. */
function reviewer(slowMs: number): Reviewer {
  return {
    name: "test",
    review: (request, signal) =>
      new Promise((resolve, reject) => {
        const verdict = { veto: false, killReason: null, riskFlags: [] };
        if (request.intent.accountId !== SLOW) return resolve(verdict);
        const timer = setTimeout(() => resolve(verdict), slowMs);
        signal.addEventListener("abort", () => (clearTimeout(timer), reject(new Error("aborted"))));
      }),
  };
}

async function start(options: { reviewer?: Reviewer } = {}): Promise<Runtime> {
  db = await openEmbeddedTestDatabase();
  await migrate(db);
  writer = await LedgerWriter.acquire(db);
  const base = loadConfig({}).engine;
  const config = EngineConfig.parse({ ...base, guards: { ...base.guards, reviewer: { ...base.guards.reviewer, enabled: true, timeoutMs: 20_000 } } });
  const runtime = await Runtime.load(new Ledger(db, writer), config, Date.now, { reviewer: options.reviewer ?? null });
  for (const accountId of [SLOW, FAST]) {
    await runtime.openAccount(AccountSpec.parse({ accountId, name: accountId, presetId: "p", initialBalanceUsd: 100_000 }), "test");
  }
  await runtime.recordMarket([{ kind: "tick", symbol: EURUSD, price: 1.085 }]);
  return runtime;
}

const intent = (accountId: AccountId, intentId: string) =>
  Intent.parse({ intentId, accountId, symbol: "EURUSD", action: "OPEN", side: "BUY", quantity: 1, slPrice: 1.08, provenance: { runId: "r", strategyId: "s", regimeId: "g" } });

describe("slow work outside the commit queue", () => {
  it("decides another account's intent while a slow reviewer judges the first one", async () => {
    const runtime = await start({ reviewer: reviewer(3_000) });
    const slow = runtime.submitIntent(intent(SLOW, "slow-a"));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = performance.now();
    const fast = await runtime.submitIntent(intent(FAST, "fast-a"));
    const fastMs = performance.now() - started;
    expect(fast.decision.outcome).toBe("allowed");
    expect(fastMs, "the other account's intent waited for the slow review").toBeLessThan(1_000);
    const judged = await slow;
    expect(judged.decision.outcome).toBe("allowed");
    expect(judged.seq).toBeGreaterThan(fast.seq);
    // Both verdicts are on the ledger, each just before its own decision.
    const types = (await runtime.readLedger(0, 1_000)).map((record) => record.event.type);
    expect(types.filter((type) => type === "reviewer.verdict")).toHaveLength(2);
  }, 20_000);
});
