"use client";

import Link from "next/link";
import { memo } from "react";
import type { OverviewRow } from "@/server/overview-protocol";
import { money } from "../format";

/** The accounts breached or halted today (the server's newest 100), most recent first. */
export const BreachedToday = memo(function BreachedToday({ rows, total }: { rows: OverviewRow[] | null; total: number | null }) {
  return (
    <section className="card ov-breached" aria-labelledby="ov-breached-title" data-testid="breached-today">
      <h2 id="ov-breached-title">Breached or halted today {total !== null && total > 0 && <span className="muted">({total})</span>}</h2>
      {rows === null ? (
        <p className="muted">Loading…</p>
      ) : rows.length === 0 ? (
        <p className="muted">No breach today.</p>
      ) : (
        <div className="ov-panel-scroll" tabIndex={0} role="region" aria-label="Breached or halted accounts">
          <ul className="ov-breached-list">
            {rows.map((row) => (
              <li key={row.accountId} data-testid="breached-row" data-account={row.accountId}>
                <Link href={`/accounts/${encodeURIComponent(row.accountId)}`}>{row.name}</Link>
                <span className={`badge state-${row.tradingState.toLowerCase()}`}>{row.tradingState}</span>
                <span className="muted small ov-ellipsis">
                  {row.accountId}
                  {row.breakers.length > 0 && <> · {row.breakers.join(", ")}</>}
                  {row.lockedSymbols.length > 0 && <> · locked {row.lockedSymbols.join(", ")}</>}
                </span>
                <span className={`num small ${row.dayPnl >= 0 ? "up" : "down"}`}>{money(row.dayPnl, row.currency)}</span>
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
});
