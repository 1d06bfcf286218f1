// npm run bench:backtest — a backtest of 60,000 one-minute bars of one symbol (about six weeks
// round the clock) through the whole path: the runtime on an in-memory ledger deciding every
// intent through the guard chain, the execution queue, the simulated venue with its protective
// stops, daily resets on the simulated clock. The bars are a seeded random walk (geometric
// Brownian motion, 1% daily volatility, volumes around 1,000 a minute), the same every run. The
// strategy is the built-in mean reversion (stops and statistics, so Kelly sizing, the volatility
// target and CVaR all act); the preset is FTMO 2-Step 100K with, on top, the volatility target,
// CVaR, the cluster and sector caps and position correlation switched on. Times the run, then the
// report (the compliance verifier included) and the ledger's NDJSON, and prints as its last line
// {"bench":"backtest","bars":60000,"seconds":…,"bars_per_sec":…} (seconds: run and report).
import { SymbolId } from "../engine/ids";
import type { Preset } from "../engine/preset";
import type { Bar, BarData, BarRow } from "../backtest/csv";
import { ledgerNdjson, summarize } from "../backtest/report";
import { runBacktest } from "../backtest/run";
import { readPreset } from "../backtest/setup";
import { builtinStrategies } from "../backtest/strategies";
import { Random } from "../sim/random";

const BARS = Number(process.env.BENCH_BARS ?? 60_000);
const START = Date.parse("2026-01-05T00:01:00Z");
const symbol = SymbolId.parse("SYNTH");

function syntheticBars(): BarData {
  const random = new Random(20_260_105);
  const sigma = 0.01 / Math.sqrt(1_440);
  const rows: BarRow[] = [];
  let close = 100;
  for (let i = 0; i < BARS; i++) {
    const open = close;
    const path = [open];
    for (let k = 0; k < 4; k++) path.push(path[path.length - 1]! * Math.exp(sigma * 0.5 * random.gaussian()));
    close = Number(path[path.length - 1]!.toFixed(4));
    const bar: Bar = {
      symbol,
      open: Number(open.toFixed(4)),
      high: Number(Math.max(...path, close).toFixed(4)),
      low: Number(Math.min(...path, close).toFixed(4)),
      close,
      volume: 500 + Math.floor(random.next() * 1_000),
    };
    rows.push({ closedAt: START + i * 60_000, bars: [bar] });
  }
  return { file: "synthetic-1min.csv", format: "ohlcv", symbols: [symbol], rows, averageDailyVolume: new Map([[symbol, 1_000 * 1_440]]) };
}

function benchPreset(): Preset {
  const ftmo = readPreset("ftmo-2step-100k");
  return {
    ...ftmo,
    id: ftmo.id,
    rules: {
      ...ftmo.rules,
      guards: {
        ...ftmo.rules.guards,
        volTarget: { enabled: true, riskPerTradePct: 1 },
        cvar: { enabled: true, maxPct: 5, minObservations: 100 },
        clusterCap: { enabled: true, maxPct: 150 },
        sectorCap: { enabled: true, maxPct: 150 },
        positionCorrelation: { enabled: true },
      },
    },
  };
}

async function main(): Promise<void> {
  const generating = performance.now();
  const data = syntheticBars();
  const generatedMs = performance.now() - generating;
  const preset = benchPreset();
  const options = { data, preset, strategy: builtinStrategies[process.env.BENCH_STRATEGY ?? "mean-reversion"]!, risk: "on" as const, seed: 7, initialBalanceUsd: 100_000 };

  const started = performance.now();
  const run = await runBacktest(options);
  const ranMs = performance.now() - started;
  const report = summarize(run, data, preset, options);
  const reportedMs = performance.now() - started - ranMs;
  const writing = performance.now();
  const ndjson = ledgerNdjson(run);
  const ndjsonMs = performance.now() - writing;

  const seconds = (ranMs + reportedMs) / 1_000;
  console.log(`bars: ${BARS} one-minute bars of ${symbol} (generated in ${generatedMs.toFixed(0)} ms), ${run.records.length} ledger events (${(ndjson.length / 1e6).toFixed(1)} MB NDJSON in ${ndjsonMs.toFixed(0)} ms)`);
  console.log(
    `intents: ${report.intents.submitted}, allowed ${report.intents.allowed}, denied ${report.intents.denied} (${Object.entries(report.deniedByReason)
      .map(([reason, n]) => `${reason} ${n}`)
      .join(", ") || "none"}); orders ${report.orders}, fills ${report.fills}`,
  );
  console.log(`return ${report.returnPct}%, max drawdown ${report.maxDrawdownPct}%, compliance: ${report.compliance?.compliant ? "compliant" : `${report.compliance?.breaches.length} breach(es)`}`);
  console.log(`run ${(ranMs / 1_000).toFixed(2)} s, report (verifier included) ${(reportedMs / 1_000).toFixed(2)} s`);
  console.log(JSON.stringify({ bench: "backtest", bars: BARS, seconds: Number(seconds.toFixed(2)), bars_per_sec: Math.round(BARS / seconds) }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
