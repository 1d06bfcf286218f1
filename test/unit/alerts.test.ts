import { describe, expect, it, vi } from "vitest";
import type { Alert, AlertSink } from "@/server/alerts";
import { AlertDeliveryError, AlertDispatcher, alertsFrom } from "@/server/alerts";
import { EngineEvent } from "@/server/engine/events";
import type { LedgerRecord } from "@/server/ledger";
import { accountId, EURUSD, intent, opened, tripped } from "./given";

/** Committed records of real (schema-checked) events, seq 1, 2, … in the order given. */
const committed = (...events: unknown[]): LedgerRecord[] =>
  events.map((event, index) => ({ seq: index + 1, recordedAt: 0, event: EngineEvent.parse(event) }));

const oneAlert = (event: unknown): Alert => {
  const alerts = alertsFrom(committed(event));
  expect(alerts).toHaveLength(1);
  return alerts[0]!;
};

const at = Date.parse("2025-03-04T10:00:00Z");

describe("alertsFrom", () => {
  it("picks breaker, lock-out and operator events in ledger order and skips market, intent, order and automatic veto events", () => {
    const alerts = alertsFrom(
      committed(
        opened,
        { type: "market.tick", at, symbol: EURUSD, price: 1.1 },
        { type: "intent.received", at, intent: intent() },
        { type: "veto.added", at, accountId, symbol: EURUSD, reason: "stop_loss_hit", note: "stop-loss filled at 1.09", expiresAt: null, valueAtTrigger: 1.09, by: "engine" },
        { type: "veto.added", at, accountId, symbol: EURUSD, reason: "exit_cooldown", note: "", expiresAt: at + 60_000, valueAtTrigger: 1.1, by: "engine" },
        { type: "latency.observed", at, accountId, latencyMs: 900, source: "venue_ack" },
        { type: "breaker.tripped", at, accountId, breaker: "latency", reason: "venue_ack latency 900 ms above 500 ms", by: "engine" },
        { type: "account.locked_out", at, accountId, equity: 89_500, floor: 90_000, rule: "max_loss" },
        { type: "flatten.ordered", at, accountId, symbol: EURUSD, side: "SELL", quantity: 1 },
        { type: "veto.added", at, accountId, symbol: EURUSD, reason: "manual", note: "NFP release", expiresAt: null, valueAtTrigger: null, by: "alice" },
        { type: "veto.cleared", at, accountId, symbol: EURUSD, reason: "release passed", by: "alice" },
        { type: "firm.halted", at, reason: "venue outage", by: "bob" },
        { type: "firm.resumed", at, reason: "venue back", by: "bob" },
      ),
    );
    expect(alerts.map((alert) => [alert.id, alert.kind, alert.severity])).toEqual([
      ["7", "breaker_tripped", "critical"],
      ["8", "account_locked_out", "critical"],
      ["9", "flatten_ordered", "warning"],
      ["10", "symbol_locked", "warning"],
      ["11", "symbol_unlocked", "info"],
      ["12", "firm_halted", "critical"],
      ["13", "firm_resumed", "warning"],
    ]);
    expect(alerts.every((alert) => alert.id === String(alert.seq) && alert.at === at)).toBe(true);
  });

  it("says which account halted, which breaker tripped, why and who tripped it", () => {
    const alert = oneAlert(tripped);
    expect(alert).toMatchObject({ id: "1", seq: 1, at: 2_000, kind: "breaker_tripped", severity: "critical", accountId, by: "risk-manager" });
    expect(alert.title).toBe("Breaker tripped: acc-1 (manual)");
    expect(alert.text).toContain("Account acc-1 is HALTED: the manual breaker tripped.");
    expect(alert.text).toContain("Why: news event");
    expect(alert.text).toContain("By: risk-manager");
    expect(alert.text).toContain("At: 1970-01-01T00:00:02.000Z (ledger seq 1)");
  });

  it("marks an automatic trip as the engine's", () => {
    const alert = oneAlert({ type: "breaker.tripped", at, accountId, breaker: "execution_failures", reason: "3 execution failures within 300 s (threshold 3)", by: "engine" });
    expect(alert.text).toContain("the execution_failures breaker tripped");
    expect(alert.text).toContain("Why: 3 execution failures within 300 s (threshold 3)");
    expect(alert.text).toContain("By: the engine (automatic)");
  });

  it("gives the rule and equity against the floor of a lock-out", () => {
    const maxLoss = oneAlert({ type: "account.locked_out", at, accountId, equity: 89_500.5, floor: 90_000, rule: "max_loss" });
    expect(maxLoss).toMatchObject({ kind: "account_locked_out", severity: "critical", accountId, by: null, title: "Account locked out: acc-1 (max_loss)" });
    expect(maxLoss.text).toContain("equity 89,500.50 USD is at or below the max-loss floor of 90,000.00 USD");
    const dailyLoss = oneAlert({ type: "account.locked_out", at, accountId, equity: 94_000, floor: 95_000, rule: "daily_loss" });
    expect(dailyLoss.text).toContain("the daily-loss floor of 95,000.00 USD");
  });

  it("rates an operator's breaker reset a warning and an automatic one info", () => {
    const manual = oneAlert({ type: "breaker.reset", at, accountId, breaker: "daily_drawdown", reason: "reviewed with the desk", by: "alice" });
    expect(manual).toMatchObject({ kind: "breaker_reset", severity: "warning", by: "alice" });
    expect(manual.text).toContain("The daily_drawdown breaker of account acc-1 was reset");
    expect(manual.text).toContain("Why: reviewed with the desk");
    const automatic = oneAlert({ type: "breaker.reset", at, accountId, breaker: "latency", reason: "cooldown passed: automatic reset", by: "engine" });
    expect(automatic).toMatchObject({ kind: "breaker_reset", severity: "info", by: "engine" });
  });

  it("reports a firm-wide halt without an account", () => {
    const alert = oneAlert({ type: "firm.halted", at, reason: "venue outage", by: "bob" });
    expect(alert).toMatchObject({ kind: "firm_halted", severity: "critical", accountId: null, by: "bob", title: "Firm halted" });
    expect(alert.text).toContain("All trading is HALTED firm-wide.\nWhy: venue outage\nBy: bob");
  });

  it("says until when an operator locked a symbol", () => {
    const untilReset = oneAlert({ type: "veto.added", at, accountId, symbol: EURUSD, reason: "manual", note: "NFP release", expiresAt: null, valueAtTrigger: null, by: "alice" });
    expect(untilReset.text).toContain("EURUSD is locked for new entries on account acc-1 until the next daily reset.");
    expect(untilReset.text).toContain("Why: NFP release");
    const timed = oneAlert({ type: "veto.added", at, accountId, symbol: EURUSD, reason: "manual", note: "", expiresAt: at + 3_600_000, valueAtTrigger: null, by: "alice" });
    expect(timed.text).toContain("until 2025-03-04T11:00:00.000Z");
    expect(timed.text).not.toContain("Why:");
  });

  it("reports side locks, automatic or not, and their unlocks", () => {
    const locked = oneAlert({ type: "side.locked", at, accountId, side: "BUY", reason: "stop_loss_streak", note: "3 stop-losses on long positions within 60 min", expiresAt: null, valueAtTrigger: 3, by: "engine" });
    expect(locked).toMatchObject({ kind: "side_locked", severity: "warning", title: "Side locked: BUY on acc-1" });
    expect(locked.text).toContain("new longs (BUY entries) are locked until the next daily reset");
    expect(locked.text).toContain("Why: stop_loss_streak (3 stop-losses on long positions within 60 min)");
    const unlocked = oneAlert({ type: "side.unlocked", at, accountId, side: "SELL", reason: "streak reviewed", by: "alice" });
    expect(unlocked).toMatchObject({ kind: "side_unlocked", severity: "info", by: "alice" });
    expect(unlocked.text).toContain("new shorts (SELL entries) are allowed again");
  });

  it("reports reduce-only mode, the reopening of an account and a flatten instruction", () => {
    const reducing = oneAlert({ type: "account.reducing", at, accountId, cause: "daily_loss_limit", untilReset: true, reason: "equity 94,000 USD at or below the day's loss floor", by: "engine" });
    expect(reducing).toMatchObject({ kind: "reducing_started", severity: "warning" });
    expect(reducing.text).toContain("Account acc-1 is REDUCE-ONLY: it takes only exposure-reducing intents until the next daily reset.");
    const ended = oneAlert({ type: "account.reducing_ended", at, accountId, reason: "limits raised", by: "alice" });
    expect(ended).toMatchObject({ kind: "reducing_ended", severity: "info", by: "alice" });
    const reopened = oneAlert({ type: "account.reopened", at, accountId, reason: "new funding", by: "alice" });
    expect(reopened).toMatchObject({ kind: "account_reopened", severity: "warning", by: "alice" });
    expect(reopened.text).toContain("Why: new funding");
    const flatten = oneAlert({ type: "flatten.ordered", at, accountId, symbol: EURUSD, side: "SELL", quantity: 1.5 });
    expect(flatten.text).toContain("Account acc-1: SELL 1.5 EURUSD ordered to close the position");
  });
});

