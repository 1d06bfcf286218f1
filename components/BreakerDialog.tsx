"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState } from "react";
import type { AccountView } from "@/server/realtime-protocol";
import type { AccountsPage } from "./api";
import { api, queryKeys } from "./api";

export type BreakerAction = { account: AccountView; breaker: string; action: "trip" | "reset" };

const MIN_REASON = 3;

/**
 * Confirmation for tripping or resetting a breaker. It names the account and the breaker, and
 * will not submit without a reason.
 */
export function BreakerDialog({ request, onClose }: { request: BreakerAction; onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const reasonId = useId();
  const [reason, setReason] = useState("");
  const queryClient = useQueryClient();
  const { account, breaker, action } = request;

  useEffect(() => {
    dialog.current?.showModal();
  }, []);

  const mutation = useMutation({
    mutationFn: () => api.breaker(account.accountId, breaker, action, reason.trim()),
    onSuccess: ({ account: updated }) => {
      queryClient.setQueryData<AccountsPage>(queryKeys.accounts, (page) =>
        page
          ? { ...page, accounts: page.accounts.map((a) => (a.accountId === updated.accountId ? updated : a)) }
          : page,
      );
      onClose();
    },
  });

  const verb = action === "trip" ? "Trip" : "Reset";
  const ready = reason.trim().length >= MIN_REASON && !mutation.isPending;

  return (
    <dialog ref={dialog} className="dialog" onClose={onClose} aria-labelledby={`${reasonId}-title`}>
      <form
        method="dialog"
        onSubmit={(event) => {
          event.preventDefault();
          if (ready) mutation.mutate();
        }}
      >
        <h2 id={`${reasonId}-title`}>
          {verb} the {breaker} breaker of {account.name}?
        </h2>
        <p className="muted">
          {action === "trip"
            ? `${account.accountId} will be HALTED: no new exposure; closes and reductions still pass.`
            : `${account.accountId} will trade again once no breaker is tripped.`}
        </p>
        <label htmlFor={reasonId}>Reason</label>
        <textarea
          id={reasonId}
          value={reason}
          onChange={(event) => setReason(event.target.value)}
          required
          minLength={MIN_REASON}
          rows={3}
          autoFocus
        />
        {mutation.isError && (
          <p className="error" role="alert">
            {mutation.error.message}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" onClick={() => dialog.current?.close()}>
            Cancel
          </button>
          <button type="submit" className={action === "trip" ? "danger" : "primary"} disabled={!ready}>
            {verb} {breaker} breaker
          </button>
        </div>
      </form>
    </dialog>
  );
}
