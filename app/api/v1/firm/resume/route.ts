import { endpoints } from "@/server/api/catalog";
import { handle, json } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** Lift the firm-wide halt (accounts with their own tripped breakers stay HALTED). A reason is required. */
export const POST = handle(endpoints.resumeFirm, async ({ body, services, actor }) => {
  const firm = await services.runtime.resumeFirm(body.reason, actor);
  return json({ seq: services.runtime.lastSeq, firm });
});
