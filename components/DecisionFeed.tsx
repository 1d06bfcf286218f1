"use client";

import type { DecisionRecord } from "@/server/realtime-protocol";
import { clock } from "./format";

/** A decision's order in one line: `OPEN BUY 1 EURUSD`. */
export function orderOf(record: DecisionRecord): string {
  const { intent } = record;
  // Sizes to 10 significant digits: 0.1 + 0.2 lots reads 0.3, not 0.30000000000000004.
  const size = intent.quantity !== undefined ? Number(intent.quantity.toPrecision(10)) : intent.targetWeight !== undefined ? `${intent.targetWeight}w` : "all";
  return `${intent.action} ${intent.side} ${size} ${intent.symbol}`;
}

/** Why, in one line: the approved size, or the denying guard, reason, observed value and limit. */
export function why(record: DecisionRecord): string {
  const { decision } = record;
  if (decision.outcome === "allowed") return decision.approvedQuantity === null ? "" : `approved ${decision.approvedQuantity}`;
  return `${decision.guard} · ${decision.reason} (observed ${decision.observed ?? "—"}, limit ${decision.limit ?? "—"})`;
}

/** An outcome badge. */
export function Outcome({ record }: { record: DecisionRecord }) {
  return <span className={`badge ${record.decision.outcome === "allowed" ? "badge-ok" : "badge-bad"}`}>{record.decision.outcome}</span>;
}

export function DecisionFeed({ decisions }: { decisions: DecisionRecord[] }) {
  return (
    <section className="card" aria-label="Decision feed">
      <h2>Decisions</h2>
      {decisions.length === 0 ? (
        <p className="muted">No intents yet. Strategies submit them with POST /api/v1/intents.</p>
      ) : (
        <div className="feed-scroll" tabIndex={0} role="region" aria-label="Decisions, newest first">
        <table className="feed">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Seq</th>
              <th scope="col">Account</th>
              <th scope="col">Intent</th>
              <th scope="col">Order</th>
              <th scope="col">Outcome</th>
              <th scope="col">Why</th>
            </tr>
          </thead>
          <tbody>
            {decisions.map((record) => (
              <tr key={record.seq} data-testid="decision-row" data-outcome={record.decision.outcome}>
                <td>{clock(record.at)}</td>
                <td className="muted">{record.seq}</td>
                <td>{record.decision.accountId}</td>
                <td>{record.intent.intentId}</td>
                <td>{orderOf(record)}</td>
                <td>
                  <Outcome record={record} />
                </td>
                <td className="muted">{why(record)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        </div>
      )}
    </section>
  );
}
