import { ReasonBody, UNAUTHENTICATED_ACTOR } from "@/server/api/schemas";
import { json, readBody, route } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** Halt every account: no new exposure anywhere until the firm is resumed. A reason is required. */
export const POST = route(async (request, { services }) => {
  const { reason } = await readBody(request, ReasonBody);
  const firm = await services.runtime.haltFirm(reason, UNAUTHENTICATED_ACTOR);
  return json({ seq: services.runtime.lastSeq, firm });
});
