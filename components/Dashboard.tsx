"use client";

import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { AccountCard } from "./AccountCard";
import { api, queryKeys } from "./api";
import type { BreakerAction } from "./BreakerDialog";
import { BreakerDialog } from "./BreakerDialog";
import { ConnectionBadge } from "./ConnectionBadge";
import { DecisionFeed } from "./DecisionFeed";
import { useLiveStream } from "./useLiveStream";

export function Dashboard() {
  const stream = useLiveStream();
  const accounts = useQuery({ queryKey: queryKeys.accounts, queryFn: api.accounts });
  const decisions = useQuery({ queryKey: queryKeys.decisions, queryFn: api.decisions });
  const firm = useQuery({ queryKey: queryKeys.firm, queryFn: api.firm });
  const halt = firm.data?.firm.halt;
  const [pending, setPending] = useState<BreakerAction | null>(null);

  return (
    <div className="page">
      <header className="topbar">
        <h1>Riskgate</h1>
        <ConnectionBadge status={stream} />
      </header>
      <main className={stream.phase === "disconnected" ? "stale" : ""}>
        {halt && (
          <p className="banner banner-bad" role="alert" data-testid="firm-halt">
            Firm-wide halt: “{halt.reason}” by {halt.by} at {new Date(halt.at).toLocaleString([], { hour12: false })}. No
            account takes new exposure; exits still pass.
          </p>
        )}
        {accounts.isError && (
          <p className="error" role="alert">
            Cannot load accounts: {accounts.error.message}
          </p>
        )}
        <div className="accounts">
          {accounts.data?.accounts.map((account) => (
            <AccountCard key={account.accountId} account={account} onAction={setPending} />
          ))}
        </div>
        <DecisionFeed decisions={decisions.data?.decisions ?? []} />
      </main>
      {pending && (
        <BreakerDialog key={`${pending.account.accountId}-${pending.action}`} request={pending} onClose={() => setPending(null)} />
      )}
    </div>
  );
}
