import { ExecutionsBody } from "@/server/api/schemas";
import { json, readBody, route } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** Fills reported by a venue outside Riskgate: they move positions, balance and equity. */
export const POST = route(async (request, { services }) => {
  const { fills } = await readBody(request, ExecutionsBody);
  return json(await services.runtime.recordFills(fills));
});
