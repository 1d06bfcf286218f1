"use client";

import { useQuery, useQueryClient } from "@tanstack/react-query";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { memo, useEffect, useId, useMemo, useRef, useState } from "react";
import type { ApiSchema } from "../api";
import { clock, money, when } from "../format";
import { Outcome, orderOf, why } from "../DecisionFeed";
import { StaleNote } from "../session";
import { SpacerRow, useVirtualRows } from "../useVirtualRows";
import type { Memo } from "@/server/advisory/memo";
import type { Explanation } from "./api";

/** A decision as the API and the stream carry it (the OpenAPI document's `DecisionRecord`; the stream's fit it). */
type DecisionRecord = ApiSchema<"DecisionRecord">;
import { accountApi, accountKeys } from "./api";

/** At most this many of the account's decisions are kept on the page. */
const MAX_ROWS = 500;
/** A row's height before it is measured (one line). */
const ROW_PX = 30;

type Filters = { outcome: "all" | "allowed" | "denied"; guard: string; reason: string; symbol: string };
const NO_FILTERS: Filters = { outcome: "all", guard: "", reason: "", symbol: "" };

/**
 * The account's decisions, live: the account's own history (fetched once), to which the account's
 * subscription (`useAccountStream`) adds each new decision, newest first, filterable; a row opens
 * the whole decision. The address may name one (`?decision=<intentId>&seq=<seq>`: a link from the
 * overview's feed or the audit trail): it opens at once, read from the ledger when it is older
 * than the decisions loaded. Only the rows in view are rendered.
 */
