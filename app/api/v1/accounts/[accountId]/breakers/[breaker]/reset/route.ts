import { endpoints } from "@/server/api/catalog";
import { handle, json } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** Reset a tripped breaker (risk_manager or admin). A reason is required. */
export const POST = handle(endpoints.resetBreaker, async ({ params, body, services, actor }) => {
  const account = await services.runtime.resetBreaker({ ...params, reason: body.reason, by: actor });
  return json({ seq: services.runtime.lastSeq, account });
});
