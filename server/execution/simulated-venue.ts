import type { EngineConfig } from "../engine/config";
import { conversionOf, perUnitFrom, quoteCurrencyOf } from "../engine/currency";
import type { AccountId, OrderId, SymbolId } from "../engine/ids";
import type { Side } from "../engine/intent";
import type { Random } from "../sim/random";
import type { Scheduler } from "../sim/scheduler";
import type { AllowedOrder } from "./orders";
import { VenueAdapter } from "./venue";

/**
 * A simulated venue: each order is acknowledged after a latency (with jitter and rare spikes),
 * then filled at the touch plus slippage, with fees, sometimes in parts; a share of orders is
 * rejected, and some are never answered (the pipeline times them out). Entries with a stop or a
 * target leave protective orders that fill when the market crosses them (trigger `stop_loss`,
 * `take_profit`). Exits and flattens are reduce-only: they fill at most the position still open
 * here. Flatten orders pay a liquidation penalty. All draws come from a seeded source.
 */
export type SimulatedVenueParams = {
  readonly latencyMs: number;
  readonly latencyJitterMs: number;
  /** Chance that an order's acknowledgement is slow, and how slow. */
  readonly latencySpikeProbability: number;
  readonly latencySpikeMs: number;
  /**
   * Hiccups: the first order placed at or after `from` (epoch ms), and the first after each
   * `everyMs` since, is acknowledged after `latencySpikeMs`, whatever the draw.
   */
  readonly hiccups?: { readonly from: number; readonly everyMs: number };
  readonly slippageBps: number;
  readonly feeBps: number;
  readonly partialFillProbability: number;
  readonly rejectProbability: number;
  readonly timeoutProbability: number;
  readonly liquidationPenaltyBps: number;
};

export const defaultVenueParams: SimulatedVenueParams = {
  latencyMs: 40,
  latencyJitterMs: 30,
  latencySpikeProbability: 0,
  latencySpikeMs: 2_500,
  slippageBps: 0.5,
  feeBps: 0.3,
  partialFillProbability: 0.2,
  rejectProbability: 0,
  timeoutProbability: 0,
  liquidationPenaltyBps: 25,
};

export type Quote = { readonly bid: number; readonly ask: number };

/** What traded in a symbol since the venue last looked: a bar's open, high and low (backtests). */
export type PriceRange = { readonly open: number; readonly high: number; readonly low: number };

type Protective = {
  readonly accountId: AccountId;
  readonly symbol: SymbolId;
  /** The side that closes the position: SELL protects a long. */
  readonly side: Side;
  quantity: number;
  readonly stop: number | null;
  readonly target: number | null;
};

