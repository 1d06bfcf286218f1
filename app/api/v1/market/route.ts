import { MarketBody } from "@/server/api/schemas";
import { json, readBody, route } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** Market data from a feed: ticks and L2 books, batched. Each becomes a ledger event. */
export const POST = route(async (request, { services }) => {
  const { ticks, books } = await readBody(request, MarketBody);
  const result = await services.runtime.recordMarket([
    ...ticks.map((tick) => ({ kind: "tick" as const, ...tick })),
    ...books.map((book) => ({ kind: "book" as const, ...book })),
  ]);
  return json(result);
});
