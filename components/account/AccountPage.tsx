"use client";

import { useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import type { AccountView } from "@/server/realtime-protocol";
import type { AccountPage as AccountAnswer } from "../api";
import { ApiError, api, queryKeys } from "../api";
import { useAccountStream } from "../useLiveStream";
import { money, pct, when } from "../format";
import { headroom } from "../overview/FirmOverview";
import { StaleNote } from "../session";
import { AuditTrail } from "./AuditTrail";
import { BreakerPanel } from "./BreakerPanel";
import { DecisionPanel } from "./DecisionPanel";
import { EquityChart } from "./EquityChart";
import { ClosedTrades, ObjectivesPanel } from "./Objectives";
import { OperatorActions } from "./OperatorActions";
import { Positions } from "./Positions";
import { VetoRegistry } from "./VetoRegistry";
import "./account.css";

/**
 * One account for a risk manager: where it stands against its floors, why it may not trade,
 * what it decided and why, what it holds, and everything that happened to it.
 */
export function AccountPage({ accountId }: { accountId: string }) {
  // The stream keeps this account's cache entry current (its subscription, not the whole firm).
  useAccountStream(accountId);
  const queryClient = useQueryClient();
  const key = queryKeys.account(accountId);
  const answer = useQuery({
    queryKey: key,
    queryFn: async () => {
      const fresh = await api.account(accountId);
      // The stream may have brought a newer view while this was asked for.
      const held = queryClient.getQueryData<AccountAnswer>(key);
      return held && held.seq > fresh.seq ? held : fresh;
    },
    staleTime: Infinity,
    retry: (failures, error) => !(error instanceof ApiError && (error.status === 404 || error.status === 403)) && failures < 3,
  });
  const account = answer.data?.account;
  const missing = answer.isError && answer.error instanceof ApiError && (answer.error.status === 404 || answer.error.status === 403);

  if (answer.isPending) return <p className="muted">Loading account {accountId}…</p>;
  if (answer.isError && !missing) {
    return (
      <p className="error" role="alert">
        Cannot load the account: {answer.error.message}
      </p>
    );
  }
  if (!account) {
    return (
      <section className="card account-missing" aria-labelledby="missing-title">
        <h2 id="missing-title">No account “{accountId}”</h2>
        <p className="muted">There is no such account, or your login may not see it. Accounts you may see are on the overview.</p>
        <Link href="/">Back to the overview</Link>
      </section>
    );
  }

  return (
    <div className="account-page" data-account={account.accountId}>
      <AccountHeader account={account} />
      <div className="account-grid">
        <EquityChart accountId={account.accountId} />
        <BreakerPanel account={account} />
        <DecisionPanel accountId={account.accountId} currency={account.currency} />
        <OperatorActions account={account} />
        <ObjectivesPanel accountId={account.accountId} balance={account.balance} held={account.positions.length} />
        <ClosedTrades accountId={account.accountId} />
        <VetoRegistry account={account} />
        <Positions account={account} />
        <AuditTrail accountId={account.accountId} headSeq={answer.data!.seq} />
      </div>
    </div>
  );
}

/** Name, preset, state and the figures the loss rules read, with why the account may not trade. */
function AccountHeader({ account }: { account: AccountView }) {
  const firm = useQuery({ queryKey: queryKeys.firm, queryFn: api.firm });
  const halt = firm.data?.firm.halt ?? null;
  const todayUsd = account.equity - account.baseline;
  const room = headroom(account);
  const tripped = account.breakers.filter((breaker) => breaker.tripped);
  return (
    <section className="card account-header" aria-labelledby="account-title">
      <header className="card-header">
        <div>
          <h2 id="account-title">
            {account.name} <StaleNote />
          </h2>
          <p className="muted">
            <span data-testid="account-id">{account.accountId}</span> · preset{" "}
            <Link href="/presets">
              {account.presetId}
              {account.preset ? ` v${account.preset.version}` : ""}
            </Link>
            {account.preset ? ` · activated by ${account.preset.by} at ${when(account.preset.at)}` : " · the firm's default rules"} · day{" "}
            {account.day.tradingDay} · {account.execution === "simulated" ? "simulated venue" : "external venue"}
          </p>
        </div>
        <span className={`badge state state-${account.tradingState.toLowerCase()}`} data-testid="trading-state" aria-label="Trading state">
          {account.tradingState}
        </span>
      </header>

      {halt && (
        <p className="banner banner-bad" role="status" data-testid="firm-halt">
          Firm-wide halt: “{halt.reason}” by {halt.by} at {when(halt.at)}. No new exposure; exits still pass.
        </p>
      )}
      {account.lockedOut && (
        <p className="banner banner-bad" role="status" data-testid="locked-out">
          Locked out at {when(account.lockedOut.at)}: equity {money(account.lockedOut.equity, account.currency)} reached the{" "}
          {account.lockedOut.rule === "max_loss" ? "max-loss" : "daily-loss"} floor {money(account.lockedOut.floor, account.currency)} (the engine). Only an
          admin&apos;s reopen, with a reason, clears it.
        </p>
      )}
      {account.reducing && (
        <p className="banner banner-warn" role="status" data-testid="reducing">
          Reduce-only: “{account.reducing.reason}” by {account.reducing.by} at {when(account.reducing.at)}
          {account.reducing.untilReset ? " · until the daily reset" : " · until an operator ends it"}
        </p>
      )}
      {tripped.length > 0 && !account.lockedOut && (
        <p className="banner banner-bad" role="status" data-testid="halted-by">
          Halted by the {tripped.map((breaker) => breaker.kind.replaceAll("_", " ")).join(", ")} breaker
          {tripped.length > 1 ? "s" : ""}: entries are denied; closes and reductions pass.
        </p>
      )}

      <dl className="figures account-figures">
        <div>
          <dt>Equity</dt>
          <dd data-testid="equity">{money(account.equity, account.currency)}</dd>
        </div>
        <div>
          <dt>Today&apos;s P/L</dt>
          <dd className={todayUsd >= 0 ? "up" : "down"} data-testid="today-pl">
            {money(todayUsd, account.currency)} <span className="small">{pct((todayUsd / account.baseline) * 100)}</span>
          </dd>
        </div>
        <div>
          <dt>Day&apos;s baseline</dt>
          <dd>
            {money(account.baseline, account.currency)}
            {account.baselineShadow && (
              <span className="badge badge-warn shadow" title="Taken from the last known equity before the reset: prices were stale then">
                shadow
              </span>
            )}
          </dd>
        </div>
        <div>
          <dt>Daily-loss floor</dt>
          <dd>
            {money(account.dailyLossFloor, account.currency)} <span className="small muted">{money(room.dailyLeftUsd, account.currency)} left</span>
          </dd>
        </div>
        <div>
          <dt>Max-loss floor</dt>
          <dd>
            {money(account.maxLossFloor, account.currency)} <span className="small muted">{money(room.maxLeftUsd, account.currency)} left</span>
          </dd>
        </div>
        <div>
          <dt>Balance</dt>
          <dd>{money(account.balance, account.currency)}</dd>
        </div>
        <div>
          <dt>Floating</dt>
          <dd className={account.exposure.floating >= 0 ? "up" : "down"}>{money(account.exposure.floating, account.currency)}</dd>
        </div>
        <div>
          <dt>Decisions</dt>
          <dd>
            {account.decisions.allowed} allowed · {account.decisions.denied} denied
          </dd>
        </div>
      </dl>
    </section>
  );
}
