import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "@/server/config";
import type { Database } from "@/server/db/database";
import { migrate } from "@/server/db/migrate";
import type { Decision } from "@/server/engine/types";
import { AccountSpec } from "@/server/engine/types";
import { AccountId, SymbolId } from "@/server/engine/ids";
import { Intent } from "@/server/engine/intent";
import { AppError } from "@/server/errors";
import type { AppendEntry, LedgerRecord } from "@/server/ledger";
import { Ledger, LedgerWriter } from "@/server/ledger";
import type { RuntimeMetrics } from "@/server/metrics";
import { Runtime } from "@/server/runtime";
import { openEmbeddedTestDatabase } from "./harness";

/**
 * The group commit pipeline: while one batch commits, the next is decided against the pending
 * state; nothing is answered before its own commit, and a failed commit fails every batch
 * decided on top of it. A real ledger whose appends the test holds at a gate.
 */

class GatedLedger extends Ledger {
  private opened: (() => void) | null = null;
  private gate: Promise<void> = Promise.resolve();
  failNext = false;
  appendsStarted = 0;

  /** Holds every append from now on at the gate; counts them from zero. */
  hold(): void {
    this.appendsStarted = 0;
    this.gate = new Promise((resolve) => (this.opened = resolve));
  }

  release(): void {
    this.opened?.();
  }

  override async append(entries: readonly AppendEntry[]): Promise<LedgerRecord[]> {
    this.appendsStarted++;
    await this.gate;
    if (this.failNext) {
      this.failNext = false;
      throw new AppError("storage_unavailable", "the ledger is unavailable (append); nothing was recorded");
    }
    return super.append(entries);
  }
}

/** Counts the intents the runtime has decided (its evaluation metric), committed or not. */
class Decided implements RuntimeMetrics {
  count = 0;
  observeEvaluation(): void {
    this.count++;
  }
  observeAppend(): void {}
  countDecision(): void {}
}

const ACCOUNT = AccountId.parse("gc-1");
const EURUSD = SymbolId.parse("EURUSD");

let db: Database | null = null;
let writer: LedgerWriter | null = null;
afterEach(async () => {
  await writer?.close();
  await db?.close();
  db = null;
  writer = null;
});

async function start(existing?: Database): Promise<{ runtime: Runtime; ledger: GatedLedger; decided: Decided }> {
  db = existing ?? (await openEmbeddedTestDatabase());
  if (!existing) await migrate(db);
  writer = await LedgerWriter.acquire(db);
  const ledger = new GatedLedger(db, writer);
  const decided = new Decided();
  const runtime = await Runtime.load(ledger, loadConfig({}).engine, Date.now, { metrics: decided });
  if (!existing) await runtime.openAccount(AccountSpec.parse({ accountId: ACCOUNT, name: "GC", presetId: "p", initialBalanceUsd: 100_000 }), "test");
  return { runtime, ledger, decided };
}

const intent = (intentId: string) =>
  Intent.parse({ intentId, accountId: ACCOUNT, symbol: "EURUSD", action: "OPEN", side: "BUY", quantity: 1, provenance: { runId: "r", strategyId: "s", regimeId: "g" } });

async function until(condition: () => boolean): Promise<void> {
  for (let turn = 0; !condition(); turn++) {
    if (turn > 2_000) throw new Error("the condition never held");
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

async function ledgerOf(runtime: Runtime): Promise<LedgerRecord[]> {
  return runtime.readLedger(0, 10_000);
}

describe("the group commit", () => {
  it("decides the next batch against the pending state while the previous one commits, and answers each only after its own commit", async () => {
    const { runtime, ledger, decided } = await start();
    ledger.hold();
    const answered: string[] = [];
    const tick = runtime.recordMarket([{ kind: "tick", symbol: EURUSD, price: 1.085 }]).then((result) => (answered.push("tick"), result));
    await until(() => ledger.appendsStarted === 1);
    // The tick is not committed, yet the intent is decided against it (a price: allowed).
    const entry = runtime.submitIntent(intent("pending-1")).then((result) => (answered.push("intent"), result));
    await until(() => decided.count === 1);
    expect(ledger.appendsStarted, "the second batch waits for the first commit").toBe(1);
    expect(answered).toEqual([]);
    expect(runtime.recentDecisions()).toEqual([]);
    ledger.release();
    const [ticked, result] = await Promise.all([tick, entry]);
    expect(answered).toEqual(["tick", "intent"]);
    expect(result.decision.outcome).toBe("allowed");
    expect(result.seq).toBeGreaterThan(ticked.seq);
    expect(runtime.lastSeq).toBe(result.seq);
  });

  it("fails every batch decided on top of a failed commit, then decides again from the committed state", async () => {
    const { runtime, ledger, decided } = await start();
    await runtime.recordMarket([{ kind: "tick", symbol: EURUSD, price: 1.085 }]);
    const before = await ledgerOf(runtime);
    ledger.hold();
    ledger.failNext = true;
    const trip = runtime.tripBreaker({ accountId: ACCOUNT, breaker: "manual", reason: "test", by: "test" });
    await until(() => ledger.appendsStarted === 1);
    // Decided against the pending trip: denied (HALTED). It must not be recorded once the trip fails.
    const onTop = runtime.submitIntent(intent("on-top"));
    await until(() => decided.count === 1);
    ledger.release();
    await expect(trip).rejects.toMatchObject({ code: "storage_unavailable" });
    await expect(onTop).rejects.toMatchObject({ code: "storage_unavailable" });

    expect(await ledgerOf(runtime)).toEqual(before);
    expect(runtime.account(ACCOUNT).tradingState).toBe("ACTIVE");
    // The next intent is decided from the committed state: not halted, allowed, recorded.
    const after = await runtime.submitIntent(intent("after"));
    expect(after.decision).toMatchObject<Partial<Decision>>({ outcome: "allowed" });
    const types = (await ledgerOf(runtime)).slice(before.length).map((record) => record.event.type);
    expect(types).not.toContain("breaker.tripped");
    expect(types.filter((type) => type === "intent.received")).toHaveLength(1);
  });

  it("answers an intent the ledger already holds (sent before this process) from the ledger, and decides again what was decided with it and on top of it", async () => {
    const before = await start();
    await before.runtime.recordMarket([{ kind: "tick", symbol: EURUSD, price: 1.085 }]);
    const first = await before.runtime.submitIntent(intent("sent-before"));
    // A new process on the same database: it knows no recent intent keys.
    await writer!.close();
    const { runtime, ledger, decided } = await start(db!);
    await runtime.recordMarket([{ kind: "tick", symbol: EURUSD, price: 1.085 }]);
    ledger.hold();
    const retried = runtime.submitIntent(intent("sent-before"));
    const alongside = runtime.submitIntent(intent("alongside"));
    await until(() => ledger.appendsStarted === 1);
    const onTop = runtime.submitIntent(intent("on-top"));
    await until(() => decided.count === 3);
    ledger.release();
    const [again, withIt, after] = await Promise.all([retried, alongside, onTop]);
    expect(again).toMatchObject({ seq: first.seq, decision: first.decision, replayed: true });
    expect(withIt.decision.outcome).toBe("allowed");
    expect(after.decision.outcome).toBe("allowed");
    expect(after.seq).toBeGreaterThan(withIt.seq);
    const received = (await ledgerOf(runtime)).flatMap((record) => (record.event.type === "intent.received" ? [record.event.intent.intentId] : []));
    expect(received).toEqual(["sent-before", "alongside", "on-top"]);
  });
});
