import { endpoints } from "@/server/api/catalog";
import { handle, json } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** Lift an account-wide lock on BUY or SELL entries before the reset. */
export const POST = handle(endpoints.unlockSide, async ({ params, body, services, actor }) => {
  const account = await services.runtime.unlockSide(params.accountId, params.side, body.reason, actor);
  return json({ seq: services.runtime.lastSeq, account });
});