/** `currency`: the account's, which its decisions' and memos' amounts are in. */
export const DecisionPanel = memo(function DecisionPanel({ accountId, currency }: { accountId: string; currency: string }) {
  const history = useQuery({ queryKey: accountKeys.decisions(accountId), queryFn: () => accountApi.decisions(accountId), staleTime: Infinity });
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [open, setOpen] = useState<DecisionRecord | null>(null);

  const records = useMemo(() => {
    const bySeq = new Map<number, DecisionRecord>();
    for (const record of history.data?.decisions ?? []) bySeq.set(record.seq, record);
    return [...bySeq.values()].sort((a, b) => b.seq - a.seq).slice(0, MAX_ROWS);
  }, [history.data]);

  const linked = useLinkedDecision(accountId, records, history.isSuccess);
  const linkedOrOpen = open ?? linked.record;
  const closeDetail = () => {
    setOpen(null);
    linked.clear();
  };

  const guards = useMemo(() => distinct(records.map((r) => r.decision.guard)), [records]);
  const reasons = useMemo(() => distinct(records.map((r) => r.decision.reason)), [records]);
  const symbol = filters.symbol.trim().toUpperCase();
  const shown = useMemo(
    () =>
      records.filter(
        (r) =>
          (filters.outcome === "all" || r.decision.outcome === filters.outcome) &&
          (!filters.guard || r.decision.guard === filters.guard) &&
          (!filters.reason || r.decision.reason === filters.reason) &&
          (!symbol || r.intent.symbol.toUpperCase().includes(symbol)),
      ),
    [records, filters, symbol],
  );
  const { scroller, rows, beforePx, afterPx, measureRow } = useVirtualRows<HTMLDivElement>(shown.length, {
    estimatePx: ROW_PX,
    keyOf: (index) => shown[index]!.seq,
  });
  const set = (patch: Partial<Filters>) => setFilters((current) => ({ ...current, ...patch }));

  return (
    <section className="card panel panel-decisions" aria-labelledby="decisions-title">
      <header className="card-header">
        <h2 id="decisions-title">
          Decisions <StaleNote />
        </h2>
        <div className="toolbar">
          <label className="field">
            <span>Outcome</span>
            <select aria-label="Filter decisions by outcome" value={filters.outcome} onChange={(event) => set({ outcome: event.target.value as Filters["outcome"] })}>
              <option value="all">all</option>
              <option value="allowed">allowed</option>
              <option value="denied">denied</option>
            </select>
          </label>
          <label className="field">
            <span>Guard</span>
            <select aria-label="Filter decisions by guard" value={filters.guard} onChange={(event) => set({ guard: event.target.value })}>
              <option value="">any</option>
              {guards.map((guard) => (
                <option key={guard}>{guard}</option>
              ))}
            </select>
          </label>
          <label className="field">
            <span>Reason</span>
            <select aria-label="Filter decisions by reason" value={filters.reason} onChange={(event) => set({ reason: event.target.value })}>
              <option value="">any</option>
              {reasons.map((reason) => (
                <option key={reason}>{reason}</option>
              ))}
            </select>
          </label>
          <label className="field">
            <span>Symbol</span>
            <input type="search" aria-label="Filter decisions by symbol" size={8} value={filters.symbol} onChange={(event) => set({ symbol: event.target.value })} placeholder="EURUSD" />
          </label>
        </div>
      </header>
      {history.isError && (
        <p className="error" role="alert">
          Cannot load this account&apos;s earlier decisions: {history.error.message}
        </p>
      )}
      {records.length === 0 ? (
        <p className="muted">No decisions for this account yet.</p>
      ) : shown.length === 0 ? (
        <p className="muted">No decision matches the filters.</p>
      ) : (
        <div ref={scroller} className="scroll">
          <table className="feed compact decisions" aria-rowcount={shown.length + 1}>
            <caption className="sr-only">Decisions of this account, newest first; open one for the whole decision</caption>
            <thead>
              <tr aria-rowindex={1}>
                <th scope="col">Time</th>
                <th scope="col">Intent</th>
                <th scope="col">Order</th>
                <th scope="col">Outcome</th>
                <th scope="col">Why</th>
              </tr>
            </thead>
            <tbody>
              <SpacerRow heightPx={beforePx} columns={5} />
              {rows.map((row) => (
                <DecisionRow key={row.key} record={shown[row.index]!} index={row.index} onOpen={setOpen} measureRow={measureRow} />
              ))}
              <SpacerRow heightPx={afterPx} columns={5} />
            </tbody>
          </table>
        </div>
      )}
      <p className="small muted">
        {shown.length} of {records.length} loaded decisions. Open one for every guard&apos;s figures and limits.
      </p>
      {linked.missing && (
        <p className="error small" role="alert" data-testid="linked-decision-missing">
          Decision {linked.missing} is not among this account&apos;s decisions.
        </p>
      )}
      {linkedOrOpen && <DecisionDetail key={linkedOrOpen.seq} record={linkedOrOpen} currency={currency} onClose={closeDetail} />}
    </section>
  );
});

type DecisionRowProps = { record: DecisionRecord; index: number; onOpen: (record: DecisionRecord) => void; measureRow: (row: HTMLTableRowElement | null) => void };

/** One decision; a click on it opens the whole decision. Re-renders only when it moves in the list. */
const DecisionRow = memo(function DecisionRow({ record, index, onOpen, measureRow }: DecisionRowProps) {
  return (
    <tr ref={measureRow} data-index={index} aria-rowindex={index + 2} data-testid="decision-row" data-outcome={record.decision.outcome} className="clickable" onClick={() => onOpen(record)}>
      <td className="small">{clock(record.at)}</td>
      <td>
        <button
          type="button"
          className="link"
          onClick={(event) => {
            event.stopPropagation();
            onOpen(record);
          }}
          aria-label={`Open decision ${record.intent.intentId}`}
        >
          {record.intent.intentId}
        </button>
      </td>
      <td>{orderOf(record)}</td>
      <td>
        <Outcome record={record} />
      </td>
      <td className="muted small">{why(record)}</td>
    </tr>
  );
});

/**
 * The decision the address names, if any: among those loaded, else (with its seq) read back from
 * the ledger through the explain endpoint. `clear` takes it off the address (the dialog closed).
 */
