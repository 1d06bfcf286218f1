import { z } from "zod";
import { AccountId, IntentId, RegimeId, RunId, StrategyId, SymbolId } from "./ids";

/**
 * The intent a strategy sends, as parsed at the boundary. Shared by the HTTP API, the socket,
 * the ledger reader and the browser. zod 4's `z.number()` already refuses NaN and ±Infinity;
 * JSON cannot carry NaN at all, and `1e999` parses to Infinity, which is refused here.
 */
const price = z.number().positive().max(1e9);

export const IntentAction = z.enum(["OPEN", "CLOSE", "SCALE", "FLATTEN"]);
export type IntentAction = z.infer<typeof IntentAction>;

export const Side = z.enum(["BUY", "SELL"]);
export type Side = z.infer<typeof Side>;

export const Provenance = z.strictObject({
  runId: RunId,
  strategyId: StrategyId,
  regimeId: RegimeId,
});
export type Provenance = z.infer<typeof Provenance>;

export const StrategyStats = z.strictObject({
  winRate: z.number().min(0).max(1),
  winLossRatio: z.number().positive(),
});
export type StrategyStats = z.infer<typeof StrategyStats>;

export const Intent = z
  .strictObject({
    intentId: IntentId,
    accountId: AccountId,
    symbol: SymbolId,
    action: IntentAction,
    side: Side,
    /** Bounded so that no notional, P/L or equity derived from it can overflow. */
    quantity: z.number().positive().max(1e9).optional(),
    targetWeight: z.number().min(-1).max(1).optional(),
    limitPrice: price.optional(),
    slPrice: price.optional(),
    tpPrice: price.optional(),
    referencePrice: price.optional(),
    provenance: Provenance,
    stats: StrategyStats.optional(),
  })
  .check((ctx) => {
    const intent = ctx.value;
    if (intent.action !== "FLATTEN" && intent.quantity === undefined && intent.targetWeight === undefined) {
      ctx.issues.push({
        code: "custom",
        path: ["quantity"],
        message: "quantity or targetWeight is required",
        input: intent,
      });
    }
    if (intent.quantity !== undefined && intent.targetWeight !== undefined) {
      ctx.issues.push({
        code: "custom",
        path: ["targetWeight"],
        message: "give quantity or targetWeight, not both",
        input: intent,
      });
    }
  });
export type Intent = z.infer<typeof Intent>;

/** CLOSE and FLATTEN only ever reduce exposure; OPEN and SCALE may add to it (fail closed). */
export function reducesExposure(intent: Pick<Intent, "action">): boolean {
  return intent.action === "CLOSE" || intent.action === "FLATTEN";
}
