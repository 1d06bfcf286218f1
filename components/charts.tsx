"use client";

import { useEffect, useRef, useState } from "react";
import { Line } from "recharts";

/**
 * What the equity charts (an account's, a backtest's) share: the series of equity against the
 * day's baseline and both loss floors, their legend, the tooltip's look, and the chart's width.
 */
export const EQUITY_SERIES = [
  { key: "equity", name: "Equity", color: "var(--accent)", width: 2, dash: undefined, type: "linear" },
  { key: "baseline", name: "Day's baseline", color: "var(--muted)", width: 1.5, dash: "4 3", type: "stepAfter" },
  { key: "dailyLossFloor", name: "Daily-loss floor", color: "var(--warn)", width: 1.5, dash: "6 3", type: "stepAfter" },
  { key: "maxLossFloor", name: "Max-loss floor", color: "var(--bad)", width: 1.5, dash: "2 2", type: "stepAfter" },
] as const;

/** The lines of EQUITY_SERIES, no animation (Recharts wants them as direct children: call, do not wrap). */
export function equityLines() {
  return EQUITY_SERIES.map((series) => (
    <Line
      key={series.key}
      dataKey={series.key}
      name={series.name}
      type={series.type}
      stroke={series.color}
      strokeWidth={series.width}
      strokeDasharray={series.dash}
      dot={false}
      activeDot={series.key === "equity" ? { r: 3 } : false}
      isAnimationActive={false}
      className={`series-${series.key}`}
    />
  ));
}

export function EquityLegend() {
  return (
    <ul className="legend" aria-label="Series">
      {EQUITY_SERIES.map((series) => (
        <li key={series.key}>
          <svg width="18" height="8" aria-hidden="true">
            <line x1="0" y1="4" x2="18" y2="4" stroke={series.color} strokeWidth={series.width} strokeDasharray={series.dash} />
          </svg>
          {series.name}
        </li>
      ))}
    </ul>
  );
}

export const tooltipStyle = { background: "var(--panel)", border: "1px solid var(--border)", color: "var(--text)" };

const thousands = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 });

/** 101,500 USD as "101.5k". */
export const compactUsd = (usd: number) => `${thousands.format(usd / 1_000)}k`;

/** Width of an element in CSS pixels, kept up to date as it resizes. */
export function useWidth<T extends HTMLElement>() {
  const ref = useRef<T>(null);
  const [widthPx, setWidthPx] = useState(0);
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    const observer = new ResizeObserver(([entry]) => setWidthPx(Math.floor(entry!.contentRect.width)));
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return [ref, widthPx] as const;
}
