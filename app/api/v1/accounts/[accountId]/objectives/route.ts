import { endpoints } from "@/server/api/catalog";
import { handle, json } from "@/server/http/route";
import { objectivesOf } from "@/server/objectives";

export const dynamic = "force-dynamic";

/** The account's prop-firm objectives, live: the compliance verifier over the account's own ledger events. */
export const GET = handle(endpoints.objectives, async ({ params, services }) => {
  return json(await objectivesOf(services).objectives(params.accountId));
});
