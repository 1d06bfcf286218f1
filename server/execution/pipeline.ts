import type { EngineEvent, OrderEvent } from "../engine/events";
import { OrderId } from "../engine/ids";
import type { Committed, DecisionRecord, Runtime } from "../runtime";
import type { Scheduler } from "../sim/scheduler";
import type { AllowedOrder } from "./orders";
import { orderFromDecision, orderFromFlatten } from "./orders";
import type { VenueAdapter, VenueReport } from "./venue";

/**
 * Queue and Queue Processing (SPEC section 1): what the engine allowed waits here until it may be
 * sent. The engine decides admissibility only; this decides *when*: at most `maxOrdersPerSecond`
 * sent to the venue in any rolling second, at most `maxInflight` orders sent and not yet settled,
 * and dominance (a newer order for the same account and symbol replaces one still waiting, except
 * that nothing replaces a flatten). Every step is a ledger event, committed before the venue
 * hears of it. Venue answers re-enter the engine: fills move positions, rejects and timeouts
 * count toward `execution_failures`, acknowledgement latency feeds the `latency` breaker.
 */
export type PipelineOptions = {
  readonly maxOrdersPerSecond: number;
  readonly maxInflight: number;
  /** An order not acknowledged within this long is a timeout (an execution failure). */
  readonly ackTimeoutMs: number;
};

export const defaultPipelineOptions: PipelineOptions = { maxOrdersPerSecond: 20, maxInflight: 10, ackTimeoutMs: 5_000 };

type Inflight = { readonly order: AllowedOrder; readonly sentAt: number; acknowledged: boolean; cancelTimeout: () => void };

