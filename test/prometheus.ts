import { spawnSync } from "node:child_process";
import type { PrometheusFamily } from "parse-prometheus-text-format";
import parsePrometheusTextFormat from "parse-prometheus-text-format";

/**
 * Parses a whole exposition with a Prometheus text-format parser (it throws on a line it cannot
 * read) and checks what the parser lets through: every family declares its type, every sample
 * line belongs to one, values are numbers, and no gauge carries a `quantile` label.
 */
export function parseExposition(text: string): Map<string, PrometheusFamily> {
  const families = new Map(parsePrometheusTextFormat(text).map((family) => [family.name, family]));
  const typed = new Set<string>();
  for (const line of text.split("\n")) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) typed.add(type[1]!);
  }
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const name = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line)?.[1];
    if (!name) throw new Error(`not a sample line: ${line}`);
    const family = [name, name.replace(/_(bucket|sum|count)$/, "")].find((candidate) => typed.has(candidate));
    if (!family) throw new Error(`sample of no typed family: ${line}`);
    const value = line.slice(line.lastIndexOf(" ") + 1);
    // As Prometheus reads it (Go's ParseFloat): NaN and Inf in any case.
    if (!/^([+-]?inf|nan|[+-]?\d+(\.\d+)?(e[+-]?\d+)?)$/i.test(value)) throw new Error(`not a number: ${line}`);
  }
  for (const family of families.values()) {
    if (!typed.has(family.name)) throw new Error(`${family.name} has no TYPE line`);
    if (family.type === "GAUGE" && family.metrics.some((sample) => sample.labels && "quantile" in sample.labels)) throw new Error(`${family.name} is a gauge with a quantile label`);
  }
  return families;
}

/** Whether `promtool` (Debian package `prometheus`) is on PATH. */
export const promtoolPresent = spawnSync("promtool", ["--version"], { stdio: "ignore" }).status === 0;

/** `promtool check metrics` on `text`: its problems (empty when clean). */
export function promtoolCheckMetrics(text: string): string {
  const result = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
  return `${result.stdout}${result.stderr}`.trim() + (result.status === 0 ? "" : `\n(exit ${result.status})`);
}
