"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import type { FormEvent } from "react";
import { Suspense, useId, useState } from "react";
import { BACKTEST_DATASETS, BACKTEST_STRATEGIES } from "@/server/api/schemas";
import { ApiError } from "../api";
import { when } from "../format";
import { useSession } from "../session";
import { presetKeys, presetsApi } from "../presets/api";
import type { BacktestListItem, BacktestRequest } from "./api";
import { backtestKeys, backtestsApi, isLive } from "./api";
import { BacktestRun } from "./BacktestRun";
import { POLL_MS, RunStatus } from "./RunStatus";
import "./backtests.css";

/** The API refuses bodies over 2 MiB; a file that large is refused here before it is sent. */
const MAX_UPLOAD_BYTES = 2 * 1024 * 1024 - 64 * 1024;

const DATASET_LABELS: Record<(typeof BACKTEST_DATASETS)[number], string> = {
  "msft-2000-2001-daily": "MSFT 2000–2001, daily OHLCV",
  "eu-stock-markets-1991-1998-daily": "EU stock indices 1991–1998 (DAX, SMI, CAC, FTSE), daily closes",
};

const STRATEGY_LABELS: Record<(typeof BACKTEST_STRATEGIES)[number], string> = {
  "buy-and-hold": "Buy and hold",
  "sma-crossover": "SMA crossover (10 / 30)",
  "mean-reversion": "Mean reversion (2 σ)",
  reckless: "Reckless (oversized, random)",
};

const runHref = (id: string) => `/backtests?run=${encodeURIComponent(id)}`;

/** Backtests: the form (risk managers and admins), the recent runs with their progress, and the selected run (`?run=…`). */
export function BacktestsPage() {
  return (
    <Suspense fallback={<p className="muted">Loading backtests…</p>}>
      <Backtests />
    </Suspense>
  );
}

function Backtests() {
  const { canOperate } = useSession();
  const params = useSearchParams();
  const selected = params.get("run");
  const runs = useQuery({
    queryKey: backtestKeys.all,
    queryFn: backtestsApi.list,
    refetchInterval: (query) => (query.state.data?.backtests.some(isLive) ? POLL_MS : false),
  });
  const list = runs.data?.backtests ?? [];

  return (
    <div className="backtests">
      <div className="backtests-side">
        {canOperate ? (
          <RunForm />
        ) : (
          <section className="card" aria-labelledby="run-form-title">
            <h2 id="run-form-title">Backtests</h2>
            <p className="muted small" data-testid="run-not-offered">
              Your role may look at the runs; running one takes a risk manager or an admin.
            </p>
          </section>
        )}
        <section className="card runs" aria-labelledby="runs-title">
          <h2 id="runs-title">Recent runs</h2>
          {runs.isPending && <p className="muted">Loading…</p>}
          {runs.isError && (
            <p className="error" role="alert">
              Cannot load the runs: {runs.error.message}
            </p>
          )}
          {runs.isSuccess && list.length === 0 && <p className="muted small">No runs yet{canOperate ? ": run one above" : ""}. The newest 20 are kept until the server restarts.</p>}
          <ul className="run-list">
            {list.map((run) => (
              <li key={run.id}>
                <RunLink run={run} current={run.id === selected} />
              </li>
            ))}
          </ul>
        </section>
      </div>
      <div className="backtest-detail">
        {selected ? (
          <BacktestRun key={selected} id={selected} />
        ) : (
          <section className="card">
            <h2>Choose a run</h2>
            <p className="muted">A run shows its equity against both loss floors, its figures, the denials by reason and the compliance report for its preset.</p>
          </section>
        )}
      </div>
    </div>
  );
}

/** A run in the list: what it is, its status and progress, its headline figures. */
function RunLink({ run, current }: { run: BacktestListItem; current: boolean }) {
  return (
    <Link href={runHref(run.id)} aria-current={current ? "page" : undefined} data-testid="run-link" data-run={run.id} data-status={run.status}>
      <span className="run-title">
        {run.strategy} · {run.uploaded ? run.dataset : run.dataset.replace(/-daily$/, "")}
      </span>
      <span className="muted small">
        {run.preset} · risk {run.risk} · seed {run.seed} · {when(run.createdAt)}
        {run.by !== null && ` · ${run.by}`}
      </span>
      <RunStatus run={run} />
    </Link>
  );
}

type Source = "dataset" | "upload";

