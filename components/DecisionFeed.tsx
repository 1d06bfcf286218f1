"use client";

import type { DecisionRecord } from "@/server/realtime-protocol";

function detail(record: DecisionRecord): string {
  const { decision } = record;
  if (decision.outcome === "allowed") return decision.approvedQuantity === null ? "" : `approved ${decision.approvedQuantity}`;
  return `${decision.guard} · ${decision.reason} (observed ${decision.observed ?? "—"}, limit ${decision.limit ?? "—"})`;
}

export function DecisionFeed({ decisions }: { decisions: DecisionRecord[] }) {
  return (
    <section className="card" aria-label="Decision feed">
      <h2>Decisions</h2>
      {decisions.length === 0 ? (
        <p className="muted">No intents yet. Strategies submit them with POST /api/v1/intents.</p>
      ) : (
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
                <td>{new Date(record.at).toLocaleTimeString([], { hour12: false })}</td>
                <td className="muted">{record.seq}</td>
                <td>{record.decision.accountId}</td>
                <td>{record.intent.intentId}</td>
                <td>
                  {record.intent.action} {record.intent.side} {record.intent.quantity ?? `${record.intent.targetWeight ?? ""}w`}{" "}
                  {record.intent.symbol}
                </td>
                <td>
                  <span className={`badge ${record.decision.outcome === "allowed" ? "badge-ok" : "badge-bad"}`}>
                    {record.decision.outcome}
                  </span>
                </td>
                <td className="muted">{detail(record)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
