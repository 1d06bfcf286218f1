import { z } from "zod";
import { AccountId } from "../engine/ids";
import { BreakerKind, OperatorReason } from "../engine/types";

/** Request shapes of the HTTP API, shared by the route handlers and the browser. */
export const AccountParams = z.strictObject({ accountId: AccountId });

export const BreakerParams = z.strictObject({ accountId: AccountId, breaker: BreakerKind });

export const BreakerActionBody = z.strictObject({ reason: OperatorReason });
export type BreakerActionBody = z.infer<typeof BreakerActionBody>;

export const DecisionsQuery = z.strictObject({
  accountId: AccountId.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const LedgerQuery = z.strictObject({
  afterSeq: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  accountId: AccountId.optional(),
});

/** Who performed an operator action. Authentication arrives with roles; until then, this. */
export const UNAUTHENTICATED_ACTOR = "unauthenticated";
