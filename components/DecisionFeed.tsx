"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import type { ApiSchema } from "./api";
import { clock } from "./format";

/** A decision as the API and the stream carry it (the OpenAPI document's `DecisionRecord`; the stream's fit it). */
type DecisionRecord = ApiSchema<"DecisionRecord">;

/** An account's page. */
export function accountHref(accountId: string): string {
  return `/accounts/${encodeURIComponent(accountId)}`;
}

/** An account's page with one of its decisions opened (its intent, and the seq of its decision). */
export function decisionHref(accountId: string, intentId: string, seq?: number): string {
  const query = new URLSearchParams({ decision: intentId, ...(seq !== undefined ? { seq: String(seq) } : {}) });
  return `${accountHref(accountId)}?${query}`;
}

/** A decision's order in one line: `OPEN BUY 1 EURUSD`. */
export function orderOf(record: DecisionRecord): string {
  const { intent } = record;
  // Sizes to 10 significant digits: 0.1 + 0.2 lots reads 0.3, not 0.30000000000000004.
  const size = intent.quantity !== undefined ? Number(intent.quantity.toPrecision(10)) : intent.targetWeight !== undefined ? `${intent.targetWeight}w` : "all";
  return `${intent.action} ${intent.side} ${size} ${intent.symbol}`;
}

/**
 * Why, in one line: the approved size, or the denying guard, reason, observed value and limit,
 * and what the engine noted beside them (a halt's breaker, who, when and why).
 */
export function why(record: DecisionRecord): string {
  const { decision } = record;
  if (decision.outcome === "allowed") return decision.approvedQuantity === null ? "" : `approved ${decision.approvedQuantity}`;
  const detail = decision.detail ? ` — ${decision.detail}` : "";
  return `${decision.guard} · ${decision.reason} (observed ${decision.observed ?? "—"}, limit ${decision.limit ?? "—"})${detail}`;
}

/** An outcome badge. */
export function Outcome({ record }: { record: DecisionRecord }) {
  return <span className={`badge ${record.decision.outcome === "allowed" ? "badge-ok" : "badge-bad"}`}>{record.decision.outcome}</span>;
}

/**
 * The firm's latest decisions. Each row leads to its account's page with the decision opened
 * (the intent is a link, the account another; a click anywhere on the row does the same).
 */
export function DecisionFeed({ decisions }: { decisions: DecisionRecord[] }) {
  const router = useRouter();
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
              <tr
                key={record.seq}
                data-testid="decision-row"
                data-outcome={record.decision.outcome}
                style={{ cursor: "pointer" }}
                onClick={(event) => {
                  // A link in the row already navigates; elsewhere on the row opens the decision.
                  if ((event.target as HTMLElement).closest("a")) return;
                  router.push(decisionHref(record.decision.accountId, record.intent.intentId, record.seq));
                }}
              >
                <td>{clock(record.at)}</td>
                <td className="muted">{record.seq}</td>
                <td>
                  <Link href={accountHref(record.decision.accountId)}>{record.decision.accountId}</Link>
                </td>
                <td>
                  <Link href={decisionHref(record.decision.accountId, record.intent.intentId, record.seq)} aria-label={`Open decision ${record.intent.intentId} of ${record.decision.accountId}`}>
                    {record.intent.intentId}
                  </Link>
                </td>
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
