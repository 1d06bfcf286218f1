import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { BreakerKind, LossRule } from "./engine/types";
import type { Decision, TradingState } from "./engine/types";
import type { LedgerRecord } from "./ledger";

/**
 * How often the event-loop sampler wakes: a delay shorter than this can go unseen. A histogram
 * needs every sample, and perf_hooks' `monitorEventLoopDelay` gives percentiles only, so the
 * sampler is a timer of its own that observes how late each wake-up is.
 */
const LOOP_RESOLUTION_MS = 10;

const TRADING_STATES: readonly TradingState[] = ["ACTIVE", "REDUCING", "HALTED", "LOCKED_OUT"];

/** What the runtime reports as it works. */
export interface RuntimeMetrics {
  observeEvaluation(seconds: number): void;
  observeAppend(seconds: number, events: number): void;
  countDecision(decision: Decision): void;
  /** A price refused by the band (see price-band.ts). */
  countPriceRefused?(source: "market" | "fills"): void;
}

/** What the server reads when it is scraped: each source is cheap (kept counts, not a walk of the book). */
export type MetricSources = {
  /** Socket.IO clients connected now. */
  dashboards: () => number;
  /** Accounts by trading state, as the overview's maintained counts have them. */
  accountsByState: () => Promise<Record<TradingState, number>>;
  /** Alert deliveries per sink since the start. */
  alertSinks: () => readonly { sink: string; delivered: number; failed: number; dropped: number; queued: number }[];
  /** The ledger as this process has it: its last seq, and the commands waiting for the commit queue. */
  ledger: () => { seq: number; queuedJobs: number; oldestQueuedSeconds: number };
};

/**
 * Prometheus metrics of the running server (`GET /api/metrics`), from prom-client on a registry
 * of the server's own: Node.js and process metrics (`process_*`, `nodejs_*`); decisions by
 * outcome, guard and reason; evaluation, append and event-loop delay as histograms; breaker
 * trips, resets and lock-outs counted from committed events; prices refused; accounts by
 * trading state, alert deliveries and the commit queue, read at scrape time.
 */
export class Metrics implements RuntimeMetrics {
  readonly registry = new Registry();
  private sources: MetricSources | null = null;
  private readonly loopTimer: NodeJS.Timeout;

