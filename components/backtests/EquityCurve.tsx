"use client";

import { useEffect, useRef, useState } from "react";
import { CartesianGrid, Line, LineChart, Tooltip, XAxis, YAxis } from "recharts";
import { money } from "../format";
import type { BacktestDetail } from "./api";
import { utc } from "./api";

const HEIGHT_PX = 260;

const SERIES = [
  { key: "equityUsd", name: "Equity", color: "var(--accent)", width: 2, dash: undefined, type: "linear" },
  { key: "baselineUsd", name: "Day's baseline", color: "var(--muted)", width: 1.5, dash: "4 3", type: "stepAfter" },
  { key: "dailyLossFloorUsd", name: "Daily-loss floor", color: "var(--warn)", width: 1.5, dash: "6 3", type: "stepAfter" },
  { key: "maxLossFloorUsd", name: "Max-loss floor", color: "var(--bad)", width: 1.5, dash: "2 2", type: "stepAfter" },
] as const;

/** Width of an element in CSS pixels, kept up to date as it resizes. */
function useWidth<T extends HTMLElement>() {
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

const dateTick = (ms: number) => new Date(ms).toLocaleDateString("en-US", { month: "short", year: "2-digit", timeZone: "UTC" });
const compactUsd = (usd: number) => `${(usd / 1_000).toLocaleString("en-US", { maximumFractionDigits: 1 })}k`;

/**
 * The run's equity at each bar's close against the day's baseline and both loss floors (the
 * server keeps at most 1,000 points, LTTB on equity). A finished run does not change: no animation.
 */
export function EquityCurve({ run }: { run: BacktestDetail }) {
  const [frame, widthPx] = useWidth<HTMLDivElement>();
  const data = run.equity;
  const first = data[0];
  const last = data[data.length - 1];
  const floors = data.some((point) => point.maxLossFloorUsd !== null);
  return (
    <section className="card" aria-labelledby="curve-title">
      <header className="card-header">
        <h2 id="curve-title">Equity</h2>
        <span className="small muted">
          {data.length.toLocaleString("en-US")} of {run.equityRows.toLocaleString("en-US")} bars{data.length < run.equityRows ? " (LTTB)" : ""}
        </span>
      </header>
      <ul className="legend" aria-label="Series">
        {SERIES.map((series) => (
          <li key={series.key}>
            <svg width="18" height="8" aria-hidden="true">
              <line x1="0" y1="4" x2="18" y2="4" stroke={series.color} strokeWidth={series.width} strokeDasharray={series.dash} />
            </svg>
            {series.name}
          </li>
        ))}
      </ul>
      <div
        ref={frame}
        className="chart-frame"
        data-testid="backtest-equity-chart"
        data-points={data.length}
        role="img"
        aria-label={
          first && last
            ? `Equity from ${money(first.equityUsd)} on ${utc(first.at)} to ${money(last.equityUsd)} on ${utc(last.at)}${
                floors && last.dailyLossFloorUsd !== null && last.maxLossFloorUsd !== null
                  ? `; at the end the daily-loss floor was ${money(last.dailyLossFloorUsd)} and the max-loss floor ${money(last.maxLossFloorUsd)}`
                  : ""
              }`
            : "No equity recorded"
        }
      >
        {widthPx > 0 && data.length > 0 && (
          <LineChart width={widthPx} height={HEIGHT_PX} data={data as BacktestDetail["equity"][number][]} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
            <CartesianGrid stroke="var(--border)" strokeDasharray="3 3" />
            <XAxis dataKey="at" type="number" scale="time" domain={["dataMin", "dataMax"]} tickFormatter={dateTick} stroke="var(--muted)" minTickGap={40} />
            <YAxis domain={["auto", "auto"]} tickFormatter={compactUsd} stroke="var(--muted)" width={64} />
            <Tooltip
              contentStyle={{ background: "var(--panel)", border: "1px solid var(--border)", color: "var(--text)" }}
              labelFormatter={(at) => `${utc(Number(at))} UTC`}
              formatter={(value) => money(Number(value))}
            />
            {SERIES.map((series) => (
              <Line
                key={series.key}
                dataKey={series.key}
                name={series.name}
                type={series.type}
                stroke={series.color}
                strokeWidth={series.width}
                strokeDasharray={series.dash}
                dot={false}
                activeDot={series.key === "equityUsd" ? { r: 3 } : false}
                isAnimationActive={false}
                className={`series-${series.key}`}
              />
            ))}
          </LineChart>
        )}
      </div>
      {!floors && <p className="small muted">No floors: this run had no engine.</p>}
    </section>
  );
}
