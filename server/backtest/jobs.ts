import { randomUUID } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { Worker } from "node:worker_threads";
import type { BacktestBody } from "../api/schemas";
import { BACKTEST_STRATEGIES } from "../api/schemas";
import type { Principal } from "../auth/roles";
import { actorOf } from "../auth/roles";
import type { EngineConfig } from "../engine/config";
import type { Preset } from "../engine/preset";
import { AppError } from "../errors";
import type { CsvUpload, EquityChartPoint, ReplaySummary, WorkerJob, WorkerMessage, WorkerResult, WorkerTask } from "./jobs-worker";
import type { BacktestReport } from "./report";
import { builtinEngineConfig } from "./setup";
import { builtinStrategies } from "./strategies";

/**
 * Backtests for the console and the API: each run in a worker thread of its own (so the
 * server's event loop never waits for one), at most `concurrency` at a time and the rest queued
 * in order. An uploaded CSV is read in a worker thread too, before its run is queued (a bad one
 * is refused with 422), and only once the queue has room for the run: the event loop never
 * parses one. The recent runs are kept in memory (the newest `keep`; queued and running ones are
 * never dropped), with their progress, and once done their report, their equity for a chart,
 * their ledger (NDJSON) and its replay. Nothing is written to the ledger or the database: a run
 * is gone with the process.
 *
 * Runs are not tied to accounts, so a caller scoped to accounts sees only the runs it submitted
 * itself (another's is as absent as an unknown one: 404, so ids do not leak) and never who
 * submitted a run; unscoped callers see every run and who submitted it.
 */

export type BacktestStatus = "queued" | "running" | "done" | "failed";

/** What the run was asked to do. */
export type BacktestSpec = {
  /** The shipped data set's name, or the uploaded file's name. */
  readonly dataset: string;
  readonly uploaded: boolean;
  readonly preset: string;
  readonly presetVersion: number;
  readonly strategy: string;
  readonly risk: "on" | "off";
  readonly seed: number;
  /** The account's currency: the balance and every amount of the run are in it. */
  readonly currency: string;
  readonly initialBalanceUsd: number;
};

export type BacktestSummary = {
  readonly returnPct: number;
  readonly maxDrawdownPct: number;
  readonly sharpe: number | null;
  readonly trades: number;
  readonly denied: number;
  readonly compliant: boolean | null;
};

/** A run as listed: what it is, where it is, and its headline figures once done. */
export type BacktestListItem = BacktestSpec & {
  readonly id: string;
  readonly status: BacktestStatus;
  readonly progress: { readonly done: number; readonly total: number | null };
  readonly createdAt: number;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  /** Who submitted it (`user:alice`, `token:ci`); null for callers scoped to accounts. */
  readonly by: string | null;
  readonly error: string | null;
  readonly summary: BacktestSummary | null;
};

/** A run with everything but its ledger and replay (their own endpoints). */
export type BacktestDetail = BacktestListItem & {
  readonly report: BacktestReport | null;
  /** At most 1,000 points (LTTB on equity), with the day's baseline and both floors. */
  readonly equity: readonly EquityChartPoint[];
  readonly equityRows: number;
};

export type BacktestReplay = Omit<ReplaySummary, "decisionList"> & { readonly id: string; readonly decisionList: ReplaySummary["decisionList"] };

type Run = {
  readonly id: string;
  readonly spec: BacktestSpec;
  readonly job: WorkerJob;
  readonly by: string;
  /** The credential that submitted it (see `ownerOf`). */
  readonly owner: string;
  readonly createdAt: number;
  status: BacktestStatus;
  done: number;
  total: number | null;
  startedAt: number | null;
  finishedAt: number | null;
  error: string | null;
  result: WorkerResult | null;
  worker: Worker | null;
};

/** Where the shipped data sets are: test/fixtures/data/<name>.csv. */
export const DATASETS_DIR = path.join(import.meta.dirname, "..", "..", "test", "fixtures", "data");

