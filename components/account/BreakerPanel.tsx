"use client";

import { useState } from "react";
import type { AccountView } from "@/server/realtime-protocol";
import type { BreakerAction } from "../BreakerDialog";
import { BreakerDialog } from "../BreakerDialog";
import { when } from "../format";
import { StaleNote, useSession } from "../session";
import { countdown, useNow } from "./useNow";

type Breaker = AccountView["breakers"][number];

const LABEL: Record<Breaker["kind"], string> = {
  manual: "Manual",
  daily_drawdown: "Daily drawdown",
  execution_failures: "Execution failures",
  latency: "Latency",
};

/** How a breaker comes back, in words. */
function resetRule(breaker: Breaker): string {
  switch (breaker.resetPolicy) {
    case "manual_only":
      return "reset: risk manager or admin, with a reason";
    case "auto_after_cooldown":
      return "resets itself after its cooldown (an operator may reset it sooner)";
    case "auto_when_healthy":
      return "resets itself once latency has been healthy for its cooldown (an operator may reset it sooner)";
  }
}

/** Every breaker of the account: state, why and when it tripped and who tripped it, and how it resets. */
export function BreakerPanel({ account }: { account: AccountView }) {
  const { canOperate } = useSession();
  const now = useNow();
  const [action, setAction] = useState<BreakerAction | null>(null);
  return (
    <section className="card panel panel-breakers" aria-labelledby="breakers-title">
      <h2 id="breakers-title">
        Circuit breakers <StaleNote />
      </h2>
      <ul className="breaker-list">
        {account.breakers.map((breaker) => (
          <li key={breaker.kind} className={breaker.tripped ? "breaker tripped" : "breaker"} data-testid={`breaker-${breaker.kind}`}>
            <div className="breaker-head">
              <h3>{LABEL[breaker.kind]}</h3>
              <span className={`badge ${breaker.tripped ? "badge-bad" : "badge-ok"}`} data-testid="breaker-state">
                {breaker.tripped ? "TRIPPED" : "armed"}
              </span>
              {canOperate &&
                (breaker.tripped ? (
                  <button className="primary" onClick={() => setAction({ account, breaker: breaker.kind, action: "reset" })}>
                    Reset
                  </button>
                ) : breaker.kind === "manual" ? (
                  <button className="danger" onClick={() => setAction({ account, breaker: breaker.kind, action: "trip" })}>
                    Trip
                  </button>
                ) : null)}
            </div>
            {breaker.tripped ? (
              <p className="small">
                “{breaker.reason}” · tripped by <strong>{breaker.trippedBy}</strong> at {when(breaker.trippedAt)}
              </p>
            ) : (
              <p className="small muted">
                {breaker.lastResetAt !== null
                  ? `last reset by ${breaker.lastResetBy} at ${when(breaker.lastResetAt)}`
                  : breaker.kind === "manual"
                    ? "never tripped"
                    : "armed: the engine trips it"}
              </p>
            )}
            <p className="small muted">
              {breaker.tripped && breaker.autoResetAt !== null ? (
                <span data-testid="auto-reset">
                  resets itself in <strong className="countdown">{countdown(breaker.autoResetAt, now)}</strong> (at {when(breaker.autoResetAt)})
                </span>
              ) : (
                resetRule(breaker)
              )}
            </p>
          </li>
        ))}
      </ul>
      {!canOperate && <p className="small muted">Your role may view breakers; trips and resets are for risk managers and admins.</p>}
      {action && <BreakerDialog request={action} onClose={() => setAction(null)} />}
    </section>
  );
}
