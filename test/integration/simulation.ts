import { loadConfig } from "@/server/config";
import { migrate } from "@/server/db/migrate";
import type { SimulationOptions } from "@/server/demo";
import { SymbolId } from "@/server/engine/ids";
import { Intent } from "@/server/engine/intent";
import { AccountSpec } from "@/server/engine/types";
import type { PipelineOptions } from "@/server/execution/pipeline";
import { defaultPipelineOptions, ExecutionPipeline } from "@/server/execution/pipeline";
import type { SimulatedVenueParams } from "@/server/execution/simulated-venue";
import { defaultVenueParams, SimulatedVenue } from "@/server/execution/simulated-venue";
import { Random } from "@/server/sim/random";
import { demoOptions, runtimeIntentClient, startSimulation } from "@/server/demo";
import type { EngineConfig } from "@/server/engine/config";
import type { LedgerRecord } from "@/server/ledger";
import { Ledger, LedgerWriter } from "@/server/ledger";
import { Runtime } from "@/server/runtime";
import { VirtualScheduler } from "@/server/sim/scheduler";
import { openEmbeddedTestDatabase } from "./harness";

export const SIM_START = Date.parse("2026-03-02T09:00:00Z");

/**
 * The live path in-process on a virtual clock: a real ledger (a fresh database in the embedded PostgreSQL),
 * the runtime, the demo's market, venue, pipeline and strategies. Returns the ledger.
 */
export async function simulate(
  minutes: number,
  options: Partial<SimulationOptions> = {},
  engine: EngineConfig = loadConfig({}).engine,
): Promise<{ records: LedgerRecord[]; runtime: Runtime }> {
  const db = await openEmbeddedTestDatabase();
  let closeWriter = async () => undefined as void;
  try {
    await migrate(db);
    const scheduler = new VirtualScheduler(SIM_START);
    const writer = await LedgerWriter.acquire(db);
    closeWriter = () => writer.close();
    const ledger = new Ledger(db, writer);
    const runtime = await Runtime.load(ledger, engine, () => scheduler.now());
    const simulation = await startSimulation(runtime, scheduler, runtimeIntentClient(runtime), { ...demoOptions, ...options });
    // The breakers' automatic resets and the daily reset, as the server's clock would run them.
    const tick = async () => {
      await runtime.advanceClock();
      scheduler.at(scheduler.now() + 1_000, tick);
    };
    scheduler.at(SIM_START, tick);
    await scheduler.runUntil(SIM_START + minutes * 60_000);
    simulation.stop();
    const records: LedgerRecord[] = [];
    for await (const record of ledger.readAll()) records.push(record);
    return { records, runtime };
  } finally {
    await closeWriter();
    await db.close();
  }
}

/** The execution path alone on a virtual clock: one simulated account trading EURUSD at a fixed quote. */
export async function pipelineHarness(venueParams: Partial<SimulatedVenueParams>, pipelineOptions: Partial<PipelineOptions> = {}, engine: EngineConfig = loadConfig({}).engine) {
  const db = await openEmbeddedTestDatabase();
  await migrate(db);
  const scheduler = new VirtualScheduler(SIM_START);
  const writer = await LedgerWriter.acquire(db);
  const ledger = new Ledger(db, writer);
  const runtime = await Runtime.load(ledger, engine, () => scheduler.now());
  let quote = { bid: 1.0849, ask: 1.0851 };
  const venue = new SimulatedVenue(scheduler, new Random(7), () => quote, () => runtime.config, {
    ...defaultVenueParams,
    latencyJitterMs: 0,
    partialFillProbability: 0,
    slippageBps: 0,
    feeBps: 0,
    ...venueParams,
  });
  const pipeline = new ExecutionPipeline(runtime, venue, scheduler, { ...defaultPipelineOptions, ...pipelineOptions });
  await pipeline.start();
  const account = AccountSpec.parse({ accountId: "sim-1", name: "Sim", presetId: "p", initialBalanceUsd: 100_000, execution: "simulated" });
  await runtime.openAccount(account, "test");
  let n = 0;
  return {
    runtime,
    scheduler,
    venue,
    pipeline,
    accountId: account.accountId,
    setQuote(bid: number, ask: number) {
      quote = { bid, ask };
    },
    /** Prices EURUSD at the quote's mid now. */
    async price() {
      await runtime.recordMarket([{ kind: "tick", symbol: SymbolId.parse("EURUSD"), price: (quote.bid + quote.ask) / 2 }]);
    },
    /** Submits an intent for the account (defaults: OPEN BUY 1 EURUSD). */
    submit(overrides: Record<string, unknown> = {}) {
      return runtime.submitIntent(
        Intent.parse({
          intentId: `t-${++n}`,
          accountId: account.accountId,
          symbol: "EURUSD",
          action: "OPEN",
          side: "BUY",
          quantity: 1,
          provenance: { runId: "r", strategyId: "s", regimeId: "g" },
          ...overrides,
        }),
      );
    },
    /** Lets the virtual clock run `ms` further. */
    run(ms: number) {
      return scheduler.runUntil(scheduler.now() + ms);
    },
    async events(): Promise<LedgerRecord[]> {
      const records: LedgerRecord[] = [];
      for await (const record of ledger.readAll()) records.push(record);
      return records;
    },
    async close() {
      pipeline.stop();
      await writer.close();
      await db.close();
    },
  };
}