  private readonly decisions = new Counter({
    name: "riskgate_decisions_total",
    help: "Decisions by outcome, and for denials the guard and reason.",
    labelNames: ["outcome", "guard", "reason"] as const,
    registers: [this.registry],
  });
  private readonly evaluation = new Histogram({
    name: "riskgate_evaluation_seconds",
    help: "Time the engine takes to decide an intent.",
    buckets: [0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.005],
    registers: [this.registry],
  });
  private readonly append = new Histogram({
    name: "riskgate_ledger_append_seconds",
    help: "Time to append and commit a batch of events to the ledger.",
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  private readonly appended = new Counter({
    name: "riskgate_ledger_events_appended_total",
    help: "Events committed to the ledger by this process.",
    registers: [this.registry],
  });
  private readonly pricesRefused = new Counter({
    name: "riskgate_prices_refused_total",
    help: "Prices refused by the price band (too far from the last accepted price), by source.",
    labelNames: ["source"] as const,
    registers: [this.registry],
  });
  private readonly loopDelay = new Histogram({
    name: "riskgate_event_loop_delay_seconds",
    help: `How late the event loop ran a ${LOOP_RESOLUTION_MS} ms timer, one observation per wake-up.`,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  private readonly breakerTrips = new Counter({
    name: "riskgate_breaker_trips_total",
    help: "Breaker trips committed to the ledger, by breaker.",
    labelNames: ["breaker"] as const,
    registers: [this.registry],
  });
  private readonly breakerResets = new Counter({
    name: "riskgate_breaker_resets_total",
    help: "Breaker resets committed to the ledger, by breaker.",
    labelNames: ["breaker"] as const,
    registers: [this.registry],
  });
  private readonly lockOuts = new Counter({
    name: "riskgate_lockouts_total",
    help: "Accounts locked out (a hard loss floor reached), by rule.",
    labelNames: ["rule"] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    // Gauges named like counters (promtool refuses them); `nodejs_active_*{type}` give the same by type.
    for (const name of ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"]) this.registry.removeSingleMetric(name);
    for (const source of ["market", "fills"] as const) this.pricesRefused.inc({ source }, 0);
    for (const breaker of BreakerKind.options) {
      this.breakerTrips.inc({ breaker }, 0);
      this.breakerResets.inc({ breaker }, 0);
    }
    for (const rule of LossRule.options) this.lockOuts.inc({ rule }, 0);

    const sources = () => this.sources;
    new Gauge({
      name: "riskgate_dashboards_connected",
      help: "Socket.IO clients connected now.",
      registers: [this.registry],
      collect() {
        this.set(sources()?.dashboards() ?? 0);
      },
    });
    new Gauge({
      name: "riskgate_accounts",
      help: "Accounts by trading state (ACTIVE, REDUCING, HALTED, LOCKED_OUT).",
      labelNames: ["state"] as const,
      registers: [this.registry],
      async collect() {
        const counts = (await sources()?.accountsByState()) ?? null;
        for (const state of TRADING_STATES) this.set({ state }, counts?.[state] ?? 0);
      },
    });
    // Counters that mirror the dispatcher's own counts (they only grow while the process lives).
    const alertCounter = (name: string, help: string, field: "delivered" | "failed" | "dropped") =>
      new Counter({
        name,
        help,
        labelNames: ["sink"] as const,
        registers: [this.registry],
        collect() {
          this.reset();
          for (const sink of sources()?.alertSinks() ?? []) this.inc({ sink: sink.sink }, sink[field]);
        },
      });
    alertCounter("riskgate_alerts_delivered_total", "Alerts delivered, by sink.", "delivered");
    alertCounter("riskgate_alerts_failed_total", "Alerts given up on after their retries (or a permanent failure), by sink.", "failed");
    alertCounter("riskgate_alerts_dropped_total", "Alerts dropped because too many were waiting for the sink, by sink.", "dropped");
    new Gauge({
      name: "riskgate_alerts_queued",
      help: "Alerts waiting for delivery (or being delivered), by sink.",
      labelNames: ["sink"] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const sink of sources()?.alertSinks() ?? []) this.inc({ sink: sink.sink }, sink.queued);
      },
    });
    const ledger = () => sources()?.ledger() ?? { seq: 0, queuedJobs: 0, oldestQueuedSeconds: 0 };
    new Gauge({
      name: "riskgate_ledger_seq",
      help: "The last ledger seq this process has folded (on a read-only node, compare with the writer's).",
      registers: [this.registry],
      collect() {
        this.set(ledger().seq);
      },
    });
    new Gauge({
      name: "riskgate_commit_queue_jobs",
      help: "Commands waiting to be decided and committed.",
      registers: [this.registry],
      collect() {
        this.set(ledger().queuedJobs);
      },
    });
    new Gauge({
      name: "riskgate_commit_queue_oldest_seconds",
      help: "How long the oldest command waiting for the commit queue has waited (0: none waits).",
      registers: [this.registry],
      collect() {
        this.set(ledger().oldestQueuedSeconds);
      },
    });

    let last = performance.now();
    this.loopTimer = setInterval(() => {
      const now = performance.now();
      this.loopDelay.observe(Math.max(0, now - last - LOOP_RESOLUTION_MS) / 1_000);
      last = now;
    }, LOOP_RESOLUTION_MS).unref();
  }

  /** What the scrape reads from the rest of the server (set once it runs). */
  watch(sources: MetricSources): void {
    this.sources = sources;
  }

  observeEvaluation(seconds: number): void {
    this.evaluation.observe(seconds);
  }

  observeAppend(seconds: number, events: number): void {
    this.append.observe(seconds);
    this.appended.inc(events);
  }

  countDecision(decision: Decision): void {
    this.decisions.inc({ outcome: decision.outcome, guard: decision.guard ?? "", reason: decision.reason ?? "" });
  }

  countPriceRefused(source: "market" | "fills"): void {
    this.pricesRefused.inc({ source });
  }

  /** Counts the breaker trips, resets and lock-outs among committed records. */
  countCommitted(records: readonly LedgerRecord[]): void {
    for (const { event } of records) {
      if (event.type === "breaker.tripped") this.breakerTrips.inc({ breaker: event.breaker });
      else if (event.type === "breaker.reset") this.breakerResets.inc({ breaker: event.breaker });
      else if (event.type === "account.locked_out") this.lockOuts.inc({ rule: event.rule });
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition (text format 0.0.4). */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** Stops the event-loop sampler. */
  close(): void {
    clearInterval(this.loopTimer);
  }
}
