import { LedgerQuery } from "@/server/api/schemas";
import { json, parseWith, route, searchParams } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** The ledger in processing order, by cursor: pass the last `seq` you saw as `afterSeq`. */
export const GET = route(async (request, { services }) => {
  const { afterSeq, limit, accountId } = parseWith(LedgerQuery, searchParams(request), ["query"]);
  const events = await services.runtime.readLedger(afterSeq, limit, accountId);
  const nextAfterSeq = events.length === limit ? events[events.length - 1]!.seq : null;
  return json({ events, nextAfterSeq });
});
