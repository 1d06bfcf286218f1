"use client";

import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import type { Me } from "./api";
import { ApiError } from "./api";
import { Login } from "./Login";
import { AccountCard } from "./AccountCard";
import { api, queryKeys } from "./api";
import type { BreakerAction } from "./BreakerDialog";
import { BreakerDialog } from "./BreakerDialog";
import { ConnectionBadge } from "./ConnectionBadge";
import { DecisionFeed } from "./DecisionFeed";
import { useLiveStream } from "./useLiveStream";

/** The console: the login form until there is a session, then the live dashboard. */
export function Console() {
  const me = useQuery({ queryKey: queryKeys.me, queryFn: api.me, retry: false });
  if (me.isPending) return <p className="muted page">Loading…</p>;
  if (me.error instanceof ApiError && me.error.status === 401) return <Login />;
  if (me.isError) {
    return (
      <p className="error page" role="alert">
        Cannot reach Riskgate: {me.error.message}
      </p>
    );
  }
  return <Dashboard me={me.data} />;
}

const OPERATORS = new Set(["risk_manager", "admin"]);

function Dashboard({ me }: { me: Me }) {
  const queryClient = useQueryClient();
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
        <div className="user">
          <ConnectionBadge status={stream} />
          <span data-testid="current-user">
            {me.user.name} <span className="muted">({me.user.role.replace("_", " ")})</span>
          </span>
          {me.user.kind === "user" && (
            <button
              onClick={async () => {
                await api.logout();
                queryClient.clear();
                await queryClient.invalidateQueries({ queryKey: queryKeys.me });
              }}
            >
              Log out
            </button>
          )}
        </div>
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
            <AccountCard key={account.accountId} account={account} onAction={OPERATORS.has(me.user.role) ? setPending : null} />
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
