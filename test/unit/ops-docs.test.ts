import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Metrics } from "@/server/metrics";
import { parseExposition, promtoolPresent } from "../prometheus";

const ops = path.resolve(import.meta.dirname, "../../docs/ops");
const rulesFile = path.join(ops, "prometheus-rules.yml");
const dashboard = JSON.parse(fs.readFileSync(path.join(ops, "grafana-dashboard.json"), "utf8")) as { panels: { targets?: { expr: string }[] }[] };

/** The series names a PromQL text reads (histograms by their family name). */
const seriesIn = (text: string) => new Set([...text.matchAll(/\b((?:riskgate|process|nodejs)_[a-z0-9_]+)/g)].map((match) => match[1]!.replace(/_(bucket|sum|count)$/, "")));

const metrics = new Metrics();
afterAll(() => metrics.close());

describe("the shipped Prometheus rules and Grafana dashboard (docs/ops)", () => {
  it("read only series the server exposes", async () => {
    const exposed = parseExposition(await metrics.render());
    const dashboardExprs = dashboard.panels.flatMap((panel) => panel.targets ?? []).map((target) => target.expr).join("\n");
    const read = [...seriesIn(fs.readFileSync(rulesFile, "utf8")), ...seriesIn(dashboardExprs)];
    expect(read.length).toBeGreaterThan(10);
    expect(read.filter((name) => !exposed.has(name))).toEqual([]);
  });

  it.skipIf(!promtoolPresent)("pass `promtool check rules` (run when promtool is on PATH, skipped otherwise: apt-get install prometheus)", () => {
    const result = spawnSync("promtool", ["check", "rules", rulesFile], { encoding: "utf8" });
    expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
  });
});
