"use client";

import { useMutation } from "@tanstack/react-query";
import type { FormEvent } from "react";
import { useId, useState } from "react";
import { ApiError } from "../api";
import { useSession } from "../session";
import { MIN_PASSWORD, sessionsEnded, usersApi } from "./api";
import "./users.css";

/**
 * Any user changes their own password: the current one is required; the user's other sessions
 * (other browsers, other tabs' logins) end, this one stays.
 */
export function PasswordPage() {
  const { me } = useSession();
  const id = useId();
  const [newPassword, setNewPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [done, setDone] = useState("");
  const change = useMutation({
    mutationFn: ({ current, next }: { current: string; next: string }) => usersApi.changePassword(current, next),
    onSuccess: ({ endedSessions }) => setDone(`Password changed. Your other sessions were logged out (${sessionsEnded(endedSessions)}).`),
  });

  if (me.user.kind !== "user") {
    return (
      <section className="card password-page">
        <h2>Password</h2>
        <p className="muted">This console is open with an API token, which has no password.</p>
      </section>
    );
  }

  const issues = change.error instanceof ApiError ? change.error.issues : [];
  const issueOf = (field: string) => issues.find((issue) => issue.path === field)?.message;
  const mismatch = confirm.length > 0 && confirm !== newPassword;

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (mismatch) return;
    const form = event.currentTarget;
    const current = String(new FormData(form).get("currentPassword"));
    setDone("");
    change.mutate(
      { current, next: newPassword },
      {
        onSuccess: () => {
          form.reset();
          setNewPassword("");
          setConfirm("");
        },
      },
    );
  }

  return (
    <section className="card form-card password-page" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Change your password</h2>
      <p className="muted small">
        Logged in as <strong>{me.user.name}</strong>. Your other sessions end when the password changes; this one stays.
      </p>
      <form onSubmit={submit}>
        {/* A hidden username helps password managers file the new password under the right login. */}
        <input type="text" name="username" autoComplete="username" value={me.user.name} readOnly hidden />
        <label htmlFor={`${id}-current`}>Current password</label>
        <input id={`${id}-current`} name="currentPassword" type="password" autoComplete="current-password" required aria-invalid={Boolean(issueOf("currentPassword"))} />
        {issueOf("currentPassword") && <p className="field-error">{issueOf("currentPassword")}</p>}
        <label htmlFor={`${id}-new`}>New password</label>
        <input
          id={`${id}-new`}
          type="password"
          autoComplete="new-password"
          minLength={MIN_PASSWORD}
          required
          value={newPassword}
          onChange={(event) => setNewPassword(event.target.value)}
          aria-describedby={`${id}-hint`}
          aria-invalid={Boolean(issueOf("newPassword"))}
        />
        <p id={`${id}-hint`} className="muted small">
          At least {MIN_PASSWORD} characters.
        </p>
        {issueOf("newPassword") && <p className="field-error">{issueOf("newPassword")}</p>}
        <label htmlFor={`${id}-confirm`}>Repeat the new password</label>
        <input id={`${id}-confirm`} type="password" autoComplete="new-password" required value={confirm} onChange={(event) => setConfirm(event.target.value)} aria-invalid={mismatch} />
        {mismatch && <p className="field-error">The two passwords differ.</p>}
        {change.isError && issues.length === 0 && (
          <p className="error" role="alert">
            {change.error.message}
          </p>
        )}
        <p role="status" className="small" data-testid="password-status">
          {done}
        </p>
        <button type="submit" className="primary" disabled={change.isPending || mismatch}>
          Change password
        </button>
      </form>
    </section>
  );
}
