import { createHash } from "node:crypto";
import { parentPort, workerData } from "node:worker_threads";
import { canonicalJson, replay } from "../engine/replay";
import type { Intent } from "../engine/intent";
import type { Decision } from "../engine/types";
import { lttb } from "../equity-history";
import { fromNdjsonLine } from "../event-format";
import { CsvError, parseBars, readBarFile } from "./csv";
import type { BarData } from "./csv";
import type { BacktestReport } from "./report";
import { ledgerNdjson, summarize } from "./report";
import type { EquityRow } from "./run";
import { runBacktest } from "./run";
import { builtinStrategies } from "./strategies";
import type { EngineConfig, Instruments } from "../engine/config";
import type { Preset } from "../engine/preset";

/**
 * One backtest in a worker thread (see jobs.ts): the run through the engine, its report, its
 * equity downsampled for a chart, its ledger as NDJSON, and that ledger read back and replayed
 * through the engine. Posts progress while the bars run, then the result, or why it failed.
 * (An upload is checked before its run is queued by csv-worker.ts, in a thread of its own.)
 */

/** An uploaded CSV's text, its file name and the symbol of a one-symbol file (else from the name). */
export type CsvUpload = { readonly text: string; readonly name: string; readonly symbol?: string };

export type WorkerJob = {
  readonly source: { readonly kind: "dataset"; readonly file: string } | ({ readonly kind: "csv" } & CsvUpload);
  readonly preset: Preset;
  readonly strategy: string;
  readonly risk: "on" | "off";
  readonly seed: number;
  readonly currency: string;
  readonly initialBalanceUsd: number;
  /** The server's engine configuration (RISKGATE_ENGINE_CONFIG, else the built-in instruments). */
  readonly firm: EngineConfig;
  /** The instruments sent with the run, over the firm's. */
  readonly instruments?: Instruments;
};

/** An equity point of the chart: the bar's close (epoch ms) and USD figures in cents. */
export type EquityChartPoint = {
  readonly at: number;
  readonly equity: number;
  readonly balance: number;
  readonly baseline: number | null;
  readonly dailyLossFloor: number | null;
  readonly maxLossFloor: number | null;
};

export type ReplayedDecision = {
  readonly seq: number;
  readonly at: number;
  readonly intentId: string;
  readonly symbol: string | null;
  readonly action: string | null;
  readonly side: string | null;
  readonly quantity: number | null;
  readonly outcome: Decision["outcome"];
  /** Null for an allowed FLATTEN (the whole position). */
  readonly approvedQuantity: number | null;
  readonly guard: string | null;
  readonly reason: string | null;
  readonly observed: number | string | null;
  readonly limit: number | string | null;
};

export type ReplaySummary = {
  readonly events: number;
  readonly decisions: number;
  readonly mismatchCount: number;
  /** The first mismatches, each with the recorded and the recomputed decision. */
  readonly mismatches: readonly { readonly seq: number; readonly intentId: string; readonly recorded: Decision | null; readonly recomputed: Decision | null }[];
  /** SHA-256 of the final state's canonical JSON (what `npm run replay` prints). */
  readonly stateHash: string;
  /** The decisions in seq order, the first DECISIONS_LISTED of them. */
  readonly decisionList: readonly ReplayedDecision[];
  readonly decisionsListed: number;
};

export type WorkerResult = {
  readonly bars: number;
  readonly report: BacktestReport;
  readonly equity: readonly EquityChartPoint[];
  /** Bars in the run (the chart has at most EQUITY_POINTS of them). */
  readonly equityRows: number;
  readonly ledger: string;
  readonly replay: ReplaySummary;
};

/** What a worker thread is given (its workerData): jobs-worker-entry.mjs loads csv-worker.ts for a check, this module for a run. */
export type WorkerTask = { readonly kind: "check"; readonly upload: CsvUpload } | { readonly kind: "run"; readonly job: WorkerJob };

export type WorkerMessage =
  /** A check's answer: null when the CSV is good, else the CsvError's message (file, line and column). */
  | { readonly type: "checked"; readonly problem: string | null }
  | { readonly type: "progress"; readonly done: number; readonly total: number }
  | { readonly type: "done"; readonly result: WorkerResult }
  | { readonly type: "failed"; readonly error: string };

/** At most this many points of equity go to the chart (about one per pixel). */
export const EQUITY_POINTS = 1_000;
export const DECISIONS_LISTED = 2_000;
export const MISMATCHES_LISTED = 10;
/** Progress is posted at most this often (and at the last bar). */
const PROGRESS_EVERY_MS = 50;

