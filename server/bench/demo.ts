// node --import tsx server/bench/demo.ts [--minutes M] [--seed S] — what a newcomer sees of the
// demo: the demo's market, strategies, venue and pipeline on a virtual clock (seconds of real
// time), through a runtime set up as the server's (the shipped presets, price bands), on the
// embedded PostgreSQL in a temporary folder. Prints, for the first M minutes (default 2), per
// account: intents allowed and denied, the denials by guard and reason, breaker trips and resets,
// symbol and side locks, lock-outs and the time spent out of ACTIVE. The live server's demo runs
// the same code on the wall clock; `GET /api/v1/decisions` there gives the same kind of figures.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { loadConfig } from "../config";
import { openDatabase } from "../db/database";
import { migrate } from "../db/migrate";
import { demoOptions, runtimeIntentClient, startSimulation } from "../demo";
import type { EngineEvent } from "../engine/events";
import { Ledger, LedgerWriter } from "../ledger";
import { PresetStore, readPresetFiles } from "../presets";
import { Runtime } from "../runtime";
import { VirtualScheduler } from "../sim/scheduler";

const { values } = parseArgs({ options: { minutes: { type: "string", default: "2" }, seed: { type: "string", default: String(demoOptions.seed) } } });
const minutes = Number(values.minutes);
const seed = Number(values.seed);
const START = Date.parse("2026-03-02T09:00:00Z");

type Tally = { allowed: number; resized: number; denied: number; reasons: Map<string, number>; trips: string[]; resets: string[]; failures: string[]; locks: string[]; lockOuts: string[]; notActiveMs: number };

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "riskgate-demo-bench-"));
const db = await openDatabase({ kind: "embedded", dataDir }, () => undefined);
try {
  await migrate(db);
  const presets = new PresetStore(db);
  await presets.sync(readPresetFiles());
  const scheduler = new VirtualScheduler(START);
  const writer = await LedgerWriter.acquire(db);
  const ledger = new Ledger(db, writer);
  const runtime = await Runtime.load(ledger, loadConfig({}).engine, () => scheduler.now(), { presets, equityIntervalMs: 1_000, priceBands: true });
  const simulation = await startSimulation(runtime, scheduler, runtimeIntentClient(runtime), { ...demoOptions, seed });
  // The server's clock: daily resets and the breakers' automatic resets, once a second.
  const tick = async () => {
    await runtime.advanceClock();
    scheduler.at(scheduler.now() + 1_000, tick);
  };
  scheduler.at(START, tick);
  await scheduler.runUntil(START + minutes * 60_000);
  simulation.stop();
  const events: EngineEvent[] = [];
  for await (const record of ledger.readAll()) events.push(record.event);
  await writer.close();
  const equity = new Map(runtime.accounts().map((account) => [account.accountId as string, { equity: account.equity, initialUsd: account.initialBalanceUsd, state: account.tradingState }]));
  report(events, equity);
} finally {
  await db.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
}

