import { endpoints } from "@/server/api/catalog";
import { handle, json } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** Halt every account: no new exposure anywhere until the firm is resumed. A reason is required. */
export const POST = handle(endpoints.haltFirm, async ({ body, services, actor }) => {
  const firm = await services.runtime.haltFirm(body.reason, actor);
  return json({ seq: services.runtime.lastSeq, firm });
});
