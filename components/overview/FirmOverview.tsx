"use client";

import { useQuery, useQueryClient } from "@tanstack/react-query";
import { memo, useCallback, useMemo, useState } from "react";
import type { OverviewPage, OverviewQuery } from "@/server/overview-protocol";
import type { FirmPage } from "../api";
import { api, queryKeys } from "../api";
import { DecisionFeed } from "../DecisionFeed";
import { ReasonDialog } from "../ReasonDialog";
import { StaleNote, useSession } from "../session";
import { useOverview } from "../useLiveStream";
import { AccountList, FIRST_WINDOW, type RowWindow } from "./AccountList";
import { BreachedToday } from "./BreachedToday";
import { FirmExposure } from "./FirmExposure";
import { CountTiles, FilterBar } from "./OverviewControls";
import type { OverviewFilters } from "./query";
import { filtersKey } from "./query";
import "./overview.css";

// The account page's headroom figures (the overview's rows carry them from the server).
export { headroom } from "./headroom";

const count = new Intl.NumberFormat("en-US");
const Decisions = memo(DecisionFeed);

/**
 * The firm at desk scale: counts by state and breach (each a filter), the accounts with the least
 * permitted loss left first (the smaller share of either allowance; ordered and filtered by the server, a virtualized list asking for the rows
 * in view), the accounts breached or halted today, the firm's exposure, the firm-wide halt and
 * the decision feed — all kept current by the stream's `overview` subscription.
 */
export function FirmOverview() {
  const { canOperate, me } = useSession();
  // A firm-wide halt is for operators who see the whole firm (the server refuses scoped ones).
  const canHaltFirm = canOperate && me.user.accounts === null;
  const [filters, setFilters] = useState<OverviewFilters>({});
  const [rowWindow, setRowWindow] = useState<RowWindow>(FIRST_WINDOW);
  const [dialog, setDialog] = useState<"halt" | "resume" | null>(null);
  const queryClient = useQueryClient();

  const query = useMemo<OverviewQuery>(() => ({ ...filters, ...rowWindow }), [filters, rowWindow]);
  const live = useOverview(query).page;
  // While a new window or filter is subscribed, the last page stays on screen.
  const [shown, setShown] = useState<OverviewPage | null>(null);
  if (live && live !== shown) setShown(live);
  const page = live ?? shown;

  const onFilters = useCallback((change: Partial<OverviewFilters>) => {
    setFilters((current) => ({ ...current, ...change }));
    setRowWindow(FIRST_WINDOW);
  }, []);

  // The firm's halt: the newest of the overview page's and a halt/resume answer's.
  const firmQuery = useQuery({ queryKey: queryKeys.firm, queryFn: api.firm });
  const firm = firmQuery.data && (!page || firmQuery.data.seq > page.seq) ? firmQuery.data.firm : page?.firm;
  const halt = firm?.halt ?? null;
  const total = page?.counts.total ?? 0;
  const matching = page?.matching ?? 0;

  return (
    <>
      {halt && (
        <p className="banner banner-bad" role="alert" data-testid="firm-halt">
          Firm-wide halt: “{halt.reason}” by {halt.by} at {new Date(halt.at).toLocaleString([], { hour12: false })}. No account takes new
          exposure; exits still pass.
        </p>
      )}
      <section className="card ov-accounts" aria-labelledby="ov-accounts-title">
        <header className="card-header">
          <div>
            <h2 id="ov-accounts-title">
              Accounts <StaleNote />
            </h2>
            <p className="muted" data-testid="order-label">
              Least permitted loss left first: ordered by the smaller share left of today&apos;s allowance and of the max allowance (marked{" "}
              <span className="ov-closest">closest</span>), not by state. Bars show the share of each allowance left.
            </p>
          </div>
          {canHaltFirm && (
            <div className="toolbar">
              {halt ? (
                <button className="primary" onClick={() => setDialog("resume")}>
                  Resume all
                </button>
              ) : (
                <button className="danger" onClick={() => setDialog("halt")} disabled={!page}>
                  Halt all
                </button>
              )}
            </div>
          )}
        </header>
        <CountTiles counts={page?.counts ?? null} filters={filters} onFilters={onFilters} />
        <FilterBar filters={filters} onFilters={onFilters} />
        <p className="muted small ov-summary" aria-live="polite" data-testid="matching">
          {page === null ? "Loading…" : `${count.format(matching)} of ${count.format(total)} accounts`}
        </p>
        {page !== null && matching === 0 ? (
          <p className="muted">{total === 0 ? "No accounts yet." : "No account matches the filters."}</p>
        ) : (
          <AccountList
            matching={matching}
            offset={page?.offset ?? 0}
            rows={page?.rows ?? []}
            window={rowWindow}
            onWindow={setRowWindow}
            resetKey={filtersKey(filters)}
            loading={page === null || page.offset !== rowWindow.offset}
          />
        )}
      </section>
      {/* The panels under the list come with the first page, as the list's rows do: drawn before it,
          they would be pushed down by the rows (a layout shift of most of the screen). */}
      {page !== null && (
        <>
          <div className="ov-panels">
            <BreachedToday rows={page.breachedToday} total={page.counts.breachedToday} />
            <FirmExposure exposure={page.exposure} />
          </div>
          <Decisions decisions={page.decisions} />
        </>
      )}
      {dialog && (
        <ReasonDialog
          title={dialog === "halt" ? `Halt all ${total} accounts?` : `Resume all ${total} accounts?`}
          confirm={dialog === "halt" ? "Halt every account" : "Resume every account"}
          tone={dialog === "halt" ? "danger" : "primary"}
          onClose={() => setDialog(null)}
          onConfirm={async (reason) => {
            const answer = dialog === "halt" ? await api.haltFirm(reason) : await api.resumeFirm(reason);
            // Unless the stream brought a newer firm view already.
            queryClient.setQueryData<FirmPage>(queryKeys.firm, (current) => (current && current.seq >= answer.seq ? current : answer));
          }}
        >
          {dialog === "halt"
            ? "Every account becomes HALTED: no new exposure anywhere; closes and reductions still pass."
            : "Accounts trade again, except those with a breaker of their own tripped."}
        </ReasonDialog>
      )}
    </>
  );
}
