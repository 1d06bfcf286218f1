"use client";

import { useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useMemo, useState } from "react";
import type { AccountView } from "@/server/realtime-protocol";
import type { FirmPage } from "../api";
import { api, queryKeys } from "../api";
import { DecisionFeed } from "../DecisionFeed";
import { money, pct } from "../format";
import { ReasonDialog } from "../ReasonDialog";
import { StaleNote, useSession } from "../session";

/** How much of each loss allowance is left: money to the floor, and the share of the allowance. */
export function headroom(account: AccountView) {
  const dailyAllowance = account.baselineUsd - account.dailyLossFloorUsd;
  const maxAllowance = (account.initialBalanceUsd * account.rules.accountRules.maxLossPct) / 100;
  const dailyLeftUsd = Math.max(0, account.equityUsd - account.dailyLossFloorUsd);
  const maxLeftUsd = Math.max(0, account.equityUsd - account.maxLossFloorUsd);
  const share = (left: number, allowance: number) => (allowance > 0 ? Math.min(100, (left / allowance) * 100) : 0);
  const dailyLeftPct = share(dailyLeftUsd, dailyAllowance);
  const maxLeftPct = share(maxLeftUsd, maxAllowance);
  return { dailyLeftUsd, dailyLeftPct, maxLeftUsd, maxLeftPct, closest: Math.min(dailyLeftPct, maxLeftPct) };
}

const SEVERITY: Record<AccountView["tradingState"], number> = { LOCKED_OUT: 0, HALTED: 1, REDUCING: 2, ACTIVE: 3 };

