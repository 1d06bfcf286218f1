import { endpoints } from "@/server/api/catalog";
import { handle, json } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** Trip a breaker: the account is HALTED until it is reset. A reason is required. */
export const POST = handle(endpoints.tripBreaker, async ({ params, body, services, actor }) => {
  const account = await services.runtime.tripBreaker({ ...params, reason: body.reason, by: actor });
  return json({ seq: services.runtime.lastSeq, account });
});
