import { AccountParams, ReasonBody, UNAUTHENTICATED_ACTOR } from "@/server/api/schemas";
import { json, parseWith, readBody, route } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** Reopen an account locked out by a max-loss breach. A reason is required and recorded. */
export const POST = route<{ accountId: string }>(async (request, { params, services }) => {
  const { accountId } = parseWith(AccountParams, params, ["params"]);
  const { reason } = await readBody(request, ReasonBody);
  const account = await services.runtime.reopenAccount(accountId, reason, UNAUTHENTICATED_ACTOR);
  return json({ seq: services.runtime.lastSeq, account });
});