export type BacktestJobsOptions = {
  /** Runs at once (default: 2 where there are 3 or more cores, else 1). */
  readonly concurrency?: number;
  /** Runs kept (default 20). */
  readonly keep?: number;
  /** Queued and running runs at most; more are refused with 429 (default 10). */
  readonly maxPending?: number;
  /** A run that takes longer fails (default 10 minutes). */
  readonly timeoutMs?: number;
  /** An upload not read in this time is refused with 500 (default 60 s; it takes well under a second). */
  readonly checkTimeoutMs?: number;
  /** The server's engine configuration, the runs' firm configuration (default: the built-in instruments and defaults). */
  readonly engine?: EngineConfig;
};

/** A preset by id and its latest version (the preset store), or null. */
export type PresetLookup = { get(presetId: string): Promise<{ version: number; preset: Preset } | null> };

// The catalog names the built-in strategies for the web; they must be exactly the runnable ones.
const builtin = Object.keys(builtinStrategies).sort();
if (JSON.stringify(builtin) !== JSON.stringify([...BACKTEST_STRATEGIES].sort())) {
  throw new Error(`BACKTEST_STRATEGIES (${BACKTEST_STRATEGIES.join(", ")}) differ from the built-in strategies (${builtin.join(", ")})`);
}

const invalid = (field: string, message: string) => new AppError("validation_failed", `${field}: ${message}`, [{ path: field, message }]);

/** A worker thread's script; it registers tsx in the thread, whether or not this process runs under tsx. */
const WORKER_ENTRY = new URL("./jobs-worker-entry.mjs", import.meta.url);

export class BacktestJobs {
  private readonly runs = new Map<string, Run>();
  private readonly queue: Run[] = [];
  private running = 0;
  /** Uploads being read: each holds a place in the queue until its run is queued or refused. */
  private checking = 0;
  private readonly checks = new Set<Worker>();
  private closed = false;
  readonly concurrency: number;
  private readonly keep: number;
  private readonly maxPending: number;
  private readonly timeoutMs: number;
  private readonly checkTimeoutMs: number;
  private readonly engine: EngineConfig;

  constructor(
    private readonly presets: PresetLookup,
    options: BacktestJobsOptions = {},
  ) {
    this.concurrency = options.concurrency ?? (os.availableParallelism() >= 3 ? 2 : 1);
    this.keep = options.keep ?? 20;
    this.maxPending = options.maxPending ?? 10;
    this.timeoutMs = options.timeoutMs ?? 10 * 60_000;
    this.checkTimeoutMs = options.checkTimeoutMs ?? 60_000;
    this.engine = options.engine ?? builtinEngineConfig;
  }

