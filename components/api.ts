import type { AccountView, DecisionRecord, FirmView } from "@/server/realtime-protocol";

/** The browser's view of the HTTP API. Problems come back as `ApiError` with the server's detail. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function request<T>(path: string, init?: RequestInit): Promise<T> {
  const response = await fetch(path, {
    ...init,
    headers: { accept: "application/json", ...(init?.body ? { "content-type": "application/json" } : {}) },
  });
  const body: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const detail = body && typeof body === "object" && "detail" in body ? String(body.detail) : response.statusText;
    throw new ApiError(response.status, detail);
  }
  return body as T;
}

export type AccountsPage = { seq: number; accounts: AccountView[] };
export type DecisionsPage = { seq: number; decisions: DecisionRecord[] };

export type FirmPage = { seq: number; firm: FirmView };

export const queryKeys = { accounts: ["accounts"] as const, decisions: ["decisions"] as const, firm: ["firm"] as const };

export const api = {
  accounts: () => request<AccountsPage>("/api/v1/accounts"),
  decisions: () => request<DecisionsPage>("/api/v1/decisions?limit=100"),
  firm: () => request<FirmPage>("/api/v1/firm"),
  breaker: (accountId: string, breaker: string, action: "trip" | "reset", reason: string) =>
    request<{ seq: number; account: AccountView }>(
      `/api/v1/accounts/${encodeURIComponent(accountId)}/breakers/${encodeURIComponent(breaker)}/${action}`,
      { method: "POST", body: JSON.stringify({ reason }) },
    ),
};
