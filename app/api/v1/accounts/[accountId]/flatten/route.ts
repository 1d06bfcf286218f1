import { endpoints } from "@/server/api/catalog";
import { handle, json } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** Flatten now: every open position ordered closed through the account's execution path, with a reason (409: nothing held). */
export const POST = handle(endpoints.flattenAccount, async ({ params, body, services, actor }) => {
  const { account, flattens } = await services.runtime.flattenAccount(params.accountId, body.reason, actor);
  return json({ seq: services.runtime.lastSeq, account, flattens });
});
