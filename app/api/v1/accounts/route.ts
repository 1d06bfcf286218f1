import { endpoints } from "@/server/api/catalog";
import { handle, json } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** The accounts the caller may see. */
export const GET = handle(endpoints.listAccounts, async ({ services, visible }) => {
  const { runtime } = services;
  return json({ seq: runtime.lastSeq, accounts: runtime.accounts().filter((account) => visible(account.accountId)) });
});

/**
 * Open an account: `{accountId, name, presetId, initialBalanceUsd, execution?}`; `execution`
 * is `external` (a stack outside Riskgate reports its fills) unless `simulated`. 409 if it exists.
 */
export const POST = handle(endpoints.openAccount, async ({ body, services, actor }) => {
  const account = await services.runtime.openAccount(body, actor);
  return json({ seq: services.runtime.lastSeq, account }, 201);
});
