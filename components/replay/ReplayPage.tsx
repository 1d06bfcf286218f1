"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { Suspense, useId, useMemo, useState } from "react";
import type { BacktestReplay } from "../backtests/api";
import { backtestKeys, backtestsApi, utc } from "../backtests/api";
import "../backtests/backtests.css";
import { quantity } from "../quantity";

/** An observed value or a limit: a number to 4 decimals, a text as it is, nothing when absent. */
const figure = (value: number | string | null | undefined) => (value === null || value === undefined ? "—" : typeof value === "number" ? quantity(value) : value);

/** Decisions shown at first, and added by each "Show more". */
const PAGE = 250;

type OutcomeFilter = "all" | "allowed" | "denied";

/** Replay (`/replay?backtest=…`): a backtest's ledger decided again by the engine, every decision compared with the recorded one. */
export function ReplayPage() {
  return (
    <Suspense fallback={<p className="muted">Loading the replay…</p>}>
      <Replay />
    </Suspense>
  );
}

function Replay() {
  const params = useSearchParams();
  const id = params.get("backtest");
  return <div className="replay">{id ? <ReplayOf key={id} id={id} /> : <ChooseRun />}</div>;
}

/** Without a run named: the finished runs to replay. */
function ChooseRun() {
  const runs = useQuery({ queryKey: backtestKeys.all, queryFn: backtestsApi.list });
  const done = (runs.data?.backtests ?? []).filter((run) => run.status === "done");
  return (
    <section className="card" aria-labelledby="replay-choose-title">
      <h2 id="replay-choose-title">Replay a backtest</h2>
      {runs.isError && (
        <p className="error" role="alert">
          Cannot load the runs: {runs.error.message}
        </p>
      )}
      {runs.isSuccess && done.length === 0 && (
        <p className="muted">
          No finished backtest to replay: run one on the <Link href="/backtests">Backtests</Link> page.
        </p>
      )}
      <ul className="run-list">
        {done.map((run) => (
          <li key={run.id}>
            <Link href={`/replay?backtest=${encodeURIComponent(run.id)}`}>
              <span className="run-title">
                {run.strategy} · {run.dataset}
              </span>
              <span className="muted small">
                {run.preset} · risk {run.risk} · seed {run.seed}
              </span>
            </Link>
          </li>
        ))}
      </ul>
    </section>
  );
}

function ReplayOf({ id }: { id: string }) {
  const run = useQuery({ queryKey: backtestKeys.one(id), queryFn: () => backtestsApi.get(id), retry: false });
  const replay = useQuery({ queryKey: backtestKeys.replay(id), queryFn: () => backtestsApi.replay(id), retry: false });
  const backtest = run.data?.backtest;
  return (
    <>
      <section className="card" aria-labelledby="replay-title">
        <header className="card-header">
          <div>
            <h2 id="replay-title">Replay{backtest ? `: ${backtest.strategy} on ${backtest.dataset}` : ""}</h2>
            <p className="muted small">
              {backtest ? `${backtest.preset} v${backtest.presetVersion} · risk ${backtest.risk} · seed ${backtest.seed} · ` : ""}
              the run&apos;s ledger read back and folded through the engine; every intent decided again from the state just before it and compared with the
              decision recorded.
            </p>
          </div>
          <Link href={`/backtests?run=${encodeURIComponent(id)}`}>Back to the run</Link>
        </header>
        {replay.isPending && <p className="muted">Replaying…</p>}
        {replay.isError && (
          <p className="error" role="alert">
            Cannot replay this run: {replay.error.message}
          </p>
        )}
        {replay.data && <Counts replay={replay.data.replay} />}
      </section>
      {replay.data && replay.data.replay.mismatchCount > 0 && <Mismatches replay={replay.data.replay} />}
      {replay.data && <Decisions replay={replay.data.replay} />}
    </>
  );
}

function Counts({ replay }: { replay: BacktestReplay }) {
  return (
    <>
      <dl className="figures" data-testid="replay-counts">
        <div>
          <dt>Events</dt>
          <dd data-testid="replay-events">{replay.events.toLocaleString("en-US")}</dd>
        </div>
        <div>
          <dt>Decisions</dt>
          <dd data-testid="replay-decisions">{replay.decisions.toLocaleString("en-US")}</dd>
        </div>
        <div>
          <dt>Mismatches</dt>
          <dd data-testid="replay-mismatches" className={replay.mismatchCount === 0 ? "up" : "down"}>
            {replay.mismatchCount.toLocaleString("en-US")}
          </dd>
        </div>
      </dl>
      <p className="small">
        {replay.mismatchCount === 0 ? "Every recorded decision was reproduced." : `${replay.mismatchCount} recorded decisions were not reproduced.`} Final state SHA-256:{" "}
        <code className="mono hash" data-testid="state-hash">
          {replay.stateHash}
        </code>{" "}
        (what <code className="mono">npm run replay</code> prints for the downloaded ledger).
      </p>
    </>
  );
}

