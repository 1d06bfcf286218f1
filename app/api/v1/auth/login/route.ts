import { endpoints } from "@/server/api/catalog";
import { CSRF_COOKIE, SESSION_COOKIE } from "@/server/auth/auth";
import { handle } from "@/server/http/route";

export const dynamic = "force-dynamic";

/**
 * Log in with a password. The session cookie is HttpOnly, SameSite=Strict (Secure over HTTPS);
 * the CSRF token comes back in the body and in a readable cookie, and every mutating call of
 * the session must echo it in `x-csrf-token`. Failed logins are rate-limited (429).
 */
export const POST = handle(endpoints.login, async ({ body, services, request, address }) => {
  const { secret, principal, expiresAt } = await services.auth.login(body.username, body.password, address);
  const secure = new URL(request.url).protocol === "https:" || request.headers.get("x-forwarded-proto") === "https" ? "; Secure" : "";
  const maxAge = Math.floor((expiresAt.getTime() - Date.now()) / 1000);
  const headers = new Headers({ "content-type": "application/json" });
  headers.append("set-cookie", `${SESSION_COOKIE}=${secret}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure}`);
  headers.append("set-cookie", `${CSRF_COOKIE}=${principal.csrfToken}; Path=/; SameSite=Strict; Max-Age=${maxAge}${secure}`);
  const user = { name: principal.name, role: principal.role, accounts: principal.accounts };
  return new Response(JSON.stringify({ user, csrfToken: principal.csrfToken, expiresAt: expiresAt.getTime() }), { status: 200, headers });
});
