import { ReasonBody, UNAUTHENTICATED_ACTOR } from "@/server/api/schemas";
import { json, readBody, route } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** Lift the firm-wide halt (accounts with their own tripped breakers stay HALTED). */
export const POST = route(async (request, { services }) => {
  const { reason } = await readBody(request, ReasonBody);
  const firm = await services.runtime.resumeFirm(reason, UNAUTHENTICATED_ACTOR);
  return json({ seq: services.runtime.lastSeq, firm });
});
