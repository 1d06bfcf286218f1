"use client";

import { CartesianGrid, LineChart, Tooltip, XAxis, YAxis } from "recharts";
import { EquityLegend, compactUsd, equityLines, tooltipStyle, useWidth } from "../charts";
import { money } from "../format";
import type { BacktestDetail } from "./api";
import { utc } from "./api";

const HEIGHT_PX = 260;

const dateTick = (ms: number) => new Date(ms).toLocaleDateString("en-US", { month: "short", year: "2-digit", timeZone: "UTC" });

/**
 * The run's equity at each bar's close against the day's baseline and both loss floors (the
 * server keeps at most 1,000 points, LTTB on equity). A finished run does not change: no animation.
 */
export function EquityCurve({ run }: { run: BacktestDetail }) {
  const [frame, widthPx] = useWidth<HTMLDivElement>();
  const data = run.equity;
  const first = data[0];
  const last = data[data.length - 1];
  const floors = data.some((point) => point.maxLossFloor !== null);
  return (
    <section className="card" aria-labelledby="curve-title">
      <header className="card-header">
        <h2 id="curve-title">Equity</h2>
        <span className="small muted">
          {data.length.toLocaleString("en-US")} of {run.equityRows.toLocaleString("en-US")} bars{data.length < run.equityRows ? " (LTTB)" : ""}
        </span>
      </header>
      <EquityLegend />
      <div
        ref={frame}
        className="chart-frame"
        data-testid="backtest-equity-chart"
        data-points={data.length}
        role="img"
        aria-label={
          first && last
            ? `Equity from ${money(first.equity, run.currency)} on ${utc(first.at)} to ${money(last.equity, run.currency)} on ${utc(last.at)}${
                floors && last.dailyLossFloor !== null && last.maxLossFloor !== null
                  ? `; at the end the daily-loss floor was ${money(last.dailyLossFloor, run.currency)} and the max-loss floor ${money(last.maxLossFloor, run.currency)}`
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
              contentStyle={tooltipStyle}
              labelFormatter={(at) => `${utc(Number(at))} UTC`}
              formatter={(value) => money(Number(value), run.currency)}
            />
            {equityLines()}
          </LineChart>
        )}
      </div>
      {!floors && <p className="small muted">No floors: this run had no engine.</p>}
    </section>
  );
}
