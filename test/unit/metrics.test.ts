import { describe, expect, it } from "vitest";
import { Histogram, Metrics } from "@/server/metrics";
import type { Decision } from "@/server/engine/types";

describe("metrics", () => {
  it("counts a histogram's observations into every bucket whose bound they do not exceed", () => {
    const histogram = new Histogram([0.001, 0.01]);
    for (const seconds of [0.0005, 0.001, 0.005, 2]) histogram.observe(seconds);
    expect(histogram.render("x_seconds", "help")).toEqual([
      "# HELP x_seconds help",
      "# TYPE x_seconds histogram",
      'x_seconds_bucket{le="0.001"} 2',
      'x_seconds_bucket{le="0.01"} 3',
      'x_seconds_bucket{le="+Inf"} 4',
      "x_seconds_sum 2.0065",
      "x_seconds_count 4",
    ]);
  });

  it("counts decisions by outcome, guard and reason, and renders the exposition format", () => {
    const metrics = new Metrics();
    const allowed = { outcome: "allowed", guard: null, reason: null } as unknown as Decision;
    const denied = { outcome: "denied", guard: "throttle", reason: "throttled" } as unknown as Decision;
    metrics.countDecision(allowed);
    metrics.countDecision(denied);
    metrics.countDecision(denied);
    metrics.observeAppend(0.002, 3);
    const text = metrics.render(4);
    expect(text).toContain('riskgate_decisions_total{outcome="allowed",guard="",reason=""} 1');
    expect(text).toContain('riskgate_decisions_total{outcome="denied",guard="throttle",reason="throttled"} 2');
    expect(text).toContain('riskgate_ledger_append_seconds_bucket{le="0.0025"} 1');
    expect(text).toContain("riskgate_ledger_events_appended_total 3");
    expect(text).toContain("riskgate_dashboards_connected 4");
    expect(text).toMatch(/riskgate_event_loop_delay_seconds\{quantile="0.99"\} \d/);
    expect(text.endsWith("\n")).toBe(true);
  });
});
