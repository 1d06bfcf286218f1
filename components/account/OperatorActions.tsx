"use client";

import { useQueryClient } from "@tanstack/react-query";
import { useId, useState } from "react";
import { SymbolId } from "@/server/engine/ids";
import { defaultInstruments } from "@/server/instruments";
import type { AccountView } from "@/server/realtime-protocol";
import type { FlattenOrder } from "@/server/runtime";
import { replaceAccount } from "../api";
import { clock } from "../format";
import { ReasonDialog } from "../ReasonDialog";
import { useSession } from "../session";
import { accountApi } from "./api";

type Action = "lock" | "reduce" | "end-reduce" | "reopen" | "flatten";

/** How long a manual lock holds: until the next daily reset, or a while from now. */
const LOCK_FOR: { label: string; ms: number | null }[] = [
  { label: "until the next daily reset", ms: null },
  { label: "15 minutes", ms: 15 * 60_000 },
  { label: "1 hour", ms: 60 * 60_000 },
  { label: "4 hours", ms: 4 * 60 * 60_000 },
];

const SYMBOLS = Object.keys(defaultInstruments);

/** A position's closing order, in words: `SELL 2 EURUSD (closes the long)`. */
function closing(position: AccountView["positions"][number]): string {
  const long = position.quantity > 0;
  return `${long ? "SELL" : "BUY"} ${Math.abs(position.quantity)} ${position.symbol} (closes the ${long ? "long" : "short"})`;
}

/**
 * The operator actions of the API on this account that the other panels do not hold (breakers
 * trip and reset in their panel, locks unlock in the registry): lock a symbol, reduce-only on and
 * off, reopen after a lock-out, flatten now. Each is offered only to roles that may do it, asks
 * for a confirmation with a reason, and goes on the ledger with the user's name.
 */
export function OperatorActions({ account }: { account: AccountView }) {
  const { may } = useSession();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState<Action | null>(null);
  const [flattened, setFlattened] = useState<{ at: number; orders: FlattenOrder[] } | null>(null);
  const operate = may("operate");
  const admin = may("admin");
  const close = () => setOpen(null);
  const done = ({ seq, account: updated }: { seq: number; account: AccountView }) => replaceAccount(queryClient, updated, seq);

  return (
    <section className="card panel panel-actions" aria-labelledby="actions-title" data-testid="operator-actions">
      <h2 id="actions-title">Operator actions</h2>
      {operate || admin ? (
        <>
          <div className="action-list">
            {operate && (
              <button type="button" className="primary" onClick={() => setOpen("lock")}>
                Lock a symbol…
              </button>
            )}
            {operate &&
              (account.reducing ? (
                <button type="button" className="primary" onClick={() => setOpen("end-reduce")}>
                  End reduce-only…
                </button>
              ) : (
                <button type="button" className="primary" onClick={() => setOpen("reduce")}>
                  Reduce-only…
                </button>
              ))}
            {operate && (
              <button
                type="button"
                className="danger"
                onClick={() => setOpen("flatten")}
                disabled={account.positions.length === 0}
                title={account.positions.length === 0 ? "No open position to flatten" : undefined}
              >
                Flatten now…
              </button>
            )}
            {admin && account.lockedOut && (
              <button type="button" className="primary" onClick={() => setOpen("reopen")}>
                Reopen…
              </button>
            )}
          </div>
          {account.lockedOut && !admin && <p className="small muted">Locked out: only an admin can reopen it.</p>}
          {flattened && (
            <p className="small" role="status" data-testid="flatten-ordered">
              Flatten ordered at {clock(flattened.at)}: {flattened.orders.map((order) => `${order.side} ${order.quantity} ${order.symbol}`).join(", ")}.{" "}
              {account.positions.length === 0 ? "Every position is closed." : account.execution === "simulated" ? "The simulated venue is closing them." : "Waiting for the execution stack's fills."}
            </p>
          )}
          <p className="small muted">
            Each asks for a reason and goes on the ledger with your name. Breakers trip and reset in their panel; locks are lifted in the veto registry.
          </p>
        </>
      ) : (
        <p className="small muted">Your role may view this account; operator actions are for risk managers and admins.</p>
      )}

      {open === "lock" && <LockDialog account={account} onClose={close} onDone={done} />}
      {open === "reduce" && (
        <ReasonDialog
          title={`Put ${account.name} on reduce-only?`}
          confirm="Start reduce-only"
          tone="danger"
          onClose={close}
          onConfirm={async (reason) => done(await accountApi.enterReducing(account.accountId, reason))}
        >
          {account.accountId} will take only exposure-reducing intents (closes, flattens) until an operator ends it; the daily reset does not.
        </ReasonDialog>
      )}
      {open === "end-reduce" && account.reducing && (
        <ReasonDialog
          title={`End reduce-only on ${account.name}?`}
          confirm="End reduce-only"
          tone="primary"
          onClose={close}
          onConfirm={async (reason) => done(await accountApi.endReducing(account.accountId, reason))}
        >
          Reduce-only since {clock(account.reducing.at)} ({account.reducing.cause.replaceAll("_", " ")}: “{account.reducing.reason}”). {account.accountId} will take new
          exposure again, unless something else halts it.
        </ReasonDialog>
      )}
      {open === "reopen" && account.lockedOut && (
        <ReasonDialog
          title={`Reopen ${account.name}?`}
          confirm="Reopen account"
          tone="danger"
          onClose={close}
          onConfirm={async (reason) => done(await accountApi.reopen(account.accountId, reason))}
        >
          Locked out at {clock(account.lockedOut.at)} at the {account.lockedOut.rule === "max_loss" ? "max-loss" : "daily-loss"} floor. Reopened, it trades again
          under its rules (a tripped breaker still halts it).
        </ReasonDialog>
      )}
      {open === "flatten" && (
        <ReasonDialog
          title={`Flatten every position of ${account.name} now?`}
          confirm="Flatten now"
          tone="danger"
          onClose={close}
          onConfirm={async (reason) => {
            const answer = await accountApi.flatten(account.accountId, reason);
            setFlattened({ at: Date.now(), orders: answer.flattens });
            done(answer);
          }}
        >
          <ul className="small" data-testid="flatten-preview">
            {account.positions.map((position) => (
              <li key={position.symbol}>{closing(position)}</li>
            ))}
          </ul>
          {account.execution === "simulated"
            ? "Riskgate's execution path sends each to the simulated venue at once, at its liquidation penalty."
            : "Each goes on the ledger and to the alert sinks for the execution stack outside Riskgate, which closes it and reports the fills."}{" "}
          New entries are not stopped by this: add reduce-only or trip the manual breaker for that.
        </ReasonDialog>
      )}
    </section>
  );
}