export class SimulatedVenue extends VenueAdapter {
  private readonly live = new Set<OrderId>();
  private protectives: Protective[] = [];
  /** Net position per account and symbol, from this venue's own fills. */
  private readonly net = new Map<string, number>();
  private nextHiccupAt: number | null = null;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly random: Random,
    private readonly quote: (symbol: SymbolId) => Quote | null,
    private readonly config: () => EngineConfig,
    private readonly params: SimulatedVenueParams = defaultVenueParams,
    /** The currency of an account's money, which its fees are charged in (USD unless said). */
    private readonly currencyOf: (accountId: AccountId) => string = () => "USD",
  ) {
    super("sim");
  }

  /** Whether an order placed `now` meets a hiccup (each hiccup meets one order). */
  private hiccup(now: number): boolean {
    const hiccups = this.params.hiccups;
    if (!hiccups) return false;
    this.nextHiccupAt ??= hiccups.from;
    if (now < this.nextHiccupAt) return false;
    this.nextHiccupAt += Math.max(1, Math.ceil((now - this.nextHiccupAt + 1) / hiccups.everyMs)) * hiccups.everyMs;
    return true;
  }

  cancel(orderId: OrderId): void {
    this.live.delete(orderId);
  }

  protected place(order: AllowedOrder): void {
    const { params } = this;
    this.live.add(order.orderId);
    const draw = this.random.next();
    const now = this.scheduler.now();
    const spike = this.random.next() < params.latencySpikeProbability || this.hiccup(now);
    const latency = Math.round(spike ? params.latencySpikeMs : params.latencyMs + params.latencyJitterMs * this.random.next());
    const at = now + latency;
    if (draw < params.timeoutProbability) return; // never answered: the pipeline's timeout fires
    if (draw < params.timeoutProbability + params.rejectProbability) {
      this.scheduler.at(at, () => this.answer(order.orderId, { type: "rejected", orderId: order.orderId, reason: "simulated reject: venue refused the order", at }));
      return;
    }
    this.scheduler.at(at, () => this.answer(order.orderId, { type: "acknowledged", orderId: order.orderId, at }));
    const parts = this.random.next() < params.partialFillProbability ? 2 + Math.floor(this.random.next() * 2) : 1;
    let left = order.quantity;
    let fillAt = at;
    for (let part = 1; part <= parts; part++) {
      const quantity = part === parts ? left : Number((order.quantity / parts).toPrecision(10));
      left = Number((left - quantity).toPrecision(12));
      fillAt += 1 + Math.round(this.random.next() * (part === 1 ? 20 : 250));
      const when = fillAt;
      this.scheduler.at(when, () => this.fill(order, quantity, when));
    }
  }

  /**
   * Checks the protective orders against the market: call after every price update. Without
   * `ranges` they are checked at the quote (the last price). With a symbol's range (a backtest's
   * OHLC bar) they trigger inside it: a long's stop when the low reaches it, its target when the
   * high does (a short's the other way round); a bar that reaches both is taken to have hit the
   * stop first (the conservative reading: the bar does not say which came first). A stop fills
   * at its price, or at the open when the bar opened through it (a gap), less slippage; a target
   * at its price. The fill is booked at the bar's close, the venue's clock.
   */
  async onMarket(ranges?: ReadonlyMap<SymbolId, PriceRange>): Promise<void> {
    const now = this.scheduler.now();
    for (const protective of [...this.protectives]) {
      const quote = this.quote(protective.symbol);
      if (!quote || protective.quantity <= 0) continue;
      const hit = this.triggered(protective, quote, ranges?.get(protective.symbol));
      if (!hit) continue;
      this.protectives = this.protectives.filter((p) => p !== protective);
      const open = Math.abs(this.net.get(this.key(protective.accountId, protective.symbol)) ?? 0);
      const quantity = Math.min(protective.quantity, open);
      if (quantity <= 1e-12) continue;
      await this.deliverFill(null, protective.accountId, protective.symbol, protective.side, quantity, hit.price, hit.trigger, now);
    }
  }

  /** Whether a protective order triggers, and at what price: the stop before the target. */
  private triggered(protective: Protective, quote: Quote, range: PriceRange | undefined): { trigger: "stop_loss" | "take_profit"; price: number } | null {
    const { stop, target, side } = protective;
    const long = side === "SELL";
    if (!range) {
      // At the quote: a stop fills at the touch or worse (gaps go through it); a target at its price.
      const touch = long ? quote.bid : quote.ask;
      if (stop !== null && (long ? touch <= stop : touch >= stop)) return { trigger: "stop_loss", price: this.slipped(side, touch) };
      if (target !== null && (long ? touch >= target : touch <= target)) return { trigger: "take_profit", price: target };
      return null;
    }
    const adverse = long ? range.low : range.high;
    const favourable = long ? range.high : range.low;
    if (stop !== null && (long ? adverse <= stop : adverse >= stop)) {
      const gapped = long ? range.open < stop : range.open > stop;
      return { trigger: "stop_loss", price: this.slipped(side, gapped ? range.open : stop) };
    }
    if (target !== null && (long ? favourable >= target : favourable <= target)) return { trigger: "take_profit", price: target };
    return null;
  }

  private async answer(orderId: OrderId, report: Parameters<VenueAdapter["report"]>[0]): Promise<void> {
    if (!this.live.has(orderId)) return; // cancelled meanwhile (a timeout)
    if (report.type === "rejected") this.live.delete(orderId);
    await this.report(report);
  }

  private async fill(order: AllowedOrder, quantity: number, at: number): Promise<void> {
    if (!this.live.has(order.orderId)) return;
    const quote = this.quote(order.symbol);
    if (!quote) {
      this.live.delete(order.orderId);
      await this.report({ type: "rejected", orderId: order.orderId, reason: `no market in ${order.symbol}`, at });
      return;
    }
    let price = this.slipped(order.side, order.side === "BUY" ? quote.ask : quote.bid);
    if (order.kind === "flatten") {
      const penalty = this.params.liquidationPenaltyBps / 10_000;
      price = order.side === "BUY" ? price * (1 + penalty) : price * (1 - penalty);
    }
    if (order.limitPrice !== null && (order.side === "BUY" ? price > order.limitPrice : price < order.limitPrice)) {
      this.live.delete(order.orderId);
      await this.report({ type: "cancelled", orderId: order.orderId, reason: `limit ${order.limitPrice} not reached (market ${price})`, at });
      return;
    }
    if (order.kind !== "entry") {
      // Exits and flattens are reduce-only: they close what is still open here, never more. A
      // stop-loss that closed the position first leaves a flatten nothing to do, not a reversal.
      const open = this.net.get(this.key(order.accountId, order.symbol)) ?? 0;
      const closable = (order.side === "SELL" && open > 0) || (order.side === "BUY" && open < 0) ? Math.abs(open) : 0;
      if (closable < quantity - 1e-9) {
        this.live.delete(order.orderId);
        this.filled.delete(order.orderId);
        if (closable > 1e-9) await this.deliverFill(order.orderId, order.accountId, order.symbol, order.side, closable, price, order.kind === "flatten" ? "liquidation" : "order", at);
        await this.report({ type: "cancelled", orderId: order.orderId, reason: `reduce-only: ${closable > 1e-9 ? `the rest closes nothing` : "no position left to close"}`, at });
        return;
      }
    }
    const filledBefore = this.filled.get(order.orderId) ?? 0;
    this.filled.set(order.orderId, filledBefore + quantity);
    if (filledBefore + quantity >= order.quantity - 1e-9) {
      this.live.delete(order.orderId);
      this.filled.delete(order.orderId);
    }
    if (order.kind === "entry" && (order.slPrice !== null || order.tpPrice !== null)) {
      this.protectives.push({
        accountId: order.accountId,
        symbol: order.symbol,
        side: order.side === "BUY" ? "SELL" : "BUY",
        quantity,
        stop: order.slPrice,
        target: order.tpPrice,
      });
    }
    const trigger = order.kind === "flatten" ? "liquidation" : "order";
    await this.deliverFill(order.orderId, order.accountId, order.symbol, order.side, quantity, price, trigger, at);
  }

  private readonly filled = new Map<OrderId, number>();

  private async deliverFill(
    orderId: OrderId | null,
    accountId: AccountId,
    symbol: SymbolId,
    side: Side,
    quantity: number,
    rawPrice: number,
    trigger: "order" | "stop_loss" | "take_profit" | "liquidation",
    at: number,
  ): Promise<void> {
    const instrument = this.config().instruments[symbol];
    const price = Number(rawPrice.toPrecision(10));
    // The fee is a share of the notional, in the account's currency at the quote currency's rate (the mids of the pairs converting it).
    const perQuote = perUnitFrom(conversionOf(quoteCurrencyOf(symbol, instrument), this.currencyOf(accountId)), (pair) => {
      const quote = this.quote(pair);
      return quote ? (quote.bid + quote.ask) / 2 : null;
    });
    const feeUsd = Number(((quantity * (instrument?.contractSize ?? 1) * price * (perQuote ?? 1) * this.params.feeBps) / 10_000).toFixed(2));
    const key = this.key(accountId, symbol);
    const before = this.net.get(key) ?? 0;
    const after = before + (side === "BUY" ? quantity : -quantity);
    this.net.set(key, Math.abs(after) < 1e-9 ? 0 : after);
    // Protection shrinks with the position it protects, and goes when the position is flat.
    if (Math.abs(after) < 1e-9) this.protectives = this.protectives.filter((p) => this.key(p.accountId, p.symbol) !== key);
    await this.report({ type: "filled", orderId, accountId, symbol, side, quantity, price, feeUsd, trigger, at });
  }

  private slipped(side: Side, price: number): number {
    const slip = this.params.slippageBps / 10_000;
    return side === "BUY" ? price * (1 + slip) : price * (1 - slip);
  }

  private key(accountId: AccountId, symbol: SymbolId): string {
    return `${accountId}|${symbol}`;
  }
}
