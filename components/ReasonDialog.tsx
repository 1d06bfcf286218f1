"use client";

import { useMutation } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { useEffect, useId, useRef, useState } from "react";

const MIN_REASON = 3;

export type ReasonDialogProps = {
  /** The question, naming what is acted on ("Trip the manual breaker of Demo FTMO?"). */
  title: string;
  /** What will happen. */
  children?: ReactNode;
  /** The confirm button's label ("Trip manual breaker"). */
  confirm: string;
  tone: "danger" | "primary";
  /** More inputs the action takes (a symbol, an expiry), above the reason. */
  fields?: ReactNode;
  /** Whether those inputs are complete (default true): the confirm button waits for them too. */
  fieldsReady?: boolean;
  /** Does the action; an error is shown in the dialog, which stays open. */
  onConfirm: (reason: string) => Promise<unknown>;
  onClose: () => void;
};

/**
 * A confirmation that will not submit without a reason (3+ characters): every operator action
 * of the console goes through one, and the reason goes on the ledger.
 */
export function ReasonDialog({ title, children, confirm, tone, fields, fieldsReady = true, onConfirm, onClose }: ReasonDialogProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const id = useId();
  const [reason, setReason] = useState("");
  const mutation = useMutation({ mutationFn: () => onConfirm(reason.trim()), onSuccess: () => dialog.current?.close() });

  useEffect(() => {
    dialog.current?.showModal();
  }, []);

  const ready = reason.trim().length >= MIN_REASON && fieldsReady && !mutation.isPending;
  return (
    <dialog ref={dialog} className="dialog" onClose={onClose} aria-labelledby={`${id}-title`}>
      <form
        method="dialog"
        onSubmit={(event) => {
          event.preventDefault();
          if (ready) mutation.mutate();
        }}
      >
        <h2 id={`${id}-title`}>{title}</h2>
        {children ? <div className="muted">{children}</div> : null}
        {fields}
        <label htmlFor={id}>Reason</label>
        <textarea id={id} value={reason} onChange={(event) => setReason(event.target.value)} required minLength={MIN_REASON} rows={3} autoFocus={!fields} />
        {mutation.isError && (
          <p className="error" role="alert">
            {mutation.error.message}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" onClick={() => dialog.current?.close()}>
            Cancel
          </button>
          <button type="submit" className={tone} disabled={!ready}>
            {confirm}
          </button>
        </div>
      </form>
    </dialog>
  );
}
