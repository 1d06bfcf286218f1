import type { BacktestBody } from "@/server/api/schemas";
import type { Answer, ApiSchema } from "../api";
import { request } from "../api";

/** The backtests API as the console reads it (see README, "Backtests"), typed by the OpenAPI document. */

export type BacktestListItem = ApiSchema<"BacktestListItem">;
export type BacktestDetail = Answer<"getBacktest">["backtest"];
export type BacktestReplay = Answer<"backtestReplay">["replay"];

/** What the form sends; the server fills in the defaults (risk on, seed 1, the preset's balance). */
export type BacktestRequest = Partial<Pick<BacktestBody, "dataset" | "csv" | "csvName" | "balance" | "instruments">> & Pick<BacktestBody, "strategy" | "risk" | "seed"> & { preset: string };

export const backtestKeys = {
  all: ["backtests"] as const,
  one: (id: string) => ["backtests", id] as const,
  replay: (id: string) => ["backtests", id, "replay"] as const,
};

const runPath = (id: string) => `/api/v1/backtests/${encodeURIComponent(id)}`;

export const backtestsApi = {
  list: () => request<Answer<"listBacktests">>("/api/v1/backtests"),
  get: (id: string) => request<Answer<"getBacktest">>(runPath(id)),
  replay: (id: string) => request<Answer<"backtestReplay">>(`${runPath(id)}/replay`),
  ledgerHref: (id: string) => `${runPath(id)}/ledger`,
  run: (body: BacktestRequest) => request<Answer<"createBacktest">>("/api/v1/backtests", { method: "POST", body: JSON.stringify(body) }),
};

/** Whether the run may still change (the page polls it). */
export const isLive = (run: Pick<BacktestListItem, "status">) => run.status === "queued" || run.status === "running";

/** A historical instant (epoch ms, as the API gives every time) as UTC date and minute: "2000-09-27 20:00". */
export function utc(at: number): string {
  return new Date(at).toISOString().slice(0, 16).replace("T", " ");
}
