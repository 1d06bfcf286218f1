"use client";

import { clock } from "./format";
import type { StreamStatus } from "./useLiveStream";

export function ConnectionBadge({ status }: { status: StreamStatus }) {
  const { phase, staleSince, seq } = status;
  return (
    <div className="connection" role="status" aria-live="polite">
      <span className={`badge ${phase === "connected" ? "badge-ok" : phase === "connecting" ? "badge-wait" : "badge-bad"}`} data-testid="connection-status">
        {phase}
      </span>
      {staleSince && <span className="stale-note">stale since {clock(staleSince.getTime())}</span>}
      <span className="muted" data-testid="connection-seq">
        seq {seq}
      </span>
    </div>
  );
}
