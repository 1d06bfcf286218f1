"use client";

import { pct } from "../format";
import type { BacktestListItem } from "./api";
import { isLive } from "./api";

/** While a run is queued or running, the list and the run are asked again this often. */
export const POLL_MS = 500;

/** The status, a progress bar while it runs, and the headline figures once done. */
export function RunStatus({ run }: { run: BacktestListItem }) {
  const { done, total } = run.progress;
  return (
    <span className="run-status">
      <span className={`badge status-${run.status}`} data-testid="run-status">
        {run.status}
      </span>
      {isLive(run) && (
        <>
          <progress max={total ?? 1} value={total === null ? undefined : done} aria-label={`Progress of the ${run.strategy} run`} />
          <span className="small num" data-testid="run-progress">
            {total === null ? (run.status === "queued" ? "waiting" : "starting") : `${done.toLocaleString("en-US")} / ${total.toLocaleString("en-US")} bars`}
          </span>
        </>
      )}
      {run.summary && (
        <span className="small num">
          <span className={run.summary.returnPct >= 0 ? "up" : "down"}>{pct(run.summary.returnPct)}</span> · DD {pct(run.summary.maxDrawdownPct)} ·{" "}
          {run.summary.compliant === null ? "not verified" : run.summary.compliant ? "compliant" : "breached"}
        </span>
      )}
      {run.status === "failed" && <span className="small error">{run.error}</span>}
    </span>
  );
}
