import { endpoints } from "@/server/api/catalog";
import { handle, json } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** The firm-wide halt: `{halted, halt: {reason, at, by} | null}`. */
export const GET = handle(endpoints.firm, async ({ services }) => {
  return json({ seq: services.runtime.lastSeq, firm: services.runtime.firm() });
});
