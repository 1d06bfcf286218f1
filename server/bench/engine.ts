// npm run bench:engine — per-intent latency of the engine's decision through the whole guard
// chain. 50 instruments with fresh prices, 10-level L2 books and 500-return windows (intents
// every 150 ms of simulated time; a new 1-minute bar for every instrument each minute);
// one account with 20 open positions and locked symbols; every guard on: the portfolio caps,
// benchmark and position correlation, CVaR, Kelly and the volatility target. Intents of every
// action and side with strategy stats and stops, a share denied by each guard. Prints figures,
// and as its last line one JSON object:
// {"bench":"engine.decide","n":…,"p50_us":…,"p99_us":…,"p999_us":…,"per_sec":…}.
import { decide } from "../engine/decide";
import type { EngineEvent } from "../engine/events";
import { AccountId, SymbolId } from "../engine/ids";
import { Intent } from "../engine/intent";
import { EngineConfig } from "../engine/config";
import type { EngineState } from "../engine/state";
import { evolve, initialState } from "../engine/state";
import { AccountSpec } from "../engine/types";

const INSTRUMENTS = 50;
const OPEN_POSITIONS = 20;
const RETURNS_WINDOW = 500;
const WARMUP = 20_000;
const MEASURED = Number(process.env.BENCH_N ?? 200_000);

const symbols = Array.from({ length: INSTRUMENTS }, (_, i) => SymbolId.parse(`SYM${String(i).padStart(2, "0")}`));
const config = EngineConfig.parse({
  instruments: Object.fromEntries(
    symbols.map((symbol, i) => [
      symbol,
      { sector: `sector-${i % 8}`, cluster: `cluster-${i % 5}`, contractSize: 1, tickSize: 0.01, averageDailyVolume: 5_000_000 },
    ]),
  ),
  market: { returnsWindow: RETURNS_WINDOW },
  // Default throttle (10 a second); intents arrive every 150 ms, so it rarely bites. Every
  // guard on, the sizing steps too: Kelly from each intent's stats, the volatility target at its stop.
  guards: {
    volTarget: { enabled: true },
    clusterCap: { enabled: true, maxPct: 60 },
    sectorCap: { enabled: true, maxPct: 80 },
    benchmarkCorrelation: { enabled: true, benchmark: "SYM00" },
    positionCorrelation: { enabled: true },
    cvar: { enabled: true, maxPct: 5 },
  },
});
const accountId = AccountId.parse("bench-account");

// A deterministic pseudo-random sequence (the benchmark must not vary between runs).
let seed = 42;
const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648);

// Five clusters with a common factor each, plus noise: correlations of about 0.5 to 0.8 within a cluster.
const gauss = () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
const closes = symbols.map((_, i) => 100 + i);
function barEvents(at: number): EngineEvent[] {
  const factors = Array.from({ length: 5 }, () => gauss() * 0.004);
  return symbols.map((symbol, i): EngineEvent => {
    closes[i]! *= Math.exp(factors[i % 5]! + gauss() * 0.003);
    const close = closes[i]!;
    return { type: "market.bar", at, symbol, open: close, high: close * 1.001, low: close * 0.999, close, volume: 1_000 };
  });
}

/** A tick and a 10-level book for one instrument (`only`), or for all of them. */
function marketEvents(at: number, only?: number): EngineEvent[] {
  return symbols.flatMap((symbol, i): EngineEvent[] => {
    if (only !== undefined && i !== only) return [];
    const price = closes[i]!;
    const level = (k: number, side: 1 | -1) => ({ price: price + side * 0.01 * (k + 1), size: 100 + ((k * 37 + i) % 50) });
    return [
      { type: "market.tick", at, symbol, price },
      {
        type: "market.book",
        at,
        symbol,
        bids: Array.from({ length: 10 }, (_, k) => level(k, -1)),
        asks: Array.from({ length: 10 }, (_, k) => level(k, 1)),
      },
    ];
  });
}

