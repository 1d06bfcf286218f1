import { endpoints } from "@/server/api/catalog";
import { handle, json } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** The most recent decisions, newest first (only the caller's accounts when it is scoped). */
export const GET = handle(endpoints.decisions, async ({ query, services, visible }) => {
  const decisions = services.runtime.recentDecisions(query.limit, query.accountId).filter((record) => visible(record.decision.accountId));
  return json({ seq: services.runtime.lastSeq, decisions });
});
