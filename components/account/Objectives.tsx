"use client";

import { useInfiniteQuery, useQuery, useQueryClient } from "@tanstack/react-query";
import { memo, useEffect } from "react";
import { money, pct, when } from "../format";
import { StaleNote } from "../session";
import type { AccountObjectives } from "./api";
import { accountApi, accountKeys } from "./api";

/** A fill moves the balance: the objectives and trades are read again at most this often after one. */
const REFRESH_AFTER_MS = 1_000;
const TRADES_PAGE = 20;

/** What moves when the account fills: its balance and how many positions it holds. */
type Fills = { accountId: string; balance: number; held: number };

/** Reads the account's objectives and trades again once its balance moved (a fill), coalesced. */
function useRefreshOnFills({ accountId, balance, held }: Fills): void {
  const queryClient = useQueryClient();
  useEffect(() => {
    const timer = setTimeout(() => {
      void queryClient.invalidateQueries({ queryKey: accountKeys.objectives(accountId) });
      void queryClient.invalidateQueries({ queryKey: accountKeys.trades(accountId) });
    }, REFRESH_AFTER_MS);
    return () => clearTimeout(timer);
  }, [queryClient, accountId, balance, held]);
}

function Met({ met, label }: { met: boolean; label: string }) {
  return (
    <span className={`badge ${met ? "badge-ok" : "badge-wait"}`} data-testid="objective-met" aria-label={`${label}: ${met ? "met" : "not met yet"}`}>
      {met ? "met" : "not yet"}
    </span>
  );
}

/**
 * The account's prop-firm objectives, live: profit target progress, trading days, the best
 * day's share of the profit. The server computes them with the compliance verifier (the code
 * behind `npm run verify` and the backtest reports) over this account's own ledger events.
 * Re-renders when the account fills, not on every price.
 */
export const ObjectivesPanel = memo(function ObjectivesPanel(fills: Fills) {
  useRefreshOnFills(fills);
  const { accountId } = fills;
  const answer = useQuery({ queryKey: accountKeys.objectives(accountId), queryFn: () => accountApi.objectives(accountId), staleTime: Infinity });
  const data = answer.data;
  return (
    <section className="card panel panel-objectives" aria-labelledby="objectives-title" data-testid="objectives">
      <header className="card-header">
        <h2 id="objectives-title">
          Objectives <StaleNote />
        </h2>
        {data && (
          <span className={`badge ${data.met ? "badge-ok" : "badge-wait"}`} data-testid="objectives-met">
            {data.met ? "all met" : "in progress"}
          </span>
        )}
      </header>
      {answer.isError && (
        <p className="error" role="alert">
          Cannot work out the objectives: {answer.error.message}
        </p>
      )}
      {answer.isPending ? <p className="muted">Reading the account&apos;s ledger…</p> : data ? <ObjectiveList data={data} /> : null}
    </section>
  );
});