/** A sink that holds every delivery until the test settles it. */
function heldSink() {
  const held: { alert: Alert; settle: (error?: Error) => void }[] = [];
  const sink: AlertSink = {
    name: "held",
    deliver: (alert, signal) =>
      new Promise<void>((resolve, reject) => {
        held.push({ alert, settle: (error) => (error ? reject(error) : resolve()) });
        signal.addEventListener("abort", () => reject(new Error("aborted")), { once: true });
      }),
  };
  return { sink, held };
}

const trips = (count: number): LedgerRecord[] => committed(...Array.from({ length: count }, () => tripped));

describe("AlertDispatcher bookkeeping", () => {
  it("keeps one delivery in flight and drops the oldest waiting alerts beyond maxQueue", async () => {
    const { sink, held } = heldSink();
    const log: string[] = [];
    const dispatcher = new AlertDispatcher([sink], { maxQueue: 2, log: (message) => log.push(message) });
    dispatcher.observe(trips(5));
    expect(held.map((h) => h.alert.id)).toEqual(["1"]);
    expect(dispatcher.stats()).toMatchObject({ queued: 3, dropped: 2, delivered: 0 });
    expect(log).toEqual([expect.stringContaining("more than 2 alerts waiting; dropping the oldest")]);

    held[0]!.settle();
    await vi.waitFor(() => expect(held).toHaveLength(2));
    held[1]!.settle();
    await vi.waitFor(() => expect(held).toHaveLength(3));
    held[2]!.settle();
    await vi.waitFor(() => expect(dispatcher.stats()).toMatchObject({ queued: 0, delivered: 3, dropped: 2 }));
    expect(held.map((h) => h.alert.id)).toEqual(["1", "4", "5"]);
    await dispatcher.close();
  });

  it("gives up at once on a permanent failure and moves on", async () => {
    const { sink, held } = heldSink();
    const dispatcher = new AlertDispatcher([sink], { baseDelayMs: 1, log: () => {} });
    dispatcher.observe(trips(2));
    held[0]!.settle(new AlertDeliveryError("HTTP 400", null, true));
    await vi.waitFor(() => expect(held).toHaveLength(2));
    held[1]!.settle();
    await vi.waitFor(() => expect(dispatcher.stats()).toEqual({ queued: 0, delivered: 1, failed: 1, dropped: 0, lastError: "held: HTTP 400" }));
    await dispatcher.close();
  });

  it("never throws from observe, not on a malformed record nor on a sink that throws synchronously", async () => {
    const throwing: AlertSink = {
      name: "throwing",
      deliver: () => {
        throw new Error("boom");
      },
    };
    const log: string[] = [];
    const dispatcher = new AlertDispatcher([throwing], { maxAttempts: 2, baseDelayMs: 1, log: (message) => log.push(message) });
    expect(() => dispatcher.observe([null as unknown as LedgerRecord])).not.toThrow();
    expect(dispatcher.stats().lastError).toMatch(/^observe: /);
    expect(() => dispatcher.observe(trips(1))).not.toThrow();
    await vi.waitFor(() => expect(dispatcher.stats()).toMatchObject({ queued: 0, failed: 1, lastError: "throwing: boom" }));
    expect(log).toContainEqual(expect.stringContaining("throwing gave up on alert 1 (breaker_tripped) after 2 attempt(s): boom"));
    await dispatcher.close();
  });

  it("abandons pending deliveries on close and ignores later records", async () => {
    const { sink, held } = heldSink();
    const log: string[] = [];
    const dispatcher = new AlertDispatcher([sink], { log: (message) => log.push(message) });
    dispatcher.observe(trips(3));
    await dispatcher.close();
    expect(dispatcher.stats()).toMatchObject({ queued: 0, delivered: 0, failed: 0 });
    expect(log).toEqual(["alerts: closing with 3 undelivered alert deliveries abandoned"]);
    dispatcher.observe(trips(1));
    expect(held).toHaveLength(1);
  });
});
