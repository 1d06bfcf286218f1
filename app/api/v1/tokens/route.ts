import { endpoints } from "@/server/api/catalog";
import { handle, json } from "@/server/http/route";

export const dynamic = "force-dynamic";

export const GET = handle(endpoints.listTokens, async ({ services }) => {
  return json({ tokens: await services.auth.tokens() });
});

/** The detail a retry of a token's creation (same Idempotency-Key) answers instead of the secret. */
const RETRY_DETAIL = "this token was created by the first call with this Idempotency-Key; its secret was in that answer only and is not kept: revoke the token and create another if it was lost";

/**
 * A bearer token `{name, role, accounts?}`; the secret is in this answer only. A retry with the
 * same Idempotency-Key answers the token's view with `token: null` and a `detail`: the secret is
 * never stored, not even in the kept answer.
 */
export const POST = handle(endpoints.createToken, async ({ body, services, actor }) => {
  const { token, view } = await services.auth.createToken(body.name, { role: body.role, accounts: body.accounts }, actor);
  return json({ token, ...view }, 201, {}, { retry: { token: null, ...view, detail: RETRY_DETAIL } });
});
