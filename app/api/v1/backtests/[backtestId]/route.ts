import { endpoints } from "@/server/api/catalog";
import { handle, json } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** One run: its progress, and when done its report and equity with both floors (404 for another's run when the caller is scoped). */
export const GET = handle(endpoints.getBacktest, async ({ params, services, principal }) => json({ backtest: services.backtests.get(params.backtestId, principal!) }));
