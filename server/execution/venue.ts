import type { AccountId, OrderId, SymbolId } from "../engine/ids";
import type { Side } from "../engine/intent";
import type { FillTrigger } from "../engine/types";
import type { AllowedOrder } from "./orders";
import { assertAllowed } from "./orders";

/** What a venue answers. Protective fills (stop-loss, take-profit) belong to no order of the queue. */
export type VenueReport =
  | { readonly type: "acknowledged"; readonly orderId: OrderId; readonly at: number }
  | {
      readonly type: "filled";
      readonly orderId: OrderId | null;
      readonly accountId: AccountId;
      readonly symbol: SymbolId;
      readonly side: Side;
      readonly quantity: number;
      readonly price: number;
      readonly feeUsd: number;
      readonly trigger: FillTrigger;
      readonly at: number;
    }
  | { readonly type: "rejected"; readonly orderId: OrderId; readonly reason: string; readonly at: number }
  | { readonly type: "cancelled"; readonly orderId: OrderId; readonly reason: string; readonly at: number };

export type ReportListener = (report: VenueReport) => Promise<void>;

/**
 * A venue. Its one entry point, `submit`, takes only orders that an allowed decision (or the
 * engine's flatten instruction) produced, and checks it again at run time before `place`.
 */
export abstract class VenueAdapter {
  private listener: ReportListener = async () => undefined;

  constructor(readonly name: string) {}

  /** Where the venue's answers go (the execution pipeline). */
  onReport(listener: ReportListener): void {
    this.listener = listener;
  }

  submit(order: AllowedOrder): void {
    assertAllowed(order);
    this.place(order);
  }

  /** Cancels what is left of an order (a timeout); a venue answers with `cancelled` or not at all. */
  abstract cancel(orderId: OrderId): void;

  protected abstract place(order: AllowedOrder): void;

  protected report(report: VenueReport): Promise<void> {
    return this.listener(report);
  }
}