let state: EngineState = [
  { type: "config.applied", at: 0, config, by: "bench" } as EngineEvent,
  {
    type: "account.opened",
    at: 0,
    by: "bench",
    account: AccountSpec.parse({ accountId, name: "Bench", presetId: "bench", initialBalanceUsd: 1_000_000 }),
  } as EngineEvent,
  ...symbols.slice(0, 3).map(
    (symbol): EngineEvent => ({ type: "veto.added", at: 0, accountId, symbol, reason: "manual", note: "", expiresAt: null, valueAtTrigger: null, by: "bench" }),
  ),
  // 500 returns of history for every instrument, one bar a minute before the benchmark starts.
  ...Array.from({ length: RETURNS_WINDOW + 1 }, (_, k) => barEvents(-(RETURNS_WINDOW + 1 - k) * 60_000 + 10_000_000_000)).flat(),
  ...marketEvents(10_000_000_000),
].reduce(evolve, initialState());
// 20 open positions (symbols 20–39), small enough to leave room under the caps.
state = symbols.slice(20, 20 + OPEN_POSITIONS).reduce(
  (s, symbol, k): EngineState =>
    evolve(s, {
      type: "execution.filled",
      at: 10_000_000_000,
      accountId,
      intentId: null,
      symbol,
      side: k % 3 === 0 ? "SELL" : "BUY",
      quantity: 20,
      price: s.market.get(symbol)!.lastPrice!,
      feeUsd: 0,
      trigger: "order",
    }),
  state,
);

const actions = ["OPEN", "OPEN", "OPEN", "SCALE", "CLOSE"] as const;
function nextIntent(n: number): Intent {
  const i = Math.floor(random() * INSTRUMENTS);
  const price = closes[i]!;
  const side = random() < 0.5 ? "BUY" : "SELL";
  const skew = random() < 0.05 ? 1.08 : 1 + (random() - 0.5) * 0.01; // ~5% of prices stray past 5%
  return Intent.parse({
    intentId: `b-${n}`,
    accountId,
    symbol: symbols[i],
    action: actions[n % actions.length],
    side,
    quantity: 1 + Math.floor(random() * 100),
    referencePrice: price * skew,
    slPrice: side === "BUY" ? price * 0.98 : price * 1.02,
    stats: { winRate: 0.45 + random() * 0.2, winLossRatio: 1 + random() },
    provenance: { runId: "bench", strategyId: "bench", regimeId: "bench" },
  });
}

// The set-up's garbage is collected before measuring (node --expose-gc), so it does not land in the samples.
(globalThis as { gc?: () => void }).gc?.();
const samples = new Float64Array(MEASURED);
const STEP_MS = 150;
let at = 10_000_000_000;
let allowed = 0;
const deniedBy = new Map<string, number>();
for (let n = 0; n < WARMUP + MEASURED; n++) {
  at += STEP_MS;
  // Untimed, as a feed would stream it: a tick and a book of one instrument before every intent
  // (each instrument every 50 intents, 7.5 s), and a new 1-minute bar of every instrument every 400 (60 s).
  if (n % 400 === 0) state = barEvents(at).reduce(evolve, state);
  state = marketEvents(at, n % INSTRUMENTS).reduce(evolve, state);
  const command = { type: "SubmitIntent", at, intent: nextIntent(n) } as const;
  const start = process.hrtime.bigint();
  const result = decide(command, state);
  const elapsedNs = Number(process.hrtime.bigint() - start);
  if (!result.ok) throw new Error(`rejected: ${JSON.stringify(result.rejection)}`);
  state = result.events.reduce(evolve, state);
  if (n >= WARMUP) {
    samples[n - WARMUP] = elapsedNs / 1_000;
    const decided = result.events[1];
    if (decided?.type === "intent.decided") {
      if (decided.decision.outcome === "allowed") allowed++;
      else deniedBy.set(decided.decision.guard, (deniedBy.get(decided.decision.guard) ?? 0) + 1);
    }
  }
}

samples.sort();
const quantile = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!;
const totalUs = samples.reduce((sum, us) => sum + us, 0);
const round = (us: number) => Number(us.toFixed(2));
console.log(
  `intents: ${MEASURED} measured after ${WARMUP} warm-up; ${INSTRUMENTS} instruments with 10-level books and ${RETURNS_WINDOW}-return windows; ${state.accounts.get(accountId)!.positions.size} open positions`,
);
console.log(`allowed: ${allowed} (${((allowed / MEASURED) * 100).toFixed(1)}%), denied: ${MEASURED - allowed}`);
console.log(`denied by: ${[...deniedBy].sort((a, b) => b[1] - a[1]).map(([guard, count]) => `${guard} ${count}`).join(", ")}`);
console.log(`mean ${round(totalUs / MEASURED)} µs, max ${round(samples[samples.length - 1]!)} µs`);
console.log(
  JSON.stringify({
    bench: "engine.decide",
    n: MEASURED,
    p50_us: round(quantile(0.5)),
    p99_us: round(quantile(0.99)),
    p999_us: round(quantile(0.999)),
    per_sec: Math.round(MEASURED / (totalUs / 1e6)),
  }),
);
