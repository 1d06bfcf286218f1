import { endpoints } from "@/server/api/catalog";
import { AppError } from "@/server/errors";
import { handle, json } from "@/server/http/route";

export const dynamic = "force-dynamic";

/**
 * The decision recorded at `seq` (its `intent.decided`), decided again from the state before its
 * intent with every guard's part: `{seq, at, intent, decision, steps: [{guard, status, measures:
 * [{what, observed, limit}], reason?, note?}], reproduced}`.
 */
export const GET = handle(endpoints.explainDecision, async ({ params, query, services, visible }) => {
  const explained = await services.runtime.explainDecision(params.seq);
  const accountId = explained?.record.decision.accountId;
  // A decision of another account than the one named, or of one the caller may not see, is as absent as none.
  if (!explained || !visible(accountId!) || (query.accountId !== undefined && query.accountId !== accountId)) {
    throw new AppError("not_found", `no decision at seq ${params.seq}${query.accountId ? ` for ${query.accountId}` : ""}`);
  }
  return json({ ...explained.record, steps: explained.steps, reproduced: explained.reproduced, memo: explained.memo });
});
