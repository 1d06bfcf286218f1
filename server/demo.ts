import type { MarketUpdate } from "./engine/decide";
import { IntentId } from "./engine/ids";
import { Intent } from "./engine/intent";
import { AccountSpec } from "./engine/types";
import type { PipelineOptions } from "./execution/pipeline";
import { defaultPipelineOptions, ExecutionPipeline } from "./execution/pipeline";
import type { SimulatedVenueParams } from "./execution/simulated-venue";
import { defaultVenueParams, SimulatedVenue } from "./execution/simulated-venue";
import type { Runtime } from "./runtime";
import { demoMarket, MarketSimulator } from "./sim/market";
import { Random } from "./sim/random";
import type { Scheduler } from "./sim/scheduler";
import type { Strategy } from "./strategies";
import { meanReversion, momentum, reckless } from "./strategies";

/**
 * The live demo: three accounts, a seeded simulated market, the simulated venue behind the
 * execution pipeline, and three strategies that send their intents through the same public path
 * as any client. The same function drives deterministic simulation runs on a virtual clock.
 */
export const demoAccounts: AccountSpec[] = [
  AccountSpec.parse({ accountId: "demo-ftmo-100k", name: "Demo FTMO 2-Step 100K · momentum", presetId: "ftmo-2step-100k", initialBalanceUsd: 100_000, execution: "simulated" }),
  AccountSpec.parse({ accountId: "demo-e8-50k", name: "Demo E8 50K · reckless", presetId: "e8-one", initialBalanceUsd: 50_000, execution: "simulated" }),
  AccountSpec.parse({ accountId: "demo-inst-1m", name: "Demo institutional book 1M · mean reversion", presetId: "institutional", initialBalanceUsd: 1_000_000, execution: "simulated" }),
];

/** Where a strategy's intents go: the HTTP API (live), or the runtime itself (simulation). */
export type IntentClient = { submit(intent: Intent): Promise<void> };

export function httpIntentClient(baseUrl: string, token: string): IntentClient {
  return {
    async submit(intent) {
      const response = await fetch(`${baseUrl}/api/v1/intents`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify(intent),
      });
      if (!response.ok) console.error(`demo: intent ${intent.intentId} answered ${response.status}: ${await response.text()}`);
    },
  };
}

export function runtimeIntentClient(runtime: Runtime): IntentClient {
  return {
    async submit(intent) {
      await runtime.submitIntent(intent);
    },
  };
}

export type SimulationOptions = {
  readonly seed: number;
  /** Market steps: a tick per instrument each step, a book every `bookEverySteps`. */
  readonly stepMs: number;
  readonly bookEverySteps: number;
  readonly barMs: number;
  /** How much faster than real time the prices move (a demo wants a day's moves in minutes). */
  readonly timeScale: number;
  readonly strategyEveryMs: number;
  /**
   * Bars of market history recorded before the first live step (closed in the past, one every
   * `barMs`), so that the statistics the guards read (correlations, CVaR) have their minimum of
   * observations when the strategies start, as on a market that was open before the gate.
   */
  readonly historyBars: number;
  readonly venue: SimulatedVenueParams;
  /** The venue's hiccups (one order acknowledged as slowly as a spike): the first this long after the start, then one every `everyMs`; null: none. */
  readonly venueHiccups: { readonly afterMs: number; readonly everyMs: number } | null;
  readonly pipeline: PipelineOptions;
};

export const demoOptions: SimulationOptions = {
  seed: 42,
  stepMs: 500,
  bookEverySteps: 4,
  barMs: 5_000,
  timeScale: 400,
  strategyEveryMs: 1_000,
  // The institutional preset's CVaR needs 50 returns, its correlations 20.
  historyBars: 60,
  // A venue flaky enough that the demo shows its breakers in time (rare rejects and timeouts), not
  // so flaky that every account sits halted: three failures within five minutes halt an account
  // for ten. It hiccups 40 s after the start and every 15 minutes after: the next order's
  // acknowledgement is slow, the latency breaker of its account trips and resets itself a minute later.
  venue: { ...defaultVenueParams, rejectProbability: 0.004, timeoutProbability: 0.0005, latencySpikeProbability: 0 },
  venueHiccups: { afterMs: 40_000, everyMs: 900_000 },
  pipeline: defaultPipelineOptions,
};

/** How long the reckless account trades merely carelessly before it turns reckless. */
const RECKLESS_CALM_MS = 180_000;

function strategiesFor(random: Random): Map<string, Strategy> {
  return new Map<string, Strategy>([
    ["demo-ftmo-100k", momentum(["EURUSD", "GBPUSD", "XAUUSD", "US500", "NAS100"], { EURUSD: 0.5, GBPUSD: 0.5, XAUUSD: 0.2, US500: 5, NAS100: 1.5 })],
    // Not USDJPY: the engine takes quantity × contract size × price as USD, which for a pair quoted in yen is 151 times the notional.
    ["demo-e8-50k", reckless(["BTCUSD", "NAS100", "XAUUSD", "GBPUSD", "EURUSD", "US500"], { BTCUSD: 0.1, NAS100: 1, XAUUSD: 0.2, GBPUSD: 0.3, EURUSD: 0.3, US500: 2 }, random, RECKLESS_CALM_MS)],
    // Not US500: it is the book's correlation benchmark (a correlation of 1 with itself denies every entry).
    ["demo-inst-1m", meanReversion(["NAS100", "GBPUSD", "EURUSD", "XAUUSD", "BTCUSD"], { NAS100: 5, GBPUSD: 1, EURUSD: 1, XAUUSD: 0.8, BTCUSD: 1 })],
  ]);
}

