"use client";

/** Placeholder until the account page lands (issue 6). */
export function AccountPage({ accountId }: { accountId: string }) {
  return <p className="muted">Account {accountId}</p>;
}
