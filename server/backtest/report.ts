import fs from "node:fs";
import path from "node:path";
import type { AccountReport } from "../compliance/verify";
import { verify } from "../compliance/verify";
import type { Preset } from "../engine/preset";
import { toNdjsonLine } from "../event-format";
import type { BarData } from "./csv";
import type { EquityRow, Risk, RunResult } from "./run";

/**
 * What a backtest writes to `--out`: `ledger.ndjson` (the run's ledger in the export format:
 * `npm run replay` and `npm run verify` read it), `equity.csv` (one row a bar) and
 * `report.json` (the figures below and the compliance verifier's report for the preset).
 * Nothing in them depends on the wall clock: one seed, one set of files, byte for byte. Times are
 * epoch milliseconds (UTC), as everywhere in the API.
 */

export type BacktestReport = {
  readonly data: { readonly file: string; readonly format: BarData["format"]; readonly symbols: readonly string[]; readonly bars: number; readonly from: number; readonly to: number };
  /**
   * What the run had to guess, one line each: an instrument nobody stated (taken as FX or an
   * equity), a volume taken from the file, a volume unknown to the liquidity guard.
   */
  readonly warnings: readonly string[];
  readonly strategy: string;
  readonly preset: string;
  readonly risk: Risk;
  readonly seed: number;
  /** The account's currency: every amount of the report is in it. */
  readonly currency: string;
  readonly initialBalanceUsd: number;
  readonly finalEquity: number;
  readonly finalBalance: number;
  /** Final equity over the initial balance, in percent. */
  readonly returnPct: number;
  /** The largest fall of equity from its running peak (bar closes and the end), in percent of the peak. */
  readonly maxDrawdownPct: number;
  /**
   * Mean over standard deviation (sample) of the bar-to-bar equity returns, times √(bars a year),
   * bars a year being the file's own rate: (bars − 1) / its span in years of 365.25 days (about
   * 252 for business days, 525,960 for round-the-clock minutes). Risk-free rate 0. Null with
   * fewer than two returns or none that vary.
   */
  readonly sharpe: number | null;
  readonly barsPerYear: number | null;
  readonly intents: { readonly submitted: number; readonly allowed: number; readonly denied: number; readonly invalid: number };
  readonly deniedByReason: Readonly<Record<string, number>>;
  readonly deniedByGuard: Readonly<Record<string, number>>;
  /** Orders sent to the venue; fills booked (parts of an order count each); trades: orders and protective exits that filled. */
  readonly orders: number;
  readonly fills: number;
  readonly trades: number;
  readonly fees: number;
  /** The engine's own risk events: breaker trips, lock-outs, reduce-only periods. */
  readonly riskEvents: readonly { readonly at: number; readonly seq: number; readonly type: string; readonly detail: string }[];
  readonly compliance: AccountReport | null;
};

const round = (value: number, digits: number) => Number(value.toFixed(digits));

export function summarize(run: RunResult, data: BarData, preset: Preset, options: { risk: Risk; seed: number; initialBalanceUsd: number }): BacktestReport {
  const initial = options.initialBalanceUsd;
  const series = run.equity.map((row) => row.equity);
  let peak = initial;
  let maxDrawdown = 0;
  for (const equity of [...series, run.final.equity]) {
    if (equity > peak) peak = equity;
    if (peak > 0) maxDrawdown = Math.max(maxDrawdown, (peak - equity) / peak);
  }
  const { sharpe, barsPerYear } = sharpeOf(run.equity);

  let allowed = 0;
  let denied = 0;
  const deniedByReason: Record<string, number> = {};
  const deniedByGuard: Record<string, number> = {};
  const riskEvents: BacktestReport["riskEvents"][number][] = [];
  for (const { seq, event } of run.records) {
    switch (event.type) {
      case "intent.decided":
        if (event.decision.outcome === "allowed") allowed++;
        else {
          denied++;
          deniedByReason[event.decision.reason] = (deniedByReason[event.decision.reason] ?? 0) + 1;
          deniedByGuard[event.decision.guard] = (deniedByGuard[event.decision.guard] ?? 0) + 1;
        }
        break;
      case "breaker.tripped":
        riskEvents.push({ at: event.at, seq, type: event.type, detail: `${event.breaker}: ${event.reason}` });
        break;
      case "account.locked_out":
        riskEvents.push({ at: event.at, seq, type: event.type, detail: `${event.rule}: equity ${event.equity} ${run.currency} at or below the floor ${event.floor} ${run.currency}` });
        break;
      case "account.reducing":
        riskEvents.push({ at: event.at, seq, type: event.type, detail: `${event.cause}: ${event.reason}` });
        break;
      default:
        break;
    }
  }
  const orderIds = new Set(run.fills.flatMap((fill) => (fill.orderId === null ? [] : [fill.orderId])));
  const protective = run.fills.filter((fill) => fill.orderId === null).length;
  const compliance = run.records.length > 0 ? (verify(run.records, preset, run.accountId).accounts[0] ?? null) : null;
  return {
    data: {
      file: path.basename(data.file),
      format: data.format,
      symbols: data.symbols,
      bars: data.rows.length,
      from: data.rows[0]!.closedAt,
      to: data.rows[data.rows.length - 1]!.closedAt,
    },
    warnings: run.warnings,
    strategy: run.strategyId,
    preset: preset.id,
    risk: options.risk,
    seed: options.seed,
    currency: run.currency,
    initialBalanceUsd: initial,
    finalEquity: round(run.final.equity, 2),
    finalBalance: round(run.final.balance, 2),
    returnPct: round((run.final.equity / initial - 1) * 100, 4),
    maxDrawdownPct: round(maxDrawdown * 100, 4),
    sharpe: sharpe === null ? null : round(sharpe, 4),
    barsPerYear: barsPerYear === null ? null : round(barsPerYear, 2),
    intents: { submitted: run.intents.submitted, allowed, denied, invalid: run.intents.invalid },
    deniedByReason: sorted(deniedByReason),
    deniedByGuard: sorted(deniedByGuard),
    orders: run.orders,
    fills: run.fills.length,
    trades: orderIds.size + protective,
    fees: round(run.fills.reduce((sum, fill) => sum + fill.feeUsd, 0), 2),
    riskEvents,
    compliance,
  };
}

