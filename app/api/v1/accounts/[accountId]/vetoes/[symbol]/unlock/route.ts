import { ReasonBody, UNAUTHENTICATED_ACTOR, VetoParams } from "@/server/api/schemas";
import { json, parseWith, readBody, route } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** Unlock a symbol before its lock ends. A reason is required and recorded. */
export const POST = route<{ accountId: string; symbol: string }>(async (request, { params, services }) => {
  const { accountId, symbol } = parseWith(VetoParams, params, ["params"]);
  const { reason } = await readBody(request, ReasonBody);
  const account = await services.runtime.unlockSymbol({ accountId, symbol, reason, by: UNAUTHENTICATED_ACTOR });
  return json({ seq: services.runtime.lastSeq, account });
});
