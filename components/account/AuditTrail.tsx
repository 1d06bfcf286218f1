"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { memo, useCallback, useEffect, useMemo, useRef, useState } from "react";
import { when } from "../format";
import { StaleNote } from "../session";
import { SpacerRow, useVirtualRows } from "../useVirtualRows";
import { accountApi, accountKeys } from "./api";
import type { Fetch, LedgerRecord } from "./audit";
import { decisionOf, readBack, readBetween, summaryOf, whoOf, whyOf } from "./audit";
import { decisionHref } from "../DecisionFeed";

/** What is loaded of the account's ledger: newest first, and where reading back continues. */
type Trail = {
  events: LedgerRecord[];
  /** The next "load more" reads back from here (exclusive); 1 or less: the start is loaded. */
  fromSeq: number;
  span: number;
  /** The newest seq read; refreshes read forward from it. */
  newestSeq: number;
};

/** Coalesces the account's seq moves into at most one refresh this often. */
const REFRESH_AFTER_MS = 500;
/** An entry's height before it is measured (two lines). */
const ROW_PX = 52;

function merge(newer: LedgerRecord[], older: LedgerRecord[]): LedgerRecord[] {
  const seen = new Set(older.map((record) => record.seq));
  return [...newer.filter((record) => !seen.has(record.seq)), ...older];
}

/** What the search looks in, for each entry (worked out once per entry). */
const searchable = new WeakMap<LedgerRecord, string>();
function searchTextOf(record: LedgerRecord): string {
  let text = searchable.get(record);
  if (text === undefined) {
    const { event } = record;
    text = [event.type, summaryOf(event), whoOf(event), whyOf(event)].join("\n").toLowerCase();
    searchable.set(record, text);
  }
  return text;
}

/**
 * The account's audit trail from the ledger, newest first: who did what, why, and when. Follows
 * the account's seq (a refresh when the stream moves it), reads further back on demand, and
 * exports the whole of it as NDJSON. Only the entries in view are rendered.
 */
