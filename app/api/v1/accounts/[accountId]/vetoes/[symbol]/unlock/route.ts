import { endpoints } from "@/server/api/catalog";
import { handle, json } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** Unlock a symbol before its lock ends. A reason is required and recorded. */
export const POST = handle(endpoints.unlockSymbol, async ({ params, body, services, actor }) => {
  const account = await services.runtime.unlockSymbol({ ...params, reason: body.reason, by: actor });
  return json({ seq: services.runtime.lastSeq, account });
});
