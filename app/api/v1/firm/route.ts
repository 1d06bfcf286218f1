import { json, route } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** The firm-wide halt: `{halted, halt: {reason, at, by} | null}`. */
export const GET = route(async (_request, { services }) => {
  return json({ seq: services.runtime.lastSeq, firm: services.runtime.firm() });
});
