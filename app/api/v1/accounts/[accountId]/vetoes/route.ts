import { AccountParams, LockBody, UNAUTHENTICATED_ACTOR } from "@/server/api/schemas";
import { json, parseWith, readBody, route } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** The account's veto registry. */
export const GET = route<{ accountId: string }>(async (_request, { params, services }) => {
  const { accountId } = parseWith(AccountParams, params, ["params"]);
  return json({ seq: services.runtime.lastSeq, vetoes: services.runtime.account(accountId).vetoes });
});

/** Lock a symbol: no new exposure in it until the lock expires, the daily reset, or an unlock. */
export const POST = route<{ accountId: string }>(async (request, { params, services }) => {
  const { accountId } = parseWith(AccountParams, params, ["params"]);
  const { symbol, reason, expiresAt } = await readBody(request, LockBody);
  const account = await services.runtime.lockSymbol({
    accountId,
    symbol,
    note: reason,
    expiresAt: expiresAt === null ? null : Date.parse(expiresAt),
    by: UNAUTHENTICATED_ACTOR,
  });
  return json({ seq: services.runtime.lastSeq, account }, 201);
});
