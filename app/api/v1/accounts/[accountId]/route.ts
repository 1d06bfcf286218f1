import { endpoints } from "@/server/api/catalog";
import { handle, json } from "@/server/http/route";

export const dynamic = "force-dynamic";

export const GET = handle(endpoints.getAccount, async ({ params, services }) => {
  return json({ seq: services.runtime.lastSeq, account: services.runtime.account(params.accountId) });
});
