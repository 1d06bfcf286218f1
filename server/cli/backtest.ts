// npm run backtest -- --data <csv> --preset <id | file.json> --strategy <name | path.ts> --out <dir>
//                     [--risk on|off] [--seed N] [--symbol SYM] [--balance AMOUNT] [--currency EUR] [--instruments file.json]
// Runs a strategy over historical bars through the engine, the execution queue and the
// simulated venue on a simulated clock, and writes ledger.ndjson, equity.csv and report.json
// to --out. The engine configuration is RISKGATE_ENGINE_CONFIG's (else the built-in instruments),
// with --instruments over its instruments; what the run guessed goes to stderr as warnings.
// Exit 0: the run completed (whatever its compliance); 2: bad input (the flag, or the CSV's line
// and column, named); 1: the run failed.
import { parseArgs } from "node:util";
import { AppError } from "../errors";
import { PresetFileError } from "../presets";
import { CsvError, readBarFile } from "../backtest/csv";
import { summarize, summaryLine, writeOutputs } from "../backtest/report";
import { runBacktest } from "../backtest/run";
import type { Risk } from "../backtest/run";
import { backtestSetup, InstrumentsError, PresetError, readInstrumentsFile, readPreset } from "../backtest/setup";
import { ConfigError, loadEngineConfig } from "../config";
import { ISO_CURRENCIES } from "../engine/currency";
import { builtinStrategies, resolveStrategy, StrategyError } from "../backtest/strategies";

const USAGE = `usage: npm run backtest -- --data <file.csv> --preset <id | file.json> --strategy <name | path.ts> --out <dir>
                           [--risk on|off] [--seed N] [--symbol SYM] [--balance AMOUNT] [--currency EUR] [--instruments file.json]
  --data      bars: a date/time column and Open,High,Low,Close[,Volume] for one symbol, or one close column per symbol
  --preset    a shipped preset id (presets/*.json) or a preset file
  --strategy  ${Object.keys(builtinStrategies).join(", ")}, or a module default-exporting a BacktestStrategy
  --out       the directory for ledger.ndjson, equity.csv and report.json
  --risk      on (default): the preset's rules; off: every guard off, breakers and floors out of reach
  --seed      the venue's and the strategy's random seed (default 1)
  --symbol    the symbol of a one-symbol OHLCV file (default: the file name's first word)
  --balance   the initial balance, in the account's currency (default: the preset's account size, else 100000)
  --currency  the account's currency, ISO 4217 (default: the preset's, else USD): every amount of the run is in it
  --instruments  a JSON object of instruments by symbol ({"EURCHF": {"sector": "fx", "contractSize": 100000,
              "tickSize": 0.00001, "averageDailyVolume": 500000, "quoteCurrency": "CHF"}}), over
              RISKGATE_ENGINE_CONFIG's (else the built-in) instruments`;

class InputError extends Error {}

function integer(flag: string, value: string, max: number): number {
  if (!/^\d+$/.test(value) || Number(value) > max) throw new InputError(`--${flag}: ${JSON.stringify(value)} is not an integer from 0 to ${max}`);
  return Number(value);
}

/** A redrawn line on stderr, when stderr is a terminal. */
function progressBar(): { update: (done: number, total: number) => void; end: () => void } {
  if (!process.stderr.isTTY) return { update: () => undefined, end: () => undefined };
  let last = 0;
  const draw = (done: number, total: number) => {
    const width = 30;
    const filled = Math.round((done / total) * width);
    process.stderr.write(`\r[${"#".repeat(filled)}${" ".repeat(width - filled)}] ${Math.floor((done / total) * 100)}% ${done.toLocaleString("en-US")}/${total.toLocaleString("en-US")} bars`);
  };
  return {
    update(done, total) {
      const now = performance.now();
      if (done !== total && now - last < 100) return;
      last = now;
      draw(done, total);
    },
    end: () => process.stderr.write("\n"),
  };
}

async function main(): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        data: { type: "string" },
        preset: { type: "string" },
        strategy: { type: "string" },
        out: { type: "string" },
        risk: { type: "string" },
        seed: { type: "string" },
        symbol: { type: "string" },
        balance: { type: "string" },
        currency: { type: "string" },
        instruments: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    console.error(`backtest: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const started = performance.now();
  let progress: ReturnType<typeof progressBar> | null = null;
  try {
    for (const flag of ["data", "preset", "strategy", "out"]) if (values[flag] === undefined || values[flag] === "") throw new InputError(`--${flag} is required`);
    const risk = (values.risk ?? "on") as string;
    if (risk !== "on" && risk !== "off") throw new InputError(`--risk: ${JSON.stringify(risk)} is neither on nor off`);
    const seed = values.seed === undefined ? 1 : integer("seed", values.seed as string, 4_294_967_295);
    let balance: number | undefined;
    if (values.balance !== undefined) {
      balance = Number(values.balance);
      if (!/^\d+(\.\d+)?$/.test(values.balance as string) || !(balance > 0) || balance > 1e12) throw new InputError(`--balance: ${JSON.stringify(values.balance)} is not a positive amount`);
    }
    if (values.currency !== undefined && !ISO_CURRENCIES.has(values.currency as string)) {
      throw new InputError(`--currency: ${JSON.stringify(values.currency)} is not an ISO 4217 currency code in use, e.g. USD or EUR`);
    }
    const preset = readPreset(values.preset as string);
    const currency = (values.currency as string | undefined) ?? preset.currency ?? "USD";
    if (preset.currency !== undefined && preset.currency !== currency) throw new InputError(`--currency: preset ${preset.id} is written for accounts in ${preset.currency}, not ${currency}`);
    const initialBalanceUsd = balance ?? preset.initialBalanceUsd ?? 100_000;
    if (preset.initialBalanceUsd !== null && preset.initialBalanceUsd !== initialBalanceUsd) {
      throw new InputError(`--balance: preset ${preset.id} is written for an account of ${preset.initialBalanceUsd} ${currency}, not ${initialBalanceUsd}`);
    }
    const firm = loadEngineConfig();
    const instruments = values.instruments === undefined ? undefined : readInstrumentsFile(values.instruments as string);
    const data = readBarFile(values.data as string, values.symbol as string | undefined);
    const strategy = await resolveStrategy(values.strategy as string);
    for (const warning of backtestSetup({ data, preset, risk: risk as Risk, firm, currency, ...(instruments ? { instruments } : {}) }).warnings) {
      console.error(`backtest: warning: ${warning}`);
    }
    progress = progressBar();
    const run = await runBacktest({ data, preset, strategy, risk: risk as Risk, seed, initialBalanceUsd, currency, firm, ...(instruments ? { instruments } : {}), onProgress: progress.update });
    progress.end();
    progress = null;
    const report = summarize(run, data, preset, { risk: risk as Risk, seed, initialBalanceUsd });
    writeOutputs(values.out as string, run, report);
    console.log(summaryLine(report, values.out as string, (performance.now() - started) / 1_000));
    return 0;
  } catch (error) {
    progress?.end();
    if (error instanceof ConfigError) {
      console.error(`backtest: ${error.message}`);
      return 2;
    }
    if (
      error instanceof InputError ||
      error instanceof CsvError ||
      error instanceof PresetError ||
      error instanceof InstrumentsError ||
      error instanceof PresetFileError ||
      error instanceof StrategyError
    ) {
      console.error(`backtest: ${error.message}\n${USAGE}`);
      return 2;
    }
    if (error instanceof AppError && error.code === "validation_failed") {
      console.error(`backtest: ${error.message}`);
      return 2;
    }
    throw error;
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error("backtest failed:", error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
