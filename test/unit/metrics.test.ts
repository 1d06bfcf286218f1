import { afterEach, describe, expect, it } from "vitest";
import { Metrics } from "@/server/metrics";
import type { Decision } from "@/server/engine/types";
import type { LedgerRecord } from "@/server/ledger";
import { parseExposition, promtoolCheckMetrics, promtoolPresent } from "../prometheus";

const opened: Metrics[] = [];
function metrics(): Metrics {
  const made = new Metrics();
  opened.push(made);
  return made;
}
afterEach(() => {
  for (const made of opened.splice(0)) made.close();
});

const record = (seq: number, event: Record<string, unknown>) => ({ seq, recordedAt: Date.parse("2026-06-10T08:00:00.000Z"), event }) as unknown as LedgerRecord;

/** A server's metrics after some work: decisions, appends, a refused price, a trip, a reset and a lock-out. */
async function worked(): Promise<{ metrics: Metrics; text: string }> {
  const made = metrics();
  made.watch({
    dashboards: () => 4,
    accountsByState: async () => ({ ACTIVE: 7, REDUCING: 1, HALTED: 2, LOCKED_OUT: 1 }),
    alertSinks: () => [{ sink: "webhook hooks.example", delivered: 5, failed: 1, dropped: 0, queued: 2 }],
    ledger: () => ({ seq: 42, queuedJobs: 3, oldestQueuedSeconds: 0.02 }),
  });
  made.countDecision({ outcome: "allowed", guard: null, reason: null } as unknown as Decision);
  const denied = { outcome: "denied", guard: "throttle", reason: "throttled" } as unknown as Decision;
  made.countDecision(denied);
  made.countDecision(denied);
  made.observeEvaluation(0.00002);
  made.observeAppend(0.002, 3);
  made.countPriceRefused("fills");
  made.countCommitted([
    record(1, { type: "breaker.tripped", at: 0, accountId: "acc-1", breaker: "manual", reason: "desk", by: "user:alice" }),
    record(2, { type: "breaker.reset", at: 0, accountId: "acc-1", breaker: "manual", reason: "desk", by: "user:alice" }),
    record(3, { type: "account.locked_out", at: 0, accountId: "acc-2", equity: 89_000, floor: 90_000, rule: "max_loss" }),
    record(4, { type: "intent.received", at: 0 }),
  ]);
  return { metrics: made, text: await made.render() };
}

describe("metrics", () => {
  it("counts decisions by outcome, guard and reason, and times evaluation and append as histograms", async () => {
    const families = parseExposition((await worked()).text);
    expect(families.get("riskgate_decisions_total")!.metrics).toEqual(
      expect.arrayContaining([
        { labels: { outcome: "allowed", guard: "", reason: "" }, value: "1" },
        { labels: { outcome: "denied", guard: "throttle", reason: "throttled" }, value: "2" },
      ]),
    );
    expect(families.get("riskgate_evaluation_seconds")).toMatchObject({ type: "HISTOGRAM", metrics: [{ count: "1" }] });
    expect(families.get("riskgate_ledger_append_seconds")).toMatchObject({ type: "HISTOGRAM", metrics: [{ count: "1", buckets: { "0.0025": "1", "0.001": "0" } }] });
    expect(families.get("riskgate_ledger_events_appended_total")!.metrics).toEqual([{ value: "3" }]);
    expect(families.get("riskgate_prices_refused_total")!.metrics).toEqual([
      { labels: { source: "market" }, value: "0" },
      { labels: { source: "fills" }, value: "1" },
    ]);
  });

  it("counts committed breaker trips and resets by breaker and lock-outs by rule, every label from zero", async () => {
    const families = parseExposition((await worked()).text);
    const values = (name: string) => Object.fromEntries(families.get(name)!.metrics.map((sample) => [Object.values(sample.labels!)[0], sample.value]));
    expect(values("riskgate_breaker_trips_total")).toEqual({ manual: "1", daily_drawdown: "0", execution_failures: "0", latency: "0" });
    expect(values("riskgate_breaker_resets_total")).toMatchObject({ manual: "1", latency: "0" });
    expect(values("riskgate_lockouts_total")).toEqual({ max_loss: "1", daily_loss: "0" });
  });

  it("reads accounts by state, alert deliveries by sink, the commit queue and dashboards when scraped", async () => {
    const families = parseExposition((await worked()).text);
    expect(families.get("riskgate_accounts")!.metrics).toEqual([
      { labels: { state: "ACTIVE" }, value: "7" },
      { labels: { state: "REDUCING" }, value: "1" },
      { labels: { state: "HALTED" }, value: "2" },
      { labels: { state: "LOCKED_OUT" }, value: "1" },
    ]);
    expect(families.get("riskgate_alerts_delivered_total")!.metrics).toEqual([{ labels: { sink: "webhook hooks.example" }, value: "5" }]);
    expect(families.get("riskgate_alerts_failed_total")!.metrics).toEqual([{ labels: { sink: "webhook hooks.example" }, value: "1" }]);
    expect(families.get("riskgate_alerts_queued")!.metrics).toEqual([{ labels: { sink: "webhook hooks.example" }, value: "2" }]);
    expect(families.get("riskgate_ledger_seq")!.metrics).toEqual([{ value: "42" }]);
    expect(families.get("riskgate_commit_queue_jobs")!.metrics).toEqual([{ value: "3" }]);
    expect(families.get("riskgate_commit_queue_oldest_seconds")!.metrics).toEqual([{ value: "0.02" }]);
    expect(families.get("riskgate_dashboards_connected")!.metrics).toEqual([{ value: "4" }]);
  });

  it("has Node.js and process metrics, and the event-loop delay as a histogram (no quantile gauge)", async () => {
    const made = metrics();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const families = parseExposition(await made.render());
    expect(families.get("process_cpu_seconds_total")?.type).toBe("COUNTER");
    expect(families.get("nodejs_heap_size_used_bytes")?.type).toBe("GAUGE");
    expect(families.get("riskgate_event_loop_delay_seconds")).toMatchObject({ type: "HISTOGRAM" });
    expect(Number(families.get("riskgate_event_loop_delay_seconds")!.metrics[0]!.count)).toBeGreaterThan(0);
  });

  it("keeps each server's metrics on a registry of its own (two at once do not clash)", async () => {
    const first = metrics();
    const second = metrics();
    first.countPriceRefused("market");
    expect(await second.render()).toContain('riskgate_prices_refused_total{source="market"} 0');
    expect(await first.render()).toContain('riskgate_prices_refused_total{source="market"} 1');
  });

  it.skipIf(!promtoolPresent)("passes `promtool check metrics` (run when promtool is on PATH, skipped otherwise: apt-get install prometheus)", async () => {
    expect(promtoolCheckMetrics((await worked()).text)).toBe("");
  });
});
