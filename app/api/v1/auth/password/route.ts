import { endpoints } from "@/server/api/catalog";
import { handle, json } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** Change your own password `{currentPassword, newPassword}`: your other sessions end, this one stays. */
export const POST = handle(endpoints.changePassword, async ({ body, services, principal, request }) => {
  return json(await services.auth.changePassword(principal!, request.headers.get("cookie"), body.currentPassword, body.newPassword));
});