function useLinkedDecision(accountId: string, records: DecisionRecord[], loaded: boolean) {
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const queryClient = useQueryClient();
  const intentId = params.get("decision");
  const seqParam = Number(params.get("seq"));
  const seq = Number.isSafeInteger(seqParam) && seqParam > 0 ? seqParam : null;
  const matches = (record: DecisionRecord) => record.intent.intentId === intentId && record.decision.accountId === accountId && (seq === null || record.seq === seq);
  const local = intentId === null ? null : (records.find(matches) ?? null);
  const fetched = useQuery({
    queryKey: ["account", accountId, "linked-decision", intentId, seq],
    enabled: intentId !== null && seq !== null && loaded && local === null,
    queryFn: async () => {
      const explained = await accountApi.explain(accountId, seq!);
      // The dialog's guard steps read the same answer: no second call.
      queryClient.setQueryData(accountKeys.explanation(explained.seq), explained);
      const { seq: at, at: time, intent, decision } = explained;
      return { seq: at, at: time, intent, decision } satisfies DecisionRecord;
    },
    staleTime: Infinity,
    retry: false,
  });
  const remote = fetched.data && matches(fetched.data) ? fetched.data : null;
  const record = local ?? remote;
  const missing = intentId !== null && loaded && record === null && (seq === null || fetched.isError || fetched.isSuccess) ? intentId : null;
  return {
    record,
    missing,
    clear: () => {
      if (intentId !== null) router.replace(pathname, { scroll: false });
    },
  };
}

function distinct(values: (string | null)[]): string[] {
  return [...new Set(values.filter((value): value is string => value !== null))].sort();
}

