"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import type { FormEvent, ReactNode } from "react";
import { useEffect, useId, useRef, useState } from "react";
import { ApiError } from "../api";
import { when } from "../format";
import { useSession } from "../session";
import type { NewUser, UserView } from "./api";
import { MIN_PASSWORD, sessionsEnded, userKeys, usersApi } from "./api";
import "./users.css";

const ROLES: { value: UserView["role"]; label: string }[] = [
  { value: "viewer", label: "Viewer" },
  { value: "risk_manager", label: "Risk manager" },
  { value: "strategy", label: "Strategy (scoped to accounts)" },
  { value: "admin", label: "Admin" },
];

/**
 * Users (admins only): the list with each user's state, disable and enable (disabling ends the
 * user's sessions and open streams at once), a password reset, and a form for a new user. Every
 * change is audited on the server.
 */
export function UsersPage() {
  const { me } = useSession();
  if (me.user.role !== "admin") {
    return (
      <section className="card">
        <h2>Users</h2>
        <p className="muted">Only admins manage users.</p>
      </section>
    );
  }
  return <Users />;
}

type Pending = { kind: "disable" | "reset"; user: UserView } | null;

function Users() {
  const { me } = useSession();
  const queryClient = useQueryClient();
  const users = useQuery({ queryKey: userKeys.all, queryFn: usersApi.list });
  const [pending, setPending] = useState<Pending>(null);
  const [status, setStatus] = useState("");
  const enable = useMutation({
    mutationFn: (user: UserView) => usersApi.enable(user.id),
    onSuccess: ({ user }) => {
      setStatus(`${user.username} enabled: they may log in again.`);
      void queryClient.invalidateQueries({ queryKey: userKeys.all });
    },
    onError: (error) => setStatus(`Cannot enable: ${error.message}`),
  });
  const list = users.data?.users ?? [];
  const self = (user: UserView) => me.user.kind === "user" && me.user.name === user.username;

  return (
    <div className="users">
      <section className="card" aria-labelledby="users-title">
        <h2 id="users-title">Users</h2>
        <p className="muted small">
          Disabling a user or resetting their password ends their sessions and open streams at once. Change your own password on the{" "}
          <Link href="/password">Password</Link> page.
        </p>
        <p role="status" className="small" data-testid="users-status">
          {status}
        </p>
        {users.isPending && <p className="muted">Loading…</p>}
        {users.isError && (
          <p className="error" role="alert">
            Cannot load users: {users.error.message}
          </p>
        )}
        {list.length > 0 && (
          <table>
            <thead>
              <tr>
                <th scope="col">User</th>
                <th scope="col">Role</th>
                <th scope="col">Accounts</th>
                <th scope="col">Created</th>
                <th scope="col">State</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((user) => (
                <tr key={user.id} className={user.disabled ? "disabled" : undefined} data-testid="user-row" data-user={user.username}>
                  <th scope="row">
                    {user.username}
                    {self(user) && <span className="muted small"> (you)</span>}
                  </th>
                  <td>{user.role.replace("_", " ")}</td>
                  <td className="small">{user.accounts ? user.accounts.join(", ") : <span className="muted">all</span>}</td>
                  <td className="small">
                    {when(user.createdAt)} <span className="muted">by {user.createdBy}</span>
                  </td>
                  <td>{user.disabled ? <span className="badge badge-bad">disabled</span> : <span className="badge badge-ok">active</span>}</td>
                  <td>
                    <div className="user-actions">
                      {!self(user) &&
                        (user.disabled ? (
                          <button type="button" className="primary" aria-label={`Enable ${user.username}`} disabled={enable.isPending} onClick={() => enable.mutate(user)}>
                            Enable
                          </button>
                        ) : (
                          <button type="button" className="danger" aria-label={`Disable ${user.username}`} onClick={() => setPending({ kind: "disable", user })}>
                            Disable
                          </button>
                        ))}
                      {!self(user) && (
                        <button type="button" aria-label={`Reset password of ${user.username}`} onClick={() => setPending({ kind: "reset", user })}>
                          Reset password
                        </button>
                      )}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <NewUserForm onCreated={(user) => setStatus(`${user.username} created.`)} />
      {pending?.kind === "disable" && (
        <DisableDialog
          user={pending.user}
          onDone={(message) => {
            setStatus(message);
            void queryClient.invalidateQueries({ queryKey: userKeys.all });
          }}
          onClose={() => setPending(null)}
        />
      )}
      {pending?.kind === "reset" && <ResetDialog user={pending.user} onDone={setStatus} onClose={() => setPending(null)} />}
    </div>
  );
}

/** A modal dialog, open while mounted: `onClose` (Escape, Cancel, done) unmounts it. */
function Dialog({ title, children, onClose }: { title: string; children: ReactNode; onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const id = useId();
  useEffect(() => {
    dialog.current?.showModal();
  }, []);
  return (
    <dialog ref={dialog} className="dialog" onClose={onClose} aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{title}</h2>
      {children}
    </dialog>
  );
}

function DisableDialog({ user, onDone, onClose }: { user: UserView; onDone: (message: string) => void; onClose: () => void }) {
  const disable = useMutation({ mutationFn: () => usersApi.disable(user.id) });
  return (
    <Dialog title={`Disable ${user.username}?`} onClose={onClose}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          disable.mutate(undefined, {
            onSuccess: ({ endedSessions }) => {
              onDone(`${user.username} disabled: ${sessionsEnded(endedSessions)}.`);
              onClose();
            },
          });
        }}
      >
        <p className="muted">Their sessions and open streams end at once, and they cannot log in until enabled again. API tokens are not affected.</p>
        {disable.isError && (
          <p className="error" role="alert">
            {disable.error.message}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="danger" disabled={disable.isPending}>
            Disable {user.username}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function ResetDialog({ user, onDone, onClose }: { user: UserView; onDone: (message: string) => void; onClose: () => void }) {
  const id = useId();
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const reset = useMutation({ mutationFn: () => usersApi.resetPassword(user.id, password) });
  const mismatch = confirm.length > 0 && confirm !== password;
  const ready = password.length >= MIN_PASSWORD && confirm === password && !reset.isPending;
  return (
    <Dialog title={`Reset the password of ${user.username}`} onClose={onClose}>
      <form
        className="fields"
        onSubmit={(event) => {
          event.preventDefault();
          if (!ready) return;
          reset.mutate(undefined, {
            onSuccess: ({ endedSessions }) => {
              onDone(`Password of ${user.username} reset: ${sessionsEnded(endedSessions)}.`);
              onClose();
            },
          });
        }}
      >
        <p className="muted">Their sessions and open streams end at once; tell them the new password another way.</p>
        <label htmlFor={`${id}-new`}>New password</label>
        <input
          id={`${id}-new`}
          type="password"
          autoComplete="new-password"
          minLength={MIN_PASSWORD}
          required
          value={password}
          onChange={(event) => setPassword(event.target.value)}
          aria-describedby={`${id}-hint`}
          autoFocus
        />
        <p id={`${id}-hint`} className="muted small">
          At least {MIN_PASSWORD} characters.
        </p>
        <label htmlFor={`${id}-confirm`}>Repeat the new password</label>
        <input
          id={`${id}-confirm`}
          type="password"
          autoComplete="new-password"
          required
          value={confirm}
          onChange={(event) => setConfirm(event.target.value)}
          aria-invalid={mismatch}
        />
        {mismatch && <p className="field-error">The two passwords differ.</p>}
        {reset.isError && (
          <p className="error" role="alert">
            {reset.error.message}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="danger" disabled={!ready}>
            Reset password
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function NewUserForm({ onCreated }: { onCreated: (user: UserView) => void }) {
  const id = useId();
  const queryClient = useQueryClient();
  const [role, setRole] = useState<UserView["role"]>("viewer");
  const create = useMutation({
    mutationFn: usersApi.create,
    onSuccess: ({ user }) => {
      onCreated(user);
      void queryClient.invalidateQueries({ queryKey: userKeys.all });
    },
  });
  const issues = create.error instanceof ApiError ? create.error.issues : [];
  const issueOf = (field: string) => issues.find((issue) => issue.path === field)?.message;

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const accounts = String(data.get("accounts") ?? "")
      .split(",")
      .map((account) => account.trim())
      .filter(Boolean);
    const user: NewUser = { username: String(data.get("username")), password: String(data.get("password")), role, accounts: accounts.length > 0 ? accounts : null };
    create.mutate(user, { onSuccess: () => form.reset() });
  }

  return (
    <section className="card form-card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>New user</h2>
      <form onSubmit={submit}>
        <label htmlFor={`${id}-username`}>Username</label>
        <input id={`${id}-username`} name="username" autoComplete="off" required pattern="[a-z0-9][a-z0-9._\-]{1,63}" aria-describedby={`${id}-username-hint`} />
        <p id={`${id}-username-hint`} className="muted small">
          2–64 of a–z, 0–9, dot, underscore, hyphen.
        </p>
        {issueOf("username") && <p className="field-error">{issueOf("username")}</p>}
        <label htmlFor={`${id}-role`}>Role</label>
        <select id={`${id}-role`} value={role} onChange={(event) => setRole(event.target.value as UserView["role"])}>
          {ROLES.map((option) => (
            <option key={option.value} value={option.value}>
              {option.label}
            </option>
          ))}
        </select>
        <label htmlFor={`${id}-accounts`}>Accounts {role === "strategy" ? "(required)" : "(optional)"}</label>
        <input id={`${id}-accounts`} name="accounts" autoComplete="off" placeholder="all accounts" disabled={role === "admin"} required={role === "strategy"} aria-describedby={`${id}-accounts-hint`} />
        <p id={`${id}-accounts-hint`} className="muted small">
          Account ids separated by commas; empty for every account.
        </p>
        {issueOf("accounts") && <p className="field-error">{issueOf("accounts")}</p>}
        <label htmlFor={`${id}-password`}>Password</label>
        <input id={`${id}-password`} name="password" type="password" autoComplete="new-password" minLength={MIN_PASSWORD} required />
        {issueOf("password") && <p className="field-error">{issueOf("password")}</p>}
        {create.isError && issues.length === 0 && (
          <p className="error" role="alert">
            {create.error.message}
          </p>
        )}
        <button type="submit" className="primary" disabled={create.isPending}>
          Create user
        </button>
      </form>
    </section>
  );
}
