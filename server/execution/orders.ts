import type { EngineEvent } from "../engine/events";
import type { IntentId, OrderId, SymbolId, AccountId } from "../engine/ids";
import type { Intent, Side } from "../engine/intent";
import type { Decision } from "../engine/types";

/**
 * An order the venue may see. Only two doors lead here: an `allowed` decision of the risk
 * engine on an intent, or a flatten instruction the engine itself issued on a lock-out. The
 * brand is a module-private symbol and every order made is registered, so no other code can
 * forge one, at compile time or at run time (`assertAllowed`).
 */
declare const allowedBrand: unique symbol;

export type OrderKind = "entry" | "exit" | "flatten";

export type AllowedOrder = {
  readonly orderId: OrderId;
  readonly accountId: AccountId;
  readonly intentId: IntentId | null;
  readonly symbol: SymbolId;
  readonly side: Side;
  readonly quantity: number;
  readonly kind: OrderKind;
  readonly limitPrice: number | null;
  readonly slPrice: number | null;
  readonly tpPrice: number | null;
  readonly [allowedBrand]: true;
};

const issued = new WeakSet<object>();

function issue(order: Omit<AllowedOrder, typeof allowedBrand>): AllowedOrder {
  const frozen = Object.freeze({ ...order }) as AllowedOrder;
  issued.add(frozen);
  return frozen;
}

export class NotAllowedError extends Error {}

/**
 * The order for an intent the engine allowed, of `quantity` units (the approved size, or less
 * for an exit capped at the position). Throws for anything but an allowed decision on this very
 * intent.
 */
export function orderFromDecision(orderId: OrderId, intent: Intent, decision: Decision, quantity: number): AllowedOrder {
  if (decision.outcome !== "allowed") throw new NotAllowedError(`intent ${intent.intentId} was denied (${decision.reason}): no order`);
  if (decision.intentId !== intent.intentId || decision.accountId !== intent.accountId) {
    throw new NotAllowedError(`decision ${decision.intentId} is not the decision of intent ${intent.intentId}`);
  }
  if (!(quantity > 0) || (decision.approvedQuantity !== null && quantity > decision.approvedQuantity + 1e-9)) {
    throw new NotAllowedError(`quantity ${quantity} is not within the approved ${decision.approvedQuantity}`);
  }
  const kind: OrderKind = intent.action === "FLATTEN" ? "flatten" : intent.action === "CLOSE" ? "exit" : "entry";
  return issue({
    orderId,
    accountId: intent.accountId,
    intentId: intent.intentId,
    symbol: intent.symbol,
    side: intent.side,
    quantity,
    kind,
    limitPrice: intent.limitPrice ?? null,
    slPrice: kind === "entry" ? (intent.slPrice ?? decision.stopPrice ?? null) : null,
    tpPrice: kind === "entry" ? (intent.tpPrice ?? null) : null,
  });
}

/** The order that carries out a flatten instruction of the engine (a lock-out). */
export function orderFromFlatten(orderId: OrderId, instruction: Extract<EngineEvent, { type: "flatten.ordered" }>): AllowedOrder {
  return issue({
    orderId,
    accountId: instruction.accountId,
    intentId: null,
    symbol: instruction.symbol,
    side: instruction.side,
    quantity: instruction.quantity,
    kind: "flatten",
    limitPrice: null,
    slPrice: null,
    tpPrice: null,
  });
}

/** Throws unless `order` was made by one of the two doors above. */
export function assertAllowed(order: AllowedOrder): void {
  if (!issued.has(order)) throw new NotAllowedError(`order ${String(order?.orderId)} did not come from an allowed decision`);
}