export type Simulation = { readonly pipeline: ExecutionPipeline; stop(): void };

/**
 * Opens the demo accounts if they are missing, then runs the market, the venue, the pipeline
 * and the strategies on `scheduler` until stopped.
 */
export async function startSimulation(runtime: Runtime, scheduler: Scheduler, client: IntentClient, options: SimulationOptions = demoOptions): Promise<Simulation> {
  const random = new Random(options.seed);
  const market = new MarketSimulator(
    { instruments: demoMarket, clusterCorrelation: 0.6, timeScale: options.timeScale, bookLevels: 10, barMs: options.barMs },
    random.fork("market"),
  );
  const hiccups = options.venueHiccups;
  const venueParams = hiccups ? { ...options.venue, hiccups: { from: scheduler.now() + hiccups.afterMs, everyMs: hiccups.everyMs } } : options.venue;
  const venue = new SimulatedVenue(scheduler, random.fork("venue"), (symbol) => market.quote(symbol), () => runtime.config, venueParams, (accountId) => runtime.currencyOf(accountId));
  const pipeline = new ExecutionPipeline(runtime, venue, scheduler, options.pipeline);
  await pipeline.start();
  const existing = new Set(runtime.accounts().map((account) => account.accountId));
  for (const account of demoAccounts) if (!existing.has(account.accountId)) await runtime.openAccount(account, "demo");

  const strategies = strategiesFor(random.fork("strategies"));
  const prices = new Map<string, number[]>();
  const runId = `run-${scheduler.now().toString(36)}`;
  let stopped = false;
  let step = 0;
  let intents = 0;

  const remember = (updates: readonly MarketUpdate[]) => {
    for (const update of updates) {
      if (update.kind !== "tick") continue;
      const series = prices.get(update.symbol) ?? [];
      series.push(update.price);
      if (series.length > 200) series.shift();
      prices.set(update.symbol, series);
    }
  };
  await recordHistory(runtime, market, scheduler.now(), options, remember);

  const marketStep = async () => {
    if (stopped) return;
    const now = scheduler.now();
    const updates = market.step(now, options.stepMs).filter((update) => update.kind !== "book" || step % options.bookEverySteps === 0);
    step++;
    await runtime.recordMarket(updates);
    remember(updates);
    await venue.onMarket();
    scheduler.at(now + options.stepMs, marketStep);
  };

  const strategyTurn = async () => {
    if (stopped) return;
    const now = scheduler.now();
    for (const [accountId, strategy] of strategies) {
      const account = runtime.account(accountId as AccountSpec["accountId"]);
      for (const draft of strategy.turn({ now, prices, account })) {
        const intent = Intent.parse({
          ...draft,
          intentId: IntentId.parse(`${runId}-${++intents}`),
          accountId,
          provenance: { runId, strategyId: strategy.strategyId, regimeId: "demo" },
        });
        await client.submit(intent);
      }
    }
    scheduler.at(now + options.strategyEveryMs, strategyTurn);
  };

  scheduler.at(scheduler.now(), marketStep);
  scheduler.at(scheduler.now() + options.strategyEveryMs, strategyTurn);
  return {
    pipeline,
    stop() {
      stopped = true;
      pipeline.stop();
    },
  };
}

/**
 * The market before `start`: the simulator stepped through `historyBars` bars ending at
 * `start`, their bars recorded (closed in the past; a symbol's bars only after the last one the
 * ledger holds, so a restart adds what is missing), their ticks only remembered by the
 * strategies (the ledger's first ticks are the live ones). A refusal (a price band on a restart)
 * is logged: the demo then starts without the history.
 */
async function recordHistory(runtime: Runtime, market: MarketSimulator, start: number, options: SimulationOptions, remember: (updates: readonly MarketUpdate[]) => void): Promise<void> {
  if (options.historyBars <= 0) return;
  const bars: MarketUpdate[] = [];
  for (let at = start - options.historyBars * options.barMs + options.stepMs; at < start; at += options.stepMs) {
    const updates = market.step(at, options.stepMs);
    remember(updates);
    for (const update of updates) {
      if (update.kind !== "bar") continue;
      const lastBarAt = runtime.engineState.market.get(update.symbol)?.stats.lastBarAt ?? null;
      if (lastBarAt === null || update.closedAt > lastBarAt) bars.push(update);
    }
  }
  try {
    for (let i = 0; i < bars.length; i += 1_000) await runtime.recordMarket(bars.slice(i, i + 1_000));
  } catch (error) {
    console.error(`demo: the market's history was not recorded: ${(error as Error).message}`);
  }
}