const cents = (usd: number) => Math.round(usd * 100) / 100;

export function equityForChart(rows: readonly EquityRow[], points = EQUITY_POINTS): EquityChartPoint[] {
  return lttb(rows, points, (row) => row.at, (row) => row.equity).map((row) => ({
    at: row.at,
    equity: cents(row.equity),
    balance: cents(row.balance),
    baseline: row.baseline,
    dailyLossFloor: row.dailyLossFloor,
    maxLossFloor: row.maxLossFloor,
  }));
}

/** The ledger's NDJSON read back line by line (as `npm run replay` reads a file) and replayed. */
export function replayNdjson(ndjson: string): ReplaySummary {
  const records = ndjson
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line, index) => {
      try {
        return fromNdjsonLine(line);
      } catch (error) {
        throw new Error(`ledger line ${index + 1}: ${(error as Error).message}`);
      }
    });
  const result = replay(records);
  const intents = new Map<string, Intent>();
  const decisionList: ReplayedDecision[] = [];
  let decisions = 0;
  for (const { seq, event } of records) {
    if (event.type === "intent.received") intents.set(event.intent.intentId, event.intent);
    if (event.type !== "intent.decided") continue;
    decisions++;
    if (decisionList.length >= DECISIONS_LISTED) continue;
    const { decision } = event;
    const intent = intents.get(decision.intentId);
    decisionList.push({
      seq,
      at: event.at,
      intentId: decision.intentId,
      symbol: intent?.symbol ?? null,
      action: intent?.action ?? null,
      side: intent?.side ?? null,
      quantity: intent?.quantity ?? null,
      outcome: decision.outcome,
      approvedQuantity: decision.approvedQuantity,
      guard: decision.guard,
      reason: decision.reason,
      observed: decision.observed,
      limit: decision.limit,
    });
  }
  return {
    events: result.events,
    decisions: result.decisions,
    mismatchCount: result.mismatches.length,
    mismatches: result.mismatches.slice(0, MISMATCHES_LISTED).map(({ seq, intentId, recorded, recomputed }) => ({ seq, intentId, recorded, recomputed })),
    stateHash: createHash("sha256").update(canonicalJson(result.state)).digest("hex"),
    decisionList,
    decisionsListed: Math.min(decisions, DECISIONS_LISTED),
  };
}

export async function runJob(job: WorkerJob, progress: (done: number, total: number) => void): Promise<WorkerResult> {
  const data: BarData =
    job.source.kind === "dataset" ? readBarFile(job.source.file) : parseBars(job.source.text, job.source.name, job.source.symbol);
  const strategy = builtinStrategies[job.strategy];
  if (!strategy) throw new Error(`no built-in strategy ${job.strategy}`);
  let last = 0;
  const run = await runBacktest({
    data,
    preset: job.preset,
    strategy,
    risk: job.risk,
    seed: job.seed,
    initialBalanceUsd: job.initialBalanceUsd,
    currency: job.currency,
    firm: job.firm,
    ...(job.instruments ? { instruments: job.instruments } : {}),
    onProgress: (done, total) => {
      const now = performance.now();
      if (done !== total && now - last < PROGRESS_EVERY_MS) return;
      last = now;
      progress(done, total);
    },
  });
  const report = summarize(run, data, job.preset, { risk: job.risk, seed: job.seed, initialBalanceUsd: job.initialBalanceUsd });
  const ledger = ledgerNdjson(run);
  return { bars: data.rows.length, report, equity: equityForChart(run.equity), equityRows: run.equity.length, ledger, replay: replayNdjson(ledger) };
}

if (parentPort) {
  const port = parentPort;
  const post = (message: WorkerMessage) => port.postMessage(message);
  const { job } = workerData as Extract<WorkerTask, { kind: "run" }>;
  runJob(job, (done, total) => post({ type: "progress", done, total })).then(
    (result) => post({ type: "done", result }),
    (error: unknown) => {
      // Input was checked before the run was queued; what is left is said as it is, to the operator who ran it.
      const message = error instanceof CsvError ? error.message.replace(/^--symbol: /, "symbol: ") : error instanceof Error ? error.message : String(error);
      if (!(error instanceof CsvError)) console.error("backtest worker: the run failed:", error);
      post({ type: "failed", error: message });
    },
  );
}
