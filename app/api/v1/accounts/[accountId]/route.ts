import { AccountParams } from "@/server/api/schemas";
import { json, parseWith, route } from "@/server/http/route";

export const dynamic = "force-dynamic";

export const GET = route<{ accountId: string }>(async (_request, { params, services }) => {
  const { accountId } = parseWith(AccountParams, params, ["params"]);
  return json({ seq: services.runtime.lastSeq, account: services.runtime.account(accountId) });
});
