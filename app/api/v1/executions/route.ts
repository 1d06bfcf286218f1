import { endpoints } from "@/server/api/catalog";
import { handle, json } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** Fills reported by a venue outside Riskgate: they move positions, balance and equity. */
export const POST = handle(endpoints.recordFills, async ({ body, services, actor }) => {
  return json(await services.runtime.recordFills(body.fills, actor));
});