function Mismatches({ replay }: { replay: BacktestReplay }) {
  return (
    <section className="card" aria-labelledby="mismatches-title">
      <h2 id="mismatches-title" className="error">
        Mismatches
      </h2>
      {replay.mismatchCount > replay.mismatches.length && (
        <p className="small muted">
          The first {replay.mismatches.length} of {replay.mismatchCount}.
        </p>
      )}
      <ul className="mismatches">
        {replay.mismatches.map((mismatch) => (
          <li key={`${mismatch.seq}-${mismatch.intentId}`} data-testid="mismatch">
            <p>
              seq {mismatch.seq}, intent <span className="mono">{mismatch.intentId}</span>
            </p>
            <div className="mismatch-pair">
              <div>
                <h3>Recorded</h3>
                <pre className="mono">{mismatch.recorded ? JSON.stringify(mismatch.recorded, null, 2) : "no decision recorded"}</pre>
              </div>
              <div>
                <h3>Decided again</h3>
                <pre className="mono">{mismatch.recomputed ? JSON.stringify(mismatch.recomputed, null, 2) : "the engine could not decide it"}</pre>
              </div>
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}

function Decisions({ replay }: { replay: BacktestReplay }) {
  const id = useId();
  const [outcome, setOutcome] = useState<OutcomeFilter>("all");
  const [shown, setShown] = useState(PAGE);
  const filtered = useMemo(() => (outcome === "all" ? replay.decisionList : replay.decisionList.filter((decision) => decision.outcome === outcome)), [replay, outcome]);
  const rows = filtered.slice(0, shown);
  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <header className="card-header">
        <h2 id={`${id}-title`}>Decisions</h2>
        <div className="field inline">
          <label htmlFor={`${id}-outcome`}>Outcome</label>
          <select
            id={`${id}-outcome`}
            value={outcome}
            onChange={(event) => {
              setOutcome(event.target.value as OutcomeFilter);
              setShown(PAGE);
            }}
          >
            <option value="all">all</option>
            <option value="allowed">allowed</option>
            <option value="denied">denied</option>
          </select>
        </div>
      </header>
      <p className="small muted" data-testid="decisions-shown">
        {rows.length.toLocaleString("en-US")} of {filtered.length.toLocaleString("en-US")} {outcome === "all" ? "" : `${outcome} `}decisions shown
        {replay.decisions > replay.decisionsListed ? ` (the server lists the first ${replay.decisionsListed.toLocaleString("en-US")} of ${replay.decisions.toLocaleString("en-US")})` : ""}.
      </p>
      <div className="table-scroll" tabIndex={0} role="region" aria-label="Replayed decisions">
        <table className="decisions">
          <thead>
            <tr>
              <th scope="col" className="num">
                Seq
              </th>
              <th scope="col">Time (UTC)</th>
              <th scope="col">Intent</th>
              <th scope="col">Outcome</th>
              <th scope="col">Guard</th>
              <th scope="col">Reason</th>
              <th scope="col">Observed / limit</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((decision) => (
              <tr key={decision.seq} data-testid="replay-decision" data-outcome={decision.outcome}>
                <td className="num">{decision.seq}</td>
                <td className="mono">{utc(decision.at)}</td>
                <td>
                  {decision.action ?? "?"} {decision.side ?? ""} {decision.quantity === null ? "" : quantity(decision.quantity)} {decision.symbol ?? ""}
                </td>
                <td className={decision.outcome === "allowed" ? "up" : "down"}>
                  {decision.outcome}
                  {decision.outcome === "allowed" && decision.approvedQuantity !== null && decision.quantity !== null && decision.approvedQuantity < decision.quantity
                    ? ` (${quantity(decision.approvedQuantity)})`
                    : ""}
                </td>
                <td className="mono">{decision.guard ?? ""}</td>
                <td className="mono">{decision.reason ?? ""}</td>
                <td className="mono small">{decision.observed === null ? "" : `${figure(decision.observed)} / ${figure(decision.limit)}`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {filtered.length > rows.length && (
        <button type="button" onClick={() => setShown((count) => count + PAGE)}>
          Show {Math.min(PAGE, filtered.length - rows.length)} more
        </button>
      )}
    </section>
  );
}
