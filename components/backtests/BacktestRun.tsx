"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { money, pct } from "../format";
import type { BacktestDetail } from "./api";
import { backtestKeys, backtestsApi, isLive, utc } from "./api";
import { RunStatus } from "./RunStatus";
import { EquityCurve } from "./EquityCurve";
import { POLL_MS } from "./RunStatus";


/** One run: its progress while it runs; then its equity against the floors, figures, denials and compliance. */
export function BacktestRun({ id }: { id: string }) {
  const run = useQuery({
    queryKey: backtestKeys.one(id),
    queryFn: () => backtestsApi.get(id),
    refetchInterval: (query) => (query.state.data && isLive(query.state.data.backtest) ? POLL_MS : false),
    retry: false,
  });
  if (run.isPending) return <p className="muted">Loading the run…</p>;
  if (run.isError) {
    return (
      <section className="card">
        <h2>Run not found</h2>
        <p className="error" role="alert">
          {run.error.message}
        </p>
      </section>
    );
  }
  const backtest = run.data.backtest;
  return (
    <>
      <section className="card" aria-labelledby="run-title" data-testid="backtest-run" data-status={backtest.status}>
        <header className="card-header">
          <div>
            <h2 id="run-title">
              {backtest.strategy} on {backtest.dataset}
            </h2>
            <p className="muted small">
              {backtest.preset} v{backtest.presetVersion} · risk {backtest.risk} · seed {backtest.seed} · {money(backtest.initialBalanceUsd, backtest.currency)}
              {backtest.by !== null && ` · by ${backtest.by}`}
            </p>
          </div>
          {backtest.status === "done" && (
            <div className="run-actions">
              <a href={backtestsApi.ledgerHref(backtest.id)} download={`backtest-${backtest.id}.ndjson`}>
                Download the ledger (NDJSON)
              </a>
              <Link href={`/replay?backtest=${encodeURIComponent(backtest.id)}`} className="button-link">
                Open in Replay
              </Link>
            </div>
          )}
        </header>
        <RunStatus run={backtest} />
        {backtest.report && backtest.report.warnings.length > 0 && <Warnings warnings={backtest.report.warnings} />}
        {backtest.report && <Figures run={backtest} />}
      </section>
      {backtest.report && (
        <>
          <EquityCurve run={backtest} />
          <div className="run-panels">
            <Denials run={backtest} />
            <Compliance run={backtest} />
          </div>
        </>
      )}
    </>
  );
}

/** What the run had to guess (an instrument, a volume): said where the figures are read. */
function Warnings({ warnings }: { warnings: readonly string[] }) {
  return (
    <div className="run-warnings" role="note" aria-label="What the run guessed" data-testid="backtest-warnings">
      <p className="small">
        <strong>Guessed:</strong> state these in an instruments file to be sure.
      </p>
      <ul className="small">
        {warnings.map((warning) => (
          <li key={warning}>{warning}</li>
        ))}
      </ul>
    </div>
  );
}