function sorted(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
}

const YEAR_MS = 365.25 * 86_400_000;

export function sharpeOf(rows: readonly EquityRow[]): { sharpe: number | null; barsPerYear: number | null } {
  if (rows.length < 3) return { sharpe: null, barsPerYear: null };
  const spanYears = (rows[rows.length - 1]!.at - rows[0]!.at) / YEAR_MS;
  const barsPerYear = spanYears > 0 ? (rows.length - 1) / spanYears : null;
  const returns: number[] = [];
  for (let i = 1; i < rows.length; i++) {
    const before = rows[i - 1]!.equity;
    if (before > 0) returns.push(rows[i]!.equity / before - 1);
  }
  if (returns.length < 2 || barsPerYear === null) return { sharpe: null, barsPerYear };
  const mean = returns.reduce((sum, r) => sum + r, 0) / returns.length;
  const variance = returns.reduce((sum, r) => sum + (r - mean) ** 2, 0) / (returns.length - 1);
  const sd = Math.sqrt(variance);
  if (!(sd > 1e-15)) return { sharpe: null, barsPerYear };
  return { sharpe: (mean / sd) * Math.sqrt(barsPerYear), barsPerYear };
}

const money = (value: number | null) => (value === null ? "" : value.toFixed(2));

/** One row a bar: its close time, equity, balance, the day's baseline and both floors (USD). */
export function equityCsv(rows: readonly EquityRow[]): string {
  const lines = ["time,equity,balance,baseline,daily_loss_floor,max_loss_floor"];
  for (const row of rows) {
    lines.push(`${new Date(row.at).toISOString()},${money(row.equity)},${money(row.balance)},${money(row.baseline)},${money(row.dailyLossFloor)},${money(row.maxLossFloor)}`);
  }
  return `${lines.join("\n")}\n`;
}

export function ledgerNdjson(run: RunResult): string {
  return run.records.map((record) => `${toNdjsonLine(record)}\n`).join("");
}

/** Writes the three files into `dir` (created if missing); returns their paths. */
export function writeOutputs(dir: string, run: RunResult, report: BacktestReport): { ledger: string; equity: string; report: string } {
  fs.mkdirSync(dir, { recursive: true });
  const files = { ledger: path.join(dir, "ledger.ndjson"), equity: path.join(dir, "equity.csv"), report: path.join(dir, "report.json") };
  fs.writeFileSync(files.ledger, ledgerNdjson(run));
  fs.writeFileSync(files.equity, equityCsv(run.equity));
  fs.writeFileSync(files.report, `${JSON.stringify(report, null, 2)}\n`);
  return files;
}

/** The one line a run ends with on stdout. */
export function summaryLine(report: BacktestReport, out: string, seconds: number): string {
  const compliance = report.compliance
    ? report.compliance.compliant
      ? "compliant"
      : `${report.compliance.breaches.length} breach(es): ${[...new Set(report.compliance.breaches.map((breach) => breach.rule))].join(", ")}`
    : "not verified";
  const sharpe = report.sharpe === null ? "n/a" : report.sharpe.toFixed(2);
  return (
    `backtest ${report.strategy} on ${report.data.symbols.join(",")} (${report.data.bars} bars), preset ${report.preset}, risk ${report.risk}, seed ${report.seed}: ` +
    `return ${report.returnPct.toFixed(2)}%, max drawdown ${report.maxDrawdownPct.toFixed(2)}%, Sharpe ${sharpe}, ` +
    `${report.fills} fills, ${report.intents.denied} of ${report.intents.submitted} intents denied; ${compliance}; ${out} (${seconds.toFixed(1)} s)`
  );
}