export class ExecutionPipeline {
  private readonly waiting: AllowedOrder[] = [];
  private readonly inflight = new Map<OrderId, Inflight>();
  private readonly sentTimes: number[] = [];
  private pumping = false;
  private wakeUp: (() => void) | null = null;
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly runtime: Runtime,
    private readonly venue: VenueAdapter,
    private readonly scheduler: Scheduler,
    private readonly options: PipelineOptions = defaultPipelineOptions,
  ) {}

  /**
   * Listens to the ledger: allowed decisions and flatten instructions become orders. Orders
   * left open by an earlier run (the process stopped) are cancelled first: their fate at the
   * venue is unknown to this run.
   */
  async start(): Promise<void> {
    this.venue.onReport((report) => this.onReport(report));
    const stale = this.runtime.openOrders();
    if (stale.length > 0) {
      await this.runtime.recordOrders(
        stale.map(([orderId, order]) => ({ type: "order.cancelled", at: 0, orderId, accountId: order.accountId, reason: "open when the server stopped" })),
      );
    }
    this.unsubscribe = this.runtime.subscribe((committed) => {
      if (committed.records.some(({ event }) => event.type === "intent.decided" || event.type === "flatten.ordered")) {
        this.scheduler.at(this.scheduler.now(), () => this.admit(committed));
      }
    });
  }

  stop(): void {
    this.unsubscribe?.();
    this.wakeUp?.();
    for (const inflight of this.inflight.values()) inflight.cancelTimeout();
  }

  /** Orders waiting to be sent, oldest first. */
  get queued(): readonly AllowedOrder[] {
    return this.waiting;
  }

  get inflightCount(): number {
    return this.inflight.size;
  }

  private async admit(committed: Committed): Promise<void> {
    for (const record of committed.records) {
      const { event, seq } = record;
      if (!this.routes(event)) continue;
      if (event.type === "intent.decided" && event.decision.outcome === "allowed") {
        const decided = committed.decisions.find((d) => d.seq === seq);
        if (decided) await this.enqueueDecision(seq, decided);
      } else if (event.type === "flatten.ordered") {
        await this.enqueue(orderFromFlatten(OrderId.parse(`o-${seq}`), event));
      }
    }
    await this.pump();
  }

  /** Whether the event's account sends its orders through this pipeline (not an external stack). */
  private routes(event: EngineEvent): boolean {
    const accountId = event.type === "intent.decided" ? event.decision.accountId : event.type === "flatten.ordered" ? event.accountId : null;
    if (accountId === null) return false;
    // The account's spec, not its view: this runs for every decision and flatten of a commit.
    return this.runtime.engineState.accounts.get(accountId)?.spec.execution === "simulated";
  }

  /**
   * The order for an allowed intent. An exit is cut to what the position still has to close once
   * the exits already open are done (nothing left: no order).
   */
  private async enqueueDecision(seq: number, { intent, decision }: DecisionRecord): Promise<void> {
    const account = this.runtime.account(intent.accountId);
    const held = account.positions.find((position) => position.symbol === intent.symbol)?.quantity ?? 0;
    let quantity = decision.approvedQuantity ?? 0;
    if (intent.action === "FLATTEN" || intent.action === "CLOSE") {
      // Only what reduces the position: a SELL closes a long, a BUY a short.
      const closing = this.runtime
        .openOrders()
        .filter(([, o]) => o.accountId === intent.accountId && o.symbol === intent.symbol && o.kind !== "entry" && o.side === intent.side)
        .reduce((sum, [, o]) => sum + o.quantity - o.filledQuantity, 0);
      const position = (intent.side === "SELL" && held > 0) || (intent.side === "BUY" && held < 0) ? Math.abs(held) : 0;
      const closable = Math.max(0, position - closing);
      quantity = intent.action === "FLATTEN" ? closable : Math.min(quantity, closable);
    }
    if (!(quantity > 1e-12)) return;
    await this.enqueue(orderFromDecision(OrderId.parse(`o-${seq}`), intent, decision, quantity));
  }

  /**
   * Queues an order. Dominance: it replaces a waiting order for the same account and symbol,
   * except that an entry never replaces an exit and only a flatten replaces a flatten.
   */
  private async enqueue(order: AllowedOrder): Promise<void> {
    const replaces = (waiting: AllowedOrder) =>
      waiting.accountId === order.accountId &&
      waiting.symbol === order.symbol &&
      (waiting.kind === "entry" || (waiting.kind === "exit" && order.kind !== "entry") || (waiting.kind === "flatten" && order.kind === "flatten"));
    // Taken out of the queue before anything awaits, so the pump cannot send them meanwhile.
    const rivals = this.waiting.filter(replaces);
    for (const rival of rivals) this.waiting.splice(this.waiting.indexOf(rival), 1);
    const events: OrderEvent[] = rivals.map((rival) => ({ type: "order.superseded", at: 0, orderId: rival.orderId, accountId: rival.accountId, byOrderId: order.orderId }));
    events.push({
      type: "order.queued",
      at: 0,
      orderId: order.orderId,
      accountId: order.accountId,
      intentId: order.intentId,
      symbol: order.symbol,
      side: order.side,
      quantity: order.quantity,
      kind: order.kind,
      limitPrice: order.limitPrice,
      slPrice: order.slPrice,
      tpPrice: order.tpPrice,
    });
    try {
      await this.runtime.recordOrders(events);
    } catch (error) {
      this.waiting.unshift(...rivals); // nothing was recorded: the rivals are still queued
      throw error;
    }
    this.waiting.push(order);
  }

  /** Sends what the rate limit and the inflight cap allow; wakes itself when the rate window reopens. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.waiting.length > 0 && this.inflight.size < this.options.maxInflight) {
        const now = this.scheduler.now();
        while (this.sentTimes.length > 0 && this.sentTimes[0]! <= now - 1_000) this.sentTimes.shift();
        if (this.sentTimes.length >= this.options.maxOrdersPerSecond) {
          this.wakeUp?.();
          this.wakeUp = this.scheduler.at(this.sentTimes[0]! + 1_000, () => this.pump());
          return;
        }
        const order = this.waiting.shift()!;
        // An entry waits in vain once its account is halted, locked out or reducing: it is
        // cancelled, not sent. Exits and flattens always go.
        const tradingState = this.runtime.account(order.accountId).tradingState;
        if (order.kind === "entry" && tradingState !== "ACTIVE") {
          await this.runtime.recordOrders([{ type: "order.cancelled", at: 0, orderId: order.orderId, accountId: order.accountId, reason: `account ${tradingState}: entry not sent` }]);
          continue;
        }
        // The ledger first: a crash after this line leaves an order that was sent or not, which
        // the next start cancels; never an order sent but not recorded.
        try {
          await this.runtime.recordOrders([{ type: "order.sent", at: 0, orderId: order.orderId, accountId: order.accountId, venue: this.venue.name }]);
        } catch (error) {
          this.waiting.unshift(order);
          throw error;
        }
        this.sentTimes.push(now);
        const cancelTimeout = this.scheduler.at(now + this.options.ackTimeoutMs, () => this.timedOut(order.orderId));
        this.inflight.set(order.orderId, { order, sentAt: now, acknowledged: false, cancelTimeout });
        this.venue.submit(order);
      }
    } finally {
      this.pumping = false;
    }
  }

  private async timedOut(orderId: OrderId): Promise<void> {
    const inflight = this.inflight.get(orderId);
    if (!inflight || inflight.acknowledged) return;
    this.inflight.delete(orderId);
    this.venue.cancel(orderId);
    const { order } = inflight;
    await this.runtime.recordExecutionFailure({
      accountId: order.accountId,
      orderId,
      symbol: order.symbol,
      intentId: order.intentId,
      failure: "timeout",
      detail: `no acknowledgement within ${this.options.ackTimeoutMs} ms`,
    });
    await this.pump();
  }

  private async onReport(report: VenueReport): Promise<void> {
    if (report.type === "filled" && report.orderId === null) {
      // A protective order at the venue: a stop-loss or take-profit fill.
      const { accountId, symbol, side, quantity, price, feeUsd, trigger } = report;
      await this.runtime.recordFills([{ accountId, intentId: null, symbol, side, quantity, price, feeUsd, trigger }]);
      return;
    }
    const orderId = report.orderId!;
    const inflight = this.inflight.get(orderId);
    if (!inflight) {
      // Settled already (timed out). A late fill still happened at the venue: it is booked, so
      // positions and the loss floors see the real risk. Other late answers change nothing.
      if (report.type === "filled") {
        const { accountId, symbol, side, quantity, price, feeUsd, trigger } = report;
        await this.runtime.recordFills([{ accountId, intentId: null, symbol, side, quantity, price, feeUsd, trigger }]);
      }
      return;
    }
    const { order } = inflight;
    switch (report.type) {
      case "acknowledged": {
        inflight.acknowledged = true;
        inflight.cancelTimeout();
        const latencyMs = report.at - inflight.sentAt;
        await this.runtime.recordOrders([{ type: "order.acknowledged", at: 0, orderId, accountId: order.accountId, latencyMs }]);
        await this.runtime.recordLatency(order.accountId, latencyMs, "venue_ack");
        return;
      }
      case "filled": {
        const { accountId, symbol, side, quantity, price, feeUsd, trigger } = report;
        await this.runtime.recordFills([{ accountId, orderId, intentId: order.intentId, symbol, side, quantity, price, feeUsd, trigger }]);
        if (!this.runtime.order(orderId)) this.settle(orderId);
        break;
      }
      case "rejected":
        this.settle(orderId);
        await this.runtime.recordExecutionFailure({
          accountId: order.accountId,
          orderId,
          symbol: order.symbol,
          intentId: order.intentId,
          failure: "rejected",
          detail: report.reason,
        });
        break;
      case "cancelled":
        this.settle(orderId);
        await this.runtime.recordOrders([{ type: "order.cancelled", at: 0, orderId, accountId: order.accountId, reason: report.reason }]);
        break;
    }
    await this.pump();
  }

  private settle(orderId: OrderId): void {
    this.inflight.get(orderId)?.cancelTimeout();
    this.inflight.delete(orderId);
  }
}
