"use client";

import { useMutation } from "@tanstack/react-query";
import { useId, useState } from "react";
import type { ApiSchema } from "../api";
import { clock } from "../format";
import { quantity } from "../quantity";
import type { ChangedDecision, DryRunResult } from "./api";

type Decision = ApiSchema<"Decision">;
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

type Kind = "allowedToDenied" | "deniedToAllowed" | "resized" | "otherReason" | "otherFigures";

const KINDS: { kind: Kind; label: string; testId: string; tone?: "up" | "down" }[] = [
  { kind: "allowedToDenied", label: "Allowed → denied", testId: "dry-allowed-to-denied", tone: "down" },
  { kind: "deniedToAllowed", label: "Denied → allowed", testId: "dry-denied-to-allowed", tone: "up" },
  { kind: "resized", label: "Allowed, resized", testId: "dry-resized" },
  { kind: "otherReason", label: "Denied, another reason", testId: "dry-other-reason" },
  { kind: "otherFigures", label: "Same outcome, other figures", testId: "dry-other-figures" },
];

/** Why a decision is listed, as the server counts it (a refusal counts as a denial). */
function kindOf(change: ChangedDecision): Kind {
  const now = change.candidate?.outcome ?? "denied";
  const was = change.recorded.outcome;
  if (was === "allowed" && now === "denied") return "allowedToDenied";
  if (was === "denied" && now === "allowed") return "deniedToAllowed";
  if (now === "allowed") return change.candidate?.approvedQuantity !== change.recorded.approvedQuantity ? "resized" : "otherFigures";
  return change.candidate?.guard !== change.recorded.guard || change.candidate?.reason !== change.recorded.reason ? "otherReason" : "otherFigures";
}

/**
 * The counts, each decision in exactly one: unchanged, or changed in one of five ways; the
 * server counts four, the fifth (same outcome and reason, other figures: a denial's limit is the
 * draft's) is what is left of the changed ones, so the tiles add up to the decisions decided again.
 */
export function dryRunCounts(result: DryRunResult): Record<Kind | "unchanged" | "changed" | "decisions", number> {
  const counted = result.allowedToDenied + result.deniedToAllowed + result.resized + result.otherReason;
  return {
    decisions: result.decisions,
    unchanged: result.decisions - result.changedCount,
    changed: result.changedCount,
    allowedToDenied: result.allowedToDenied,
    deniedToAllowed: result.deniedToAllowed,
    resized: result.resized,
    otherReason: result.otherReason,
    otherFigures: Math.max(0, result.changedCount - counted),
  };
}

function DryRunReport({ result, stale }: { result: DryRunResult; stale: boolean }) {
  const id = useId();
  const counts = dryRunCounts(result);
  const labelOf = new Map(KINDS.map(({ kind, label }) => [kind, label]));
  return (
    <section aria-label="Dry-run result" data-testid="dry-run-result" className={stale ? "stale-result" : undefined}>
      {stale && <p className="warn small">The draft or the account changed since this run: run it again to see the effect of the changes.</p>}
      <p className="small" data-testid="dry-summary">
        <strong data-testid="dry-decisions">{counts.decisions}</strong> decisions of {result.accountId} decided again:{" "}
        <strong data-testid="dry-unchanged">{counts.unchanged}</strong> unchanged, <strong data-testid="dry-changed">{counts.changed}</strong> would change.
      </p>
      <dl className="figures dry-figures" aria-label={`The ${counts.changed} that would change, by kind`}>
        {KINDS.map(({ kind, label, testId, tone }) => (
          <div key={kind}>
            <dt>{label}</dt>
            <dd className={counts[kind] > 0 ? tone : undefined} data-testid={testId}>
              {counts[kind]}
            </dd>
          </div>
        ))}
      </dl>
      {result.unreviewed > 0 && (
        <p className="muted small" data-testid="dry-unreviewed">
          {result.unreviewed} allowed {result.unreviewed === 1 ? "decision" : "decisions"} would go to the reviewer under the draft, which the recording has no verdict
          for: decided without it.
        </p>
      )}
      {result.changedCount === 0 ? (
        <p className="muted">No decision would change under the draft.</p>
      ) : (
        <>
          <p className="muted small" id={`${id}-list`}>
            {result.changed.length < result.changedCount ? `The latest ${result.changed.length} of the ${result.changedCount} changes, newest first:` : "Newest first:"}
          </p>
          <div className="dry-scroll" tabIndex={0} role="region" aria-labelledby={`${id}-list`}>
            <ol className="dry-changes">
              {[...result.changed].reverse().map((change) => (
                <li key={change.seq} data-testid="dry-change" data-intent={change.intentId} data-kind={kindOf(change)}>
                  <div className="dry-change-head">
                    <span className="mono small">{clock(change.at)}</span> <span className="mono">{change.intentId}</span>{" "}
                    <span className="muted small">
                      {change.action} {change.side} {quantity(change.quantity)} {change.symbol}
                    </span>{" "}
                    <span className="badge badge-wait">{labelOf.get(kindOf(change))}</span>
                  </div>
                  <div className="dry-change-body">
                    <span data-testid="dry-recorded">
                      <span className="muted small">Recorded: </span>
                      <Outcome decision={change.recorded} />
                    </span>
                    <span data-testid="dry-candidate">
                      <span className="muted small">Under the draft: </span>
                      <Outcome decision={change.candidate} />
                    </span>
                  </div>
                </li>
              ))}
            </ol>
          </div>
        </>
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
        <span className="badge badge-ok">allowed</span> <span className="small">qty {quantity(decision.approvedQuantity)}</span>
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

const format = (value: number | string | null) => (value === null ? "—" : typeof value === "number" ? quantity(value) : value);