  /**
   * Checks the request (the preset exists, the balance fits it: 422 naming the field), that the
   * queue has room (429), then that an uploaded CSV parses, in a worker thread (422 naming the
   * field, and the CSV's line and column), and queues the run.
   */
  async submit(body: BacktestBody, caller: Principal): Promise<BacktestListItem> {
    if (this.closed) throw new AppError("storage_unavailable", "the server is shutting down");
    const found = await this.presets.get(body.preset);
    if (!found) throw invalid("preset", `there is no preset ${body.preset}`);
    const { preset } = found;
    const initialBalanceUsd = body.balance ?? preset.initialBalanceUsd ?? 100_000;
    const currency = body.currency ?? preset.currency ?? "USD";
    if (preset.initialBalanceUsd !== null && preset.initialBalanceUsd !== initialBalanceUsd) {
      throw invalid("balance", `preset ${preset.id} is written for an account of ${preset.initialBalanceUsd} ${currency}, not ${initialBalanceUsd}`);
    }
    if (preset.currency !== undefined && preset.currency !== currency) throw invalid("currency", `preset ${preset.id} is written for accounts in ${preset.currency}, not ${currency}`);
    const pending = this.checking + [...this.runs.values()].filter((run) => run.status === "queued" || run.status === "running").length;
    if (pending >= this.maxPending) {
      throw new AppError("rate_limited", `${pending} backtests are queued or running; try again when one has finished`, [], undefined, { retryAfterSeconds: 5 });
    }
    let source: WorkerJob["source"];
    let dataset: string;
    if (body.csv !== undefined) {
      const upload: CsvUpload = { text: body.csv, name: body.csvName ?? "upload.csv", ...(body.symbol ? { symbol: body.symbol } : {}) };
      this.checking++;
      try {
        await this.check(upload);
      } finally {
        this.checking--;
      }
      if (this.closed) throw new AppError("storage_unavailable", "the server is shutting down");
      source = { kind: "csv", ...upload };
      dataset = upload.name;
    } else {
      dataset = body.dataset!;
      source = { kind: "dataset", file: path.join(DATASETS_DIR, `${dataset}.csv`) };
    }
    const run: Run = {
      id: randomUUID(),
      spec: { dataset, uploaded: body.csv !== undefined, preset: preset.id, presetVersion: found.version, strategy: body.strategy, risk: body.risk, seed: body.seed, currency, initialBalanceUsd },
      job: { source, preset, strategy: body.strategy, risk: body.risk, seed: body.seed, currency, initialBalanceUsd, firm: this.engine, ...(body.instruments ? { instruments: body.instruments } : {}) },
      by: actorOf(caller),
      owner: ownerOf(caller),
      createdAt: Date.now(),
      status: "queued",
      done: 0,
      total: null,
      startedAt: null,
      finishedAt: null,
      error: null,
      result: null,
      worker: null,
    };
    this.runs.set(run.id, run);
    this.queue.push(run);
    this.prune();
    this.pump();
    return listItem(run, caller);
  }

  /** The kept runs the caller may see, newest first. */
  list(caller: Principal): BacktestListItem[] {
    return [...this.runs.values()]
      .reverse()
      .filter((run) => mayRead(caller, run))
      .map((run) => listItem(run, caller));
  }

  get(id: string, caller: Principal): BacktestDetail {
    const run = this.find(id, caller);
    return { ...listItem(run, caller), report: run.result?.report ?? null, equity: run.result?.equity ?? [], equityRows: run.result?.equityRows ?? 0 };
  }

  /** The run's ledger as NDJSON; 409 until it is done. */
  ledger(id: string, caller: Principal): string {
    return this.finished(id, caller).ledger;
  }

  replay(id: string, caller: Principal): BacktestReplay {
    return { id, ...this.finished(id, caller).replay };
  }

