import { z } from "zod";
import { AccountId } from "./ids";
import { Intent } from "./intent";
import { AccountSpec, Actor, BreakerKind, Decision, OperatorReason } from "./types";

/**
 * Every input and every outcome is one of these events, appended to the ledger in processing
 * order. `at` is the event time in epoch milliseconds, supplied by the shell: the engine never
 * reads a clock. The schema is also how events are read back from the ledger.
 */
const at = z.number().int().nonnegative();

export const EngineEvent = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("account.opened"), at, account: AccountSpec, by: Actor }),
  z.strictObject({ type: z.literal("intent.received"), at, intent: Intent }),
  z.strictObject({ type: z.literal("intent.decided"), at, decision: Decision }),
  z.strictObject({
    type: z.literal("breaker.tripped"),
    at,
    accountId: AccountId,
    breaker: BreakerKind,
    reason: OperatorReason,
    by: Actor,
  }),
  z.strictObject({
    type: z.literal("breaker.reset"),
    at,
    accountId: AccountId,
    breaker: BreakerKind,
    reason: OperatorReason,
    by: Actor,
  }),
]);
export type EngineEvent = z.infer<typeof EngineEvent>;
export type EventType = EngineEvent["type"];

/** The stream (ledger `stream_id`) an event belongs to: its account. */
export function streamOf(event: EngineEvent): AccountId {
  switch (event.type) {
    case "account.opened":
      return event.account.accountId;
    case "intent.received":
      return event.intent.accountId;
    case "intent.decided":
      return event.decision.accountId;
    case "breaker.tripped":
    case "breaker.reset":
      return event.accountId;
  }
}
