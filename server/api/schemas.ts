import { z } from "zod";
import { AccountId, IntentId, SymbolId } from "../engine/ids";
import { Side } from "../engine/intent";
import { BreakerKind, FillTrigger, OperatorReason } from "../engine/types";

/** Request shapes of the HTTP API, shared by the route handlers and the browser. */
export const AccountParams = z.strictObject({ accountId: AccountId });

export const BreakerParams = z.strictObject({ accountId: AccountId, breaker: BreakerKind });

/** The body of an operator action that needs only a reason: breaker trip/reset, symbol unlock. */
export const ReasonBody = z.strictObject({ reason: OperatorReason });
export type ReasonBody = z.infer<typeof ReasonBody>;

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

const level = z.strictObject({ price: z.number().positive(), size: z.number().nonnegative() });

/** Market data pushed by a feed: last prices and L2 books (best level first). */
export const MarketBody = z
  .strictObject({
    ticks: z.array(z.strictObject({ symbol: SymbolId, price: z.number().positive() })).max(1000).default([]),
    books: z
      .array(
        z
          .strictObject({ symbol: SymbolId, bids: z.array(level).max(50), asks: z.array(level).max(50) })
          .refine((book) => book.bids.every((l, i, all) => i === 0 || l.price < all[i - 1]!.price), {
            message: "bids must be in strictly descending price order",
            path: ["bids"],
          })
          .refine((book) => book.asks.every((l, i, all) => i === 0 || l.price > all[i - 1]!.price), {
            message: "asks must be in strictly ascending price order",
            path: ["asks"],
          }),
      )
      .max(200)
      .default([]),
  })
  .extend({
    bars: z
      .array(
        z
          .strictObject({
            symbol: SymbolId,
            /** When the bar closed (ISO 8601); bars of one symbol in time order. */
            closedAt: z.iso.datetime({ offset: true }),
            open: z.number().positive(),
            high: z.number().positive(),
            low: z.number().positive(),
            close: z.number().positive(),
            volume: z.number().nonnegative(),
          })
          .refine((bar) => bar.high >= Math.max(bar.open, bar.close, bar.low), { message: "high must be the bar's highest price", path: ["high"] })
          .refine((bar) => bar.low <= Math.min(bar.open, bar.close), { message: "low must be the bar's lowest price", path: ["low"] }),
      )
      .max(5_000)
      .default([]),
  })
  .refine((body) => body.ticks.length + body.books.length + body.bars.length > 0, {
    message: "send at least one tick, book or bar",
    path: ["ticks"],
  });

export const LockBody = z.strictObject({
  symbol: SymbolId,
  reason: OperatorReason,
  /** ISO 8601 instant when the lock ends; omitted or null: until the next daily reset. */
  expiresAt: z.iso.datetime({ offset: true }).nullable().default(null),
});

export const VetoParams = z.strictObject({ accountId: AccountId, symbol: SymbolId });

export const SideLockParams = z.strictObject({ accountId: AccountId, side: Side });

export const LedgerExportQuery = z.strictObject({ accountId: AccountId.optional() });

/** Execution reports from a venue outside Riskgate: fills, applied in order, all or none. */
export const ExecutionsBody = z.strictObject({
  fills: z
    .array(
      z.strictObject({
        accountId: AccountId,
        intentId: IntentId.nullable().default(null),
        symbol: SymbolId,
        side: Side,
        quantity: z.number().positive(),
        price: z.number().positive(),
        feeUsd: z.number().nonnegative().default(0),
        trigger: FillTrigger.default("order"),
      }),
    )
    .min(1)
    .max(1000),
});
