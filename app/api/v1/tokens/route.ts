import { endpoints } from "@/server/api/catalog";
import { handle, json } from "@/server/http/route";

export const dynamic = "force-dynamic";

export const GET = handle(endpoints.listTokens, async ({ services }) => {
  return json({ tokens: await services.auth.tokens() });
});

/** A bearer token `{name, role, accounts?}`; the secret is in this answer only. */
export const POST = handle(endpoints.createToken, async ({ body, services, actor }) => {
  const { token, view } = await services.auth.createToken(body.name, { role: body.role, accounts: body.accounts }, actor);
  return json({ token, ...view }, 201);
});
