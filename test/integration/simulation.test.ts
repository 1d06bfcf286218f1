import { beforeAll, describe, expect, it } from "vitest";
import type { EngineEvent } from "@/server/engine/events";
import { replay } from "@/server/engine/replay";
import type { LedgerRecord } from "@/server/ledger";
import { simulate } from "./simulation";

// The demo's whole live path (market, strategies through the runtime, engine, queue, simulated
// venue, fills back into the engine) on a virtual clock, with a real ledger.
let first: LedgerRecord[];
let second: LedgerRecord[];

beforeAll(async () => {
  first = (await simulate(2)).records;
  second = (await simulate(2)).records;
}, 120_000);

const events = (records: LedgerRecord[]) => records.map((record) => record.event);
const lines = (records: LedgerRecord[]) => records.map(({ seq, event }) => JSON.stringify({ seq, event }));

describe("the live path under a seed", () => {
  it("produces identical ledgers from two runs with the same seed", () => {
    expect(first.length).toBeGreaterThan(1_000);
    expect(lines(second)).toEqual(lines(first));
  });

  it("produces a different ledger from another seed", async () => {
    const other = (await simulate(0.5, { seed: 7 })).records;
    expect(lines(other)).not.toEqual(lines(first).slice(0, other.length));
  }, 60_000);

  it("shows within two minutes decisions of both kinds, a symbol locked after a stop-loss, and a breaker trip", () => {
    const decided = events(first).filter((e): e is Extract<EngineEvent, { type: "intent.decided" }> => e.type === "intent.decided");
    expect(decided.some((e) => e.decision.outcome === "allowed")).toBe(true);
    expect(decided.some((e) => e.decision.outcome === "denied")).toBe(true);
    expect(events(first)).toContainEqual(expect.objectContaining({ type: "veto.added", reason: "stop_loss_hit" }));
    expect(events(first)).toContainEqual(expect.objectContaining({ type: "breaker.tripped" }));
    expect(events(first)).toContainEqual(expect.objectContaining({ type: "execution.filled", trigger: "order" }));
  });

  it("never turns a denied intent into an order, and every order has an allowed decision or a flatten instruction", () => {
    const decisions = new Map<string, { outcome: string; approvedQuantity: number | null }>();
    const flattens = new Set<number>();
    for (const { seq, event } of first) {
      if (event.type === "intent.decided") decisions.set(`${event.decision.accountId}/${event.decision.intentId}`, event.decision);
      if (event.type === "flatten.ordered") flattens.add(seq);
    }
    const queued = events(first).filter((e): e is Extract<EngineEvent, { type: "order.queued" }> => e.type === "order.queued");
    expect(queued.length).toBeGreaterThan(10);
    for (const order of queued) {
      if (order.intentId === null) expect(flattens.has(Number(order.orderId.slice(2)))).toBe(true);
      else {
        const decision = decisions.get(`${order.accountId}/${order.intentId}`)!;
        expect(decision.outcome).toBe("allowed");
        expect(order.quantity).toBeLessThanOrEqual((decision.approvedQuantity ?? Infinity) + 1e-9);
      }
    }
  });

  it("is reproduced decision by decision by replay", () => {
    const result = replay(first.map(({ seq, event }) => ({ seq, event })));
    expect(result.decisions).toBeGreaterThan(100);
    expect(result.mismatches).toEqual([]);
  });
});