/** The whole decision: the intent as the strategy sent it, the outcome and why, and the sizing steps. */
function DecisionDetail({ record, currency, onClose }: { record: DecisionRecord; currency: string; onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const id = useId();
  const { intent, decision } = record;
  useEffect(() => {
    dialog.current?.showModal();
  }, []);
  const optional = (value: number | undefined) => (value === undefined ? "—" : String(value));
  return (
    <dialog ref={dialog} className="dialog decision-detail" onClose={onClose} aria-labelledby={`${id}-title`} data-testid="decision-detail">
      <h2 id={`${id}-title`}>
        Decision on {intent.intentId}{" "}
        <span className={`badge ${decision.outcome === "allowed" ? "badge-ok" : "badge-bad"}`}>{decision.outcome}</span>
      </h2>
      <p className="muted small">
        seq {record.seq} · {when(record.at)} · {decision.accountId}
      </p>
      <h3>Outcome</h3>
      <dl className="pairs">
        {decision.outcome === "denied" ? (
          <>
            <dt>Denied by</dt>
            <dd>{decision.guard}</dd>
            <dt>Reason</dt>
            <dd>{decision.reason}</dd>
            <dt>Observed</dt>
            <dd>{decision.observed ?? "—"}</dd>
            <dt>Limit</dt>
            <dd>{decision.limit ?? "—"}</dd>
            {decision.guard === "trading_state" ? (
              <>
                <dt>{decision.reason === "reduce_only" ? "Why reduce-only" : decision.reason === "locked_out" ? "Why locked out" : "Why halted"}</dt>
                <dd className="halt-why" data-testid="halt-why">
                  {decision.detail ?? "not recorded (decided before denials said why)"}
                </dd>
              </>
            ) : (
              decision.detail && (
                <>
                  <dt>Detail</dt>
                  <dd>{decision.detail}</dd>
                </>
              )
            )}
            <dt>Approved quantity</dt>
            <dd>0</dd>
          </>
        ) : (
          <>
            <dt>Approved quantity</dt>
            <dd>{decision.approvedQuantity ?? "the whole position (flatten)"}</dd>
            <dt>Stop price</dt>
            <dd>{optional(decision.stopPrice)}</dd>
            <dt>Risk at stop</dt>
            <dd>{decision.riskAtStopUsd === undefined ? "—" : money(decision.riskAtStopUsd, currency)}</dd>
          </>
        )}
      </dl>
      <h3>Sizing steps and notes</h3>
      {decision.advisories.length === 0 ? (
        <p className="muted small">None: no guard adjusted or annotated this intent.</p>
      ) : (
        <ol className="small">
          {decision.advisories.map((note, index) => (
            <li key={index}>{note}</li>
          ))}
        </ol>
      )}
      <h3>Intent</h3>
      <dl className="pairs">
        <dt>Order</dt>
        <dd>
          {intent.action} {intent.side} {intent.symbol}
        </dd>
        <dt>{intent.targetWeight !== undefined ? "Target weight" : "Quantity"}</dt>
        <dd>{intent.targetWeight ?? intent.quantity ?? "—"}</dd>
        <dt>Limit / stop / target</dt>
        <dd>
          {optional(intent.limitPrice)} / {optional(intent.slPrice)} / {optional(intent.tpPrice)}
        </dd>
        <dt>Reference price</dt>
        <dd>{optional(intent.referencePrice)}</dd>
        <dt>Provenance</dt>
        <dd>
          run {intent.provenance.runId} · strategy {intent.provenance.strategyId} · regime {intent.provenance.regimeId}
        </dd>
        <dt>Strategy stats</dt>
        <dd>{intent.stats ? `win rate ${(intent.stats.winRate * 100).toFixed(1)}% · win/loss ${intent.stats.winLossRatio}` : "—"}</dd>
      </dl>
      <GuardSteps record={record} currency={currency} />
      <div className="dialog-actions">
        <button type="button" onClick={() => dialog.current?.close()} autoFocus>
          Close
        </button>
      </div>
    </dialog>
  );
}

const STATUS_LABEL: Record<Explanation["steps"][number]["status"], string> = {
  passed: "passed",
  denied: "denied",
  capped: "capped the size",
  noted: "noted",
  off: "off",
  not_reached: "not reached",
};

/**
 * Every guard of the chain for this decision: the figures it judged and their limits, taken
 * again by the server from the state before the intent (the decision path records only the
 * deciding figures).
 */
function GuardSteps({ record, currency }: { record: DecisionRecord; currency: string }) {
  const explanation = useQuery({
    queryKey: accountKeys.explanation(record.seq),
    queryFn: () => accountApi.explain(record.decision.accountId, record.seq),
    staleTime: Infinity,
    retry: false,
  });
  return (
    <>
      <h3>Every guard</h3>
      {explanation.isPending && <p className="muted small">Working out each guard&apos;s figures…</p>}
      {explanation.isError && (
        <p className="error small" role="alert">
          Cannot explain this decision: {explanation.error.message}
        </p>
      )}
      {explanation.data && (
        <>
          {!explanation.data.reproduced && (
            <p className="error small" role="alert">
              Taken again, the engine decides differently from the record: the ledger and the engine disagree.
            </p>
          )}
          {explanation.data.memo ? <MemoView memo={explanation.data.memo} currency={currency} /> : <p className="muted small">No deal memo: this intent was not reviewed and its preset asks for none.</p>}
          <table className="feed compact guard-steps" data-testid="guard-steps">
            <caption className="sr-only">Each guard in chain order, with the figures it judged and their limits</caption>
            <thead>
              <tr>
                <th scope="col">Guard</th>
                <th scope="col">Result</th>
                <th scope="col">Figure</th>
                <th scope="col" className="num">
                  Observed
                </th>
                <th scope="col" className="num">
                  Limit
                </th>
              </tr>
            </thead>
            <tbody>
              {explanation.data.steps.flatMap((step) => {
                const rows = step.measures.length > 0 ? step.measures : [null];
                return rows.map((measure, index) => (
                  <tr key={`${step.guard}-${index}`} data-guard={step.guard} data-status={step.status} className={step.status === "off" || step.status === "not_reached" ? "muted" : undefined}>
                    {index === 0 && (
                      <>
                        <th scope="row" rowSpan={rows.length}>
                          {step.guard}
                        </th>
                        <td rowSpan={rows.length}>
                          <span className={step.status === "denied" ? "down" : step.status === "capped" || step.status === "noted" ? "badge-warn" : undefined}>{STATUS_LABEL[step.status]}</span>
                          {step.note && <div className="small muted">{step.note}</div>}
                        </td>
                      </>
                    )}
                    <td className="small">{measure?.what ?? "—"}</td>
                    <td className="num small">{measure ? String(measure.observed ?? "—") : ""}</td>
                    <td className="num small">{measure ? String(measure.limit ?? "—") : ""}</td>
                  </tr>
                ));
              })}
            </tbody>
          </table>
        </>
      )}
    </>
  );
}

const pct1 = (value: number) => `${value.toFixed(1)}%`;

/** The deal memo: chaos paths (ruin rate and losses per path type), the four crises, the hedges; amounts in the memo's currency (the account's). */
function MemoView({ memo, currency: accountCurrency }: { memo: Memo; currency: string }) {
  const currency = memo.currency ?? accountCurrency;
  return (
    <section data-testid="deal-memo" aria-label="Deal memo">
      <h3>Deal memo</h3>
      <p className="small muted">
        {memo.position ? `${memo.position.side} ${memo.position.quantity} ${memo.symbol} at ${memo.position.price}` : memo.symbol} · {memo.history.returns} returns · seed {memo.seed}
      </p>
      {memo.chaos.status === "ran" ? (
        <table className="feed compact">
          <caption>Chaos engine: {memo.chaos.report.paths.toLocaleString()} paths a type</caption>
          <thead>
            <tr>
              <th scope="col">Paths</th>
              <th scope="col" className="num">
                Ruin rate
              </th>
              <th scope="col" className="num">
                Loss p95
              </th>
              <th scope="col" className="num">
                Loss p99
              </th>
              <th scope="col" className="num">
                Worst
              </th>
            </tr>
          </thead>
          <tbody>
            {Object.entries(memo.chaos.report.byPathType).map(([type, report]) => (
              <tr key={type}>
                <th scope="row">{type.replace("_", " ")}</th>
                <td className="num">{pct1(report.ruinRatePct)}</td>
                <td className="num">{money(report.peakLoss.p95, currency)}</td>
                <td className="num">{money(report.peakLoss.p99, currency)}</td>
                <td className="num">{money(report.peakLoss.worst, currency)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="small muted">Chaos engine not run: {memo.chaos.reason}</p>
      )}
      {memo.stress.status === "ran" ? (
        <table className="feed compact">
          <caption>Stress: the four crises through beta {memo.stress.report.beta.toFixed(2)}</caption>
          <tbody>
            {memo.stress.report.results.map((result) => (
              <tr key={result.crisis}>
                <th scope="row">{result.crisis.replaceAll("_", " ")}</th>
                <td className="num">{money(result.worstPnl, currency)}</td>
                <td>{result.survives ? <span className="up">survives</span> : <span className="down">breaches a floor</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="small muted">Stress test not run: {memo.stress.reason}</p>
      )}
      {memo.hedging.status === "priced" ? (
        <table className="feed compact">
          <caption>Hedges ({memo.hedging.tenorDays} days, volatility {pct1(memo.hedging.volatility.volPerYear * 100)} from {memo.hedging.volatility.source})</caption>
          <tbody>
            {memo.hedging.hedges.map((hedge) => (
              <tr key={hedge.structure}>
                <th scope="row">{hedge.structure.replaceAll("_", " ")}</th>
                <td className="num">{money(hedge.premium, currency)}</td>
                <td className="num">{pct1(hedge.costPctOfPosition)} of the position</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="small muted">Hedges not priced: {memo.hedging.reason}</p>
      )}
    </section>
  );
}
