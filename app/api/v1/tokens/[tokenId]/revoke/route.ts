import { endpoints } from "@/server/api/catalog";
import { handle, json } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** Revoke a token: it stops working at once in this process, within 5 s in others. */
export const POST = handle(endpoints.revokeToken, async ({ params, services, actor }) => {
  return json({ token: await services.auth.revokeToken(params.tokenId, actor) });
});
