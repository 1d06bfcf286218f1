import { endpoints } from "@/server/api/catalog";
import { handle } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** A finished run's ledger in the export format (what `npm run replay` and `npm run verify` read). */
export const GET = handle(endpoints.backtestLedger, async ({ params, services, principal }) => {
  const ndjson = services.backtests.ledger(params.backtestId, principal!);
  return new Response(ndjson, {
    headers: { "content-type": "application/x-ndjson", "content-disposition": `attachment; filename="backtest-${params.backtestId}.ndjson"` },
  });
});
