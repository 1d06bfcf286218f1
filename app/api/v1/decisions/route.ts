import { DecisionsQuery } from "@/server/api/schemas";
import { json, parseWith, route, searchParams } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** The most recent decisions, newest first. */
export const GET = route(async (request, { services }) => {
  const { accountId, limit } = parseWith(DecisionsQuery, searchParams(request), ["query"]);
  return json({ seq: services.runtime.lastSeq, decisions: services.runtime.recentDecisions(limit, accountId) });
});
