import { endpoints } from "@/server/api/catalog";
import { AppError } from "@/server/errors";
import { handle, json } from "@/server/http/route";

export const dynamic = "force-dynamic";

/**
 * Fills reported by a venue outside Riskgate: they move positions, balance and equity. Each names
 * the allowed intent it fills (or is a protective exit of a position); an admin may book any
 * fill as a correction, with a reason.
 */
export const POST = handle(endpoints.recordFills, async ({ body, services, actor, principal }) => {
  if (body.correction && principal?.role !== "admin") throw new AppError("forbidden", "only an admin may book a correction");
  const source = body.correction ? { source: "correction" as const, reason: body.correction.reason } : { source: "report" as const };
  return json(await services.runtime.recordFills(body.fills, actor, source));
});
