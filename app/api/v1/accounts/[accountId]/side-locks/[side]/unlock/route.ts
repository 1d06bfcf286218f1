import { ReasonBody, SideLockParams, UNAUTHENTICATED_ACTOR } from "@/server/api/schemas";
import { json, parseWith, readBody, route } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** Lift an account-wide lock on BUY or SELL entries (a stop-loss streak) before the reset. A reason is required. */
export const POST = route<{ accountId: string; side: string }>(async (request, { params, services }) => {
  const { accountId, side } = parseWith(SideLockParams, params, ["params"]);
  const { reason } = await readBody(request, ReasonBody);
  const account = await services.runtime.unlockSide(accountId, side, reason, UNAUTHENTICATED_ACTOR);
  return json({ seq: services.runtime.lastSeq, account });
});
