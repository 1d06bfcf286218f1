import { endpoints } from "@/server/api/catalog";
import { handle, json } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** Submit an intent; the answer is the committed decision (200 whether allowed or denied). */
export const POST = handle(endpoints.submitIntent, async ({ body, services, actor }) => {
  const result = await services.runtime.submitIntent(body, actor);
  // The deal memo travels with a reviewed decision (a retry answers from the ledger, without it).
  return json({ seq: result.seq, decision: result.decision, ...(result.memo ? { memo: result.memo } : {}) }, 200, result.replayed ? { "idempotent-replayed": "true" } : {});
});
