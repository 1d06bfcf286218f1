"use client";

import type { StreamStatus } from "./useLiveStream";

export function ConnectionBadge({ status }: { status: StreamStatus }) {
  const { connected, staleSince, seq } = status;
  return (
    <div className="connection" role="status" aria-live="polite">
      <span className={`badge ${connected ? "badge-ok" : "badge-bad"}`} data-testid="connection-status">
        {connected ? "connected" : "disconnected"}
      </span>
      {staleSince && <span className="muted">stale since {staleSince.toLocaleTimeString([], { hour12: false })}</span>}
      <span className="muted">seq {seq}</span>
    </div>
  );
}
