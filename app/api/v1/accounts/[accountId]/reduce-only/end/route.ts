import { AccountParams, ReasonBody, UNAUTHENTICATED_ACTOR } from "@/server/api/schemas";
import { json, parseWith, readBody, route } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** End reduce-only, whether an operator or a soft daily-loss breach set it. A reason is required and recorded. */
export const POST = route<{ accountId: string }>(async (request, { params, services }) => {
  const { accountId } = parseWith(AccountParams, params, ["params"]);
  const { reason } = await readBody(request, ReasonBody);
  const account = await services.runtime.endReducing(accountId, reason, UNAUTHENTICATED_ACTOR);
  return json({ seq: services.runtime.lastSeq, account });
});
