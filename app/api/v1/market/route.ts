import { endpoints } from "@/server/api/catalog";
import { handle, json } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** Market data from a feed: ticks, L2 books and bars, batched. Each becomes a ledger event. */
export const POST = handle(endpoints.recordMarket, async ({ body, services, actor }) => {
  const { ticks, books, bars } = body;
  const result = await services.runtime.recordMarket([
    ...ticks.map((tick) => ({ kind: "tick" as const, ...tick })),
    ...books.map((book) => ({ kind: "book" as const, ...book })),
    ...bars.map((bar) => ({ kind: "bar" as const, ...bar })),
  ], actor);
  return json(result);
});