function report(events: EngineEvent[], equity: Map<string, { equity: number; initialUsd: number; state: string }>): void {
  const tallies = new Map<string, Tally>();
  const tally = (accountId: string) => {
    let found = tallies.get(accountId);
    if (!found) tallies.set(accountId, (found = { allowed: 0, resized: 0, denied: 0, reasons: new Map(), trips: [], resets: [], failures: [], locks: [], lockOuts: [], notActiveMs: 0 }));
    return found;
  };
  const firstIntent = events.find((event) => event.type === "intent.received")?.at ?? START;
  const end = START + minutes * 60_000;
  const t = (at: number) => `${Math.round((at - firstIntent) / 1000)}s`;
  // Out of ACTIVE: from a trip, a lock-out or reduce-only to the matching reset (by breaker).
  const since = new Map<string, number>();
  const open = (key: string, at: number) => since.has(key) || since.set(key, at);
  const close = (accountId: string, key: string, at: number) => {
    const from = since.get(key);
    if (from === undefined) return;
    since.delete(key);
    if (![...since.keys()].some((other) => other.startsWith(`${accountId}/`))) tally(accountId).notActiveMs += at - from;
  };
  const outSince = new Map<string, number>();
  const asked = new Map<string, number | undefined>();
  for (const event of events) {
    switch (event.type) {
      case "intent.received":
        asked.set(`${event.intent.accountId}/${event.intent.intentId}`, event.intent.quantity);
        break;
      case "intent.decided": {
        const { decision } = event;
        const entry = tally(decision.accountId);
        if (decision.outcome === "allowed") {
          entry.allowed++;
          const quantity = asked.get(`${decision.accountId}/${decision.intentId}`);
          if (quantity !== undefined && decision.approvedQuantity !== null && decision.approvedQuantity < quantity) entry.resized++;
        } else {
          entry.denied++;
          const key = `${decision.guard} · ${decision.reason}`;
          entry.reasons.set(key, (entry.reasons.get(key) ?? 0) + 1);
        }
        break;
      }
      case "breaker.tripped":
        tally(event.accountId).trips.push(`${event.breaker}@${t(event.at)}`);
        if (!outSince.has(event.accountId)) outSince.set(event.accountId, event.at);
        open(`${event.accountId}/${event.breaker}`, event.at);
        break;
      case "breaker.reset":
        tally(event.accountId).resets.push(`${event.breaker}@${t(event.at)}`);
        close(event.accountId, `${event.accountId}/${event.breaker}`, event.at);
        break;
      case "execution.failed":
        tally(event.accountId).failures.push(`${event.failure} ${event.symbol}@${t(event.at)}`);
        break;
      case "veto.added":
        tally(event.accountId).locks.push(`${event.symbol} ${event.reason}@${t(event.at)}`);
        break;
      case "side.locked":
        tally(event.accountId).locks.push(`${event.side} side ${event.reason}@${t(event.at)}`);
        break;
      case "account.locked_out":
        tally(event.accountId).lockOuts.push(`@${t(event.at)}`);
        open(`${event.accountId}/locked_out`, event.at);
        break;
      default:
        break;
    }
  }
  for (const [key, from] of since) tally(key.split("/")[0]!).notActiveMs += end - from;
  let allowed = 0;
  let denied = 0;
  console.log(`demo seed ${seed}, the first ${minutes} min (virtual clock), from the first intent:`);
  for (const [accountId, entry] of tallies) {
    allowed += entry.allowed;
    denied += entry.denied;
    const total = entry.allowed + entry.denied;
    console.log(`\n${accountId}: ${entry.allowed} allowed (${entry.resized} resized), ${entry.denied} denied of ${total} (${total ? Math.round((100 * entry.allowed) / total) : 0}% allowed)`);
    for (const [reason, n] of [...entry.reasons].sort((a, b) => b[1] - a[1])) console.log(`  denied ${n} × ${reason}`);
    console.log(`  breaker trips: ${entry.trips.join(", ") || "none"}; resets: ${entry.resets.join(", ") || "none"}`);
    console.log(`  execution failures: ${entry.failures.join(", ") || "none"}`);
    console.log(`  locks: ${entry.locks.join(", ") || "none"}; lock-outs: ${entry.lockOuts.join(", ") || "none"}`);
    console.log(`  halted or locked out: ${Math.round(entry.notActiveMs / 1000)} s of ${minutes * 60}`);
    const end = equity.get(accountId);
    if (end) console.log(`  at the end: ${end.state}, equity ${Math.round(end.equity).toLocaleString("en-US")} USD (${end.equity >= end.initialUsd ? "+" : ""}${Math.round(end.equity - end.initialUsd).toLocaleString("en-US")})`);
  }
  console.log(`\nall: ${allowed} allowed, ${denied} denied (${allowed + denied ? Math.round((100 * allowed) / (allowed + denied)) : 0}% allowed)`);
}
