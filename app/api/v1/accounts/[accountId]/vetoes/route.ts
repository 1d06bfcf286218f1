import { endpoints } from "@/server/api/catalog";
import { handle, json } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** The account's veto registry. */
export const GET = handle(endpoints.listVetoes, async ({ params, services }) => {
  return json({ seq: services.runtime.lastSeq, vetoes: services.runtime.account(params.accountId).vetoes });
});

/** Lock a symbol: no new exposure in it until the lock expires, the daily reset, or an unlock. */
export const POST = handle(endpoints.lockSymbol, async ({ params, body, services, actor }) => {
  const account = await services.runtime.lockSymbol({
    accountId: params.accountId,
    symbol: body.symbol,
    note: body.reason,
    expiresAt: body.expiresAt,
    by: actor,
  });
  return json({ seq: services.runtime.lastSeq, account }, 201);
});
