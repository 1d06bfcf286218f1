import { endpoints } from "@/server/api/catalog";
import { handle, json } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** The ledger in processing order, by cursor: pass the last `seq` you saw as `afterSeq`. */
export const GET = handle(endpoints.ledger, async ({ query, services }) => {
  const { afterSeq, limit, accountId } = query;
  const events = await services.runtime.readLedger(afterSeq, limit, accountId);
  const nextAfterSeq = events.length === limit ? events[events.length - 1]!.seq : null;
  return json({ events, nextAfterSeq });
});
