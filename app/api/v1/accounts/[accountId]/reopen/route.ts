import { endpoints } from "@/server/api/catalog";
import { handle, json } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** Reopen an account locked out by a loss breach. A reason is required and recorded. */
export const POST = handle(endpoints.reopenAccount, async ({ params, body, services, actor }) => {
  const account = await services.runtime.reopenAccount(params.accountId, body.reason, actor);
  return json({ seq: services.runtime.lastSeq, account });
});
