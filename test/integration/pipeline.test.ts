import { afterEach, describe, expect, it } from "vitest";
import type { EngineEvent } from "@/server/engine/events";
import { OrderId } from "@/server/engine/ids";
import type { AllowedOrder } from "@/server/execution/orders";
import { NotAllowedError, orderFromDecision } from "@/server/execution/orders";
import { ExecutionPipeline } from "@/server/execution/pipeline";
import { VenueAdapter } from "@/server/execution/venue";
import type { LedgerRecord } from "@/server/ledger";
import { pipelineHarness, SIM_START } from "./simulation";

type Harness = Awaited<ReturnType<typeof pipelineHarness>>;
let harness: Harness | null = null;
afterEach(async () => {
  await harness?.close();
  harness = null;
});

async function start(...args: Parameters<typeof pipelineHarness>): Promise<Harness> {
  harness = await pipelineHarness(...args);
  return harness;
}

const ofType = <T extends EngineEvent["type"]>(records: LedgerRecord[], type: T) =>
  records.map((r) => r.event).filter((e): e is Extract<EngineEvent, { type: T }> => e.type === type);

describe("the execution pipeline", () => {
  it("sends an allowed intent to the venue and books its fill; a denied intent never becomes an order", async () => {
    const h = await start({ latencyMs: 40 });
    await h.price();
    const allowed = await h.submit();
    const denied = await h.submit({ quantity: 50_000 }); // 5.4 billion USD of notional
    expect(allowed.decision.outcome).toBe("allowed");
    expect(denied.decision).toMatchObject({ outcome: "denied", reason: "order_notional_exceeded" });
    await h.run(1_000);
    const events = await h.events();
    expect(ofType(events, "order.queued")).toEqual([expect.objectContaining({ intentId: allowed.decision.intentId, kind: "entry", quantity: 1 })]);
    const orderId = ofType(events, "order.queued")[0]!.orderId;
    expect(ofType(events, "order.sent")).toEqual([expect.objectContaining({ orderId, venue: "sim" })]);
    expect(ofType(events, "order.acknowledged")).toEqual([expect.objectContaining({ orderId, latencyMs: 40 })]);
    expect(ofType(events, "execution.filled")).toEqual([expect.objectContaining({ orderId, side: "BUY", quantity: 1, price: 1.0851, trigger: "order" })]);
    expect(h.runtime.account(h.accountId).positions).toEqual([{ symbol: "EURUSD", quantity: 1, avgPrice: 1.0851 }]);
    expect(h.pipeline.inflightCount).toBe(0);
    expect(h.runtime.openOrders()).toEqual([]);
  });

  it("lets a newer intent for the same account and symbol supersede one still waiting", async () => {
    const h = await start({}, { maxOrdersPerSecond: 1 });
    await h.price();
    await h.submit();
    await h.submit({ quantity: 2 });
    await h.submit({ quantity: 3 });
    await h.run(3_000);
    const events = await h.events();
    const [first, second, third] = ofType(events, "order.queued").map((q) => q.orderId);
    expect(ofType(events, "order.superseded")).toEqual([expect.objectContaining({ orderId: second, byOrderId: third })]);
    expect(ofType(events, "order.sent").map((s) => s.orderId)).toEqual([first, third]);
    expect(h.runtime.account(h.accountId).positions[0]!.quantity).toBe(4);
  });

  it("sends no more than the rate limit in any second", async () => {
    const h = await start({}, { maxOrdersPerSecond: 2 });
    for (const symbol of ["EURUSD", "GBPUSD", "USDJPY", "XAUUSD", "US500"]) {
      await h.runtime.recordMarket([{ kind: "tick", symbol: symbol as never, price: 1.085 }]);
      await h.submit({ symbol });
    }
    await h.run(5_000);
    const sentAt = ofType(await h.events(), "order.sent").map((s) => s.at - SIM_START);
    expect(sentAt).toEqual([0, 0, 1_000, 1_000, 2_000]);
  });

  it("keeps at most maxInflight orders sent and not yet settled", async () => {
    const h = await start({ latencyMs: 300 }, { maxInflight: 1 });
    for (const symbol of ["EURUSD", "GBPUSD", "USDJPY"]) {
      await h.runtime.recordMarket([{ kind: "tick", symbol: symbol as never, price: 1.085 }]);
      await h.submit({ symbol });
    }
    await h.run(5_000);
    const events = (await h.events()).map((r) => r.event);
    let inflight = 0;
    let most = 0;
    for (const event of events) {
      if (event.type === "order.sent") most = Math.max(most, ++inflight);
      if (event.type === "execution.filled") inflight--;
    }
    expect(most).toBe(1);
    expect(ofType(await h.events(), "execution.filled")).toHaveLength(3);
  });

  it("trips execution_failures at the third reject within five minutes, and it resets itself after the cooldown", async () => {
    const h = await start({ rejectProbability: 1 });
    await h.price();
    for (const quantity of [1, 2]) {
      await h.submit({ quantity });
      await h.run(60_000);
      await h.price();
    }
    expect(h.runtime.account(h.accountId).tradingState).toBe("ACTIVE");
    await h.submit({ quantity: 3 });
    await h.run(1_000);
    const account = h.runtime.account(h.accountId);
    expect(account.tradingState).toBe("HALTED");
    expect(account.breakers.find((b) => b.kind === "execution_failures")).toMatchObject({ tripped: true, trippedBy: "engine" });
    expect(ofType(await h.events(), "execution.failed").map((f) => f.failure)).toEqual(["rejected", "rejected", "rejected"]);
    await h.run(600_000);
    await h.runtime.advanceClock();
    expect(h.runtime.account(h.accountId).tradingState).toBe("ACTIVE");
  });

  it("trips the latency breaker on a slow acknowledgement", async () => {
    const h = await start({ latencyMs: 2_500 });
    await h.price();
    await h.submit();
    await h.run(3_000);
    const latency = h.runtime.account(h.accountId).breakers.find((b) => b.kind === "latency");
    expect(latency).toMatchObject({ tripped: true, reason: "venue_ack latency 2500 ms above 2000 ms" });
    // Open orders continue while HALTED: the fill still arrived and was booked.
    expect(h.runtime.account(h.accountId).positions).toHaveLength(1);
  });

  it("times out an order the venue never answers, as an execution failure", async () => {
    const h = await start({ timeoutProbability: 1 }, { ackTimeoutMs: 5_000 });
    await h.price();
    await h.submit();
    await h.run(6_000);
    expect(ofType(await h.events(), "execution.failed")).toEqual([
      expect.objectContaining({ failure: "timeout", detail: "no acknowledgement within 5000 ms", at: SIM_START + 5_000 }),
    ]);
    expect(h.runtime.openOrders()).toEqual([]);
  });

  it("carries out a lock-out's flatten through the same path, at a liquidation penalty", async () => {
    const h = await start({ liquidationPenaltyBps: 25 });
    await h.price();
    await h.submit({ quantity: 10 });
    await h.run(1_000);
    // 10 lots from 1.0851: at 1.0740 that is −11,100 USD, below the 90,000 floor.
    h.setQuote(1.0739, 1.0741);
    await h.price();
    await h.run(1_000);
    const events = await h.events();
    expect(ofType(events, "account.locked_out")).toHaveLength(1);
    const flatten = ofType(events, "order.queued").find((q) => q.kind === "flatten")!;
    expect(flatten).toMatchObject({ intentId: null, side: "SELL", quantity: 10 });
    const liquidation = ofType(events, "execution.filled").find((f) => f.orderId === flatten.orderId)!;
    expect(liquidation).toMatchObject({ trigger: "liquidation", quantity: 10 });
    expect(liquidation.price).toBeCloseTo(1.0739 * (1 - 0.0025), 8);
    expect(h.runtime.account(h.accountId).positions).toEqual([]);
  });

  it("carries out an operator's flatten now through the same path, recorded with who and why", async () => {
    const h = await start({});
    await h.price();
    await h.submit({ quantity: 3 });
    await h.run(1_000);
    const { flattens } = await h.runtime.flattenAccount(h.accountId, "desk: flatten before the news", "user:rm");
    expect(flattens).toEqual([{ seq: expect.any(Number), symbol: "EURUSD", side: "SELL", quantity: 3 }]);
    await h.run(1_000);
    const events = await h.events();
    expect(ofType(events, "flatten.ordered")).toEqual([expect.objectContaining({ by: "user:rm", reason: "desk: flatten before the news", quantity: 3 })]);
    const order = ofType(events, "order.queued").find((q) => q.kind === "flatten")!;
    expect(order).toMatchObject({ intentId: null, side: "SELL", quantity: 3 });
    expect(ofType(events, "execution.filled").find((f) => f.orderId === order.orderId)).toMatchObject({ trigger: "liquidation", quantity: 3 });
    expect(h.runtime.account(h.accountId).positions).toEqual([]);
    await expect(h.runtime.flattenAccount(h.accountId, "desk: again", "user:rm")).rejects.toMatchObject({ code: "conflict" });
  });

  it("fills a protective stop at the venue, which locks the symbol until the reset", async () => {
    const h = await start({});
    await h.price();
    await h.submit({ slPrice: 1.08 });
    await h.run(1_000);
    h.setQuote(1.0799, 1.0801);
    await h.price();
    await h.venue.onMarket();
    await h.run(100);
    const account = h.runtime.account(h.accountId);
    expect(account.positions).toEqual([]);
    expect(account.vetoes).toEqual([expect.objectContaining({ symbol: "EURUSD", reason: "stop_loss_hit", expiresAt: null })]);
  });

  it("never reverses a position: an exit that finds it closed by a stop-loss first is cancelled at the venue", async () => {
    const h = await start({ latencyMs: 40, latencyJitterMs: 0, partialFillProbability: 0 });
    await h.price();
    await h.submit({ slPrice: 1.08 });
    await h.run(1_000);
    // The exit is on its way when the stop fills at the venue: it must not open a short.
    const exit = await h.submit({ action: "CLOSE", side: "SELL", quantity: 1 });
    expect(exit.decision.outcome).toBe("allowed");
    await h.run(5);
    h.setQuote(1.0799, 1.0801);
    await h.price();
    await h.venue.onMarket();
    await h.run(1_000);
    const events = await h.events();
    expect(ofType(events, "execution.filled").map((fill) => [fill.side, fill.quantity, fill.trigger])).toEqual([
      ["BUY", 1, "order"],
      ["SELL", 1, "stop_loss"],
    ]);
    expect(ofType(events, "order.cancelled")).toEqual([expect.objectContaining({ reason: "reduce-only: no position left to close" })]);
    expect(h.runtime.account(h.accountId).positions).toEqual([]);
    expect(h.runtime.openOrders()).toEqual([]);
  });

  it("cancels, on start, orders a stopped server left open", async () => {
    const h = await start({ timeoutProbability: 1 }, { ackTimeoutMs: 60_000 });
    await h.price();
    await h.submit();
    await h.run(100);
    expect(h.runtime.openOrders()).toHaveLength(1);
    h.pipeline.stop();
    await new ExecutionPipeline(h.runtime, h.venue, h.scheduler).start();
    expect(h.runtime.openOrders()).toEqual([]);
    expect(ofType(await h.events(), "order.cancelled")).toEqual([expect.objectContaining({ reason: "open when the server stopped" })]);
  });
});

