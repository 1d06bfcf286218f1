import { endpoints } from "@/server/api/catalog";
import { CSRF_COOKIE, SESSION_COOKIE } from "@/server/auth/auth";
import { handle } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** End the cookie session (a bearer token is revoked through /api/v1/tokens instead). */
export const POST = handle(endpoints.logout, async ({ services, request }) => {
  await services.auth.logout(request.headers.get("cookie"));
  const headers = new Headers();
  headers.append("set-cookie", `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`);
  headers.append("set-cookie", `${CSRF_COOKIE}=; Path=/; SameSite=Strict; Max-Age=0`);
  return new Response(null, { status: 204, headers });
});
