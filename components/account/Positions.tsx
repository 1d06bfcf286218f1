"use client";

import type { AccountView } from "@/server/realtime-protocol";
import { money, pct } from "../format";
import { StaleNote } from "../session";

type Cap = { enabled: boolean; maxPct: number };

/** What the account holds, and its gross exposure per symbol, cluster and sector against the caps. */
export function Positions({ account }: { account: AccountView }) {
  const grossBySymbol = new Map(account.exposure.bySymbol.map((row) => [row.symbol, row.gross]));
  const { clusterCap, sectorCap } = account.rules.guards;
  return (
    <section className="card panel panel-positions" aria-labelledby="positions-title">
      <h2 id="positions-title">
        Positions and exposure <StaleNote />
      </h2>
      {account.positions.length === 0 ? (
        <p className="muted">No open positions.</p>
      ) : (
        <div className="scroll" tabIndex={0} role="region" aria-label="Open positions">
          <table className="compact" data-testid="positions">
            <caption className="sr-only">Open positions</caption>
            <thead>
              <tr>
                <th scope="col">Symbol</th>
                <th scope="col" className="num">
                  Quantity
                </th>
                <th scope="col" className="num">
                  Avg price
                </th>
                <th scope="col" className="num">
                  Gross
                </th>
              </tr>
            </thead>
            <tbody>
              {account.positions.map((position) => {
                const gross = grossBySymbol.get(position.symbol);
                return (
                  <tr key={position.symbol} data-testid="position-row">
                    <th scope="row">
                      {position.symbol} <span className={`small ${position.quantity > 0 ? "up" : "down"}`}>{position.quantity > 0 ? "long" : "short"}</span>
                    </th>
                    <td className="num">{position.quantity}</td>
                    <td className="num">{position.avgPrice}</td>
                    <td className="num">{gross === undefined ? <span className="muted">no price</span> : money(gross, account.currency)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <Groups title="By cluster" rows={account.exposure.byCluster.map((row) => ({ name: row.cluster, ...row }))} cap={clusterCap} equity={account.equity} currency={account.currency} />
      <Groups title="By sector" rows={account.exposure.bySector.map((row) => ({ name: row.sector, ...row }))} cap={sectorCap} equity={account.equity} currency={account.currency} />
    </section>
  );
}

/** Gross exposure of each group against its cap (maxPct of equity), with a bar. */
function Groups({ title, rows, cap, equity, currency }: { title: string; rows: { name: string; gross: number; unpriced: number }[]; cap: Cap; equity: number; currency: string }) {
  const capUsd = (cap.maxPct / 100) * equity;
  return (
    <div className="exposure-groups">
      <h3>
        {title}{" "}
        <span className="muted small">
          cap {pct(cap.maxPct, 0)} of equity = {money(capUsd, currency)}
          {cap.enabled ? "" : " · not enforced by this preset"}
        </span>
      </h3>
      {rows.length === 0 ? (
        <p className="muted small">No exposure.</p>
      ) : (
        <ul className="exposure-list">
          {rows.map((row) => {
            const usedPct = capUsd > 0 ? (row.gross / capUsd) * 100 : 0;
            return (
              <li key={row.name}>
                <span className="exposure-name">{row.name}</span>
                <meter
                  className="bar"
                  min={0}
                  max={100}
                  low={70}
                  high={90}
                  optimum={0}
                  value={Math.min(100, usedPct)}
                  aria-label={`${title} ${row.name}: ${pct(usedPct, 0)} of the cap`}
                />
                <span className="num small">
                  {money(row.gross, currency)} · {pct(usedPct, 0)}
                  {row.unpriced > 0 && <span className="warn"> · {row.unpriced} unpriced</span>}
                </span>
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}
