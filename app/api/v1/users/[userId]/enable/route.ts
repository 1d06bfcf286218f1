import { endpoints } from "@/server/api/catalog";
import { handle, json } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** Enable a disabled user: they may log in again. */
export const POST = handle(endpoints.enableUser, async ({ params, services, principal }) => {
  return json(await services.auth.enableUser(params.userId, principal!));
});
