import { monitorEventLoopDelay } from "node:perf_hooks";
import type { Decision } from "./engine/types";

const LOOP_RESOLUTION_MS = 10;

/**
 * Prometheus metrics of the running server (`GET /api/metrics`, text exposition format 0.0.4):
 * decisions by outcome, guard and reason; the engine's evaluation latency and the ledger's
 * append latency as histograms; event-loop delay; connected dashboards.
 */
export class Histogram {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  /** `bounds`: upper bounds of the buckets, in seconds, ascending. */
  constructor(private readonly bounds: readonly number[]) {
    this.counts = bounds.map(() => 0);
  }

  observe(seconds: number): void {
    this.sum += seconds;
    this.count++;
    for (let i = 0; i < this.bounds.length; i++) if (seconds <= this.bounds[i]!) this.counts[i]!++;
  }

  render(name: string, help: string): string[] {
    const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`];
    this.bounds.forEach((bound, i) => lines.push(`${name}_bucket{le="${bound}"} ${this.counts[i]}`));
    lines.push(`${name}_bucket{le="+Inf"} ${this.count}`, `${name}_sum ${this.sum}`, `${name}_count ${this.count}`);
    return lines;
  }
}

/** What the runtime reports as it works. */
export interface RuntimeMetrics {
  observeEvaluation(seconds: number): void;
  observeAppend(seconds: number, events: number): void;
  countDecision(decision: Decision): void;
  /** A price refused by the band (see price-band.ts). */
  countPriceRefused?(source: "market" | "fills"): void;
}

const label = (value: string) => value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

export class Metrics implements RuntimeMetrics {
  private readonly decisions = new Map<string, { outcome: string; guard: string; reason: string; count: number }>();
  private readonly evaluation = new Histogram([0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.005]);
  private readonly append = new Histogram([0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]);
  private appendedEvents = 0;
  private readonly pricesRefused = { market: 0, fills: 0 };
  private readonly loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });

  constructor() {
    this.loop.enable();
  }

  observeEvaluation(seconds: number): void {
    this.evaluation.observe(seconds);
  }

  observeAppend(seconds: number, events: number): void {
    this.append.observe(seconds);
    this.appendedEvents += events;
  }

  countDecision(decision: Decision): void {
    const guard = decision.guard ?? "";
    const reason = decision.reason ?? "";
    const key = `${decision.outcome}|${guard}|${reason}`;
    const entry = this.decisions.get(key) ?? { outcome: decision.outcome, guard, reason, count: 0 };
    entry.count++;
    this.decisions.set(key, entry);
  }

  countPriceRefused(source: "market" | "fills"): void {
    this.pricesRefused[source]++;
  }

  render(dashboards: number): string {
    const lines = ["# HELP riskgate_decisions_total Decisions by outcome, and for denials the guard and reason.", "# TYPE riskgate_decisions_total counter"];
    for (const { outcome, guard, reason, count } of [...this.decisions.values()].sort((a, b) => (a.outcome + a.guard + a.reason).localeCompare(b.outcome + b.guard + b.reason))) {
      lines.push(`riskgate_decisions_total{outcome="${label(outcome)}",guard="${label(guard)}",reason="${label(reason)}"} ${count}`);
    }
    lines.push(...this.evaluation.render("riskgate_evaluation_seconds", "Time the engine takes to decide an intent."));
    lines.push(...this.append.render("riskgate_ledger_append_seconds", "Time to append and commit a batch of events to the ledger."));
    lines.push(
      "# HELP riskgate_prices_refused_total Prices refused by the price band (too far from the last accepted price), by source.",
      "# TYPE riskgate_prices_refused_total counter",
      `riskgate_prices_refused_total{source="market"} ${this.pricesRefused.market}`,
      `riskgate_prices_refused_total{source="fills"} ${this.pricesRefused.fills}`,
    );
    lines.push("# HELP riskgate_ledger_events_appended_total Events committed to the ledger by this process.", "# TYPE riskgate_ledger_events_appended_total counter", `riskgate_ledger_events_appended_total ${this.appendedEvents}`);
    // The sampler's own 10 ms timer interval is not delay: an idle loop reports 0.
    const seconds = (ns: number) => (Number.isFinite(ns) ? Math.max(0, ns - LOOP_RESOLUTION_MS * 1e6) / 1e9 : 0);
    lines.push(
      "# HELP riskgate_event_loop_delay_seconds Event-loop delay since the start.",
      "# TYPE riskgate_event_loop_delay_seconds gauge",
      `riskgate_event_loop_delay_seconds{quantile="0.5"} ${seconds(this.loop.percentile(50))}`,
      `riskgate_event_loop_delay_seconds{quantile="0.99"} ${seconds(this.loop.percentile(99))}`,
      `riskgate_event_loop_delay_seconds{quantile="1"} ${seconds(this.loop.max)}`,
      "# HELP riskgate_dashboards_connected Socket.IO clients connected now.",
      "# TYPE riskgate_dashboards_connected gauge",
      `riskgate_dashboards_connected ${dashboards}`,
    );
    return `${lines.join("\n")}\n`;
  }
}
