import { endpoints } from "@/server/api/catalog";
import { handle, json } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** Who is calling: name, role, scope, and (cookie sessions) the CSRF token for mutating calls. */
export const GET = handle(endpoints.me, async ({ principal }) => {
  if (!principal) throw new Error("authenticated endpoint without a principal");
  return json({ user: { kind: principal.kind, name: principal.name, role: principal.role, accounts: principal.accounts }, csrfToken: principal.csrfToken });
});
