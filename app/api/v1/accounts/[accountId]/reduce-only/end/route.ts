import { endpoints } from "@/server/api/catalog";
import { handle, json } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** End reduce-only, whether an operator or a soft daily-loss breach set it. */
export const POST = handle(endpoints.endReducing, async ({ params, body, services, actor }) => {
  const account = await services.runtime.endReducing(params.accountId, body.reason, actor);
  return json({ seq: services.runtime.lastSeq, account });
});
