// npm run bench:advisory — the advisory part of a reviewed decision (guard 18 with the rule
// reviewer): the deal memo of an intent — the chaos engine with 10,000 paths per path type on
// the worker pool, the four crises, the three hedges priced off a GARCH(1,1) fit — and the rule
// verdict on it. One instrument with a 500-return window of 1-minute bars and its benchmark,
// folded into a real engine state; an account of 100,000 USD with its FTMO floors.
//
// Two series of runs, each after a warm-up: "fresh" folds a new bar into the window before every
// run (so the GARCH fit is redone each time: the worst case, a bar between every two intents),
// "cached" reviews against the same window (the fit is made once per window). Every run is a new
// intent, so a new seed. Prints figures, and as its last line (the fresh series) one JSON object:
// {"bench":"advisory","paths":10000,"p50_ms":…,"p99_ms":…}. BENCH_N runs (200), BENCH_WORKERS workers.
import os from "node:os";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { ChaosPool } from "../advisory/chaos-pool";
import { AdvisoryConfig } from "../advisory/config";
import { reviewMarketOf } from "../advisory/history";
import { createRuleReviewer } from "../advisory/rule-reviewer";
import { Random } from "../advisory/random";
import { EngineConfig } from "../engine/config";
import type { EngineEvent } from "../engine/events";
import { AccountId, IntentId, SymbolId } from "../engine/ids";
import { Intent } from "../engine/intent";
import type { EngineState } from "../engine/state";
import { evolve, initialState } from "../engine/state";
import type { Decision } from "../engine/types";
import { AccountSpec } from "../engine/types";
import { accountView } from "../engine/views";
import type { ReviewRequest } from "../reviewer";
import { fixed, quantile } from "./support";

const PATHS = 10_000;
const WARMUP = 30;
const RUNS = Number(process.env.BENCH_N ?? 200);
const WINDOW = 500;

const symbol = SymbolId.parse("AAPL");
const benchmark = SymbolId.parse("US500");
const accountId = AccountId.parse("bench-advisory");
const config = EngineConfig.parse({
  instruments: {
    AAPL: { sector: "tech", cluster: "mega-cap", contractSize: 1, tickSize: 0.01, averageDailyVolume: 50_000_000 },
    US500: { sector: "index", cluster: "index", contractSize: 1, tickSize: 0.01, averageDailyVolume: 50_000_000 },
  },
  market: { returnsWindow: WINDOW },
});

// 1-minute bars: AAPL = 1.2 × the index's move + its own noise, now and then a jump.
const random = new Random(2024);
const closes = { AAPL: 190, US500: 5_000 };
let at = 1_700_000_000_000;
function bars(): EngineEvent[] {
  at += 60_000;
  const factor = 0.0004 * random.normal();
  closes.US500 *= Math.exp(factor);
  closes.AAPL *= Math.exp(1.2 * factor + 0.0005 * random.normal() + (random.uniform() < 0.004 ? -0.006 : 0));
  return (["US500", "AAPL"] as const).map((name): EngineEvent => {
    const close = closes[name];
    return { type: "market.bar", at, symbol: SymbolId.parse(name), open: close, high: close * 1.0005, low: close * 0.9995, close, volume: 1_000 };
  });
}

let state: EngineState = initialState(config);
state = evolve(state, {
  type: "account.opened",
  at: 0,
  by: "system",
  account: AccountSpec.parse({ accountId, name: "Bench 100K", presetId: "ftmo-2step-100k", initialBalanceUsd: 100_000 }),
});
for (let i = 0; i <= WINDOW; i++) state = bars().reduce(evolve, state);

let n = 0;
function nextRequest(): ReviewRequest {
  n++;
  const side = n % 3 === 0 ? "SELL" : "BUY";
  const quantity = 50 + (n % 7) * 40; // 9,500 to 55,000 USD: some vetoed, some not
  const intent = Intent.parse({
    intentId: IntentId.parse(`bench-${n}`),
    accountId,
    symbol,
    action: "OPEN",
    side,
    quantity,
    referencePrice: Number(closes.AAPL.toFixed(2)),
    provenance: { runId: "bench", strategyId: "bench", regimeId: "bench" },
  });
  const decision: Decision = { intentId: intent.intentId, accountId, outcome: "allowed", approvedQuantity: quantity, guard: null, reason: null, observed: null, limit: null, advisories: [] };
  return { intent, decision, account: accountView(state.accounts.get(accountId)!, state) };
}

// The pool: as many workers as cores (at most 4), or BENCH_WORKERS.
const pool = new ChaosPool(process.env.BENCH_WORKERS ? Number(process.env.BENCH_WORKERS) : undefined);
const reviewer = createRuleReviewer({
  config: AdvisoryConfig.parse({ chaos: { paths: PATHS } }),
  marketOf: (request) => reviewMarketOf(state, request.intent.symbol, benchmark, request.account.currency),
  runChaos: (request) => pool.run(request),
});

async function series(label: string, freshBar: boolean): Promise<{ p50: number; p99: number; vetoes: number }> {
  const samples = new Float64Array(RUNS);
  let vetoes = 0;
  // How long the main thread is blocked at a stretch: the chaos paths run off it.
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  for (let i = -WARMUP; i < RUNS; i++) {
    if (freshBar) state = bars().reduce(evolve, state);
    const request = nextRequest();
    const signal = new AbortController().signal;
    const start = process.hrtime.bigint();
    const { verdict, memo } = await reviewer.assess(request, signal);
    const elapsedMs = Number(process.hrtime.bigint() - start) / 1e6;
    if (memo.chaos.status !== "ran" || memo.chaos.report.paths !== PATHS) throw new Error(`chaos did not run: ${JSON.stringify(memo.chaos)}`);
    if (i === -1) loopDelay.enable();
    if (i >= 0) {
      samples[i] = elapsedMs;
      if (verdict.veto) vetoes++;
    }
  }
  loopDelay.disable();
  samples.sort();
  const mean = samples.reduce((s, v) => s + v, 0) / RUNS;
  console.log(
    `${label}: ${RUNS} runs after ${WARMUP} warm-up; p50 ${fixed(quantile(samples, 0.5))} ms, p99 ${fixed(quantile(samples, 0.99))} ms, mean ${fixed(mean)} ms, max ${fixed(samples[RUNS - 1]!)} ms; vetoed ${vetoes}; event-loop delay p99 ${fixed(loopDelay.percentile(99) / 1e6)} ms, max ${fixed(loopDelay.max / 1e6)} ms`,
  );
  return { p50: quantile(samples, 0.5), p99: quantile(samples, 0.99), vetoes };
}

async function main(): Promise<void> {
  await pool.warm();
  console.log(`${os.availableParallelism()} cores; chaos pool of ${pool.size} workers; ${PATHS} paths per path type (normal, flash crash, gap down share them), 24 steps over 1 day`);
  await series("cached (same window)", false);
  const fresh = await series("fresh (a new bar before each run)", true);
  await pool.close();
  console.log(JSON.stringify({ bench: "advisory", paths: PATHS, p50_ms: fixed(fresh.p50), p99_ms: fixed(fresh.p99) }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