function ObjectiveList({ data }: { data: AccountObjectives }) {
  const { profitTarget, tradingDays, bestDay } = data.objectives;
  return (
    <>
      <dl className="objectives">
        <div data-testid="objective-profit-target">
          <dt>Profit target</dt>
          {profitTarget ? (
            <dd>
              <div className="objective-head">
                <span>
                  {money(data.progress.profit, data.currency)} of {money(profitTarget.target, data.currency)} <span className="muted small">({pct(data.progress.targetPct ?? 0, 1)})</span>
                </span>
                <Met met={profitTarget.reached} label="Profit target" />
              </div>
              <meter
                className="bar"
                min={0}
                max={100}
                low={50}
                high={99.99}
                optimum={100}
                value={Math.max(0, Math.min(100, data.progress.targetPct ?? 0))}
                aria-label={`Profit target progress: ${pct(data.progress.targetPct ?? 0, 1)}`}
              />
              {profitTarget.reachedAt !== null && <div className="small muted">reached at {when(profitTarget.reachedAt)}</div>}
            </dd>
          ) : (
            <dd className="muted">none under this preset (closed P/L {money(data.progress.profit, data.currency)})</dd>
          )}
        </div>
        <div data-testid="objective-trading-days">
          <dt>Trading days</dt>
          <dd>
            <div className="objective-head">
              <span>
                {tradingDays.required === 0
                  ? `${tradingDays.days} ${tradingDays.days === 1 ? "day" : "days"} (none required)`
                  : `${tradingDays.days} of ${tradingDays.required} ${tradingDays.required === 1 ? "day" : "days"}`}
              </span>
              <Met met={tradingDays.met} label="Trading days" />
            </div>
            <div className="small muted">days with a fill of the account&apos;s own orders</div>
          </dd>
        </div>
        <div data-testid="objective-best-day">
          <dt>Best day (consistency)</dt>
          {bestDay ? (
            <dd>
              <div className="objective-head">
                <span>
                  {bestDay.sharePct === null ? "no profit yet" : `${pct(bestDay.sharePct, 1)} of the profit`} <span className="muted small">(at most {pct(bestDay.maxSharePct, 0)})</span>
                </span>
                <Met met={bestDay.met} label="Best day" />
              </div>
              {bestDay.bestDay && (
                <div className="small muted">
                  {bestDay.bestDay}: {money(bestDay.bestDayProfit, data.currency)} of {money(bestDay.totalProfit, data.currency)}
                </div>
              )}
            </dd>
          ) : (
            <dd className="muted">no best-day rule under this preset</dd>
          )}
        </div>
      </dl>
      <p className="small muted">
        {data.presetId}
        {data.presetVersion !== null ? ` v${data.presetVersion}` : ""} · balance {money(data.balance, data.currency)} from {money(data.initialBalanceUsd, data.currency)} · by the compliance verifier over this
        account&apos;s ledger through seq {data.seq}. Loss-rule breaches show above (lock-out, reduce-only).
      </p>
    </>
  );
}

/** The account's closed trades (round trips), newest first, a page at a time. */
export const ClosedTrades = memo(function ClosedTrades({ accountId }: { accountId: string }) {
  const trades = useInfiniteQuery({
    queryKey: accountKeys.trades(accountId),
    queryFn: ({ pageParam }) => accountApi.trades(accountId, TRADES_PAGE, pageParam ?? undefined),
    initialPageParam: null as number | null,
    getNextPageParam: (last) => last.nextBeforeSeq,
    staleTime: Infinity,
  });
  const rows = trades.data?.pages.flatMap((page) => page.trades) ?? [];
  const first = trades.data?.pages[0];
  return (
    <section className="card panel panel-trades" aria-labelledby="trades-title" data-testid="closed-trades">
      <h2 id="trades-title">
        Closed trades <StaleNote />
      </h2>
      {trades.isError && (
        <p className="error" role="alert">
          Cannot read the closed trades: {trades.error.message}
        </p>
      )}
      {trades.isPending ? (
        <p className="muted">Reading the account&apos;s ledger…</p>
      ) : rows.length === 0 ? (
        <p className="muted">No closed trade yet.</p>
      ) : (
        <div className="scroll">
          <table className="compact">
            <caption className="sr-only">Closed trades of this account, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Opened · closed</th>
                <th scope="col">Trade</th>
                <th scope="col" className="num">
                  Entry → exit
                </th>
                <th scope="col" className="num">
                  Realized
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((trade) => (
                <tr key={`${trade.closeSeq}-${trade.symbol}`} data-testid="trade-row" data-symbol={trade.symbol}>
                  <td className="small nowrap">
                    <div>{when(trade.openedAt)}</div>
                    <div className="muted">{when(trade.closedAt)}</div>
                  </td>
                  <td>
                    {trade.side} {trade.quantity} {trade.symbol}
                    {trade.closedBy !== "order" && <div className="small muted">closed by {trade.closedBy.replace("_", " ")}</div>}
                  </td>
                  <td className="num small">
                    {trade.entryPrice} → {trade.exitPrice}
                  </td>
                  <td className={`num ${trade.realized >= 0 ? "up" : "down"}`}>
                    {money(trade.realized, first?.currency)}
                    {trade.fees > 0 && <div className="small muted">fees {money(trade.fees, first?.currency)}</div>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div className="audit-footer">
        <span className="small muted">
          {rows.length} of {first?.total ?? 0} closed trades{first && first.total > first.kept ? ` (the latest ${first.kept} are kept)` : ""}.
        </span>
        {trades.hasNextPage && (
          <button type="button" onClick={() => void trades.fetchNextPage()} disabled={trades.isFetchingNextPage}>
            {trades.isFetchingNextPage ? "Loading…" : "Load more"}
          </button>
        )}
      </div>
    </section>
  );
});
