import { endpoints } from "@/server/api/catalog";
import { handle, json } from "@/server/http/route";
import { objectivesOf } from "@/server/objectives";

export const dynamic = "force-dynamic";

/** The account's closed trades (round trips), newest first, a page at a time. */
export const GET = handle(endpoints.closedTrades, async ({ params, query, services }) => {
  return json(await objectivesOf(services).trades(params.accountId, query.limit, query.beforeSeq));
});
