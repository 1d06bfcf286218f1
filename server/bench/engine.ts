// npm run bench:engine — per-intent latency of the engine's decision through the whole guard
// chain. 50 instruments with fresh prices and 10-level L2 books, one account with locked
// symbols; intents of every action and side with strategy stats and stops (Kelly and the
// volatility target size them), a share denied by each guard. Prints figures, and
// as its last line one JSON object: {"bench":"engine.decide","n":…,"p50_us":…,"p99_us":…,"p999_us":…,"per_sec":…}.
// (Open positions and return windows join the benchmark with the portfolio guards.)
import { decide } from "../engine/decide";
import type { EngineEvent } from "../engine/events";
import { AccountId, SymbolId } from "../engine/ids";
import { Intent } from "../engine/intent";
import { EngineConfig } from "../engine/config";
import type { EngineState } from "../engine/state";
import { evolve, initialState } from "../engine/state";
import { AccountSpec } from "../engine/types";

const INSTRUMENTS = 50;
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
  // Default throttle (10 a second); intents arrive every 150 ms, so it rarely bites. Every
  // sizing step on: Kelly from each intent's stats, and the volatility target at its stop.
  guards: { volTarget: { enabled: true }, clusterCap: { enabled: true }, sectorCap: { enabled: true } },
});
const accountId = AccountId.parse("bench-account");

// A deterministic pseudo-random sequence (the benchmark must not vary between runs).
let seed = 42;
const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648);

function marketEvents(at: number): EngineEvent[] {
  return symbols.flatMap((symbol, i): EngineEvent[] => {
    const price = 100 + i;
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
  ...marketEvents(0),
].reduce(evolve, initialState());

const actions = ["OPEN", "OPEN", "OPEN", "SCALE", "CLOSE"] as const;
function nextIntent(n: number): Intent {
  const i = Math.floor(random() * INSTRUMENTS);
  const price = 100 + i;
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

const samples = new Float64Array(MEASURED);
const STEP_MS = 150;
let at = 1;
let allowed = 0;
for (let n = 0; n < WARMUP + MEASURED; n++) {
  at += STEP_MS;
  if (n % 50 === 0) state = marketEvents(at).reduce(evolve, state); // keep prices fresh (untimed)
  const command = { type: "SubmitIntent", at, intent: nextIntent(n) } as const;
  const start = process.hrtime.bigint();
  const result = decide(command, state);
  const elapsedNs = Number(process.hrtime.bigint() - start);
  if (!result.ok) throw new Error(`rejected: ${JSON.stringify(result.rejection)}`);
  state = result.events.reduce(evolve, state);
  if (n >= WARMUP) {
    samples[n - WARMUP] = elapsedNs / 1_000;
    const decided = result.events[1];
    if (decided?.type === "intent.decided" && decided.decision.outcome === "allowed") allowed++;
  }
}

samples.sort();
const quantile = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!;
const totalUs = samples.reduce((sum, us) => sum + us, 0);
const round = (us: number) => Number(us.toFixed(2));
console.log(`intents: ${MEASURED} measured after ${WARMUP} warm-up; ${INSTRUMENTS} instruments with 10-level books`);
console.log(`allowed: ${allowed} (${((allowed / MEASURED) * 100).toFixed(1)}%), denied: ${MEASURED - allowed}`);
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
