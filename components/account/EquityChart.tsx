"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { memo, useMemo, useState } from "react";
import { Area, AreaChart, CartesianGrid, LineChart, Tooltip, XAxis, YAxis } from "recharts";
import { EquityLegend, compactUsd, equityLines, tooltipStyle, useWidth } from "../charts";
import { clock, money, pct, shortDate, when } from "../format";
import { StaleNote, useSession } from "../session";
import type { EquityPoint } from "./api";
import { accountApi, accountKeys } from "./api";

const RANGES = [
  { id: "1h", label: "1h", spanMs: 3_600_000 },
  { id: "1d", label: "1d", spanMs: 86_400_000 },
  { id: "1w", label: "1w", spanMs: 7 * 86_400_000 },
  { id: "all", label: "all", spanMs: null },
] as const;
type RangeId = (typeof RANGES)[number]["id"];

/** About one point per pixel, never more than this per series. */
export const MAX_POINTS = 1_000;
const REFRESH_MS = 5_000;
const HEIGHT_PX = 240;
const DRAWDOWN_HEIGHT_PX = 110;

type DrawdownFrom = "peak" | "baseline";
type ChartPoint = EquityPoint & { drawdownPct: number };

/**
 * Drawdown in % at every point (0 or below): from the running peak of equity within the range,
 * or from the day's baseline that held at the point.
 */
export function withDrawdown(points: readonly EquityPoint[], from: DrawdownFrom): ChartPoint[] {
  let peakUsd = Number.NEGATIVE_INFINITY;
  return points.map((point) => {
    peakUsd = Math.max(peakUsd, point.equity);
    const refUsd = from === "peak" ? peakUsd : point.baseline;
    const drawdownPct = refUsd > 0 ? Math.min(0, ((point.equity - refUsd) / refUsd) * 100) : 0;
    return { ...point, drawdownPct };
  });
}

const hoursAndMinutes = (ms: number) => clock(ms).slice(0, 5);

/** Time ticks as fine as the data's span needs: seconds, minutes, or dates. */
function tickFormat(dataSpanMs: number): (ms: number) => string {
  if (dataSpanMs < 10 * 60_000) return clock;
  if (dataSpanMs < 2 * 86_400_000) return hoursAndMinutes;
  return shortDate;
}

const tooltipTime = (at: unknown) => when(Number(at));
const tooltipUsd = (value: unknown) => money(Number(value));
const tooltipPct = (value: unknown) => pct(Number(value));
const drawdownTick = (value: number) => pct(value, 1);
const EQUITY_MARGIN = { top: 8, right: 8, bottom: 0, left: 0 };
const DRAWDOWN_MARGIN = { top: 4, right: 8, bottom: 0, left: 0 };

/**
 * Equity against the day's baseline and both floors, with the drawdown beneath, over a chosen
 * range. It reads its own history (refreshed while connected), so the account's live updates do
 * not re-render it.
 */
