import { ReasonBody, BreakerParams, UNAUTHENTICATED_ACTOR } from "@/server/api/schemas";
import { json, parseWith, readBody, route } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** Reset a tripped breaker. A reason is required. */
export const POST = route<{ accountId: string; breaker: string }>(async (request, { params, services }) => {
  const { accountId, breaker } = parseWith(BreakerParams, params, ["params"]);
  const { reason } = await readBody(request, ReasonBody);
  const account = await services.runtime.resetBreaker({ accountId, breaker, reason, by: UNAUTHENTICATED_ACTOR });
  return json({ seq: services.runtime.lastSeq, account });
});