describe("the execution pipeline and the account's state", () => {
  it("cancels a waiting entry once its account is halted, and never sends it", async () => {
    const h = await start({}, { maxOrdersPerSecond: 1 });
    for (const symbol of ["EURUSD", "GBPUSD"]) {
      await h.runtime.recordMarket([{ kind: "tick", symbol: symbol as never, price: 1.085 }]);
      await h.submit({ symbol });
    }
    await h.run(0); // the first is sent, the second waits for the rate window
    await h.runtime.tripBreaker({ accountId: h.accountId, breaker: "manual", reason: "halt before the send", by: "rm" });
    await h.run(3_000);
    const events = await h.events();
    const [, waiting] = ofType(events, "order.queued");
    expect(ofType(events, "order.sent").map((s) => s.orderId)).not.toContain(waiting!.orderId);
    expect(ofType(events, "order.cancelled")).toEqual([expect.objectContaining({ orderId: waiting!.orderId, reason: "account HALTED: entry not sent" })]);
  });

  it("never lets a newer entry supersede a waiting exit", async () => {
    const h = await start({}, { maxOrdersPerSecond: 1 });
    await h.price();
    await h.submit({ quantity: 2 });
    await h.run(2_000); // long 2
    await h.price();
    await h.submit({ quantity: 1 }); // sent
    await h.submit({ action: "CLOSE", side: "SELL", quantity: 2 }); // waits
    await h.submit({ quantity: 1 }); // waits: must not replace the exit
    await h.run(5_000);
    const events = await h.events();
    const exit = ofType(events, "order.queued").find((q) => q.kind === "exit")!;
    expect(ofType(events, "order.superseded").map((s) => s.orderId)).not.toContain(exit.orderId);
    expect(ofType(events, "order.sent").map((s) => s.orderId)).toContain(exit.orderId);
  });

  it("books a fill that arrives after the order timed out", async () => {
    const h = await start({});
    // A venue that answers only after the timeout, and fills anyway.
    class LateVenue extends VenueAdapter {
      cancel(): void {}
      protected place(order: AllowedOrder): void {
        h.scheduler.at(h.scheduler.now() + 8_000, () =>
          this.report({ type: "filled", orderId: order.orderId, accountId: order.accountId, symbol: order.symbol, side: order.side, quantity: order.quantity, price: 1.0851, feeUsd: 0, trigger: "order", at: h.scheduler.now() }),
        );
      }
    }
    h.pipeline.stop();
    const pipeline = new ExecutionPipeline(h.runtime, new LateVenue("late"), h.scheduler, { maxOrdersPerSecond: 10, maxInflight: 10, ackTimeoutMs: 5_000 });
    await pipeline.start();
    await h.price();
    await h.submit();
    await h.run(10_000);
    pipeline.stop();
    const events = await h.events();
    expect(ofType(events, "execution.failed")).toEqual([expect.objectContaining({ failure: "timeout" })]);
    expect(ofType(events, "execution.filled")).toEqual([expect.objectContaining({ quantity: 1, price: 1.0851 })]);
    expect(h.runtime.account(h.accountId).positions).toEqual([{ symbol: "EURUSD", quantity: 1, avgPrice: 1.0851 }]);
  });
});

describe("the way to the venue", () => {
  it("has no door for an order without an allowed decision", async () => {
    const h = await start({});
    await h.price();
    const denied = await h.submit({ quantity: 50_000 });
    const intent = { intentId: denied.decision.intentId, accountId: h.accountId, symbol: "EURUSD", action: "OPEN", side: "BUY", quantity: 1, provenance: { runId: "r", strategyId: "s", regimeId: "g" } } as never;
    expect(() => orderFromDecision(OrderId.parse("o-x"), intent, denied.decision, 1)).toThrow(NotAllowedError);
    const forged = { orderId: "o-forged", accountId: h.accountId, symbol: "EURUSD", side: "BUY", quantity: 1, kind: "entry", limitPrice: null, slPrice: null, tpPrice: null, intentId: null };
    expect(() => h.venue.submit(forged as never)).toThrow(NotAllowedError);
    const allowed = await h.submit();
    expect(() => orderFromDecision(OrderId.parse("o-y"), intent, allowed.decision, 1)).toThrow(/not the decision of intent/);
    expect(() => orderFromDecision(OrderId.parse("o-z"), { ...(intent as object), intentId: allowed.decision.intentId } as never, allowed.decision, 2)).toThrow(/not within the approved/);
  });
});