export const EquityChart = memo(function EquityChart({ accountId }: { accountId: string }) {
  const { stream } = useSession();
  const [range, setRange] = useState<RangeId>("1d");
  const [drawdownFrom, setDrawdownFrom] = useState<DrawdownFrom>("peak");
  const [frame, widthPx] = useWidth<HTMLDivElement>();
  // One point per pixel, in steps of 20 px so that resizing does not refetch on every pixel.
  const points = Math.min(MAX_POINTS, Math.max(20, Math.round(widthPx / 20) * 20));
  const spanMs = RANGES.find((candidate) => candidate.id === range)!.spanMs;

  const equity = useQuery({
    queryKey: accountKeys.equity(accountId, range, points),
    queryFn: () => accountApi.equity(accountId, { points, ...(spanMs === null ? {} : { from: new Date(Date.now() - spanMs) }) }),
    enabled: widthPx > 0,
    placeholderData: keepPreviousData,
    refetchInterval: stream.phase === "connected" ? REFRESH_MS : false,
  });
  const data = useMemo(() => withDrawdown(equity.data?.points ?? [], drawdownFrom), [equity.data, drawdownFrom]);
  const first = data[0];
  const last = data[data.length - 1];

  return (
    <section className="card panel panel-equity" aria-labelledby="equity-title">
      <header className="card-header">
        <h2 id="equity-title">
          Equity <StaleNote />
        </h2>
        <div className="segmented" role="group" aria-label="Chart range">
          {RANGES.map((candidate) => (
            <button key={candidate.id} type="button" aria-pressed={range === candidate.id} onClick={() => setRange(candidate.id)}>
              {candidate.label}
            </button>
          ))}
        </div>
      </header>
      <EquityLegend />
      <div
        ref={frame}
        className="chart-frame"
        // Both charts' height from the start: the page does not shift when the points arrive.
        style={{ minHeight: HEIGHT_PX + DRAWDOWN_HEIGHT_PX }}
        data-testid="equity-chart"
        data-points={data.length}
        data-requested-points={points}
        role="img"
        aria-label={
          first && last
            ? `Equity from ${money(first.equity)} at ${when(first.at)} to ${money(last.equity)} at ${when(last.at)}; day's baseline ${money(last.baseline)}, daily-loss floor ${money(last.dailyLossFloor)}, max-loss floor ${money(last.maxLossFloor)}`
            : "No equity recorded in this range"
        }
      >
        {equity.isError && (
          <p className="error" role="alert">
            Cannot load the equity history: {equity.error.message}
          </p>
        )}
        {widthPx > 0 && data.length > 0 && <Charts data={data} widthPx={widthPx} syncId={`equity-${accountId}`} />}
        {widthPx > 0 && equity.isSuccess && data.length === 0 && (
          <p className="muted chart-empty">No equity recorded in this range yet: a point is recorded whenever a price or a fill moves it (at most one a second).</p>
        )}
      </div>
      <div className="chart-caption">
        <label className="field inline">
          <span>Drawdown below</span>
          <select value={drawdownFrom} onChange={(event) => setDrawdownFrom(event.target.value as DrawdownFrom)}>
            <option value="peak">the running peak of equity in this range</option>
            <option value="baseline">the day&apos;s baseline</option>
          </select>
        </label>
        <p className="small muted">
          Drawdown (lower chart): equity below {drawdownFrom === "peak" ? "its running peak within the range" : "the day's baseline"}, in %.{" "}
          {data.length} points, downsampled by the server (LTTB) to about one a pixel; refreshed every {REFRESH_MS / 1_000} s while connected.
        </p>
      </div>
    </section>
  );
});

/** Both charts, drawn again only when their points or width change (no animation: live data). */
const Charts = memo(function Charts({ data, widthPx, syncId }: { data: ChartPoint[]; widthPx: number; syncId: string }) {
  const spanMs = data.length > 1 ? data[data.length - 1]!.at - data[0]!.at : 0;
  const timeTick = tickFormat(spanMs);
  return (
    <>
      <LineChart width={widthPx} height={HEIGHT_PX} data={data} syncId={syncId} margin={EQUITY_MARGIN}>
        <CartesianGrid stroke="var(--border)" strokeDasharray="3 3" />
        <XAxis dataKey="at" type="number" scale="time" domain={["dataMin", "dataMax"]} tickFormatter={timeTick} stroke="var(--muted)" minTickGap={40} />
        <YAxis domain={["auto", "auto"]} tickFormatter={compactUsd} stroke="var(--muted)" width={64} />
        <Tooltip contentStyle={tooltipStyle} labelFormatter={tooltipTime} formatter={tooltipUsd} isAnimationActive={false} />
        {equityLines()}
      </LineChart>
      <AreaChart width={widthPx} height={DRAWDOWN_HEIGHT_PX} data={data} syncId={syncId} margin={DRAWDOWN_MARGIN}>
        <CartesianGrid stroke="var(--border)" strokeDasharray="3 3" />
        <XAxis dataKey="at" type="number" scale="time" domain={["dataMin", "dataMax"]} tickFormatter={timeTick} stroke="var(--muted)" minTickGap={40} />
        <YAxis domain={["dataMin", 0]} tickFormatter={drawdownTick} stroke="var(--muted)" width={64} />
        <Tooltip contentStyle={tooltipStyle} labelFormatter={tooltipTime} formatter={tooltipPct} isAnimationActive={false} />
        <Area dataKey="drawdownPct" name="Drawdown" type="linear" stroke="var(--bad)" fill="var(--bad)" fillOpacity={0.2} dot={false} isAnimationActive={false} />
      </AreaChart>
    </>
  );
});