/** Lock a symbol: which, for how long, and why. */
function LockDialog({ account, onClose, onDone }: { account: AccountView; onClose: () => void; onDone: (changed: { seq: number; account: AccountView }) => void }) {
  const id = useId();
  const [symbol, setSymbol] = useState("");
  const [forIndex, setForIndex] = useState(0);
  const parsed = SymbolId.safeParse(symbol.trim().toUpperCase());
  const held = account.positions.map((position) => position.symbol);
  return (
    <ReasonDialog
      title={`Lock a symbol on ${account.name}?`}
      confirm="Lock symbol"
      tone="danger"
      fieldsReady={parsed.success}
      onClose={onClose}
      onConfirm={async (reason) => {
        const ms = LOCK_FOR[forIndex]!.ms;
        onDone(await accountApi.lockSymbol(account.accountId, parsed.data!, reason, ms === null ? null : Date.now() + ms));
      }}
      fields={
        <>
          <label htmlFor={`${id}-symbol`}>Symbol</label>
          <input id={`${id}-symbol`} list={`${id}-symbols`} value={symbol} onChange={(event) => setSymbol(event.target.value)} autoFocus autoComplete="off" placeholder="EURUSD" />
          <datalist id={`${id}-symbols`}>
            {[...new Set([...held, ...SYMBOLS])].map((name) => (
              <option key={name} value={name} />
            ))}
          </datalist>
          {symbol.trim() !== "" && !parsed.success && <p className="error small">{parsed.error.issues[0]?.message}</p>}
          <label htmlFor={`${id}-for`}>Locked</label>
          <select id={`${id}-for`} value={forIndex} onChange={(event) => setForIndex(Number(event.target.value))}>
            {LOCK_FOR.map((option, index) => (
              <option key={option.label} value={index}>
                {option.label}
              </option>
            ))}
          </select>
        </>
      }
    >
      {account.accountId} will take no new exposure in the symbol while it is locked; closes and reductions still pass. An operator may unlock it sooner, with a reason.
    </ReasonDialog>
  );
}
