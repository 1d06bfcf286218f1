"use client";

import type { AccountView } from "@/server/realtime-protocol";
import type { BreakerAction } from "./BreakerDialog";

const money = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", maximumFractionDigits: 0 });

function when(ms: number): string {
  return new Date(ms).toLocaleString([], { hour12: false });
}

export function AccountCard({ account, onAction }: { account: AccountView; onAction: (action: BreakerAction) => void }) {
  return (
    <section className="card" aria-label={`Account ${account.accountId}`}>
      <header className="card-header">
        <div>
          <h2>{account.name}</h2>
          <p className="muted">
            {account.accountId} · preset {account.presetId} · initial {money.format(account.initialBalanceUsd)}
          </p>
        </div>
        <span
          className={`badge state state-${account.tradingState.toLowerCase()}`}
          data-testid="trading-state"
          aria-label="Trading state"
        >
          {account.tradingState}
        </span>
      </header>
      {account.reducing && account.tradingState === "REDUCING" ? (
        <p className="state-reducing" data-testid="reducing">
          Reduce-only: “{account.reducing.reason}” by {account.reducing.by} at {when(account.reducing.at)}
          {account.reducing.untilReset ? " · until the daily reset" : " · until an operator ends it"}
        </p>
      ) : null}
      <table className="breakers">
        <caption>Circuit breakers</caption>
        <thead>
          <tr>
            <th scope="col">Breaker</th>
            <th scope="col">State</th>
            <th scope="col">Detail</th>
            <th scope="col">Action</th>
          </tr>
        </thead>
        <tbody>
          {account.breakers.map((breaker) => (
            <tr key={breaker.kind} data-testid={`breaker-${breaker.kind}`}>
              <th scope="row">{breaker.kind}</th>
              <td>
                <span className={`badge ${breaker.tripped ? "badge-bad" : "badge-ok"}`}>
                  {breaker.tripped ? "TRIPPED" : "armed"}
                </span>
              </td>
              <td className="muted">
                {breaker.tripped
                  ? `“${breaker.reason}” by ${breaker.trippedBy} at ${when(breaker.trippedAt)} · ${
                      breaker.autoResetAt === null ? "reset: risk manager only" : `resets itself at ${when(breaker.autoResetAt)}`
                    }`
                  : breaker.lastResetAt
                    ? `last reset by ${breaker.lastResetBy} at ${when(breaker.lastResetAt)}`
                    : breaker.resetPolicy === "manual_only"
                      ? "never tripped"
                      : "armed: trips itself, resets itself"}
              </td>
              <td>
                {breaker.tripped ? (
                  <button className="primary" onClick={() => onAction({ account, breaker: breaker.kind, action: "reset" })}>
                    Reset
                  </button>
                ) : breaker.kind === "manual" ? (
                  <button className="danger" onClick={() => onAction({ account, breaker: breaker.kind, action: "trip" })}>
                    Trip
                  </button>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted">
        Decisions: {account.decisions.allowed} allowed · {account.decisions.denied} denied
      </p>
    </section>
  );
}
