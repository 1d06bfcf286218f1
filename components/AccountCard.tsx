"use client";

import { useEffect, useState } from "react";
import type { AccountView } from "@/server/realtime-protocol";
import type { BreakerAction } from "./BreakerDialog";

const money = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", maximumFractionDigits: 0 });

function when(ms: number): string {
  return new Date(ms).toLocaleString([], { hour12: false });
}

/** `onAction` is null for roles that may not trip or reset: the buttons are not offered at all. */
export function AccountCard({ account, onAction }: { account: AccountView; onAction: ((action: BreakerAction) => void) | null }) {
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
      <dl className="figures">
        <div>
          <dt>Equity</dt>
          <dd data-testid="equity">{money.format(account.equityUsd)}</dd>
        </div>
        <div>
          <dt>Today</dt>
          <dd className={account.equityUsd >= account.baselineUsd ? "badge-ok" : "badge-bad"}>
            {money.format(account.equityUsd - account.baselineUsd)}
            {account.baselineShadow ? " (shadow baseline)" : ""}
          </dd>
        </div>
        <div>
          <dt>Daily loss floor</dt>
          <dd>{money.format(account.dailyLossFloorUsd)}</dd>
        </div>
        <div>
          <dt>Max loss floor</dt>
          <dd>{money.format(account.maxLossFloorUsd)}</dd>
        </div>
        <div>
          <dt>Open positions</dt>
          <dd>{account.positions.length}</dd>
        </div>
      </dl>
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
                {onAction === null ? null : breaker.tripped ? (
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
      <VetoList account={account} />
      <p className="muted">
        Decisions: {account.decisions.allowed} allowed · {account.decisions.denied} denied
      </p>
    </section>
  );
}

/** The account's veto registry: locked symbols and locked sides still in force. */
function VetoList({ account }: { account: AccountView }) {
  const now = useNow(1_000);
  const inForce = [
    ...account.vetoes.map((veto) => ({ key: veto.symbol, what: veto.symbol, ...veto })),
    ...account.sideLocks.map((lock) => ({ key: `side-${lock.side}`, what: `all ${lock.side} entries`, ...lock })),
  ].filter((lock) => lock.expiresAt === null || lock.expiresAt > now);
  return (
    <section aria-label="Veto registry" data-testid="vetoes">
      <h3>Locked</h3>
      {inForce.length === 0 ? (
        <p className="muted">Nothing locked.</p>
      ) : (
        <ul className="vetoes">
          {inForce.map((lock) => (
            <li key={lock.key}>
              <strong>{lock.what}</strong> · {lock.reason.replaceAll("_", " ")}
              {lock.valueAtTrigger !== null ? ` at ${lock.valueAtTrigger}` : ""} · since {when(lock.since)} ·{" "}
              {lock.expiresAt === null ? "until the daily reset" : `until ${when(lock.expiresAt)}`}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** The time, refreshed every `intervalMs`: timed locks leave the list when they end. */
function useNow(intervalMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}
