"use client";

import { memo, useState } from "react";
import type { ExposureLine, FirmExposure as Exposure } from "@/server/overview-protocol";

const compactUsd = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", notation: "compact", maximumFractionDigits: 1 });
const count = new Intl.NumberFormat("en-US");

/** Signed money with an explicit sign: "+$1.2M", "−$300K". */
function signed(value: number): string {
  if (value === 0) return compactUsd.format(0);
  return `${value > 0 ? "+" : "−"}${compactUsd.format(Math.abs(value))}`;
}

/** Longest first, then by name: what carries the most risk leads. */
function byGross(lines: ExposureLine[]): ExposureLine[] {
  return [...lines].sort((a, b) => b.grossUsd - a.grossUsd || a.key.localeCompare(b.key));
}

/**
 * The firm's own exposure, live: every account's positions summed by symbol and by volatility
 * cluster. The firm is the traders' counterparty, so it carries the opposite of their net.
 */
export const FirmExposure = memo(function FirmExposure({ exposure }: { exposure: Exposure | null }) {
  const [by, setBy] = useState<"symbol" | "cluster">("symbol");
  const lines = byGross((by === "symbol" ? exposure?.bySymbol : exposure?.byCluster) ?? []);
  const scale = Math.max(1, ...lines.map((line) => line.grossUsd));
  return (
    <section className="card ov-exposure" aria-labelledby="ov-exposure-title" data-testid="firm-exposure">
      <header className="card-header">
        <div>
          <h2 id="ov-exposure-title">Firm exposure</h2>
          <p className="muted small">
            Summed over every account at the last prices. The firm carries the opposite of the traders&apos; net: traders net long is the firm short.
          </p>
        </div>
        <div className="ov-segmented" role="group" aria-label="Group exposure by">
          <button type="button" aria-pressed={by === "symbol"} onClick={() => setBy("symbol")}>
            Symbol
          </button>
          <button type="button" aria-pressed={by === "cluster"} onClick={() => setBy("cluster")}>
            Cluster
          </button>
        </div>
      </header>
      {lines.length === 0 ? (
        <p className="muted">No open positions.</p>
      ) : (
        <div className="ov-panel-scroll" tabIndex={0} role="region" aria-label={`Exposure by ${by}`}>
          <table className="ov-exposure-table">
            <caption className="sr-only">Exposure by {by}, largest gross first; the firm&apos;s net is the opposite of the traders&apos; net</caption>
            <thead>
              <tr>
                <th scope="col">{by === "symbol" ? "Symbol" : "Cluster"}</th>
                <th scope="col" className="num">
                  Traders&apos; net
                </th>
                <th scope="col" className="num">
                  Firm&apos;s net
                </th>
                <th scope="col" className="num">
                  Gross
                </th>
                <th scope="col" className="num">
                  Accounts
                </th>
                <th scope="col" className="ov-net-col">
                  <span className="sr-only">Traders&apos; net, short to long</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {lines.map((line) => (
                <tr key={line.key} data-testid="exposure-row" data-key={line.key}>
                  <th scope="row">{line.key}</th>
                  <td className={`num ${line.netUsd >= 0 ? "up" : "down"}`}>{signed(line.netUsd)}</td>
                  <td className={`num ${-line.netUsd >= 0 ? "up" : "down"}`}>{signed(-line.netUsd)}</td>
                  <td className="num">{compactUsd.format(line.grossUsd)}</td>
                  <td className="num">{count.format(line.accounts)}</td>
                  <td className="ov-net-col" aria-hidden="true">
                    <NetBar netUsd={line.netUsd} grossUsd={line.grossUsd} scale={scale} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
});

/** A bar centred on zero: gross in the background, the traders' net to the left (short) or right (long). */
function NetBar({ netUsd, grossUsd, scale }: { netUsd: number; grossUsd: number; scale: number }) {
  const half = (value: number) => `${Math.min(50, (Math.abs(value) / scale) * 50)}%`;
  return (
    <span className="ov-netbar">
      <span className="ov-netbar-gross" style={{ left: `calc(50% - ${half(grossUsd)})`, width: `calc(2 * ${half(grossUsd)})` }} />
      <span className={`ov-netbar-net ${netUsd >= 0 ? "long" : "short"}`} style={netUsd >= 0 ? { left: "50%", width: half(netUsd) } : { right: "50%", width: half(netUsd) }} />
    </span>
  );
}
