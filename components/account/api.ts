import type { AccountView } from "@/server/realtime-protocol";
import type { Answer, ApiSchema } from "../api";
import { queryKeys, request } from "../api";

/** One point of an account's equity history, with the baseline and floors that held then (epoch ms). */
export type EquityPoint = ApiSchema<"EquityPoint">;

export type EquityPage = Answer<"equity">;

/** A page of the ledger in processing order; `nextAfterSeq` is null on the last page. */
export type LedgerPage = Answer<"ledger">;

const account = (accountId: string) => `/api/v1/accounts/${encodeURIComponent(accountId)}`;

/** A recorded decision taken again with every guard's part (GET /api/v1/decisions/{seq}/explain), with its deal memo. */
export type Explanation = Answer<"explainDecision">;

export const accountKeys = {
  equity: (accountId: string, range: string, points: number) => ["account", accountId, "equity", range, points] as const,
  decisions: (accountId: string) => ["account", accountId, "decisions"] as const,
  explanation: (seq: number) => ["decision", seq, "explanation"] as const,
  ledger: (accountId: string) => ["account", accountId, "ledger"] as const,
  objectives: (accountId: string) => ["account", accountId, "objectives"] as const,
  trades: (accountId: string) => ["account", accountId, "trades"] as const,
};

export type AccountObjectives = Answer<"objectives">;
export type ClosedTradesPage = Answer<"closedTrades">;

/** What an operator action answers: the account after it, with the ledger seq. */
type Changed = { seq: number; account: AccountView };
const post = <T = Changed>(path: string, body: unknown) => request<T>(path, { method: "POST", body: JSON.stringify(body) });

export const accountApi = {
  equity: (accountId: string, query: { points: number; from?: Date; to?: Date }) => {
    const params = new URLSearchParams({ points: String(query.points) });
    if (query.from) params.set("from", String(query.from.getTime()));
    if (query.to) params.set("to", String(query.to.getTime()));
    return request<EquityPage>(`${account(accountId)}/equity?${params}`);
  },
  /** The account's latest decisions, newest first (the live cache holds only the firm's latest few hundred). */
  decisions: (accountId: string, limit = 200) =>
    request<Answer<"decisions">>(`/api/v1/decisions?accountId=${encodeURIComponent(accountId)}&limit=${limit}`),
  ledger: (accountId: string, afterSeq: number, limit: number) =>
    request<LedgerPage>(`/api/v1/ledger?accountId=${encodeURIComponent(accountId)}&afterSeq=${afterSeq}&limit=${limit}`),
  explain: (accountId: string, seq: number) => request<Explanation>(`/api/v1/decisions/${seq}/explain?accountId=${encodeURIComponent(accountId)}`),
  ledgerExportUrl: (accountId: string) => `/api/v1/ledger/export?accountId=${encodeURIComponent(accountId)}`,
  objectives: (accountId: string) => request<AccountObjectives>(`${account(accountId)}/objectives`),
  trades: (accountId: string, limit: number, beforeSeq?: number) =>
    request<ClosedTradesPage>(`${account(accountId)}/trades?limit=${limit}${beforeSeq === undefined ? "" : `&beforeSeq=${beforeSeq}`}`),
  /** Locks a symbol until `expiresAt` (epoch ms) or, with null, the next daily reset. */
  lockSymbol: (accountId: string, symbol: string, reason: string, expiresAt: number | null) => post(`${account(accountId)}/vetoes`, { symbol, reason, expiresAt }),
  enterReducing: (accountId: string, reason: string) => post(`${account(accountId)}/reduce-only`, { reason }),
  endReducing: (accountId: string, reason: string) => post(`${account(accountId)}/reduce-only/end`, { reason }),
  reopen: (accountId: string, reason: string) => post(`${account(accountId)}/reopen`, { reason }),
  flatten: (accountId: string, reason: string) => post<Changed & Pick<Answer<"flattenAccount">, "flattens">>(`${account(accountId)}/flatten`, { reason }),
  unlockSymbol: (accountId: string, symbol: string, reason: string) =>
    request<{ seq: number; account: AccountView }>(`${account(accountId)}/vetoes/${encodeURIComponent(symbol)}/unlock`, {
      method: "POST",
      body: JSON.stringify({ reason }),
    }),
  unlockSide: (accountId: string, side: "BUY" | "SELL", reason: string) =>
    request<{ seq: number; account: AccountView }>(`${account(accountId)}/side-locks/${side}/unlock`, {
      method: "POST",
      body: JSON.stringify({ reason }),
    }),
};

