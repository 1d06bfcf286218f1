import { endpoints } from "@/server/api/catalog";
import { handle, json } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** Equity with the day's baseline and both floors, downsampled (LTTB) to about `points`. */
export const GET = handle(endpoints.equity, async ({ params, query, services }) => {
  services.runtime.account(params.accountId);
  const points = services.equity.query(params.accountId, {
    ...(query.from !== undefined ? { from: query.from } : {}),
    ...(query.to !== undefined ? { to: query.to } : {}),
    points: query.points,
  });
  return json({ accountId: params.accountId, points });
});
