import { UNAUTHENTICATED_ACTOR } from "@/server/api/schemas";
import { AccountSpec } from "@/server/engine/types";
import { json, readBody, route } from "@/server/http/route";

export const dynamic = "force-dynamic";

export const GET = route(async (_request, { services }) => {
  const { runtime } = services;
  return json({ seq: runtime.lastSeq, accounts: runtime.accounts() });
});

/**
 * Open an account: `{accountId, name, presetId, initialBalanceUsd, execution?}`; `execution`
 * is `external` (a stack outside Riskgate reports its fills) unless `simulated`. 409 if it exists.
 */
export const POST = route(async (request, { services }) => {
  const spec = await readBody(request, AccountSpec);
  const account = await services.runtime.openAccount(spec, UNAUTHENTICATED_ACTOR);
  return json({ seq: services.runtime.lastSeq, account }, 201);
});