/** Reads the chosen file as text; names the problem when it is too large. */
async function readUpload(file: File | null): Promise<{ csv: string; csvName: string } | string> {
  if (!file) return "choose a CSV file";
  if (file.size > MAX_UPLOAD_BYTES) return `${file.name} is ${(file.size / 1_048_576).toFixed(1)} MiB; the API takes at most 2 MiB`;
  return { csv: await file.text(), csvName: file.name };
}

/**
 * Reads the chosen instruments file (optional) as JSON: an object of instruments by symbol, which
 * the server checks (422 naming the field, e.g. `instruments.EURCHF.contractSize`).
 */
async function readInstruments(file: File | null): Promise<{ instruments?: BacktestRequest["instruments"] } | string> {
  if (!file) return {};
  if (file.size > MAX_UPLOAD_BYTES) return `${file.name} is ${(file.size / 1_048_576).toFixed(1)} MiB; the API takes at most 2 MiB`;
  try {
    return { instruments: JSON.parse(await file.text()) as BacktestRequest["instruments"] };
  } catch (error) {
    return `${file.name} is not JSON: ${(error as Error).message}`;
  }
}

function RunForm() {
  const id = useId();
  const router = useRouter();
  const queryClient = useQueryClient();
  const presets = useQuery({ queryKey: presetKeys.all, queryFn: presetsApi.list });
  const [source, setSource] = useState<Source>("dataset");
  const [dataset, setDataset] = useState<string>(BACKTEST_DATASETS[0]);
  const [file, setFile] = useState<File | null>(null);
  const [instrumentsFile, setInstrumentsFile] = useState<File | null>(null);
  const [preset, setPreset] = useState("ftmo-2step-100k");
  const [strategy, setStrategy] = useState<string>("sma-crossover");
  const [riskOn, setRiskOn] = useState(true);
  const [seed, setSeed] = useState("1");
  const [balance, setBalance] = useState("");
  const [currency, setCurrency] = useState("");
  const [uploadProblem, setUploadProblem] = useState<string | null>(null);
  const [instrumentsProblem, setInstrumentsProblem] = useState<string | null>(null);

  const run = useMutation({
    mutationFn: async () => {
      const body: BacktestRequest = {
        preset,
        strategy: strategy as BacktestRequest["strategy"],
        risk: riskOn ? "on" : "off",
        seed: Number(seed),
        ...(balance.trim() ? { balance: Number(balance) } : {}),
        ...(currency.trim() ? { currency: currency.trim().toUpperCase() } : {}),
      };
      if (source === "upload") {
        const upload = await readUpload(file);
        if (typeof upload === "string") {
          setUploadProblem(upload);
          throw new ApiError(422, `csv: ${upload}`, [{ path: "csv", message: upload }]);
        }
        Object.assign(body, upload);
        const instruments = await readInstruments(instrumentsFile);
        if (typeof instruments === "string") {
          setInstrumentsProblem(instruments);
          throw new ApiError(422, `instruments: ${instruments}`, [{ path: "instruments", message: instruments }]);
        }
        Object.assign(body, instruments);
      } else {
        body.dataset = dataset as BacktestRequest["dataset"];
      }
      setUploadProblem(null);
      setInstrumentsProblem(null);
      return backtestsApi.run(body);
    },
    onSuccess: async (answer) => {
      await queryClient.invalidateQueries({ queryKey: backtestKeys.all });
      router.push(runHref(answer.id));
    },
  });
  const issues = run.error instanceof ApiError ? run.error.issues : [];
  // The instruments' issues name a symbol and a field (`instruments.EURCHF.contractSize`): all are shown under the file.
  const instrumentsIssue = issues.filter((issue) => issue.path === "instruments" || issue.path.startsWith("instruments.")).map((issue) => (issue.path === "instruments" ? issue.message : `${issue.path.slice("instruments.".length)}: ${issue.message}`));
  const issueOf = (field: string) =>
    field === "instruments"
      ? (instrumentsIssue.length > 0 ? instrumentsIssue.join("; ") : instrumentsProblem)
      : (issues.find((issue) => issue.path === field)?.message ?? (field === "csv" ? uploadProblem : null));
  const fieldError = (field: string) => {
    const message = issueOf(field);
    return message ? (
      <span className="field-error" id={`${id}-${field}-error`} role="alert">
        {message}
      </span>
    ) : null;
  };
  const described = (field: string) => (issueOf(field) ? { "aria-invalid": true as const, "aria-describedby": `${id}-${field}-error` } : {});
  const presetList = presets.data?.presets ?? [];

  const submit = (event: FormEvent) => {
    event.preventDefault();
    run.mutate();
  };

  return (
    <form className="card run-form" aria-labelledby={`${id}-title`} onSubmit={submit}>
      <h2 id={`${id}-title`}>Run a backtest</h2>
      <fieldset className="source">
        <legend>Data</legend>
        <label className="choice">
          <input type="radio" name={`${id}-source`} value="dataset" checked={source === "dataset"} onChange={() => setSource("dataset")} />
          A shipped data set
        </label>
        <label className="choice">
          <input type="radio" name={`${id}-source`} value="upload" checked={source === "upload"} onChange={() => setSource("upload")} />
          Upload a CSV
        </label>
        {source === "dataset" ? (
          <div className="field">
            <label htmlFor={`${id}-dataset`}>Data set</label>
            <select id={`${id}-dataset`} value={dataset} onChange={(event) => setDataset(event.target.value)} {...described("dataset")}>
              {BACKTEST_DATASETS.map((name) => (
                <option key={name} value={name}>
                  {DATASET_LABELS[name]}
                </option>
              ))}
            </select>
            {fieldError("dataset")}
          </div>
        ) : (
          <div className="field">
            <label htmlFor={`${id}-csv`}>CSV file</label>
            <input id={`${id}-csv`} type="file" accept=".csv,text/csv" onChange={(event) => setFile(event.target.files?.[0] ?? null)} {...described("csv")} />
            <span className="small muted">
              A date column and Open, High, Low, Close[, Volume] (the file name&apos;s first word is the symbol), or one close column per symbol. At most 2 MiB.
            </span>
            {fieldError("csv")}
            {fieldError("symbol")}
            <label htmlFor={`${id}-instruments`}>Instruments file (optional)</label>
            <input id={`${id}-instruments`} type="file" accept=".json,application/json" onChange={(event) => setInstrumentsFile(event.target.files?.[0] ?? null)} {...described("instruments")} />
            <span className="small muted">
              JSON, instruments by symbol: {'{"EURCHF": {"sector": "fx", "contractSize": 100000, "tickSize": 0.00001, "averageDailyVolume": 500000, "quoteCurrency": "CHF"}}'}. A symbol not stated is
              guessed (a currency pair as FX, else an equity), and the run says so.
            </span>
            {fieldError("instruments")}
          </div>
        )}
      </fieldset>
      <div className="field">
        <label htmlFor={`${id}-preset`}>Preset</label>
        <select id={`${id}-preset`} value={preset} onChange={(event) => setPreset(event.target.value)} disabled={presets.isPending} {...described("preset")}>
          {presetList.length === 0 && <option value={preset}>{preset}</option>}
          {presetList.map((candidate) => (
            <option key={candidate.id} value={candidate.id}>
              {candidate.name} ({candidate.id} v{candidate.latestVersion})
            </option>
          ))}
        </select>
        {fieldError("preset")}
      </div>
      <div className="field">
        <label htmlFor={`${id}-strategy`}>Strategy</label>
        <select id={`${id}-strategy`} value={strategy} onChange={(event) => setStrategy(event.target.value)} {...described("strategy")}>
          {BACKTEST_STRATEGIES.map((name) => (
            <option key={name} value={name}>
              {STRATEGY_LABELS[name]}
            </option>
          ))}
        </select>
        {fieldError("strategy")}
      </div>
      <div className="form-row">
        <div className="field">
          <label htmlFor={`${id}-seed`}>Seed</label>
          <input id={`${id}-seed`} type="number" min={0} step={1} value={seed} onChange={(event) => setSeed(event.target.value)} required {...described("seed")} />
          {fieldError("seed")}
        </div>
        <div className="field">
          <label htmlFor={`${id}-balance`}>Balance</label>
          <input id={`${id}-balance`} type="number" min={1} step="any" value={balance} placeholder="the preset's" onChange={(event) => setBalance(event.target.value)} {...described("balance")} />
          {fieldError("balance")}
        </div>
        <div className="field">
          <label htmlFor={`${id}-currency`}>Account currency</label>
          <input id={`${id}-currency`} value={currency} placeholder="the preset's, else USD" maxLength={3} size={6} onChange={(event) => setCurrency(event.target.value)} {...described("currency")} />
          {fieldError("currency")}
        </div>
      </div>
      <label className="choice">
        <input type="checkbox" checked={riskOn} onChange={(event) => setRiskOn(event.target.checked)} />
        Risk gate on (off: every guard that can be switched off is off)
      </label>
      <div className="form-actions">
        <button type="submit" className="primary" disabled={run.isPending}>
          {run.isPending ? "Starting…" : "Run"}
        </button>
        {run.isError && issues.length === 0 && (
          <span className="error small" role="alert">
            {run.error.message}
          </span>
        )}
      </div>
    </form>
  );
}
