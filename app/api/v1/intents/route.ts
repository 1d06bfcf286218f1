import { Intent } from "@/server/engine/intent";
import { json, readBody, route } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** Submit an intent; the answer is the committed decision (200 whether allowed or denied). */
export const POST = route(async (request, { services }) => {
  const intent = await readBody(request, Intent);
  const result = await services.runtime.submitIntent(intent);
  return json({ seq: result.seq, decision: result.decision }, 200, result.replayed ? { "idempotent-replayed": "true" } : {});
});