export const AuditTrail = memo(function AuditTrail({ accountId, headSeq }: { accountId: string; headSeq: number }) {
  const queryClient = useQueryClient();
  const key = useMemo(() => accountKeys.ledger(accountId), [accountId]);
  const fetchPage = useCallback<Fetch>((afterSeq, limit) => accountApi.ledger(accountId, afterSeq, limit), [accountId]);
  const [search, setSearch] = useState("");

  const trail = useQuery({
    queryKey: key,
    staleTime: Infinity,
    queryFn: async (): Promise<Trail> => {
      const { events, fromSeq, span } = await readBack(fetchPage, headSeq + 1);
      const newer = await readBetween(fetchPage, headSeq, Number.POSITIVE_INFINITY);
      const all = merge([...newer].reverse(), events);
      return { events: all, fromSeq, span, newestSeq: Math.max(headSeq, all[0]?.seq ?? 0) };
    },
  });

  const older = useMutation({
    mutationFn: async () => {
      const current = queryClient.getQueryData<Trail>(key);
      if (!current) return;
      const back = await readBack(fetchPage, current.fromSeq, 200, current.span);
      queryClient.setQueryData<Trail>(key, (trail) =>
        trail ? { ...trail, events: merge(trail.events, back.events), fromSeq: back.fromSeq, span: back.span } : trail,
      );
    },
  });

  // Follow the stream: when the account's seq moves, read what is new (at most one read in flight, coalesced).
  const refreshing = useRef<Promise<void> | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => {
    if (timer.current !== null) return;
    timer.current = setTimeout(async () => {
      timer.current = null;
      const current = queryClient.getQueryData<Trail>(key);
      if (!current || refreshing.current) return;
      refreshing.current = (async () => {
        const newer = await readBetween(fetchPage, current.newestSeq, Number.POSITIVE_INFINITY);
        if (newer.length === 0) return;
        queryClient.setQueryData<Trail>(key, (trail) =>
          trail ? { ...trail, events: merge([...newer].reverse(), trail.events), newestSeq: Math.max(trail.newestSeq, newer[newer.length - 1]!.seq) } : trail,
        );
      })()
        .catch(() => undefined)
        .finally(() => (refreshing.current = null));
    }, REFRESH_AFTER_MS);
  }, [headSeq, key, fetchPage, queryClient]);
  useEffect(
    () => () => {
      if (timer.current !== null) clearTimeout(timer.current);
    },
    [],
  );

  const needle = search.trim().toLowerCase();
  const events = useMemo(() => trail.data?.events ?? [], [trail.data]);
  const shown = useMemo(() => (needle ? events.filter((record) => searchTextOf(record).includes(needle)) : events), [events, needle]);
  const atStart = (trail.data?.fromSeq ?? 0) <= 1;
  const { scroller, rows, beforePx, afterPx, measureRow } = useVirtualRows<HTMLDivElement>(shown.length, {
    estimatePx: ROW_PX,
    keyOf: (index) => shown[index]!.seq,
  });

  return (
    <section className="card panel panel-audit" aria-labelledby="audit-title">
      <header className="card-header">
        <h2 id="audit-title">
          Audit trail <StaleNote />
        </h2>
        <div className="toolbar">
          <label className="field">
            <span>Search loaded entries</span>
            <input type="search" value={search} onChange={(event) => setSearch(event.target.value)} placeholder="who, what or why" />
          </label>
          <a className="button-link" href={accountApi.ledgerExportUrl(accountId)} download>
            Export NDJSON
          </a>
        </div>
      </header>
      {trail.isError && (
        <p className="error" role="alert">
          Cannot read the ledger: {trail.error.message}
        </p>
      )}
      {trail.isPending ? (
        <p className="muted">Reading the ledger…</p>
      ) : shown.length === 0 ? (
        <p className="muted">{events.length === 0 ? "Nothing recorded for this account yet." : "No loaded entry matches the search."}</p>
      ) : (
        <div ref={scroller} className="scroll" tabIndex={0} role="region" aria-label="Audit trail, newest first">
          <table className="compact audit" aria-rowcount={shown.length + 1}>
            <caption className="sr-only">Ledger events of this account, newest first</caption>
            <thead>
              <tr aria-rowindex={1}>
                <th scope="col">Time</th>
                <th scope="col">Who</th>
                <th scope="col">What</th>
                <th scope="col">Why</th>
              </tr>
            </thead>
            <tbody>
              <SpacerRow heightPx={beforePx} columns={4} />
              {rows.map((row) => (
                <AuditRow key={row.key} record={shown[row.index]!} index={row.index} accountId={accountId} measureRow={measureRow} />
              ))}
              <SpacerRow heightPx={afterPx} columns={4} />
            </tbody>
          </table>
        </div>
      )}
      <div className="audit-footer">
        <span className="small muted">
          {events.length} entries loaded{atStart ? ", back to the account's first" : ""}.
        </span>
        {!atStart && trail.isSuccess && (
          <button type="button" onClick={() => older.mutate()} disabled={older.isPending}>
            {older.isPending ? "Loading…" : "Load more"}
          </button>
        )}
        {older.isError && (
          <span className="error small" role="alert">
            {older.error.message}
          </span>
        )}
      </div>
    </section>
  );
});

type AuditRowProps = { record: LedgerRecord; index: number; accountId: string; measureRow: (row: HTMLTableRowElement | null) => void };

/** One ledger entry; re-renders only when it moves in the list. */
const AuditRow = memo(function AuditRow({ record, index, accountId, measureRow }: AuditRowProps) {
  const { seq, event } = record;
  const decision = decisionOf(record);
  return (
    <tr ref={measureRow} data-index={index} aria-rowindex={index + 2} data-testid="audit-row" data-type={event.type}>
      <td className="small nowrap">
        {when(event.at)}
        <div className="muted">seq {seq}</div>
      </td>
      <td>{whoOf(event)}</td>
      <td>
        <code className="event-type">{event.type}</code>
        <div>{summaryOf(event)}</div>
        {decision && (
          <Link className="small" href={decisionHref(accountId, decision.intentId, decision.seq)} scroll={false} aria-label={`Open decision ${decision.intentId} from the audit trail`}>
            open decision
          </Link>
        )}
      </td>
      <td className="muted">{whyOf(event)}</td>
    </tr>
  );
});
