import { endpoints } from "@/server/api/catalog";
import { handle, json } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** Put an account on reduce-only (REDUCING): only exposure-reducing intents pass until it is ended. */
export const POST = handle(endpoints.enterReducing, async ({ params, body, services, actor }) => {
  const account = await services.runtime.enterReducing(params.accountId, body.reason, actor);
  return json({ seq: services.runtime.lastSeq, account });
});
