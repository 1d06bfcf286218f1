import type { QueryClient } from "@tanstack/react-query";
import type { AccountView, DecisionRecord } from "@/server/realtime-protocol";
import type { Answer } from "./api-contract";

export type { Answer, ApiSchema, RequestBody } from "./api-contract";

/** The browser's view of the HTTP API. Problems come back as `ApiError` with the server's detail. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Field issues of a 422 (`path`, `message`), for inline messages. */
    readonly issues: { path: string; message: string }[] = [],
  ) {
    super(message);
  }
}

/** The session's CSRF token, from the readable cookie the login set; mutating calls echo it. */
function csrfToken(): string | null {
  const match = /(?:^|;\s*)riskgate_csrf=([^;]+)/.exec(document.cookie);
  return match ? decodeURIComponent(match[1]!) : null;
}

/** One call to the API as the logged-in user: JSON in and out, the CSRF token on mutating calls. */
export async function request<T>(path: string, init?: RequestInit): Promise<T> {
  const csrf = init?.method && init.method !== "GET" ? csrfToken() : null;
  const response = await fetch(path, {
    ...init,
    headers: {
      accept: "application/json",
      ...(init?.body ? { "content-type": "application/json" } : {}),
      ...(csrf ? { "x-csrf-token": csrf } : {}),
    },
  });
  if (response.status === 204) return undefined as T;
  const body: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const detail = body && typeof body === "object" && "detail" in body ? String(body.detail) : response.statusText;
    const issues = body && typeof body === "object" && "errors" in body && Array.isArray(body.errors) ? (body.errors as { path: string; message: string }[]) : [];
    throw new ApiError(response.status, detail, issues);
  }
  return body as T;
}

export type AccountsPage = { seq: number; accounts: AccountView[] };
/** One account (`GET /api/v1/accounts/:accountId`), kept current by `useAccountStream`. */
export type AccountPage = { seq: number; account: AccountView };
export type DecisionsPage = { seq: number; decisions: DecisionRecord[] };

export type FirmPage = Answer<"firm">;

export type Me = Answer<"me">;

export const queryKeys = {
  accounts: ["accounts"] as const,
  account: (accountId: string) => ["account", accountId, "view"] as const,
  decisions: ["decisions"] as const,
  firm: ["firm"] as const,
  me: ["me"] as const,
};

export const api = {
  me: () => request<Me>("/api/v1/auth/me"),
  login: (username: string, password: string) =>
    request<Answer<"login">>("/api/v1/auth/login", { method: "POST", body: JSON.stringify({ username, password }) }),
  logout: () => request<void>("/api/v1/auth/logout", { method: "POST" }),
  accounts: () => request<AccountsPage>("/api/v1/accounts"),
  account: (accountId: string) => request<AccountPage>(`/api/v1/accounts/${encodeURIComponent(accountId)}`),
  decisions: () => request<DecisionsPage>("/api/v1/decisions?limit=100"),
  firm: () => request<FirmPage>("/api/v1/firm"),
  haltFirm: (reason: string) => request<FirmPage>("/api/v1/firm/halt", { method: "POST", body: JSON.stringify({ reason }) }),
  resumeFirm: (reason: string) => request<FirmPage>("/api/v1/firm/resume", { method: "POST", body: JSON.stringify({ reason }) }),
  breaker: (accountId: string, breaker: string, action: "trip" | "reset", reason: string) =>
    request<{ seq: number; account: AccountView }>(
      `/api/v1/accounts/${encodeURIComponent(accountId)}/breakers/${encodeURIComponent(breaker)}/${action}`,
      { method: "POST", body: JSON.stringify({ reason }) },
    ),
};

/** Puts an account as a mutation answered it into the caches that hold it (the stream will agree). */
export function replaceAccount(queryClient: QueryClient, updated: AccountView, seq: number): void {
  // The stream may have brought a newer view already: an answer never takes the page back in time.
  queryClient.setQueryData<AccountsPage>(queryKeys.accounts, (page) =>
    page && seq > page.seq ? { ...page, accounts: page.accounts.map((a) => (a.accountId === updated.accountId ? updated : a)) } : page,
  );
  queryClient.setQueryData<AccountPage>(queryKeys.account(updated.accountId), (page) => (page && seq > page.seq ? { seq, account: updated } : page));
}