function Figures({ run }: { run: BacktestDetail }) {
  const report = run.report!;
  const figures: [string, string, string?][] = [
    ["Return", pct(report.returnPct), report.returnPct >= 0 ? "up" : "down"],
    ["Max drawdown", pct(report.maxDrawdownPct)],
    ["Sharpe", report.sharpe === null ? "n/a" : report.sharpe.toFixed(2)],
    ["Trades", report.trades.toLocaleString("en-US")],
    ["Final equity", money(report.finalEquity, run.currency)],
    ["Intents allowed", report.intents.allowed.toLocaleString("en-US")],
    ["Intents denied", report.intents.denied.toLocaleString("en-US")],
    ["Fees", money(report.fees, run.currency)],
  ];
  return (
    <dl className="figures" data-testid="run-figures">
      {figures.map(([label, value, tone]) => (
        <div key={label}>
          <dt>{label}</dt>
          <dd className={tone}>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

/** Denials counted by one key (a reason, a guard). */
function DenialCounts({ caption, label, rows, rowTestId }: { caption: string; label: string; rows: [string, number][]; rowTestId?: string }) {
  return (
    <table>
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">{label}</th>
          <th scope="col" className="num">
            Denied
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.map(([key, count]) => (
          <tr key={key} data-testid={rowTestId}>
            <th scope="row" className="mono">
              {key}
            </th>
            <td className="num">{count.toLocaleString("en-US")}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Denials({ run }: { run: BacktestDetail }) {
  const report = run.report!;
  const reasons = Object.entries(report.deniedByReason);
  const guards = Object.entries(report.deniedByGuard);
  return (
    <section className="card" aria-labelledby="denials-title" data-testid="denials">
      <h2 id="denials-title">Denials</h2>
      {reasons.length === 0 ? (
        <p className="muted small">No intent was denied ({report.intents.submitted.toLocaleString("en-US")} submitted).</p>
      ) : (
        <>
          <DenialCounts caption={`By reason (${report.intents.denied.toLocaleString("en-US")} of ${report.intents.submitted.toLocaleString("en-US")} intents)`} label="Reason" rows={reasons} rowTestId="denial-row" />
          <DenialCounts caption="By guard" label="Guard" rows={guards} />
        </>
      )}
      {report.riskEvents.length > 0 && (
        <>
          <h3>The engine&apos;s risk events</h3>
          <ul className="risk-events small">
            {report.riskEvents.slice(0, 20).map((event) => (
              <li key={event.seq}>
                <span className="mono">{utc(event.at)}</span> {event.type}: {event.detail}
              </li>
            ))}
            {report.riskEvents.length > 20 && <li className="muted">and {report.riskEvents.length - 20} more</li>}
          </ul>
        </>
      )}
    </section>
  );
}

function Compliance({ run }: { run: BacktestDetail }) {
  const compliance = run.report!.compliance;
  if (!compliance) {
    return (
      <section className="card" aria-labelledby="compliance-title" data-testid="compliance">
        <h2 id="compliance-title">Compliance</h2>
        <p className="muted">Not verified.</p>
      </section>
    );
  }
  const { profitTarget, tradingDays, bestDay } = compliance.objectives;
  const verdict = !compliance.compliant ? "Breached" : compliance.passed ? "Passed" : "Compliant, objectives not met";
  return (
    <section className="card" aria-labelledby="compliance-title" data-testid="compliance">
      <header className="card-header">
        <h2 id="compliance-title">Compliance with {run.preset}</h2>
        <span className={`badge ${compliance.compliant ? (compliance.passed ? "badge-ok" : "badge-warn") : "badge-bad"}`} data-testid="compliance-verdict">
          {verdict}
        </span>
      </header>
      {compliance.breaches.length === 0 ? (
        <p className="small">No rule was breached.</p>
      ) : (
        <BreachTable caption="Breaches (the verifier's own books, from the ledger)" rows={compliance.breaches} testId="breach-row" currency={run.currency} />
      )}
      {(compliance.dailyLimitEvents ?? []).length > 0 && (
        <BreachTable
          caption="Daily loss limit hit: positions liquidated, trading paused until the next reset (not a violation under this preset)"
          rows={compliance.dailyLimitEvents}
          testId="daily-limit-row"
          currency={run.currency}
        />
      )}
      <h3>Objectives</h3>
      <ul className="objectives small" data-testid="objectives">
        <li>
          Profit target:{" "}
          {profitTarget === null
            ? "none"
            : `${money(profitTarget.target, run.currency)}, ${profitTarget.reached ? `reached ${profitTarget.reachedAt === null ? "" : utc(profitTarget.reachedAt)}` : "not reached"}`}
        </li>
        <li>
          Trading days:{" "}
          {tradingDays.required === 0
            ? `${tradingDays.days} (the preset requires no minimum)`
            : `${tradingDays.days} of ${tradingDays.required} required (${tradingDays.met ? "met" : "not met"})`}
        </li>
        <li>
          Best day:{" "}
          {bestDay === null
            ? "no rule"
            : `${bestDay.sharePct === null ? "no profit" : `${pct(bestDay.sharePct, 1)} of the profit`}${bestDay.bestDay ? ` on ${bestDay.bestDay}` : ""}, at most ${pct(bestDay.maxSharePct, 0)} (${bestDay.met ? "met" : "not met"})`}
        </li>
      </ul>
      <p className="small muted">
        Final balance {money(compliance.finalBalance, run.currency)}, equity {money(compliance.finalEquity, run.currency)}, from {money(compliance.initialBalanceUsd, run.currency)}.
      </p>
    </section>
  );
}

type BreachRow = NonNullable<NonNullable<BacktestDetail["report"]>["compliance"]>["breaches"][number];

/** Floors the account reached: rule, when, equity against the floor, and what the preset does. */
function BreachTable({ caption, rows, testId, currency }: { caption: string; rows: readonly BreachRow[]; testId: string; currency: string }) {
  return (
    <table>
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Rule</th>
          <th scope="col">Time (UTC)</th>
          <th scope="col">Trading day</th>
          <th scope="col" className="num">
            Observed equity
          </th>
          <th scope="col" className="num">
            Limit (floor)
          </th>
          <th scope="col">Consequence</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((breach) => (
          <tr key={`${breach.rule}-${breach.seq}`} data-testid={testId}>
            <th scope="row" className="mono">
              {breach.rule}
            </th>
            <td className="mono">{utc(breach.at)}</td>
            <td>{breach.tradingDay}</td>
            <td className="num">{money(breach.observed, currency)}</td>
            <td className="num">{money(breach.limit, currency)}</td>
            <td>{breach.consequence}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
