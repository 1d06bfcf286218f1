import { endpoints } from "@/server/api/catalog";
import { handle, json } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** Disable a user: every session ends (their open streams within a second) and logins are refused until enabled. */
export const POST = handle(endpoints.disableUser, async ({ params, services, principal }) => {
  return json(await services.auth.disableUser(params.userId, principal!));
});
