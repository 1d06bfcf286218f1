"use client";

import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import type { AccountView } from "@/server/realtime-protocol";
import { clock, when } from "../format";
import { ReasonDialog } from "../ReasonDialog";
import { StaleNote, useSession } from "../session";
import { replaceAccount } from "../api";
import { accountApi } from "./api";
import { useNow } from "./useNow";

/** A symbol lock or an account-wide side lock, as one row of the registry. */
type Lock = {
  key: string;
  kind: "symbol" | "side";
  /** The symbol, or BUY / SELL. */
  target: string;
  what: string;
} & Omit<AccountView["vetoes"][number], "symbol">;

function locksOf(account: AccountView): Lock[] {
  return [
    ...account.vetoes.map(({ symbol, ...veto }) => ({ key: `symbol-${symbol}`, kind: "symbol" as const, target: symbol, what: symbol, ...veto })),
    ...account.sideLocks.map(({ side, ...lock }) => ({
      key: `side-${side}`,
      kind: "side" as const,
      target: side,
      what: `all ${side === "BUY" ? "new longs" : "new shorts"} (${side})`,
      ...lock,
    })),
  ].sort((a, b) => b.since - a.since);
}

/** The time alone on the day of `nowMs`, the date and time otherwise. */
function shortWhen(ms: number, nowMs: number): string {
  return new Date(ms).toDateString() === new Date(nowMs).toDateString() ? clock(ms) : when(ms);
}

/** The account's veto registry: what it may not trade, why, since when and until when. */
export function VetoRegistry({ account }: { account: AccountView }) {
  const { canOperate } = useSession();
  const queryClient = useQueryClient();
  const now = useNow();
  const [showExpired, setShowExpired] = useState(false);
  const [unlocking, setUnlocking] = useState<Lock | null>(null);
  const locks = locksOf(account);
  const inForce = (lock: Lock) => lock.expiresAt === null || lock.expiresAt > now;
  const expiredCount = locks.filter((lock) => !inForce(lock)).length;
  const shown = showExpired ? locks : locks.filter(inForce);

  return (
    <section className="card panel panel-vetoes" aria-labelledby="vetoes-title" data-testid="vetoes">
      <header className="card-header">
        <h2 id="vetoes-title">
          Veto registry <StaleNote />
        </h2>
        <label className="check small">
          <input type="checkbox" checked={showExpired} onChange={(event) => setShowExpired(event.target.checked)} />
          Show expired ({expiredCount})
        </label>
      </header>
      {shown.length === 0 ? (
        <p className="muted">{locks.length === 0 ? "Nothing locked." : "Nothing locked now."}</p>
      ) : (
        <div className="scroll" tabIndex={0} role="region" aria-label="Locked symbols and sides">
          <table className="compact">
            <caption className="sr-only">Locked symbols and sides</caption>
            <thead>
              <tr>
                <th scope="col">Locked</th>
                <th scope="col">Why</th>
                <th scope="col">In force</th>
                {canOperate && (
                  <th scope="col">
                    <span className="sr-only">Action</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {shown.map((lock) => {
                const active = inForce(lock);
                return (
                  <tr key={lock.key} data-testid="veto-row" data-target={lock.target} className={active ? "" : "expired"}>
                    <th scope="row">
                      {lock.what}
                      {!active && <span className="badge badge-wait expired-badge">expired</span>}
                    </th>
                    <td>
                      {lock.reason.replaceAll("_", " ")}
                      {lock.valueAtTrigger !== null && <span className="muted"> at {lock.valueAtTrigger}</span>}
                      {lock.note && <div className="small muted">“{lock.note}”</div>}
                      <div className="small muted">by {lock.by}</div>
                    </td>
                    <td className="small">
                      <div>since {shortWhen(lock.since, now)}</div>
                      <div>{lock.expiresAt === null ? "until reset" : `until ${shortWhen(lock.expiresAt, now)}`}</div>
                    </td>
                    {canOperate && (
                      <td>
                        {active && (
                          <button className="primary" onClick={() => setUnlocking(lock)} aria-label={`Unlock ${lock.what}`}>
                            Unlock
                          </button>
                        )}
                      </td>
                    )}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {unlocking && (
        <ReasonDialog
          title={`Unlock ${unlocking.what} on ${account.name}?`}
          confirm={`Unlock ${unlocking.target}`}
          tone="primary"
          onClose={() => setUnlocking(null)}
          onConfirm={async (reason) => {
            const { seq, account: updated } =
              unlocking.kind === "symbol"
                ? await accountApi.unlockSymbol(account.accountId, unlocking.target, reason)
                : await accountApi.unlockSide(account.accountId, unlocking.target as "BUY" | "SELL", reason);
            replaceAccount(queryClient, updated, seq);
          }}
        >
          {unlocking.kind === "symbol"
            ? `${account.accountId} may open new exposure in ${unlocking.target} again (locked for ${unlocking.reason.replaceAll("_", " ")}).`
            : `${account.accountId} may open new ${unlocking.target === "BUY" ? "longs" : "shorts"} again.`}
        </ReasonDialog>
      )}
    </section>
  );
}