  /** Resolves when the run is done or failed (tests, the CLI). */
  async settled(id: string): Promise<BacktestListItem> {
    for (;;) {
      const run = this.find(id);
      if (run.status === "done" || run.status === "failed") return listItem(run, null);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Stops every worker (an upload being read is refused with 503); queued runs stay queued (and go with the process). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...[...this.runs.values()].map((run) => run.worker), ...this.checks].map((worker) => worker?.terminate()));
  }

  /**
   * Reads an upload in a worker thread of its own; resolves when it parses, else rejects with
   * 422 naming the field (`symbol` for the symbol, else `csv`) and the CSV's line and column.
   */
  private check(upload: CsvUpload): Promise<void> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(WORKER_ENTRY, { workerData: { kind: "check", upload } satisfies WorkerTask, execArgv: [] });
      this.checks.add(worker);
      let settled = false;
      const finish = (error: AppError | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.checks.delete(worker);
        void worker.terminate();
        if (error) reject(error);
        else resolve();
      };
      const timer = setTimeout(() => {
        console.error(`backtest upload ${upload.name}: not read in ${Math.round(this.checkTimeoutMs / 1_000)} s; stopped`);
        finish(new AppError("internal", "the upload could not be read"));
      }, this.checkTimeoutMs);
      worker.on("message", (message: WorkerMessage) => {
        if (message.type !== "checked") return;
        const { problem } = message;
        if (problem === null) finish(null);
        else if (problem.startsWith("--symbol: ")) finish(invalid("symbol", problem.slice("--symbol: ".length).replace("name it with --symbol", "name it with symbol")));
        else finish(invalid("csv", problem));
      });
      worker.on("error", (error) => {
        console.error(`backtest upload ${upload.name}: the worker failed:`, error);
        finish(new AppError("internal", "the upload could not be read"));
      });
      worker.on("exit", (code) =>
        finish(this.closed ? new AppError("storage_unavailable", "the server is shutting down") : new AppError("internal", `the upload could not be read (the worker stopped, exit code ${code})`)),
      );
    });
  }

  /** The run, when the caller (if one is named) may read it: another's run is as absent as none. */
  private find(id: string, caller: Principal | null = null): Run {
    const run = this.runs.get(id);
    if (!run || (caller && !mayRead(caller, run))) throw new AppError("not_found", `no backtest ${id} (the newest ${this.keep} runs are kept, until the server restarts)`);
    return run;
  }

  private finished(id: string, caller: Principal): WorkerResult {
    const run = this.find(id, caller);
    if (run.status !== "done" || !run.result) throw new AppError("conflict", `backtest ${id} is ${run.status}${run.error ? `: ${run.error}` : ""}`);
    return run.result;
  }

  /** Drops the oldest finished runs beyond `keep`. */
  private prune(): void {
    for (const run of this.runs.values()) {
      if (this.runs.size <= this.keep) break;
      if (run.status === "done" || run.status === "failed") this.runs.delete(run.id);
    }
  }

  private pump(): void {
    while (!this.closed && this.running < this.concurrency && this.queue.length > 0) this.start(this.queue.shift()!);
  }

  private start(run: Run): void {
    this.running++;
    run.status = "running";
    run.startedAt = Date.now();
    const worker = new Worker(WORKER_ENTRY, { workerData: { kind: "run", job: run.job } satisfies WorkerTask, execArgv: [] });
    run.worker = worker;
    let settled = false;
    const finish = (outcome: { result: WorkerResult } | { error: string }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if ("result" in outcome) {
        run.status = "done";
        run.result = outcome.result;
        run.done = run.total = outcome.result.bars;
      } else {
        run.status = "failed";
        run.error = outcome.error;
      }
      run.finishedAt = Date.now();
      run.worker = null;
      this.running--;
      void worker.terminate();
      this.prune();
      this.pump();
    };
    const timer = setTimeout(() => finish({ error: `took longer than ${Math.round(this.timeoutMs / 1_000)} s and was stopped` }), this.timeoutMs);
    worker.on("message", (message: WorkerMessage) => {
      if (message.type === "progress") {
        run.done = message.done;
        run.total = message.total;
      } else if (message.type === "done") finish({ result: message.result });
      else if (message.type === "failed") finish({ error: message.error });
    });
    worker.on("error", (error) => {
      console.error(`backtest ${run.id}: the worker failed:`, error);
      finish({ error: "the run failed (the server's log says why)" });
    });
    worker.on("exit", (code) => finish({ error: this.closed ? "the server shut down" : `the worker stopped (exit code ${code})` }));
  }
}

/** The credential itself, by kind and id: two tokens may share a name (and so an actor). */
function ownerOf(principal: Principal): string {
  return `${principal.kind}:${principal.id}`;
}

/** Scoped callers read only their own runs; unscoped ones every run. */
function mayRead(caller: Principal, run: Run): boolean {
  return caller.accounts === null || run.owner === ownerOf(caller);
}

/** The run as listed for `caller` (null: the process itself, e.g. the CLI); only unscoped callers see `by`. */
function listItem(run: Run, caller: Principal | null): BacktestListItem {
  const report = run.result?.report ?? null;
  return {
    id: run.id,
    ...run.spec,
    status: run.status,
    progress: { done: run.done, total: run.total },
    createdAt: run.createdAt,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    by: caller && caller.accounts !== null ? null : run.by,
    error: run.error,
    summary: report
      ? {
          returnPct: report.returnPct,
          maxDrawdownPct: report.maxDrawdownPct,
          sharpe: report.sharpe,
          trades: report.trades,
          denied: report.intents.denied,
          compliant: report.compliance?.compliant ?? null,
        }
      : null,
  };
}
