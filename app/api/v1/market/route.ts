import { MarketBody } from "@/server/api/schemas";
import { json, readBody, route } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** Market data from a feed: ticks, L2 books and bars, batched. Each becomes a ledger event. */
export const POST = route(async (request, { services }) => {
  const { ticks, books, bars } = await readBody(request, MarketBody);
  const result = await services.runtime.recordMarket([
    ...ticks.map((tick) => ({ kind: "tick" as const, ...tick })),
    ...books.map((book) => ({ kind: "book" as const, ...book })),
    ...bars.map(({ closedAt, ...bar }) => ({ kind: "bar" as const, closedAt: Date.parse(closedAt), ...bar })),
  ]);
  return json(result);
});
