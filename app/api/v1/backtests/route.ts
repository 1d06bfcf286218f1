import { endpoints } from "@/server/api/catalog";
import { handle, json } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** The recent runs, newest first: every run for unscoped callers, only its own for a caller scoped to accounts. */
export const GET = handle(endpoints.listBacktests, async ({ services, principal }) => json({ backtests: services.backtests.list(principal!) }));

/** Checks the request (422 naming the field, and an uploaded CSV's line and column) and queues the run: 202 with its id. */
export const POST = handle(endpoints.createBacktest, async ({ body, services, principal }) => {
  const run = await services.backtests.submit(body, principal!);
  return json({ id: run.id, status: run.status, backtest: run }, 202, { location: `/api/v1/backtests/${run.id}` });
});
