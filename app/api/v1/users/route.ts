import { endpoints } from "@/server/api/catalog";
import { handle, json } from "@/server/http/route";

export const dynamic = "force-dynamic";

export const GET = handle(endpoints.listUsers, async ({ services }) => {
  return json({ users: await services.auth.users() });
});

/** A console user: `{username, password, role, accounts?}` (strategies must name their accounts). */
export const POST = handle(endpoints.createUser, async ({ body, services, actor }) => {
  return json({ user: await services.auth.createUser(body, actor) }, 201);
});