/** Every account at a glance, closest to a limit first, with a firm-wide halt. */
export function FirmOverview() {
  const { canOperate, me } = useSession();
  // A firm-wide halt is for operators who see the whole firm (the server refuses scoped ones).
  const canHaltFirm = canOperate && me.user.accounts === null;
  const accounts = useQuery({ queryKey: queryKeys.accounts, queryFn: api.accounts });
  const decisions = useQuery({ queryKey: queryKeys.decisions, queryFn: api.decisions });
  const firm = useQuery({ queryKey: queryKeys.firm, queryFn: api.firm });
  const [filter, setFilter] = useState("");
  const [state, setState] = useState<"all" | AccountView["tradingState"]>("all");
  const [dialog, setDialog] = useState<"halt" | "resume" | null>(null);
  const queryClient = useQueryClient();
  const halt = firm.data?.firm.halt ?? null;

  const rows = useMemo(() => {
    const needle = filter.trim().toLowerCase();
    return (accounts.data?.accounts ?? [])
      .filter((account) => state === "all" || account.tradingState === state)
      .filter((account) => !needle || [account.accountId, account.name, account.presetId].some((text) => text.toLowerCase().includes(needle)))
      .map((account) => ({ account, room: headroom(account) }))
      .sort((a, b) => SEVERITY[a.account.tradingState] - SEVERITY[b.account.tradingState] || a.room.closest - b.room.closest);
  }, [accounts.data, filter, state]);
  const total = accounts.data?.accounts.length ?? 0;

  return (
    <>
      {halt && (
        <p className="banner banner-bad" role="alert" data-testid="firm-halt">
          Firm-wide halt: “{halt.reason}” by {halt.by} at {new Date(halt.at).toLocaleString([], { hour12: false })}. No account takes new
          exposure; exits still pass.
        </p>
      )}
      <section className="card" aria-label="Firm overview">
        <header className="card-header">
          <div>
            <h2>
              Accounts <StaleNote />
            </h2>
            <p className="muted">Closest to a loss limit first. Bars show the share of each allowance left.</p>
          </div>
          <div className="toolbar">
            <label className="field">
              <span>Filter</span>
              <input type="search" value={filter} onChange={(event) => setFilter(event.target.value)} placeholder="account, name or preset" />
            </label>
            <label className="field">
              <span>State</span>
              <select value={state} onChange={(event) => setState(event.target.value as typeof state)}>
                <option value="all">all</option>
                {Object.keys(SEVERITY).map((name) => (
                  <option key={name} value={name}>
                    {name}
                  </option>
                ))}
              </select>
            </label>
            {canHaltFirm &&
              (halt ? (
                <button className="primary" onClick={() => setDialog("resume")}>
                  Resume all
                </button>
              ) : (
                <button className="danger" onClick={() => setDialog("halt")}>
                  Halt all
                </button>
              ))}
          </div>
        </header>
        {accounts.isError && (
          <p className="error" role="alert">
            Cannot load accounts: {accounts.error.message}
          </p>
        )}
        <table className="overview">
          <caption className="sr-only">Accounts, closest to a loss limit first</caption>
          <thead>
            <tr>
              <th scope="col">Account</th>
              <th scope="col">State</th>
              <th scope="col" className="num">
                Equity
              </th>
              <th scope="col" className="num">
                Today
              </th>
              <th scope="col">Today&apos;s permitted loss left</th>
              <th scope="col">Max permitted loss left</th>
              <th scope="col">Breakers</th>
              <th scope="col" className="num">
                Locked
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map(({ account, room }) => {
              const today = account.equityUsd - account.baselineUsd;
              const tripped = account.breakers.filter((breaker) => breaker.tripped).map((breaker) => breaker.kind);
              const locked = account.vetoes.filter((veto) => veto.expiresAt === null || veto.expiresAt > Date.now()).length;
              return (
                <tr key={account.accountId} data-testid="account-row" data-account={account.accountId} aria-label={`Account ${account.accountId}`}>
                  <th scope="row">
                    <Link href={`/accounts/${encodeURIComponent(account.accountId)}`}>{account.name}</Link>
                    <div className="muted small">
                      {account.accountId} · {account.preset ? `${account.preset.presetId} v${account.preset.version}` : "firm defaults"}
                    </div>
                  </th>
                  <td>
                    <span className={`badge state-${account.tradingState.toLowerCase()}`} data-testid="trading-state">
                      {account.tradingState}
                    </span>
                  </td>
                  <td className="num" data-testid="equity">
                    {money(account.equityUsd)}
                  </td>
                  <td className={`num ${today >= 0 ? "up" : "down"}`}>
                    {money(today)}
                    <div className="small">{pct((today / account.baselineUsd) * 100)}</div>
                  </td>
                  <td>
                    <Allowance leftUsd={room.dailyLeftUsd} leftPct={room.dailyLeftPct} label={`Today's permitted loss left for ${account.accountId}`} />
                  </td>
                  <td>
                    <Allowance leftUsd={room.maxLeftUsd} leftPct={room.maxLeftPct} label={`Max permitted loss left for ${account.accountId}`} />
                  </td>
                  <td>{tripped.length === 0 ? <span className="muted">none</span> : <span className="down">{tripped.join(", ")}</span>}</td>
                  <td className="num">{locked}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
        {rows.length === 0 && <p className="muted">{total === 0 ? "No accounts yet." : "No account matches the filter."}</p>}
      </section>
      <DecisionFeed decisions={decisions.data?.decisions ?? []} />
      {dialog && (
        <ReasonDialog
          title={dialog === "halt" ? `Halt all ${total} accounts?` : `Resume all ${total} accounts?`}
          confirm={dialog === "halt" ? "Halt every account" : "Resume every account"}
          tone={dialog === "halt" ? "danger" : "primary"}
          onClose={() => setDialog(null)}
          onConfirm={async (reason) => {
            const page = dialog === "halt" ? await api.haltFirm(reason) : await api.resumeFirm(reason);
            // Unless the stream brought a newer firm view already.
            queryClient.setQueryData<FirmPage>(queryKeys.firm, (current) => (current && current.seq >= page.seq ? current : page));
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

/** Money left to a floor and a bar of the share of the allowance left (red below 25%). */
function Allowance({ leftUsd, leftPct, label }: { leftUsd: number; leftPct: number; label: string }) {
  const tone = leftPct < 25 ? "bar-bad" : leftPct < 50 ? "bar-warn" : "bar-ok";
  return (
    <div className="allowance">
      <span className="num">
        {money(leftUsd)} <span className="muted">{pct(leftPct, 0)}</span>
      </span>
      <meter className={`bar ${tone}`} min={0} max={100} low={25} high={50} optimum={100} value={leftPct} aria-label={label} />
    </div>
  );
}
