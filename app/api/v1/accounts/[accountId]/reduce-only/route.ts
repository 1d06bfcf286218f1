import { AccountParams, ReasonBody, UNAUTHENTICATED_ACTOR } from "@/server/api/schemas";
import { json, parseWith, readBody, route } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** Put an account on reduce-only (REDUCING): only exposure-reducing intents pass until it is ended. */
export const POST = route<{ accountId: string }>(async (request, { params, services }) => {
  const { accountId } = parseWith(AccountParams, params, ["params"]);
  const { reason } = await readBody(request, ReasonBody);
  const account = await services.runtime.enterReducing(accountId, reason, UNAUTHENTICATED_ACTOR);
  return json({ seq: services.runtime.lastSeq, account });
});
