import { endpoints } from "@/server/api/catalog";
import { handle, json } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** An admin sets another user's password `{password}`: every session of that user ends. */
export const POST = handle(endpoints.resetPassword, async ({ params, body, services, principal }) => {
  return json(await services.auth.resetPassword(params.userId, body.password, principal!));
});
