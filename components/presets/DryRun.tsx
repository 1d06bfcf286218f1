"use client";

import { useMutation } from "@tanstack/react-query";
import { useId, useState } from "react";
import type { Decision } from "@/server/engine/types";
import { clock } from "../format";
import type { DryRunResult } from "./api";
import { presetsApi } from "./api";

/**
 * Decides the account's latest decisions again under the draft (unsaved) and lists those that
 * would change. Nothing is recorded.
 */
export function DryRun({ accountId, draft, blocked }: { accountId: string | null; draft: unknown; blocked: string | null }) {
  const id = useId();
  const [decisions, setDecisions] = useState(500);
  const run = useMutation({
    mutationFn: ({ account, preset }: { account: string; preset: unknown; text: string }) => presetsApi.dryRun(account, preset, decisions),
  });
  const draftText = JSON.stringify(draft);
  const stale = run.data && run.variables && (run.variables.text !== draftText || run.variables.account !== accountId);
  const reason = blocked ?? (accountId ? null : "choose an account");

  return (
    <div className="dry-run">
      <div className="toolbar">
        <label className="field">
          <span>Latest decisions</span>
          <input id={`${id}-n`} type="number" min={1} max={5000} step={1} value={decisions} onChange={(event) => setDecisions(Math.min(5000, Math.max(1, Math.round(Number(event.target.value) || 1))))} />
        </label>
        <button
          type="button"
          className="primary"
          disabled={reason !== null || run.isPending}
          aria-describedby={reason ? `${id}-blocked` : undefined}
          onClick={() => accountId && run.mutate({ account: accountId, preset: draft, text: draftText })}
        >
          {run.isPending ? "Running…" : "Dry-run the draft"}
        </button>
        {reason && (
          <span className="muted small" id={`${id}-blocked`}>
            Cannot dry-run: {reason}
          </span>
        )}
      </div>
      {run.isError && (
        <p className="error" role="alert">
          Dry-run failed: {run.error.message}
        </p>
      )}
      {run.data && <DryRunReport result={run.data} stale={Boolean(stale)} />}
    </div>
  );
}

function DryRunReport({ result, stale }: { result: DryRunResult; stale: boolean }) {
  const counts = [
    { label: "Decided again", value: result.decisions, testId: "dry-decisions" },
    { label: "Allowed → denied", value: result.allowedToDenied, testId: "dry-allowed-to-denied", tone: "down" },
    { label: "Denied → allowed", value: result.deniedToAllowed, testId: "dry-denied-to-allowed", tone: "up" },
    { label: "Resized", value: result.resized, testId: "dry-resized" },
    { label: "Another reason", value: result.otherReason, testId: "dry-other-reason" },
  ];
  return (
    <section aria-label="Dry-run result" data-testid="dry-run-result" className={stale ? "stale-result" : undefined}>
      {stale && <p className="warn small">The draft or the account changed since this run: run it again to see the effect of the changes.</p>}
      <dl className="figures">
        {counts.map((count) => (
          <div key={count.label}>
            <dt>{count.label}</dt>
            <dd className={count.value > 0 ? count.tone : undefined} data-testid={count.testId}>
              {count.value}
            </dd>
          </div>
        ))}
      </dl>
      {result.changedCount === 0 ? (
        <p className="muted">
          No decision of {result.accountId} would change under the draft ({result.decisions} decided again).
        </p>
      ) : (
        <table className="dry-changes">
          <caption>
            {result.changedCount} of {result.decisions} decisions of {result.accountId} would change
            {result.changed.length < result.changedCount ? ` (latest ${result.changed.length} listed)` : ""}
          </caption>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Intent</th>
              <th scope="col" className="num">
                Size
              </th>
              <th scope="col">Recorded</th>
              <th scope="col">Under the draft</th>
            </tr>
          </thead>
          <tbody>
            {[...result.changed].reverse().map((change) => (
              <tr key={change.seq} data-testid="dry-change" data-intent={change.intentId}>
                <td className="mono small">{clock(Date.parse(change.at))}</td>
                <th scope="row">
                  <span className="mono">{change.intentId}</span>
                  <div className="muted small">
                    {change.action} {change.side} {change.symbol}
                  </div>
                </th>
                <td className="num">{change.quantity ?? "—"}</td>
                <td data-testid="dry-recorded">
                  <Outcome decision={change.recorded} />
                </td>
                <td data-testid="dry-candidate">
                  <Outcome decision={change.candidate} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** An outcome with its guard, reason and figures, or its approved size. */
function Outcome({ decision }: { decision: Decision | null }) {
  if (!decision) return <span className="badge badge-bad">refused</span>;
  if (decision.outcome === "allowed") {
    return (
      <span>
        <span className="badge badge-ok">allowed</span> <span className="small">qty {decision.approvedQuantity ?? "—"}</span>
      </span>
    );
  }
  const figures = decision.observed !== null || decision.limit !== null ? ` (${format(decision.observed)} vs limit ${format(decision.limit)})` : "";
  return (
    <span>
      <span className="badge badge-bad">denied</span>{" "}
      <span className="small">
        <span className="mono">{decision.guard}</span> · <span className="mono">{decision.reason}</span>
        {figures}
        {decision.detail ? ` · ${decision.detail}` : ""}
      </span>
    </span>
  );
}

const format = (value: number | string | null) => (value === null ? "—" : typeof value === "number" ? value.toLocaleString("en-US", { maximumFractionDigits: 4 }) : value);
